//! The worked examples of DOMAIN.md section 13, loaded through the same operations that the
//! API uses. Each example is one association; load each into its own database.

mod common;
mod library;
pub mod members;
mod terms;

pub use common::Loaded;
use common::{set_defaults, ty};

use chrono::NaiveDate;

use crate::committees::{self, CommitteeKind, NewCommittee, NewTerm};
use crate::contacts::{self, ContactView, NewContact};
use crate::customer_types::{self, NewCustomerType, PrimaryFee};
use crate::error::{Error, Result};
use crate::pricing::{self, Conditions, NewRule};
use crate::products::{self, NewProduct, ProductType};
use crate::{billing_categories, db::Db};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Example {
    /// E-1: doctors' association, individual members.
    Doctors,
    /// E-2: college association, organization members with flow-down.
    Colleges,
    /// E-3: multi-year associate membership with tax companions.
    MultiYear,
    /// E-4: the rejoin window, both ways.
    Rejoin,
    /// E-5: library association with divisions, sections and over 900 pricing rules.
    Library,
}

impl Example {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "e1" | "e-1" | "doctors" => Some(Example::Doctors),
            "e2" | "e-2" | "colleges" => Some(Example::Colleges),
            "e3" | "e-3" | "multi-year" => Some(Example::MultiYear),
            "e4" | "e-4" | "rejoin" => Some(Example::Rejoin),
            "e5" | "e-5" | "library" => Some(Example::Library),
            _ => None,
        }
    }
}

fn person(
    ty: &str,
    cat: Option<&str>,
    first: &str,
    last: &str,
    company: Option<i64>,
) -> NewContact {
    NewContact {
        customer_type: ty.into(),
        billing_category: cat.map(Into::into),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        email: Some(format!(
            "{}.{}@example.org",
            first.to_lowercase(),
            last.to_lowercase()
        )),
        company_id: company,
        ..Default::default()
    }
}

fn org(ty: &str, cat: Option<&str>, name: &str) -> NewContact {
    NewContact {
        customer_type: ty.into(),
        billing_category: cat.map(Into::into),
        organization_name: Some(name.into()),
        ..Default::default()
    }
}

async fn add(db: &Db, loaded: &mut Loaded, c: NewContact) -> Result<ContactView> {
    loaded.contacts += 1;
    contacts::create(db, c).await
}

async fn categories(db: &Db, list: &[(&str, &str)]) -> Result<()> {
    for (code, name) in list {
        billing_categories::TABLE.create(db, code, name).await?;
    }
    Ok(())
}

/// BC-2: the prices of one customer type by billing category, as pricing rules (P-3).
async fn category_prices(
    db: &Db,
    product: &str,
    customer_type: &str,
    prices: &[(&str, i64)],
) -> Result<()> {
    let rules = prices
        .iter()
        .map(|(category, cents)| NewRule {
            product: product.into(),
            price_cents: *cents,
            conditions: Conditions {
                customer_type: Some(customer_type.into()),
                billing_category: Some((*category).into()),
                ..Default::default()
            },
            priority: 0,
        })
        .collect();
    pricing::create_many(db, rules).await?;
    Ok(())
}

/// Each example is a whole association: it goes into a database with no customer types of
/// its own yet (only the seeded defaults), so examples never mix.
pub async fn load(db: &Db, example: Example) -> Result<Loaded> {
    let own_types = customer_types::all(&db.conn)
        .await?
        .into_iter()
        .filter(|t| !crate::bootstrap::SEEDED_TYPES.contains(&t.code.as_str()))
        .count();
    if own_types > 0 {
        return Err(Error::conflict(
            "this database already holds an association's customer types: each example is its own association; load it into a fresh database",
        ));
    }
    match example {
        Example::Doctors => doctors(db).await,
        Example::Colleges => colleges(db).await,
        Example::MultiYear => terms::multi_year(db).await,
        Example::Rejoin => terms::rejoin(db).await,
        Example::Library => library::load(db).await,
    }
}

