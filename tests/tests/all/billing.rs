//! Joining, invoices and payments over HTTP: J-1..J-5, T-3/T-4/T-7, P-5, B-9, I-1..I-4, I-6,
//! L-6, C-7 and the member boundaries of SEC-1.

use reqwest::Method;
use serde_json::{Value, json};
use tests::{TestApp, cents, error_fields, id, line, products, spawn};

const JOIN_CYCLE: &str = "Member join";

/// E-1 with annual billing in a January fiscal year, a 12-month journal, a voluntary gift and
/// the join cycle `Member join` for type `M` (rejoin window 5 months).
async fn setup(app: &TestApp) {
    app.doctors().await;
    app.set_settings(json!({"default_billing_time": "annual", "fiscal_year_start_month": 1}))
        .await;
    app.create_product("JOURNAL", "subscription", "40.00").await;
    app.create_product("GIFT", "voluntary", "10.00").await;
    app.create_cycle(
        json!({"name": JOIN_CYCLE, "customer_types": ["M"], "products": ["JOURNAL", "GIFT"],
            "join_item_set": true, "rejoin_as_renewal_months": 5}),
    )
    .await;
}

async fn join(app: &TestApp, contact: i64, body: Value) -> tests::Res {
    app.post(&format!("/contacts/{contact}/join"), &app.staff, body)
        .await
}

/// A staff join that must be billed; returns the invoice.
async fn billed(app: &TestApp, contact: i64, body: Value) -> Value {
    let r = join(app, contact, body).await.expect(201);
    assert_eq!(r.body["status"], "open", "{}", r.text);
    r.body["invoice"].clone()
}

async fn invoice_count(app: &TestApp, contact: i64) -> usize {
    app.get(&format!("/invoices?contact_id={contact}"), &app.staff)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .expect("items")
        .len()
}

fn base_join(date: &str) -> Value {
    json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG", "join_date": date})
}

// ---------------------------------------------------------------- J-1

#[tokio::test]
async fn j1_paid_join_assigns_the_cycles_type_and_chosen_category() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Joiner").await;
    let inv = billed(
        &app,
        c,
        json!({"billing_cycle": JOIN_CYCLE, "billing_category": "FYEAR", "join_date": "2026-04-10"}),
    )
    .await;
    assert_eq!(inv["customer_type"], "M");
    assert_eq!(inv["billing_category"], "FYEAR");
    assert_eq!(inv["kind"], "join");
    // J-5: unpaid, the contact is unchanged.
    let before = app.contact(c).await;
    assert_eq!(before["customer_type"], "NM");
    assert_eq!(before["is_member"], false);
    assert!(before["billing_category"].is_null(), "{before}");
    assert!(before["paid_through"].is_null());
    app.pay(id(&inv), inv["total"].as_str().unwrap(), "2026-04-11")
        .await
        .expect(201);
    let after = app.contact(c).await;
    assert_eq!(after["customer_type"], "M");
    assert_eq!(after["billing_category"], "FYEAR");
    assert_eq!(after["is_member"], true);
}

/// API.md: a join's response is the invoice, its own fields at the top level, plus
/// `treated_as`; a preview has the same shape with no id.
#[tokio::test]
async fn j1_the_join_response_is_the_invoice() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Shape").await;
    let r = join(&app, c, base_join("2026-04-10")).await.expect(201);
    let shown = app.invoice(id(&r.body)).await;
    for field in [
        "id",
        "contact_id",
        "bill_to_id",
        "kind",
        "billing_cycle",
        "accounting_method",
        "status",
        "treated_as",
        "term_begin",
        "term_end",
        "term_months",
        "customer_type",
        "billing_category",
        "lines",
        "total",
        "paid",
        "balance",
        "renewal_run",
        "batch_id",
        "void_reason",
        "version",
        "created_at",
        "updated_at",
    ] {
        assert_eq!(r.body[field], shown[field], "{field}: {}", r.text);
    }
    assert_eq!(r.body["contact_id"], c);
    assert_eq!(r.body["bill_to_id"], c);
    assert_eq!(r.body["kind"], "join");

    let mut body = base_join("2026-04-10");
    body["dry_run"] = json!(true);
    let preview = join(&app, c, body).await.expect(200);
    assert!(preview.body["id"].is_null() && preview.body["version"].is_null());
    assert_eq!(preview.body["contact_id"], c);
    assert_eq!(preview.body["kind"], "join");
    assert_eq!(preview.body["billing_cycle"], shown["billing_cycle"]);
}

#[tokio::test]
async fn j1_join_by_cycle_id_matches_join_by_name() {
    let app = spawn().await;
    setup(&app).await;
    let cycles = app.get("/billing-cycles", &app.staff).await.expect(200);
    let cid = cycles.body["items"][0]["id"].as_i64().expect("cycle id");
    let c = app.person("NM", "ById").await;
    let mut body = base_join("2026-04-10");
    body["billing_cycle"] = json!(cid);
    body["dry_run"] = json!(true);
    let r = join(&app, c, body).await.expect(200);
    assert_eq!(r.body["status"], "preview");
    assert!(r.body["id"].is_null());
    assert_eq!(r.body["total"], "375.00");
    assert_eq!(invoice_count(&app, c).await, 0, "a preview writes nothing");
}

#[tokio::test]
async fn j1_cycle_without_join_item_set_is_rejected() {
    let app = spawn().await;
    setup(&app).await;
    app.create_cycle(
        json!({"name": "Renewals only", "customer_types": ["M"], "products": ["JOURNAL"]}),
    )
    .await;
    let c = app.person("NM", "NoJoin").await;
    let r = join(
        &app,
        c,
        json!({"billing_cycle": "Renewals only", "billing_category": "REG", "join_date": "2026-04-10"}),
    )
    .await
    .problem(422, "validation_failed");
    assert!(
        error_fields(&r).contains(&"billing_cycle".to_owned()),
        "{}",
        r.text
    );
    assert_eq!(invoice_count(&app, c).await, 0);
}

#[tokio::test]
async fn j1_unknown_cycle_is_rejected() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Unknown").await;
    let r = join(
        &app,
        c,
        json!({"billing_cycle": "No such cycle", "billing_category": "REG"}),
    )
    .await
    .problem(422, "validation_failed");
    assert!(r.text.contains("No such cycle"), "{}", r.text);
    join(
        &app,
        c,
        json!({"billing_cycle": 987654, "billing_category": "REG"}),
    )
    .await
    .problem(422, "validation_failed");
}

#[tokio::test]
async fn j1_category_outside_the_cycles_categories_is_rejected() {
    let app = spawn().await;
    setup(&app).await;
    app.create_cycle(json!({"name": "Regular join", "customer_types": ["M"], "billing_categories": ["REG", "FYEAR"],
            "join_item_set": true}),
    )
    .await;
    let c = app.person("NM", "Intl").await;
    let r = join(
        &app,
        c,
        json!({"billing_cycle": "Regular join", "billing_category": "INTL", "join_date": "2026-04-10"}),
    )
    .await
    .problem(422, "validation_failed");
    assert!(
        error_fields(&r).contains(&"billing_category".to_owned()),
        "{}",
        r.text
    );
    join(
        &app,
        c,
        json!({"billing_cycle": "Regular join", "billing_category": "FYEAR", "join_date": "2026-04-10"}),
    )
    .await
    .expect(201);
}

// ---------------------------------------------------------------- J-2, T-2, T-4, E-3

async fn associates(app: &TestApp) {
    setup(app).await;
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
    app.create_cycle(
        json!({"name": "Associate join", "customer_types": ["AM"], "products": ["JOURNAL", "GIFT"],
            "join_item_set": true, "use_primary_fee_term_length": true,
            "billing_time": "anniversary"}),
    )
    .await;
}

#[tokio::test]
async fn j2_formula_default_product_gives_a_12_month_term() {
    let app = spawn().await;
    associates(&app).await;
    let c = app.person("NM", "Assoc").await;
    let r = join(
        &app,
        c,
        json!({"billing_cycle": "Associate join", "billing_category": "REG",
            "join_date": "2026-04-10", "dry_run": true}),
    )
    .await
    .expect(200);
    let b = &r.body;
    assert_eq!(products(b), vec!["AM_1"]);
    assert_eq!(b["term_begin"], "2026-04-10");
    assert_eq!(b["term_end"], "2027-04-09");
    assert_eq!(line(b, "AM_1")["amount"], "100.00");
    assert_eq!(b["total"], "100.00");
}

