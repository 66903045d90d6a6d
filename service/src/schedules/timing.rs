//! When a schedule runs: a cron expression (five fields, UTC, parsed by `croner`) or a day of
//! the month (1 to 28, so that every month has it) at midnight UTC.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use entity::schedule as s;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timing {
    Cron(String),
    DayOfMonth(u32),
}

impl Timing {
    pub fn cron(text: &str) -> Result<Timing> {
        let text = text.trim();
        if text.split_whitespace().count() != 5 {
            return Err(Error::invalid(
                "cron",
                "must have five fields: minute, hour, day of month, month, day of week",
            ));
        }
        croner::Cron::from_str(text)
            .map_err(|e| Error::invalid("cron", format!("is not a cron expression: {e}")))?;
        Ok(Timing::Cron(text.to_owned()))
    }

    pub fn day_of_month(day: i32) -> Result<Timing> {
        match u32::try_from(day) {
            Ok(d) if (1..=28).contains(&d) => Ok(Timing::DayOfMonth(d)),
            _ => Err(Error::invalid(
                "day_of_month",
                "must be a day from 1 to 28 (every month has it)",
            )),
        }
    }

    /// The timing a stored schedule has.
    pub fn of(m: &s::Model) -> Option<Timing> {
        match (&m.cron, m.day_of_month) {
            (Some(c), _) => Some(Timing::Cron(c.clone())),
            (None, Some(d)) => u32::try_from(d).ok().map(Timing::DayOfMonth),
            (None, None) => None,
        }
    }

    pub fn columns(&self) -> (Option<String>, Option<i32>) {
        match self {
            Timing::Cron(c) => (Some(c.clone()), None),
            Timing::DayOfMonth(d) => (None, i32::try_from(*d).ok()),
        }
    }

    /// The first time after `now` it runs.
    pub fn next_after(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        match self {
            Timing::Cron(text) => croner::Cron::from_str(text)
                .and_then(|c| c.find_next_occurrence(&now, false))
                .map_err(|e| Error::invalid("cron", e.to_string())),
            Timing::DayOfMonth(day) => {
                let this_month = NaiveDate::from_ymd_opt(now.year(), now.month(), *day);
                let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
                let candidate = this_month.and_then(midnight);
                match candidate {
                    Some(t) if t > now => Ok(t),
                    _ => this_month
                        .and_then(|d| d.checked_add_months(Months::new(1)))
                        .and_then(midnight)
                        .ok_or_else(|| Error::Internal("no next day of the month".into())),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").to_utc()
    }

    #[test]
    fn jb3_a_day_of_the_month_runs_next_at_its_midnight() {
        let d = Timing::day_of_month(1).expect("day");
        assert_eq!(
            d.next_after(at("2026-12-07T10:00:00Z")).expect("next"),
            at("2027-01-01T00:00:00Z")
        );
        // At the due time itself the next is a month on; February has a 28th.
        assert_eq!(
            d.next_after(at("2027-01-01T00:00:00Z")).expect("next"),
            at("2027-02-01T00:00:00Z")
        );
        let d28 = Timing::day_of_month(28).expect("day");
        assert_eq!(
            d28.next_after(at("2028-02-28T12:00:00Z")).expect("next"),
            at("2028-03-28T00:00:00Z")
        );
        assert_eq!(
            d28.next_after(at("2028-02-27T23:59:59Z")).expect("next"),
            at("2028-02-28T00:00:00Z")
        );
    }

    #[test]
    fn jb3_cron_expressions_run_at_their_next_match() {
        let c = Timing::cron("0 2 * * *").expect("cron");
        assert_eq!(
            c.next_after(at("2026-12-31T03:00:00Z")).expect("next"),
            at("2027-01-01T02:00:00Z")
        );
    }

    #[test]
    fn jb3_bad_days_and_cron_expressions_are_refused() {
        for day in [0, 29, 31, -1] {
            assert!(Timing::day_of_month(day).is_err(), "{day}");
        }
        for text in [
            "",
            "* * *",
            "61 * * * *",
            "0 25 * * *",
            "every day",
            "* * * * * *",
        ] {
            assert!(Timing::cron(text).is_err(), "{text}");
        }
    }
}
