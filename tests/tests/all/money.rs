//! Correcting money over HTTP: payments with receipt numbers (M-1), refunds that undo paying in
//! full exactly (M-2), reversals (M-3) and voiding only at zero net paid (M-7).

use serde_json::{Value, json};
use tests::{TestApp, id, spawn};

const JOIN: &str = "Member join";
const RENEW: &str = "Member renewal";

/// E-1 billed annually (January fiscal year, accrual), a journal, a complimentary newsletter,
/// the join cycle (rejoin window 5 months) and a renewal cycle for `M`.
async fn setup(app: &TestApp) {
    app.doctors().await;
    app.set_settings(
        json!({"default_billing_time": "annual", "fiscal_year_start_month": 1,
        "default_accounting_method": "accrual"}),
    )
    .await;
    app.create_product("JOURNAL", "subscription", "40.00").await;
    app.create_cycle(
        json!({"name": JOIN, "customer_types": ["M"], "products": ["JOURNAL"],
        "join_item_set": true, "rejoin_as_renewal_months": 5}),
    )
    .await;
    app.create_cycle(json!({"name": RENEW, "customer_types": ["M"], "products": ["JOURNAL"]}))
        .await;
}

async fn join(app: &TestApp, contact: i64, body: Value) -> Value {
    app.post(&format!("/contacts/{contact}/join"), &app.staff, body)
        .await
        .expect(201)
        .body
}

fn join_body(date: &str) -> Value {
    json!({"billing_cycle": JOIN, "billing_category": "REG", "join_date": date})
}

/// Pays `invoice` in full; the payment.
async fn pay_all(app: &TestApp, invoice: &Value, on: &str) -> Value {
    app.pay(
        id(invoice),
        invoice["total"].as_str().unwrap_or_default(),
        on,
    )
    .await
    .expect(201)
    .body["payment"]
        .clone()
}

async fn refund(app: &TestApp, payment: i64, amount: &str) -> tests::Res {
    app.post(
        &format!("/payments/{payment}/refunds"),
        &app.staff,
        json!({"amount": amount, "reason": "resigned"}),
    )
    .await
}

/// What a payment in full may change about `contacts`: each contact, its subscriptions and its
/// history, without the version and `updated_at` (which move forward on any change).
async fn state(app: &TestApp, contacts: &[i64]) -> Value {
    let mut all = Vec::new();
    for c in contacts {
        let mut contact = app.contact(*c).await;
        strip(&mut contact);
        let mut subs = app.subscriptions(&format!("contact_id={c}")).await;
        subs.iter_mut().for_each(strip);
        subs.sort_by_key(|s| s["id"].as_i64());
        let history = app.history(*c).await;
        all.push(json!({"contact": contact, "subscriptions": subs, "history": history}));
    }
    Value::Array(all)
}

fn strip(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        o.remove("version");
        o.remove("updated_at");
    }
}

/// M-2: pays `invoice` in full, checks that it changed `contacts`, refunds the payment in full
/// and checks that every field is back as before; the invoice is open with nothing paid.
async fn pay_and_refund_restores(app: &TestApp, invoice: &Value, contacts: &[i64], on: &str) {
    let before = state(app, contacts).await;
    let payment = pay_all(app, invoice, on).await;
    assert_ne!(state(app, contacts).await, before, "paying changed nothing");
    let r = refund(
        app,
        id(&payment),
        invoice["total"].as_str().unwrap_or_default(),
    )
    .await
    .expect(201)
    .body;
    assert_eq!(r["refund"]["reopened"], true, "{r}");
    assert_eq!(r["invoice"]["status"], "open");
    assert_eq!(r["invoice"]["paid"], "0.00");
    assert_eq!(r["payment"]["refunded"], invoice["total"]);
    assert_eq!(state(app, contacts).await, before);
}

// ---------------------------------------------------------------- M-1

