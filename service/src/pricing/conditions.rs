//! P-3: what a pricing rule asks of an invoice line, how specific it is, and whether it
//! matches. Plain data and plain functions; no database.

use chrono::NaiveDate;

use entity::pricing_rule as pr;

/// The conditions of a pricing rule. `None` means "any"; every condition that is set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// The buyer's customer type.
    pub customer_type: Option<String>,
    /// The buyer's billing category.
    pub billing_category: Option<String>,
    /// Company pricing: `true` = a person linked to an organization whose customer type is a
    /// member type; `false` = not so linked.
    pub company_member: Option<bool>,
    /// The buyer is a member of this pricing group.
    pub pricing_group: Option<String>,
    /// Bundles: this other product is on the same invoice.
    pub with_product: Option<String>,
    /// First day the rule is in force (inclusive); `None`: since always.
    pub valid_from: Option<NaiveDate>,
    /// Last day the rule is in force (inclusive); `None`: no end.
    pub valid_to: Option<NaiveDate>,
    /// P-7: the buyer joined on or after this day; `None`: no earliest join date.
    pub joined_from: Option<NaiveDate>,
    /// P-7: the buyer joined on or before this day; `None`: no latest join date.
    pub joined_to: Option<NaiveDate>,
}

/// The buyer of an invoice line, as pricing sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Buyer {
    pub customer_type: Option<String>,
    pub billing_category: Option<String>,
    /// A person linked to an organization whose customer type is a member type.
    pub company_member: bool,
    /// Codes of the pricing groups the contact belongs to.
    pub groups: Vec<String>,
    /// P-7: the day the buyer joined; `None` for one who never joined.
    pub join_date: Option<NaiveDate>,
}

/// A saved pricing rule, as the resolver and the tie check see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub product: String,
    pub price_cents: i64,
    pub conditions: Conditions,
    pub priority: i32,
}

/// Whether a day lies in an inclusive range whose open ends extend forever.
fn within(day: NaiveDate, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
    from.is_none_or(|f| f <= day) && to.is_none_or(|t| day <= t)
}

/// Whether two inclusive ranges share at least one day (open ends extend forever).
fn ranges_overlap(
    (from_a, to_a): (Option<NaiveDate>, Option<NaiveDate>),
    (from_b, to_b): (Option<NaiveDate>, Option<NaiveDate>),
) -> bool {
    let start = from_a.max(from_b);
    let end = match (to_a, to_b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match (start, end) {
        (Some(s), Some(e)) => s <= e,
        _ => true,
    }
}

/// Both ends set and different: no line can satisfy both.
fn excludes<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x != y)
}

impl Conditions {
    /// Whether the rule has a start or an end date.
    pub fn has_date_bound(&self) -> bool {
        self.valid_from.is_some() || self.valid_to.is_some()
    }

    /// P-7: whether the rule asks for a join date (either end of the range).
    pub fn has_join_bound(&self) -> bool {
        self.joined_from.is_some() || self.joined_to.is_some()
    }

    /// P-3: the number of conditions set among customer type, billing category, company
    /// member, pricing group and other product, plus 1 when the rule has any date bound and
    /// 1 when it has any join-date bound (P-7: the range is one condition).
    /// The most specific matching rule wins.
    pub fn specificity(&self) -> u8 {
        u8::from(self.customer_type.is_some())
            + u8::from(self.billing_category.is_some())
            + u8::from(self.company_member.is_some())
            + u8::from(self.pricing_group.is_some())
            + u8::from(self.with_product.is_some())
            + u8::from(self.has_date_bound())
            + u8::from(self.has_join_bound())
    }

    /// P-4: whether the rule is in force on `as_of`; both ends inclusive.
    pub fn in_force(&self, as_of: NaiveDate) -> bool {
        within(as_of, self.valid_from, self.valid_to)
    }

