//! JB-1: long operations as jobs. A job is a row in the project's own database: its kind and
//! parameters, its state, its progress (done of total), its result or error. The server
//! running it holds a lease that it renews while it works (`control`); a server that dies
//! stops renewing it, and another server (or this one, started again) takes the job over and
//! resumes it (`runner`). Cancelling asks the job to stop at its next page boundary; it keeps
//! the whole pages it wrote.

pub mod control;
pub mod runner;

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;

use entity::job as j;

use crate::clock;
use crate::db::Db;
use crate::error::{Error, Result};

pub use control::Control;
/// A job as stored.
pub use entity::job::Model as Job;

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
pub const CANCELLED: &str = "cancelled";

/// A renewal run (R-1..R-6).
pub const RENEWAL_RUN: &str = "renewal_run";

/// How a job's work ended: its answer, or stopped at a page boundary because cancelling was
/// asked (with what it had done), or because another server holds the job now.
#[derive(Debug, Clone)]
pub enum Ended {
    Done(Value),
    Cancelled(Value),
    LeaseLost,
}

/// Records a job of `kind` as running on `owner`, which starts it at once; the job and the
/// control its work runs under.
pub async fn start(
    db: &Db,
    kind: &str,
    params: &Value,
    created_by: i64,
    owner: &str,
    lease: Duration,
) -> Result<(j::Model, std::sync::Arc<Control>)> {
    let now = clock::now();
    let txn = db.write().await?;
    let job = j::ActiveModel {
        kind: Set(kind.to_owned()),
        state: Set(RUNNING.into()),
        params: Set(params.to_string()),
        done: Set(0),
        total: Set(None),
        cancel_requested: Set(false),
        created_by: Set(created_by),
        owner: Set(Some(owner.to_owned())),
        lease_until: Set(Some(control::lease_end(now, lease))),
        attempts: Set(1),
        created_at: Set(now),
        started_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let control = Control::new(job.id, owner, lease);
    Ok((job, control))
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<j::Model> {
    j::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("job", id))
}

/// The job's parameters as written when it started.
pub fn params(job: &j::Model) -> Result<Value> {
    serde_json::from_str(&job.params)
        .map_err(|e| Error::Internal(format!("job {} has unreadable parameters: {e}", job.id)))
}

/// Asks a job to stop: a queued job is cancelled at once, a running one stops at its next
/// page boundary. A finished job cannot be cancelled (409).
pub async fn cancel(db: &Db, id: i64) -> Result<j::Model> {
    let txn = db.write().await?;
    let job = get(&txn, id).await?;
    match job.state.as_str() {
        QUEUED => {
            j::Entity::update_many()
                .col_expr(j::Column::State, Expr::val(CANCELLED))
                .col_expr(j::Column::CancelRequested, Expr::val(true))
                .col_expr(j::Column::FinishedAt, Expr::val(clock::now()))
                .filter(j::Column::Id.eq(id))
                .exec(&txn)
                .await?;
        }
        RUNNING => {
            j::Entity::update_many()
                .col_expr(j::Column::CancelRequested, Expr::val(true))
                .filter(j::Column::Id.eq(id))
                .exec(&txn)
                .await?;
        }
        finished => {
            return Err(Error::conflict(format!(
                "job {id} has already {}; only a queued or running job can be cancelled",
                match finished {
                    SUCCEEDED => "succeeded",
                    FAILED => "failed",
                    _ => "been cancelled",
                }
            )));
        }
    }
    let job = get(&txn, id).await?;
    txn.commit().await?;
    Ok(job)
}

/// Records how the work of the job `control` runs ended, unless another server holds it now.
pub async fn finish(
    db: &Db,
    control: &Control,
    ended: std::result::Result<Ended, String>,
) -> Result<()> {
    let (state, result, error) = match ended {
        Ok(Ended::Done(v)) => (SUCCEEDED, Some(v.to_string()), None),
        Ok(Ended::Cancelled(v)) => (CANCELLED, Some(v.to_string()), None),
        Ok(Ended::LeaseLost) => return Ok(()),
        Err(e) => (FAILED, None, Some(e.chars().take(500).collect::<String>())),
    };
    let (done, total) = control.progress();
    j::Entity::update_many()
        .col_expr(j::Column::State, Expr::val(state))
        .col_expr(j::Column::Result, Expr::val(result))
        .col_expr(j::Column::Error, Expr::val(error))
        .col_expr(j::Column::Done, Expr::val(done))
        .col_expr(j::Column::Total, Expr::val(total))
        .col_expr(j::Column::FinishedAt, Expr::val(clock::now()))
        .col_expr(
            j::Column::LeaseUntil,
            Expr::val(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(j::Column::Id.eq(control.id))
        .filter(j::Column::Owner.eq(control.owner.as_str()))
        .filter(j::Column::State.eq(RUNNING))
        .exec(&db.conn)
        .await?;
    Ok(())
}
