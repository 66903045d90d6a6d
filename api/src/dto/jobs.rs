//! Jobs (JB-1).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A long operation: its state, its progress (`done` of `total`), and when it ended its
/// `result` (what the synchronous request would have answered) or its `error`.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobDto {
    pub id: i64,
    /// `renewal_run`.
    pub kind: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    pub done: i64,
    /// Unknown until the job has counted its work.
    pub total: Option<i64>,
    /// For a renewal run: the run's answer, its `id` among it. A cancelled job's result
    /// holds what it did before it stopped.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    pub error: Option<String>,
    /// Cancelling was asked; a running job stops at its next page boundary.
    pub cancel_requested: bool,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// How many times a server began the job or took it over from one that died.
    pub attempts: i32,
}

impl From<service::jobs::Job> for JobDto {
    fn from(m: service::jobs::Job) -> Self {
        JobDto {
            id: m.id,
            kind: m.kind,
            state: m.state,
            done: m.done,
            total: m.total,
            result: m
                .result
                .and_then(|r| serde_json::from_str::<Value>(&r).ok()),
            error: m.error,
            cancel_requested: m.cancel_requested,
            created_by: m.created_by,
            created_at: m.created_at,
            started_at: m.started_at,
            finished_at: m.finished_at,
            attempts: m.attempts,
        }
    }
}
