//! Request extractors that turn every kind of bad input into a problem+json error:
//! JSON bodies (with the path of the bad field), `If-Match`, and query/path errors.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use regex::Regex;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::problem::{ApiError, ProblemField};

/// Bodies above this size get 413.
pub const BODY_LIMIT: usize = 256 * 1024;

/// A JSON request body, deserialized and validated.
pub struct Body<T>(pub T);

fn flatten(prefix: &str, errors: &ValidationErrors, out: &mut Vec<ProblemField>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| e.code.to_string());
                    out.push(ProblemField {
                        field: path.clone(),
                        message,
                    });
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    flatten(&format!("{path}[{i}]"), inner, out);
                }
            }
        }
    }
}

pub fn validation_problem(errors: &ValidationErrors) -> ApiError {
    let mut out = Vec::new();
    flatten("", errors, &mut out);
    let detail = out
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "Validation failed",
        detail,
    )
    .with_errors(out)
}

/// The media type of the body, lower-cased, without parameters.
fn essence(req: &HttpRequest) -> Option<String> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())?;
    Some(
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

fn is_json(req: &HttpRequest) -> bool {
    essence(req).is_some_and(|e| e == "application/json" || e.ends_with("+json"))
}

pub fn parse_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "Malformed JSON",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    check_text(&value)?;
    // Every body is an object: serde would also build a struct from an array of its fields
    // in order, which no client means.
    if !value.is_object() {
        let message = "the body must be a JSON object".to_owned();
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Validation failed",
            message.clone(),
        )
        .with_errors(vec![ProblemField {
            field: String::new(),
            message,
        }]));
    }
    let value: T = serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { String::new() } else { path };
        let message = public_message(&err.into_inner().to_string());
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Validation failed",
            if field.is_empty() {
                message.clone()
            } else {
                format!("{field}: {message}")
            },
        )
        .with_errors(vec![ProblemField { field, message }])
    })?;
    value.validate().map_err(|e| validation_problem(&e))?;
    Ok(value)
}

/// SEC-5: every string of a body, keys included, checked in one place before any field is
/// read; line breaks only in fields that have lines (`service::text::has_lines`).
fn check_text(value: &serde_json::Value) -> Result<(), ApiError> {
    fn walk(value: &serde_json::Value, path: &str, out: &mut Vec<ProblemField>) {
        match value {
            serde_json::Value::String(s) => {
                if let Err(message) = service::text::check(s, service::text::has_lines(path)) {
                    out.push(ProblemField {
                        field: path.to_owned(),
                        message,
                    });
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"), out);
                }
            }
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    let field = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if let Err(message) = service::text::check(key, false) {
                        out.push(ProblemField {
                            field: field.clone(),
                            message: format!("field name {message}"),
                        });
                    }
                    walk(item, &field, out);
                }
            }
            _ => {}
        }
    }
    let mut errors = Vec::new();
    walk(value, "", &mut errors);
    if errors.is_empty() {
        return Ok(());
    }
    let detail = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "Validation failed",
        detail,
    )
    .with_errors(errors))
}

/// A deserializer's message in the API's words: serde names the Rust types it fills (`struct
/// ContactPatchDto with 22 elements`, `untagged enum CycleRefDto`), which say nothing to a
/// client and something about the server.
pub fn public_message(message: &str) -> String {
    static STRUCT: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"(invalid length \d+, )?expected (a )?struct \w+( with \d+ elements?)?").ok()
    });
    static UNTAGGED: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"data did not match any variant of untagged enum \w+").ok());
    static TUPLE: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"expected (a )?tuple struct \w+").ok());
    let message = message.split(" at line ").next().unwrap_or(message);
    let mut out = message.to_owned();
    if let Some(re) = TUPLE.as_ref() {
        out = re.replace_all(&out, "expected a value").into_owned();
    }
    if let Some(re) = STRUCT.as_ref() {
        out = re.replace_all(&out, "expected a JSON object").into_owned();
    }
    if let Some(re) = UNTAGGED.as_ref() {
        out = re
            .replace_all(
                &out,
                "is not one of the accepted forms (see the API document)",
            )
            .into_owned();
    }
    out
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let length = content_length(req);
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Unsupported media type",
                    "send the body as application/json",
                ));
            }
            let body = read_body(&mut payload, BODY_LIMIT, length).await?;
            parse_json(&body).map(Body)
        })
    }
}

