//! E-3 (multi-year associate membership) and E-4 (the rejoin window), billed and paid through
//! the same operations as the API.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::access::Actor;
use crate::billing::join::{self, CycleRef, JoinRequest};
use crate::billing::payments::{self, NewPayment};
use crate::billing_cycles::{self, CycleFields};
use crate::contacts::{self, NewContact};
use crate::customer_types::{self, NewCustomerType, PrimaryFee};
use crate::error::{Error, Result};
use crate::idempotency::Stored;
use crate::products::{self, NewProduct, ProductType};
use crate::settings::{self, BillingTime, Settings};
use crate::subscriptions::{import, input, plan::Action};
use crate::{billing_categories, db::Db};

use super::common::{Loaded, set_defaults, ty};

fn date(y: i32, m: u32, d: u32) -> Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| Error::Internal("bad demo date".into()))
}

fn product(code: &str, name: &str, t: ProductType, cents: i64, months: u32) -> NewProduct {
    NewProduct {
        code: code.into(),
        name: name.into(),
        product_type: t,
        price_cents: cents,
        term_months: Some(months),
        active: Some(true),
    }
}

fn person(first: &str, last: &str) -> NewContact {
    NewContact {
        customer_type: "NM".into(),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        email: Some(format!(
            "{}.{}@example.org",
            first.to_lowercase(),
            last.to_lowercase()
        )),
        ..Default::default()
    }
}

fn no_render<T>(_: &T) -> Stored {
    Stored {
        status: 200,
        body: String::new(),
    }
}

/// Joins and, when `pay` is set, pays the invoice in full.
async fn join_and_pay(
    db: &Db,
    contact: i64,
    req: JoinRequest,
    on: NaiveDate,
    pay: bool,
) -> Result<()> {
    let outcome = join::join(db, Actor::Staff, contact, req, on, None, no_render).await?;
    let crate::idempotency::Outcome::Done(joined) = outcome else {
        return Ok(());
    };
    if let (true, Some(inv)) = (pay, &joined.membership().invoice)
        && inv.balance() > 0
    {
        payments::pay(
            db,
            inv.invoice.id,
            NewPayment {
                amount_cents: inv.balance(),
                paid_on: on,
                method: "card".into(),
                reference: Some("demo".into()),
                recorded_by: None,
            },
            None,
            no_render,
        )
        .await?;
    }
    Ok(())
}

/// E-3's products: code, name, type, price in cents, term months.
const MULTI_YEAR_PRODUCTS: [(&str, &str, ProductType, i64, u32); 8] = [
    (
        "AM_1",
        "Associate membership, 1 year",
        ProductType::Dues,
        10_000,
        12,
    ),
    (
        "AM_2",
        "Associate membership, 2 years",
        ProductType::Dues,
        19_000,
        24,
    ),
    (
        "AM_3",
        "Associate membership, 3 years",
        ProductType::Dues,
        27_000,
        36,
    ),
    (
        "AM_1_GST",
        "GST on AM_1",
        ProductType::Miscellaneous,
        500,
        12,
    ),
    (
        "AM_2_GST",
        "GST on AM_2",
        ProductType::Miscellaneous,
        950,
        24,
    ),
    (
        "AM_3_GST",
        "GST on AM_3",
        ProductType::Miscellaneous,
        1_350,
        36,
    ),
    (
        "JOURNAL",
        "Associate journal",
        ProductType::Subscription,
        4_000,
        12,
    ),
    (
        "SCHOLARSHIP",
        "Scholarship fund gift",
        ProductType::Voluntary,
        2_500,
        12,
    ),
];

/// E-3: `AM_1`/`AM_2`/`AM_3` (12, 24, 36 months) with `_GST` companions, formula type `AM`,
/// one dues cycle with itemized renewals and join item set, all categories, and the primary
/// fee's term length. A 12-month journal under `AM_2` costs double; the scholarship gift not.
pub(super) async fn multi_year(db: &Db) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    billing_categories::TABLE
        .create(db, "REG", "Regular")
        .await?;
    for (code, name, t, cents, months) in MULTI_YEAR_PRODUCTS {
        products::create(db, product(code, name, t, cents, months)).await?;
    }
    loaded.customer_types = member_types(
        db,
        PrimaryFee::Formula {
            designator: "AM".into(),
            default_product: Some("AM_1".into()),
        },
        ("AM", "Associate member"),
    )
    .await?;
    set_defaults(db, "NM", "ORG").await?;
    let cycle = billing_cycles::create(
        db,
        CycleFields {
            name: "Associate membership".into(),
            membership: true,
            customer_types: vec!["AM".into()],
            products: vec!["JOURNAL".into(), "SCHOLARSHIP".into()],
            billing_time: Some(BillingTime::Anniversary),
            use_primary_fee_term_length: true,
            join_item_set: true,
            itemized_renewals: true,
            months_prior_to_expiration: 2,
            ..Default::default()
        },
    )
    .await?;
    multi_year_joins(db, cycle.id, &mut loaded).await?;
    Ok(loaded)
}