#[tokio::test]
async fn j2_chosen_family_product_sets_term_and_renew_months() {
    let app = spawn().await;
    associates(&app).await;
    let c = app.person("NM", "Assoc2").await;
    let inv = billed(
        &app,
        c,
        json!({"billing_cycle": "Associate join", "billing_category": "REG",
            "primary_product": "AM_2", "add_ons": ["JOURNAL", "GIFT"], "voluntary": {"GIFT": "25.00"},
            "join_date": "2026-04-10"}),
    )
    .await;
    assert_eq!(inv["term_months"], 24);
    assert_eq!(inv["term_begin"], "2026-04-10");
    assert_eq!(inv["term_end"], "2028-04-09");
    assert_eq!(line(&inv, "AM_2")["amount"], "190.00");
    assert_eq!(line(&inv, "AM_2")["is_primary"], true);
    // T-4 / E-3: a 12-month journal with a 24-month membership costs double; voluntary does not.
    assert_eq!(line(&inv, "JOURNAL")["amount"], "80.00");
    assert_eq!(line(&inv, "JOURNAL")["term_end"], "2028-04-09");
    assert_eq!(line(&inv, "GIFT")["amount"], "25.00");
    assert_eq!(line(&inv, "GIFT")["term_end"], "2028-04-09");
    assert_eq!(inv["total"], "295.00");
    app.pay(id(&inv), "295.00", "2026-04-12").await.expect(201);
    let k = app.contact(c).await;
    assert_eq!(k["customer_type"], "AM");
    assert_eq!(k["renew_months"], 24);
    assert_eq!(k["paid_through"], "2028-04-09");
}

#[tokio::test]
async fn j2_product_outside_the_family_is_rejected() {
    let app = spawn().await;
    associates(&app).await;
    let c = app.person("NM", "Outside").await;
    let r = join(
        &app,
        c,
        json!({"billing_cycle": "Associate join", "billing_category": "REG",
            "primary_product": "MDUES", "join_date": "2026-04-10"}),
    )
    .await
    .problem(422, "validation_failed");
    assert!(
        error_fields(&r).contains(&"primary_product".to_owned()),
        "{}",
        r.text
    );
    assert_eq!(invoice_count(&app, c).await, 0);
}

// ---------------------------------------------------------------- J-3, B-9

async fn chapters(app: &TestApp, require: bool, multiple: bool) {
    setup(app).await;
    for code in ["CHAPT/EAST", "CHAPT/WEST", "CHAPT/NORTH"] {
        app.create_product(code, "chapter", "20.00").await;
    }
    app.create_cycle(json!({"name": "Chapter join", "customer_types": ["M"],
            "products": ["CHAPT/EAST", "CHAPT/WEST", "GIFT"], "join_item_set": true,
            "require_chapter": require, "allow_multiple_chapters": multiple}))
        .await;
}

fn chapter_join(chapters: Value) -> Value {
    json!({"billing_cycle": "Chapter join", "billing_category": "REG", "chapters": chapters,
        "join_date": "2026-04-10"})
}

#[tokio::test]
async fn j3_b9_required_chapter_missing_is_rejected() {
    let app = spawn().await;
    chapters(&app, true, false).await;
    let c = app.person("NM", "NoChapter").await;
    let r = join(&app, c, chapter_join(json!([])))
        .await
        .problem(422, "validation_failed");
    assert!(
        error_fields(&r).contains(&"chapters".to_owned()),
        "{}",
        r.text
    );
    let mut no_field = chapter_join(json!([]));
    no_field.as_object_mut().unwrap().remove("chapters");
    join(&app, c, no_field)
        .await
        .problem(422, "validation_failed");
    assert_eq!(invoice_count(&app, c).await, 0);
}

#[tokio::test]
async fn j3_b9_two_chapters_without_allow_multiple_is_rejected() {
    let app = spawn().await;
    chapters(&app, true, false).await;
    let c = app.person("NM", "TwoChapters").await;
    let r = join(&app, c, chapter_join(json!(["CHAPT/EAST", "CHAPT/WEST"])))
        .await
        .problem(422, "validation_failed");
    assert!(
        error_fields(&r).contains(&"chapters".to_owned()),
        "{}",
        r.text
    );
    let inv = billed(&app, c, chapter_join(json!(["CHAPT/EAST"]))).await;
    // The chapter line follows the member's prorated term (T-4).
    assert_eq!(line(&inv, "CHAPT/EAST")["amount"], "15.00");
    assert_eq!(line(&inv, "CHAPT/EAST")["term_begin"], "2026-04-01");
}

#[tokio::test]
async fn j3_b9_chapter_not_in_the_cycle_is_rejected() {
    let app = spawn().await;
    chapters(&app, false, true).await;
    let c = app.person("NM", "North").await;
    let r = join(&app, c, chapter_join(json!(["CHAPT/NORTH"])))
        .await
        .problem(422, "validation_failed");
    assert!(r.text.contains("CHAPT/NORTH"), "{}", r.text);
}

#[tokio::test]
async fn j3_b9_first_chapter_becomes_primary_and_voluntary_amount_is_used() {
    let app = spawn().await;
    chapters(&app, true, true).await;
    let c = app.person("NM", "Multi").await;
    let mut body = chapter_join(json!(["CHAPT/WEST", "CHAPT/EAST"]));
    body["add_ons"] = json!(["GIFT"]);
    body["voluntary"] = json!({"GIFT": "12.34"});
    let inv = billed(&app, c, body).await;
    assert_eq!(line(&inv, "GIFT")["amount"], "12.34");
    assert_eq!(line(&inv, "GIFT")["voluntary"], true);
    assert!(products(&inv).contains(&"CHAPT/WEST".to_owned()));
    assert!(products(&inv).contains(&"CHAPT/EAST".to_owned()));
    assert!(app.contact(c).await["primary_chapter"].is_null());
    app.pay(id(&inv), inv["total"].as_str().unwrap(), "2026-04-11")
        .await
        .expect(201);
    assert_eq!(app.contact(c).await["primary_chapter"], "CHAPT/WEST");
}

#[tokio::test]
async fn j3_voluntary_amount_default_and_negative_amount() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Vol").await;
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["GIFT"]);
    body["dry_run"] = json!(true);
    let r = join(&app, c, body.clone()).await.expect(200);
    // Not edited: the product's price, never prorated.
    assert_eq!(line(&r.body, "GIFT")["amount"], "10.00");
    body["voluntary"] = json!({"GIFT": "-5.00"});
    let r = join(&app, c, body).await.problem(422, "validation_failed");
    assert!(
        error_fields(&r).contains(&"voluntary".to_owned()),
        "{}",
        r.text
    );
}

// ---------------------------------------------------------------- J-4, E-4

async fn former_member(app: &TestApp) -> i64 {
    let c = app.person("NM", "Former").await;
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": c, "product": "MDUES", "is_membership_component": true,
            "paid_through": "2020-12-31", "bill_subscription": true}),
    )
    .await
    .expect(201);
    assert_eq!(app.contact(c).await["paid_through"], "2020-12-31", "C-7");
    c
}

#[tokio::test]
async fn j4_rejoin_inside_the_window_is_a_renewal_at_full_price() {
    let app = spawn().await;
    setup(&app).await;
    let c = former_member(&app).await;
    let inv = billed(&app, c, base_join("2021-04-10")).await;
    assert_eq!(inv["treated_as"], "renewal");
    assert_eq!(inv["term_begin"], "2021-01-01");
    assert_eq!(inv["term_end"], "2021-12-31");
    assert_eq!(line(&inv, "MDUES")["amount"], "500.00");
    assert_eq!(inv["total"], "500.00");
}

