//! The audit trail: each staff action is recorded in the transaction that performs it, with
//! who acted, the request id and what changed.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
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