/// `NM` and `ORG`, then the member type `code` with `primary_fee`, expiring to `NM`.
/// Returns how many types it created.
async fn member_types(
    db: &Db,
    primary_fee: PrimaryFee,
    (code, name): (&str, &str),
) -> Result<usize> {
    customer_types::create(db, ty("NM", "Non-member", false, false)).await?;
    customer_types::create(db, ty("ORG", "Organization", false, true)).await?;
    customer_types::create(
        db,
        NewCustomerType {
            primary_fee: Some(primary_fee),
            expires_to: Some("NM".into()),
            ..ty(code, name, true, false)
        },
    )
    .await?;
    Ok(3)
}

/// Four associates join on 2026-03-15 for one, two and three years, with the journal and
/// some with a gift; the last one leaves the invoice unpaid.
async fn multi_year_joins(db: &Db, cycle_id: i64, loaded: &mut Loaded) -> Result<()> {
    let on = date(2026, 3, 15)?;
    let request = |primary: &str, gift: Option<i64>| {
        let mut add_ons = vec!["JOURNAL".to_owned()];
        let mut voluntary = HashMap::new();
        if let Some(g) = gift {
            add_ons.push("SCHOLARSHIP".into());
            voluntary.insert("SCHOLARSHIP".to_owned(), g);
        }
        JoinRequest {
            cycle: Some(CycleRef::Id(cycle_id)),
            billing_category: Some("REG".into()),
            primary_product: Some(primary.into()),
            add_ons,
            voluntary,
            join_date: Some(on),
            ..Default::default()
        }
    };
    for (first, last, primary, gift, pay) in [
        ("Amara", "Osei", "AM_1", None, true),
        ("Bruno", "Keller", "AM_2", Some(5_000), true),
        ("Chloe", "Martin", "AM_3", Some(2_500), true),
        ("Dev", "Patel", "AM_2", None, false),
    ] {
        let c = contacts::create(db, person(first, last)).await?;
        loaded.contacts += 1;
        join_and_pay(db, c.contact.id, request(primary, gift), on, pay).await?;
        loaded.invoices += 1;
    }
    Ok(())
}

/// E-4: J-4's example both ways. Members of `M` paid through 2020-12-31 rejoin in April 2021:
/// through the cycle with a 5-month window it is a renewal for 2021 at full fee; through the
/// one with 3 months a new join from April, prorated 9/12.
pub(super) async fn rejoin(db: &Db) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    billing_categories::TABLE
        .create(db, "REG", "Regular")
        .await?;
    products::create(
        db,
        product("MDUES", "Membership dues", ProductType::Dues, 50_000, 12),
    )
    .await?;
    loaded.customer_types = member_types(
        db,
        PrimaryFee::Products(vec!["MDUES".into()]),
        ("M", "Member"),
    )
    .await?;
    set_defaults(db, "NM", "ORG").await?;
    calendar_year_billing(db).await?;
    let cycles = rejoin_cycles(db).await?;
    let ids = former_members(db, &mut loaded).await?;
    let april = date(2021, 4, 10)?;
    for (contact, cycle) in ids.iter().zip(&cycles) {
        let req = JoinRequest {
            cycle: Some(CycleRef::Id(cycle.id)),
            billing_category: Some("REG".into()),
            join_date: Some(april),
            ..Default::default()
        };
        join_and_pay(db, *contact, req, april, false).await?;
        loaded.invoices += 1;
    }
    Ok(loaded)
}

/// B-6, T-3: annual billing on a fiscal year starting in January.
async fn calendar_year_billing(db: &Db) -> Result<()> {
    let current = settings::get(&db.conn).await?;
    settings::put(
        db,
        Settings {
            default_billing_time: BillingTime::Annual,
            fiscal_year_start_month: 1,
            ..current
        },
        None,
    )
    .await?;
    Ok(())
}

/// Two join cycles of `M`, rejoining as a renewal within 5 and within 3 months (J-4).
async fn rejoin_cycles(db: &Db) -> Result<Vec<billing_cycles::Cycle>> {
    let mut cycles = Vec::new();
    for (name, window) in [("Rejoin within 5 months", 5), ("Rejoin within 3 months", 3)] {
        cycles.push(
            billing_cycles::create(
                db,
                CycleFields {
                    name: name.into(),
                    membership: true,
                    customer_types: vec!["M".into()],
                    join_item_set: true,
                    rejoin_as_renewal_months: window,
                    ..Default::default()
                },
            )
            .await?,
        );
    }
    Ok(cycles)
}

/// Two former members, paid through 2020-12-31 (their history imported as subscriptions).
async fn former_members(db: &Db, loaded: &mut Loaded) -> Result<Vec<i64>> {
    let mut rows = Vec::new();
    let mut ids = Vec::new();
    for (first, last) in [("Elena", "Rossi"), ("Femi", "Adeyemi")] {
        let c = contacts::create(
            db,
            NewContact {
                billing_category: Some("REG".into()),
                ..person(first, last)
            },
        )
        .await?;
        loaded.contacts += 1;
        ids.push(c.contact.id);
        rows.push(
            serde_json::json!({"contact_id": c.contact.id, "product": "MDUES",
            "is_membership_component": true, "bill_subscription": true, "begin_date": "2020-01-01",
            "paid_through": "2020-12-31", "accounting_method": "cash", "source_code": "demo"}),
        );
    }
    let report = import::run(
        db,
        Action::Insert,
        import::Mode::AllOrNothing,
        input::parse_json_rows(rows, &Default::default())?,
    )
    .await?;
    loaded.subscriptions = report.applied;
    Ok(ids)
}
