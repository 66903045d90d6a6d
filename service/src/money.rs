//! Money is exact: integer minor units (cents) in storage, `Decimal` with 2 places at the edges.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Converts an amount to cents. More than 2 decimal places as written (even `10.500`) is an
/// error, never rounded away.
pub fn cents_from_decimal(amount: Decimal) -> Result<i64, String> {
    if amount.scale() > 2 {
        return Err("amount has more than 2 decimal places".into());
    }
    // Checked: the largest decimals overflow when scaled, and that is bad input, not a crash.
    amount
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|c| c.to_i64())
        .ok_or_else(|| "amount is out of range".into())
}

/// Parses a decimal amount as written (`"12.50"`, `"12"`) into cents, at most 2 places.
pub fn parse_amount(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let amount = Decimal::from_str_exact(text)
        .map_err(|_| format!("{text:?} is not a decimal amount such as \"12.50\""))?;
    cents_from_decimal(amount)
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
    use std::str::FromStr;

    #[test]
    fn amounts_too_large_to_scale_are_refused_not_a_panic() {
        let huge = Decimal::from_str("1000000000000000000000000000").unwrap();
        assert!(cents_from_decimal(huge).is_err());
        assert!(parse_amount("79228162514264337593543950335").is_err());
        assert_eq!(parse_amount("92233720368547758.07"), Ok(i64::MAX));
    }

    #[test]
    fn amounts_round_trip_through_cents() {
        for (text, cents) in [
            ("500", 50000),
            ("500.00", 50000),
            ("0.1", 10),
            ("12.34", 1234),
        ] {
            let d = Decimal::from_str(text).unwrap();
            assert_eq!(cents_from_decimal(d), Ok(cents));
        }
        assert_eq!(format_cents(50000), "500.00");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(-1234), "-12.34");
    }

    #[test]
    fn more_than_two_places_is_rejected_not_rounded() {
        let d = Decimal::from_str("10.005").unwrap();
        assert!(cents_from_decimal(d).is_err());
        // Three places as written are rejected even when the last is zero.
        assert!(cents_from_decimal(Decimal::from_str("10.500").unwrap()).is_err());
    }
}