/// M-1: every payment has a receipt number, increasing and never reused, the payer and who
/// recorded it; staff filter the list (and export it as CSV); members read their own only.
#[tokio::test]
async fn m1_payments_have_receipt_numbers_and_members_read_their_own() {
    let app = spawn().await;
    setup(&app).await;
    let a = app.person("NM", "Alder").await;
    let b = app.person("NM", "Birch").await;
    let inv_a = join(&app, a, join_body("2026-04-10")).await;
    let inv_b = join(&app, b, join_body("2026-04-10")).await;
    let first = app
        .pay(id(&inv_a), "100.00", "2026-04-11")
        .await
        .expect(201)
        .body["payment"]
        .clone();
    let second = app
        .post(
            &format!("/invoices/{}/payments", id(&inv_b)),
            &app.staff,
            json!({"amount": "50.00", "paid_on": "2026-05-02", "method": "cheque",
                "reference": "chq 1001"}),
        )
        .await
        .expect(201)
        .body["payment"]
        .clone();
    let third = app
        .pay(id(&inv_a), "10.00", "2026-06-01")
        .await
        .expect(201)
        .body["payment"]
        .clone();
    let numbers: Vec<i64> = [&first, &second, &third]
        .iter()
        .map(|p| p["receipt_number"].as_i64().expect("receipt_number"))
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert_eq!(first["contact_id"], a);
    assert_eq!(first["holder_id"], a);
    assert!(first["recorded_by"].is_i64(), "{first}");
    assert_eq!(first["refunded"], "0.00");
    assert_eq!(first["reversed"], false);

    let ids = |items: Vec<Value>| items.iter().map(id).collect::<Vec<i64>>();
    assert_eq!(
        ids(app.all("/payments").await),
        [id(&first), id(&second), id(&third)]
    );
    assert_eq!(
        ids(app.all(&format!("/payments?contact_id={a}")).await),
        [id(&first), id(&third)]
    );
    assert_eq!(
        ids(app
            .all(&format!("/payments?invoice_id={}", id(&inv_b)))
            .await),
        [id(&second)]
    );
    assert_eq!(ids(app.all("/payments?method=cheque").await), [id(&second)]);
    assert_eq!(
        ids(app.all("/payments?from=2026-05-01&to=2026-05-31").await),
        [id(&second)]
    );
    // Dates out of order are 422, as in every other range (each date is valid alone).
    app.get("/payments?from=2026-06-01&to=2026-05-01", &app.staff)
        .await
        .problem(422, "validation_failed");
    let one = app
        .get(&format!("/payments/{}", id(&second)), &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(one["reference"], "chq 1001");
    assert_eq!(one["receipt_number"], second["receipt_number"]);

    // CSV export, one row per payment.
    let csv = app
        .send(
            reqwest::Method::GET,
            "/payments",
            Some(&app.staff),
            None,
            &[("Accept", "text/csv")],
        )
        .await
        .expect(200);
    assert!(csv.text.starts_with("id,receipt_number,"), "{}", csv.text);
    assert_eq!(csv.text.lines().count(), 4, "{}", csv.text);

    // A member reads their own payments only.
    let me = app.member_token(b).await;
    let mine = app.get("/me/payments", &me).await.expect(200).body;
    assert_eq!(
        ids(mine["items"].as_array().cloned().unwrap_or_default()),
        [id(&second)]
    );
    app.get(&format!("/payments/{}", id(&second)), &me)
        .await
        .expect(200);
    app.get(&format!("/payments/{}", id(&first)), &me)
        .await
        .problem(404, "not_found");
    app.get("/payments", &me).await.problem(403, "forbidden");
    refund(&app, id(&second), "10.00").await.expect(201);
    app.post(
        &format!("/payments/{}/refunds", id(&second)),
        &me,
        json!({"amount": "1.00", "reason": "mine"}),
    )
    .await
    .problem(403, "forbidden");
}

// ---------------------------------------------------------------- M-2

/// M-2: refunding a first join in full puts back the contact (type, category, join date,
/// paid-through, renew months), its subscriptions and its history exactly; then the unpaid
/// invoice can be voided (M-7).
#[tokio::test]
async fn m2_refunding_a_paid_join_in_full_undoes_it_exactly() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Joiner").await;
    let mut body = join_body("2026-04-10");
    body["add_ons"] = json!(["JOURNAL"]);
    let inv = join(&app, c, body).await;
    pay_and_refund_restores(&app, &inv, &[c], "2026-04-12").await;
    assert!(app.contact(c).await["join_date"].is_null());
    assert_eq!(app.events_of("payment.refunded").await.len(), 1);
    assert_eq!(app.events_of("invoice.reopened").await.len(), 1);
    app.post(
        &format!("/invoices/{}/void", id(&inv)),
        &app.staff,
        json!({"reason": "resigned at once"}),
    )
    .await
    .expect(200);
}

/// M-2: a renewal (with a complimentary subscription moved at billing, R-10) and a rejoin
/// inside the window (J-4) are undone exactly too.
#[tokio::test]
async fn m2_refunding_a_renewal_or_a_rejoin_undoes_it_exactly() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Renewer").await;
    let joined = join(&app, c, join_body("2026-04-10")).await;
    pay_all(&app, &joined, "2026-04-11").await;
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": c, "product": "JOURNAL", "paid_through": "2026-12-31",
            "is_complimentary": true}),
    )
    .await
    .expect(201);
    let run = app
        .post(
            "/renewal-runs",
            &app.staff,
            json!({"billing_cycle": RENEW, "effective_date": "2027-01-01"}),
        )
        .await
        .expect(201)
        .body;
    let renewal = app
        .invoice(run["invoices"][0]["invoice_id"].as_i64().expect("invoice"))
        .await;
    pay_and_refund_restores(&app, &renewal, &[c], "2027-01-05").await;
    assert_eq!(app.contact(c).await["paid_through"], "2026-12-31");

    // A rejoin inside the window: a former member of 2025 rejoining in April 2026.
    let f = app.person("NM", "Former").await;
    let old = join(&app, f, join_body("2025-02-01")).await;
    pay_all(&app, &old, "2025-02-02").await;
    app.post(
        "/membership/expire",
        &app.staff,
        json!({"as_of": "2026-03-01", "dry_run": false}),
    )
    .await;
    let rejoin = join(&app, f, join_body("2026-04-10")).await;
    assert_eq!(rejoin["treated_as"], "renewal", "{rejoin}");
    pay_and_refund_restores(&app, &rejoin, &[f], "2026-04-12").await;
    assert_eq!(app.contact(f).await["join_date"], "2025-02-01");
}

