//! P-3..P-5: the price book. Loaded once (one query for products, one for rules), then every
//! quote is answered in memory by scanning only that product's rules, which are kept sorted
//! most specific first, then highest priority first: the first rule that matches wins.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use entity::pricing_rule as pr;
use entity::product as p;

use super::conditions::{Buyer, Rule};
use crate::error::Result;
use crate::products::TAX_SUFFIX;

/// What the price book needs of a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPrice {
    pub code: String,
    /// The default price (no rule matches).
    pub price_cents: i64,
    pub active: bool,
}

/// The price of one line and the rule that decided it (`None`: the product's default price).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub product: String,
    pub price_cents: i64,
    pub rule_id: Option<i64>,
}

#[derive(Debug, Clone)]
struct Entry {
    price_cents: i64,
    /// Sorted: specificity descending, then priority descending, then id.
    rules: Vec<Rule>,
    /// P-5: the active `X_GST` product of this product `X`, if any.
    companion: Option<String>,
}

/// Every product's default price and pricing rules, for quoting without the database.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    products: HashMap<String, Entry>,
}

impl PriceBook {
    /// Builds a book from products and rules; rules of unknown products are ignored.
    pub fn from_parts(
        products: impl IntoIterator<Item = ProductPrice>,
        rules: impl IntoIterator<Item = Rule>,
    ) -> Self {
        let products: Vec<ProductPrice> = products.into_iter().collect();
        let mut map: HashMap<String, Entry> = HashMap::with_capacity(products.len());
        for prod in &products {
            map.insert(
                prod.code.clone(),
                Entry {
                    price_cents: prod.price_cents,
                    rules: Vec::new(),
                    companion: None,
                },
            );
        }
        // P-5: `X_GST` is the tax line of `X` when it is active.
        for prod in products.iter().filter(|p| p.active) {
            if let Some(base) = prod.code.strip_suffix(TAX_SUFFIX)
                && let Some(entry) = map.get_mut(base)
            {
                entry.companion = Some(prod.code.clone());
            }
        }
        for rule in rules {
            if let Some(entry) = map.get_mut(&rule.product) {
                entry.rules.push(rule);
            }
        }
        for entry in map.values_mut() {
            entry.rules.sort_by_cached_key(|r| {
                (
                    std::cmp::Reverse(r.conditions.specificity()),
                    std::cmp::Reverse(r.priority),
                    r.id,
                )
            });
        }
        PriceBook { products: map }
    }

    /// Loads every product and every rule: two queries, whatever their number.
    pub async fn load(conn: &impl ConnectionTrait) -> Result<Self> {
        let products = p::Entity::find()
            .select_only()
            .columns([p::Column::Code, p::Column::PriceCents, p::Column::Active])
            .into_tuple::<(String, i64, bool)>()
            .all(conn)
            .await?;
        let rules = pr::Entity::find().all(conn).await?;
        Ok(Self::from_parts(
            products.into_iter().map(product_price),
            rules.into_iter().map(Rule::from),
        ))
    }

    /// Loads only the named products, their tax companions, and their rules: for quoting a
    /// few products (the price endpoint) without reading the whole book.
    pub async fn load_for(conn: &impl ConnectionTrait, codes: &[String]) -> Result<Self> {
        let mut wanted: Vec<String> = Vec::with_capacity(codes.len() * 2);
        for c in codes {
            wanted.push(c.clone());
            wanted.push(format!("{c}{TAX_SUFFIX}"));
        }
        let products = p::Entity::find()
            .select_only()
            .columns([p::Column::Code, p::Column::PriceCents, p::Column::Active])
            .filter(p::Column::Code.is_in(wanted.iter().cloned()))
            .into_tuple::<(String, i64, bool)>()
            .all(conn)
            .await?;
        let rules = pr::Entity::find()
            .filter(pr::Column::Product.is_in(wanted))
            .all(conn)
            .await?;
        Ok(Self::from_parts(
            products.into_iter().map(product_price),
            rules.into_iter().map(Rule::from),
        ))
    }

