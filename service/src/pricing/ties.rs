//! P-3: a tie that specificity and priority cannot break is rejected when a rule is saved.
//!
//! Two rules of one product tie when they have the same specificity, the same priority, and
//! one invoice line could satisfy both ([`Conditions::can_overlap`]). Rules are bucketed by
//! (product, specificity, priority) so that only rules that could tie are compared.

use std::collections::HashMap;

use super::conditions::Conditions;

/// Which rule: a saved one, or the n-th (from 0) of those being saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleRef {
    Saved(i64),
    New(usize),
}

/// A rule as the tie check sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub rule: RuleRef,
    pub product: &'a str,
    pub conditions: &'a Conditions,
    pub priority: i32,
}

/// A pair of rules that would tie: `rule` is one being saved, `other` the one it ties with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tie {
    pub rule: RuleRef,
    pub other: RuleRef,
    pub specificity: u8,
    pub priority: i32,
}

type Bucket<'a> = (&'a str, u8, i32);

fn bucket<'a>(c: &Candidate<'a>) -> Bucket<'a> {
    (c.product, c.conditions.specificity(), c.priority)
}

/// Whether two rules would tie (P-3).
pub fn ties(a: &Candidate<'_>, b: &Candidate<'_>) -> bool {
    bucket(a) == bucket(b) && a.conditions.can_overlap(b.conditions)
}

/// The first tie among `new` rules, or between a `new` rule and a `saved` one. `saved` must
/// not contain the rules being saved (an updated rule is in `new`, not in `saved`).
pub fn find_tie(new: &[Candidate<'_>], saved: &[Candidate<'_>]) -> Option<Tie> {
    let mut buckets: HashMap<Bucket<'_>, Vec<&Candidate<'_>>> = HashMap::new();
    for s in saved {
        buckets.entry(bucket(s)).or_default().push(s);
    }
    for n in new {
        let key = bucket(n);
        let peers = buckets.entry(key).or_default();
        if let Some(other) = peers
            .iter()
            .find(|p| p.conditions.can_overlap(n.conditions))
        {
            return Some(Tie {
                rule: n.rule,
                other: other.rule,
                specificity: key.1,
                priority: key.2,
            });
        }
        peers.push(n);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn cand<'a>(
        rule: RuleRef,
        product: &'a str,
        c: &'a Conditions,
        priority: i32,
    ) -> Candidate<'a> {
        Candidate {
            rule,
            product,
            conditions: c,
            priority,
        }
    }

    fn ct(t: &str) -> Conditions {
        Conditions {
            customer_type: Some(t.into()),
            ..Default::default()
        }
    }

    #[test]
    fn p3_same_conditions_and_priority_is_a_tie_a_different_priority_is_not() {
        let a = ct("M");
        let b = ct("M");
        let saved = [cand(RuleRef::Saved(7), "DUES", &a, 0)];
        let tie = find_tie(&[cand(RuleRef::New(0), "DUES", &b, 0)], &saved).unwrap();
        assert_eq!(tie.other, RuleRef::Saved(7));
        assert_eq!(tie.rule, RuleRef::New(0));
        assert_eq!((tie.specificity, tie.priority), (1, 0));
        assert!(find_tie(&[cand(RuleRef::New(0), "DUES", &b, 1)], &saved).is_none());
        assert!(
            find_tie(&[cand(RuleRef::New(0), "OTHER", &b, 0)], &saved).is_none(),
            "rules of different products never tie"
        );
    }

    #[test]
    fn p3_different_type_category_or_company_member_never_both_match() {
        let m = ct("M");
        let nm = ct("NM");
        assert!(!ties(
            &cand(RuleRef::New(0), "D", &m, 0),
            &cand(RuleRef::New(1), "D", &nm, 0)
        ));
        let reg = Conditions {
            billing_category: Some("REG".into()),
            ..Default::default()
        };
        let intl = Conditions {
            billing_category: Some("INTL".into()),
            ..Default::default()
        };
        assert!(!ties(
            &cand(RuleRef::New(0), "D", &reg, 0),
            &cand(RuleRef::New(1), "D", &intl, 0)
        ));
        let yes = Conditions {
            company_member: Some(true),
            ..Default::default()
        };
        let no = Conditions {
            company_member: Some(false),
            ..Default::default()
        };
        assert!(!ties(
            &cand(RuleRef::New(0), "D", &yes, 0),
            &cand(RuleRef::New(1), "D", &no, 0)
        ));
        // A type rule and a category rule can both match an M+REG buyer: a tie.
        assert!(ties(
            &cand(RuleRef::New(0), "D", &m, 0),
            &cand(RuleRef::New(1), "D", &reg, 0)
        ));
    }

    #[test]
    fn p3_different_groups_or_bundled_products_can_both_match_so_they_tie() {
        let g1 = Conditions {
            pricing_group: Some("G1".into()),
            ..Default::default()
        };
        let g2 = Conditions {
            pricing_group: Some("G2".into()),
            ..Default::default()
        };
        assert!(ties(
            &cand(RuleRef::New(0), "D", &g1, 0),
            &cand(RuleRef::New(1), "D", &g2, 0)
        ));
        let w1 = Conditions {
            with_product: Some("A".into()),
            ..Default::default()
        };
        let w2 = Conditions {
            with_product: Some("B".into()),
            ..Default::default()
        };
        let tie = find_tie(
            &[
                cand(RuleRef::New(0), "D", &w1, 0),
                cand(RuleRef::New(1), "D", &w2, 0),
            ],
            &[],
        )
        .unwrap();
        assert_eq!((tie.rule, tie.other), (RuleRef::New(1), RuleRef::New(0)));
    }

    #[test]
    fn p4_disjoint_date_ranges_do_not_tie() {
        let y2026 = Conditions {
            customer_type: Some("M".into()),
            valid_from: Some(d("2026-01-01")),
            valid_to: Some(d("2026-12-31")),
            ..Default::default()
        };
        let y2027 = Conditions {
            customer_type: Some("M".into()),
            valid_from: Some(d("2027-01-01")),
            ..Default::default()
        };
        let from_dec = Conditions {
            customer_type: Some("M".into()),
            valid_from: Some(d("2026-12-31")),
            ..Default::default()
        };
        let saved = [cand(RuleRef::Saved(1), "D", &y2026, 0)];
        assert!(find_tie(&[cand(RuleRef::New(0), "D", &y2027, 0)], &saved).is_none());
        assert!(
            find_tie(&[cand(RuleRef::New(0), "D", &from_dec, 0)], &saved).is_some(),
            "ranges sharing 2026-12-31 overlap (both ends inclusive)"
        );
    }

    #[test]
    fn p3_a_thousand_rules_check_quickly() {
        let conds: Vec<Conditions> = (0..1000)
            .map(|i| Conditions {
                billing_category: Some(format!("C{}", i % 10)),
                valid_from: Some(d("2020-01-01") + chrono::Days::new(i as u64 * 2)),
                valid_to: Some(d("2020-01-01") + chrono::Days::new(i as u64 * 2 + 1)),
                ..Default::default()
            })
            .collect();
        let new: Vec<Candidate<'_>> = conds
            .iter()
            .enumerate()
            .map(|(i, c)| cand(RuleRef::New(i), "D", c, 0))
            .collect();
        assert!(find_tie(&new, &[]).is_none());
    }
}
