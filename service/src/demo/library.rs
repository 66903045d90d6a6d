//! E-5: a library association in the style of the one described in the source documents:
//! student, regular, retired and support-staff members; divisions, their sections and round
//! tables, whose prices depend on the member type, the billing category and what else is on
//! the invoice (P-3). Over a thousand pricing rules, all saved in one transaction.

use serde_json::{Value, json};

use crate::contacts::{self, NewContact};
use crate::customer_types::{self, NewCustomerType, PrimaryFee};
use crate::error::Result;
use crate::pricing::{self, Conditions, NewRule, groups};
use crate::products::{self, NewProduct, ProductType};
use crate::subscriptions::{import, input, plan::Action};
use crate::{billing_categories, db::Db};

use super::common::{Loaded, product, rule, set_defaults, ty};

/// Member types: code, name, dues in cents, division base price in cents.
const MEMBER_TYPES: [(&str, &str, i64, i64); 4] = [
    ("REG", "Regular member", 14_000, 6_000),
    ("STU", "Student member", 3_800, 1_500),
    ("RET", "Retired member", 7_100, 3_500),
    ("SUP", "Support staff member", 5_000, 2_500),
];

/// Billing categories and the share of the standard price each pays, in percent.
const CATEGORIES: [(&str, &str, i64); 4] = [
    ("STD", "Standard", 100),
    ("FIRSTYR", "First year after graduation", 70),
    ("INTL", "International", 90),
    ("LOWINC", "Low income", 50),
];

const DIVISIONS: [(&str, &str); 11] = [
    ("AASL", "School librarians"),
    ("ACRL", "College and research libraries"),
    ("ALCTS", "Collections and technical services"),
    ("ALSC", "Library service to children"),
    ("ASCLA", "Specialized and cooperative agencies"),
    ("LITA", "Library and information technology"),
    ("LLAMA", "Leadership and management"),
    ("PLA", "Public libraries"),
    ("RUSA", "Reference and user services"),
    ("UNITED", "Trustees, advocates, friends and foundations"),
    ("YALSA", "Young adult library services"),
];

const SECTIONS_PER_DIVISION: usize = 6;

const ROUND_TABLES: [&str; 20] = [
    "ERT", "EMIERT", "FMRT", "GAMERT", "GODORT", "IFRT", "IRRT", "LHRT", "LIRT", "LLRT", "LRRT",
    "MAGIRT", "NMRT", "RMRT", "SRRT", "SORT", "SSRT", "RRT", "TRRT", "EBRT",
];

fn pct(cents: i64, percent: i64) -> i64 {
    // Whole dollars: prices are published as round figures.
    (cents * percent / 100 + 50) / 100 * 100
}

fn when(customer_type: &str, category: Option<&str>) -> Conditions {
    Conditions {
        customer_type: Some(customer_type.into()),
        billing_category: category.map(Into::into),
        ..Default::default()
    }
}

fn dues_code(member_type: &str) -> String {
    format!("DUES_{member_type}")
}

fn section_code(division: &str, n: usize) -> String {
    format!("SEC_{division}_{n}")
}

/// Every product and pricing rule of the example.
fn catalogue() -> (Vec<NewProduct>, Vec<NewRule>) {
    let mut c = Catalogue::default();
    for (code, name, dues, _) in MEMBER_TYPES {
        c.dues(code, name, dues);
    }
    for (i, (div, name)) in DIVISIONS.iter().enumerate() {
        let div_code = c.division(i, div, name);
        for n in 1..=SECTIONS_PER_DIVISION {
            c.section(div, &div_code, n);
        }
    }
    for (i, rt) in ROUND_TABLES.iter().enumerate() {
        c.round_table(i, rt);
    }
    (c.products, c.rules)
}

/// The products and rules, in the order they are created.
#[derive(Default)]
struct Catalogue {
    products: Vec<NewProduct>,
    rules: Vec<NewRule>,
}

impl Catalogue {
    /// A member type's dues, priced by category.
    fn dues(&mut self, code: &str, name: &str, dues: i64) {
        self.products.push(product(
            dues_code(code),
            format!("{name} dues"),
            ProductType::Dues,
            dues,
        ));
        for (cat, _, share) in CATEGORIES {
            self.rules.push(rule(
                dues_code(code),
                pct(dues, share),
                when(code, Some(cat)),
                0,
            ));
        }
    }

    /// The `i`th division, priced by member type and category; returns its code.
    fn division(&mut self, i: usize, div: &str, name: &str) -> String {
        let div_code = format!("DIV_{div}");
        let spread = 500 * (i as i64 % 4);
        self.products.push(product(
            div_code.clone(),
            format!("{div}: {name}"),
            ProductType::Section,
            6_500 + spread,
        ));
        for (mt, _, _, base) in MEMBER_TYPES {
            for (cat, _, share) in CATEGORIES {
                self.rules.push(rule(
                    &div_code,
                    pct(base + spread, share),
                    when(mt, Some(cat)),
                    0,
                ));
            }
        }
        // A consortium of libraries negotiated a flat division price for its regular members;
        // it outranks the category prices.
        self.rules.push(rule(
            &div_code,
            4_000,
            Conditions {
                customer_type: Some("REG".into()),
                pricing_group: Some("CONSORT".into()),
                ..Default::default()
            },
            10,
        ));
        div_code
    }

