//! Delivering events to webhook endpoints. Each tick fans new events out into deliveries
//! (one per endpoint and event) and sends the deliveries that are due. A delivery is claimed
//! by moving its due time forward (a lease), so that several servers on one database never
//! send it twice at once; a server that dies mid-send leaves it to be retried when the lease
//! ends. A 2xx answer succeeds; anything else is retried on the schedule, then fails.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use entity::event as e;
use entity::webhook_attempt as a;
use entity::webhook_delivery as d;
use entity::webhook_endpoint as w;

use super::{FAILED, PENDING, SUCCEEDED, signature};
use crate::error::Result;
use crate::events::EventView;
use crate::{clock, db::Db};

#[derive(Debug, Clone)]
pub struct Settings {
    /// Delay before each retry; a delivery gets one attempt more than there are delays.
    pub retry_delays: Vec<Duration>,
    pub timeout: Duration,
    /// Deliveries sent per tick, at once.
    pub batch: u64,
    /// Where deliveries may go (SEC-7).
    pub policy: crate::outbound::Policy,
}

impl Default for Settings {
    /// The Standard Webhooks schedule: at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
    /// and 10 h.
    fn default() -> Self {
        Settings {
            retry_delays: [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            timeout: Duration::from_secs(10),
            batch: 32,
            policy: crate::outbound::Policy::default(),
        }
    }
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    pub enqueued: u64,
    pub attempted: u64,
    pub succeeded: u64,
}

pub struct Deliverer {
    db: Db,
    client: reqwest::Client,
    settings: Settings,
}

/// Events fanned out per endpoint and tick.
const FAN_OUT: u64 = 1_000;

struct Outcome {
    status_code: Option<i32>,
    error: Option<String>,
    excerpt: Option<String>,
    duration_ms: i32,
}

impl Deliverer {
    pub fn new(db: Db, settings: Settings) -> Result<Self> {
        let client = crate::outbound::client(
            settings.timeout,
            &settings.policy,
            concat!("ams-webhooks/", env!("CARGO_PKG_VERSION")),
        )
        .map_err(|e| crate::Error::Internal(format!("webhook client: {e}")))?;
        Ok(Deliverer {
            db,
            client,
            settings,
        })
    }

    pub async fn tick(&self) -> Result<Tick> {
        let enqueued = self.fan_out().await?;
        let (attempted, succeeded) = self.send_due().await?;
        Ok(Tick {
            enqueued,
            attempted,
            succeeded,
        })
    }

