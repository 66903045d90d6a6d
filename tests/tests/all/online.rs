//! Paying online against a Stripe-compatible server (G-1..G-3). `.ci/run` starts localstripe
//! and names it in `AMS_TEST_STRIPE_URL`; without it the tests that need a provider say so and
//! pass over (the unconfigured server is tested everywhere).

use serde_json::{Value, json};
use tests::{TestApp, id, spawn, spawn_with};

pub(crate) const SECRET_KEY: &str = "sk_test_ams";
pub(crate) const WEBHOOK_SECRET: &str = "whsec_ams_test";
const JOIN: &str = "Online join";

pub(crate) fn provider_url() -> Option<String> {
    let url = std::env::var("AMS_TEST_STRIPE_URL").ok();
    if url.is_none() {
        eprintln!(
            "AMS_TEST_STRIPE_URL is not set: no provider to pay online against (.ci/run starts localstripe)"
        );
    }
    url
}

pub(crate) async fn configured(url: &str) -> TestApp {
    let url = url.to_owned();
    let app = spawn_with(move |c| {
        c.stripe_api_base = url;
        c.stripe_secret_key = Some(SECRET_KEY.into());
        c.stripe_webhook_secret = Some(WEBHOOK_SECRET.into());
    })
    .await;
    app.doctors_with_join_cycle(JOIN).await;
    app
}

pub(crate) async fn joined(app: &TestApp, name: &str) -> (i64, Value) {
    let c = app.person("NM", name).await;
    let inv = app
        .post(
            &format!("/contacts/{c}/join"),
            &app.staff,
            json!({"billing_cycle": JOIN, "billing_category": "REG", "join_date": "2026-04-10"}),
        )
        .await
        .expect(201)
        .body;
    (c, inv)
}

/// The card the member types into the provider's form: it goes to the provider, never here.
pub(crate) async fn pay_at_provider(url: &str, intent: &str) -> Value {
    let client = reqwest::Client::new();
    let call = |path: String, form: Vec<(&'static str, String)>| {
        client
            .post(format!("{url}{path}"))
            .basic_auth(SECRET_KEY, Some(""))
            .form(&form)
            .send()
    };
    let pm: Value = call(
        "/v1/payment_methods".into(),
        vec![
            ("type", "card".into()),
            ("card[number]", "4242424242424242".into()),
            ("card[exp_month]", "12".into()),
            ("card[exp_year]", "2031".into()),
            ("card[cvc]", "123".into()),
        ],
    )
    .await
    .expect("payment method")
    .json()
    .await
    .expect("json");
    call(
        format!("/v1/payment_intents/{intent}"),
        vec![(
            "payment_method",
            pm["id"].as_str().unwrap_or_default().into(),
        )],
    )
    .await
    .expect("attach");
    call(format!("/v1/payment_intents/{intent}/confirm"), vec![])
        .await
        .expect("confirm")
        .json()
        .await
        .expect("json")
}

/// Delivers `event` as the provider does, signed at `t` (default now) with `secret`.
pub(crate) async fn deliver(
    app: &TestApp,
    event: &Value,
    secret: &str,
    t: Option<i64>,
) -> tests::Res {
    let payload = serde_json::to_vec(event).expect("event");
    let t = t.unwrap_or_else(tests::now);
    let header = service::online::signature::sign(secret, &payload, t);
    let res = app
        .client
        .post(app.url("/payment-provider/stripe/events"))
        .header("Content-Type", "application/json")
        .header("Stripe-Signature", header)
        .body(payload)
        .send()
        .await
        .expect("deliver");
    tests::Res::read(res).await.expect("body")
}

pub(crate) fn succeeded(event_id: &str, intent: &Value) -> Value {
    json!({"id": event_id, "object": "event", "type": "payment_intent.succeeded",
        "data": {"object": intent}})
}

