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

/// Both ends set and different: no line can satisfy both.
fn excludes<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x != y)
}

impl Conditions {
    /// Whether the rule has a start or an end date.
    pub fn has_date_bound(&self) -> bool {
        self.valid_from.is_some() || self.valid_to.is_some()
    }

    /// P-3: the number of conditions set among customer type, billing category, company
    /// member, pricing group and other product, plus 1 when the rule has any date bound.
    /// The most specific matching rule wins.
    pub fn specificity(&self) -> u8 {
        u8::from(self.customer_type.is_some())
            + u8::from(self.billing_category.is_some())
            + u8::from(self.company_member.is_some())
            + u8::from(self.pricing_group.is_some())
            + u8::from(self.with_product.is_some())
            + u8::from(self.has_date_bound())
    }

    /// P-4: whether the rule is in force on `as_of`; both ends inclusive.
    pub fn in_force(&self, as_of: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= as_of) && self.valid_to.is_none_or(|t| as_of <= t)
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
    }

    /// Whether the two date ranges share at least one day (open ends extend forever).
    pub fn dates_overlap(&self, other: &Conditions) -> bool {
        let start = self.valid_from.max(other.valid_from);
        let end = match (self.valid_to, other.valid_to) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (start, end) {
            (Some(s), Some(e)) => s <= e,
            _ => true,
        }
    }

    /// P-3: whether one invoice line could satisfy both rules. It cannot when both name a
    /// different customer type, billing category or company-member value, or when their date
    /// ranges do not overlap. Different pricing groups or other products can both hold: a
    /// contact may be in two groups and an invoice may hold both products.
    pub fn can_overlap(&self, other: &Conditions) -> bool {
        !excludes(&self.customer_type, &other.customer_type)
            && !excludes(&self.billing_category, &other.billing_category)
            && !excludes(&self.company_member, &other.company_member)
            && self.dates_overlap(other)
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
}
