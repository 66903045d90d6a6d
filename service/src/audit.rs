//! The audit trail: each staff action is recorded in the transaction that performs it, with
//! who acted, the request id and what changed.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;

use entity::audit_event as a;

use crate::error::Result;
use crate::page::{self, Page, PageRequest};

/// Who performs an action: the staff user (`None` on the command line) and the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    pub user_id: Option<i64>,
    pub request_id: Option<String>,
}

impl Who {
    pub fn user(user_id: i64, request_id: Option<String>) -> Self {
        Who {
            user_id: Some(user_id),
            request_id,
        }
    }

    /// The `ams` command line.
    pub fn command_line() -> Self {
        Who::default()
    }
}

/// The longest subject (a request's path and query) an event keeps.
pub const SUBJECT_MAX: usize = 1_000;

/// The write request being served: recorded by the first write transaction it opens, as that
/// transaction's first statement, so that the event lands exactly when the change does and a
/// rolled-back request leaves no trace. Actions with more to say (expiry, mass change, purge)
/// add their own event beside it.
pub struct RequestEvent {
    action: String,
    subject: String,
    request_id: Option<String>,
    details: Value,
    /// 0 until the caller is known.
    user_id: AtomicI64,
    recorded: AtomicBool,
}

impl RequestEvent {
    pub fn new(
        action: String,
        subject: String,
        request_id: Option<String>,
        details: Value,
    ) -> Self {
        RequestEvent {
            action,
            // A path with a long query (an import's column mapping) is kept, up to a length.
            subject: subject.chars().take(SUBJECT_MAX).collect(),
            request_id,
            details,
            user_id: AtomicI64::new(0),
            recorded: AtomicBool::new(false),
        }
    }
}

tokio::task_local! {
    static REQUEST: Arc<RequestEvent>;
}

/// Runs a write request with its event in scope.
pub async fn in_request<F: Future>(event: RequestEvent, work: F) -> F::Output {
    REQUEST.scope(Arc::new(event), work).await
}

/// Names the authenticated caller of the request in scope, if any.
pub fn identify(user_id: i64) {
    let _ = REQUEST.try_with(|r| r.user_id.store(user_id, Ordering::Relaxed));
}

/// Records the request in scope once, inside `conn`'s transaction.
pub(crate) async fn record_request(conn: &impl ConnectionTrait) -> std::result::Result<(), DbErr> {
    let Ok(event) = REQUEST.try_with(Arc::clone) else {
        return Ok(());
    };
    if event.recorded.swap(true, Ordering::Relaxed) {
        return Ok(());
    }
    let user_id = event.user_id.load(Ordering::Relaxed);
    a::ActiveModel {
        at: Set(crate::clock::now()),
        user_id: Set((user_id != 0).then_some(user_id)),
        request_id: Set(event.request_id.clone()),
        action: Set(event.action.clone()),
        subject: Set(Some(event.subject.clone())),
        details: Set(event.details.to_string()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn record(
    conn: &impl ConnectionTrait,
    who: &Who,
    action: &str,
    subject: &str,
    details: Value,
    at: DateTime<Utc>,
) -> Result<()> {
    a::ActiveModel {
        at: Set(at),
        user_id: Set(who.user_id),
        request_id: Set(who.request_id.clone()),
        action: Set(action.to_owned()),
        subject: Set(Some(subject.to_owned())),
        details: Set(details.to_string()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Newest first, optionally one action only.
pub async fn list(
    conn: &impl ConnectionTrait,
    action: Option<&str>,
    req: &PageRequest,
) -> Result<Page<a::Model>> {
    let limit = req.limit()?;
    let mut q = a::Entity::find()
        .order_by_desc(a::Column::Id)
        .limit(limit + 1);
    if let Some(action) = action {
        q = q.filter(a::Column::Action.eq(action));
    }
    if let Some(before) = req.after_id()? {
        q = q.filter(a::Column::Id.lt(before));
    }
    let rows = q.all(conn).await?;
    Ok(page::build(rows, limit, |r| r.id.to_string()))
}
