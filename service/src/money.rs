//! Money is exact: integer minor units (cents) in storage, `Decimal` with 2 places at the edges.
//!
//! SEC-3, SEC-4: every amount a client sends is a plain decimal within [`MAX_AMOUNT_CENTS`], and
//! every invoice total is summed with checked arithmetic within [`MAX_TOTAL_CENTS`]. An `i64` sum
//! that wraps once turned two huge voluntary amounts into a zero total, and a zero total starts a
//! membership without payment: no sum of money here may wrap.

use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// The largest amount a client may send: 99,999,999.99.
pub const MAX_AMOUNT_CENTS: i64 = 9_999_999_999;

/// The largest invoice total (and line): 999,999,999.99.
pub const MAX_TOTAL_CENTS: i64 = 99_999_999_999;

/// The longest amount text read at all; longer ones are out of range whatever their digits.
const MAX_AMOUNT_TEXT: usize = 32;

fn out_of_range() -> String {
    format!(
        "amount is out of range: at most {} either way",
        format_cents(MAX_AMOUNT_CENTS)
    )
}

/// SEC-3: an amount a client sends, within ±[`MAX_AMOUNT_CENTS`].
fn check_amount(cents: i64) -> std::result::Result<i64, String> {
    if cents.checked_abs().is_some_and(|a| a <= MAX_AMOUNT_CENTS) {
        Ok(cents)
    } else {
        Err(out_of_range())
    }
}

/// SEC-4: parses an amount as clients write it: `123`, `123.4`, `123.45`, `-12.50`. No
/// exponents, underscores, `+` signs, spaces or bare points; at most 2 places; bounded (SEC-3).
pub fn parse_amount(text: &str) -> std::result::Result<i64, String> {
    let malformed = || format!("{text:?} is not a decimal amount such as \"12.50\"");
    if text.len() > MAX_AMOUNT_TEXT {
        return Err(out_of_range());
    }
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(malformed());
    }
    let fraction = fraction.unwrap_or("");
    if fraction.len() > 2 {
        return Err("amount has more than 2 decimal places".into());
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 12 {
        return Err(out_of_range());
    }
    let units: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| malformed())?
    };
    let cents_part: i64 = format!("{fraction:0<2}").parse().map_err(|_| malformed())?;
    let cents = units
        .checked_mul(100)
        .and_then(|c| c.checked_add(cents_part))
        .ok_or_else(out_of_range)?;
    check_amount(if negative { -cents } else { cents })
}

/// SEC-3: the total of an invoice's lines, summed without wrapping; `None` when a line or the
/// total lies outside 0..=[`MAX_TOTAL_CENTS`] (lines are never negative, I-6).
pub fn checked_total(amounts: impl IntoIterator<Item = i64>) -> Option<i64> {
    amounts.into_iter().try_fold(0i64, |sum, amount| {
        if !(0..=MAX_TOTAL_CENTS).contains(&amount) {
            return None;
        }
        sum.checked_add(amount)
            .filter(|s| (0..=MAX_TOTAL_CENTS).contains(s))
    })
}

/// The message of a total refused by [`checked_total`].
pub fn total_out_of_range_message() -> String {
    format!(
        "the invoice total would exceed {}; bill less on one invoice",
        format_cents(MAX_TOTAL_CENTS)
    )
}

/// [`checked_total`] as an operation's error: 422 on `total`.
pub fn invoice_total(amounts: impl IntoIterator<Item = i64>) -> Result<i64> {
    checked_total(amounts).ok_or_else(|| Error::invalid("total", total_out_of_range_message()))
}

/// Sums amounts of many invoices (run totals, batches, report figures): checked, so that a sum
/// out of `i64` range is an error rather than a wrapped figure.
pub fn checked_sum(amounts: impl IntoIterator<Item = i64>) -> Result<i64> {
    amounts
        .into_iter()
        .try_fold(0i64, i64::checked_add)
        .ok_or_else(|| Error::Internal("a sum of amounts is out of range".into()))
}