/// E-1. Category prices (REG 500, FYEAR 100, INTL 200) are pricing rules on the dues product.
async fn doctors(db: &Db) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    categories(
        db,
        &[
            ("REG", "Regular"),
            ("FYEAR", "First year"),
            ("INTL", "International"),
        ],
    )
    .await?;
    products::create(
        db,
        NewProduct {
            code: "MDUES".into(),
            name: "Doctor membership dues".into(),
            product_type: ProductType::Dues,
            price_cents: 50_000,
            term_months: Some(12),
            active: Some(true),
        },
    )
    .await?;
    customer_types::create(db, ty("NM", "Non-member", false, false)).await?;
    customer_types::create(db, ty("HOSP", "Hospital", false, true)).await?;
    customer_types::create(
        db,
        NewCustomerType {
            primary_fee: Some(PrimaryFee::Products(vec!["MDUES".into()])),
            expires_to: Some("NM".into()),
            ..ty("M", "Member", true, false)
        },
    )
    .await?;
    loaded.customer_types = 3;
    category_prices(
        db,
        "MDUES",
        "M",
        &[("REG", 50_000), ("FYEAR", 10_000), ("INTL", 20_000)],
    )
    .await?;
    set_defaults(db, "NM", "HOSP").await?;
    let mary = add(db, &mut loaded, org("HOSP", None, "St. Mary's Hospital")).await?;
    let general = add(db, &mut loaded, org("HOSP", None, "General Hospital")).await?;
    let m = Some(mary.contact.id);
    let g = Some(general.contact.id);
    let ana = add(db, &mut loaded, person("M", Some("REG"), "Ana", "Silva", m)).await?;
    let ben = add(
        db,
        &mut loaded,
        person("M", Some("FYEAR"), "Ben", "Okafor", m),
    )
    .await?;
    let chen = add(db, &mut loaded, person("M", Some("INTL"), "Chen", "Wei", g)).await?;
    let dana = add(db, &mut loaded, person("NM", None, "Dana", "Kowalski", g)).await?;
    let ids = [&ana, &ben, &chen, &dana].map(|c| c.contact.id);
    dues(db, &mut loaded, [ids[0], ids[1], ids[2]], mary.contact.id).await?;
    board(db, &mut loaded, ids).await?;
    Ok(loaded)
}

/// The members' dues, paid through 2026; St. Mary's Hospital pays Ben Okafor's (S-10:
/// renewals bill it to the hospital).
async fn dues(db: &Db, loaded: &mut Loaded, [ana, ben, chen]: [i64; 3], mary: i64) -> Result<()> {
    let row = |contact: i64, bill_to: i64| {
        serde_json::json!({"contact_id": contact, "product": "MDUES", "bill_to_id": bill_to,
            "is_membership_component": true, "bill_subscription": true,
            "begin_date": "2026-01-01", "paid_through": "2026-12-31", "accounting_method": "accrual",
            "source_code": "demo"})
    };
    let rows = vec![row(ana, ana), row(ben, mary), row(chen, chen)];
    let report = crate::subscriptions::import::run(
        db,
        crate::subscriptions::plan::Action::Insert,
        crate::subscriptions::import::Mode::AllOrNothing,
        crate::subscriptions::input::parse_json_rows(rows, &Default::default())?,
    )
    .await?;
    loaded.subscriptions += report.applied;
    Ok(())
}

