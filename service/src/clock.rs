//! Timestamps are set from Rust, in UTC, at microsecond precision (PostgreSQL's), so a value
//! read back equals the value written on every backend.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