/// G-1: without a provider the online operations answer 503 `payments_not_configured`, and
/// paying by hand works as before.
#[tokio::test]
async fn g1_unconfigured_online_payments_answer_503_and_manual_payments_work() {
    let app = spawn().await;
    app.doctors_with_join_cycle(JOIN).await;
    let (c, inv) = joined(&app, "Offline").await;
    app.post(
        &format!("/invoices/{}/payment-intent", id(&inv)),
        &app.staff,
        json!({}),
    )
    .await
    .problem(503, "payments_not_configured");
    let me = app.member_token(c).await;
    app.post(
        &format!("/me/invoices/{}/payment-intent", id(&inv)),
        &me,
        json!({}),
    )
    .await
    .problem(503, "payments_not_configured");
    let r = deliver(&app, &json!({"id": "evt_x"}), WEBHOOK_SECRET, None).await;
    r.problem(503, "payments_not_configured");
    app.pay(
        id(&inv),
        inv["total"].as_str().unwrap_or_default(),
        "2026-04-11",
    )
    .await
    .expect(201);
}

/// G-2, G-3: a member pays their own invoice: intent (the same one when asked again), card at
/// the provider, signed event, payment recorded once however often it is delivered, with the
/// effects of a manual payment. Bad or stale signatures are 400 and change nothing; unknown
/// types are acknowledged; another member's invoice is 404.
#[tokio::test]
async fn g2_g3_a_member_pays_online_and_the_event_records_one_payment() {
    let Some(url) = provider_url() else { return };
    let app = configured(&url).await;
    let (c, inv) = joined(&app, "Online").await;
    let me = app.member_token(c).await;
    let path = format!("/me/invoices/{}/payment-intent", id(&inv));
    let intent = app.post(&path, &me, json!({})).await.expect(200).body;
    assert_eq!(intent["provider"], "stripe");
    assert_eq!(intent["amount"], inv["total"]);
    assert!(
        intent["client_secret"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    let again = app.post(&path, &me, json!({})).await.expect(200).body;
    assert_eq!(again["payment_intent_id"], intent["payment_intent_id"]);
    let (other, _) = joined(&app, "Other").await;
    let theirs = app.member_token(other).await;
    app.post(&path, &theirs, json!({}))
        .await
        .problem(404, "not_found");

    let pi = intent["payment_intent_id"].as_str().unwrap_or_default();
    let confirmed = pay_at_provider(&url, pi).await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    let event = succeeded("evt_paid_1", &confirmed);

    // Refused: a wrong secret, a stale timestamp. Nothing changes.
    deliver(&app, &event, "whsec_wrong", None)
        .await
        .problem(400, "invalid_signature");
    deliver(&app, &event, WEBHOOK_SECRET, Some(tests::now() - 301))
        .await
        .problem(400, "invalid_signature");
    assert_eq!(app.invoice(id(&inv)).await["status"], "open");

    for _ in 0..5 {
        deliver(&app, &event, WEBHOOK_SECRET, None)
            .await
            .expect(200);
    }
    let paid = app.invoice(id(&inv)).await;
    assert_eq!(paid["status"], "paid");
    let payments = app.all(&format!("/payments?invoice_id={}", id(&inv))).await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0]["method"], "card");
    assert_eq!(payments[0]["reference"], pi);
    assert!(payments[0]["receipt_number"].is_i64());
    let member = app.contact(c).await;
    assert_eq!(member["customer_type"], "M");
    assert_eq!(member["paid_through"], inv["term_end"]);

    let other_type = json!({"id": "evt_other", "type": "customer.created", "data": {"object": {}}});
    let ack = deliver(&app, &other_type, WEBHOOK_SECRET, None)
        .await
        .expect(200)
        .body;
    assert!(
        ack["outcome"]
            .as_str()
            .is_some_and(|o| o.contains("ignored")),
        "{ack}"
    );
}