/// Adds `amount` to `total` in place, checked: the running figures of reports.
pub fn add_to(total: &mut i64, amount: i64) -> Result<()> {
    *total = checked_sum([*total, amount])?;
    Ok(())
}

/// Subtracts `amount` from `total` in place, checked.
pub fn take_from(total: &mut i64, amount: i64) -> Result<()> {
    *total = total
        .checked_sub(amount)
        .ok_or_else(|| Error::Internal("a difference of amounts is out of range".into()))?;
    Ok(())
}

pub fn decimal_from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// `"500.00"`: the wire format of every amount.
pub fn format_cents(cents: i64) -> String {
    let mut d = decimal_from_cents(cents);
    d.rescale(2);
    d.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec3_amounts_too_large_are_refused_not_a_panic() {
        assert!(parse_amount("79228162514264337593543950335").is_err());
        assert!(parse_amount("92233720368547758.07").is_err());
        assert!(parse_amount("92233720368547258.09").is_err());
        assert_eq!(parse_amount("99999999.99"), Ok(MAX_AMOUNT_CENTS));
        assert_eq!(parse_amount("-99999999.99"), Ok(-MAX_AMOUNT_CENTS));
        assert!(parse_amount("100000000.00").is_err());
        assert!(parse_amount("100000000").is_err());
        assert_eq!(check_amount(i64::MIN), Err(out_of_range()));
        // Leading zeros are digits like any other, and do not count towards the bound.
        assert_eq!(parse_amount("000000000000000000001.50"), Ok(150));
    }

    #[test]
    fn sec4_only_plain_decimals_are_amounts() {
        for bad in [
            "1_000", "1E2", "1e2", "+1.00", " 1.00", "1.00 ", "", "-", ".5", "5.", "1,00", "--1",
            "0x10", "١٢", "1.-5", "NaN", "inf", "1.0.0",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?} was accepted");
        }
        for (good, cents) in [
            ("123", 12300),
            ("123.4", 12340),
            ("123.45", 12345),
            ("-12.50", -1250),
            ("0", 0),
            ("0.05", 5),
            ("007", 700),
        ] {
            assert_eq!(parse_amount(good), Ok(cents), "{good}");
        }
    }

    #[test]
    fn sec3_totals_never_wrap() {
        // The two add-ons that once wrapped to a zero total.
        assert_eq!(checked_total([i64::MAX, 9_223_372_036_854_725_809]), None);
        assert_eq!(checked_total([50_000, i64::MAX]), None);
        assert_eq!(checked_total([MAX_TOTAL_CENTS, 1]), None);
        assert_eq!(checked_total([-1, 1]), None);
        assert_eq!(checked_total([MAX_TOTAL_CENTS]), Some(MAX_TOTAL_CENTS));
        assert_eq!(checked_total([50_000, 1_250, 0]), Some(51_250));
        assert_eq!(checked_total([]), Some(0));
        assert!(invoice_total([MAX_TOTAL_CENTS, MAX_TOTAL_CENTS]).is_err());
        assert!(checked_sum([i64::MAX, 1]).is_err());
        assert_eq!(checked_sum([i64::MAX - 1, 1]).ok(), Some(i64::MAX));
    }

    #[test]
    fn amounts_round_trip_through_cents() {
        for (text, cents) in [
            ("500", 50000),
            ("500.00", 50000),
            ("0.1", 10),
            ("12.34", 1234),
        ] {
            assert_eq!(parse_amount(text), Ok(cents));
            assert_eq!(parse_amount(&format_cents(cents)), Ok(cents));
        }
        assert_eq!(format_cents(50000), "500.00");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(-1234), "-12.34");
    }

    #[test]
    fn more_than_two_places_is_rejected_not_rounded() {
        assert!(parse_amount("10.005").is_err());
        // Three places as written are rejected even when the last is zero.
        assert_eq!(
            parse_amount("10.500"),
            Err("amount has more than 2 decimal places".into())
        );
    }
}
