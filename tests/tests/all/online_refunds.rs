//! Refunds of card payments through the payment provider (G-7), recorded once when the provider
//! confirms them (G-3, M-2). Against localstripe (`AMS_TEST_STRIPE_URL`; without it these say
//! so and pass over), which makes every refund `succeeded` at once and sends no events: the
//! tests sign and deliver the provider's events themselves. What localstripe cannot answer (a
//! refund pending, failed or canceled) comes from a small stand-in provider on loopback.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use entity::provider_refund as pr;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tests::{TestApp, id, spawn_with};

use super::online::{
    SECRET_KEY, WEBHOOK_SECRET, configured, deliver, joined, pay_at_provider, provider_url,
    succeeded,
};

/// A member's join paid online: the invoice, its payment and the intent as the provider
/// confirmed it.
struct PaidOnline {
    invoice: Value,
    payment: Value,
    intent: Value,
}

impl PaidOnline {
    fn intent_id(&self) -> &str {
        self.intent["id"].as_str().unwrap_or_default()
    }

    fn refunds_path(&self) -> String {
        format!("/payments/{}/refunds", id(&self.payment))
    }
}

async fn paid_online(app: &TestApp, url: &str, name: &str) -> PaidOnline {
    pay_online(app, url, joined(app, name).await).await
}

async fn pay_online(app: &TestApp, url: &str, (_, invoice): (i64, Value)) -> PaidOnline {
    let asked = app
        .post(
            &format!("/invoices/{}/payment-intent", id(&invoice)),
            &app.staff,
            json!({}),
        )
        .await
        .expect(200)
        .body;
    let pi = asked["payment_intent_id"].as_str().unwrap_or_default();
    let intent = pay_at_provider(url, pi).await;
    assert_eq!(intent["status"], "succeeded", "{intent}");
    deliver(
        app,
        &succeeded(&format!("evt_{pi}"), &intent),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200);
    let payment = payment_of(app, &invoice).await;
    PaidOnline {
        invoice,
        payment,
        intent,
    }
}

async fn payment_of(app: &TestApp, invoice: &Value) -> Value {
    let payments = app
        .all(&format!("/payments?invoice_id={}", id(invoice)))
        .await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    payments[0].clone()
}

