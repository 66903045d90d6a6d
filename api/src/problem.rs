//! RFC 9457 problem details: every error leaves the server as `application/problem+json`
//! with a stable `code`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use service::{Error, FieldError};
use utoipa::ToSchema;

pub const CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:ams:problem:validation_failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "name: must be 1 to 200 characters",
    "code": "validation_failed",
    "errors": [{"field": "name", "message": "must be 1 to 200 characters"}]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, snake_case: `validation_failed`, `invalid_parameter`, `malformed_json`,
    /// `not_found`, `conflict`, `locked_field`, `precondition_failed`, `unauthorized`,
    /// `forbidden`, `unsupported_media_type`, `payload_too_large`, `internal_error`,
    /// `service_unavailable`.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// On a 404 for a contact merged into another (MG-2): the survivor's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

impl From<FieldError> for ProblemField {
    fn from(e: FieldError) -> Self {
        ProblemField {
            field: e.field,
            message: e.message,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<ProblemField>,
    pub merged_into: Option<i64>,
    /// A header the status calls for: `Retry-After` of a 429, `Allow` of a 405.
    pub header: Option<Box<(HeaderName, String)>>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            merged_into: None,
            header: None,
        }
    }

    /// 405 when `path` exists for other methods than `method`; the routing fallback and
    /// path-parameter errors both ask, so `PATCH /contacts/purge` is 405, not a bad id.
    pub fn method_not_allowed(method: &str, path: &str, allowed: &[&str]) -> Option<Self> {
        if allowed.is_empty() || allowed.contains(&method) {
            return None;
        }
        let allow = allowed.join(", ");
        Some(ApiError {
            header: Some(Box::new((header::ALLOW, allow.clone()))),
            ..ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
                format!("{method} {path} is not supported; use {allow}"),
            )
        })
    }

    pub fn too_many_requests(seconds: u64) -> Self {
        Self::too_many("login attempts", seconds)
    }

    /// 429 with `Retry-After`: too many `what` from this client.
    pub fn too_many(what: &str, seconds: u64) -> Self {
        ApiError {
            header: Some(Box::new((header::RETRY_AFTER, seconds.to_string()))),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many requests",
                format!("too many {what}; retry in {seconds} seconds"),
            )
        }
    }

    pub fn with_errors(mut self, errors: Vec<ProblemField>) -> Self {
        self.errors = errors;
        self
    }

    pub fn bad_parameter(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "Invalid parameter",
            format!("{field}: {message}"),
        )
        .with_errors(vec![ProblemField {
            field: field.into(),
            message,
        }])
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found", detail)
    }

    pub fn to_problem(&self) -> Problem {
        Problem {
            type_: format!("urn:ams:problem:{}", self.code),
            title: self.title.into(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.into(),
            errors: self.errors.clone(),
            merged_into: self.merged_into,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE)));
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if let Some(extra) = &self.header {
            res.insert_header((extra.0.clone(), extra.1.clone()));
        }
        res.body(serde_json::to_string(&self.to_problem()).unwrap_or_default())
    }
}

fn fields(errors: Vec<FieldError>) -> Vec<ProblemField> {
    errors.into_iter().map(Into::into).collect()
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        match err {
            Error::NotFound { what, key } => ApiError::not_found(format!("{what} {key} not found")),
            Error::Merged { id, into } => ApiError {
                merged_into: Some(into),
                ..ApiError::not_found(format!("contact {id} was merged into contact {into}"))
            },
            Error::Validation(errors) => {
                let detail = errors
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
                .with_errors(fields(errors))
            }
            Error::InvalidParameter { field, message } => ApiError::bad_parameter(&field, message),
            Error::Conflict { message } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", "Conflict", message)
            }
            Error::Gone { message } => ApiError::new(StatusCode::GONE, "gone", "Gone", message),
            Error::LockedFields {
                fields: locked,
                message,
            } => {
                let errors = locked
                    .iter()
                    .map(|f| ProblemField {
                        field: f.clone(),
                        message: "is locked".into(),
                    })
                    .collect();
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "locked_field",
                    "Locked field",
                    message,
                )
                .with_errors(errors)
            }
            Error::PreconditionFailed => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "Precondition failed",
                "the resource changed since it was read: fetch it again and retry with its new ETag",
            ),
            Error::Unauthorized(detail) => ApiError::unauthorized(detail),
            Error::Forbidden {
                message,
                fields: denied,
            } => {
                let errors = denied
                    .iter()
                    .map(|f| ProblemField {
                        field: f.clone(),
                        message: "not allowed".into(),
                    })
                    .collect();
                ApiError::forbidden(message).with_errors(errors)
            }
            Error::PaymentsNotConfigured => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "payments_not_configured",
                "Payments not configured",
                "online payments are not configured on this server (AMS_STRIPE_SECRET_KEY); record payments by hand",
            ),
            Error::InvalidSignature(detail) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_signature",
                "Invalid signature",
                detail,
            ),
            Error::Provider(e) => {
                tracing::error!(error = %e, "payment provider");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "provider_error",
                    "Payment provider error",
                    "the payment provider did not accept the request; retry later",
                )
            }
            Error::Unavailable(e) => {
                tracing::error!(error = %e, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "Service unavailable",
                    "the database is not reachable; retry later",
                )
            }
            Error::Database(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "Internal error",
                    "an unexpected error occurred; it has been logged",
                )
            }
            Error::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "Internal error",
                    "an unexpected error occurred; it has been logged",
                )
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