#[tokio::test]
async fn j4_rejoin_outside_the_window_is_a_prorated_join() {
    let app = spawn().await;
    setup(&app).await;
    let cycles = app.get("/billing-cycles", &app.staff).await.expect(200);
    let cid = cycles.body["items"][0]["id"].as_i64().expect("cycle id");
    app.patch_cycle(cid, json!({"rejoin_as_renewal_months": 3}))
        .await;
    let c = former_member(&app).await;
    let mut body = base_join("2021-04-10");
    body["dry_run"] = json!(true);
    let r = join(&app, c, body).await.expect(200);
    assert_eq!(r.body["treated_as"], "join");
    assert_eq!(r.body["term_begin"], "2021-04-01");
    assert_eq!(r.body["term_end"], "2021-12-31");
    assert_eq!(line(&r.body, "MDUES")["amount"], "375.00");
}

#[tokio::test]
async fn j4_window_boundary_follows_add_months() {
    // Paid through 2020-11-30, n = 3: 2021-02-28 is still a renewal, 2021-03-01 is a join.
    let app = spawn().await;
    setup(&app).await;
    let cycles = app.get("/billing-cycles", &app.staff).await.expect(200);
    let cid = cycles.body["items"][0]["id"].as_i64().expect("cycle id");
    app.patch_cycle(cid, json!({"rejoin_as_renewal_months": 3}))
        .await;
    let c = app.person("NM", "Boundary").await;
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": c, "product": "MDUES", "is_membership_component": true,
            "paid_through": "2020-11-30", "bill_subscription": true}),
    )
    .await
    .expect(201);
    for (date, treated) in [("2021-02-28", "renewal"), ("2021-03-01", "join")] {
        let mut body = base_join(date);
        body["dry_run"] = json!(true);
        let r = join(&app, c, body).await.expect(200);
        assert_eq!(r.body["treated_as"], treated, "{date}: {}", r.text);
    }
}

// ---------------------------------------------------------------- T-3, T-7

#[tokio::test]
async fn t3_annual_join_with_a_july_fiscal_year() {
    let app = spawn().await;
    setup(&app).await;
    app.set_settings(json!({"fiscal_year_start_month": 7}))
        .await;
    let c = app.person("NM", "July").await;
    let mut body = base_join("2026-09-10");
    body["dry_run"] = json!(true);
    body["add_ons"] = json!(["JOURNAL"]);
    let r = join(&app, c, body).await.expect(200);
    let b = &r.body;
    assert_eq!(b["term_begin"], "2026-09-01");
    assert_eq!(b["term_end"], "2027-06-30");
    assert_eq!(b["proration"], "10/12");
    assert_eq!(line(b, "MDUES")["amount"], "416.67");
    assert_eq!(line(b, "JOURNAL")["amount"], "33.33");
    assert_eq!(b["total"], "450.00");
}

#[tokio::test]
async fn t3_t7_annual_join_on_a_leap_day_with_a_march_fiscal_year() {
    let app = spawn().await;
    setup(&app).await;
    app.set_settings(json!({"fiscal_year_start_month": 3}))
        .await;
    let c = app.person("NM", "Leap").await;
    let mut body = base_join("2024-02-29");
    body["dry_run"] = json!(true);
    let r = join(&app, c, body).await.expect(200);
    assert_eq!(r.body["term_begin"], "2024-02-01");
    assert_eq!(r.body["term_end"], "2024-02-29");
    assert_eq!(r.body["proration"], "1/12");
    assert_eq!(line(&r.body, "MDUES")["amount"], "41.67");
}

#[tokio::test]
async fn t7_anniversary_join_on_the_31st_pays_full_price() {
    let app = spawn().await;
    setup(&app).await;
    app.create_cycle(
        json!({"name": "Anniversary join", "customer_types": ["M"], "products": ["JOURNAL"],
            "join_item_set": true, "billing_time": "anniversary"}),
    )
    .await;
    let c = app.person("NM", "Anniv").await;
    let inv = billed(
        &app,
        c,
        json!({"billing_cycle": "Anniversary join", "billing_category": "REG",
            "add_ons": ["JOURNAL"], "join_date": "2024-01-31"}),
    )
    .await;
    assert_eq!(inv["term_begin"], "2024-01-31");
    assert_eq!(inv["term_end"], "2025-01-30");
    assert_eq!(line(&inv, "MDUES")["amount"], "500.00");
    assert_eq!(line(&inv, "JOURNAL")["amount"], "40.00");
    assert_eq!(inv["total"], "540.00");
    app.pay(id(&inv), "540.00", "2024-02-01").await.expect(201);
    assert_eq!(app.contact(c).await["paid_through"], "2025-01-30");
}

// ---------------------------------------------------------------- P-5

#[tokio::test]
async fn p5_active_tax_companion_adds_a_prorated_line_after_its_product() {
    let app = spawn().await;
    setup(&app).await;
    app.create_product("MDUES_GST", "miscellaneous", "25.00")
        .await;
    let c = app.person("NM", "Tax").await;
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["JOURNAL"]);
    let inv = billed(&app, c, body).await;
    let ps = products(&inv);
    let at = ps.iter().position(|p| p == "MDUES").expect("MDUES");
    assert_eq!(
        ps.get(at + 1).map(String::as_str),
        Some("MDUES_GST"),
        "{ps:?}"
    );
    assert_eq!(line(&inv, "MDUES_GST")["amount"], "18.75");
    assert_eq!(line(&inv, "MDUES_GST")["term_begin"], "2026-04-01");
    assert_eq!(line(&inv, "MDUES_GST")["term_end"], "2026-12-31");
    assert_eq!(inv["total"], "423.75");
}

#[tokio::test]
async fn p5_inactive_tax_companion_adds_nothing() {
    let app = spawn().await;
    setup(&app).await;
    app.create_product("MDUES_GST", "miscellaneous", "25.00")
        .await;
    app.patch("/products/MDUES_GST", &app.staff, json!({"active": false}))
        .await
        .expect(200);
    let c = app.person("NM", "NoTax").await;
    let mut body = base_join("2026-04-10");
    body["dry_run"] = json!(true);
    let r = join(&app, c, body).await.expect(200);
    assert_eq!(products(&r.body), vec!["MDUES"]);
    assert_eq!(r.body["total"], "375.00");
}

// ---------------------------------------------------------------- I-1, I-6

#[tokio::test]
async fn i1_i6_lines_name_product_term_amount_and_total_is_their_sum() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Lines").await;
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["JOURNAL", "GIFT"]);
    body["voluntary"] = json!({"GIFT": "25.00"});
    let created = join(&app, c, body).await.expect(201);
    let inv_id = id(&created.body);
    assert_eq!(
        created.header("location").as_deref(),
        Some(format!("/api/v1/invoices/{inv_id}").as_str())
    );
    let inv = app.invoice(inv_id).await;
    assert_eq!(inv["contact_id"], c);
    assert_eq!(inv["bill_to_id"], c);
    assert_eq!(inv["status"], "open");
    assert_eq!(products(&inv), vec!["MDUES", "JOURNAL", "GIFT"]);
    let mut sum = 0;
    for l in inv["lines"].as_array().unwrap() {
        assert!(l["product"].is_string());
        assert_eq!(l["term_begin"], "2026-04-01", "{l}");
        assert_eq!(l["term_end"], "2026-12-31", "{l}");
        let a = cents(&l["amount"]);
        assert!(a >= 0, "{l}");
        assert_eq!(l["paid"], "0.00");
        sum += a;
    }
    assert_eq!(line(&inv, "MDUES")["amount"], "375.00");
    assert_eq!(line(&inv, "MDUES")["is_primary"], true);
    assert_eq!(line(&inv, "JOURNAL")["amount"], "30.00");
    assert_eq!(line(&inv, "JOURNAL")["voluntary"], false);
    assert_eq!(line(&inv, "GIFT")["voluntary"], true);
    assert_eq!(cents(&inv["total"]), sum);
    assert_eq!(inv["total"], "430.00");
    assert_eq!(inv["paid"], "0.00");
    assert_eq!(inv["balance"], "430.00");
    // Listed for the contact and by status.
    let l = app
        .get(&format!("/contacts/{c}/invoices"), &app.staff)
        .await
        .expect(200);
    assert_eq!(l.body["items"][0]["id"], inv_id);
    let l = app
        .get(&format!("/invoices?contact_id={c}&status=paid"), &app.staff)
        .await
        .expect(200);
    assert_eq!(l.body["items"], json!([]));
}

