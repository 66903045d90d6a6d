//! P-7: a pricing rule conditioned on the contact's join date (`joined_from`, `joined_to`,
//! inclusive, either end open), "members who joined before 2000 pay the legacy rate". The
//! range counts as one condition for specificity (P-3). A first join is priced with the join's
//! own date; afterwards the contact's recorded join date decides, in joins and renewal runs.

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{TestApp, error_fields, id, spawn};

const JOIN: &str = "Join";

async fn rule(app: &TestApp, body: Value) -> Value {
    app.post("/pricing-rules", &app.staff, body)
        .await
        .expect(201)
        .body
}

/// The legacy rate: members who joined on or before 1999-12-31 pay 300 rather than 500.
async fn legacy_rule(app: &TestApp) -> Value {
    rule(
        app,
        json!({"product": "MDUES", "price": "300.00", "customer_type": "M",
            "joined_to": "1999-12-31"}),
    )
    .await
}

async fn person(app: &TestApp, last: &str) -> i64 {
    id(&app
        .create_contact(json!({"customer_type": "NM", "first_name": "Pat", "last_name": last}))
        .await)
}

/// Records `day` as the contact's join date, as an import of old records does.
async fn joined_on(app: &TestApp, contact: i64, day: &str) {
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("a date");
    entity::contact::Entity::update_many()
        .col_expr(entity::contact::Column::JoinDate, Expr::value(day))
        .filter(entity::contact::Column::Id.eq(contact))
        .exec(&app.db.conn)
        .await
        .expect("set the join date");
}

fn amount_of(invoice: &Value, product: &str) -> String {
    invoice["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["product"] == product)
        .unwrap_or_else(|| panic!("no {product} line in {invoice}"))["amount"]
        .as_str()
        .expect("amount")
        .to_owned()
}

async fn price_for(app: &TestApp, contact: i64) -> Value {
    app.get(
        &format!("/products/MDUES/price?contact_id={contact}&as_of=2026-06-15"),
        &app.staff,
    )
    .await
    .expect(200)
    .body
}

#[tokio::test]
async fn p7_members_who_joined_before_2000_pay_the_legacy_rate_at_join_and_at_renewal() {
    let app = spawn().await;
    let cycle = app.doctors_with_join_cycle(JOIN).await;
    let legacy = legacy_rule(&app).await;
    assert_eq!(legacy["joined_to"], "1999-12-31");
    assert!(legacy["joined_from"].is_null());

    // A first join is priced with the date of the join being made.
    let old = person(&app, "Old").await;
    let joined = app
        .join_and_pay(old, JOIN, "1999-01-01", "1999-01-01")
        .await;
    assert_eq!(amount_of(&joined, "MDUES"), "300.00");
    assert_eq!(app.contact(old).await["join_date"], "1999-01-01");
    let new = person(&app, "New").await;
    let joined = app
        .join_and_pay(new, JOIN, "2000-01-01", "2000-01-01")
        .await;
    assert_eq!(amount_of(&joined, "MDUES"), "500.00");

    // A renewal run prices each member by their recorded join date.
    let run = app
        .post(
            "/renewal-runs",
            &app.staff,
            json!({"billing_cycle": cycle, "effective_date": "2001-01-01", "dry_run": false}),
        )
        .await
        .expect(201)
        .body;
    let bill = |c: i64| {
        run["invoices"]
            .as_array()
            .expect("invoices")
            .iter()
            .find(|i| i["contact_id"] == c)
            .cloned()
            .unwrap_or_else(|| panic!("no bill for {c} in {run}"))
    };
    assert_eq!(amount_of(&bill(old), "MDUES"), "300.00");
    assert_eq!(amount_of(&bill(new), "MDUES"), "500.00");

    // A former member joining again keeps the join date on record, and its rate.
    let back = person(&app, "Back").await;
    joined_on(&app, back, "1995-05-05").await;
    let rejoin = app
        .post(
            &format!("/contacts/{back}/join"),
            &app.staff,
            json!({"billing_cycle": JOIN, "billing_category": "REG", "join_date": "2026-01-01",
                "dry_run": true}),
        )
        .await
        .expect(200)
        .body;
    let invoice = if rejoin["invoice"].is_object() {
        &rejoin["invoice"]
    } else {
        &rejoin
    };
    assert_eq!(amount_of(invoice, "MDUES"), "300.00", "{rejoin}");
}

#[tokio::test]
async fn p7_join_date_bounds_are_inclusive_and_a_contact_who_never_joined_does_not_match() {
    let app = spawn().await;
    app.doctors().await;
    let window = rule(
        &app,
        json!({"product": "MDUES", "price": "250.00", "joined_from": "2000-01-01",
            "joined_to": "2000-12-31"}),
    )
    .await;
    let open_start = rule(
        &app,
        json!({"product": "MDUES", "price": "200.00", "joined_to": "1989-12-31"}),
    )
    .await;
    let window_id = id(&window);
    for (day, rule_id) in [
        ("1989-12-31", Some(id(&open_start))),
        ("1990-01-01", None),
        ("1999-12-31", None),
        ("2000-01-01", Some(window_id)),
        ("2000-12-31", Some(window_id)),
        ("2001-01-01", None),
    ] {
        let c = person(&app, day).await;
        joined_on(&app, c, day).await;
        let p = price_for(&app, c).await;
        assert_eq!(p["rule"]["id"].as_i64(), rule_id, "joined {day}: {p}");
    }
    let never = person(&app, "Never").await;
    let p = price_for(&app, never).await;
    assert!(p["rule"].is_null(), "{p}");
    assert_eq!(p["price"], "500.00");
}

#[tokio::test]
async fn p7_a_join_date_range_is_one_condition_for_specificity() {
    let app = spawn().await;
    app.doctors().await;
    let members = rule(
        &app,
        json!({"product": "MDUES", "price": "450.00", "customer_type": "M", "priority": 5}),
    )
    .await;
    assert_eq!(members["specificity"], 1);
    let legacy = rule(
        &app,
        json!({"product": "MDUES", "price": "300.00", "customer_type": "M",
            "joined_from": "1980-01-01", "joined_to": "1999-12-31"}),
    )
    .await;
    assert_eq!(legacy["specificity"], 2, "both ends count once");

    // More conditions beat a higher priority: the legacy member pays the legacy rate.
    let old = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "Old", "last_name": "Timer"}))
        .await);
    joined_on(&app, old, "1985-03-01").await;
    let recent = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "New", "last_name": "Comer"}))
        .await);
    joined_on(&app, recent, "2020-03-01").await;
    assert_eq!(price_for(&app, old).await["rule"]["id"], legacy["id"]);
    assert_eq!(price_for(&app, recent).await["rule"]["id"], members["id"]);

    // A join-date range alone weighs as much as a customer type: equal priority ties.
    let r = app
        .post(
            "/pricing-rules",
            &app.staff,
            json!({"product": "MDUES", "price": "100.00", "joined_to": "1999-12-31",
                "priority": 5}),
        )
        .await
        .problem(409, "conflict");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("pricing rule {}", id(&members))),
        "{}",
        r.text
    );
    // Rules that differ only in a join-date range are distinct; disjoint ranges never tie.
    let later = rule(
        &app,
        json!({"product": "MDUES", "price": "350.00", "customer_type": "M",
            "joined_from": "2000-01-01"}),
    )
    .await;
    assert_eq!(later["specificity"], 2);
    app.post(
        "/pricing-rules",
        &app.staff,
        json!({"product": "MDUES", "price": "320.00", "customer_type": "M",
            "joined_from": "1999-12-31"}),
    )
    .await
    .problem(409, "conflict");
    assert_eq!(price_for(&app, recent).await["rule"]["id"], later["id"]);
}

