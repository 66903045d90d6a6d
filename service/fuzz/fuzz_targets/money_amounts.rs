//! SEC-3, SEC-4: the amount parser never panics, accepts only plain decimals within the bound,
//! and reads back exactly what it wrote.
#![no_main]

use libfuzzer_sys::fuzz_target;
use service::money::{MAX_AMOUNT_CENTS, format_cents, parse_amount};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cents) = parse_amount(text) else {
        return;
    };
    assert!(cents.abs() <= MAX_AMOUNT_CENTS, "{text:?} gave {cents}");
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    assert!(
        unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
        "{text:?} is not a plain decimal"
    );
    assert!(unsigned.bytes().filter(|b| *b == b'.').count() <= 1);
    // What is written back parses to the same amount.
    assert_eq!(parse_amount(&format_cents(cents)), Ok(cents), "{text:?}");
    // Totals of such amounts never wrap.
    let many = std::iter::repeat_n(cents.abs(), 64);
    if let Some(total) = service::money::checked_total(many) {
        assert_eq!(total, cents.abs() * 64);
    }
});
