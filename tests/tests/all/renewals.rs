//! Renewal runs over HTTP: R-1..R-6, T-4, T-5, L-5, C-7, I-2, I-3, B-2, B-8, B-10, B-11 and the
//! staff-only boundary of SEC-1.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, Utc};
use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use tests::{TestApp, id, line, products, spawn, with};

const CYCLE: &str = "Member renewals";

/// E-1 with annual billing in a January fiscal year, accrual accounting, a 12-month journal,
/// a book, a section and a chapter; the renewal cycle `Member renewals` for type `M` lists the
/// journal and the book.
async fn setup(app: &TestApp) {
    app.doctors().await;
    app.set_settings(
        json!({"default_billing_time": "annual", "fiscal_year_start_month": 1,
        "default_accounting_method": "accrual"}),
    )
    .await;
    app.create_product_with_term("JOURNAL", "subscription", "40.00", 12)
        .await;
    app.create_product_with_term("BOOK", "subscription", "15.00", 12)
        .await;
    app.create_product_with_term("OTHER", "subscription", "25.00", 12)
        .await;
    app.create_product_with_term("SECT/CARD", "section", "30.00", 12)
        .await;
    app.create_product_with_term("CHAPT/EAST", "chapter", "20.00", 12)
        .await;
    app.create_cycle(
        json!({"name": CYCLE, "customer_types": ["M"], "products": ["JOURNAL", "BOOK"],
            "accounting_method": "accrual"}),
    )
    .await;
}

/// A contact of type `M` with `category`, holding MDUES paid through `paid_through` (C-7 sets
/// the contact's paid-through from it).
async fn member(app: &TestApp, last: &str, category: &str, paid_through: &str) -> i64 {
    member_with(
        app,
        json!({"last_name": last, "billing_category": category}),
        paid_through,
    )
    .await
}

async fn member_with(app: &TestApp, fields: Value, paid_through: &str) -> i64 {
    let body = with(
        json!({"customer_type": "M", "billing_category": "REG", "first_name": "Pat"}),
        fields,
    );
    let c = id(&app.create_contact(body).await);
    hold(
        app,
        c,
        json!({"product": "MDUES", "is_membership_component": true, "paid_through": paid_through}),
    )
    .await;
    c
}

/// A subscription of `c` (bill_subscription true unless given).
async fn hold(app: &TestApp, c: i64, fields: Value) -> i64 {
    let body = with(json!({"contact_id": c, "bill_subscription": true}), fields);
    id(&app
        .post("/subscriptions", &app.staff, body)
        .await
        .expect(201)
        .body)
}

async fn run(app: &TestApp, body: Value) -> tests::Res {
    app.post("/renewal-runs", &app.staff, body).await
}

/// A preview.
async fn preview(app: &TestApp, cycle: Value, effective: &str) -> Value {
    let r = run(
        app,
        json!({"billing_cycle": cycle, "effective_date": effective, "dry_run": true}),
    )
    .await
    .expect(200);
    assert_eq!(r.body["dry_run"], true);
    assert!(r.body["id"].is_null(), "{}", r.text);
    r.body
}

/// A real run; checks the Location header.
async fn real(app: &TestApp, cycle: Value, effective: &str) -> Value {
    let r = run(
        app,
        json!({"billing_cycle": cycle, "effective_date": effective}),
    )
    .await
    .expect(201);
    let rid = id(&r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("/api/v1/renewal-runs/{rid}").as_str())
    );
    assert_eq!(r.body["dry_run"], false);
    r.body
}