async fn our_refunds(app: &TestApp, paid: &PaidOnline) -> Vec<Value> {
    app.get(&paid.refunds_path(), &app.staff)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The provider refunds kept here, with the refund each was recorded as.
async fn kept(app: &TestApp) -> Vec<pr::Model> {
    pr::Entity::find().all(&app.db.conn).await.expect("kept")
}

fn provider(url: &str) -> impl Fn(reqwest::Method, String) -> reqwest::RequestBuilder {
    let (url, client) = (url.to_owned(), reqwest::Client::new());
    move |method, path| {
        client
            .request(method, format!("{url}{path}"))
            .basic_auth(SECRET_KEY, Some(""))
    }
}

/// The refunds localstripe holds for an intent.
async fn refunds_at_provider(url: &str, intent: &str) -> Vec<Value> {
    let list: Value = provider(url)(
        reqwest::Method::GET,
        format!("/v1/refunds?payment_intent={intent}"),
    )
    .send()
    .await
    .expect("refunds")
    .json()
    .await
    .expect("json");
    list["data"].as_array().cloned().unwrap_or_default()
}

/// A refund made in the provider's dashboard rather than here.
async fn refund_at_provider(url: &str, intent: &str, cents: i64) -> Value {
    provider(url)(reqwest::Method::POST, "/v1/refunds".into())
        .form(&[
            ("payment_intent", intent.to_owned()),
            ("amount", cents.to_string()),
        ])
        .send()
        .await
        .expect("refund")
        .json()
        .await
        .expect("json")
}

/// The intent's charge as the provider shows it now, its refunds listed.
async fn charge_of(url: &str, intent: &Value) -> Value {
    let charge = intent["charges"]["data"][0]["id"]
        .as_str()
        .unwrap_or_default();
    provider(url)(reqwest::Method::GET, format!("/v1/charges/{charge}"))
        .send()
        .await
        .expect("charge")
        .json()
        .await
        .expect("json")
}

fn event(id: &str, kind: &str, object: &Value) -> Value {
    json!({"id": id, "object": "event", "type": kind, "data": {"object": object}})
}

fn outcome(ack: &tests::Res) -> String {
    ack.body["outcome"].as_str().unwrap_or_default().to_owned()
}

async fn refund_with_key(app: &TestApp, paid: &PaidOnline, amount: &str, key: &str) -> tests::Res {
    app.send(
        reqwest::Method::POST,
        &paid.refunds_path(),
        Some(&app.staff),
        Some(json!({"amount": amount, "reason": "resigned in the first month"})),
        &[("Idempotency-Key", key)],
    )
    .await
}

/// G-7, G-3, I-4: staff refund part of a card payment: the provider makes the refund (with the
/// payment in its metadata) and it is recorded once. A retry with the same Idempotency-Key
/// answers the first result and asks the provider for nothing more; the provider's events for
/// that refund, however often and in whichever form they come, change nothing more.
#[tokio::test]
async fn g7_g3_a_partial_refund_goes_through_the_provider_and_is_recorded_once() {
    let Some(url) = provider_url() else { return };
    let app = configured(&url).await;
    let paid = paid_online(&app, &url, "Partly").await;

    let first = refund_with_key(&app, &paid, "100.00", "g7-partial-1")
        .await
        .expect(201)
        .body;
    assert_eq!(first["refund"]["amount"], "100.00");
    assert_eq!(first["refund"]["method"], "card");
    assert_eq!(first["payment"]["refunded"], "100.00");
    let at_provider = refunds_at_provider(&url, paid.intent_id()).await;
    assert_eq!(at_provider.len(), 1, "{at_provider:?}");
    assert_eq!(at_provider[0]["amount"], 10000);
    assert_eq!(at_provider[0]["status"], "succeeded");
    assert_eq!(
        at_provider[0]["metadata"]["payment_id"],
        id(&paid.payment).to_string()
    );
    let re = at_provider[0]["id"].as_str().unwrap_or_default();
    let refunded = app.events_of("payment.refunded").await;
    assert_eq!(refunded.len(), 1);
    assert_eq!(refunded[0]["data"]["reference"], re);

    let again = refund_with_key(&app, &paid, "100.00", "g7-partial-1")
        .await
        .expect(201);
    assert_eq!(again.header("Idempotent-Replayed").as_deref(), Some("true"));
    assert_eq!(again.body["refund"]["id"], first["refund"]["id"]);
    assert_eq!(refunds_at_provider(&url, paid.intent_id()).await.len(), 1);

    let charge = charge_of(&url, &paid.intent).await;
    let deliveries = [
        event("evt_re_updated", "refund.updated", &at_provider[0]),
        event("evt_re_updated", "refund.updated", &at_provider[0]),
        event("evt_charge_refunded", "charge.refunded", &charge),
        event(
            "evt_charge_re_updated",
            "charge.refund.updated",
            &at_provider[0],
        ),
        event("evt_re_created", "refund.created", &at_provider[0]),
    ];
    for e in &deliveries {
        deliver(&app, e, WEBHOOK_SECRET, None).await.expect(200);
    }
    assert_eq!(our_refunds(&app, &paid).await.len(), 1);
    assert_eq!(payment_of(&app, &paid.invoice).await["refunded"], "100.00");
    assert_eq!(app.events_of("payment.refunded").await.len(), 1);
    let kept = kept(&app).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].provider_id, re);
    assert_eq!(kept[0].refund_id, first["refund"]["id"].as_i64());
    assert_eq!(kept[0].reason, "resigned in the first month");
}

