//! One error type for every operation. The API maps each variant to one HTTP status and a
//! stable `code`; database text stays in the logs.

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {key} not found")]
    NotFound { what: &'static str, key: String },
    /// MG-2: the contact was merged into another; its id answers 404 naming the survivor.
    #[error("contact {id} was merged into contact {into}")]
    Merged { id: i64, into: i64 },
    #[error("validation failed: {}", summary(.0))]
    Validation(Vec<FieldError>),
    /// A bad query or path parameter (400, where a bad body is 422).
    #[error("invalid parameter {field}: {message}")]
    InvalidParameter { field: String, message: String },
    #[error("{message}")]
    Conflict { message: String },
    /// JB-2: the resource existed and has expired (a renewal preview after 24 hours).
    #[error("{message}")]
    Gone { message: String },
    #[error("{message}")]
    LockedFields {
        fields: Vec<String>,
        message: String,
    },
    #[error("the resource changed since it was read (If-Match does not match)")]
    PreconditionFailed,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{message}")]
    Forbidden {
        message: String,
        fields: Vec<String>,
    },
    /// G-1: online payments are not configured on this server.
    #[error("online payments are not configured")]
    PaymentsNotConfigured,
    /// G-3: a provider event whose signature does not verify (or is too old).
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    /// The payment provider refused or could not be reached.
    #[error("payment provider: {0}")]
    Provider(String),
    /// The database cannot be reached (no connection, or none free in time): worth a retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// If-Match: the version the client read must still be the current one. Checked after the
/// request is otherwise valid (RFC 9110 13.2.1): a bad request is a 422 whatever its If-Match.
pub fn check_version(expected: Option<i32>, current: i32) -> Result<()> {
    match expected {
        Some(v) if v != current => Err(Error::PreconditionFailed),
        _ => Ok(()),
    }
}

impl Error {
    pub fn not_found(what: &'static str, key: impl ToString) -> Self {
        Error::NotFound {
            what,
            key: key.to_string(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    pub fn bad_parameter(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidParameter {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The stable snake_case code clients match on (API.md), also used in import row reports.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound { .. } | Error::Merged { .. } => "not_found",
            Error::Validation(_) => "validation_failed",
            Error::InvalidParameter { .. } => "invalid_parameter",
            Error::Conflict { .. } => "conflict",
            Error::Gone { .. } => "gone",
            Error::LockedFields { .. } => "locked_field",
            Error::PreconditionFailed => "precondition_failed",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden { .. } => "forbidden",
            Error::PaymentsNotConfigured => "payments_not_configured",
            Error::InvalidSignature(_) => "invalid_signature",
            Error::Provider(_) => "provider_error",
            Error::Unavailable(_) => "service_unavailable",
            Error::Database(_) | Error::Internal(_) => "internal_error",
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
        }
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Error::conflict("a record with the same key already exists")
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                Error::conflict("the change refers to a record that does not exist or is in use")
            }
            _ if matches!(err, DbErr::Conn(_) | DbErr::ConnectionAcquire(_)) => {
                Error::Unavailable(err.to_string())
            }
            _ => Error::Database(err),
        }
    }
}

/// Collects field errors so that a request reports every problem at once.
#[derive(Default, Debug)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }
}