/// The run's bill for contact `c`.
fn bill_of(result: &Value, c: i64) -> Value {
    result["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .find(|i| i["contact_id"] == c)
        .cloned()
        .unwrap_or_else(|| panic!("no bill for {c} in {result}"))
}

fn billed_contacts(result: &Value) -> BTreeSet<i64> {
    result["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .map(|i| i["contact_id"].as_i64().expect("contact_id"))
        .collect()
}

fn skip_reason(result: &Value, c: i64) -> String {
    result["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .find(|s| s["contact_id"] == c)
        .and_then(|s| s["reason"].as_str())
        .unwrap_or_else(|| panic!("{c} not skipped in {result}"))
        .to_owned()
}

async fn open_renewals(app: &TestApp, c: i64) -> Vec<Value> {
    app.all(&format!("/invoices?contact_id={c}&status=open"))
        .await
        .into_iter()
        .filter(|i| i["kind"] == "renewal")
        .collect()
}

// ----------------------------------------------------------------

#[tokio::test]
async fn r1_default_effective_date_is_today_plus_months_prior_to_expiration() {
    let app = spawn().await;
    setup(&app).await;
    let cid = app
        .create_cycle(json!({"name": "Two months ahead", "customer_types": ["M"],
            "months_prior_to_expiration": 2}))
        .await;
    let lapsed = member(&app, "Lapsed", "REG", "2000-12-31").await;
    let ahead = member(&app, "Ahead", "REG", "2099-12-31").await;
    let r = run(&app, json!({"billing_cycle": cid, "dry_run": true}))
        .await
        .expect(200);
    let today = Utc::now().date_naive();
    let expected = today.checked_add_months(Months::new(2)).unwrap();
    assert_eq!(r.body["effective_date"], expected.to_string(), "{}", r.text);
    assert_eq!(r.body["billing_cycle"], cid);
    assert_eq!(
        billed_contacts(&r.body),
        BTreeSet::from([lapsed]),
        "a contact paid through a far date is not due"
    );
    assert_eq!(r.body["considered"], 1, "{}", r.text);
    assert!(!billed_contacts(&r.body).contains(&ahead));
}

#[tokio::test]
async fn r1_explicit_effective_date_decides_who_is_due() {
    let app = spawn().await;
    setup(&app).await;
    let dec = member(&app, "December", "REG", "2026-12-31").await;
    let june = member(&app, "June", "REG", "2027-06-30").await;
    let r = preview(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(r["effective_date"], "2027-01-01");
    assert_eq!(billed_contacts(&r), BTreeSet::from([dec]));
    // Paid through the effective date itself is not before it: not due.
    let r = preview(&app, json!(CYCLE), "2027-06-30").await;
    assert_eq!(billed_contacts(&r), BTreeSet::from([dec]));
    let r = preview(&app, json!(CYCLE), "2027-07-01").await;
    assert_eq!(billed_contacts(&r), BTreeSet::from([dec, june]));
}

// ---------------------------------------------------------------- R-2, B-8, B-10

#[tokio::test]
async fn r2_selection_by_type_category_and_status_flags() {
    let app = spawn().await;
    setup(&app).await;
    let cid = app
        .create_cycle(
            json!({"name": "Regular and first year", "customer_types": ["M"],
            "billing_categories": ["REG", "FYEAR"]}),
        )
        .await;
    let reg = member(&app, "Reg", "REG", "2026-12-31").await;
    let fyear = member(&app, "Fyear", "FYEAR", "2026-12-31").await;
    let intl = member(&app, "Intl", "INTL", "2026-12-31").await;
    let inactive = member_with(
        &app,
        json!({"last_name": "Inactive", "status": "I"}),
        "2026-12-31",
    )
    .await;
    let suspended = member_with(
        &app,
        json!({"last_name": "Suspended", "status": "S"}),
        "2026-12-31",
    )
    .await;
    let deleted = member_with(
        &app,
        json!({"last_name": "Deleted", "status": "D"}),
        "2026-12-31",
    )
    .await;
    let nonmember = id(&app
        .create_contact(json!({"customer_type": "NM", "billing_category": "REG",
            "first_name": "Non", "last_name": "Member"}))
        .await);

    let r = preview(&app, json!(cid), "2027-01-01").await;
    assert_eq!(billed_contacts(&r), BTreeSet::from([reg, fyear]), "{r}");
    assert_eq!(r["considered"], 2);
    for c in [intl, inactive, suspended, deleted, nonmember] {
        assert!(!billed_contacts(&r).contains(&c));
    }

    app.patch_cycle(cid, json!({"include_inactive_members": true}))
        .await;
    let r = preview(&app, json!(cid), "2027-01-01").await;
    assert_eq!(billed_contacts(&r), BTreeSet::from([reg, fyear, inactive]));

    app.patch_cycle(
        cid,
        json!({"include_inactive_members": false, "include_suspended_members": true}),
    )
    .await;
    let r = preview(&app, json!(cid), "2027-01-01").await;
    assert_eq!(billed_contacts(&r), BTreeSet::from([reg, fyear, suspended]));

    // B-10: D is never billed, whatever the flags.
    app.patch_cycle(
        cid,
        json!({"include_inactive_members": true, "billing_categories": []}),
    )
    .await;
    let r = preview(&app, json!(cid), "2027-01-01").await;
    assert_eq!(
        billed_contacts(&r),
        BTreeSet::from([reg, fyear, intl, inactive, suspended]),
        "an empty category list means all (B-4); D never"
    );
}

#[tokio::test]
async fn r2_autopay_option_filters_contacts() {
    let app = spawn().await;
    setup(&app).await;
    let auto = member_with(
        &app,
        json!({"last_name": "Auto", "autopay": true}),
        "2026-12-31",
    )
    .await;
    let manual = member(&app, "Manual", "REG", "2026-12-31").await;
    let all_id = app
        .create_cycle(json!({"name": "All", "customer_types": ["M"]}))
        .await;
    let only = app.create_cycle(json!({"name": "Only autopay", "customer_types": ["M"], "autopay_option": "only_autopay"}),
    )
    .await;
    let non = app
        .create_cycle(json!({"name": "Only non autopay", "customer_types": ["M"],
            "autopay_option": "only_non_autopay"}))
        .await;
    let r = preview(&app, json!(all_id), "2027-01-01").await;
    assert_eq!(billed_contacts(&r), BTreeSet::from([auto, manual]));
    let r = preview(&app, json!(only), "2027-01-01").await;
    assert_eq!(billed_contacts(&r), BTreeSet::from([auto]));
    let r = preview(&app, json!(non), "2027-01-01").await;
    assert_eq!(billed_contacts(&r), BTreeSet::from([manual]));
}

/// Each contact was skipped by `run` as billed for the 2027 term, and has one open renewal.
async fn assert_billed_once(app: &TestApp, run: &Value, contacts: &[i64]) {
    for &c in contacts {
        assert_eq!(
            skip_reason(run, c),
            "already billed for the term beginning 2027-01-01"
        );
        assert_eq!(open_renewals(app, c).await.len(), 1);
    }
}

#[tokio::test]
async fn r2_running_the_same_generation_twice_bills_nobody_twice() {
    let app = spawn().await;
    setup(&app).await;
    let a = member(&app, "A", "REG", "2026-12-31").await;
    let b = member(&app, "B", "REG", "2026-12-31").await;
    let first = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(first["billed"], 2);
    let second = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(second["considered"], 2, "{second}");
    assert_eq!(second["billed"], 0, "{second}");
    assert_eq!(second["skipped_count"], 2);
    assert_eq!(second["total"], "0.00");
    assert!(second["invoices"].as_array().unwrap().is_empty());
    assert_billed_once(&app, &second, &[a, b]).await;
    // A preview after the run agrees.
    let p = preview(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(p["billed"], 0);
}

/// I-4: a renewal run's response is stored under its key by the transaction that completes
/// the run, as joins and payments store theirs with the money they move.
#[tokio::test]
async fn i4_a_renewal_run_key_is_stored_by_the_transaction_that_completes_the_run() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn().await;
    setup(&app).await;
    let a = member(&app, "A", "REG", "2026-12-31").await;
    let body = json!({"billing_cycle": CYCLE, "effective_date": "2027-01-01"});
    let keyed = |key: &'static str, body: Value| {
        let app = &app;
        async move {
            let hdr = [("Idempotency-Key", key)];
            app.send(
                Method::POST,
                "/renewal-runs",
                Some(&app.staff),
                Some(body),
                &hdr,
            )
            .await
        }
    };
    let first = keyed("run-1", body.clone()).await.expect(201);
    let run_id = id(&first.body);
    let row = app
        .db
        .conn
        .query_one_raw(Statement::from_string(
            app.db.conn.get_database_backend(),
            "SELECT status, body FROM idempotency_keys WHERE scope = 'renewal-run' AND key = 'run-1'",
        ))
        .await
        .unwrap()
        .expect("the key is stored");
    assert_eq!(row.try_get::<i32>("", "status").unwrap(), 201);
    let stored: Value = serde_json::from_str(&row.try_get::<String>("", "body").unwrap()).unwrap();
    assert_eq!(stored, first.body);
    let rec = app
        .get(&format!("/renewal-runs/{run_id}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(rec.body["status"], "completed");

    // A retry gets the first answer, Location included, and runs nothing.
    let again = keyed("run-1", body.clone()).await.expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(
        again.header("location").as_deref(),
        Some(format!("/api/v1/renewal-runs/{run_id}").as_str())
    );
    assert_eq!(app.all("/renewal-runs").await.len(), 1);
    assert_eq!(open_renewals(&app, a).await.len(), 1);
    // The same key with another request is refused.
    let other = json!({"billing_cycle": CYCLE, "effective_date": "2027-02-01"});
    keyed("run-1", other)
        .await
        .problem(422, "validation_failed");
}

#[tokio::test]
async fn r2_a_term_billed_without_the_subscription_pointing_at_it_is_still_skipped() {
    use sea_orm::ConnectionTrait;
    let app = spawn().await;
    setup(&app).await;
    let a = member(&app, "A", "REG", "2026-12-31").await;
    let b = member(&app, "B", "REG", "2026-12-31").await;
    let first = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(first["billed"], 2);
    // The billing lines still hold the term; the subscriptions no longer say so.
    app.db
        .conn
        .execute_unprepared("UPDATE subscriptions SET bill_begin = NULL")
        .await
        .unwrap();
    let second = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(second["billed"], 0, "{second}");
    assert_eq!(second["skipped_count"], 2, "{second}");
    assert_billed_once(&app, &second, &[a, b]).await;
    let rec = app
        .get(&format!("/renewal-runs/{}", id(&second)), &app.staff)
        .await
        .expect(200);
    assert_eq!(rec.body["status"], "completed");
}

#[tokio::test]
async fn r2_concurrent_runs_bill_each_due_contact_once() {
    let app = spawn().await;
    setup(&app).await;
    let mut due = Vec::new();
    for n in 0..30 {
        due.push(member(&app, &format!("Busy{n}"), "REG", "2026-12-31").await);
    }
    let body = json!({"billing_cycle": CYCLE, "effective_date": "2027-01-01"});
    let (x, y) = tokio::join!(run(&app, body.clone()), run(&app, body.clone()));
    let x = x.expect(201);
    let y = y.expect(201);
    assert_eq!(
        x.body["billed"].as_u64().unwrap() + y.body["billed"].as_u64().unwrap(),
        30,
        "{} / {}",
        x.text,
        y.text
    );
    for c in due {
        assert_eq!(open_renewals(&app, c).await.len(), 1, "contact {c}");
    }
    for r in [&x, &y] {
        let rec = app
            .get(&format!("/renewal-runs/{}", id(&r.body)), &app.staff)
            .await
            .expect(200);
        assert_eq!(rec.body["status"], "completed");
    }
}

// ---------------------------------------------------------------- R-3, B-2, B-11, P-4, P-5, T-4

#[tokio::test]
async fn r3_lines_are_the_primary_fee_and_held_add_ons_of_the_cycle_only() {
    let app = spawn().await;
    setup(&app).await;
    let holder = member(&app, "Holder", "REG", "2026-12-31").await;
    let journal = hold(
        &app,
        holder,
        json!({"product": "JOURNAL", "paid_through": "2026-12-31"}),
    )
    .await;
    hold(
        &app,
        holder,
        json!({"product": "OTHER", "paid_through": "2026-12-31"}),
    )
    .await;
    let bare = member(&app, "Bare", "REG", "2026-12-31").await;
    let stopped = member(&app, "Stopped", "REG", "2026-12-31").await;
    hold(
        &app,
        stopped,
        json!({"product": "JOURNAL", "status": "inactive", "paid_through": "2026-12-31"}),
    )
    .await;
    let fixed = member(&app, "Fixed", "REG", "2026-12-31").await;
    hold(
        &app,
        fixed,
        json!({"product": "BOOK", "bill_subscription": false, "billed_amount": "15.00",
            "paid_through": "2026-12-31"}),
    )
    .await;

    let r = real(&app, json!(CYCLE), "2027-01-01").await;
    let h = bill_of(&r, holder);
    assert_eq!(products(&h), ["MDUES", "JOURNAL"], "{h}");
    assert_eq!(line(&h, "MDUES")["amount"], "500.00");
    assert_eq!(line(&h, "MDUES")["is_primary"], true);
    assert_eq!(line(&h, "JOURNAL")["amount"], "40.00");
    assert_eq!(line(&h, "JOURNAL")["is_primary"], false);
    assert_eq!(h["total"], "540.00");
    assert_eq!(
        products(&bill_of(&r, bare)),
        ["MDUES"],
        "B-2: nothing new but the primary"
    );
    assert_eq!(
        products(&bill_of(&r, stopped)),
        ["MDUES"],
        "inactive add-on not billed"
    );
    assert_eq!(
        products(&bill_of(&r, fixed)),
        ["MDUES"],
        "bill_subscription false is not billed"
    );
    assert_eq!(r["total"], "2040.00");
    // The stored invoice names the held subscription.
    let inv = app
        .invoice(bill_of(&r, holder)["invoice_id"].as_i64().unwrap())
        .await;
    assert_eq!(line(&inv, "JOURNAL")["subscription_id"], journal);
    assert_eq!(line(&inv, "JOURNAL")["term_begin"], "2027-01-01");
    assert_eq!(line(&inv, "JOURNAL")["term_end"], "2027-12-31");
}

#[tokio::test]
async fn r3_sections_and_chapters_follow_include_all_and_inactive_flags() {
    let app = spawn().await;
    setup(&app).await;
    let cid = app
        .create_cycle(json!({"name": "Sections", "customer_types": ["M"]}))
        .await;
    let a = member(&app, "Sections", "REG", "2026-12-31").await;
    hold(
        &app,
        a,
        json!({"product": "SECT/CARD", "paid_through": "2026-12-31"}),
    )
    .await;
    hold(
        &app,
        a,
        json!({"product": "CHAPT/EAST", "paid_through": "2026-12-31"}),
    )
    .await;
    let b = member(&app, "Dormant", "REG", "2026-12-31").await;
    hold(
        &app,
        b,
        json!({"product": "SECT/CARD", "status": "inactive", "paid_through": "2026-12-31"}),
    )
    .await;

    let r = preview(&app, json!(cid), "2027-01-01").await;
    assert_eq!(products(&bill_of(&r, a)), ["MDUES"]);
    app.patch_cycle(cid, json!({"include_all_sections": true}))
        .await;
    let r = preview(&app, json!(cid), "2027-01-01").await;
    assert_eq!(products(&bill_of(&r, a)), ["MDUES", "SECT/CARD"]);
    assert_eq!(products(&bill_of(&r, b)), ["MDUES"], "inactive section");
    app.patch_cycle(
        cid,
        json!({"include_all_chapters": true, "include_inactive_sections": true}),
    )
    .await;
    let r = preview(&app, json!(cid), "2027-01-01").await;
    let mut got = products(&bill_of(&r, a));
    got.sort();
    assert_eq!(got, ["CHAPT/EAST", "MDUES", "SECT/CARD"]);
    assert_eq!(products(&bill_of(&r, b)), ["MDUES", "SECT/CARD"]);
    assert_eq!(line(&bill_of(&r, b), "SECT/CARD")["amount"], "30.00");
}

#[tokio::test]
async fn r3_tax_companion_follows_its_product() {
    let app = spawn().await;
    setup(&app).await;
    app.create_product("MDUES_GST", "miscellaneous", "25.00")
        .await;
    app.create_product("JOURNAL_GST", "miscellaneous", "2.00")
        .await;
    let c = member(&app, "Taxed", "REG", "2026-12-31").await;
    hold(
        &app,
        c,
        json!({"product": "JOURNAL", "paid_through": "2026-12-31"}),
    )
    .await;
    let r = real(&app, json!(CYCLE), "2027-01-01").await;
    let b = bill_of(&r, c);
    let mut got = products(&b);
    got.sort();
    assert_eq!(got, ["JOURNAL", "JOURNAL_GST", "MDUES", "MDUES_GST"], "{b}");
    assert_eq!(line(&b, "MDUES_GST")["amount"], "25.00");
    assert_eq!(line(&b, "JOURNAL_GST")["amount"], "2.00");
    assert_eq!(line(&b, "MDUES_GST")["term_end"], "2027-12-31");
    assert_eq!(b["total"], "567.00");
}

#[tokio::test]
async fn r3_prices_follow_pricing_rules_as_of_the_effective_date() {
    let app = spawn().await;
    setup(&app).await;
    app.post(
        "/pricing-rules",
        &app.staff,
        json!({"product": "MDUES", "price": "100.00", "customer_type": "M",
            "billing_category": "FYEAR", "valid_from": "2027-01-01"}),
    )
    .await
    .expect(201);
    let f = member(&app, "First", "FYEAR", "2025-12-31").await;
    let g = member(&app, "Regular", "REG", "2025-12-31").await;
    let r = preview(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(line(&bill_of(&r, f), "MDUES")["amount"], "100.00");
    assert_eq!(line(&bill_of(&r, g), "MDUES")["amount"], "500.00");
    let r = preview(&app, json!(CYCLE), "2026-12-31").await;
    assert_eq!(
        line(&bill_of(&r, f), "MDUES")["amount"],
        "500.00",
        "the rule is not yet valid on 2026-12-31"
    );
}

#[tokio::test]
async fn r3_formula_primary_fee_uses_the_held_family_product_else_skips() {
    let app = spawn().await;
    setup(&app).await;
    app.create_product_with_term("AM_1", "dues", "100.00", 12)
        .await;
    app.create_product_with_term("AM_2", "dues", "190.00", 12)
        .await;
    app.create_type(
        json!({"code": "AM", "name": "Associate", "is_member": true, "is_organization": false,
        "primary_fee": {"kind": "formula", "designator": "AM", "default_product": null},
        "expires_to": "NM"}),
    )
    .await;
    let cid = app
        .create_cycle(json!({"name": "Associates", "customer_types": ["AM"]}))
        .await;
    let held = id(&app
        .create_contact(json!({"customer_type": "AM", "billing_category": "REG",
            "first_name": "Held", "last_name": "Family"}))
        .await);
    hold(
        &app,
        held,
        json!({"product": "AM_2", "is_membership_component": true, "paid_through": "2026-12-31"}),
    )
    .await;
    let none = id(&app
        .create_contact(json!({"customer_type": "AM", "billing_category": "REG",
            "first_name": "No", "last_name": "Family"}))
        .await);
    let r = preview(&app, json!(cid), "2027-01-01").await;
    assert_eq!(products(&bill_of(&r, held)), ["AM_2"]);
    assert_eq!(line(&bill_of(&r, held), "AM_2")["amount"], "190.00");
    let reason = skip_reason(&r, none);
    assert!(reason.contains("primary fee"), "{reason}");
    assert_eq!(r["skipped_count"], 1);
}

#[tokio::test]
async fn r3_t4_add_ons_scale_to_a_24_month_primary_term() {
    let app = spawn().await;
    setup(&app).await;
    let cid = app
        .create_cycle(
            json!({"name": "Two years", "customer_types": ["M"], "products": ["JOURNAL"],
            "use_primary_fee_term_length": true}),
        )
        .await;
    let c = member(&app, "Long", "REG", "2026-12-31").await;
    hold(
        &app,
        c,
        json!({"product": "JOURNAL", "paid_through": "2026-12-31"}),
    )
    .await;
    entity::contact::Entity::update_many()
        .col_expr(entity::contact::Column::RenewMonths, Expr::value(24))
        .filter(entity::contact::Column::Id.eq(c))
        .exec(&app.db.conn)
        .await
        .expect("set renew months");
    let r = preview(&app, json!(cid), "2027-01-01").await;
    let b = bill_of(&r, c);
    assert_eq!(b["term_begin"], "2027-01-01");
    assert_eq!(b["term_end"], "2028-12-31", "{b}");
    assert_eq!(
        line(&b, "JOURNAL")["amount"],
        "80.00",
        "12-month journal, 24-month term"
    );
    assert_eq!(line(&b, "JOURNAL")["term_end"], "2028-12-31");
}

// ----------------------------------------------------------------

#[tokio::test]
async fn r4_r10_complimentary_bills_zero_and_print_zero_balance_decides_only_the_invoice() {
    let app = spawn().await;
    setup(&app).await;
    let comp = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "Comp", "last_name": "Member"}))
        .await);
    hold(
        &app,
        comp,
        json!({"product": "MDUES", "is_membership_component": true, "is_complimentary": true,
            "paid_through": "2026-12-31"}),
    )
    .await;
    let mixed = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "Comp", "last_name": "Reader"}))
        .await);
    hold(
        &app,
        mixed,
        json!({"product": "MDUES", "is_membership_component": true, "is_complimentary": true,
            "paid_through": "2026-12-31"}),
    )
    .await;
    hold(
        &app,
        mixed,
        json!({"product": "JOURNAL", "paid_through": "2026-12-31"}),
    )
    .await;

    // Without print zero balance: the zero invoice is not created, but the complimentary
    // membership is renewed at billing all the same.
    let r = real(&app, json!(CYCLE), "2027-01-01").await;
    let c = bill_of(&r, comp);
    assert_eq!(
        (c["printed"].clone(), c["total"].clone()),
        (json!(false), json!("0.00"))
    );
    assert!(c["invoice_id"].is_null());
    assert!(open_renewals(&app, comp).await.is_empty());
    assert_eq!(app.contact(comp).await["paid_through"], "2027-12-31");
    let m = bill_of(&r, mixed);
    assert_eq!(m["printed"], true);
    assert_eq!(line(&m, "MDUES")["amount"], "0.00");
    assert_eq!(line(&m, "JOURNAL")["amount"], "40.00");
    assert_eq!(m["total"], "40.00");

    // With print zero balance (accrual): billed at 0, paid through the term at billing time.
    let zero = app
        .create_cycle(
            json!({"name": "Zero too", "customer_types": ["M"], "print_zero_balance": true,
            "accounting_method": "accrual"}),
        )
        .await;
    let printed = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "Comp", "last_name": "Printed"}))
        .await);
    hold(
        &app,
        printed,
        json!({"product": "MDUES", "is_membership_component": true, "is_complimentary": true,
            "paid_through": "2026-12-31"}),
    )
    .await;
    let r = real(&app, json!(zero), "2027-01-01").await;
    let b = bill_of(&r, printed);
    assert_eq!(b["total"], "0.00");
    assert_eq!(b["printed"], true);
    assert_eq!(line(&b, "MDUES")["amount"], "0.00");
    assert_eq!(open_renewals(&app, printed).await.len(), 1);
    assert_eq!(app.contact(printed).await["paid_through"], "2027-12-31");
    // Renewed already, the first one is not due again.
    assert!(!billed_contacts(&r).contains(&comp));
}