/// G-7, M-2: a full refund of a card payment through the provider reopens the invoice and puts
/// back everything paying it did, as a refund recorded by hand does.
#[tokio::test]
async fn g7_m2_a_full_refund_through_the_provider_reopens_the_invoice_and_undoes_the_join() {
    let Some(url) = provider_url() else { return };
    let app = configured(&url).await;
    let (contact, invoice) = joined(&app, "Wholly").await;
    let before = member_state(&app, contact).await;
    let paid = pay_online(&app, &url, (contact, invoice)).await;
    assert_ne!(
        member_state(&app, contact).await,
        before,
        "paying changed nothing"
    );
    assert_eq!(app.contact(contact).await["customer_type"], "M");

    let total = paid.invoice["total"].as_str().unwrap_or_default();
    let r = app
        .post(
            &paid.refunds_path(),
            &app.staff,
            json!({"amount": total, "reason": "resigned in the first month"}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(r["refund"]["reopened"], true, "{r}");
    assert_eq!(r["invoice"]["status"], "open");
    assert_eq!(r["invoice"]["paid"], "0.00");
    assert_eq!(r["payment"]["refunded"], total);
    let at_provider = refunds_at_provider(&url, paid.intent_id()).await;
    assert_eq!(at_provider.len(), 1);
    assert_eq!(
        at_provider[0]["amount"],
        tests::cents(&paid.invoice["total"])
    );
    assert_eq!(member_state(&app, contact).await, before);
    assert_eq!(app.events_of("invoice.reopened").await.len(), 1);

    // Nothing is left to refund: refused here, before the provider is asked.
    app.post(
        &paid.refunds_path(),
        &app.staff,
        json!({"amount": "1.00", "reason": "once more"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(refunds_at_provider(&url, paid.intent_id()).await.len(), 1);
}

/// The membership fields paying a join changes, without what moves on any change.
async fn member_state(app: &TestApp, contact: i64) -> Value {
    let mut c = app.contact(contact).await;
    if let Some(o) = c.as_object_mut() {
        for k in ["version", "updated_at"] {
            o.remove(k);
        }
    }
    json!({"contact": c, "history": app.history(contact).await})
}

/// G-7, G-3: a refund made directly at the provider (its dashboard) is recorded once from its
/// signed event, with a reason saying so; the charge's event for it records nothing more. An
/// event for an intent that paid nothing here is acknowledged and says so.
#[tokio::test]
async fn g7_g3_a_refund_made_at_the_provider_is_recorded_once_from_its_event() {
    let Some(url) = provider_url() else { return };
    let app = configured(&url).await;
    let paid = paid_online(&app, &url, "Dashboard").await;
    let made = refund_at_provider(&url, paid.intent_id(), 2500).await;
    assert_eq!(made["status"], "succeeded", "{made}");
    assert!(our_refunds(&app, &paid).await.is_empty());

    let ack = deliver(
        &app,
        &event("evt_dash_1", "refund.created", &made),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200);
    assert!(outcome(&ack).contains("refund"), "{}", ack.body);
    let charge = charge_of(&url, &paid.intent).await;
    let ack = deliver(
        &app,
        &event("evt_dash_2", "charge.refunded", &charge),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200);
    assert!(outcome(&ack).contains("already recorded"), "{}", ack.body);

    let refunds = our_refunds(&app, &paid).await;
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0]["amount"], "25.00");
    assert_eq!(refunds[0]["reason"], "Refunded at the payment provider");
    assert_eq!(refunds[0]["recorded_by"], Value::Null);
    assert_eq!(payment_of(&app, &paid.invoice).await["refunded"], "25.00");
    let refunded = app.events_of("payment.refunded").await;
    assert_eq!(refunded.len(), 1);
    assert_eq!(refunded[0]["data"]["reference"], made["id"]);

    let mut elsewhere = made.clone();
    elsewhere["id"] = "re_not_ours".into();
    elsewhere["payment_intent"] = "pi_not_ours".into();
    let ack = deliver(
        &app,
        &event("evt_elsewhere", "refund.updated", &elsewhere),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200);
    assert!(outcome(&ack).contains("no payment here"), "{}", ack.body);
    assert_eq!(kept(&app).await.len(), 1);
}

/// G-3, M-2: a refund the provider confirms for more than is left of the payment is not
/// recorded: nothing changes, and it is reported once for staff to correct by hand.
#[tokio::test]
async fn g7_g3_a_provider_refund_beyond_what_is_left_is_reported_not_recorded() {
    let Some(url) = provider_url() else { return };
    let app = configured(&url).await;
    let paid = paid_online(&app, &url, "Beyond").await;
    refund_with_key(&app, &paid, "100.00", "g7-beyond-1")
        .await
        .expect(201);
    let too_much = json!({"id": "re_too_much", "object": "refund",
        "amount": tests::cents(&paid.invoice["total"]), "status": "succeeded",
        "payment_intent": paid.intent_id()});
    let ack = deliver(
        &app,
        &event("evt_too_much_1", "refund.updated", &too_much),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200);
    assert!(outcome(&ack).contains("not recorded"), "{}", ack.body);
    deliver(
        &app,
        &event("evt_too_much_2", "charge.refund.updated", &too_much),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200);

    assert_eq!(our_refunds(&app, &paid).await.len(), 1);
    assert_eq!(payment_of(&app, &paid.invoice).await["refunded"], "100.00");
    let reported = app.events_of("payment.refund_unrecorded").await;
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(reported[0]["data"]["provider_refund_id"], "re_too_much");
    assert_eq!(reported[0]["data"]["payment_id"], id(&paid.payment));
    let unrecorded = kept(&app)
        .await
        .into_iter()
        .find(|k| k.provider_id == "re_too_much");
    assert!(unrecorded.is_some_and(|k| k.refund_id.is_none()));
}

// ------------------------------------------------- a stand-in provider (no localstripe needed)

/// A Stripe stand-in on loopback: intents are made as asked, each refund answers the next
/// status of `statuses` (the last one repeats), and the refunds asked for are counted.
struct StandIn {
    url: String,
    refunds_asked: Arc<AtomicUsize>,
}

async fn stand_in(statuses: &[&'static str]) -> StandIn {
    let refunds_asked = Arc::new(AtomicUsize::new(0));
    let statuses = Arc::new(Mutex::new(statuses.to_vec()));
    let (asked, statuses) = (refunds_asked.clone(), statuses.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("port").port();
    let server = HttpServer::new(move || {
        let (asked, statuses) = (asked.clone(), statuses.clone());
        App::new().default_service(web::to(
            move |req: HttpRequest, form: web::Form<HashMap<String, String>>| {
                let (asked, statuses) = (asked.clone(), statuses.clone());
                async move {
                    let n = asked.load(Ordering::SeqCst) + 1;
                    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
                    let amount: i64 = field("amount").parse().unwrap_or_default();
                    let body = match req.path() {
                        "/v1/refunds" => {
                            asked.store(n, Ordering::SeqCst);
                            let status = {
                                let mut s = statuses.lock().expect("statuses");
                                if s.len() > 1 { s.remove(0) } else { s[0] }
                            };
                            json!({"id": format!("re_standin_{n}"), "object": "refund",
                                "amount": amount, "status": status,
                                "payment_intent": field("payment_intent")})
                        }
                        _ => json!({"id": "pi_standin", "object": "payment_intent",
                            "client_secret": "pi_standin_secret_x", "amount": amount,
                            "currency": field("currency"), "status": "requires_payment_method"}),
                    };
                    HttpResponse::Ok().json(body)
                }
            },
        ))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    StandIn {
        url: format!("http://127.0.0.1:{port}"),
        refunds_asked,
    }
}

async fn with_stand_in(provider: &StandIn) -> TestApp {
    let url = provider.url.clone();
    let app = spawn_with(move |c| {
        c.stripe_api_base = url;
        c.stripe_secret_key = Some(SECRET_KEY.into());
        c.stripe_webhook_secret = Some(WEBHOOK_SECRET.into());
    })
    .await;
    app.doctors_with_join_cycle("Online join").await;
    app
}

/// Paid online through the stand-in: its intent, succeeded as the provider's event says.
async fn paid_through_stand_in(app: &TestApp, name: &str) -> PaidOnline {
    let (_, invoice) = joined(app, name).await;
    let asked = app
        .post(
            &format!("/invoices/{}/payment-intent", id(&invoice)),
            &app.staff,
            json!({}),
        )
        .await
        .expect(200)
        .body;
    let cents = tests::cents(&asked["amount"]);
    let intent = json!({"id": asked["payment_intent_id"], "object": "payment_intent",
        "amount": cents, "amount_received": cents,
        "currency": asked["currency"].as_str().unwrap_or_default().to_lowercase(),
        "status": "succeeded"});
    deliver(
        app,
        &succeeded("evt_standin_paid", &intent),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200);
    let payment = payment_of(app, &invoice).await;
    PaidOnline {
        invoice,
        payment,
        intent,
    }
}

/// G-7: a refund the provider accepts but has not confirmed answers 202 and records nothing;
/// the provider's event confirming it records it once, with staff's reason and name.
#[tokio::test]
async fn g7_a_refund_the_provider_has_not_confirmed_is_recorded_by_its_event() {
    let provider = stand_in(&["pending"]).await;
    let app = with_stand_in(&provider).await;
    let paid = paid_through_stand_in(&app, "Pending").await;
    let pending = refund_with_key(&app, &paid, "50.00", "g7-pending-1")
        .await
        .expect(202)
        .body;
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["provider_refund_id"], "re_standin_1");
    assert_eq!(pending["amount"], "50.00");
    assert!(our_refunds(&app, &paid).await.is_empty());
    assert_eq!(payment_of(&app, &paid.invoice).await["refunded"], "0.00");

    let confirmed = json!({"id": "re_standin_1", "object": "refund", "amount": 5000,
        "status": "succeeded", "payment_intent": paid.intent_id()});
    for n in 0..3 {
        deliver(
            &app,
            &event(&format!("evt_confirmed_{n}"), "refund.updated", &confirmed),
            WEBHOOK_SECRET,
            None,
        )
        .await
        .expect(200);
    }
    let refunds = our_refunds(&app, &paid).await;
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0]["amount"], "50.00");
    assert_eq!(refunds[0]["reason"], "resigned in the first month");
    assert!(refunds[0]["recorded_by"].is_i64(), "{refunds:?}");
    assert_eq!(payment_of(&app, &paid.invoice).await["refunded"], "50.00");
    assert_eq!(provider.refunds_asked.load(Ordering::SeqCst), 1);
}

/// G-7: a refund the provider fails is 502 and one it cancels 409; neither records anything.
#[tokio::test]
async fn g7_a_failed_or_canceled_provider_refund_records_nothing() {
    let provider = stand_in(&["failed", "canceled"]).await;
    let app = with_stand_in(&provider).await;
    let paid = paid_through_stand_in(&app, "Refused").await;
    let body = json!({"amount": "50.00", "reason": "resigned"});
    app.post(&paid.refunds_path(), &app.staff, body.clone())
        .await
        .problem(502, "provider_error");
    app.post(&paid.refunds_path(), &app.staff, body)
        .await
        .problem(409, "conflict");
    assert!(our_refunds(&app, &paid).await.is_empty());
    assert_eq!(payment_of(&app, &paid.invoice).await["refunded"], "0.00");
    assert_eq!(app.invoice(id(&paid.invoice)).await["status"], "paid");
    assert_eq!(provider.refunds_asked.load(Ordering::SeqCst), 2);
}

/// G-7, M-2: with a provider configured, a payment not made online (a cheque, or a card
/// payment recorded by hand) is refunded as before, without asking the provider.
#[tokio::test]
async fn g7_m2_payments_not_made_online_are_refunded_without_the_provider() {
    let provider = stand_in(&["succeeded"]).await;
    let app = with_stand_in(&provider).await;
    for (name, method) in [("Cheque", "cheque"), ("Counter", "card")] {
        let (_, invoice) = joined(&app, name).await;
        let payment = app
            .post(
                &format!("/invoices/{}/payments", id(&invoice)),
                &app.staff,
                json!({"amount": invoice["total"], "paid_on": "2026-04-11", "method": method}),
            )
            .await
            .expect(201)
            .body["payment"]
            .clone();
        let r = app
            .post(
                &format!("/payments/{}/refunds", id(&payment)),
                &app.staff,
                json!({"amount": "20.00", "reason": "overcharged"}),
            )
            .await
            .expect(201)
            .body;
        assert_eq!(r["refund"]["method"], method);
        assert_eq!(r["payment"]["refunded"], "20.00");
    }
    assert_eq!(provider.refunds_asked.load(Ordering::SeqCst), 0);
    assert!(kept(&app).await.is_empty());
}