/// M-2: a multi-year product of a formula family that replaced another (S-8), and an
/// organization's join that moved its linked persons (CT-6), are undone exactly.
#[tokio::test]
async fn m2_refunding_a_formula_family_change_or_an_organizations_join_undoes_it_exactly() {
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
    app.create_cycle(json!({"name": "Associate join", "customer_types": ["AM"],
        "join_item_set": true, "use_primary_fee_term_length": true, "billing_time": "anniversary"}))
        .await;
    let c = app.person("NM", "Associate").await;
    let first = join(
        &app,
        c,
        json!({"billing_cycle": "Associate join", "billing_category": "REG",
            "join_date": "2026-04-10"}),
    )
    .await;
    pay_all(&app, &first, "2026-04-10").await;
    let longer = join(
        &app,
        c,
        json!({"billing_cycle": "Associate join", "billing_category": "REG",
            "primary_product": "AM_2", "join_date": "2027-04-10"}),
    )
    .await;
    pay_and_refund_restores(&app, &longer, &[c], "2027-04-10").await;
    let active: Vec<Value> = app
        .subscriptions(&format!("contact_id={c}&status=active"))
        .await;
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["product"], "AM_1");

    // An organization joining moves its linked persons; the refund moves them back.
    let org_app = spawn().await;
    org_app.colleges().await;
    org_app
        .set_settings(json!({"default_billing_time": "annual", "fiscal_year_start_month": 1}))
        .await;
    org_app
        .create_cycle(json!({"name": "College join", "customer_types": ["M"],
            "join_item_set": true}))
        .await;
    let college = id(&org_app
        .create_contact(json!({"customer_type": "NM", "organization_name": "Dawson College"}))
        .await);
    let person = id(&org_app
        .create_contact(json!({"customer_type": "NMIND", "first_name": "Ada",
            "last_name": "Teacher", "company_id": college}))
        .await);
    let inv = org_app
        .post(
            &format!("/contacts/{college}/join"),
            &org_app.staff,
            json!({"billing_cycle": "College join", "billing_category": "RES",
                "join_date": "2026-04-10"}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(org_app.contact(person).await["customer_type"], "NMIND");
    let before = state(&org_app, &[college, person]).await;
    let payment = pay_all(&org_app, &inv, "2026-04-12").await;
    assert_eq!(org_app.contact(person).await["customer_type"], "MIND");
    refund(
        &org_app,
        id(&payment),
        inv["total"].as_str().unwrap_or_default(),
    )
    .await
    .expect(201);
    assert_eq!(state(&org_app, &[college, person]).await, before);
}

/// M-2: a refund that a later paid term builds on is refused, naming that invoice, and changes
/// nothing; refunding the later one first makes it possible.
#[tokio::test]
async fn m2_a_refund_under_a_later_paid_term_is_refused_naming_it() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Layered").await;
    let joined = join(&app, c, join_body("2026-04-10")).await;
    let first = pay_all(&app, &joined, "2026-04-11").await;
    let run = app
        .post(
            "/renewal-runs",
            &app.staff,
            json!({"billing_cycle": RENEW, "effective_date": "2027-01-01"}),
        )
        .await
        .expect(201)
        .body;
    let renewal = app
        .invoice(run["invoices"][0]["invoice_id"].as_i64().expect("invoice"))
        .await;
    let second = pay_all(&app, &renewal, "2027-01-05").await;
    let before = state(&app, &[c]).await;
    let refused = refund(
        &app,
        id(&first),
        joined["total"].as_str().unwrap_or_default(),
    )
    .await
    .problem(409, "conflict");
    assert!(
        refused.text.contains(&format!("invoice {}", id(&renewal))),
        "{}",
        refused.text
    );
    assert_eq!(state(&app, &[c]).await, before);
    assert_eq!(app.invoice(id(&joined)).await["status"], "paid");
    let p = app
        .get(&format!("/payments/{}", id(&first)), &app.staff)
        .await
        .body;
    assert_eq!(p["refunded"], "0.00");

    refund(
        &app,
        id(&second),
        renewal["total"].as_str().unwrap_or_default(),
    )
    .await
    .expect(201);
    refund(
        &app,
        id(&first),
        joined["total"].as_str().unwrap_or_default(),
    )
    .await
    .expect(201);
    assert!(app.contact(c).await["paid_through"].is_null());
}

/// M-2: refunds of one payment never exceed it; a partial refund of an invoice that was paid
/// in part only lowers what it has received; bad input changes nothing.
#[tokio::test]
async fn m2_refunds_never_exceed_the_payment_and_bad_input_changes_nothing() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Partial").await;
    let inv = join(&app, c, join_body("2026-04-10")).await;
    let p = app
        .pay(id(&inv), "100.00", "2026-04-11")
        .await
        .expect(201)
        .body["payment"]
        .clone();
    let r = refund(&app, id(&p), "30.00").await.expect(201).body;
    assert_eq!(r["refund"]["reopened"], false);
    assert_eq!(r["invoice"]["paid"], "70.00");
    assert_eq!(r["payment"]["refunded"], "30.00");
    let over = refund(&app, id(&p), "70.01")
        .await
        .problem(422, "validation_failed");
    assert!(tests::error_fields(&over).contains(&"amount".to_owned()));
    let mills = refund(&app, id(&p), "1.005")
        .await
        .problem(422, "validation_failed");
    assert!(
        tests::error_fields(&mills).contains(&"amount".to_owned()),
        "{}",
        mills.text
    );
    for bad in [
        json!({"amount": "0.00", "reason": "x"}),
        json!({"amount": "-1.00", "reason": "x"}),
        json!({"amount": "1.00", "reason": "  "}),
        json!({"amount": "1.00"}),
    ] {
        app.post(&format!("/payments/{}/refunds", id(&p)), &app.staff, bad)
            .await
            .problem(422, "validation_failed");
    }
    refund(&app, 999_999, "1.00")
        .await
        .problem(404, "not_found");
    assert_eq!(app.invoice(id(&inv)).await["paid"], "70.00");
    let listed = app
        .get(&format!("/payments/{}/refunds", id(&p)), &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));

    // With an Idempotency-Key a retried refund returns once.
    let path = format!("/payments/{}/refunds", id(&p));
    let send = || {
        app.send(
            reqwest::Method::POST,
            &path,
            Some(&app.staff),
            Some(json!({"amount": "5.00", "reason": "retry"})),
            &[("Idempotency-Key", "refund-retry-1")],
        )
    };
    let a = send().await.expect(201);
    let b = send().await.expect(201);
    assert_eq!(a.body["refund"]["id"], b.body["refund"]["id"]);
    assert_eq!(app.invoice(id(&inv)).await["paid"], "65.00");
}

// ---------------------------------------------------------------- M-3, M-7