/// a cash cycle without print zero balance renews a complimentary member at billing,
/// with no invoice, even when complimentary paid-throughs wait for payment (B-11): no payment
/// will come. A zero bill with nothing complimentary is still skipped.
#[tokio::test]
async fn r10_complimentary_renewals_move_paid_through_without_a_printed_invoice() {
    let app = spawn().await;
    setup(&app).await;
    app.create_product_with_term("FREEBIE", "subscription", "0.00", 12)
        .await;
    let cash = app
        .create_cycle(json!({"name": "Cash renewals", "customer_types": ["M"],
            "products": ["FREEBIE"], "accounting_method": "cash",
            "update_complimentary_paid_through_at_payment": true}))
        .await;
    let comp = member(&app, "Comp", "REG", "2026-12-31").await;
    let dues = app.subscriptions(&format!("contact_id={comp}")).await;
    app.patch(
        &format!("/subscriptions/{}", id(&dues[0])),
        &app.staff,
        json!({"is_complimentary": true}),
    )
    .await
    .expect(200);
    let preview = preview(&app, json!(cash), "2027-01-01").await;
    assert_eq!(bill_of(&preview, comp)["printed"], false);
    assert_eq!(app.contact(comp).await["paid_through"], "2026-12-31");

    let r = real(&app, json!(cash), "2027-01-01").await;
    assert_eq!(r["billed"], 1);
    assert_eq!(r["skipped_count"], 0);
    assert_eq!(r["total"], "0.00");
    assert_eq!(bill_of(&r, comp)["printed"], false);
    assert!(
        app.all(&format!("/invoices?contact_id={comp}"))
            .await
            .is_empty()
    );
    assert_eq!(app.contact(comp).await["paid_through"], "2027-12-31");
    let sub = app.subscription(id(&dues[0])).await;
    assert_eq!(sub["paid_through"], "2027-12-31");
    // MG-3: the complimentary membership term enters the term ledger (L-6) at billing.
    async fn terms(app: &TestApp, contact: i64) -> Vec<Value> {
        let all = app.history(contact).await;
        all.into_iter().filter(|h| h["kind"] == "term").collect()
    }
    let ledger = terms(&app, comp).await;
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0]["term_begin"], "2027-01-01");
    assert_eq!(ledger[0]["term_end"], "2027-12-31");
    assert_eq!(ledger[0]["product"], sub["product"]);
    assert!(ledger[0].get("invoice_id").is_none());
    // Run again: renewed, so not due, so nothing twice.
    let again = real(&app, json!(cash), "2027-01-01").await;
    assert_eq!(again["considered"], 0);
    assert_eq!(terms(&app, comp).await.len(), 1);

    // Zero without anything complimentary: nothing to renew, so skipped as before.
    let free = member(&app, "Free", "REG", "2026-12-31").await;
    hold(
        &app,
        free,
        json!({"product": "FREEBIE", "paid_through": "2026-12-31"}),
    )
    .await;
    let nonmember_cycle = app
        .create_cycle(
            json!({"name": "Freebies", "customer_types": ["M"], "membership": false,
            "products": ["FREEBIE"], "accounting_method": "cash"}),
        )
        .await;
    let r = real(&app, json!(nonmember_cycle), "2027-01-01").await;
    assert!(skip_reason(&r, free).contains("zero"), "{r}");
}

// ----------------------------------------------------------------

#[tokio::test]
async fn r5_dry_run_writes_nothing_and_matches_the_real_run() {
    let app = spawn().await;
    setup(&app).await;
    let a = member(&app, "A", "REG", "2026-12-31").await;
    hold(
        &app,
        a,
        json!({"product": "JOURNAL", "paid_through": "2026-12-31"}),
    )
    .await;
    member(&app, "B", "FYEAR", "2026-06-30").await;
    member(&app, "C", "REG", "2027-12-31").await;
    let subs_before = app.all("/subscriptions").await;

    let p = preview(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(p["billed"], 2);
    assert_eq!(p["considered"], 2);
    for i in p["invoices"].as_array().unwrap() {
        assert!(i["invoice_id"].is_null());
    }
    assert!(app.all("/invoices").await.is_empty());
    assert!(app.all("/renewal-runs").await.is_empty());
    assert_eq!(app.all("/subscriptions").await, subs_before);

    let r = real(&app, json!(CYCLE), "2027-01-01").await;
    for k in [
        "considered",
        "billed",
        "skipped_count",
        "total",
        "effective_date",
        "billing_cycle",
    ] {
        assert_eq!(p[k], r[k], "{k}");
    }
    let strip = |v: &Value| -> BTreeMap<i64, Value> {
        v["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let lines: Vec<Value> = i["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| {
                        json!([
                            l["product"],
                            l["amount"],
                            l["term_begin"],
                            l["term_end"],
                            l["voluntary"],
                            l["is_primary"]
                        ])
                    })
                    .collect();
                (
                    i["contact_id"].as_i64().unwrap(),
                    json!([
                        i["customer_type"],
                        i["term_begin"],
                        i["term_end"],
                        i["total"],
                        lines
                    ]),
                )
            })
            .collect()
    };
    assert_eq!(strip(&p), strip(&r));
    for i in r["invoices"].as_array().unwrap() {
        let stored = app
            .invoice(i["invoice_id"].as_i64().expect("invoice id"))
            .await;
        assert_eq!(stored["total"], i["total"]);
        assert_eq!(stored["contact_id"], i["contact_id"]);
    }
}