    /// Section `n` of a division: with its division on the same invoice a section costs
    /// little (free for students); alone it costs more.
    fn section(&mut self, div: &str, div_code: &str, n: usize) {
        let sec = section_code(div, n);
        self.products.push(product(
            sec.clone(),
            format!("{div} section {n}"),
            ProductType::Section,
            2_500,
        ));
        for (mt, _, _, base) in MEMBER_TYPES {
            let bundled = if mt == "STU" { 0 } else { base / 10 };
            self.rules.push(rule(
                &sec,
                bundled,
                Conditions {
                    customer_type: Some(mt.into()),
                    with_product: Some(div_code.to_owned()),
                    ..Default::default()
                },
                0,
            ));
            self.rules.push(rule(&sec, base / 3, when(mt, None), 0));
        }
    }

    /// The `i`th round table, half price for students, by category.
    fn round_table(&mut self, i: usize, rt: &str) {
        let code = format!("RT_{rt}");
        let base = 1_500 + 500 * (i as i64 % 5);
        self.products.push(product(
            code.clone(),
            format!("{rt} round table"),
            ProductType::Section,
            base + 1_000,
        ));
        for (mt, _, _, _) in MEMBER_TYPES {
            let by_type = if mt == "STU" { base / 2 } else { base };
            for (cat, _, share) in CATEGORIES {
                self.rules
                    .push(rule(&code, pct(by_type, share), when(mt, Some(cat)), 0));
            }
        }
    }
}

pub(super) async fn load(db: &Db) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    for (code, name, _) in CATEGORIES {
        billing_categories::TABLE.create(db, code, name).await?;
    }
    let (products_list, rules) = catalogue();
    for p in products_list {
        products::create(db, p).await?;
    }
    loaded.customer_types = create_types(db).await?;
    set_defaults(db, "NM", "LIB").await?;
    groups::TABLE
        .create(db, "CONSORT", "Regional library consortium")
        .await?;
    loaded.pricing_rules = rules.len();
    pricing::create_many(db, rules).await?;

    let (ids, rows) = members(db, &mut loaded).await?;
    let parsed = input::parse_json_rows(rows, &Default::default())?;
    let report = import::run(db, Action::Insert, import::Mode::AllOrNothing, parsed).await?;
    loaded.subscriptions = report.applied;
    // Every fifth regular member's library belongs to the consortium.
    let consortium: Vec<i64> = ids.iter().copied().step_by(20).collect();
    groups::add_members(db, "CONSORT", &consortium).await?;
    Ok(loaded)
}

/// `NM`, `LIB` and the member types, each with its dues as primary fee. Returns how many.
async fn create_types(db: &Db) -> Result<usize> {
    customer_types::create(db, ty("NM", "Non-member", false, false)).await?;
    customer_types::create(db, ty("LIB", "Library (institution)", false, true)).await?;
    for (code, name, _, _) in MEMBER_TYPES {
        customer_types::create(
            db,
            NewCustomerType {
                primary_fee: Some(PrimaryFee::Products(vec![dues_code(code)])),
                expires_to: Some("NM".into()),
                ..ty(code, name, true, false)
            },
        )
        .await?;
    }
    Ok(2 + MEMBER_TYPES.len())
}

/// Members: every type and category, with a membership, a division and some sections.
/// Returns their ids and their subscriptions as import rows.
async fn members(db: &Db, loaded: &mut Loaded) -> Result<(Vec<i64>, Vec<Value>)> {
    let mut ids = Vec::new();
    let mut rows = Vec::new();
    for i in 0..120usize {
        let (mt, _, _, _) = MEMBER_TYPES[i % MEMBER_TYPES.len()];
        let (cat, _, _) = CATEGORIES[(i / MEMBER_TYPES.len()) % CATEGORIES.len()];
        let first = format!("Member{i:03}");
        let contact = contacts::create(
            db,
            NewContact {
                customer_type: mt.into(),
                billing_category: Some(cat.into()),
                first_name: Some(first.clone()),
                last_name: Some("Reader".into()),
                email: Some(format!("{}@library.example.org", first.to_lowercase())),
                external_ref: Some(format!("LIB-{i:05}")),
                ..Default::default()
            },
        )
        .await?;
        loaded.contacts += 1;
        let id = contact.contact.id;
        ids.push(id);
        let (div, _) = DIVISIONS[i % DIVISIONS.len()];
        let paid_through = format!("{}-12-31", 2025 + (i % 3));
        rows.push(
            json!({"contact_id": id, "product": dues_code(mt), "is_membership_component": true,
            "bill_subscription": true, "begin_date": "2024-01-01", "paid_through": paid_through,
            "source_code": "demo"}),
        );
        rows.push(
            json!({"contact_id": id, "product": format!("DIV_{div}"), "begin_date": "2024-01-01",
            "paid_through": paid_through, "source_code": "demo"}),
        );
        for n in 1..=(i % 3) {
            rows.push(json!({"contact_id": id, "product": section_code(div, n),
                "begin_date": "2024-01-01", "paid_through": paid_through, "source_code": "demo"}));
        }
    }
    Ok((ids, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn e5_has_over_900_rules_on_known_products() {
        let (products, rules) = catalogue();
        assert!(rules.len() >= 900, "{}", rules.len());
        let codes: HashSet<&str> = products.iter().map(|p| p.code.as_str()).collect();
        assert!(rules.iter().all(|r| codes.contains(r.product.as_str())));
    }
}
