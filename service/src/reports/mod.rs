//! Reports A-1..A-3: aggregates computed in the database over indexed columns, so they stay
//! fast at a million contacts.

pub mod billing;
pub mod counts;
pub mod mix;

use chrono::{DateTime, NaiveDate, Utc};

/// The first instant of `d` (UTC): timestamps before it are on or before the previous day.
pub(crate) fn start_of(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The first instant after `d` (UTC).
pub(crate) fn end_of(d: NaiveDate) -> DateTime<Utc> {
    start_of(d.succ_opt().unwrap_or(d))
}