// ----------------------------------------------------------------

#[tokio::test]
async fn r6_run_records_who_when_counts_and_skips() {
    let app = spawn().await;
    setup(&app).await;
    let a = member(&app, "A", "REG", "2026-12-31").await;
    let b = member(&app, "B", "REG", "2026-12-31").await;
    let comp = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "Comp", "last_name": "Only"}))
        .await);
    hold(
        &app,
        comp,
        json!({"product": "MDUES", "is_membership_component": true, "is_complimentary": true,
            "paid_through": "2026-12-31"}),
    )
    .await;
    let cid = app
        .get("/billing-cycles", &app.staff)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == CYCLE)
        .map(id)
        .unwrap();
    let first = real(&app, json!(cid), "2027-01-01").await;
    let rid = id(&first);
    let rec = app
        .get(&format!("/renewal-runs/{rid}"), &app.staff)
        .await
        .expect(200)
        .body;
    let admin = service::users::find_by_username(&app.db.conn, "admin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec["id"], rid);
    assert_eq!(rec["billing_cycle"], cid);
    assert_eq!(rec["effective_date"], "2027-01-01");
    assert_eq!(rec["status"], "completed");
    assert_eq!(rec["run_by"], admin.id, "{rec}");
    assert!(
        rec["started_at"].is_string() && rec["finished_at"].is_string(),
        "{rec}"
    );
    // The complimentary member is renewed without an invoice: billed, not skipped.
    assert_eq!(rec["considered"], 3);
    assert_eq!(rec["billed"], 3);
    assert_eq!(rec["skipped_count"], 0);
    assert_eq!(rec["total"], "1000.00");
    assert!(rec["error"].is_null());
    assert_eq!(rec["last_contact_id"], comp.max(a).max(b));
    assert_eq!(rec["skipped"], json!([]));

    let invs = app.all(&format!("/invoices?renewal_run={rid}")).await;
    assert_eq!(invs.len(), 2);
    let who: BTreeSet<i64> = invs
        .iter()
        .map(|i| i["contact_id"].as_i64().unwrap())
        .collect();
    assert_eq!(who, BTreeSet::from([a, b]));
    for i in &invs {
        assert_eq!(i["kind"], "renewal");
        assert_eq!(i["renewal_run"], rid);
        assert_eq!(i["status"], "open");
        assert_eq!(i["customer_type"], "M");
        for l in i["lines"].as_array().unwrap() {
            assert!(l["subscription_id"].is_i64(), "{i}");
        }
    }

    // Newest first; the second run's invoices are its own (none).
    let second = real(&app, json!(CYCLE), "2027-01-01").await;
    let runs = app.all("/renewal-runs").await;
    let ids: Vec<i64> = runs.iter().map(id).collect();
    assert_eq!(ids, [id(&second), rid]);
    assert!(
        app.all(&format!("/invoices?renewal_run={}", id(&second)))
            .await
            .is_empty()
    );
    let rec2 = app
        .get(&format!("/renewal-runs/{}", id(&second)), &app.staff)
        .await
        .expect(200)
        .body;
    // The two invoiced are skipped, with their reason; the renewed one is no longer due.
    assert_eq!(rec2["considered"], 2);
    assert_eq!(rec2["skipped_count"], 2);
    let skipped = rec2["skipped"].as_array().expect("skipped");
    let who: BTreeSet<i64> = skipped
        .iter()
        .map(|s| s["contact_id"].as_i64().unwrap())
        .collect();
    assert_eq!(who, BTreeSet::from([a, b]));
    assert!(
        skipped
            .iter()
            .all(|s| s["reason"].as_str().unwrap().contains("already billed"))
    );
    app.get("/renewal-runs/999999", &app.staff)
        .await
        .expect(404);
}

#[tokio::test]
async fn r6_unknown_cycle_is_rejected() {
    let app = spawn().await;
    setup(&app).await;
    run(
        &app,
        json!({"billing_cycle": "No such cycle", "effective_date": "2027-01-01", "dry_run": true}),
    )
    .await
    .expect(422);
    assert!(app.all("/renewal-runs").await.is_empty());
}

// ---------------------------------------------------------------- T-5

#[tokio::test]
async fn t5_renewal_term_begins_after_paid_through_at_full_price() {
    let app = spawn().await;
    setup(&app).await;
    let a = member(&app, "Aligned", "REG", "2026-12-31").await;
    let fresh = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "No", "last_name": "PaidThrough"}))
        .await);
    let late = member(&app, "Late", "REG", "2026-06-30").await;
    let r = preview(&app, json!(CYCLE), "2027-01-01").await;
    let b = bill_of(&r, a);
    assert_eq!(
        (b["term_begin"].clone(), b["term_end"].clone()),
        (json!("2027-01-01"), json!("2027-12-31"))
    );
    assert_eq!(b["total"], "500.00");
    let b = bill_of(&r, fresh);
    assert_eq!(
        b["term_begin"], "2027-01-01",
        "no paid-through: the effective date"
    );
    assert_eq!(b["term_end"], "2027-12-31");
    // Annual, not aligned: shortened to the fiscal-year end and prorated.
    let b = bill_of(&r, late);
    assert_eq!(b["term_begin"], "2026-07-01");
    assert_eq!(b["term_end"], "2026-12-31");
    assert_eq!(line(&b, "MDUES")["amount"], "250.00");

    let anniv = app
        .create_cycle(
            json!({"name": "Anniversary", "customer_types": ["M"], "billing_time": "anniversary"}),
        )
        .await;
    let r = preview(&app, json!(anniv), "2027-01-01").await;
    let b = bill_of(&r, late);
    assert_eq!(b["term_begin"], "2026-07-01");
    assert_eq!(b["term_end"], "2027-06-30");
    assert_eq!(b["total"], "500.00");
}

#[tokio::test]
async fn t5_annual_term_with_a_july_fiscal_year_is_prorated() {
    let app = spawn().await;
    setup(&app).await;
    app.set_settings(json!({"fiscal_year_start_month": 7}))
        .await;
    let dec = member(&app, "December", "REG", "2026-12-31").await;
    hold(
        &app,
        dec,
        json!({"product": "JOURNAL", "paid_through": "2026-12-31"}),
    )
    .await;
    let june = member(&app, "June", "REG", "2026-06-30").await;
    let r = preview(&app, json!(CYCLE), "2027-01-01").await;
    let b = bill_of(&r, dec);
    assert_eq!(b["term_begin"], "2027-01-01");
    assert_eq!(b["term_end"], "2027-06-30");
    assert_eq!(line(&b, "MDUES")["amount"], "250.00");
    assert_eq!(line(&b, "JOURNAL")["amount"], "20.00");
    assert_eq!(b["total"], "270.00");
    let b = bill_of(&r, june);
    assert_eq!(b["term_begin"], "2026-07-01");
    assert_eq!(b["term_end"], "2027-06-30");
    assert_eq!(b["total"], "500.00");
}

// ---------------------------------------------------------------- L-5

#[tokio::test]
async fn l5_phased_out_type_is_billed_as_its_successor() {
    let app = spawn().await;
    setup(&app).await;
    app.create_product_with_term("OLDDUES", "dues", "300.00", 12)
        .await;
    app.create_type(
        json!({"code": "OLDM", "name": "Old member", "is_member": true, "is_organization": false,
        "primary_fee": {"kind": "products", "products": ["OLDDUES"]}, "expires_to": "NM",
        "renews_as": "M"}),
    )
    .await;
    let old = id(&app
        .create_contact(json!({"customer_type": "OLDM", "billing_category": "REG",
            "first_name": "Old", "last_name": "Timer"}))
        .await);
    hold(
        &app,
        old,
        json!({"product": "OLDDUES", "is_membership_component": true, "paid_through": "2026-12-31"}),
    )
    .await;
    let r = real(&app, json!(CYCLE), "2027-01-01").await;
    let b = bill_of(&r, old);
    assert_eq!(b["customer_type"], "M");
    assert_eq!(products(&b), ["MDUES"], "{b}");
    assert_eq!(b["total"], "500.00");
    let iid = b["invoice_id"].as_i64().unwrap();
    assert_eq!(app.invoice(iid).await["customer_type"], "M");
    assert_eq!(
        app.contact(old).await["customer_type"],
        "OLDM",
        "unchanged until paid"
    );
    app.pay(iid, "500.00", "2027-01-05").await.expect(201);
    let k = app.contact(old).await;
    assert_eq!(k["customer_type"], "M", "takes the new type when paid");
    assert_eq!(k["paid_through"], "2027-12-31");
}

// ---------------------------------------------------------------- I-2, I-3, C-7, L-6

#[tokio::test]
async fn i2_voided_renewal_lets_the_next_run_bill_again() {
    let app = spawn().await;
    setup(&app).await;
    let c = member(&app, "Void", "REG", "2026-12-31").await;
    let other = member(&app, "Keep", "REG", "2026-12-31").await;
    let first = real(&app, json!(CYCLE), "2027-01-01").await;
    let iid = bill_of(&first, c)["invoice_id"].as_i64().unwrap();
    app.post(
        &format!("/invoices/{iid}/void"),
        &app.staff,
        json!({"reason": "wrong category"}),
    )
    .await
    .expect(200);
    let second = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(billed_contacts(&second), BTreeSet::from([c]), "{second}");
    assert!(skip_reason(&second, other).contains("already billed"));
    let open = open_renewals(&app, c).await;
    assert_eq!(open.len(), 1);
    assert_ne!(id(&open[0]), iid);
    assert_eq!(app.invoice(iid).await["status"], "void");
}

#[tokio::test]
async fn i3_paying_a_renewal_moves_paid_through_and_records_history() {
    let app = spawn().await;
    setup(&app).await;
    let c = member(&app, "Payer", "REG", "2026-12-31").await;
    hold(
        &app,
        c,
        json!({"product": "JOURNAL", "paid_through": "2026-12-31"}),
    )
    .await;
    let r = real(&app, json!(CYCLE), "2027-01-01").await;
    let iid = bill_of(&r, c)["invoice_id"].as_i64().unwrap();
    assert_eq!(
        app.contact(c).await["paid_through"],
        "2026-12-31",
        "unpaid: unchanged"
    );
    app.pay(iid, "100.00", "2027-01-03").await.expect(201);
    assert_eq!(
        app.contact(c).await["paid_through"],
        "2026-12-31",
        "partial: unchanged"
    );
    app.pay(iid, "440.00", "2027-01-04").await.expect(201);
    assert_eq!(app.invoice(iid).await["status"], "paid");
    assert_eq!(app.contact(c).await["paid_through"], "2027-12-31", "C-7");
    let subs = app
        .get(&format!("/contacts/{c}/subscriptions"), &app.staff)
        .await
        .expect(200);
    for s in subs.body["items"].as_array().unwrap() {
        assert_eq!(s["paid_through"], "2027-12-31", "{s}");
    }
    let h = app.history(c).await;
    let term = h
        .iter()
        .find(|e| e["kind"] == "term" && e["invoice_id"] == iid)
        .unwrap_or_else(|| panic!("no term in {h:?}"));
    assert_eq!(term["term_begin"], "2027-01-01");
    assert_eq!(term["term_end"], "2027-12-31");
    assert_eq!(term["product"], "MDUES");
    assert_eq!(term["customer_type"], "M");
    // Now paid through the term: not due for the same effective date.
    let p = preview(&app, json!(CYCLE), "2027-01-01").await;
    assert!(!billed_contacts(&p).contains(&c));
}

