//! Taking jobs over (JB-1, JB-4): every server looks, every poll, for a job whose lease ended
//! (its server died or hung) or that waits queued, claims it with one conditional update (two
//! servers never claim one job) and runs it to its end. The work resumes where the job's
//! committed pages end, so nothing is done twice.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use entity::job as j;

use crate::clock;
use crate::db::Db;
use crate::error::Result;

use super::control::{Control, lease_end};
use super::{Ended, QUEUED, RUNNING};

/// What a kind of job does, given its row and its control: supplied by the server, which
/// knows every kind and how each answers.
pub type Work =
    Arc<dyn Fn(Db, j::Model, Arc<Control>) -> BoxFuture<'static, Result<Ended>> + Send + Sync>;

/// How a server runs jobs.
#[derive(Clone)]
pub struct Timing {
    /// How long a job stays its server's without a beat.
    pub lease: Duration,
    /// How often the running server beats (a third of the lease or less).
    pub beat: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            lease: Duration::from_secs(30),
            beat: Duration::from_secs(2),
        }
    }
}

/// Runs `work` for the job `control` names, beating meanwhile, and records how it ended
/// (`ended` says it from the work's output); returns that output.
pub async fn execute<T>(
    db: &Db,
    control: Arc<Control>,
    timing: &Timing,
    work: impl Future<Output = Result<T>>,
    ended: impl FnOnce(&T) -> Ended,
) -> Result<T> {
    let heartbeat = control.keep_alive(db, timing.beat);
    let output = work.await;
    drop(heartbeat);
    if !control.lost() {
        let end = match &output {
            Ok(t) => Ok(ended(t)),
            Err(e) => Err(e.to_string()),
        };
        super::finish(db, &control, end).await?;
    }
    output
}

pub struct Runner {
    pub db: Db,
    pub owner: String,
    pub timing: Timing,
    pub work: Work,
}

impl Runner {
    /// Claims one job that waits or whose server is gone, if any.
    pub async fn claim(&self) -> Result<Option<j::Model>> {
        let now = clock::now();
        let claimable = || {
            Condition::any().add(j::Column::State.eq(QUEUED)).add(
                Condition::all()
                    .add(j::Column::State.eq(RUNNING))
                    .add(j::Column::LeaseUntil.lt(now)),
            )
        };
        let candidate: Option<i64> = j::Entity::find()
            .select_only()
            .column(j::Column::Id)
            .filter(claimable())
            .order_by_asc(j::Column::Id)
            .limit(1)
            .into_tuple()
            .one(&self.db.conn)
            .await?;
        let Some(id) = candidate else {
            return Ok(None);
        };
        // The condition is checked again as the row is updated: of two servers, one claims.
        let claimed = j::Entity::update_many()
            .col_expr(j::Column::State, Expr::val(RUNNING))
            .col_expr(j::Column::Owner, Expr::val(self.owner.as_str()))
            .col_expr(
                j::Column::LeaseUntil,
                Expr::val(lease_end(now, self.timing.lease)),
            )
            .col_expr(j::Column::Attempts, Expr::col(j::Column::Attempts).add(1))
            .col_expr(
                j::Column::StartedAt,
                Func::coalesce([Expr::col(j::Column::StartedAt), Expr::val(now)]).into(),
            )
            .filter(j::Column::Id.eq(id))
            .filter(claimable())
            .exec_with_returning(&self.db.conn)
            .await?;
        Ok(claimed.into_iter().next())
    }

    /// Claims and runs one job; whether there was one.
    pub async fn run_one(&self) -> Result<bool> {
        let Some(job) = self.claim().await? else {
            return Ok(false);
        };
        tracing::info!(job = job.id, kind = %job.kind, attempts = job.attempts, "job taken over");
        let control = Control::new(job.id, &self.owner, self.timing.lease);
        control.report(
            u64::try_from(job.done).unwrap_or(0),
            job.total.and_then(|t| u64::try_from(t).ok()),
        );
        let work = (self.work)(self.db.clone(), job, control.clone());
        execute(&self.db, control, &self.timing, work, Ended::clone).await?;
        Ok(true)
    }

    /// Looks for jobs to take over every `poll`, for as long as the server runs.
    pub async fn run_forever(self, poll: Duration) {
        loop {
            match self.run_one().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "taking a job over failed"),
            }
            tokio::time::sleep(poll).await;
        }
    }
}
