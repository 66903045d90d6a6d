//! S-3: the words accepted for a subscription's status, and for yes/no flags in imports.

const ACTIVE: [&str; 7] = ["1", "TRUE", "Y", "YES", "T", "ACTIVE", "A"];
const INACTIVE: [&str; 7] = ["0", "FALSE", "N", "NO", "F", "INACTIVE", "I"];
const YES: [&str; 5] = ["1", "TRUE", "Y", "YES", "T"];
const NO: [&str; 5] = ["0", "FALSE", "N", "NO", "F"];

/// S-3: `1/TRUE/Y/YES/T/ACTIVE/A` is active, `0/FALSE/N/NO/F/INACTIVE/I` inactive, any case.
pub fn parse_status(word: &str) -> Result<bool, String> {
    let w = word.trim().to_ascii_uppercase();
    if ACTIVE.contains(&w.as_str()) {
        Ok(true)
    } else if INACTIVE.contains(&w.as_str()) {
        Ok(false)
    } else {
        Err(format!(
            "{word:?} is not a status; use one of {} (active) or {} (inactive), any letter case",
            ACTIVE.join("/"),
            INACTIVE.join("/")
        ))
    }
}

/// A yes/no flag written as a word (CSV cells): `1/TRUE/Y/YES/T` or `0/FALSE/N/NO/F`.
pub fn parse_flag(word: &str) -> Result<bool, String> {
    let w = word.trim().to_ascii_uppercase();
    if YES.contains(&w.as_str()) {
        Ok(true)
    } else if NO.contains(&w.as_str()) {
        Ok(false)
    } else {
        Err(format!(
            "{word:?} is not a yes/no value; use one of {} or {}",
            YES.join("/"),
            NO.join("/")
        ))
    }
}

/// How a status is shown.
pub fn status_word(active: bool) -> &'static str {
    if active { "active" } else { "inactive" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_every_status_word_in_any_case() {
        for w in ["1", "true", "Y", "yes", "t", "Active", "a", " TRUE "] {
            assert_eq!(parse_status(w), Ok(true), "{w}");
        }
        for w in ["0", "False", "n", "NO", "f", "inactive", "I"] {
            assert_eq!(parse_status(w), Ok(false), "{w}");
        }
    }

    #[test]
    fn s3_other_words_are_rejected_listing_the_accepted_ones() {
        for w in ["", "2", "ACT", "enabled", "on", "yes please"] {
            let err = parse_status(w).unwrap_err();
            assert!(err.contains("1/TRUE/Y/YES/T/ACTIVE/A"), "{err}");
            assert!(err.contains("0/FALSE/N/NO/F/INACTIVE/I"), "{err}");
        }
    }

    #[test]
    fn flags_take_yes_no_words_but_not_status_words() {
        assert_eq!(parse_flag("yes"), Ok(true));
        assert_eq!(parse_flag("0"), Ok(false));
        assert!(parse_flag("ACTIVE").is_err());
    }
}