#[tokio::test]
async fn p7_a_join_date_range_that_ends_before_it_starts_is_refused_and_nothing_is_written() {
    let app = spawn().await;
    app.doctors().await;
    let r = app
        .post(
            "/pricing-rules",
            &app.staff,
            json!({"product": "MDUES", "price": "300.00", "joined_from": "2000-01-02",
                "joined_to": "2000-01-01"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(error_fields(&r), ["joined_to"]);
    assert!(app.items("/pricing-rules").await.is_empty());

    // A one-day range is fine; a change that inverts it is refused and leaves the rule.
    let saved = rule(
        &app,
        json!({"product": "MDUES", "price": "300.00", "joined_from": "2000-01-01",
            "joined_to": "2000-01-01"}),
    )
    .await;
    let path = format!("/pricing-rules/{}", id(&saved));
    let r = app
        .patch(&path, &app.staff, json!({"joined_from": "2000-01-02"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(error_fields(&r), ["joined_to"]);
    let now = app.get(&path, &app.staff).await.expect(200).body;
    assert_eq!(now["joined_from"], "2000-01-01");
    assert_eq!(now["updated_at"], saved["updated_at"]);

    // Not a date: the field is named.
    let r = app
        .post(
            "/pricing-rules",
            &app.staff,
            json!({"product": "MDUES", "price": "300.00", "joined_from": "1999-13-01"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_eq!(error_fields(&r), ["joined_from"]);

    // `null` clears a bound.
    let cleared = app
        .patch(&path, &app.staff, json!({"joined_from": null}))
        .await
        .expect(200)
        .body;
    assert!(cleared["joined_from"].is_null());
    assert_eq!(cleared["joined_to"], "2000-01-01");
    assert_eq!(cleared["specificity"], 1);
}