    /// Whether the book knows the product.
    pub fn contains(&self, product: &str) -> bool {
        self.products.contains_key(product)
    }

    /// The product's rules, most specific first, then highest priority first.
    pub fn rules_of(&self, product: &str) -> &[Rule] {
        self.products
            .get(product)
            .map(|e| e.rules.as_slice())
            .unwrap_or(&[])
    }

    /// P-3, P-4: the price of `product` for `buyer` on `as_of`, on an invoice that also holds
    /// the products `with`. The most specific matching rule wins; equal specificity goes to
    /// the higher priority; no matching rule gives the product's default price. `None` only
    /// for an unknown product.
    pub fn quote(
        &self,
        product: &str,
        buyer: &Buyer,
        as_of: NaiveDate,
        with: &[String],
    ) -> Option<Quote> {
        let (code, entry) = self.products.get_key_value(product)?;
        let rule = entry
            .rules
            .iter()
            .find(|r| r.conditions.matches(buyer, as_of, with));
        Some(Quote {
            product: code.clone(),
            price_cents: rule.map_or(entry.price_cents, |r| r.price_cents),
            rule_id: rule.map(|r| r.id),
        })
    }

    /// P-5: the tax line `X_GST` that goes with product `X`, when `X_GST` exists and is active.
    pub fn tax_companion(&self, product: &str) -> Option<&str> {
        self.products.get(product)?.companion.as_deref()
    }
}