async fn read_body(
    payload: &mut Payload,
    limit: usize,
    length: Option<usize>,
) -> Result<BytesMut, ApiError> {
    // A body of known length is read into one buffer of that size, not one grown by doubling.
    let mut body = BytesMut::with_capacity(length.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_request",
                "Malformed request",
                e.to_string(),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
                format!("the body is larger than {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Uploads (imports) may be large: 64 MiB holds several hundred thousand CSV rows.
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    Json,
    Csv,
    Xlsx,
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A JSON, CSV or XLSX upload, by its `Content-Type`.
pub struct Upload {
    pub kind: UploadKind,
    pub bytes: BytesMut,
}

impl FromRequest for Upload {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let kind = if is_json(req) {
            Some(UploadKind::Json)
        } else if essence(req).as_deref() == Some("text/csv") {
            Some(UploadKind::Csv)
        } else if essence(req).as_deref() == Some(XLSX) {
            Some(UploadKind::Xlsx)
        } else {
            None
        };
        let length = content_length(req);
        let mut payload = payload.take();
        Box::pin(async move {
            let Some(kind) = kind else {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Unsupported media type",
                    "send the body as application/json, text/csv or an XLSX workbook",
                ));
            };
            let bytes = read_body(&mut payload, UPLOAD_LIMIT, length).await?;
            Ok(Upload { kind, bytes })
        })
    }
}

/// The body's length as its `Content-Length` header gives it.
fn content_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// `If-Match`: the version the client last read. `None` when absent or `*`.
pub struct IfMatch(pub Option<i32>);

/// The `If-Match` values taken: `*`, one entity tag (RFC 9110), or a bare version number.
pub const IF_MATCH_PATTERN: &str = r#"^(\*|(W/)?"[!#-~]{0,64}"|[0-9]{1,9})$"#;

/// `Idempotency-Key`: 1 to 200 printable characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = r"^[!-~]([ -~]{0,198}[!-~])?$";

fn if_match_version(value: &str) -> Option<Option<i32>> {
    if value == "*" {
        return Some(None);
    }
    if value.len() <= 9 && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Some);
    }
    let tag = value.strip_prefix("W/").unwrap_or(value);
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    if inner.len() > 64
        || !inner
            .bytes()
            .all(|b| b == b'!' || (b'#'..=b'~').contains(&b))
    {
        return None;
    }
    // A tag we never issued cannot match: stale, not malformed.
    Some(Some(inner.parse::<i32>().unwrap_or(-1)))
}

pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(header::IF_MATCH) {
            None => Ok(None),
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|v| if_match_version(v.trim()))
                .ok_or_else(|| {
                    ApiError::bad_parameter(
                        "If-Match",
                        "must be an ETag as returned (such as \"3\") or *",
                    )
                }),
        };
        std::future::ready(parsed.map(IfMatch))
    }
}

/// A query string read into `T` like `web::Query`, except that a value that does not fit
/// names its parameter (`email_opt_in: provided string was not \`true\` or \`false\``), as a
/// body's field errors do.
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            parse_query(req.query_string())
                .map(Query)
                .map_err(Into::into),
        )
    }
}

/// The query string as `T`; a problem names the parameter that does not fit.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(pairs).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." {
            "query".to_owned()
        } else {
            path
        };
        ApiError::bad_parameter(&field, public_message(&err.into_inner().to_string()))
    })
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let message = public_message(
        err.to_string()
            .trim_start_matches("Query deserialize error: "),
    );
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        "Invalid parameter",
        message.clone(),
    )
    .with_errors(vec![ProblemField {
        field: "query".into(),
        message,
    }])
    .into()
}

pub fn path_error(err: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    if let Some(e) = crate::route_table::method_not_allowed(req) {
        return e.into();
    }
    let message = err.to_string();
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        "Invalid parameter",
        message.clone(),
    )
    .with_errors(vec![ProblemField {
        field: "path".into(),
        message,
    }])
    .into()
}

pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "malformed_json",
        "Malformed JSON",
        err.to_string(),
    )
    .into()
}
