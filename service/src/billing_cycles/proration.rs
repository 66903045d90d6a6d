//! T-8: a cycle's own proration table for annual joins: the join month gives the fraction of
//! the price and whether the term runs to the end of the next fiscal year. Absent a row for the
//! join month (or a table), T-3 applies.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::Errors;
use crate::terms::{self, Ratio, Term};

/// At most this many decimal places in a fraction ("0.3333").
pub const FRACTION_PLACES: u32 = 4;

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProrationRule {
    /// 1..=12.
    pub join_month: u32,
    /// 0..=1, of the scaled lines' price.
    pub fraction: Decimal,
    /// Joins in this month run to the end of the next fiscal year.
    #[serde(default)]
    pub through_next_fiscal_year: bool,
}

/// The table as the cycle stores it.
pub fn to_stored(rules: &[ProrationRule]) -> String {
    serde_json::to_string(rules).unwrap_or_else(|_| "[]".into())
}

/// The table a cycle stored (always written by [`to_stored`]).
pub fn from_stored(text: &str) -> Vec<ProrationRule> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The rule for a join on `date`, if the table has one.
pub fn rule_for(rules: &[ProrationRule], date: NaiveDate) -> Option<&ProrationRule> {
    rules.iter().find(|r| r.join_month == date.month())
}

/// T-8: the term of an annual join by a table row: from the 1st of the join month to the end
/// of its fiscal year (or the next one), at the row's fraction.
pub fn join_term(rule: &ProrationRule, join_date: NaiveDate, fiscal_start_month: u32) -> Term {
    let begin = join_date.with_day(1).unwrap_or(join_date);
    let years = if rule.through_next_fiscal_year { 2 } else { 1 };
    let end =
        terms::fiscal_year_end_on_or_before(terms::term_end(begin, 12 * years), fiscal_start_month);
    Term {
        begin,
        end: end.max(begin),
        whole_months: Some(terms::calendar_months(begin, end).max(1)),
        scale: ratio(rule.fraction),
    }
}

/// The fraction as a ratio: `0.75` is 75/100.
fn ratio(fraction: Decimal) -> Ratio {
    let scale = fraction.scale().min(FRACTION_PLACES);
    let den = 10u32.pow(scale);
    let num = (fraction * Decimal::from(den)).trunc();
    Ratio::new(u32::try_from(num.mantissa()).unwrap_or(den), den).reduced()
}

/// T-8: months 1..=12, each once; fractions 0..=1 with at most four places.
pub fn check(rules: &[ProrationRule], errors: &mut Errors) {
    let mut seen = [false; 13];
    for (n, r) in rules.iter().enumerate() {
        let at = |field: &str| format!("proration_rules[{n}].{field}");
        match usize::try_from(r.join_month)
            .ok()
            .filter(|m| (1..=12).contains(m))
        {
            None => errors.add(at("join_month"), "must be a month, 1 to 12"),
            Some(m) if seen[m] => {
                errors.add(at("join_month"), format!("month {m} is in the table twice"))
            }
            Some(m) => seen[m] = true,
        }
        let in_range = r.fraction >= Decimal::ZERO && r.fraction <= Decimal::ONE;
        if !in_range || r.fraction.normalize().scale() > FRACTION_PLACES {
            errors.add(
                at("fraction"),
                format!("must be between 0 and 1, with at most {FRACTION_PLACES} decimal places"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rule(month: u32, fraction: &str, next: bool) -> ProrationRule {
        ProrationRule {
            join_month: month,
            fraction: fraction.parse().unwrap(),
            through_next_fiscal_year: next,
        }
    }

    #[test]
    fn t8_late_joins_pay_the_full_year_and_run_to_the_next_fiscal_year_end() {
        let t = join_term(&rule(10, "1", true), d("2026-10-17"), 1);
        assert_eq!((t.begin, t.end), (d("2026-10-01"), d("2027-12-31")));
        assert_eq!(t.scale, Ratio::ONE);
        assert_eq!(t.whole_months, Some(15));
    }

    #[test]
    fn t8_a_fraction_of_the_price_to_this_fiscal_year_end_with_a_july_fiscal_year() {
        let t = join_term(&rule(2, "0.75", false), d("2028-02-29"), 7);
        assert_eq!((t.begin, t.end), (d("2028-02-01"), d("2028-06-30")));
        assert_eq!(t.scale, Ratio::new(3, 4));
        let t = join_term(&rule(7, "0.3333", false), d("2026-07-31"), 7);
        assert_eq!((t.begin, t.end), (d("2026-07-01"), d("2027-06-30")));
        assert_eq!(t.scale, Ratio::new(3333, 10000));
    }

    #[test]
    fn t8_the_table_is_checked_month_by_month() {
        let mut errors = Errors::new();
        check(
            &[
                rule(3, "0.5", false),
                rule(3, "0.25", false),
                rule(13, "1.5", false),
            ],
            &mut errors,
        );
        let fields: Vec<String> = match errors.into_result() {
            Err(crate::error::Error::Validation(errs)) => {
                errs.into_iter().map(|e| e.field).collect()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields,
            [
                "proration_rules[1].join_month",
                "proration_rules[2].join_month",
                "proration_rules[2].fraction"
            ]
        );
        let mut errors = Errors::new();
        check(
            &[rule(1, "0.12345", false), rule(2, "-0.1", false)],
            &mut errors,
        );
        assert!(errors.into_result().is_err());
        let mut errors = Errors::new();
        check(
            &[rule(1, "0", false), rule(12, "1.0000", true)],
            &mut errors,
        );
        assert!(errors.into_result().is_ok());
    }

    #[test]
    fn t8_a_month_without_a_row_has_no_rule() {
        let rules = [rule(10, "1", true)];
        assert!(rule_for(&rules, d("2026-09-30")).is_none());
        assert!(rule_for(&rules, d("2026-10-01")).is_some());
    }
}
