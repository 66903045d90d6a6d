//! The running side of a job: its progress as the work reports it, and the lease its server
//! renews with that progress every beat. A beat also reads whether cancelling was asked, and
//! finds out when another server took the job over (the lease had ended): either way the work
//! stops at its next page boundary.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use entity::job as j;

use crate::clock;
use crate::db::Db;
use crate::error::Result;

use super::RUNNING;

/// No total known yet.
const UNKNOWN: i64 = -1;

pub struct Control {
    pub id: i64,
    pub owner: String,
    lease: Duration,
    done: AtomicI64,
    total: AtomicI64,
    cancel: AtomicBool,
    lost: AtomicBool,
}

pub fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30))
}

impl Control {
    pub fn new(id: i64, owner: &str, lease: Duration) -> Arc<Control> {
        Arc::new(Control {
            id,
            owner: owner.to_owned(),
            lease,
            done: AtomicI64::new(0),
            total: AtomicI64::new(UNKNOWN),
            cancel: AtomicBool::new(false),
            lost: AtomicBool::new(false),
        })
    }

    /// The work reports how far it is.
    pub fn report(&self, done: u64, total: Option<u64>) {
        self.done
            .store(i64::try_from(done).unwrap_or(i64::MAX), Ordering::Relaxed);
        if let Some(t) = total {
            self.total
                .store(i64::try_from(t).unwrap_or(i64::MAX), Ordering::Relaxed);
        }
    }

    pub fn progress(&self) -> (i64, Option<i64>) {
        let total = self.total.load(Ordering::Relaxed);
        (
            self.done.load(Ordering::Relaxed),
            (total != UNKNOWN).then_some(total),
        )
    }

    /// Cancelling was asked: the work stops at its next page boundary.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Another server holds the job: this one must neither go on nor record its end.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Writes the progress and renews the lease; learns whether cancelling was asked.
    pub async fn beat(&self, db: &Db) -> Result<()> {
        let (done, total) = self.progress();
        let renewed = j::Entity::update_many()
            .col_expr(j::Column::Done, Expr::val(done))
            .col_expr(j::Column::Total, Expr::val(total))
            .col_expr(
                j::Column::LeaseUntil,
                Expr::val(lease_end(clock::now(), self.lease)),
            )
            .filter(j::Column::Id.eq(self.id))
            .filter(j::Column::Owner.eq(self.owner.as_str()))
            .filter(j::Column::State.eq(RUNNING))
            .exec_with_returning(&db.conn)
            .await?;
        match renewed.first() {
            Some(job) => {
                if job.cancel_requested {
                    self.cancel.store(true, Ordering::Relaxed);
                }
            }
            None => self.lost.store(true, Ordering::Relaxed),
        }
        Ok(())
    }

    /// Beats every `every` until the returned guard is dropped.
    pub fn keep_alive(self: &Arc<Self>, db: &Db, every: Duration) -> KeepAlive {
        let (control, db) = (self.clone(), db.clone());
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(e) = control.beat(&db).await {
                    tracing::warn!(job = control.id, error = %e, "job heartbeat failed");
                }
            }
        });
        KeepAlive(task)
    }
}

/// Stops a job's heartbeat when dropped.
pub struct KeepAlive(tokio::task::JoinHandle<()>);

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.0.abort();
    }
}
