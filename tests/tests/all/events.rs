//! Events for integrators: the outbox feed (written with each change, polled by cursor) and
//! webhook delivery (Standard Webhooks signatures, retries with backoff, the delivery log).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use service::webhooks::delivery::{Deliverer, Settings};
use tests::{TestApp, spawn};

const JOIN_CYCLE: &str = "Member join";

/// Every event after `cursor`, following the feed's pages.
async fn events_after(app: &TestApp, cursor: &str, query: &str) -> (Vec<Value>, String) {
    let mut cursor = cursor.to_owned();
    let mut all = Vec::new();
    loop {
        let page = app
            .get(
                &format!("/events?limit=2&cursor={cursor}{query}"),
                &app.staff,
            )
            .await
            .expect(200)
            .body;
        all.extend(page["items"].as_array().expect("items").iter().cloned());
        cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
        if page["has_more"] == false {
            return (all, cursor);
        }
    }
}

async fn latest_cursor(app: &TestApp) -> String {
    events_after(app, "0", "").await.1
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect()
}

#[actix_web::test]
async fn each_change_writes_its_event_and_the_feed_resumes_from_its_cursor() {
    let app = spawn().await;
    app.doctors_with_join_cycle(JOIN_CYCLE).await;
    let start = latest_cursor(&app).await;

    let c = app.person("NM", "Feed").await;
    app.patch(
        &format!("/contacts/{c}"),
        &app.staff,
        json!({"email": "feed@example.org", "phone": "555-0100"}),
    )
    .await
    .expect(200);
    let inv = app
        .join_and_pay(c, JOIN_CYCLE, "2027-01-15", "2027-01-15")
        .await;
    let inv_id = inv["id"].as_i64().expect("id");

    let (events, cursor) = events_after(&app, &start, "").await;
    assert_eq!(
        types(&events),
        [
            "contact.created",
            "contact.updated",
            "invoice.created",
            "invoice.payment_received",
            "invoice.paid",
            "subscription.changed",
            "membership.joined",
        ],
        "{events:#?}"
    );
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(events[0]["subject"], format!("contacts/{c}"));
    assert_eq!(events[0]["data"]["customer_type"], "NM");
    assert_eq!(events[1]["data"]["changed"], json!(["email", "phone"]));
    assert_eq!(events[2]["subject"], format!("invoices/{inv_id}"));
    assert_eq!(events[2]["data"]["kind"], "join");
    assert_eq!(events[2]["data"]["total"], "500.00");
    assert_eq!(events[3]["data"]["amount"], "500.00");
    assert_eq!(events[3]["data"]["balance"], "0.00");
    assert_eq!(events[4]["data"]["invoice_id"], inv_id);
    assert_eq!(events[5]["data"]["product"], "MDUES");
    // J-6: the join opened it (announced by invoice.created); paying pays it through.
    assert_eq!(events[5]["data"]["change"], "paid");
    assert_eq!(events[6]["data"]["customer_type"], "M");
    assert_eq!(events[6]["data"]["paid_through"], "2027-12-31");
    assert!(events[6]["occurred_at"].is_string());

    // One event read alone is the same object as in the feed.
    let one = app
        .get(&format!("/events/{}", ids[4]), &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(one, events[4]);

    // Nothing new: the cursor stays, with nothing to read.
    let again = app
        .get(&format!("/events?cursor={cursor}"), &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(again["items"], json!([]));
    assert_eq!(again["next_cursor"], cursor.as_str());
    assert_eq!(again["has_more"], false);

    // Filtered by type.
    let (paid, _) = events_after(&app, &start, "&type=invoice.paid,membership.joined").await;
    assert_eq!(types(&paid), ["invoice.paid", "membership.joined"]);
    app.get("/events?type=invoice.eaten", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/events?cursor=abc", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/events/999999", &app.staff)
        .await
        .problem(404, "not_found");
    // Events are the association's business, not a member's.
    app.get("/events", &app.member_token(c).await)
        .await
        .problem(403, "forbidden");
}

#[actix_web::test]
async fn subscription_changes_one_by_one_and_imported_write_the_same_events() {
    let app = spawn().await;
    app.doctors_with_join_cycle(JOIN_CYCLE).await;
    app.create_product("JOURNAL", "subscription", "40.00").await;
    let c = app.person("NM", "Reader").await;
    let start = latest_cursor(&app).await;
    let sub = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": c, "product": "JOURNAL", "paid_through": "2027-06-30",
                "accounting_method": "cash"}),
        )
        .await
        .expect(201)
        .body;
    let id = sub["id"].as_i64().unwrap();
    app.patch(
        &format!("/subscriptions/{id}"),
        &app.staff,
        json!({"paid_through": "2027-12-31"}),
    )
    .await
    .expect(200);
    // An upsert that changes nothing writes no event.
    app.post_csv(
        "/subscriptions/import?action=upsert",
        &format!("contact_id,product,paid_through\n{c},JOURNAL,2027-12-31\n"),
    )
    .await
    .expect(200);
    app.delete(&format!("/subscriptions/{id}"), &app.staff)
        .await
        .expect(204);
    let (events, _) = events_after(&app, &start, "").await;
    let data: Vec<&Value> = events.iter().map(|e| &e["data"]).collect();
    let expected = |change: &str, through: &str| {
        json!({"subscription_id": id, "contact_id": c, "product": "JOURNAL",
            "change": change, "paid_through": through})
    };
    assert_eq!(
        data,
        [
            &expected("created", "2027-06-30"),
            &expected("updated", "2027-12-31"),
            &expected("deleted", "2027-12-31"),
        ],
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["subject"] == format!("subscriptions/{id}"))
    );
}

