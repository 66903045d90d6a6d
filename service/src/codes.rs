//! The shapes of codes that people type and integrations depend on.

use std::sync::LazyLock;

use regex::Regex;

static TYPE_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z0-9]{1,20}$").expect("valid regex"));
static LOOKUP_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z0-9][A-Z0-9_-]{0,19}$").expect("valid regex"));
static STATUS_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[AISD][A-Z0-9_-]{0,19}$").expect("valid regex"));
/// The widest shape of any code (a product code's): every other code fits it.
pub const CODE_SHAPE: &str = r"^[A-Z0-9][A-Z0-9_/-]{0,39}$";
static PRODUCT_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(CODE_SHAPE).expect("valid regex"));

/// Case-insensitive identity of a cycle name, also compared with product codes (B-1, P-6).
pub fn name_key(name: &str) -> String {
    name.trim().to_uppercase()
}

/// Whether `text` could be a code of any kind (list cursors ordered by code).
pub fn is_code_shaped(text: &str) -> bool {
    PRODUCT_CODE.is_match(text)
}
static DESIGNATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z0-9][A-Z0-9_/-]{0,35}$").expect("valid regex"));

/// CT-1: customer type codes are upper-case letters and digits (`M`, `NM`, `MIND`).
pub fn check_customer_type_code(code: &str) -> Result<(), String> {
    if TYPE_CODE.is_match(code) {
        Ok(())
    } else {
        Err("must be 1 to 20 upper-case letters or digits, e.g. M, NM, MIND".into())
    }
}

/// BC-1: billing category codes (`REG`, `FYEAR`, `INTL`).
pub fn check_category_code(code: &str) -> Result<(), String> {
    if LOOKUP_CODE.is_match(code) {
        Ok(())
    } else {
        Err("must be 1 to 20 upper-case letters, digits, '_' or '-', e.g. REG".into())
    }
}

/// P-3: pricing group codes (`CONSORT`, `NORTH-HOSP`).
pub fn check_pricing_group_code(code: &str) -> Result<(), String> {
    if LOOKUP_CODE.is_match(code) {
        Ok(())
    } else {
        Err("must be 1 to 20 upper-case letters, digits, '_' or '-', e.g. CONSORT".into())
    }
}

/// CS-1: a status code begins with A, I, S or D.
pub fn check_status_code(code: &str) -> Result<(), String> {
    if STATUS_CODE.is_match(code) {
        Ok(())
    } else {
        Err("must begin with A (active), I (inactive), S (suspended) or D (marked for deletion), followed by upper-case letters or digits; at most 20 characters".into())
    }
}

/// P-1: product codes may contain `/` and `_` (`CHAPT/EAST`, `AM_2_GST`).
pub fn check_product_code(code: &str) -> Result<(), String> {
    if PRODUCT_CODE.is_match(code) && !code.ends_with('/') && !code.contains("//") {
        Ok(())
    } else {
        Err("must be 1 to 40 upper-case letters, digits, '_', '-' or '/', e.g. DUES, CHAPT/EAST, AM_2_GST".into())
    }
}

/// CT-3: a formula designator is the shared prefix of a primary-fee family (`AM`).
pub fn check_designator(code: &str) -> Result<(), String> {
    if DESIGNATOR.is_match(code) {
        Ok(())
    } else {
        Err("must be 1 to 36 upper-case letters, digits, '_', '-' or '/', e.g. AM".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct1_customer_type_codes_are_upper_case_letters_and_digits() {
        for ok in ["M", "NM", "MIND", "NMIND", "AM", "M2"] {
            assert!(check_customer_type_code(ok).is_ok(), "{ok}");
        }
        for bad in ["", "m", "M-1", "M_1", "M ", "ABCDEFGHIJKLMNOPQRSTU"] {
            assert!(check_customer_type_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cs1_status_codes_begin_with_a_i_s_or_d() {
        for ok in ["A", "AX", "ACT", "I", "S", "D", "DEL"] {
            assert!(check_status_code(ok).is_ok(), "{ok}");
        }
        for bad in ["X", "B", "a", "", "XA"] {
            assert!(check_status_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn p1_product_codes_may_contain_slash_and_underscore() {
        for ok in ["DUES", "CHAPT/EAST", "AM_2_GST", "JOURNAL-1"] {
            assert!(check_product_code(ok).is_ok(), "{ok}");
        }
        for bad in ["", "chapt/east", "CHAPT/", "/X", "A//B", &"X".repeat(41)] {
            assert!(check_product_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bc1_category_codes() {
        assert!(check_category_code("REG").is_ok());
        assert!(check_category_code("FYEAR").is_ok());
        assert!(check_category_code("reg").is_err());
    }

    #[test]
    fn p3_pricing_group_codes_are_upper_case() {
        assert!(check_pricing_group_code("CONSORT").is_ok());
        assert!(check_pricing_group_code("NORTH-HOSP").is_ok());
        assert!(check_pricing_group_code("consort").is_err());
        assert!(check_pricing_group_code("").is_err());
    }
}