#[tokio::test]
async fn i6_zero_and_negative_payment_amounts_are_rejected() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Neg").await;
    let inv = billed(&app, c, base_join("2026-04-10")).await;
    for amount in ["0.00", "-10.00"] {
        app.pay(id(&inv), amount, "2026-04-11")
            .await
            .problem(422, "validation_failed");
    }
    assert_eq!(app.invoice(id(&inv)).await["paid"], "0.00");
}

// ---------------------------------------------------------------- I-2

#[tokio::test]
async fn i2_void_an_open_accrual_invoice_needs_a_reason() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Void").await;
    let inv = billed(&app, c, base_join("2026-04-10")).await;
    assert_eq!(inv["accounting_method"], "accrual");
    let path = format!("/invoices/{}/void", id(&inv));
    app.post(&path, &app.staff, json!({"reason": "  "}))
        .await
        .problem(422, "validation_failed");
    app.post(&path, &app.staff, json!({})).await.expect(422);
    let r = app
        .post(&path, &app.staff, json!({"reason": "entered twice"}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "void");
    assert_eq!(r.body["void_reason"], "entered twice");
    // Never deleted: still readable; no payments once void.
    assert_eq!(app.invoice(id(&inv)).await["status"], "void");
    app.pay(id(&inv), "10.00", "2026-04-11")
        .await
        .problem(409, "conflict");
    let k = app.contact(c).await;
    assert_eq!(k["customer_type"], "NM");
}

#[tokio::test]
async fn i2_paid_or_partly_paid_invoices_are_not_voided() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "NoVoid").await;
    let inv = billed(&app, c, base_join("2026-04-10")).await;
    let path = format!("/invoices/{}/void", id(&inv));
    app.pay(id(&inv), "100.00", "2026-04-11").await.expect(201);
    app.post(&path, &app.staff, json!({"reason": "x"}))
        .await
        .problem(409, "conflict");
    app.pay(id(&inv), "275.00", "2026-04-12").await.expect(201);
    app.post(&path, &app.staff, json!({"reason": "x"}))
        .await
        .problem(409, "conflict");
    assert_eq!(app.invoice(id(&inv)).await["status"], "paid");
}

#[tokio::test]
async fn i2_cash_invoices_are_cancelled_not_voided() {
    let app = spawn().await;
    setup(&app).await;
    app.create_cycle(
        json!({"name": "Cash join", "customer_types": ["M"], "join_item_set": true,
            "accounting_method": "cash"}),
    )
    .await;
    let c = app.person("NM", "Cash").await;
    let inv = billed(
        &app,
        c,
        json!({"billing_cycle": "Cash join", "billing_category": "REG", "join_date": "2026-04-10"}),
    )
    .await;
    assert_eq!(inv["accounting_method"], "cash");
    app.post(
        &format!("/invoices/{}/void", id(&inv)),
        &app.staff,
        json!({"reason": "x"}),
    )
    .await
    .problem(409, "conflict");
    let r = app
        .post(
            &format!("/invoices/{}/cancel", id(&inv)),
            &app.staff,
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(app.invoice(id(&inv)).await["status"], "cancelled");
    app.pay(id(&inv), "10.00", "2026-04-11")
        .await
        .problem(409, "conflict");
    assert_eq!(app.contact(c).await["customer_type"], "NM");
}

#[tokio::test]
async fn i2_accrual_invoices_are_not_cancelled() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "NoCancel").await;
    let inv = billed(&app, c, base_join("2026-04-10")).await;
    app.post(
        &format!("/invoices/{}/cancel", id(&inv)),
        &app.staff,
        json!({}),
    )
    .await
    .problem(409, "conflict");
    assert_eq!(app.invoice(id(&inv)).await["status"], "open");
}

#[tokio::test]
async fn i2_partly_paid_cash_invoice_is_not_cancelled() {
    let app = spawn().await;
    setup(&app).await;
    app.create_cycle(
        json!({"name": "Cash join", "customer_types": ["M"], "join_item_set": true,
            "accounting_method": "cash"}),
    )
    .await;
    let c = app.person("NM", "CashPart").await;
    let inv = billed(
        &app,
        c,
        json!({"billing_cycle": "Cash join", "billing_category": "REG", "join_date": "2026-04-10"}),
    )
    .await;
    app.pay(id(&inv), "50.00", "2026-04-11").await.expect(201);
    app.post(
        &format!("/invoices/{}/cancel", id(&inv)),
        &app.staff,
        json!({}),
    )
    .await
    .problem(409, "conflict");
    assert_eq!(app.invoice(id(&inv)).await["paid"], "50.00");
}

// ---------------------------------------------------------------- I-3, J-5, L-6, C-7

#[tokio::test]
async fn i3_partial_payments_allocate_in_line_order_and_keep_a_balance() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Partial").await;
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["GIFT", "JOURNAL"]);
    body["voluntary"] = json!({"GIFT": "25.00"});
    let inv = billed(&app, c, body).await;
    let iid = id(&inv);
    assert_eq!(products(&inv), vec!["MDUES", "GIFT", "JOURNAL"]);
    let r = app.pay(iid, "100.00", "2026-04-12").await.expect(201);
    assert_eq!(r.body["payment"]["amount"], "100.00");
    assert_eq!(r.body["payment"]["invoice_id"], iid);
    assert_eq!(r.body["payment"]["method"], "card");
    let i = &r.body["invoice"];
    assert_eq!(i["status"], "open");
    assert_eq!(i["paid"], "100.00");
    assert_eq!(i["balance"], "330.00");
    assert_eq!(line(i, "MDUES")["paid"], "100.00");
    assert_eq!(line(i, "JOURNAL")["paid"], "0.00");
    assert_eq!(line(i, "GIFT")["paid"], "0.00");
    // Non-voluntary lines first even when the voluntary line comes before.
    let r = app.pay(iid, "290.00", "2026-04-13").await.expect(201);
    let i = &r.body["invoice"];
    assert_eq!(line(i, "MDUES")["paid"], "375.00");
    assert_eq!(line(i, "JOURNAL")["paid"], "15.00");
    assert_eq!(line(i, "GIFT")["paid"], "0.00");
    assert_eq!(i["balance"], "40.00");
    // Each partial payment is an event; the invoice is not paid yet.
    let received = app.events_of("invoice.payment_received").await;
    let amounts: Vec<_> = received.iter().map(|e| &e["data"]["amount"]).collect();
    assert_eq!(amounts, [&json!("100.00"), &json!("290.00")]);
    assert_eq!(received[1]["data"]["balance"], "40.00");
    assert_eq!(received[1]["data"]["paid"], "390.00");
    assert_eq!(received[1]["data"]["payment_id"], r.body["payment"]["id"]);
    assert!(app.events_of("invoice.paid").await.is_empty());
    // Nothing moves until paid in full.
    let k = app.contact(c).await;
    assert_eq!(k["customer_type"], "NM");
    assert!(k["paid_through"].is_null());
    // Over the balance: rejected, nothing recorded.
    app.pay(iid, "40.01", "2026-04-14")
        .await
        .problem(422, "validation_failed");
    assert_eq!(app.invoice(iid).await["paid"], "390.00");
    let r = app.pay(iid, "40.00", "2026-04-14").await.expect(201);
    let i = &r.body["invoice"];
    assert_eq!(i["status"], "paid");
    assert_eq!(i["balance"], "0.00");
    assert_eq!(line(i, "JOURNAL")["paid"], "30.00");
    assert_eq!(line(i, "GIFT")["paid"], "25.00");
    // Paid: no more payments.
    app.pay(iid, "1.00", "2026-04-15").await.expect(409);
}

