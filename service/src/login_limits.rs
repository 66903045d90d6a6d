//! Login abuse (SEC), counted in the database so that every server of one database counts the
//! same attempts (JB-4): failed logins per client address and username, every login attempt
//! per client address, and self-registrations per address and hour. Past a limit the caller
//! waits until the window ends (429 with `Retry-After`), even with the right password, so
//! guessing gains nothing and adding servers adds no attempts. Each count is one row with
//! the end of its window, bumped by one upsert; rows whose window ended are swept now and
//! then, so a flood of made-up usernames cannot grow the table without bound.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::clock;
use crate::db::Db;
use crate::error::Result;
use crate::sql::Sql;

/// Bumps between two sweeps of ended windows.
const SWEEP_EVERY: u64 = 1_000;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failed logins per (address, username) within `lockout`.
    pub max_failures: u32,
    pub lockout: Duration,
    /// Attempts per address within a minute.
    pub attempts_per_minute: u32,
    /// Self-registrations per address within an hour.
    pub registrations_per_hour: u32,
}

pub struct LoginLimiter {
    db: Db,
    limits: Limits,
    bumps: AtomicU64,
}

/// `Err(seconds)`: the caller must wait that long first.
pub type Allowed = std::result::Result<(), u64>;

impl LoginLimiter {
    pub fn new(db: Db, limits: Limits) -> Self {
        LoginLimiter {
            db,
            limits,
            bumps: AtomicU64::new(0),
        }
    }

    /// Counts a registration attempt.
    pub async fn register(&self, ip: IpAddr) -> Result<Allowed> {
        let key = format!("register:{ip}");
        if let Some(wait) = self
            .blocked(&key, self.limits.registrations_per_hour)
            .await?
        {
            return Ok(Err(wait));
        }
        self.bump(&key, HOUR).await?;
        Ok(Ok(()))
    }

    /// Counts a login attempt.
    pub async fn attempt(&self, ip: IpAddr, username: &str) -> Result<Allowed> {
        if let Some(wait) = self
            .blocked(&failures_key(ip, username), self.limits.max_failures)
            .await?
        {
            return Ok(Err(wait));
        }
        let key = format!("attempt:{ip}");
        if let Some(wait) = self.blocked(&key, self.limits.attempts_per_minute).await? {
            return Ok(Err(wait));
        }
        self.bump(&key, MINUTE).await?;
        Ok(Ok(()))
    }

    pub async fn failed(&self, ip: IpAddr, username: &str) -> Result<()> {
        self.bump(&failures_key(ip, username), self.limits.lockout)
            .await
    }

    pub async fn succeeded(&self, ip: IpAddr, username: &str) -> Result<()> {
        let mut q = Sql::new(self.db.backend());
        q.push("DELETE FROM login_counters WHERE key = ")
            .bind(failures_key(ip, username));
        self.db.conn.execute_raw(q.build()).await?;
        Ok(())
    }

    /// Seconds until the window of `key` ends, if its count has reached `max`.
    async fn blocked(&self, key: &str, max: u32) -> Result<Option<u64>> {
        let mut q = Sql::new(self.db.backend());
        q.push("SELECT count, window_ends FROM login_counters WHERE key = ")
            .bind(key);
        let Some(row) = self.db.conn.query_one_raw(q.build()).await? else {
            return Ok(None);
        };
        let count: i32 = row.try_get_by_index(0)?;
        let ends: DateTime<Utc> = row.try_get_by_index(1)?;
        let now = clock::now();
        Ok(
            (count >= i32::try_from(max).unwrap_or(i32::MAX) && ends > now).then(|| {
                u64::try_from((ends - now).num_seconds())
                    .unwrap_or(0)
                    .max(1)
            }),
        )
    }

    /// One more in the window of `key`; a window that ended starts again at one.
    async fn bump(&self, key: &str, span: Duration) -> Result<()> {
        let now = clock::now();
        let ends = now + chrono::Duration::from_std(span).unwrap_or(chrono::Duration::hours(1));
        let mut q = Sql::new(self.db.backend());
        q.push("INSERT INTO login_counters (key, count, window_ends) VALUES (")
            .bind(key)
            .push(", 1, ")
            .bind(ends)
            .push(
                ") ON CONFLICT (key) DO UPDATE SET \
                 count = CASE WHEN login_counters.window_ends <= ",
            )
            .bind(now)
            .push(" THEN 1 ELSE login_counters.count + 1 END, window_ends = CASE WHEN login_counters.window_ends <= ")
            .bind(now)
            .push(" THEN excluded.window_ends ELSE login_counters.window_ends END");
        self.db.conn.execute_raw(q.build()).await?;
        if self.bumps.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep(now).await?;
        }
        Ok(())
    }

    async fn sweep(&self, now: DateTime<Utc>) -> Result<()> {
        let mut q = Sql::new(self.db.backend());
        q.push("DELETE FROM login_counters WHERE window_ends < ")
            .bind(now);
        self.db.conn.execute_raw(q.build()).await?;
        Ok(())
    }
}

fn failures_key(ip: IpAddr, username: &str) -> String {
    format!("failures:{ip}:{}", username.trim().to_lowercase())
}