    /// P-7: whether a buyer who joined on `join_date` qualifies; both ends inclusive. A rule
    /// with a join-date range never applies to a buyer who has not joined.
    pub fn admits_join_date(&self, join_date: Option<NaiveDate>) -> bool {
        if !self.has_join_bound() {
            return true;
        }
        join_date.is_some_and(|d| within(d, self.joined_from, self.joined_to))
    }

    /// P-3: whether the rule applies to a line bought by `buyer` on `as_of`, on an invoice
    /// that also holds the products `with`.
    pub fn matches(&self, buyer: &Buyer, as_of: NaiveDate, with: &[String]) -> bool {
        fn same(rule: &Option<String>, actual: &Option<String>) -> bool {
            match rule {
                None => true,
                Some(r) => actual.as_deref() == Some(r.as_str()),
            }
        }
        same(&self.customer_type, &buyer.customer_type)
            && same(&self.billing_category, &buyer.billing_category)
            && self
                .company_member
                .is_none_or(|c| c == buyer.company_member)
            && self
                .pricing_group
                .as_ref()
                .is_none_or(|g| buyer.groups.iter().any(|b| b == g))
            && self
                .with_product
                .as_ref()
                .is_none_or(|p| with.iter().any(|w| w == p))
            && self.in_force(as_of)
            && self.admits_join_date(buyer.join_date)
    }

    /// Whether the two date ranges share at least one day (open ends extend forever).
    pub fn dates_overlap(&self, other: &Conditions) -> bool {
        ranges_overlap(
            (self.valid_from, self.valid_to),
            (other.valid_from, other.valid_to),
        )
    }

    /// P-7: whether one join date could satisfy both rules' join-date ranges.
    pub fn join_dates_overlap(&self, other: &Conditions) -> bool {
        ranges_overlap(
            (self.joined_from, self.joined_to),
            (other.joined_from, other.joined_to),
        )
    }

    /// P-3: whether one invoice line could satisfy both rules. It cannot when both name a
    /// different customer type, billing category or company-member value, or when their date
    /// or join-date ranges do not overlap. Different pricing groups or other products can both
    /// hold: a contact may be in two groups and an invoice may hold both products.
    pub fn can_overlap(&self, other: &Conditions) -> bool {
        !excludes(&self.customer_type, &other.customer_type)
            && !excludes(&self.billing_category, &other.billing_category)
            && !excludes(&self.company_member, &other.company_member)
            && self.dates_overlap(other)
            && self.join_dates_overlap(other)
    }
}

impl From<&pr::Model> for Conditions {
    fn from(m: &pr::Model) -> Self {
        Conditions {
            customer_type: m.customer_type.clone(),
            billing_category: m.billing_category.clone(),
            company_member: m.company_member,
            pricing_group: m.pricing_group.clone(),
            with_product: m.with_product.clone(),
            valid_from: m.valid_from,
            valid_to: m.valid_to,
            joined_from: m.joined_from,
            joined_to: m.joined_to,
        }
    }
}