    /// Runs ticks until the process ends, every `every`, logging failures.
    pub async fn run(self, every: Duration) {
        loop {
            match self.tick().await {
                Ok(t) if t.attempted > 0 || t.enqueued > 0 => {
                    tracing::debug!(?t, "webhook tick");
                    // More may be waiting: go on at once.
                    if t.attempted >= self.settings.batch {
                        continue;
                    }
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(%err, "webhook delivery"),
            }
            tokio::time::sleep(every).await;
        }
    }

    async fn fan_out(&self) -> Result<u64> {
        let endpoints = w::Entity::find()
            .filter(w::Column::Enabled.eq(true))
            .all(&self.db.conn)
            .await?;
        let mut enqueued = 0;
        for ep in endpoints {
            let events: Vec<(i64, String)> = e::Entity::find()
                .select_only()
                .column(e::Column::Id)
                .column(e::Column::Kind)
                .filter(e::Column::Id.gt(ep.last_event_id))
                .order_by_asc(e::Column::Id)
                .limit(FAN_OUT)
                .into_tuple()
                .all(&self.db.conn)
                .await?;
            let Some(&(last, _)) = events.last() else {
                continue;
            };
            let types = super::types_of(&ep);
            let now = clock::now();
            let rows: Vec<d::ActiveModel> = events
                .iter()
                .filter(|(_, kind)| types.is_empty() || types.contains(kind))
                .map(|(id, _)| d::ActiveModel {
                    endpoint_id: Set(ep.id),
                    event_id: Set(*id),
                    status: Set(PENDING.into()),
                    attempts: Set(0),
                    next_attempt_at: Set(Some(now)),
                    last_status_code: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .collect();
            let txn = self.db.write().await?;
            // Another server may have fanned these out already: then nothing moves.
            let moved = w::Entity::update_many()
                .col_expr(w::Column::LastEventId, Expr::val(last))
                .filter(w::Column::Id.eq(ep.id))
                .filter(w::Column::LastEventId.eq(ep.last_event_id))
                .exec(&txn)
                .await?;
            if moved.rows_affected == 0 {
                continue;
            }
            let n = rows.len() as u64;
            for chunk in rows.chunks(crate::sql::rows_per_statement(8)) {
                d::Entity::insert_many(chunk.to_vec())
                    .on_conflict_do_nothing_on([d::Column::EndpointId, d::Column::EventId])
                    .exec_without_returning(&txn)
                    .await?;
            }
            txn.commit().await?;
            enqueued += n;
        }
        Ok(enqueued)
    }

    /// Claims the due deliveries, sends them at once, and records each outcome.
    async fn send_due(&self) -> Result<(u64, u64)> {
        let now = clock::now();
        let enabled = Query::select()
            .column(w::Column::Id)
            .from(w::Entity)
            .and_where(Expr::col(w::Column::Enabled).eq(true))
            .to_owned();
        let due = d::Entity::find()
            .filter(d::Column::Status.eq(PENDING))
            .filter(d::Column::NextAttemptAt.lte(now))
            .filter(d::Column::EndpointId.in_subquery(enabled))
            .order_by_asc(d::Column::NextAttemptAt)
            .order_by_asc(d::Column::Id)
            .limit(self.settings.batch)
            .all(&self.db.conn)
            .await?;
        if due.is_empty() {
            return Ok((0, 0));
        }
        let lease = now
            + chrono::Duration::from_std(self.settings.timeout * 3)
                .unwrap_or(chrono::Duration::seconds(60));
        // One statement claims them all: a row another server claimed meanwhile is no longer
        // due, and is left to it.
        let claimed = d::Entity::update_many()
            .col_expr(d::Column::NextAttemptAt, Expr::val(lease))
            .filter(d::Column::Id.is_in(due.iter().map(|r| r.id)))
            .filter(d::Column::Status.eq(PENDING))
            .filter(d::Column::NextAttemptAt.lte(now))
            .exec_with_returning(&self.db.conn)
            .await?;
        if claimed.is_empty() {
            return Ok((0, 0));
        }
        let endpoints: HashMap<i64, w::Model> = w::Entity::find()
            .filter(w::Column::Id.is_in(claimed.iter().map(|r| r.endpoint_id)))
            .all(&self.db.conn)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let events: HashMap<i64, EventView> = e::Entity::find()
            .filter(e::Column::Id.is_in(claimed.iter().map(|r| r.event_id)))
            .all(&self.db.conn)
            .await?
            .into_iter()
            .map(|m| (m.id, EventView::from(m)))
            .collect();
        let sends = claimed.iter().map(|row| {
            let ep = endpoints.get(&row.endpoint_id);
            let ev = events.get(&row.event_id);
            async move {
                match (ep, ev) {
                    (Some(ep), Some(ev)) => self.send(ep, ev).await,
                    _ => Outcome {
                        status_code: None,
                        error: Some("endpoint or event no longer exists".into()),
                        excerpt: None,
                        duration_ms: 0,
                    },
                }
            }
        });
        let outcomes = join_all(sends).await;
        let succeeded = outcomes
            .iter()
            .filter(|o| o.status_code.is_some_and(|s| (200..300).contains(&s)))
            .count() as u64;
        self.record(&claimed, outcomes).await?;
        Ok((claimed.len() as u64, succeeded))
    }

    async fn send(&self, ep: &w::Model, ev: &EventView) -> Outcome {
        let started = Instant::now();
        // SEC-7: checked again at each delivery; names are checked by the client's resolver.
        let checked = match reqwest::Url::parse(&ep.url) {
            Ok(u) => crate::outbound::may_send(&u, &self.settings.policy)
                .await
                .map(|()| u),
            Err(_) => Err("the URL is not valid".to_owned()),
        };
        let url = match checked {
            Ok(u) => u,
            Err(why) => {
                return Outcome {
                    status_code: None,
                    error: Some(format!("not sent: {why}")),
                    excerpt: None,
                    duration_ms: 0,
                };
            }
        };
        let body = ev.to_json().to_string();
        let msg_id = ev.id.to_string();
        let timestamp = clock::now().timestamp();
        let mut req = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", timestamp.to_string());
        if let Some(sig) = signature::sign(&ep.secret, &msg_id, timestamp, &body) {
            req = req.header("webhook-signature", sig);
        }
        let result = req.body(body).send().await;
        let (status_code, error, excerpt) = match result {
            Ok(res) => {
                let status = res.status().as_u16() as i32;
                let text = res.text().await.unwrap_or_default();
                (Some(status), None, Some(text.chars().take(1000).collect()))
            }
            Err(err) => (
                None,
                Some(crate::outbound::describe_failure(&err).to_owned()),
                None,
            ),
        };
        Outcome {
            status_code,
            error,
            excerpt,
            duration_ms: started.elapsed().as_millis().min(i32::MAX as u128) as i32,
        }
    }

    async fn record(&self, claimed: &[d::Model], outcomes: Vec<Outcome>) -> Result<()> {
        let now = clock::now();
        let txn = self.db.write().await?;
        let mut attempts = Vec::with_capacity(claimed.len());
        for (row, o) in claimed.iter().zip(outcomes) {
            let ok = o.status_code.is_some_and(|s| (200..300).contains(&s));
            let tries = row.attempts + 1;
            let (status, next) = if ok {
                (SUCCEEDED, None)
            } else {
                match self.settings.retry_delays.get(row.attempts as usize) {
                    Some(delay) => (PENDING, Some(later(now, *delay))),
                    None => (FAILED, None),
                }
            };
            d::Entity::update_many()
                .col_expr(d::Column::Status, Expr::val(status))
                .col_expr(d::Column::Attempts, Expr::val(tries))
                .col_expr(d::Column::NextAttemptAt, Expr::val(next))
                .col_expr(d::Column::LastStatusCode, Expr::val(o.status_code))
                .col_expr(d::Column::UpdatedAt, Expr::val(now))
                .filter(d::Column::Id.eq(row.id))
                .exec(&txn)
                .await?;
            attempts.push(a::ActiveModel {
                delivery_id: Set(row.id),
                attempted_at: Set(now),
                status_code: Set(o.status_code),
                error: Set(o.error.map(|e| e.chars().take(500).collect())),
                response_excerpt: Set(o.excerpt),
                duration_ms: Set(o.duration_ms),
                ..Default::default()
            });
        }
        a::Entity::insert_many(attempts)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

fn later(now: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(10))
}