/// C-8: the board, chaired by Ana Silva with Ben Okafor and Chen Wei; Dana Kowalski's term
/// ended in 2024, so her service is history.
async fn board(db: &Db, loaded: &mut Loaded, [ana, ben, chen, dana]: [i64; 4]) -> Result<()> {
    let board = committees::create(
        db,
        NewCommittee {
            name: "Board of Directors".into(),
            kind: Some(CommitteeKind::Board),
            description: Some("Elected at the annual general meeting".into()),
            active: Some(true),
        },
    )
    .await?;
    loaded.committees += 1;
    let date = |y, m, d| {
        NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| Error::Internal("demo date".into()))
    };
    // The current board serves until the next election, which ends its terms.
    let terms = [
        (ana, "chair", date(2025, 1, 1)?, None),
        (ben, "treasurer", date(2025, 1, 1)?, None),
        (chen, "member", date(2025, 1, 1)?, None),
        (dana, "member", date(2022, 1, 1)?, Some(date(2024, 12, 31)?)),
    ];
    for (contact_id, position, begin, end) in terms {
        let term = NewTerm {
            contact_id,
            position: position.into(),
            begin: Some(begin),
            end,
        };
        committees::add_member(db, board.id, term).await?;
    }
    Ok(())
}

/// E-2. `M` colleges pay by category (RES 500, LA 300, CC 200); their staff flow down to
/// `MIND`, staff of non-member colleges to `NMIND`.
async fn colleges(db: &Db) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    categories(
        db,
        &[
            ("RES", "Research university"),
            ("LA", "Liberal arts college"),
            ("CC", "Community college"),
        ],
    )
    .await?;
    products::create(
        db,
        NewProduct {
            code: "CDUES".into(),
            name: "College membership dues".into(),
            product_type: ProductType::Dues,
            price_cents: 50_000,
            term_months: Some(12),
            active: Some(true),
        },
    )
    .await?;
    loaded.customer_types = college_types(db).await?;
    category_prices(
        db,
        "CDUES",
        "M",
        &[("RES", 50_000), ("LA", 30_000), ("CC", 20_000)],
    )
    .await?;
    set_defaults(db, "NMIND", "NM").await?;
    college_contacts(db, &mut loaded).await?;
    Ok(loaded)
}

/// CT-6: member colleges (`M`) flow down to `MIND`, non-member ones (`NM`) to `NMIND`; a
/// college that lapses becomes `NM`, its staff `NMIND`. Returns how many types it created.
async fn college_types(db: &Db) -> Result<usize> {
    customer_types::create(
        db,
        ty("NMIND", "Individual at non-member college", false, false),
    )
    .await?;
    customer_types::create(
        db,
        NewCustomerType {
            expires_to: Some("NMIND".into()),
            ..ty("MIND", "Individual at member college", true, false)
        },
    )
    .await?;
    customer_types::create(
        db,
        NewCustomerType {
            flow_down_type: Some("NMIND".into()),
            ..ty("NM", "Non-member college", false, true)
        },
    )
    .await?;
    customer_types::create(
        db,
        NewCustomerType {
            primary_fee: Some(PrimaryFee::Products(vec!["CDUES".into()])),
            expires_to: Some("NM".into()),
            flow_down_type: Some("MIND".into()),
            ..ty("M", "Member college", true, true)
        },
    )
    .await?;
    Ok(4)
}

/// The colleges, then one staff person of each.
async fn college_contacts(db: &Db, loaded: &mut Loaded) -> Result<()> {
    let mut colleges = Vec::new();
    for (ty, cat, name) in [
        ("M", Some("RES"), "Northfield University"),
        ("M", Some("LA"), "Hillside College"),
        ("M", Some("CC"), "Valley Community College"),
        ("NM", None, "Lakeshore Institute"),
    ] {
        colleges.push(add(db, loaded, org(ty, cat, name)).await?.contact.id);
    }
    // Staff are created as non-members; flow-down gives them their college's type.
    let staff = [
        ("Eve", "Moreau"),
        ("Farid", "Haddad"),
        ("Grace", "Liu"),
        ("Hugo", "Berg"),
    ];
    for ((first, last), college) in staff.into_iter().zip(colleges) {
        add(
            db,
            loaded,
            person("NMIND", None, first, last, Some(college)),
        )
        .await?;
    }
    Ok(())
}