/// M-3: a bounced cheque is reversed: what is left of it returns with M-2's effects, once;
/// M-7: the invoice is voided only at zero net paid.
#[tokio::test]
async fn m3_m7_a_reversed_payment_reopens_and_an_invoice_is_voided_only_at_zero_net_paid() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Bounced").await;
    let inv = join(&app, c, join_body("2026-04-10")).await;
    assert_eq!(inv["total"], "375.00", "9/12 of the year (T-3)");
    let before = state(&app, &[c]).await;
    let p = pay_all(&app, &inv, "2026-04-11").await;
    app.post(
        &format!("/invoices/{}/void", id(&inv)),
        &app.staff,
        json!({"reason": "wrong"}),
    )
    .await
    .problem(409, "conflict");
    refund(&app, id(&p), "100.00").await.expect(201);
    let partly = app
        .post(
            &format!("/invoices/{}/void", id(&inv)),
            &app.staff,
            json!({"reason": "wrong"}),
        )
        .await
        .problem(409, "conflict");
    assert!(partly.text.contains("net paid"), "{}", partly.text);
    let reverse_path = format!("/payments/{}/reverse", id(&p));
    let reverse = || {
        app.send(
            reqwest::Method::POST,
            &reverse_path,
            Some(&app.staff),
            Some(json!({"reason": "cheque returned unpaid"})),
            &[("Idempotency-Key", "bounced-cheque-1")],
        )
    };
    let r = reverse().await.expect(201).body;
    let retried = reverse().await.expect(201);
    assert_eq!(
        retried.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(retried.body["refund"]["id"], r["refund"]["id"]);
    assert_eq!(r["refund"]["kind"], "reversal");
    assert_eq!(r["refund"]["amount"], "275.00", "what the refund left");
    assert_eq!(r["payment"]["reversed"], true);
    assert_eq!(r["invoice"]["paid"], "0.00");
    assert_eq!(state(&app, &[c]).await, before);
    app.post(
        &format!("/payments/{}/reverse", id(&p)),
        &app.staff,
        json!({"reason": "again"}),
    )
    .await
    .problem(409, "conflict");
    refund(&app, id(&p), "1.00").await.problem(409, "conflict");
    assert_eq!(app.events_of("payment.reversed").await.len(), 1);
    app.post(
        &format!("/invoices/{}/void", id(&inv)),
        &app.staff,
        json!({"reason": "the cheque bounced"}),
    )
    .await
    .expect(200);
}

// ---------------------------------------------------------------- M-9, A-3

/// M-9, A-3: the billing report shows cash received net of refunds and reversals, and money
/// returned on an accrual invoice is owed again; refunds and reversals are events.
#[tokio::test]
async fn m9_a3_the_billing_report_nets_refunds_and_reversals_out_of_cash() {
    let app = spawn().await;
    setup(&app).await;
    let today = chrono::Utc::now().date_naive();
    let c = app.person("NM", "Reported").await;
    let inv = join(&app, c, join_body(&today.to_string())).await;
    let total = tests::cents(&inv["total"]);
    let p = pay_all(&app, &inv, &today.to_string()).await;
    refund(&app, id(&p), "10.00").await.expect(201);
    app.post(
        &format!("/payments/{}/reverse", id(&p)),
        &app.staff,
        json!({"reason": "chargeback"}),
    )
    .await
    .expect(201);
    let r = app
        .get(
            &format!("/reports/billing?from={today}&to={today}&period=year"),
            &app.staff,
        )
        .await
        .expect(200)
        .body;
    let row = &r["periods"][0];
    assert_eq!(tests::cents(&row["cash_received"]), total, "{r}");
    assert_eq!(row["refunded"], "10.00");
    assert_eq!(tests::cents(&row["reversed"]), total - 1_000);
    assert_eq!(row["net_cash"], "0.00");
    assert_eq!(tests::cents(&row["open_receivables"]), total);
    let refunded = app.events_of("payment.refunded").await;
    assert_eq!(refunded.len(), 1);
    assert_eq!(refunded[0]["data"]["amount"], "10.00", "{}", refunded[0]);
    assert_eq!(app.events_of("payment.reversed").await.len(), 1);
    // The audit trail names each correction.
    assert_eq!(app.audit_events("refundPayment").await.len(), 1);
    assert_eq!(app.audit_events("reversePayment").await.len(), 1);
}

// ---------------------------------------------------------------- M-4, M-5

async fn credit_note(app: &TestApp, invoice: i64, body: Value) -> tests::Res {
    app.post(
        &format!("/invoices/{invoice}/credit-notes"),
        &app.staff,
        body,
    )
    .await
}

async fn credit_of(app: &TestApp, contact: i64) -> Value {
    app.get(&format!("/contacts/{contact}/credit"), &app.staff)
        .await
        .expect(200)
        .body
}