#[tokio::test]
async fn i3_paid_in_full_starts_the_membership_and_records_history() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Full").await;
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["JOURNAL"]);
    let inv = billed(&app, c, body).await;
    let iid = id(&inv);
    app.pay(iid, "405.00", "2026-04-20").await.expect(201);
    let k = app.contact(c).await;
    assert_eq!(k["customer_type"], "M");
    assert_eq!(k["billing_category"], "REG");
    assert_eq!(k["is_member"], true);
    assert_eq!(k["join_date"], "2026-04-10");
    assert_eq!(k["paid_through"], "2026-12-31");
    assert_eq!(k["renew_months"], 12);
    let subs = app
        .get(&format!("/contacts/{c}/subscriptions"), &app.staff)
        .await
        .expect(200);
    let items = subs.body["items"].as_array().expect("items");
    let dues = items
        .iter()
        .find(|s| s["product"] == "MDUES")
        .expect("MDUES subscription");
    assert_eq!(dues["is_membership_component"], true);
    assert_eq!(dues["paid_through"], "2026-12-31");
    let journal = items
        .iter()
        .find(|s| s["product"] == "JOURNAL")
        .expect("JOURNAL subscription");
    assert_eq!(journal["paid_through"], "2026-12-31");
    // Lines now name their subscriptions.
    let i = app.invoice(iid).await;
    assert_eq!(line(&i, "MDUES")["subscription_id"], dues["id"]);
    assert_eq!(line(&i, "JOURNAL")["subscription_id"], journal["id"]);
    let h = app
        .get(&format!("/contacts/{c}/history"), &app.staff)
        .await
        .expect(200);
    let h = h.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| h.body.as_array().cloned().expect("history list"));
    assert!(
        h.iter()
            .any(|e| e["kind"] == "type_change" && e["from"] == "NM" && e["to"] == "M"),
        "{h:?}"
    );
    let term = h
        .iter()
        .find(|e| e["kind"] == "term")
        .unwrap_or_else(|| panic!("no term in {h:?}"));
    assert_eq!(term["term_begin"], "2026-04-01");
    assert_eq!(term["term_end"], "2026-12-31");
    assert_eq!(term["customer_type"], "M");
    assert_eq!(term["product"], "MDUES");
    assert_eq!(term["invoice_id"], iid);
}

#[tokio::test]
async fn i3_join_date_is_set_only_on_the_first_join() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Twice").await;
    let first = billed(&app, c, base_join("2020-04-10")).await;
    app.pay(id(&first), "375.00", "2020-04-11")
        .await
        .expect(201);
    let k = app.contact(c).await;
    assert_eq!(k["join_date"], "2020-04-10");
    assert_eq!(k["paid_through"], "2020-12-31");
    // Years later, outside the rejoin window: a new prorated join.
    let second = billed(&app, c, base_join("2026-04-10")).await;
    assert_eq!(second["treated_as"], "join");
    app.pay(id(&second), "375.00", "2026-04-11")
        .await
        .expect(201);
    let k = app.contact(c).await;
    assert_eq!(
        k["join_date"], "2020-04-10",
        "join date kept from the first join"
    );
    assert_eq!(k["paid_through"], "2026-12-31");
    let h = app
        .get(&format!("/contacts/{c}/history"), &app.staff)
        .await
        .expect(200);
    let h = h.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| h.body.as_array().cloned().expect("history list"));
    let terms: Vec<_> = h.iter().filter(|e| e["kind"] == "term").collect();
    assert_eq!(terms.len(), 2, "{h:?}");
    assert_eq!(terms[0]["term_end"], "2020-12-31");
    assert_eq!(terms[1]["term_begin"], "2026-04-01");
}

#[tokio::test]
async fn j5_unpaid_join_leaves_the_contact_unchanged() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Unpaid").await;
    let before = app.contact(c).await;
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["JOURNAL"]);
    billed(&app, c, body).await;
    let after = app.contact(c).await;
    for f in [
        "customer_type",
        "billing_category",
        "is_member",
        "join_date",
        "paid_through",
        "renew_months",
    ] {
        assert_eq!(before[f], after[f], "{f}");
    }
    let h = app
        .get(&format!("/contacts/{c}/history"), &app.staff)
        .await
        .expect(200);
    assert!(!h.text.contains("\"term\""), "{}", h.text);
}

// ---------------------------------------------------------------- I-4

#[tokio::test]
async fn i4_payment_retry_with_the_same_key_is_replayed() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Retry").await;
    let inv = billed(&app, c, base_join("2026-04-10")).await;
    let path = format!("/invoices/{}/payments", id(&inv));
    let body = json!({"amount": "100.00", "paid_on": "2026-04-12", "method": "card"});
    let send = |b: Value, key: &'static str| {
        let app = &app;
        let path = path.clone();
        async move {
            app.send(
                Method::POST,
                &path,
                Some(&app.staff),
                Some(b),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let first = send(body.clone(), "p1").await.expect(201);
    assert_ne!(first.header("idempotent-replayed").as_deref(), Some("true"));
    let again = send(body.clone(), "p1").await.expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(app.invoice(id(&inv)).await["paid"], "100.00");
    // Same key, another body: rejected, nothing recorded.
    let other = json!({"amount": "50.00", "paid_on": "2026-04-12", "method": "card"});
    send(other.clone(), "p1").await.expect(422);
    assert_eq!(app.invoice(id(&inv)).await["paid"], "100.00");
    // Another key records a new payment.
    send(other, "p2").await.expect(201);
    assert_eq!(app.invoice(id(&inv)).await["paid"], "150.00");
}

#[tokio::test]
async fn i4_join_retry_with_the_same_key_returns_the_same_invoice() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "JoinRetry").await;
    let path = format!("/contacts/{c}/join");
    let body = base_join("2026-04-10");
    let hdr = [("Idempotency-Key", "j1")];
    let first = app
        .send(
            Method::POST,
            &path,
            Some(&app.staff),
            Some(body.clone()),
            &hdr,
        )
        .await
        .expect(201);
    let again = app
        .send(
            Method::POST,
            &path,
            Some(&app.staff),
            Some(body.clone()),
            &hdr,
        )
        .await
        .expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body, first.body);
    assert_eq!(invoice_count(&app, c).await, 1);
    let mut other = body;
    other["add_ons"] = json!(["JOURNAL"]);
    app.send(Method::POST, &path, Some(&app.staff), Some(other), &hdr)
        .await
        .expect(422);
    assert_eq!(invoice_count(&app, c).await, 1);
    // The replay is the first response, Location included.
    assert_eq!(again.header("location"), first.header("location"));
}

#[tokio::test]
async fn i4_concurrent_full_payments_apply_only_once() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Race").await;
    let inv = billed(&app, c, base_join("2026-04-10")).await;
    let iid = id(&inv);
    let (a, b, d) = tokio::join!(
        app.pay(iid, "375.00", "2026-04-12"),
        app.pay(iid, "375.00", "2026-04-12"),
        app.pay(iid, "375.00", "2026-04-12"),
    );
    let statuses: Vec<u16> = [&a, &b, &d].iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}: {} | {} | {}",
        a.text,
        b.text,
        d.text
    );
    assert!(
        statuses.iter().all(|s| [201, 409, 422].contains(s)),
        "{statuses:?}"
    );
    let i = app.invoice(iid).await;
    assert_eq!(i["paid"], "375.00");
    assert_eq!(i["total"], "375.00");
    assert_eq!(i["status"], "paid");
    let h = app
        .get(&format!("/contacts/{c}/history"), &app.staff)
        .await
        .expect(200);
    assert_eq!(h.text.matches("\"term\"").count(), 1, "{}", h.text);
}

// ---------------------------------------------------------------- SEC-1

#[tokio::test]
async fn sec1_member_joins_themself_and_sees_only_their_invoices() {
    let app = spawn().await;
    setup(&app).await;
    let me = app.person("NM", "Me").await;
    let other = app.person("NM", "Other").await;
    let tok = app.member_token(me).await;
    // SEC-6: a member joins on the day the server records it; no join date of their own.
    let mine = app
        .post(
            "/me/join",
            &tok,
            json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG"}),
        )
        .await
        .expect(201);
    assert_eq!(mine.body["invoice"]["contact_id"], me);
    let theirs = billed(&app, other, base_join("2026-04-10")).await;
    app.get(&format!("/invoices/{}", id(&mine.body)), &tok)
        .await
        .expect(200);
    app.get(&format!("/invoices/{}", id(&theirs)), &tok)
        .await
        .problem(404, "not_found");
    let list = app.get("/me/invoices", &tok).await.expect(200);
    let ids: Vec<_> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].clone())
        .collect();
    assert_eq!(ids, vec![mine.body["id"].clone()]);
}