fn product_price((code, price_cents, active): (String, i64, bool)) -> ProductPrice {
    ProductPrice {
        code,
        price_cents,
        active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::conditions::Conditions;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn product(code: &str, cents: i64) -> ProductPrice {
        ProductPrice {
            code: code.into(),
            price_cents: cents,
            active: true,
        }
    }

    fn rule(id: i64, product: &str, cents: i64, priority: i32, c: Conditions) -> Rule {
        Rule {
            id,
            product: product.into(),
            price_cents: cents,
            conditions: c,
            priority,
        }
    }

    fn buyer(ty: &str, cat: Option<&str>) -> Buyer {
        Buyer {
            customer_type: Some(ty.into()),
            billing_category: cat.map(Into::into),
            company_member: false,
            groups: Vec::new(),
            join_date: None,
        }
    }

    fn type_cat(ty: &str, cat: &str) -> Conditions {
        Conditions {
            customer_type: Some(ty.into()),
            billing_category: Some(cat.into()),
            ..Default::default()
        }
    }

    const TODAY: &str = "2026-06-15";

    /// E-1: `M` categories REG 500, FYEAR 100, INTL 200, as rules on the dues product.
    fn doctors() -> PriceBook {
        PriceBook::from_parts(
            [product("MDUES", 60_000)],
            [
                rule(1, "MDUES", 50_000, 0, type_cat("M", "REG")),
                rule(2, "MDUES", 10_000, 0, type_cat("M", "FYEAR")),
                rule(3, "MDUES", 20_000, 0, type_cat("M", "INTL")),
                rule(
                    4,
                    "MDUES",
                    55_000,
                    0,
                    Conditions {
                        customer_type: Some("M".into()),
                        ..Default::default()
                    },
                ),
            ],
        )
    }

    #[test]
    fn p3_e1_category_prices_and_more_conditions_beat_fewer() {
        let book = doctors();
        let q = |cat| {
            book.quote("MDUES", &buyer("M", cat), d(TODAY), &[])
                .unwrap()
        };
        assert_eq!(
            (q(Some("REG")).price_cents, q(Some("REG")).rule_id),
            (50_000, Some(1))
        );
        assert_eq!(q(Some("FYEAR")).price_cents, 10_000);
        assert_eq!(q(Some("INTL")).price_cents, 20_000);
        // Only the type rule (fewer conditions) matches an M without category.
        assert_eq!((q(None).price_cents, q(None).rule_id), (55_000, Some(4)));
    }

    #[test]
    fn p3_default_price_when_no_rule_matches() {
        let book = doctors();
        let q = book
            .quote("MDUES", &buyer("NM", Some("REG")), d(TODAY), &[])
            .unwrap();
        assert_eq!(q.price_cents, 60_000);
        assert_eq!(q.rule_id, None);
        assert_eq!(q.product, "MDUES");
        assert!(
            book.quote("NOPE", &buyer("M", None), d(TODAY), &[])
                .is_none()
        );
    }

    #[test]
    fn p3_priority_breaks_equal_specificity() {
        let by_type = Conditions {
            customer_type: Some("M".into()),
            ..Default::default()
        };
        let by_cat = Conditions {
            billing_category: Some("REG".into()),
            ..Default::default()
        };
        let book = PriceBook::from_parts(
            [product("D", 100)],
            [
                rule(1, "D", 200, 0, by_type.clone()),
                rule(2, "D", 300, 5, by_cat.clone()),
            ],
        );
        let q = book
            .quote("D", &buyer("M", Some("REG")), d(TODAY), &[])
            .unwrap();
        assert_eq!((q.price_cents, q.rule_id), (300, Some(2)));
        let book = PriceBook::from_parts(
            [product("D", 100)],
            [rule(1, "D", 200, 9, by_type), rule(2, "D", 300, 5, by_cat)],
        );
        let q = book
            .quote("D", &buyer("M", Some("REG")), d(TODAY), &[])
            .unwrap();
        assert_eq!((q.price_cents, q.rule_id), (200, Some(1)));
    }

    #[test]
    fn p3_priority_never_beats_specificity() {
        let book = PriceBook::from_parts(
            [product("D", 100)],
            [
                rule(
                    1,
                    "D",
                    200,
                    100,
                    Conditions {
                        customer_type: Some("M".into()),
                        ..Default::default()
                    },
                ),
                rule(2, "D", 300, 0, type_cat("M", "REG")),
            ],
        );
        let q = book
            .quote("D", &buyer("M", Some("REG")), d(TODAY), &[])
            .unwrap();
        assert_eq!(q.rule_id, Some(2));
    }

    #[test]
    fn p3_with_product_bundle_applies_only_when_the_other_product_is_on_the_invoice() {
        let book = PriceBook::from_parts(
            [product("SECTION", 4_000), product("DIVISION", 6_000)],
            [rule(
                1,
                "SECTION",
                2_500,
                0,
                Conditions {
                    with_product: Some("DIVISION".into()),
                    ..Default::default()
                },
            )],
        );
        let b = buyer("M", None);
        let alone = book.quote("SECTION", &b, d(TODAY), &[]).unwrap();
        assert_eq!(alone.price_cents, 4_000);
        let other = book
            .quote("SECTION", &b, d(TODAY), &["JOURNAL".to_owned()])
            .unwrap();
        assert_eq!(other.price_cents, 4_000);
        let bundled = book
            .quote(
                "SECTION",
                &b,
                d(TODAY),
                &["JOURNAL".to_owned(), "DIVISION".to_owned()],
            )
            .unwrap();
        assert_eq!((bundled.price_cents, bundled.rule_id), (2_500, Some(1)));
    }

    #[test]
    fn p3_company_pricing_for_persons_linked_to_member_organizations() {
        let book = PriceBook::from_parts(
            [product("D", 10_000)],
            [
                rule(
                    1,
                    "D",
                    7_500,
                    0,
                    Conditions {
                        company_member: Some(true),
                        ..Default::default()
                    },
                ),
                rule(
                    2,
                    "D",
                    9_900,
                    0,
                    Conditions {
                        company_member: Some(false),
                        ..Default::default()
                    },
                ),
            ],
        );
        let mut b = buyer("NM", None);
        assert_eq!(book.quote("D", &b, d(TODAY), &[]).unwrap().rule_id, Some(2));
        b.company_member = true;
        let q = book.quote("D", &b, d(TODAY), &[]).unwrap();
        assert_eq!((q.price_cents, q.rule_id), (7_500, Some(1)));
    }

    #[test]
    fn p3_group_pricing_for_members_of_a_pricing_group() {
        let book = PriceBook::from_parts(
            [product("D", 10_000)],
            [rule(
                1,
                "D",
                8_000,
                0,
                Conditions {
                    pricing_group: Some("CONSORT".into()),
                    ..Default::default()
                },
            )],
        );
        let mut b = buyer("M", None);
        b.groups = vec!["OTHER".into()];
        assert_eq!(
            book.quote("D", &b, d(TODAY), &[]).unwrap().price_cents,
            10_000
        );
        b.groups.push("CONSORT".into());
        assert_eq!(
            book.quote("D", &b, d(TODAY), &[]).unwrap().price_cents,
            8_000
        );
    }

    #[test]
    fn p4_date_ranges_are_inclusive_at_both_ends() {
        let book = PriceBook::from_parts(
            [product("D", 10_000)],
            [rule(
                1,
                "D",
                9_000,
                0,
                Conditions {
                    valid_from: Some(d("2026-01-01")),
                    valid_to: Some(d("2026-03-31")),
                    ..Default::default()
                },
            )],
        );
        let b = buyer("M", None);
        let at = |s| book.quote("D", &b, d(s), &[]).unwrap().price_cents;
        assert_eq!(at("2025-12-31"), 10_000);
        assert_eq!(at("2026-01-01"), 9_000);
        assert_eq!(at("2026-03-31"), 9_000);
        assert_eq!(at("2026-04-01"), 10_000);
    }

    #[test]
    fn p4_a_future_dated_price_applies_from_its_date_only() {
        // The M price rises from 500 to 550 on 2027-01-01: a preview for 2027 uses 550, an
        // invoice priced today keeps 500.
        let book = PriceBook::from_parts(
            [product("MDUES", 60_000)],
            [
                rule(
                    1,
                    "MDUES",
                    50_000,
                    0,
                    Conditions {
                        customer_type: Some("M".into()),
                        ..Default::default()
                    },
                ),
                rule(
                    2,
                    "MDUES",
                    55_000,
                    0,
                    Conditions {
                        customer_type: Some("M".into()),
                        valid_from: Some(d("2027-01-01")),
                        ..Default::default()
                    },
                ),
            ],
        );
        let b = buyer("M", None);
        assert_eq!(
            book.quote("MDUES", &b, d("2026-12-31"), &[])
                .unwrap()
                .rule_id,
            Some(1)
        );
        let q = book.quote("MDUES", &b, d("2027-01-01"), &[]).unwrap();
        assert_eq!((q.price_cents, q.rule_id), (55_000, Some(2)));
    }

    #[test]
    fn p5_tax_companion_only_when_it_exists_and_is_active() {
        let book = PriceBook::from_parts(
            [
                product("AM_1", 10_000),
                product("AM_1_GST", 500),
                product("AM_2", 19_000),
                ProductPrice {
                    code: "AM_2_GST".into(),
                    price_cents: 950,
                    active: false,
                },
                product("AM_3", 27_000),
            ],
            [],
        );
        assert_eq!(book.tax_companion("AM_1"), Some("AM_1_GST"));
        assert_eq!(book.tax_companion("AM_2"), None, "inactive companion");
        assert_eq!(book.tax_companion("AM_3"), None, "no companion");
        assert_eq!(book.tax_companion("AM_1_GST"), None);
        assert_eq!(book.tax_companion("NOPE"), None);
    }

    #[test]
    fn p3_rules_are_kept_most_specific_first_then_by_priority() {
        let book = doctors();
        let order: Vec<i64> = book.rules_of("MDUES").iter().map(|r| r.id).collect();
        assert_eq!(order, vec![1, 2, 3, 4]);
        assert!(book.rules_of("NOPE").is_empty());
        assert!(book.contains("MDUES"));
    }
}
