//! Request ids: a caller's `X-Request-Id` is kept (or one is made), echoed on the response and
//! carried by every log line of the request through its tracing span; and the audit scope of
//! write requests.

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::BytesMut;
use actix_web::{Error, HttpMessage};
use futures_util::StreamExt;
use serde_json::Value;
use tracing::Instrument;

use crate::route_table::RouteTable;

pub const REQUEST_ID: &str = "x-request-id";

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let method = req.method().as_str().to_owned();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let mut res = match next.call(req).instrument(span.clone()).await {
        Ok(res) => as_problem(res),
        // An error no handler turned into a response (a refused CORS request, a header the
        // framework cannot read): problem+json as well.
        Err(e) => {
            let _entered = span.enter();
            tracing::warn!(error = %e, "request refused before a handler");
            let status = e.as_response_error().status_code().as_u16();
            crate::metrics::observe_request(&method, &route, status, started.elapsed());
            if e.as_error::<crate::problem::ApiError>().is_some() {
                return Err(e);
            }
            return Err(problem_of(&e).into());
        }
    };
    let _entered = span.enter();
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
    }
    let status = res.status().as_u16();
    crate::metrics::observe_request(&method, &route, status, started.elapsed());
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(status, elapsed_ms, "request failed");
    } else {
        tracing::info!(status, elapsed_ms, "request");
    }
    Ok(res)
}

/// SEC-5: query parameters and path segments are text that clients send, checked like body
/// text before any handler reads them (a NUL in `q=` once cut a search short).
pub async fn refuse_control_text(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if let Some(problem) = control_text_problem(&req) {
        return Ok(req.error_response(problem).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn control_text_problem(req: &ServiceRequest) -> Option<crate::problem::ApiError> {
    // Well-formed values refused for their text, as in bodies: 422.
    let refused = |field: &str, message: String| service::Error::invalid(field, message).into();
    // Decoded as the router decodes path parameters.
    let path = percent_encoding::percent_decode_str(req.path()).decode_utf8_lossy();
    if let Err(message) = service::text::check(&path, false) {
        return Some(refused("path", message));
    }
    let pairs = actix_web::web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(actix_web::web::Query::into_inner)
        .unwrap_or_default();
    pairs.iter().find_map(|(name, value)| {
        service::text::check(name, false)
            .and_then(|()| service::text::check(value, false))
            .err()
            .map(|message| refused(name, message))
    })
}

/// A response made from an error that is not one of ours (middleware such as CORS answers
/// with plain text) is given the problem+json body every other error has.
fn as_problem<B: MessageBody + 'static>(res: ServiceResponse<B>) -> ServiceResponse {
    let foreign = res
        .response()
        .error()
        .filter(|e| e.as_error::<crate::problem::ApiError>().is_none())
        .map(problem_of);
    match foreign {
        Some(problem) => {
            let (req, _) = res.into_parts();
            ServiceResponse::new(req, actix_web::ResponseError::error_response(&problem))
        }
        None => res.map_into_boxed_body(),
    }
}

/// A foreign error as a problem: its status, a code for it, and its words (not for 5xx).
fn problem_of(e: &Error) -> crate::problem::ApiError {
    let status = e.as_response_error().status_code();
    let (code, title) = match status.as_u16() {
        _ if e.as_error::<actix_cors::CorsError>().is_some() => {
            ("cors_refused", "Cross-origin request refused")
        }
        400 => ("malformed_request", "Malformed request"),
        403 => ("forbidden", "Forbidden"),
        404 => ("not_found", "Not found"),
        405 => ("method_not_allowed", "Method not allowed"),
        413 => ("payload_too_large", "Payload too large"),
        415 => ("unsupported_media_type", "Unsupported media type"),
        s if s >= 500 => ("internal_error", "Internal error"),
        _ => ("request_refused", "Request refused"),
    };
    let detail = if status.is_server_error() {
        "an unexpected error occurred; it has been logged".to_owned()
    } else {
        e.to_string()
    };
    crate::problem::ApiError::new(status, code, title, detail)
}

/// Request bodies up to this size are kept in the audit event; larger ones (imports) are
/// described by their type and length.
const AUDITED_BODY_BYTES: usize = 64 * 1024;

/// Puts every write request (any method but GET, HEAD and OPTIONS) in an audit scope: the
/// first write transaction it opens records who, what (the operation and its body, secrets
/// redacted) and the request id (see `service::audit::RequestEvent`).
pub async fn audit(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.call(req).await;
    }
    let pattern = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    let action = RouteTable::of(req.request())
        .and_then(|table| table.operation_id(req.method().as_str(), &pattern))
        .unwrap_or_else(|| format!("{} {pattern}", req.method()));
    let subject = match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    };
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let body = audited_body(&mut req).await?;
    let event = service::audit::RequestEvent::new(
        action,
        subject,
        request_id,
        serde_json::json!({ "method": req.method().as_str(), "body": body }),
    );
    service::audit::in_request(event, next.call(req)).await
}

/// A JSON body of known, modest length, parsed and redacted; otherwise its description. The
/// body is read here and handed on to the handler unchanged.
async fn audited_body(req: &mut ServiceRequest) -> Result<Value, Error> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let is_json = content_type.starts_with("application/json")
        || content_type.starts_with("application/merge-patch+json");
    match length {
        Some(0) => return Ok(Value::Null),
        Some(n) if is_json && n <= AUDITED_BODY_BYTES => {}
        _ => {
            return Ok(serde_json::json!({ "content_type": content_type, "length": length }));
        }
    }
    let mut payload = req.take_payload();
    let mut bytes = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    let bytes = bytes.freeze();
    let body = serde_json::from_slice::<Value>(&bytes)
        .map(redact)
        .unwrap_or_else(|_| serde_json::json!({ "unparsed_length": bytes.len() }));
    req.set_payload(Payload::from(bytes));
    Ok(body)
}

/// Passwords and other secrets never reach the audit trail.
fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    if ["password", "secret", "token"]
                        .iter()
                        .any(|s| lower.contains(s))
                    {
                        (k, Value::String("[redacted]".into()))
                    } else {
                        (k, redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}