// ---------------------------------------------------------------- SEC-1

#[tokio::test]
async fn sec1_members_get_403_on_renewal_runs() {
    let app = spawn().await;
    setup(&app).await;
    let c = member(&app, "Member", "REG", "2026-12-31").await;
    let run = real(&app, json!(CYCLE), "2027-01-01").await;
    let token = app.member_token(c).await;
    app.post(
        "/renewal-runs",
        &token,
        json!({"billing_cycle": CYCLE, "effective_date": "2028-01-01", "dry_run": true}),
    )
    .await
    .expect(403);
    app.post(
        "/renewal-runs",
        &token,
        json!({"billing_cycle": CYCLE, "effective_date": "2028-01-01"}),
    )
    .await
    .expect(403);
    app.get("/renewal-runs", &token).await.expect(403);
    app.get(&format!("/renewal-runs/{}", id(&run)), &token)
        .await
        .expect(403);
    app.send(Method::GET, "/renewal-runs", None, None, &[])
        .await
        .expect(401);
    assert_eq!(app.all("/renewal-runs").await.len(), 1);
}

// ---------------------------------------------------------------- paging

/// `n` members paid through 2026-12-31 holding dues, written in bulk; every tenth pays by
/// AutoPay. Their ids, in order.
async fn bulk_members(app: &TestApp, n: usize) -> Vec<i64> {
    let now = Utc::now();
    let rows: Vec<entity::contact::ActiveModel> = (0..n)
        .map(|k| entity::contact::ActiveModel {
            customer_type: Set("M".into()),
            billing_category: Set(Some("REG".into())),
            status: Set("A".into()),
            first_name: Set(Some("Bulk".into())),
            last_name: Set(Some(format!("Member{k:05}"))),
            sort_name: Set(format!("member{k:05}, bulk")),
            autopay: Set(k % 10 == 0),
            email_opt_in: Set(true),
            mail_opt_in: Set(true),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        entity::contact::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&app.db.conn)
            .await
            .expect("insert contacts");
    }
    let ids: Vec<i64> = entity::contact::Entity::find()
        .filter(entity::contact::Column::LastName.starts_with("Member"))
        .order_by_asc(entity::contact::Column::Id)
        .all(&app.db.conn)
        .await
        .expect("contacts")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids.len(), n);
    let import: Vec<Value> = ids
        .iter()
        .map(|c| {
            json!({"contact_id": c, "product": "MDUES", "is_membership_component": true,
                "bill_subscription": true, "paid_through": "2026-12-31"})
        })
        .collect();
    let report = app
        .post(
            "/subscriptions/import",
            &app.staff,
            json!({"action": "insert", "rows": import}),
        )
        .await
        .expect(200);
    assert_eq!(
        report.body["applied"],
        n,
        "{}",
        &report.text[..report.text.len().min(500)]
    );
    assert_eq!(app.contact(ids[n - 1]).await["paid_through"], "2026-12-31");
    ids
}

#[tokio::test]
async fn r2_large_run_pages_through_every_due_contact() {
    // Three pages; on PostgreSQL two are written at once. Every tenth member pays by AutoPay,
    // so the pages written side by side both open the run's one batch.
    const N: usize = 2_500;
    let app = spawn().await;
    setup(&app).await;
    let ids = bulk_members(&app, N).await;
    let r = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(r["considered"], N);
    assert_eq!(r["billed"], N);
    assert_eq!(r["skipped_count"], 0);
    assert_eq!(r["total"], "1250000.00");
    assert_eq!(
        r["invoices"].as_array().unwrap().len(),
        1_000,
        "the first 1,000 listed"
    );
    let rid = id(&r);
    let rec = app
        .get(&format!("/renewal-runs/{rid}"), &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(rec["billed"], N);
    assert_eq!(rec["considered"], N);
    assert_eq!(rec["status"], "completed");
    assert_eq!(rec["last_contact_id"], ids[N - 1]);
    let invs = app.all(&format!("/invoices?renewal_run={rid}")).await;
    assert_eq!(invs.len(), N);
    let who: BTreeSet<i64> = invs
        .iter()
        .map(|i| i["contact_id"].as_i64().unwrap())
        .collect();
    assert_eq!(who, ids.iter().copied().collect::<BTreeSet<_>>());
    let batch = rec["batch_id"].as_i64().expect("one batch for the run");
    let drafts: Vec<&Value> = invs.iter().filter(|i| i["status"] == "draft").collect();
    assert_eq!(drafts.len(), N / 10);
    assert!(drafts.iter().all(|i| i["batch_id"] == batch));
    let b = app
        .get(&format!("/batches/{batch}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(b.body["invoice_ids"].as_array().map(Vec::len), Some(N / 10));
    // I-2: every billed subscription carries its term, once.
    let subs = entity::subscription::Entity::find()
        .filter(entity::subscription::Column::Product.eq("MDUES"))
        .all(&app.db.conn)
        .await
        .expect("subscriptions");
    assert_eq!(subs.len(), N);
    for sub in &subs {
        assert!(sub.billed, "{sub:?}");
        assert_eq!(
            sub.bill_begin.map(|d| d.to_string()).as_deref(),
            Some("2027-01-01")
        );
        assert_eq!(
            sub.bill_through.map(|d| d.to_string()).as_deref(),
            Some("2027-12-31")
        );
        assert_eq!(sub.version, 2, "{sub:?}");
    }
    // One `invoice.created` per invoice, in the order the pages committed.
    let created: Vec<String> = entity::event::Entity::find()
        .filter(entity::event::Column::Kind.eq("invoice.created"))
        .order_by_asc(entity::event::Column::Id)
        .all(&app.db.conn)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.subject)
        .collect();
    assert_eq!(created.len(), N);
    let invoiced: BTreeSet<String> = invs
        .iter()
        .map(|i| format!("invoices/{}", i["id"]))
        .collect();
    assert_eq!(created.into_iter().collect::<BTreeSet<_>>(), invoiced);

    let again = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(again["considered"], N);
    assert_eq!(again["billed"], 0);
    assert_eq!(again["skipped_count"], N);
    assert_eq!(again["skipped"].as_array().unwrap().len(), 1_000);
}

/// A page that fails ends the run as failed; pages written beside it are whole or absent, and
/// the next run bills the rest, each member once.
#[tokio::test]
async fn r2_failed_page_fails_the_run_and_the_next_run_finishes_it() {
    use sea_orm::ConnectionTrait;
    const N: usize = 3_500;
    let app = spawn().await;
    setup(&app).await;
    let ids = bulk_members(&app, N).await;
    // The third page cannot be written.
    let poisoned = ids[2_500];
    let (arm, disarm) = match app.db.conn.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => (
            vec![
                "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'poisoned page'; END $$"
                    .to_string(),
                format!(
                    "CREATE TRIGGER poison BEFORE INSERT ON invoices FOR EACH ROW \
                     WHEN (NEW.contact_id = {poisoned}) EXECUTE FUNCTION poison()"
                ),
            ],
            "DROP TRIGGER poison ON invoices",
        ),
        _ => (
            vec![format!(
                "CREATE TRIGGER poison BEFORE INSERT ON invoices \
                 WHEN NEW.contact_id = {poisoned} BEGIN SELECT RAISE(ABORT, 'poisoned page'); END"
            )],
            "DROP TRIGGER poison",
        ),
    };
    for sql in arm {
        app.db.conn.execute_unprepared(&sql).await.expect("arm");
    }
    run(
        &app,
        json!({"billing_cycle": CYCLE, "effective_date": "2027-01-01"}),
    )
    .await
    .problem(500, "internal_error");
    let runs = app.all("/renewal-runs").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "failed", "{}", runs[0]);
    let first = runs[0]["id"].as_i64().unwrap();
    let billed = app.all(&format!("/invoices?renewal_run={first}")).await;
    let billed_ids: BTreeSet<i64> = billed
        .iter()
        .map(|i| i["contact_id"].as_i64().unwrap())
        .collect();
    // Whole pages of 1,000 or none of one: the two before the poisoned one, and maybe the one
    // written beside it.
    let pages: Vec<usize> = ids
        .chunks(1_000)
        .map(|page| page.iter().filter(|c| billed_ids.contains(c)).count())
        .collect();
    assert_eq!(pages[..3], [1_000, 1_000, 0], "{pages:?}");
    assert!(pages[3] == 0 || pages[3] == N - 3_000, "{pages:?}");
    assert_eq!(runs[0]["billed"], billed.len());

    app.db
        .conn
        .execute_unprepared(disarm)
        .await
        .expect("disarm");
    let second = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(second["billed"], N - billed.len());
    let rest = app
        .all(&format!("/invoices?renewal_run={}", id(&second)))
        .await;
    let mut everyone: Vec<i64> = billed
        .iter()
        .chain(&rest)
        .map(|i| i["contact_id"].as_i64().unwrap())
        .collect();
    everyone.sort_unstable();
    assert_eq!(everyone, ids, "each member billed once");
}

// ---------------------------------------------------------------- T-6, I-7