/// M-4, M-5: a credit note on a paid invoice keeps it paid, numbers itself, and moves what was
/// paid above the new total to the payer's credit; staff apply that credit to another open
/// invoice of the contact (a `credit` payment with a receipt), never beyond the balance.
#[tokio::test]
async fn m4_m5_a_credit_note_on_a_paid_invoice_becomes_credit_applied_to_another_invoice() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Credited").await;
    let mut body = join_body("2026-04-10");
    body["add_ons"] = json!(["JOURNAL"]);
    let inv = join(&app, c, body).await;
    assert_eq!(
        inv["total"], "405.00",
        "375.00 dues and 30.00 journal (T-3, T-4)"
    );
    pay_all(&app, &inv, "2026-04-11").await;
    let member = app.contact(c).await;

    let r = credit_note(
        &app,
        id(&inv),
        json!({"lines": [{"product": "JOURNAL"}], "reason": "journal never delivered"}),
    )
    .await
    .expect(201)
    .body;
    let note = &r["credit_note"];
    assert_eq!(note["amount"], "30.00");
    assert_eq!(note["to_credit"], "30.00");
    assert_eq!(note["lines"][0]["product"], "JOURNAL");
    assert_eq!(r["invoice"]["status"], "paid");
    assert_eq!(r["invoice"]["total"], "375.00");
    assert_eq!(r["invoice"]["paid"], "375.00");
    assert_eq!(r["invoice"]["credited"], "30.00");
    assert_eq!(tests::line(&r["invoice"], "JOURNAL")["amount"], "0.00");
    assert_eq!(tests::line(&r["invoice"], "JOURNAL")["credited"], "30.00");
    let mut after = app.contact(c).await;
    strip(&mut after);
    let mut before = member.clone();
    strip(&mut before);
    assert_eq!(
        after, before,
        "a credit note on a paid invoice changes no membership field"
    );
    let credit = credit_of(&app, c).await;
    assert_eq!(credit["balance"], "30.00");
    assert_eq!(credit["movements"][0]["kind"], "overpayment");
    assert_eq!(credit["movements"][0]["credit_note_id"], note["id"]);
    let second = credit_note(
        &app,
        id(&inv),
        json!({"lines": [{"product": "MDUES", "amount": "25.00"}], "reason": "board discount"}),
    )
    .await
    .expect(201)
    .body;
    assert_eq!(
        second["credit_note"]["number"].as_i64(),
        note["number"].as_i64().map(|n| n + 1)
    );
    assert_eq!(credit_of(&app, c).await["balance"], "55.00");
    let listed = app
        .get(
            &format!("/credit-notes?invoice_id={}", id(&inv)),
            &app.staff,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));
    app.get(&format!("/credit-notes/{}", id(note)), &app.staff)
        .await
        .expect(200);
    assert_eq!(app.events_of("invoice.credited").await.len(), 2);

    // The credit pays part of the next renewal.
    let run = app
        .post(
            "/renewal-runs",
            &app.staff,
            json!({"billing_cycle": RENEW, "effective_date": "2027-01-01"}),
        )
        .await
        .expect(201)
        .body;
    let renewal = run["invoices"][0]["invoice_id"].as_i64().expect("renewal");
    let too_much = app
        .post(
            &format!("/contacts/{c}/credit/apply"),
            &app.staff,
            json!({"invoice_id": renewal, "amount": "55.01"}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(
        too_much.text.contains("credit balance"),
        "{}",
        too_much.text
    );
    let stranger = app.person("NM", "Stranger").await;
    let theirs = join(&app, stranger, join_body("2026-04-10")).await;
    let elsewhere = app
        .post(
            &format!("/contacts/{c}/credit/apply"),
            &app.staff,
            json!({"invoice_id": id(&theirs), "amount": "1.00"}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(tests::error_fields(&elsewhere).contains(&"invoice_id".to_owned()));
    assert_eq!(credit_of(&app, c).await["balance"], "55.00");
    let apply_path = format!("/contacts/{c}/credit/apply");
    let apply = || {
        app.send(
            reqwest::Method::POST,
            &apply_path,
            Some(&app.staff),
            Some(json!({"invoice_id": renewal, "amount": "55.00"})),
            &[("Idempotency-Key", "apply-credit-1")],
        )
    };
    let applied = apply().await.expect(201).body;
    let retried = apply().await.expect(201).body;
    assert_eq!(retried["payment"]["id"], applied["payment"]["id"]);
    assert_eq!(applied["payment"]["method"], "credit");
    assert!(applied["payment"]["receipt_number"].is_i64());
    assert_eq!(applied["invoice"]["paid"], "55.00");
    let credit = credit_of(&app, c).await;
    assert_eq!(credit["balance"], "0.00");
    assert_eq!(credit["movements"][2]["kind"], "applied");
    assert_eq!(credit["movements"][2]["amount"], "-55.00");
    // Credit is taken only from its balance: a hand-recorded "credit" payment is refused.
    app.post(
        &format!("/invoices/{renewal}/payments"),
        &app.staff,
        json!({"amount": "1.00", "paid_on": "2027-01-02", "method": "credit"}),
    )
    .await
    .problem(422, "validation_failed");
}

/// M-2 with M-4: refunding what a credit note moved to credit keeps the invoice paid in full
/// and changes no membership field; M-4 on an open invoice whose payments then cover it pays
/// it in full, and a refund undoes that exactly.
#[tokio::test]
async fn m4_partial_refunds_that_keep_an_invoice_paid_change_no_membership_field() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Kept").await;
    let inv = join(&app, c, join_body("2026-04-10")).await;
    let p = pay_all(&app, &inv, "2026-04-11").await;
    credit_note(
        &app,
        id(&inv),
        json!({"lines": [{"product": "MDUES", "amount": "20.00"}], "reason": "promotion"}),
    )
    .await
    .expect(201);
    let before = state(&app, &[c]).await;
    let r = refund(&app, id(&p), "20.00").await.expect(201).body;
    assert_eq!(r["refund"]["reopened"], false);
    assert_eq!(r["invoice"]["status"], "paid");
    assert_eq!(r["invoice"]["paid"], "355.00");
    assert_eq!(state(&app, &[c]).await, before);
    assert_eq!(credit_of(&app, c).await["balance"], "0.00");

    // Open and paid in part; a credit note of the rest pays it in full.
    let d = app.person("NM", "Covered").await;
    let open = join(&app, d, join_body("2026-04-10")).await;
    let before = state(&app, &[d]).await;
    let part = app
        .pay(id(&open), "300.00", "2026-04-11")
        .await
        .expect(201)
        .body["payment"]
        .clone();
    let r = credit_note(
        &app,
        id(&open),
        json!({"lines": [{"product": "MDUES", "amount": "75.00"}], "reason": "hardship"}),
    )
    .await
    .expect(201)
    .body;
    assert_eq!(r["invoice"]["status"], "paid");
    assert_eq!(r["credit_note"]["to_credit"], "0.00");
    assert_eq!(app.contact(d).await["customer_type"], "M");
    refund(&app, id(&part), "300.00").await.expect(201);
    assert_eq!(state(&app, &[d]).await, before);
}

/// M-4: bad credit notes change nothing: a product not on the invoice, an amount above its
/// line, a line named twice, no reason, everything of an unpaid invoice, a void invoice.
#[tokio::test]
async fn m4_bad_credit_notes_are_refused_naming_the_field() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Refused").await;
    let inv = join(&app, c, join_body("2026-04-10")).await;
    let cases = [
        (
            json!({"lines": [{"product": "GIFT"}], "reason": "x"}),
            "lines[0].product",
        ),
        (
            json!({"lines": [{"product": "MDUES", "amount": "375.01"}], "reason": "x"}),
            "lines[0].amount",
        ),
        (
            json!({"lines": [{"product": "MDUES", "amount": "1.00"}, {"product": "MDUES", "amount": "1.00"}], "reason": "x"}),
            "lines[1].product",
        ),
        (json!({"lines": [], "reason": "x"}), "lines"),
        (
            json!({"lines": [{"product": "MDUES", "amount": "1.00"}], "reason": " "}),
            "reason",
        ),
    ];
    for (body, field) in cases {
        let r = credit_note(&app, id(&inv), body)
            .await
            .problem(422, "validation_failed");
        assert!(
            tests::error_fields(&r).contains(&field.to_owned()),
            "{field}: {}",
            r.text
        );
    }
    credit_note(
        &app,
        id(&inv),
        json!({"lines": [{"product": "MDUES"}], "reason": "all of it"}),
    )
    .await
    .problem(409, "conflict");
    let unchanged = app.invoice(id(&inv)).await;
    assert_eq!(unchanged["total"], "375.00");
    assert_eq!(unchanged["credited"], "0.00");
    app.post(
        &format!("/invoices/{}/void", id(&inv)),
        &app.staff,
        json!({"reason": "duplicate"}),
    )
    .await
    .expect(200);
    credit_note(
        &app,
        id(&inv),
        json!({"lines": [{"product": "MDUES", "amount": "1.00"}], "reason": "late"}),
    )
    .await
    .problem(409, "conflict");
    assert!(app.all("/credit-notes").await.is_empty());
}

// ---------------------------------------------------------------- M-6

/// M-6: the open balance of an accrual invoice is written off with a reason: the invoice is
/// `written_off`, owes nothing more, takes no payments and its payments are not refunded; the
/// membership is as it was. Cash invoices are cancelled instead.
#[tokio::test]
async fn m6_writing_off_an_accrual_invoice_closes_it_without_membership_effect() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Unpaid").await;
    let inv = join(&app, c, join_body("2026-04-10")).await;
    let p = app
        .pay(id(&inv), "100.00", "2026-04-11")
        .await
        .expect(201)
        .body["payment"]
        .clone();
    let before = state(&app, &[c]).await;
    app.post(
        &format!("/invoices/{}/write-off", id(&inv)),
        &app.staff,
        json!({"reason": ""}),
    )
    .await
    .problem(422, "validation_failed");
    let w = app
        .post(
            &format!("/invoices/{}/write-off", id(&inv)),
            &app.staff,
            json!({"reason": "member unreachable"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(w["status"], "written_off");
    assert_eq!(w["written_off"], "275.00");
    assert_eq!(w["written_off_reason"], "member unreachable");
    assert_eq!(w["balance"], "0.00");
    assert_eq!(state(&app, &[c]).await, before);
    app.pay(id(&inv), "1.00", "2026-04-12")
        .await
        .problem(409, "conflict");
    refund(&app, id(&p), "1.00").await.problem(409, "conflict");
    app.post(
        &format!("/invoices/{}/write-off", id(&inv)),
        &app.staff,
        json!({"reason": "again"}),
    )
    .await
    .problem(409, "conflict");
    assert_eq!(app.events_of("invoice.written_off").await.len(), 1);
    let listed = app.all("/invoices?status=written_off").await;
    assert_eq!(listed.len(), 1);

    app.set_settings(json!({"default_accounting_method": "cash"}))
        .await;
    let d = app.person("NM", "Cash").await;
    let cash = join(&app, d, join_body("2026-04-10")).await;
    app.post(
        &format!("/invoices/{}/write-off", id(&cash)),
        &app.staff,
        json!({"reason": "bad debt"}),
    )
    .await
    .problem(409, "conflict");
}

/// M-9, A-3: credit notes and write-offs are reported by period, and both leave the accrual
/// receivables; credit applied is not cash.
#[tokio::test]
async fn m9_a3_credit_notes_and_write_offs_are_reported_and_leave_the_receivables() {
    let app = spawn().await;
    setup(&app).await;
    let today = chrono::Utc::now().date_naive();
    let c = app.person("NM", "Report").await;
    let mut body = join_body(&today.to_string());
    body["add_ons"] = json!(["JOURNAL"]);
    let inv = join(&app, c, body).await;
    let total = tests::cents(&inv["total"]);
    let journal = tests::cents(&tests::line(&inv, "JOURNAL")["amount"]);
    app.pay(id(&inv), "1.00", &today.to_string())
        .await
        .expect(201);
    credit_note(
        &app,
        id(&inv),
        json!({"lines": [{"product": "JOURNAL"}], "reason": "no journal"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/invoices/{}/write-off", id(&inv)),
        &app.staff,
        json!({"reason": "gone"}),
    )
    .await
    .expect(200);
    let r = app
        .get(
            &format!("/reports/billing?from={today}&to={today}&period=year"),
            &app.staff,
        )
        .await
        .expect(200)
        .body;
    let row = &r["periods"][0];
    assert_eq!(tests::cents(&row["billed"]), total, "{r}");
    assert_eq!(row["cash_received"], "1.00");
    assert_eq!(tests::cents(&row["credited"]), journal);
    assert_eq!(tests::cents(&row["written_off"]), total - journal - 100);
    assert_eq!(row["open_receivables"], "0.00");
}

// ---------------------------------------------------------------- M-8

/// M-8: a one-off invoice of kind `other` prices each product by the pricing rules (with its
/// tax companion, P-5) times the quantity, or at a price given with a reason; paying it pays
/// through only the subscription products on it, one term from their paid-through, and
/// changes nothing else of the membership.
#[tokio::test]
async fn m8_one_off_invoices_price_by_the_rules_and_pay_through_only_subscriptions() {
    let app = spawn().await;
    setup(&app).await;
    app.create_product("BOOK", "miscellaneous", "25.00").await;
    app.create_product("BOOK_GST", "miscellaneous", "1.25")
        .await;
    app.create_product("BOOTH", "miscellaneous", "400.00").await;
    let c = app.person("NM", "Buyer").await;
    app.post(
        "/pricing-rules",
        &app.staff,
        json!({"product": "BOOK", "price": "20.00", "customer_type": "NM"}),
    )
    .await
    .expect(201);
    let journal = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": c, "product": "JOURNAL", "paid_through": "2099-03-31"}),
        )
        .await
        .expect(201)
        .body;
    let before = app.contact(c).await;
    let inv = app
        .post(
            "/invoices",
            &app.staff,
            json!({"contact_id": c, "lines": [
                {"product": "BOOK", "quantity": 3},
                {"product": "BOOTH", "amount": "250.00", "reason": "early-bird exhibitor"},
                {"product": "JOURNAL"}]}),
        )
        .await
        .expect(201);
    assert!(inv.header("location").is_some());
    let inv = inv.body;
    assert_eq!(inv["kind"], "other");
    assert_eq!(inv["status"], "open");
    assert_eq!(
        tests::products(&inv),
        ["BOOK", "BOOK_GST", "BOOTH", "JOURNAL"]
    );
    assert_eq!(
        tests::line(&inv, "BOOK")["amount"],
        "60.00",
        "3 x the rule's 20.00"
    );
    assert_eq!(tests::line(&inv, "BOOK")["quantity"], 3);
    assert_eq!(tests::line(&inv, "BOOK_GST")["amount"], "3.75");
    assert_eq!(tests::line(&inv, "BOOTH")["amount"], "250.00");
    assert_eq!(
        tests::line(&inv, "BOOTH")["price_reason"],
        "early-bird exhibitor"
    );
    let j = tests::line(&inv, "JOURNAL");
    assert_eq!(j["amount"], "40.00");
    assert_eq!(j["term_begin"], "2099-04-01");
    assert_eq!(j["term_end"], "2100-03-31");
    assert_eq!(j["subscription_id"], journal["id"]);
    assert!(tests::line(&inv, "BOOK")["subscription_id"].is_null());
    assert_eq!(inv["total"], "353.75");

    pay_all(&app, &inv, "2026-05-01").await;
    assert_eq!(
        app.subscription(id(&journal)).await["paid_through"],
        "2100-03-31"
    );
    let subs = app.subscriptions(&format!("contact_id={c}")).await;
    assert_eq!(
        subs.len(),
        1,
        "no subscription for books or booths: {subs:?}"
    );
    let mut after = app.contact(c).await;
    let mut before = before;
    strip(&mut after);
    strip(&mut before);
    assert_eq!(after, before);
    assert!(app.history(c).await.is_empty());

    // Bad input names the field and writes nothing.
    let cases = [
        (
            json!({"contact_id": c, "lines": [{"product": "NOPE"}]}),
            "lines[0].product",
        ),
        (
            json!({"contact_id": c, "lines": [{"product": "BOOK", "quantity": 0}]}),
            "lines[0].quantity",
        ),
        (
            json!({"contact_id": c, "lines": [{"product": "JOURNAL", "quantity": 2}]}),
            "lines[0].quantity",
        ),
        (
            json!({"contact_id": c, "lines": [{"product": "BOOK", "amount": "5.00"}]}),
            "lines[0].reason",
        ),
        (
            json!({"contact_id": c, "lines": [{"product": "BOOK", "amount": "-5.00", "reason": "x"}]}),
            "lines[0].amount",
        ),
        (json!({"contact_id": c, "lines": []}), "lines"),
        (
            json!({"contact_id": c, "bill_to_id": 999_999, "lines": [{"product": "BOOK"}]}),
            "bill_to_id",
        ),
    ];
    for (body, field) in cases {
        let r = app
            .post("/invoices", &app.staff, body)
            .await
            .problem(422, "validation_failed");
        assert!(
            tests::error_fields(&r).contains(&field.to_owned()),
            "{field}: {}",
            r.text
        );
    }
    let r = app
        .post(
            "/invoices",
            &app.staff,
            json!({"contact_id": 999_999, "lines": [{"product": "BOOK"}]}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(tests::error_fields(&r).contains(&"contact_id".to_owned()));
    assert_eq!(app.all(&format!("/invoices?contact_id={c}")).await.len(), 1);
}

// ---------------------------------------------------------------- S-11

async fn plan(app: &TestApp, invoice: i64, body: Value) -> tests::Res {
    app.post(
        &format!("/invoices/{invoice}/instalments"),
        &app.staff,
        body,
    )
    .await
}

/// S-11: an open balance spread over parts differing by at most a cent; the membership takes
/// effect once the first part is paid and the invoice is paid once every part is; refunds
/// undo the membership only when the first part is no longer paid.
#[tokio::test]
async fn s11_instalments_start_the_membership_with_the_first_part() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Spread").await;
    let inv = join(&app, c, join_body("2026-04-10")).await;
    let before = state(&app, &[c]).await;
    let planned = plan(&app, id(&inv), json!({"parts": 3, "day_of_month": 28}))
        .await
        .expect(200)
        .body;
    let parts = planned["instalments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let amounts: Vec<&str> = parts.iter().filter_map(|p| p["amount"].as_str()).collect();
    assert_eq!(amounts, ["125.00", "125.00", "125.00"]);
    let dues: Vec<chrono::NaiveDate> = parts
        .iter()
        .filter_map(|p| p["due_on"].as_str()?.parse().ok())
        .collect();
    assert_eq!(dues.len(), 3);
    assert!(dues.windows(2).all(|w| w[0] < w[1]), "{dues:?}");
    assert_eq!(app.events_of("invoice.instalments_planned").await.len(), 1);

    let first = app
        .pay(id(&inv), "125.00", "2026-04-11")
        .await
        .expect(201)
        .body;
    assert_eq!(first["invoice"]["status"], "open");
    assert_eq!(first["invoice"]["instalments"][0]["paid"], "125.00");
    let member = app.contact(c).await;
    assert_eq!(
        member["customer_type"], "M",
        "the first part starts the membership"
    );
    assert_eq!(member["paid_through"], inv["term_end"]);
    assert!(app.events_of("invoice.paid").await.is_empty());
    assert_eq!(app.events_of("membership.joined").await.len(), 1);
    let rest = app
        .pay(id(&inv), "250.00", "2026-05-31")
        .await
        .expect(201)
        .body;
    assert_eq!(rest["invoice"]["status"], "paid");
    assert_eq!(app.events_of("invoice.paid").await.len(), 1);
    assert_eq!(app.events_of("membership.joined").await.len(), 1, "once");

    // The later parts refunded: open again, still a member; the first refunded: undone.
    let r = refund(&app, id(&rest["payment"]), "250.00")
        .await
        .expect(201)
        .body;
    assert_eq!(r["refund"]["reopened"], false);
    assert_eq!(r["invoice"]["status"], "open");
    assert_eq!(app.contact(c).await["customer_type"], "M");
    let r = refund(&app, id(&first["payment"]), "125.00")
        .await
        .expect(201)
        .body;
    assert_eq!(r["refund"]["reopened"], true);
    assert_eq!(state(&app, &[c]).await, before);
}

/// S-11: members plan their own invoices only where the cycle allows it; bad plans change
/// nothing.
#[tokio::test]
async fn s11_members_plan_where_the_cycle_allows_and_bad_plans_are_refused() {
    let app = spawn().await;
    setup(&app).await;
    let c = app.person("NM", "Self").await;
    let inv = join(&app, c, join_body("2026-04-10")).await;
    let me = app.member_token(c).await;
    let path = format!("/me/invoices/{}/instalments", id(&inv));
    app.post(&path, &me, json!({"parts": 2, "day_of_month": 1}))
        .await
        .problem(403, "forbidden");
    for (body, field) in [
        (json!({"parts": 1, "day_of_month": 1}), "parts"),
        (json!({"parts": 13, "day_of_month": 1}), "parts"),
        (json!({"parts": 2, "day_of_month": 0}), "day_of_month"),
        (json!({"parts": 2, "day_of_month": 29}), "day_of_month"),
    ] {
        let r = plan(&app, id(&inv), body)
            .await
            .problem(422, "validation_failed");
        assert!(
            tests::error_fields(&r).contains(&field.to_owned()),
            "{}",
            r.text
        );
    }
    let cycle_id = app
        .all("/billing-cycles")
        .await
        .iter()
        .find(|c| c["name"] == JOIN)
        .and_then(|c| c["id"].as_i64())
        .expect("the join cycle");
    app.patch_cycle(cycle_id, json!({"member_instalments": true}))
        .await;
    let mine = app
        .post(&path, &me, json!({"parts": 2, "day_of_month": 1}))
        .await
        .expect(200)
        .body;
    assert_eq!(mine["instalments"].as_array().map(Vec::len), Some(2));
    // Its parts add up to its lines: the lines no longer change (I-8).
    app.patch(
        &format!("/invoices/{}", id(&inv)),
        &app.staff,
        json!({"add": ["JOURNAL"], "reason": "asked"}),
    )
    .await
    .problem(409, "conflict");
    plan(&app, id(&inv), json!({"parts": 2, "day_of_month": 1}))
        .await
        .problem(409, "conflict");
    let other = app.person("NM", "Other").await;
    let theirs = join(&app, other, join_body("2026-04-10")).await;
    app.post(
        &format!("/me/invoices/{}/instalments", id(&theirs)),
        &me,
        json!({"parts": 2, "day_of_month": 1}),
    )
    .await
    .problem(404, "not_found");
}

/// S-11, L-1: a member whose instalment is overdue by more than the grace period expires as of
/// the paid-through before the invoice; one whose parts are on time stays.
#[tokio::test]
async fn s11_l1_an_instalment_overdue_past_the_grace_period_expires_the_member() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = spawn().await;
    setup(&app).await;
    app.set_settings(json!({"grace_period_months": 1})).await;
    let late = app.person("NM", "Late").await;
    let on_time = app.person("NM", "OnTime").await;
    for c in [late, on_time] {
        let inv = join(&app, c, join_body("2026-04-10")).await;
        plan(&app, id(&inv), json!({"parts": 3, "day_of_month": 15}))
            .await
            .expect(200);
        app.pay(id(&inv), "125.00", "2026-04-11").await.expect(201);
        assert_eq!(app.contact(c).await["customer_type"], "M");
        if c == late {
            // Its second part fell due in May and was never paid.
            entity::instalment::Entity::update_many()
                .col_expr(
                    entity::instalment::Column::DueOn,
                    Expr::value(chrono::NaiveDate::from_ymd_opt(2026, 5, 15)),
                )
                .filter(entity::instalment::Column::InvoiceId.eq(id(&inv)))
                .filter(entity::instalment::Column::Number.eq(2))
                .exec(&app.db.conn)
                .await
                .expect("backdate the part");
        }
    }
    // Before the paid-through (2026-12-31) plus grace, after the overdue part plus grace.
    let as_of = "2026-09-01";
    let r = app
        .post(
            "/membership/expire",
            &app.staff,
            json!({"as_of": as_of, "dry_run": false}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(app.contact(late).await["customer_type"], "NM", "{r}");
    assert_eq!(app.contact(on_time).await["customer_type"], "M", "{r}");
}