#[tokio::test]
async fn sec1_member_cannot_record_payments_or_join_others() {
    let app = spawn().await;
    setup(&app).await;
    let me = app.person("NM", "Me").await;
    let other = app.person("NM", "Other").await;
    let tok = app.member_token(me).await;
    // SEC-6: a member joins on the day the server records it; no join date of their own.
    let mine = app
        .post(
            "/me/join",
            &tok,
            json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG"}),
        )
        .await
        .expect(201);
    app.post(
        &format!("/invoices/{}/payments", id(&mine.body)),
        &tok,
        json!({"amount": "10.00", "paid_on": "2026-04-12", "method": "card"}),
    )
    .await
    .expect(403);
    app.post(
        &format!("/invoices/{}/void", id(&mine.body)),
        &tok,
        json!({"reason": "x"}),
    )
    .await
    .expect(403);
    app.post(
        &format!("/contacts/{other}/join"),
        &tok,
        base_join("2026-04-10"),
    )
    .await
    .expect(403);
    assert_eq!(invoice_count(&app, other).await, 0);
    assert_eq!(app.invoice(id(&mine.body)).await["paid"], "0.00");
}

#[tokio::test]
async fn i4_concurrent_joins_with_one_key_bill_once() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "RaceJoin").await;
    let path = format!("/contacts/{c}/join");
    let hdr = [("Idempotency-Key", "race")];
    let send = || {
        app.send(
            Method::POST,
            &path,
            Some(&app.staff),
            Some(base_join("2026-04-10")),
            &hdr,
        )
    };
    let (a, b) = tokio::join!(send(), send());
    for r in [&a, &b] {
        assert!(
            [201, 409].contains(&r.status.as_u16()),
            "{}: {}",
            r.status,
            r.text
        );
    }
    assert!(a.status.as_u16() == 201 || b.status.as_u16() == 201);
    if a.status.as_u16() == 201 && b.status.as_u16() == 201 {
        assert_eq!(a.body["id"], b.body["id"]);
    }
    assert_eq!(invoice_count(&app, c).await, 1);
}

// ---------------------------------------------------------------- I-8

async fn adjust(app: &TestApp, invoice: i64, body: Value) -> tests::Res {
    app.patch(&format!("/invoices/{invoice}"), &app.staff, body)
        .await
}

#[tokio::test]
async fn i8_staff_add_remove_and_change_voluntary_lines_repriced_and_recorded() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Adjusted").await;
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["GIFT"]);
    body["voluntary"] = json!({"GIFT": "25.00"});
    let inv = billed(&app, c, body).await;
    let n = id(&inv);
    assert_eq!(inv["total"], "400.00");
    // Add the journal (prorated like at billing), change the gift.
    let r = adjust(
        &app,
        n,
        json!({"add": ["JOURNAL"], "voluntary": {"GIFT": "40.00"}, "reason": "asked by phone"}),
    )
    .await
    .expect(200);
    assert_eq!(line(&r.body, "JOURNAL")["amount"], "30.00");
    assert_eq!(line(&r.body, "GIFT")["amount"], "40.00");
    assert_eq!(r.body["total"], "445.00");
    // Remove the gift again.
    let r = adjust(
        &app,
        n,
        json!({"remove": ["GIFT"], "reason": "changed their mind"}),
    )
    .await
    .expect(200);
    assert_eq!(products(&r.body), vec!["MDUES", "JOURNAL"]);
    assert_eq!(r.body["total"], "405.00");
    // Every adjustment is recorded with who and why.
    let log = app
        .get(&format!("/invoices/{n}/adjustments"), &app.staff)
        .await
        .expect(200);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["reason"], "asked by phone");
    assert_eq!(items[0]["details"]["total_before"], "400.00");
    assert_eq!(items[0]["details"]["total_after"], "445.00");
    assert!(items[0]["user_id"].as_i64().is_some());
    // Each is an `invoice.adjusted` event, for integrators.
    let events = app.events_of("invoice.adjusted").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["subject"], format!("invoices/{n}"));
    assert_eq!(events[0]["data"]["adjustment_id"], items[0]["id"]);
    assert_eq!(events[0]["data"]["total_before"], "400.00");
    assert_eq!(events[0]["data"]["total"], "445.00");
    assert_eq!(events[1]["data"]["reason"], "changed their mind");
    assert_eq!(events[1]["data"]["total"], "405.00");
}

#[tokio::test]
async fn i8_changing_the_formula_primary_product_reprices_the_whole_invoice() {
    let app = spawn().await;
    associates(&app).await;
    let c = app.person("NM", "Switcher").await;
    let inv = billed(
        &app,
        c,
        json!({"billing_cycle": "Associate join", "billing_category": "REG",
            "add_ons": ["JOURNAL"], "join_date": "2026-03-15"}),
    )
    .await;
    assert_eq!(line(&inv, "JOURNAL")["amount"], "40.00");
    let r = adjust(
        &app,
        id(&inv),
        json!({"primary_product": "AM_2", "reason": "two-year membership"}),
    )
    .await
    .expect(200);
    assert_eq!(products(&r.body), vec!["AM_2", "JOURNAL"]);
    assert_eq!(line(&r.body, "AM_2")["amount"], "190.00");
    // T-4: the 12-month journal under a 24-month membership costs double.
    assert_eq!(line(&r.body, "JOURNAL")["amount"], "80.00");
    assert_eq!(r.body["term_end"], "2028-03-14");
    // A product outside the family is rejected and nothing changes.
    adjust(
        &app,
        id(&inv),
        json!({"primary_product": "MDUES", "reason": "x"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(app.invoice(id(&inv)).await["total"], "270.00");
}

#[tokio::test]
async fn i8_paid_voided_and_partly_paid_invoices_are_never_edited() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Closed").await;
    let inv = billed(&app, c, base_join("2026-04-10")).await;
    let n = id(&inv);
    // A reason is required; the primary fee cannot be removed; unknown lines are named.
    adjust(&app, n, json!({"add": ["JOURNAL"], "reason": " "}))
        .await
        .problem(422, "validation_failed");
    let r = adjust(&app, n, json!({"remove": ["MDUES"], "reason": "x"}))
        .await
        .problem(422, "validation_failed");
    assert!(r.text.contains("primary"), "{}", r.text);
    adjust(&app, n, json!({"remove": ["JOURNAL"], "reason": "x"}))
        .await
        .problem(422, "validation_failed");
    // A stale If-Match is 412.
    app.send(
        Method::PATCH,
        &format!("/invoices/{n}"),
        Some(&app.staff),
        Some(json!({"add": ["JOURNAL"], "reason": "x"})),
        &[("If-Match", "\"99\"")],
    )
    .await
    .problem(412, "precondition_failed");
    app.pay(n, "10.00", "2026-04-11").await.expect(201);
    adjust(&app, n, json!({"add": ["JOURNAL"], "reason": "x"}))
        .await
        .problem(409, "conflict");
    let other = billed(
        &app,
        app.person("NM", "Voided").await,
        base_join("2026-04-10"),
    )
    .await;
    app.post(
        &format!("/invoices/{}/void", id(&other)),
        &app.staff,
        json!({"reason": "billed in error"}),
    )
    .await
    .expect(200);
    adjust(&app, id(&other), json!({"add": ["JOURNAL"], "reason": "x"}))
        .await
        .problem(409, "conflict");
    // Members never adjust invoices.
    let member = app.member_token(c).await;
    app.patch(
        &format!("/invoices/{n}"),
        &member,
        json!({"add": ["JOURNAL"], "reason": "x"}),
    )
    .await
    .problem(403, "forbidden");
}

/// API.md General: invoices sync incrementally by `updated_since`: a new invoice, a payment
/// and a void each bring one into the window; older ones stay out.
#[tokio::test]
async fn invoices_list_updated_since_follows_payments_and_voids() {
    let app = spawn().await;
    setup(&app).await;
    let a = billed(&app, app.person("NM", "A").await, base_join("2026-04-10")).await;
    let b = billed(&app, app.person("NM", "B").await, base_join("2026-04-10")).await;
    let untouched = billed(&app, app.person("NM", "C").await, base_join("2026-04-10")).await;
    let since = tests::sync_mark().await;
    let new = billed(&app, app.person("NM", "D").await, base_join("2026-04-10")).await;
    assert_eq!(app.ids_updated_since("/invoices", &since).await, [id(&new)]);

    app.pay(id(&a), "1.00", "2026-04-11").await.expect(201);
    app.post(
        &format!("/invoices/{}/void", id(&b)),
        &app.staff,
        json!({"reason": "entered twice"}),
    )
    .await
    .expect(200);
    let changed = app.ids_updated_since("/invoices", &since).await;
    assert_eq!(changed, [id(&a), id(&b), id(&new)]);
    assert!(!changed.contains(&id(&untouched)));
    let c = app.person("NM", "E").await;
    let filtered = format!("/invoices?contact_id={c}");
    assert!(app.ids_updated_since(&filtered, &since).await.is_empty());

    // Paid in full (I-3): the invoice is paid, so it changed.
    let later = tests::sync_mark().await;
    let rest = app.invoice(id(&a)).await["balance"]
        .as_str()
        .map(str::to_owned);
    app.pay(id(&a), rest.as_deref().unwrap_or_default(), "2026-04-12")
        .await
        .expect(201);
    assert_eq!(app.ids_updated_since("/invoices", &later).await, [id(&a)]);

    app.get("/invoices?updated_since=yesterday", &app.staff)
        .await
        .problem(400, "invalid_parameter");
}

// ---------------------------------------------------------------- J-6

/// The subscription ids of `invoice`'s lines, by product (tax lines have none).
fn line_subscriptions(invoice: &Value) -> std::collections::BTreeMap<String, Option<i64>> {
    invoice["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            let product = l["product"].as_str().unwrap_or_default().to_owned();
            (product, l["subscription_id"].as_i64())
        })
        .collect()
}

/// J-6: a join's invoice names its subscriptions from the start: each is opened (inactive,
/// unpaid) and marked billed for the term, so an accrual join locks them (I-2, S-4); paying
/// activates the same subscriptions through the term.
#[tokio::test]
async fn j6_a_join_bills_its_subscriptions_from_the_start() {
    let app = spawn().await;
    setup(&app).await;
    app.set_settings(json!({"default_accounting_method": "accrual"}))
        .await;
    let c = app.person("NM", "Opened").await;
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["JOURNAL"]);
    let inv = billed(&app, c, body).await;
    let subs = line_subscriptions(&inv);
    assert_eq!(subs.keys().collect::<Vec<_>>(), ["JOURNAL", "MDUES"]);
    for (product, sub) in &subs {
        let sub = app
            .subscription(sub.unwrap_or_else(|| panic!("{product}: {inv}")))
            .await;
        assert_eq!(sub["contact_id"], c);
        assert_eq!(sub["status"], "inactive", "{sub}");
        assert!(sub["paid_through"].is_null());
        assert_eq!(sub["billed"], true);
        assert_eq!(sub["bill_begin"], inv["term_begin"]);
        assert_eq!(sub["bill_through"], inv["term_end"]);
        assert_eq!(sub["accounting_method"], "accrual");
    }
    // S-4: billed on accrual, its dates are locked.
    let journal = subs["JOURNAL"].unwrap_or_default();
    app.patch(
        &format!("/subscriptions/{journal}"),
        &app.staff,
        json!({"paid_through": "2030-12-31"}),
    )
    .await
    .problem(422, "locked_field");

    app.pay(
        id(&inv),
        inv["total"].as_str().unwrap_or_default(),
        "2026-04-11",
    )
    .await
    .expect(201);
    assert_eq!(line_subscriptions(&app.invoice(id(&inv)).await), subs);
    for sub in subs.values().flatten() {
        let sub = app.subscription(*sub).await;
        assert_eq!(sub["status"], "active");
        assert_eq!(sub["paid_through"], inv["term_end"]);
    }
    assert_eq!(app.subscriptions(&format!("contact_id={c}")).await.len(), 2);
}