#[actix_web::test]
async fn a_failed_change_writes_no_event() {
    let app = spawn().await;
    app.doctors_with_join_cycle(JOIN_CYCLE).await;
    let c = app.person("NM", "Nothing").await;
    let start = latest_cursor(&app).await;
    app.post("/contacts", &app.staff, json!({"customer_type": "NOPE"}))
        .await
        .expect(422);
    let inv = app
        .post(
            &format!("/contacts/{c}/join"),
            &app.staff,
            json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG", "join_date": "2027-01-15"}),
        )
        .await
        .expect(201)
        .body["invoice"]
        .clone();
    let (events, cursor) = events_after(&app, &start, "").await;
    assert_eq!(types(&events), ["invoice.created"]);
    // More than the balance: refused, and no payment, paid or membership event.
    app.post(
        &format!("/invoices/{}/payments", inv["id"]),
        &app.staff,
        json!({"amount": "900.00", "paid_on": "2027-01-15", "method": "card"}),
    )
    .await
    .expect(422);
    assert!(events_after(&app, &cursor, "").await.0.is_empty());
}

#[actix_web::test]
async fn voids_renewal_runs_and_expiry_write_their_events() {
    let app = spawn().await;
    app.doctors_with_join_cycle(JOIN_CYCLE).await;
    app.set_settings(json!({"default_accounting_method": "accrual"}))
        .await;
    app.create_cycle(json!({"name": "Member renewals", "customer_types": ["M"],
        "accounting_method": "accrual"}))
        .await;
    let mut members = Vec::new();
    for name in ["Ames", "Bell"] {
        let c = app
            .create_contact(json!({"customer_type": "M", "billing_category": "REG",
                "first_name": "Pat", "last_name": name}))
            .await["id"]
            .as_i64()
            .unwrap();
        app.post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": c, "product": "MDUES", "is_membership_component": true,
                "paid_through": "2026-12-31", "bill_subscription": true}),
        )
        .await
        .expect(201);
        members.push(c);
    }
    let start = latest_cursor(&app).await;
    let run = app
        .post(
            "/renewal-runs",
            &app.staff,
            json!({"billing_cycle": "Member renewals", "effective_date": "2027-01-01"}),
        )
        .await
        .expect(201)
        .body;
    let (events, cursor) = events_after(&app, &start, "").await;
    assert_eq!(
        types(&events),
        [
            "invoice.created",
            "invoice.created",
            "renewal_run.completed"
        ]
    );
    let first = events[0]["data"]["invoice_id"].as_i64().unwrap();
    let invoice = app
        .get(&format!("/invoices/{first}"), &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(
        events[0]["data"],
        json!({"invoice_id": first, "contact_id": invoice["contact_id"], "total": "500.00",
            "kind": "renewal", "renewal_run_id": run["id"]})
    );
    assert_eq!(events[0]["subject"], format!("invoices/{first}"));
    assert_eq!(events[2]["subject"], format!("renewal-runs/{}", run["id"]));
    assert_eq!(events[2]["data"]["billed"], 2);
    assert_eq!(events[2]["data"]["total"], "1000.00");

    // Void one renewal invoice; pay the other: a renewal.
    let void_id = events[0]["data"]["invoice_id"].as_i64().unwrap();
    let void_contact = events[0]["data"]["contact_id"].as_i64().unwrap();
    app.post(
        &format!("/invoices/{void_id}/void"),
        &app.staff,
        json!({"reason": "Resigned"}),
    )
    .await
    .expect(200);
    let pay_id = events[1]["data"]["invoice_id"].as_i64().unwrap();
    app.post(
        &format!("/invoices/{pay_id}/payments"),
        &app.staff,
        json!({"amount": "500.00", "paid_on": "2027-01-10", "method": "card"}),
    )
    .await
    .expect(201);
    let (events, cursor) = events_after(&app, &cursor, "").await;
    assert_eq!(
        types(&events),
        [
            "invoice.voided",
            "invoice.payment_received",
            "invoice.paid",
            "subscription.changed",
            "membership.renewed"
        ]
    );
    assert_eq!(events[0]["data"]["reason"], "Resigned");
    assert_eq!(events[3]["data"]["change"], "paid");
    assert_eq!(events[4]["data"]["paid_through"], "2027-12-31");

    // The unpaid member lapses.
    app.post(
        "/membership/expire",
        &app.staff,
        json!({"as_of": "2027-06-01"}),
    )
    .await
    .expect(200);
    let (events, _) = events_after(&app, &cursor, "").await;
    assert_eq!(types(&events), ["contact.updated", "membership.expired"]);
    // The member whose renewal was voided did not pay: they lapse.
    let lapsed = void_contact;
    assert!(members.contains(&lapsed));
    assert_eq!(events[0]["data"]["contact_id"], lapsed);
    assert_eq!(events[0]["data"]["via"], "expire");
    assert_eq!(events[1]["data"]["contact_id"], lapsed);
    assert_eq!(events[1]["data"]["customer_type"], "NM");
}