#[tokio::test]
async fn t6_renew_months_action_bills_the_new_length_with_the_same_primary() {
    let app = spawn().await;
    setup(&app).await;
    let cid = app
        .create_cycle(
            json!({"name": "Primary term", "customer_types": ["M"], "products": ["JOURNAL"],
            "use_primary_fee_term_length": true, "billing_time": "anniversary"}),
        )
        .await;
    let c = member(&app, "Longer", "REG", "2026-12-31").await;
    hold(&app, c, json!({"product": "JOURNAL"})).await;
    // C-5: a profile update cannot change it; the dedicated action can.
    app.patch(
        &format!("/contacts/{c}"),
        &app.staff,
        json!({"renew_months": 24}),
    )
    .await
    .problem(422, "locked_field");
    for bad in [0, 121] {
        app.put(
            &format!("/contacts/{c}/renew-months"),
            &app.staff,
            json!({"renew_months": bad}),
        )
        .await
        .problem(422, "validation_failed");
    }
    let r = app
        .put(
            &format!("/contacts/{c}/renew-months"),
            &app.staff,
            json!({"renew_months": 24}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["renew_months"], 24);
    let result = preview(&app, json!(cid), "2027-01-01").await;
    let bill = bill_of(&result, c);
    // No 24-month family product: MDUES stays, its price scaled 24/12; the journal follows.
    assert_eq!(products(&bill), vec!["MDUES", "JOURNAL"]);
    assert_eq!(line(&bill, "MDUES")["amount"], "1000.00");
    assert_eq!(line(&bill, "JOURNAL")["amount"], "80.00");
    assert_eq!(bill["term_end"], "2028-12-31");
}

#[tokio::test]
async fn i7_reminders_list_open_renewals_and_voluntary_lines_only_with_open_dues() {
    let app = spawn().await;
    setup(&app).await;
    app.create_product_with_term("GIFT", "voluntary", "10.00", 12)
        .await;
    let cid = app
        .create_cycle(
            json!({"name": "Reminded", "customer_types": ["M"], "products": ["GIFT"],
            "reminder_days": 30}),
        )
        .await;
    let a = member(&app, "Unpaid", "REG", "2026-12-31").await;
    let b = member(&app, "DuesPaid", "REG", "2026-12-31").await;
    for c in [a, b] {
        hold(
            &app,
            c,
            json!({"product": "GIFT", "bill_subscription": false, "billed_amount": "10.00"}),
        )
        .await;
        app.patch(
            &format!("/subscriptions/{}", {
                let subs = app.all(&format!("/contacts/{c}/subscriptions")).await;
                subs.iter()
                    .find(|s| s["product"] == "GIFT")
                    .map(id)
                    .unwrap()
            }),
            &app.staff,
            json!({"bill_subscription": true}),
        )
        .await
        .expect(200);
    }
    real(&app, json!(cid), "2027-01-01").await;
    let today = chrono::Utc::now().date_naive();
    // Billed today: with a 30-day wait, nobody is reminded yet.
    let r = app
        .get(
            &format!("/renewal-reminders?billing_cycle={cid}&as_of={today}"),
            &app.staff,
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0, "{}", r.text);
    // B pays the dues only: its open gift alone is no reminder (I-7).
    let inv_b = &open_renewals(&app, b).await[0];
    let dues = line(inv_b, "MDUES")["amount"].as_str().unwrap().to_owned();
    app.pay(id(inv_b), &dues, "2026-12-01").await.expect(201);
    let later = today + chrono::Duration::days(31);
    let r = app
        .get(
            &format!("/renewal-reminders?billing_cycle={cid}&as_of={later}"),
            &app.staff,
        )
        .await
        .expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    assert_eq!(items[0]["contact_id"], a);
    let shown: Vec<&str> = items[0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["product"].as_str().unwrap())
        .collect();
    assert_eq!(shown, vec!["MDUES", "GIFT"]);
    // Unknown cycle: 404.
    app.get("/renewal-reminders?billing_cycle=999999", &app.staff)
        .await
        .problem(404, "not_found");
}

// ----------------------------------------------------------------

#[tokio::test]
async fn r8_renew_in_advance_bills_the_next_term_now_once() {
    let app = spawn().await;
    setup(&app).await;
    let c = member(&app, "Early", "REG", "2027-12-31").await;
    // Not due for a 2026 run...
    let result = preview(&app, json!(CYCLE), "2026-11-22").await;
    assert!(!billed_contacts(&result).contains(&c));
    // ...but staff may bill the next term now.
    let r = app
        .post(
            &format!("/contacts/{c}/renew-in-advance"),
            &app.staff,
            json!({"billing_cycle": CYCLE, "as_of": "2026-11-22"}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["kind"], "renewal");
    assert_eq!(r.body["term_begin"], "2028-01-01");
    assert_eq!(r.body["term_end"], "2028-12-31");
    assert_eq!(line(&r.body, "MDUES")["amount"], "500.00");
    assert!(
        r.header("location")
            .is_some_and(|l| l.ends_with(&format!("/invoices/{}", id(&r.body))))
    );
    // The same term is never billed twice.
    app.post(
        &format!("/contacts/{c}/renew-in-advance"),
        &app.staff,
        json!({"billing_cycle": CYCLE, "as_of": "2026-11-22"}),
    )
    .await
    .problem(409, "conflict");
    // A cycle that does not bill the contact's type is refused.
    let other = app
        .create_cycle(json!({"name": "Hospitals", "customer_types": ["HOSP"]}))
        .await;
    app.post(
        &format!("/contacts/{c}/renew-in-advance"),
        &app.staff,
        json!({"billing_cycle": other}),
    )
    .await
    .problem(422, "validation_failed");
}

#[tokio::test]
async fn r8_renew_in_advance_may_change_the_formula_primary_product() {
    let app = spawn().await;
    setup(&app).await;
    app.create_product_with_term("AM_1", "dues", "100.00", 12)
        .await;
    app.create_product_with_term("AM_2", "dues", "190.00", 24)
        .await;
    app.create_type(
        json!({"code": "AM", "name": "Associate", "is_member": true, "is_organization": false,
        "primary_fee": {"kind": "formula", "designator": "AM", "default_product": "AM_1"},
        "expires_to": "NM"}),
    )
    .await;
    let cid = app
        .create_cycle(
            json!({"name": "Associates", "customer_types": ["AM"], "products": ["JOURNAL"],
            "use_primary_fee_term_length": true, "billing_time": "anniversary"}),
        )
        .await;
    let c = id(&app
        .create_contact(json!({"customer_type": "AM", "billing_category": "REG",
            "first_name": "Ada", "last_name": "Two"}))
        .await);
    hold(
        &app,
        c,
        json!({"product": "AM_1", "is_membership_component": true, "paid_through": "2026-12-31"}),
    )
    .await;
    hold(&app, c, json!({"product": "JOURNAL"})).await;
    app.post(
        &format!("/contacts/{c}/renew-in-advance"),
        &app.staff,
        json!({"billing_cycle": cid, "primary_product": "MDUES"}),
    )
    .await
    .problem(422, "validation_failed");
    let r = app
        .post(
            &format!("/contacts/{c}/renew-in-advance"),
            &app.staff,
            json!({"billing_cycle": cid, "primary_product": "AM_2", "as_of": "2026-11-22"}),
        )
        .await
        .expect(201);
    assert_eq!(products(&r.body), vec!["AM_2", "JOURNAL"]);
    assert_eq!(line(&r.body, "AM_2")["amount"], "190.00");
    assert_eq!(line(&r.body, "JOURNAL")["amount"], "80.00");
    assert_eq!(r.body["term_end"], "2028-12-31");
    // Paid: AM_2 replaces AM_1 (S-8), renew months follow the new product (J-2).
    app.pay(id(&r.body), "270.00", "2026-11-23")
        .await
        .expect(201);
    let subs = app.all(&format!("/contacts/{c}/subscriptions")).await;
    let status = |p: &str| {
        subs.iter()
            .find(|s| s["product"] == p)
            .map(|s| s["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(status("AM_2"), "active");
    assert_eq!(status("AM_1"), "inactive");
    let k = app.contact(c).await;
    assert_eq!(k["paid_through"], "2028-12-31");
    assert_eq!(k["renew_months"], 24);
}

// ---------------------------------------------------------------- I-5

#[tokio::test]
async fn i5_autopay_invoices_wait_in_the_runs_batch_until_posted() {
    let app = spawn().await;
    setup(&app).await;
    let auto = member_with(
        &app,
        json!({"last_name": "Auto", "autopay": true}),
        "2026-12-31",
    )
    .await;
    let manual = member(&app, "Manual", "REG", "2026-12-31").await;
    let run = real(&app, json!(CYCLE), "2027-01-01").await;
    let record = app
        .get(&format!("/renewal-runs/{}", id(&run)), &app.staff)
        .await
        .expect(200);
    let batch = record.body["batch_id"].as_i64().expect("batch id");
    let auto_inv = &open_or_draft(&app, auto).await;
    assert_eq!(auto_inv["status"], "draft");
    assert_eq!(auto_inv["batch_id"], batch);
    assert_eq!(auto_inv["accounting_method"], "accrual");
    let manual_inv = &open_or_draft(&app, manual).await;
    assert_eq!(manual_inv["status"], "open");
    assert!(manual_inv["batch_id"].is_null());
    let b = app
        .get(&format!("/batches/{batch}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(b.body["status"], "open");
    assert_eq!(b.body["invoice_ids"], json!([id(auto_inv)]));
    // Not a receivable yet: no payments.
    app.pay(id(auto_inv), "500.00", "2026-12-01")
        .await
        .problem(409, "conflict");
    let posted = app
        .post(&format!("/batches/{batch}/post"), &app.staff, json!({}))
        .await
        .expect(200);
    assert_eq!(posted.body["status"], "posted");
    assert_eq!(app.invoice(id(auto_inv)).await["status"], "open");
    let events = app.events_of("batch.posted").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["subject"], format!("batches/{batch}"));
    assert_eq!(events[0]["data"]["invoices"], 1);
    assert_eq!(events[0]["data"]["total"], "500.00");
    assert_eq!(events[0]["data"]["renewal_run"], id(&run));
    app.post(&format!("/batches/{batch}/post"), &app.staff, json!({}))
        .await
        .problem(409, "conflict");
    app.delete(&format!("/batches/{batch}"), &app.staff)
        .await
        .problem(409, "conflict");
    app.pay(id(auto_inv), "500.00", "2026-12-01")
        .await
        .expect(201);
}

#[tokio::test]
async fn i5_deleting_a_batch_removes_its_invoices_and_resets_billing() {
    let app = spawn().await;
    setup(&app).await;
    let auto = member_with(
        &app,
        json!({"last_name": "Auto", "autopay": true}),
        "2026-12-31",
    )
    .await;
    let run = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(run["billed"], 1);
    let inv = open_or_draft(&app, auto).await;
    let batch = inv["batch_id"].as_i64().unwrap();
    app.delete(&format!("/batches/{batch}"), &app.staff)
        .await
        .expect(204);
    app.get(&format!("/invoices/{}", id(&inv)), &app.staff)
        .await
        .problem(404, "not_found");
    app.get(&format!("/batches/{batch}"), &app.staff)
        .await
        .problem(404, "not_found");
    let subs = app.all(&format!("/contacts/{auto}/subscriptions")).await;
    let dues = subs.iter().find(|s| s["product"] == "MDUES").unwrap();
    assert_eq!(dues["billed"], false);
    assert!(dues["bill_begin"].is_null());
    let record = app
        .get(&format!("/renewal-runs/{}", id(&run)), &app.staff)
        .await
        .expect(200);
    assert_eq!(record.body["billed"], 0);
    assert_eq!(record.body["total"], "0.00");
    // As if never billed: the next run bills the contact again.
    let again = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(again["billed"], 1);
}

async fn open_or_draft(app: &TestApp, c: i64) -> Value {
    let items = app.all(&format!("/contacts/{c}/invoices")).await;
    items
        .into_iter()
        .find(|i| i["status"] == "draft" || i["status"] == "open")
        .expect("a renewal invoice")
}

// ----------------------------------------------------------------

#[tokio::test]
async fn r7_member_itemizes_the_open_renewal_and_a_new_primary_cancels_both_previous() {
    let app = spawn().await;
    setup(&app).await;
    app.create_product_with_term("LEVY", "dues", "50.00", 12)
        .await;
    app.create_product_with_term("GIFT", "voluntary", "10.00", 12)
        .await;
    app.create_type(
        json!({"code": "DUO", "name": "Two-part dues", "is_member": true, "is_organization": false,
        "primary_fee": {"kind": "products", "products": ["MDUES", "LEVY"]}, "expires_to": "NM"}),
    )
    .await;
    let cid = app.create_cycle(json!({"name": "Itemized", "customer_types": ["DUO"], "products": ["JOURNAL", "BOOK", "GIFT"],
            "itemized_renewals": true}),
    )
    .await;
    let c = id(&app
        .create_contact(json!({"customer_type": "DUO", "billing_category": "REG",
            "first_name": "Ida", "last_name": "Items"}))
        .await);
    hold(
        &app,
        c,
        json!({"product": "MDUES", "is_membership_component": true, "paid_through": "2026-12-31"}),
    )
    .await;
    hold(&app, c, json!({"product": "LEVY"})).await;
    hold(&app, c, json!({"product": "JOURNAL"})).await;
    let me = app.member_token(c).await;
    // Nothing to itemize before the run.
    app.get("/me/renewal", &me).await.problem(404, "not_found");
    real(&app, json!(cid), "2027-01-01").await;
    let r = app.get("/me/renewal", &me).await.expect(200);
    assert_eq!(
        products(&r.body["invoice"]),
        vec!["MDUES", "LEVY", "JOURNAL"]
    );
    assert_eq!(r.body["optional_items"], json!(["BOOK", "GIFT"]));
    assert_eq!(r.body["primary_choices"], json!(["MDUES", "LEVY"]));
    // Optional items and voluntary amounts.
    let r = app
        .post(
            "/me/renewal",
            &me,
            json!({"remove": ["JOURNAL"], "add_ons": ["BOOK", "GIFT"], "voluntary": {"GIFT": "15.00"}}),
        )
        .await
        .expect(200);
    assert_eq!(
        products(&r.body["invoice"]),
        vec!["MDUES", "LEVY", "BOOK", "GIFT"]
    );
    assert_eq!(line(&r.body["invoice"], "GIFT")["amount"], "15.00");
    assert_eq!(r.body["invoice"]["total"], "580.00");
    // J-6: items the member adds bill subscriptions of their own, opened for them.
    for product in ["BOOK", "GIFT"] {
        let sub = line(&r.body["invoice"], product)["subscription_id"].as_i64();
        let sub = app
            .subscription(sub.unwrap_or_else(|| panic!("{product}: {}", r.text)))
            .await;
        assert_eq!(
            (sub["product"].as_str(), sub["billed"].as_bool()),
            (Some(product), Some(true))
        );
    }
    // The primary fee cannot be removed on its own...
    app.post("/me/renewal", &me, json!({"remove": ["LEVY"]}))
        .await
        .problem(422, "validation_failed");
    // ...and choosing one cancels both previous primary items.
    let r = app
        .post("/me/renewal", &me, json!({"primary_product": "MDUES"}))
        .await
        .expect(200);
    assert_eq!(products(&r.body["invoice"]), vec!["MDUES", "BOOK", "GIFT"]);
    assert_eq!(r.body["invoice"]["total"], "530.00");
    // The member's changes are invoice adjustments, announced like staff ones.
    let adjusted = app.events_of("invoice.adjusted").await;
    let totals: Vec<_> = adjusted.iter().map(|e| &e["data"]["total"]).collect();
    assert_eq!(totals, [&json!("580.00"), &json!("530.00")]);
    assert_eq!(
        adjusted[0]["data"]["reason"],
        "itemized renewal by the member"
    );
    assert_eq!(
        adjusted[0]["subject"],
        format!("invoices/{}", id(&r.body["invoice"]))
    );
    app.post("/me/renewal", &me, json!({"primary_product": "JOURNAL"}))
        .await
        .problem(422, "validation_failed");
    // Paying it renews the member.
    let inv = id(&r.body["invoice"]);
    app.pay(inv, "530.00", "2026-12-15").await.expect(201);
    assert_eq!(app.contact(c).await["paid_through"], "2027-12-31");
    app.get("/me/renewal", &me).await.problem(404, "not_found");
}

#[tokio::test]
async fn r7_cycles_without_itemized_renewals_are_not_itemized() {
    let app = spawn().await;
    setup(&app).await;
    let c = member(&app, "Plain", "REG", "2026-12-31").await;
    real(&app, json!(CYCLE), "2027-01-01").await;
    let me = app.member_token(c).await;
    app.get("/me/renewal", &me).await.problem(409, "conflict");
    app.post("/me/renewal", &me, json!({"add_ons": ["JOURNAL"]}))
        .await
        .problem(409, "conflict");
    // Staff use /contacts and /invoices; /me is for members.
    app.get("/me/renewal", &app.staff)
        .await
        .problem(403, "forbidden");
}

// ---------------------------------------------------------------- B-15

/// B-15: a non-dues cycle bills each holder whose subscription to one of its products is not
/// paid through the effective date, from that subscription's own paid-through; the membership
/// paid-through plays no part, and paying moves the subscription alone.
#[tokio::test]
async fn b15_non_dues_cycles_choose_who_is_due_by_each_subscription() {
    let app = spawn().await;
    setup(&app).await;
    let journals = app
        .create_cycle(json!({"name": "Journal renewals", "membership": false,
            "customer_types": ["M"], "products": ["JOURNAL", "BOOK"]}))
        .await;
    // A member paid through 2027 whose journal ran out in 2026: due for the journal only,
    // from the journal's paid-through (the membership's would start in 2028).
    let reader = member(&app, "Reader", "REG", "2027-12-31").await;
    hold(
        &app,
        reader,
        json!({"product": "JOURNAL", "paid_through": "2026-12-31"}),
    )
    .await;
    hold(
        &app,
        reader,
        json!({"product": "BOOK", "paid_through": "2027-12-31"}),
    )
    .await;
    // A lapsed member whose journal runs to 2027: not due.
    let lapsed = member(&app, "Lapsed", "REG", "2026-06-30").await;
    hold(
        &app,
        lapsed,
        json!({"product": "JOURNAL", "paid_through": "2027-12-31"}),
    )
    .await;
    // A member whose journal was never paid: due from the effective date.
    let fresh = member(&app, "Fresh", "REG", "2027-12-31").await;
    hold(&app, fresh, json!({"product": "JOURNAL"})).await;

    let r = real(&app, json!(journals), "2027-01-01").await;
    assert_eq!(billed_contacts(&r), BTreeSet::from([reader, fresh]), "{r}");
    assert_eq!(r["considered"], 2);
    let bill = bill_of(&r, reader);
    assert_eq!(products(&bill), ["JOURNAL"]);
    assert_eq!(bill["term_begin"], "2027-01-01");
    assert_eq!(bill["term_end"], "2027-12-31");
    assert_eq!(bill["total"], "40.00");
    assert_eq!(bill_of(&r, fresh)["term_begin"], "2027-01-01");

    let invoice = app.invoice(bill["invoice_id"].as_i64().unwrap()).await;
    app.pay(id(&invoice), "40.00", "2027-01-05")
        .await
        .expect(201);
    let journal = app
        .subscriptions(&format!("contact_id={reader}&product=JOURNAL"))
        .await;
    assert_eq!(journal[0]["paid_through"], invoice["term_end"]);
    // The membership stays as it was: no type, term or paid-through change from a journal.
    let contact = app.contact(reader).await;
    assert_eq!(contact["paid_through"], "2027-12-31");
    assert_eq!(contact["customer_type"], "M");
    let history = app.history(reader).await;
    assert!(history.iter().all(|h| h["kind"] != "term"), "{history:?}");
}

// ---------------------------------------------------------------- B-16

/// B-16: a run may bill by another AutoPay option than its cycle's; the run records the one
/// it used, and without one it uses the cycle's.
#[tokio::test]
async fn b16_a_run_overrides_the_cycles_autopay_option() {
    let app = spawn().await;
    setup(&app).await;
    let auto = member_with(
        &app,
        json!({"last_name": "Auto", "autopay": true}),
        "2026-12-31",
    )
    .await;
    let manual = member(&app, "Manual", "REG", "2026-12-31").await;
    let all = app
        .create_cycle(json!({"name": "All", "customer_types": ["M"]}))
        .await;
    let with_option = |option: &str, dry_run: bool| {
        json!({"billing_cycle": all, "effective_date": "2027-01-01", "dry_run": dry_run,
            "autopay_option": option})
    };
    let p = run(&app, with_option("only_non_autopay", true))
        .await
        .expect(200);
    assert_eq!(billed_contacts(&p.body), BTreeSet::from([manual]));
    assert_eq!(p.body["autopay_option"], "only_non_autopay");
    // The cycle itself is unchanged.
    let cycle = app
        .get(&format!("/billing-cycles/{all}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(cycle.body["autopay_option"], "bill_all");

    // Only AutoPay, for this run: always accrual (B-8), recorded on the run.
    let r = run(&app, with_option("only_autopay", false))
        .await
        .expect(201);
    assert_eq!(billed_contacts(&r.body), BTreeSet::from([auto]));
    let rec = app
        .get(&format!("/renewal-runs/{}", id(&r.body)), &app.staff)
        .await
        .expect(200);
    assert_eq!(rec.body["autopay_option"], "only_autopay");
    let inv = app
        .invoice(bill_of(&r.body, auto)["invoice_id"].as_i64().unwrap())
        .await;
    assert_eq!(inv["accounting_method"], "accrual");

    // Without the field the cycle's option applies: the manual member is billed now.
    let r = real(&app, json!(all), "2027-01-01").await;
    assert_eq!(r["autopay_option"], "bill_all");
    assert_eq!(billed_contacts(&r), BTreeSet::from([manual]));
    // An unknown option is refused, naming the field, and runs nothing.
    let before = app.all("/renewal-runs").await.len();
    let refused = run(&app, with_option("sometimes", false)).await;
    assert_eq!(refused.status.as_u16(), 422);
    tests::assert_field_error(&refused, "autopay_option");
    assert_eq!(app.all("/renewal-runs").await.len(), before);
}

// ----------------------------------------------------------------

/// a due member without an open renewal starts one (`POST /me/renewal` with `{}`),
/// billed as a run of that one contact would bill it; staff do the same for any contact.
/// One open renewal at a time; a contact who is not due is refused and nothing is written.
#[tokio::test]
async fn r9_a_due_member_starts_their_own_renewal_and_staff_any_contacts() {
    let app = spawn().await;
    setup(&app).await;
    let today = Utc::now().date_naive();
    let lapsing = (today - chrono::Days::new(10)).to_string();
    let due = member(&app, "Due", "REG", &lapsing).await;
    hold(
        &app,
        due,
        json!({"product": "JOURNAL", "paid_through": lapsing}),
    )
    .await;
    let other = member(&app, "Other", "REG", &lapsing).await;
    let paid_up = member(
        &app,
        "PaidUp",
        "REG",
        &(today + Months::new(14)).to_string(),
    )
    .await;
    let as_run = bill_of(&preview(&app, json!(CYCLE), &today.to_string()).await, due);

    let me = app.member_token(due).await;
    let r = app.post("/me/renewal", &me, json!({})).await.expect(201);
    let invoice = r.body.clone();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/invoices/{}", id(&invoice)))
    );
    assert_eq!(invoice["kind"], "renewal");
    assert_eq!(invoice["contact_id"], due);
    assert_eq!(products(&invoice), products(&as_run));
    assert_eq!(invoice["total"], as_run["total"]);
    assert_eq!(invoice["term_begin"], as_run["term_begin"]);
    assert!(
        invoice["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["subscription_id"].is_i64())
    );
    // The member reads it among their invoices; a second start is refused.
    let mine = app.get("/me/invoices", &me).await.expect(200);
    assert!(
        mine.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == invoice["id"])
    );
    app.post(&format!("/contacts/{due}/renewal"), &app.staff, json!({}))
        .await
        .problem(409, "conflict");
    // A run bills it once: the started renewal counts as billed.
    let run = real(&app, json!(CYCLE), &today.to_string()).await;
    assert!(skip_reason(&run, due).contains("already billed"), "{run}");

    // Not due: refused, nothing written.
    let paid_up_token = app.member_token(paid_up).await;
    let refused = app.post("/me/renewal", &paid_up_token, json!({})).await;
    assert!(refused.text.contains("not due"), "{}", refused.text);
    refused.problem(409, "conflict");
    assert!(open_renewals(&app, paid_up).await.is_empty());

    // Staff start anyone's, through a named cycle; members may not use the staff path.
    app.post(&format!("/contacts/{other}/renewal"), &me, json!({}))
        .await
        .problem(403, "forbidden");
    let fresh = member(&app, "Fresh", "REG", &lapsing).await;
    app.post(
        &format!("/contacts/{fresh}/renewal"),
        &app.staff,
        json!({"billing_cycle": "No such cycle"}),
    )
    .await
    .problem(422, "validation_failed");
    assert!(open_renewals(&app, fresh).await.is_empty());
    let started = app
        .post(
            &format!("/contacts/{fresh}/renewal"),
            &app.staff,
            json!({"billing_cycle": CYCLE}),
        )
        .await
        .expect(201);
    assert_eq!(started.body["contact_id"], fresh);
    assert_eq!(open_renewals(&app, fresh).await.len(), 1);
}

// ---------------------------------------------------------------- B-14

/// B-14: with "require billed chapters on renewal" a renewal bills every chapter the last paid
/// dues invoice billed, even one made inactive since, and the member cannot remove it when
/// itemizing; a cycle that requires a chapter bills nobody left without one.
#[tokio::test]
async fn b14_renewals_keep_the_chapters_billed_before_and_require_one_where_asked() {
    let app = spawn().await;
    setup(&app).await;
    let a = member(&app, "Ames", "REG", "2026-12-31").await;
    let chapter = hold(
        &app,
        a,
        json!({"product": "CHAPT/EAST", "paid_through": "2026-12-31"}),
    )
    .await;
    let with_chapters = app
        .create_cycle(json!({"name": "With chapters", "customer_types": ["M"],
            "include_all_chapters": true}))
        .await;
    let first = real(&app, json!(with_chapters), "2027-01-01").await;
    let paid = bill_of(&first, a);
    assert_eq!(products(&paid), ["MDUES", "CHAPT/EAST"]);
    let invoice = paid["invoice_id"].as_i64().unwrap();
    app.pay(invoice, paid["total"].as_str().unwrap(), "2027-01-02")
        .await
        .expect(201);
    // The member lets the chapter lapse.
    app.patch(
        &format!("/subscriptions/{chapter}"),
        &app.staff,
        json!({"status": "inactive"}),
    )
    .await
    .expect(200);

    let plain = app
        .create_cycle(json!({"name": "Plain", "customer_types": ["M"]}))
        .await;
    let p = preview(&app, json!(plain), "2028-01-01").await;
    assert_eq!(products(&bill_of(&p, a)), ["MDUES"]);
    let keeping = app
        .create_cycle(json!({"name": "Keeping chapters", "customer_types": ["M"],
            "products": ["CHAPT/EAST"], "require_billed_chapters_on_renewal": true,
            "itemized_renewals": true}))
        .await;
    let r = real(&app, json!(keeping), "2028-01-01").await;
    let renewal = bill_of(&r, a);
    assert_eq!(products(&renewal), ["MDUES", "CHAPT/EAST"]);
    let billed = app.invoice(renewal["invoice_id"].as_i64().unwrap()).await;
    assert_eq!(line(&billed, "CHAPT/EAST")["subscription_id"], chapter);

    // Itemizing cannot drop it; nothing changes.
    let me = app.member_token(a).await;
    let refused = app
        .post("/me/renewal", &me, json!({"remove": ["CHAPT/EAST"]}))
        .await;
    tests::assert_field_error(&refused, "remove");
    refused.problem(422, "validation_failed");
    let still = app.invoice(renewal["invoice_id"].as_i64().unwrap()).await;
    assert_eq!(products(&still), ["MDUES", "CHAPT/EAST"]);

    // A cycle that requires a chapter skips a member without one.
    let b = member(&app, "Bell", "REG", "2026-12-31").await;
    let requiring = app
        .create_cycle(json!({"name": "Chapter required", "customer_types": ["M"],
            "products": ["CHAPT/EAST"], "require_chapter": true}))
        .await;
    let r = preview(&app, json!(requiring), "2027-01-01").await;
    assert!(skip_reason(&r, b).contains("requires a chapter"), "{r}");
}

// ---------------------------------------------------------------- S-10

/// S-10: a run bills each subscription to its bill-to contact: one invoice per (contact,
/// payer). The payer reads it under its own invoices; paying it has the holder's effects on
/// that subscription, and the membership follows the dues invoice alone.
#[tokio::test]
async fn s10_a_run_invoices_each_payer_for_what_it_pays() {
    let app = spawn().await;
    setup(&app).await;
    let hospital = id(&app
        .create_contact(json!({"customer_type": "HOSP", "organization_name": "General Hospital"}))
        .await);
    let doctor = member(&app, "Staffer", "REG", "2026-12-31").await;
    let journal = hold(
        &app,
        doctor,
        json!({"product": "JOURNAL", "paid_through": "2026-12-31", "bill_to_id": hospital}),
    )
    .await;
    let r = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(r["billed"], 1);
    assert_eq!(r["total"], "540.00");
    let invoices = app.all(&format!("/invoices?renewal_run={}", id(&r))).await;
    let parts: BTreeMap<i64, (Vec<String>, String)> = invoices
        .iter()
        .map(|i| {
            assert_eq!(i["contact_id"], doctor);
            let payer = i["bill_to_id"].as_i64().unwrap();
            (
                payer,
                (products(i), i["total"].as_str().unwrap().to_owned()),
            )
        })
        .collect();
    assert_eq!(
        parts,
        BTreeMap::from([
            (doctor, (vec!["MDUES".to_owned()], "500.00".to_owned())),
            (hospital, (vec!["JOURNAL".to_owned()], "40.00".to_owned())),
        ])
    );
    let own = invoices.iter().find(|i| i["bill_to_id"] == doctor).unwrap();
    assert_eq!(bill_of(&r, doctor)["invoice_id"], own["id"]);
    let paid_by_hospital = invoices
        .iter()
        .find(|i| i["bill_to_id"] == hospital)
        .unwrap();

    // The payer sees it among its own invoices, as a member and to staff.
    let payer = app.member_token(hospital).await;
    let mine = app.get("/me/invoices", &payer).await.expect(200).body;
    let ids: Vec<i64> = mine["items"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids, [id(paid_by_hospital)]);
    app.get(&format!("/invoices/{}", id(paid_by_hospital)), &payer)
        .await
        .expect(200);
    let staff_view = app.all(&format!("/contacts/{hospital}/invoices")).await;
    assert_eq!(staff_view.len(), 1);

    // Paying the hospital's invoice pays the journal through; the membership waits for dues.
    app.pay(id(paid_by_hospital), "40.00", "2027-01-03")
        .await
        .expect(201);
    assert_eq!(
        app.subscription(journal).await["paid_through"],
        "2027-12-31"
    );
    assert_eq!(app.contact(doctor).await["paid_through"], "2026-12-31");
    app.pay(id(own), "500.00", "2027-01-04").await.expect(201);
    assert_eq!(app.contact(doctor).await["paid_through"], "2027-12-31");
    // Billed once: a second run skips the doctor.
    let again = real(&app, json!(CYCLE), "2027-01-01").await;
    assert_eq!(again["billed"], 0);
}

/// B-9, B-14: itemizing a renewal of a cycle that requires a chapter cannot leave it without
/// one; the refused change writes nothing.
#[tokio::test]
async fn b14_itemizing_cannot_drop_the_last_chapter_of_a_cycle_that_requires_one() {
    let app = spawn().await;
    setup(&app).await;
    let a = member(&app, "Ames", "REG", "2026-12-31").await;
    hold(
        &app,
        a,
        json!({"product": "CHAPT/EAST", "paid_through": "2026-12-31"}),
    )
    .await;
    let cycle = app
        .create_cycle(json!({"name": "Chapters required", "customer_types": ["M"],
            "products": ["CHAPT/EAST"], "require_chapter": true, "itemized_renewals": true}))
        .await;
    let r = real(&app, json!(cycle), "2027-01-01").await;
    let invoice = bill_of(&r, a)["invoice_id"].as_i64().unwrap();
    assert_eq!(
        products(&app.invoice(invoice).await),
        ["MDUES", "CHAPT/EAST"]
    );
    let me = app.member_token(a).await;
    let refused = app
        .post("/me/renewal", &me, json!({"remove": ["CHAPT/EAST"]}))
        .await;
    assert!(
        refused.text.contains("requires a chapter"),
        "{}",
        refused.text
    );
    refused.problem(422, "validation_failed");
    assert_eq!(
        products(&app.invoice(invoice).await),
        ["MDUES", "CHAPT/EAST"]
    );
}