/// G-3, M-5: an intent that succeeds for an invoice paid meanwhile (by hand) becomes the
/// payer's credit and is reported, never applied twice.
#[tokio::test]
async fn g3_an_intent_succeeding_for_a_paid_invoice_becomes_credit() {
    let Some(url) = provider_url() else { return };
    let app = configured(&url).await;
    let (c, inv) = joined(&app, "Twice").await;
    let intent = app
        .post(
            &format!("/invoices/{}/payment-intent", id(&inv)),
            &app.staff,
            json!({}),
        )
        .await
        .expect(200)
        .body;
    app.pay(
        id(&inv),
        inv["total"].as_str().unwrap_or_default(),
        "2026-04-11",
    )
    .await
    .expect(201);
    app.post(
        &format!("/invoices/{}/payment-intent", id(&inv)),
        &app.staff,
        json!({}),
    )
    .await
    .problem(409, "conflict");
    let pi = intent["payment_intent_id"].as_str().unwrap_or_default();
    let confirmed = pay_at_provider(&url, pi).await;
    deliver(
        &app,
        &succeeded("evt_late", &confirmed),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200);
    assert_eq!(
        app.all(&format!("/payments?invoice_id={}", id(&inv)))
            .await
            .len(),
        1
    );
    let credit = app
        .get(&format!("/contacts/{c}/credit"), &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(credit["balance"], inv["total"]);
    assert_eq!(credit["movements"][0]["kind"], "unapplied");
    assert_eq!(app.events_of("payment.unapplied").await.len(), 1);
}

/// G-3, M-5: an intent whose amount no longer matches what the invoice asks (a credit note
/// lowered it after the intent was made) is not applied blindly: it becomes the payer's credit,
/// reported, and the invoice stays as it was.
#[tokio::test]
async fn g3_money_that_does_not_match_the_invoice_becomes_credit() {
    let Some(url) = provider_url() else { return };
    let app = configured(&url).await;
    let (c, inv) = joined(&app, "Changed").await;
    let intent = app
        .post(
            &format!("/invoices/{}/payment-intent", id(&inv)),
            &app.staff,
            json!({}),
        )
        .await
        .expect(200)
        .body;
    app.post(
        &format!("/invoices/{}/credit-notes", id(&inv)),
        &app.staff,
        json!({"lines": [{"product": "MDUES", "amount": "100.00"}], "reason": "board discount"}),
    )
    .await
    .expect(201);
    let pi = intent["payment_intent_id"].as_str().unwrap_or_default();
    let confirmed = pay_at_provider(&url, pi).await;
    let ack = deliver(
        &app,
        &succeeded("evt_changed", &confirmed),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200)
    .body;
    assert!(
        ack["outcome"]
            .as_str()
            .is_some_and(|o| o.contains("credited")),
        "{ack}"
    );
    let after = app.invoice(id(&inv)).await;
    assert_eq!(after["status"], "open");
    assert_eq!(after["paid"], "0.00");
    let credit = app
        .get(&format!("/contacts/{c}/credit"), &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(credit["balance"], intent["amount"]);
    assert_eq!(app.events_of("payment.unapplied").await.len(), 1);
}

/// G-3, M-5: an intent that succeeds in another currency than the one it was made in (the
/// settings currency) is never applied to the invoice as if it were that currency: it becomes
/// the payer's credit and is reported with the currency it came in.
#[tokio::test]
async fn g3_an_intent_succeeding_in_another_currency_becomes_credit() {
    let Some(url) = provider_url() else { return };
    let app = configured(&url).await;
    let (c, inv) = joined(&app, "Abroad").await;
    let intent = app
        .post(
            &format!("/invoices/{}/payment-intent", id(&inv)),
            &app.staff,
            json!({}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(intent["currency"], "USD");
    let pi = intent["payment_intent_id"].as_str().unwrap_or_default();
    let mut confirmed = pay_at_provider(&url, pi).await;
    confirmed["currency"] = "eur".into();
    let ack = deliver(
        &app,
        &succeeded("evt_eur", &confirmed),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200)
    .body;
    assert!(
        ack["outcome"]
            .as_str()
            .is_some_and(|o| o.contains("credited")),
        "{ack}"
    );
    let after = app.invoice(id(&inv)).await;
    assert_eq!(after["status"], "open");
    assert_eq!(after["paid"], "0.00");
    assert!(
        app.all(&format!("/payments?invoice_id={}", id(&inv)))
            .await
            .is_empty()
    );
    let credit = app
        .get(&format!("/contacts/{c}/credit"), &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(credit["balance"], intent["amount"]);
    assert_eq!(credit["movements"][0]["kind"], "unapplied");
    let reported = app.events_of("payment.unapplied").await;
    assert_eq!(reported.len(), 1);
    assert_eq!(reported[0]["data"]["currency"], "eur");
}