/// What a receiver got: headers and body.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// A webhook receiver on loopback answering each request with the next status of `answers`
/// (the last one repeats).
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

async fn receiver(answers: &[u16]) -> Receiver {
    let got = Arc::new(Mutex::new(Vec::new()));
    let answers = Arc::new(Mutex::new(answers.to_vec()));
    let (g, a) = (got.clone(), answers.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let (g, a) = (g.clone(), a.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: String| {
            let (g, a) = (g.clone(), a.clone());
            async move {
                let h = |n: &str| {
                    req.headers()
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                g.lock().unwrap().push(Received {
                    id: h("webhook-id"),
                    timestamp: h("webhook-timestamp"),
                    signature: h("webhook-signature"),
                    body,
                });
                let status = {
                    let mut a = a.lock().unwrap();
                    if a.len() > 1 { a.remove(0) } else { a[0] }
                };
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                    .body(format!("answered {status}"))
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Receiver {
        url: format!("http://127.0.0.1:{port}/hooks"),
        got,
        answers,
    }
}

/// A deliverer that retries `retries` times at once.
fn deliverer(app: &TestApp, retries: usize) -> Deliverer {
    deliverer_with(app, vec![Duration::ZERO; retries])
}

fn deliverer_with(app: &TestApp, retry_delays: Vec<Duration>) -> Deliverer {
    Deliverer::new(
        app.db.clone(),
        Settings {
            retry_delays,
            timeout: Duration::from_secs(5),
            batch: 32,
            // The receivers of these tests listen on loopback.
            policy: service::outbound::Policy {
                allow_private_networks: true,
                ..Default::default()
            },
        },
    )
    .unwrap()
}

/// Checks a Standard Webhooks signature the way a receiver does.
fn verify(secret: &str, r: &Received) -> bool {
    use hmac::{Hmac, Mac};
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    r.signature.split(' ').any(|s| s == expected)
}

async fn deliveries(app: &TestApp, hook: i64, query: &str) -> Vec<Value> {
    app.items(&format!("/webhooks/{hook}/deliveries{query}"))
        .await
}

#[actix_web::test]
async fn webhooks_are_signed_filtered_and_carry_the_event() {
    let app = spawn().await;
    app.doctors_with_join_cycle(JOIN_CYCLE).await;
    let rx = receiver(&[200]).await;
    // Events before the endpoint exists are not sent to it.
    let early = app.person("NM", "Early").await;
    let hook = app
        .post(
            "/webhooks",
            &app.staff,
            json!({"url": rx.url, "description": "CRM",
                "event_types": ["membership.joined", "contact.created"]}),
        )
        .await
        .expect(201);
    assert_eq!(
        hook.header("location"),
        Some(format!("/api/v1/webhooks/{}", hook.body["id"]))
    );
    let hook = hook.body;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(
        hook["event_types"],
        json!(["contact.created", "membership.joined"])
    );
    let id = hook["id"].as_i64().unwrap();

    let c = app.person("NM", "Hooked").await;
    app.join_and_pay(c, JOIN_CYCLE, "2027-01-15", "2027-01-15")
        .await;
    let d = deliverer(&app, 2);
    let tick = d.tick().await.unwrap();
    assert_eq!((tick.enqueued, tick.attempted, tick.succeeded), (2, 2, 2));
    assert_eq!(d.tick().await.unwrap().attempted, 0, "sent once only");

    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let mut bodies = Vec::new();
    for r in &got {
        assert!(verify(&secret, r), "bad signature: {r:?}");
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(r.id, body["id"].to_string());
        let ts: i64 = r.timestamp.parse().unwrap();
        assert!((ts - chrono::Utc::now().timestamp()).abs() < 60);
        // The body is the event as the feed shows it.
        let feed = app
            .get(&format!("/events/{}", body["id"]), &app.staff)
            .await
            .expect(200)
            .body;
        assert_eq!(body, feed);
        bodies.push(body);
    }
    bodies.sort_by_key(|b| b["id"].as_i64());
    assert_eq!(types(&bodies), ["contact.created", "membership.joined"]);
    assert_eq!(bodies[0]["data"]["contact_id"], c);
    assert_ne!(bodies[0]["data"]["contact_id"], early);
    // A forged signature does not verify.
    let mut forged = got[0].clone();
    forged.body = forged.body.replace("contact", "kontact");
    assert!(!verify(&secret, &forged));

    let log = deliveries(&app, id, "").await;
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|d| d["status"] == "succeeded" && d["attempts"] == 1)
    );
    assert_eq!(log[0]["log"][0]["status_code"], 200);
    assert_eq!(log[0]["log"][0]["response_excerpt"], "answered 200");
}

#[actix_web::test]
async fn failed_deliveries_are_retried_on_the_schedule_then_fail_and_can_be_redelivered() {
    let app = spawn().await;
    app.doctors_with_join_cycle(JOIN_CYCLE).await;
    let rx = receiver(&[503, 500, 200]).await;
    let hook = app
        .post("/webhooks", &app.staff, json!({"url": rx.url}))
        .await
        .expect(201)
        .body;
    let id = hook["id"].as_i64().unwrap();
    app.person("NM", "Retry").await;

    // A long first delay: the retry waits for it.
    let patient = deliverer_with(&app, vec![Duration::from_secs(3600)]);
    assert_eq!(patient.tick().await.unwrap().attempted, 1);
    assert_eq!(patient.tick().await.unwrap().attempted, 0, "not yet due");
    let log = deliveries(&app, id, "?status=pending").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status_code"], 503);
    let next: chrono::DateTime<chrono::Utc> =
        log[0]["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let wait = next - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::minutes(59) && wait <= chrono::Duration::hours(1),
        "{wait}"
    );

    // With no delay left after the next answer (500), the delivery fails.
    let impatient = deliverer(&app, 1);
    <entity::webhook_delivery::Entity as sea_orm::EntityTrait>::update_many()
        .col_expr(
            entity::webhook_delivery::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::val(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .exec(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(impatient.tick().await.unwrap().attempted, 1);
    let failed = deliveries(&app, id, "?status=failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["attempts"], 2);
    assert!(failed[0]["next_attempt_at"].is_null());
    let codes: Vec<&Value> = failed[0]["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(503), &json!(500)]);
    assert_eq!(impatient.tick().await.unwrap().attempted, 0);

    // Redelivered by hand, it succeeds (the receiver now answers 200), with the same id.
    let delivery = failed[0]["id"].as_i64().unwrap();
    let again = app
        .post(
            &format!("/webhooks/{id}/deliveries/{delivery}/redeliver"),
            &app.staff,
            json!({}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(again["status"], "pending");
    assert_eq!(impatient.tick().await.unwrap().succeeded, 1);
    let done = deliveries(&app, id, "").await;
    assert_eq!(done[0]["status"], "succeeded");
    assert_eq!(done[0]["log"].as_array().unwrap().len(), 3);
    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.id == got[0].id), "one message id");
    assert!(rx.answers.lock().unwrap().len() == 1);
    app.post(
        &format!("/webhooks/{id}/deliveries/999999/redeliver"),
        &app.staff,
        json!({}),
    )
    .await
    .problem(404, "not_found");
}

#[actix_web::test]
async fn unreachable_and_disabled_endpoints() {
    let app = spawn().await;
    app.doctors_with_join_cycle(JOIN_CYCLE).await;
    // Nothing listens on a free port.
    let port = tests::started::free_port();
    let hook = app
        .post(
            "/webhooks",
            &app.staff,
            json!({"url": format!("http://127.0.0.1:{port}/gone")}),
        )
        .await
        .expect(201)
        .body;
    let id = hook["id"].as_i64().unwrap();
    app.person("NM", "Nobody").await;
    let d = deliverer(&app, 3);
    assert_eq!(d.tick().await.unwrap().succeeded, 0);
    let log = deliveries(&app, id, "").await;
    assert_eq!(log[0]["status"], "pending");
    assert!(log[0]["last_status_code"].is_null());
    // SEC-7: whether it answered, not why (refused, unreachable): the log maps no ports.
    let error = log[0]["log"][0]["error"].as_str().unwrap();
    assert!(error.starts_with("no answer"), "{error}");
    assert!(
        !error.contains("refused") && !error.contains(&port.to_string()),
        "{error}"
    );

    // Disabled: nothing is sent, and pending deliveries wait for it.
    let r = app
        .patch(
            &format!("/webhooks/{id}"),
            &app.staff,
            json!({"enabled": false}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["enabled"], false);
    assert_eq!(r.body["version"], 2);
    app.person("NM", "Later").await;
    let t = d.tick().await.unwrap();
    assert_eq!((t.enqueued, t.attempted), (0, 0));
    assert_eq!(deliveries(&app, id, "").await.len(), 1);

    // Stale If-Match, then delete with the right one: the log goes with it.
    app.send(
        reqwest::Method::DELETE,
        &format!("/webhooks/{id}"),
        Some(&app.staff),
        None,
        &[("if-match", "\"1\"")],
    )
    .await
    .problem(412, "precondition_failed");
    app.send(
        reqwest::Method::DELETE,
        &format!("/webhooks/{id}"),
        Some(&app.staff),
        None,
        &[("if-match", "\"2\"")],
    )
    .await
    .expect(204);
    app.get(&format!("/webhooks/{id}"), &app.staff)
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn webhook_input_is_checked() {
    let app = spawn().await;
    app.doctors_with_join_cycle(JOIN_CYCLE).await;
    for (body, field) in [
        (json!({}), "url"),
        (json!({"url": "ftp://example.org/x"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (
            json!({"url": "https://example.org/x", "event_types": ["invoice.eaten"]}),
            "event_types",
        ),
    ] {
        let r = app
            .post("/webhooks", &app.staff, body.clone())
            .await
            .problem(422, "validation_failed");
        assert!(
            r.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{body}: {}",
            r.text
        );
    }
    let list = app.get("/webhooks", &app.staff).await.expect(200).body;
    assert_eq!(list["items"], json!([]));
    let member = app.person("NM", "Member").await;
    app.post(
        "/webhooks",
        &app.member_token(member).await,
        json!({"url": "https://example.org/x"}),
    )
    .await
    .problem(403, "forbidden");
}
