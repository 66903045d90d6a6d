//! SEC-4: the date parser never panics, and accepts only `YYYY-MM-DD` within 1900..=2999,
//! which it prints back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(date) = service::dates::parse(text) else {
        return;
    };
    assert!((service::dates::MIN..=service::dates::MAX).contains(&date));
    assert_eq!(date.to_string(), text, "{text:?} is not the date's own spelling");
});
