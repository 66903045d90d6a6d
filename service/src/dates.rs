//! SEC-4: dates that clients give. One form (`YYYY-MM-DD`: four-digit year, two-digit month and
//! day) and one range (1900-01-01 to 2999-12-31), so that a year 10000, a year before Christ or
//! a `2026-2-3` never reaches a rule or a report.

use chrono::NaiveDate;

/// The earliest date a client may give.
pub const MIN: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest date a client may give.
pub const MAX: NaiveDate = match NaiveDate::from_ymd_opt(2999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// The message of a date outside [`MIN`]..=[`MAX`].
pub fn out_of_range_message() -> String {
    format!("must lie between {MIN} and {MAX}")
}

/// A date a client gave, checked against the range.
pub fn check(date: NaiveDate) -> Result<NaiveDate, String> {
    if (MIN..=MAX).contains(&date) {
        Ok(date)
    } else {
        Err(out_of_range_message())
    }
}

/// Parses `YYYY-MM-DD` exactly (no signs, spaces, short fields or times) within the range.
pub fn parse(text: &str) -> Result<NaiveDate, String> {
    let malformed = || format!("{text:?} is not a date in the form YYYY-MM-DD");
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(malformed());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| malformed())?;
    check(date).map_err(|m| format!("{text}: {m}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec4_dates_are_yyyy_mm_dd_within_the_range() {
        for good in ["2024-02-29", "1900-01-01", "2999-12-31", "2026-12-07"] {
            assert_eq!(parse(good).map(|d| d.to_string()).as_deref(), Ok(good));
        }
        for bad in [
            "+10000-01-01",
            "-0001-01-01",
            "2026-2-3",
            "2026-02-3",
            "2023-02-29",
            "2026-13-01",
            " 2026-01-01",
            "2026-01-01 ",
            "2026-01-01T00:00",
            "20260101",
            "1899-12-31",
            "3000-01-01",
            "0000-01-01",
            "2026/01/01",
            "２０２６-01-01",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(check(MIN).is_ok() && check(MAX).is_ok());
        assert!(check(NaiveDate::MAX).is_err());
    }
}