impl From<pr::Model> for Rule {
    fn from(m: pr::Model) -> Self {
        Rule {
            id: m.id,
            price_cents: m.price_cents,
            priority: m.priority,
            conditions: Conditions {
                customer_type: m.customer_type,
                billing_category: m.billing_category,
                company_member: m.company_member,
                pricing_group: m.pricing_group,
                with_product: m.with_product,
                valid_from: m.valid_from,
                valid_to: m.valid_to,
                joined_from: m.joined_from,
                joined_to: m.joined_to,
            },
            product: m.product,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn p3_specificity_counts_conditions_and_one_for_any_date_bound() {
        assert_eq!(Conditions::default().specificity(), 0);
        let c = Conditions {
            customer_type: Some("M".into()),
            billing_category: Some("REG".into()),
            company_member: Some(false),
            pricing_group: Some("G".into()),
            with_product: Some("X".into()),
            valid_from: Some(d("2026-01-01")),
            valid_to: Some(d("2026-12-31")),
            joined_from: None,
            joined_to: None,
        };
        assert_eq!(c.specificity(), 6, "both date ends count once");
        let only_end = Conditions {
            valid_to: Some(d("2026-12-31")),
            ..Default::default()
        };
        assert_eq!(only_end.specificity(), 1);
    }

    #[test]
    fn p4_date_range_is_inclusive_and_open_ends_extend_forever() {
        let c = Conditions {
            valid_from: Some(d("2026-01-01")),
            valid_to: Some(d("2026-12-31")),
            ..Default::default()
        };
        assert!(!c.in_force(d("2025-12-31")));
        assert!(c.in_force(d("2026-01-01")));
        assert!(c.in_force(d("2026-12-31")));
        assert!(!c.in_force(d("2027-01-01")));
        let open = Conditions {
            valid_from: Some(d("2026-01-01")),
            ..Default::default()
        };
        assert!(open.in_force(d("2999-01-01")));
    }

    #[test]
    fn p3_overlap_of_date_ranges() {
        let r = |f: Option<&str>, t: Option<&str>| Conditions {
            valid_from: f.map(d),
            valid_to: t.map(d),
            ..Default::default()
        };
        let y2026 = r(Some("2026-01-01"), Some("2026-12-31"));
        assert!(
            y2026.dates_overlap(&r(Some("2026-12-31"), None)),
            "one shared day"
        );
        assert!(!y2026.dates_overlap(&r(Some("2027-01-01"), None)));
        assert!(!y2026.dates_overlap(&r(None, Some("2025-12-31"))));
        assert!(y2026.dates_overlap(&r(None, None)));
        assert!(r(None, Some("2026-06-01")).dates_overlap(&r(None, Some("2020-01-01"))));
    }

    #[test]
    fn p7_a_join_date_range_is_one_condition_for_specificity() {
        let plain = Conditions {
            customer_type: Some("M".into()),
            ..Default::default()
        };
        let legacy = Conditions {
            joined_to: Some(d("1999-12-31")),
            ..plain.clone()
        };
        let both_ends = Conditions {
            joined_from: Some(d("1990-01-01")),
            ..legacy.clone()
        };
        assert_eq!(plain.specificity(), 1);
        assert_eq!(legacy.specificity(), 2);
        assert_eq!(both_ends.specificity(), 2, "both join-date ends count once");
        let dated = Conditions {
            valid_from: Some(d("2026-01-01")),
            ..both_ends
        };
        assert_eq!(
            dated.specificity(),
            3,
            "validity and join dates are two conditions"
        );
    }

    #[test]
    fn p7_join_date_range_is_inclusive_and_needs_a_join_date() {
        let c = Conditions {
            joined_from: Some(d("1990-01-01")),
            joined_to: Some(d("1999-12-31")),
            ..Default::default()
        };
        let buyer = |j: Option<&str>| Buyer {
            join_date: j.map(d),
            ..Default::default()
        };
        let on = d("2026-06-01");
        assert!(!c.matches(&buyer(Some("1989-12-31")), on, &[]));
        assert!(c.matches(&buyer(Some("1990-01-01")), on, &[]));
        assert!(c.matches(&buyer(Some("1999-12-31")), on, &[]));
        assert!(!c.matches(&buyer(Some("2000-01-01")), on, &[]));
        assert!(!c.matches(&buyer(None), on, &[]), "never joined");
        assert!(
            Conditions::default().matches(&buyer(None), on, &[]),
            "no join-date range: any buyer"
        );
    }

    #[test]
    fn p7_rules_with_disjoint_join_date_ranges_cannot_both_match() {
        let before = Conditions {
            joined_to: Some(d("1999-12-31")),
            ..Default::default()
        };
        let after = Conditions {
            joined_from: Some(d("2000-01-01")),
            ..Default::default()
        };
        let around = Conditions {
            joined_from: Some(d("1999-12-31")),
            ..Default::default()
        };
        assert!(!before.can_overlap(&after));
        assert!(before.can_overlap(&around), "one shared day");
        assert!(before.can_overlap(&Conditions::default()));
    }
}