/// J-6: cancelling (cash) an unpaid join removes the subscriptions it opened and unbills the
/// ones the contact held; a staff change that drops a line does the same for that line (I-8);
/// voiding (accrual) keeps what it opened, inactive, and a later join bills it again.
#[tokio::test]
async fn j6_cancelling_or_voiding_an_unpaid_join_releases_what_it_opened() {
    let app = spawn().await;
    setup(&app).await;
    app.set_settings(json!({"default_accounting_method": "cash"}))
        .await;
    let c = app.person("NM", "Released").await;
    let held = id(&app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": c, "product": "JOURNAL", "status": "inactive",
                "paid_through": "2024-12-31", "accounting_method": "cash"}),
        )
        .await
        .expect(201)
        .body);
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["JOURNAL"]);
    let inv = billed(&app, c, body).await;
    let subs = line_subscriptions(&inv);
    assert_eq!(subs["JOURNAL"], Some(held));
    let dues = subs["MDUES"].expect("dues subscription");
    assert_eq!(app.subscription(held).await["billed"], true);

    // A staff change adds the gift, then drops it: its subscription goes with the line.
    let r = app
        .patch(
            &format!("/invoices/{}", id(&inv)),
            &app.staff,
            json!({"add": ["GIFT"], "voluntary": {"GIFT": "10.00"}, "reason": "asked"}),
        )
        .await
        .expect(200);
    let gift = line_subscriptions(&r.body)["GIFT"].expect("gift subscription");
    app.patch(
        &format!("/invoices/{}", id(&inv)),
        &app.staff,
        json!({"remove": ["GIFT"], "reason": "changed their mind"}),
    )
    .await
    .expect(200);
    app.get(&format!("/subscriptions/{gift}"), &app.staff)
        .await
        .problem(404, "not_found");

    app.post(
        &format!("/invoices/{}/cancel", id(&inv)),
        &app.staff,
        json!({"reason": "wrong member"}),
    )
    .await
    .expect(200);
    app.get(&format!("/subscriptions/{dues}"), &app.staff)
        .await
        .problem(404, "not_found");
    let journal = app.subscription(held).await;
    assert_eq!(journal["billed"], false);
    assert!(journal["bill_begin"].is_null());
    assert_eq!(journal["paid_through"], "2024-12-31");
    let cancelled = app.invoice(id(&inv)).await;
    assert!(line_subscriptions(&cancelled)["MDUES"].is_none());

    // Accrual: voiding keeps the opened subscription, inactive; joining again reuses it.
    app.set_settings(json!({"default_accounting_method": "accrual"}))
        .await;
    let inv = billed(&app, c, base_join("2026-05-10")).await;
    let dues = line_subscriptions(&inv)["MDUES"].expect("dues subscription");
    app.post(
        &format!("/invoices/{}/void", id(&inv)),
        &app.staff,
        json!({"reason": "entered twice"}),
    )
    .await
    .expect(200);
    let kept = app.subscription(dues).await;
    assert_eq!(kept["status"], "inactive");
    assert!(kept["paid_through"].is_null());
    let again = billed(&app, c, base_join("2026-05-10")).await;
    assert_eq!(line_subscriptions(&again)["MDUES"], Some(dues));
}

// ---------------------------------------------------------------- S-10

/// S-10: a join makes one invoice per (contact, bill-to): the products the joiner holds billed
/// to a hospital go on the hospital's own invoice, which the hospital reads under its invoices.
/// The response is the joiner's invoice (the membership's), the hospital's listed beside it;
/// paying the hospital's pays the journal and starts no membership, paying the joiner's does.
#[tokio::test]
async fn s10_a_join_invoices_each_payer_for_what_it_pays() {
    let app = spawn().await;
    setup(&app).await;
    let hospital = id(&app
        .create_contact(json!({"customer_type": "HOSP", "organization_name": "St. Luke's"}))
        .await);
    let c = app.person("NM", "Resident").await;
    let journal = id(&app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": c, "product": "JOURNAL", "status": "inactive",
                "bill_to_id": hospital}),
        )
        .await
        .expect(201)
        .body);
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["JOURNAL", "GIFT"]);

    // The preview shows the same split, writing nothing.
    let mut preview = body.clone();
    preview["dry_run"] = json!(true);
    let p = join(&app, c, preview).await.expect(200).body;
    assert_eq!(p["bill_to_id"], c);
    assert_eq!(products(&p), ["MDUES", "GIFT"]);
    assert_eq!(p["other_invoices"][0]["bill_to_id"], hospital);
    assert_eq!(p["other_invoices"][0]["status"], "preview");
    assert_eq!(invoice_count(&app, c).await, 0);

    let r = join(&app, c, body).await.expect(201).body;
    assert_eq!(r["bill_to_id"], c, "{r}");
    assert_eq!(products(&r), ["MDUES", "GIFT"]);
    let others = r["other_invoices"].as_array().expect("other_invoices");
    assert_eq!(others.len(), 1, "{r}");
    let theirs = app.invoice(id(&others[0])).await;
    assert_eq!(theirs["contact_id"], c);
    assert_eq!(theirs["bill_to_id"], hospital);
    assert_eq!(theirs["kind"], "join");
    assert_eq!(products(&theirs), ["JOURNAL"]);
    assert_eq!(line_subscriptions(&theirs)["JOURNAL"], Some(journal));
    assert_eq!(theirs["total"], others[0]["total"]);
    assert_eq!(
        cents(&r["total"]) + cents(&theirs["total"]),
        cents(&p["total"]) + cents(&p["other_invoices"][0]["total"])
    );
    let payer = app.member_token(hospital).await;
    let listed = app.get("/me/invoices", &payer).await.expect(200).body;
    let ids: Vec<i64> = listed["items"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids, [id(&theirs)]);

    // The hospital pays: the journal runs through the term; the resident is not yet a member.
    app.pay(id(&theirs), theirs["total"].as_str().unwrap(), "2026-04-12")
        .await
        .expect(201);
    let sub = app.subscription(journal).await;
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["paid_through"], r["term_end"]);
    let before = app.contact(c).await;
    assert_eq!(before["customer_type"], "NM");
    assert!(before["join_date"].is_null());
    app.pay(id(&r), r["total"].as_str().unwrap(), "2026-04-13")
        .await
        .expect(201);
    let after = app.contact(c).await;
    assert_eq!(after["customer_type"], "M");
    assert_eq!(after["join_date"], "2026-04-10");
    assert_eq!(after["paid_through"], r["term_end"]);
}

/// S-10, I-8: staff adjust one invoice of a split join: the plan sees the whole join, and
/// what the change adds must be billed to that invoice's payer.
#[tokio::test]
async fn s10_adjusting_a_split_join_changes_only_that_payers_invoice() {
    let app = spawn().await;
    setup(&app).await;
    let hospital = id(&app
        .create_contact(json!({"customer_type": "HOSP", "organization_name": "St. Luke's"}))
        .await);
    let c = app.person("NM", "Adjusted").await;
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": c, "product": "JOURNAL", "status": "inactive",
            "bill_to_id": hospital}),
    )
    .await
    .expect(201);
    let mut body = base_join("2026-04-10");
    body["add_ons"] = json!(["JOURNAL"]);
    let r = join(&app, c, body).await.expect(201).body;
    let theirs = id(&r["other_invoices"][0]);

    // The joiner's gift goes on the joiner's invoice, not on the hospital's.
    let refused = app
        .patch(
            &format!("/invoices/{theirs}"),
            &app.staff,
            json!({"add": ["GIFT"], "reason": "asked"}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(refused.text.contains("GIFT"), "{}", refused.text);
    app.patch(
        &format!("/invoices/{}", id(&r)),
        &app.staff,
        json!({"add": ["GIFT"], "voluntary": {"GIFT": "15.00"}, "reason": "asked"}),
    )
    .await
    .expect(200);
    assert_eq!(products(&app.invoice(id(&r)).await), ["MDUES", "GIFT"]);
    assert_eq!(products(&app.invoice(theirs).await), ["JOURNAL"]);
    // A product on the other payer's invoice is removed there, not here.
    app.patch(
        &format!("/invoices/{}", id(&r)),
        &app.staff,
        json!({"remove": ["JOURNAL"], "reason": "wrong invoice"}),
    )
    .await
    .problem(422, "validation_failed");
    // Emptying the hospital's invoice is voiding it.
    let emptied = app
        .patch(
            &format!("/invoices/{theirs}"),
            &app.staff,
            json!({"remove": ["JOURNAL"], "reason": "the hospital declines"}),
        )
        .await
        .problem(409, "conflict");
    assert!(emptied.text.contains("cancel"), "{}", emptied.text);
    assert_eq!(products(&app.invoice(theirs).await), ["JOURNAL"]);
    app.post(
        &format!("/invoices/{theirs}/void"),
        &app.staff,
        json!({"reason": "the hospital declines"}),
    )
    .await
    .expect(200);
    assert_eq!(products(&app.invoice(id(&r)).await), ["MDUES", "GIFT"]);
    assert_eq!(app.invoice(id(&r)).await["status"], "open");
}

// ---------------------------------------------------------------- T-8

/// T-8: a cycle's proration table sets an annual join's fraction and term by join month: late
/// joins pay the full year and run to the end of the next fiscal year; a month without a row
/// is prorated by T-3. A bad table is refused, naming the row, and changes nothing.
#[tokio::test]
async fn t8_a_cycles_proration_table_prices_annual_joins_by_join_month() {
    let app = spawn().await;
    setup(&app).await;
    let cycle = app
        .create_cycle(json!({"name": "Tabled joins", "customer_types": ["M"],
        "join_item_set": true, "billing_time": "annual",
        "proration_rules": [
            {"join_month": 10, "fraction": "1", "through_next_fiscal_year": true},
            {"join_month": 4, "fraction": "0.5"}
        ]}))
        .await;
    let path = format!("/billing-cycles/{cycle}");
    let stored = app.get(&path, &app.staff).await.expect(200).body;
    assert_eq!(
        stored["proration_rules"],
        json!([
            {"join_month": 10, "fraction": "1", "through_next_fiscal_year": true},
            {"join_month": 4, "fraction": "0.5", "through_next_fiscal_year": false}
        ])
    );
    let join_on = |date: &str| {
        json!({"billing_cycle": cycle, "billing_category": "REG", "join_date": date,
            "dry_run": true})
    };
    let late = join(&app, app.person("NM", "Late").await, join_on("2026-10-17"))
        .await
        .expect(200);
    assert_eq!(
        (&late.body["term_begin"], &late.body["term_end"]),
        (&json!("2026-10-01"), &json!("2027-12-31"))
    );
    assert_eq!(line(&late.body, "MDUES")["amount"], "500.00");
    let april = join(&app, app.person("NM", "April").await, join_on("2026-04-10"))
        .await
        .expect(200);
    assert_eq!(april.body["term_end"], "2026-12-31");
    assert_eq!(line(&april.body, "MDUES")["amount"], "250.00");
    // No row for May: whole months, 8/12 (T-3).
    let may = join(&app, app.person("NM", "May").await, join_on("2026-05-02"))
        .await
        .expect(200);
    assert_eq!(may.body["proration"], "8/12");
    assert_eq!(line(&may.body, "MDUES")["amount"], "333.33");

    for (rules, field) in [
        (
            json!([{"join_month": 3, "fraction": "1.5"}]),
            "proration_rules[0].fraction",
        ),
        (
            json!([{"join_month": 3, "fraction": "0.5"}, {"join_month": 3, "fraction": "1"}]),
            "proration_rules[1].join_month",
        ),
        (
            json!([{"join_month": 0, "fraction": "1"}]),
            "proration_rules[0].join_month",
        ),
    ] {
        let etag = tests::etag(&app.get(&path, &app.staff).await.expect(200));
        let r = app
            .send(
                reqwest::Method::PATCH,
                &path,
                Some(&app.staff),
                Some(json!({"proration_rules": rules})),
                &[("If-Match", etag.as_str())],
            )
            .await;
        assert_eq!(r.status.as_u16(), 422, "{}", r.text);
        tests::assert_field_error(&r, field);
    }
    assert_eq!(app.get(&path, &app.staff).await.expect(200).body, stored);
    // A table on an anniversary cycle has no effect, and says so.
    let anniversary = app
        .post(
            "/billing-cycles",
            &app.staff,
            json!({"name": "Anniversary joins", "customer_types": ["M"], "join_item_set": true,
                "billing_time": "anniversary",
                "proration_rules": [{"join_month": 1, "fraction": "1"}]}),
        )
        .await
        .expect(201);
    let warnings = anniversary.body["warnings"].to_string();
    assert!(warnings.contains("proration_rules"), "{warnings}");
}
