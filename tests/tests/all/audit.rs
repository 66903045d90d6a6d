//! The audit trail: every write request is recorded, in the transaction that makes the
//! change, with who, when, the operation, its body (secrets redacted) and the request id.

use reqwest::Method;
use serde_json::json;
use tests::{TestApp, spawn};

async fn admin_id(app: &TestApp) -> i64 {
    service::users::find_by_username(&app.db.conn, "admin")
        .await
        .expect("query")
        .expect("admin")
        .id
}

#[tokio::test]
async fn a_staff_write_is_recorded_with_who_what_and_the_request_id() {
    let app = spawn().await;
    app.doctors().await;
    let created = app
        .send(
            Method::POST,
            "/contacts",
            Some(&app.staff),
            Some(json!({"customer_type": "NM", "first_name": "Ada", "last_name": "Audit"})),
            &[("x-request-id", "req-audit-1")],
        )
        .await
        .expect(201);
    let id = created.body["id"].as_i64().expect("id");
    let found = app.audit_events("createContact").await;
    let e = found
        .iter()
        .find(|e| e["request_id"] == "req-audit-1")
        .expect("an event for the request");
    assert_eq!(e["user_id"], admin_id(&app).await);
    assert_eq!(e["subject"], "/api/v1/contacts");
    assert_eq!(e["details"]["method"], "POST");
    assert_eq!(e["details"]["body"]["last_name"], "Audit");
    assert!(e["at"].as_str().is_some_and(|a| a.starts_with("20")));

    app.patch(
        &format!("/contacts/{id}"),
        &app.staff,
        json!({"phone": "555-0100"}),
    )
    .await
    .expect(200);
    let updates = app.audit_events("updateContact").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["subject"], format!("/api/v1/contacts/{id}"));
    assert_eq!(updates[0]["details"]["body"]["phone"], "555-0100");
}

#[tokio::test]
async fn secrets_in_a_recorded_body_are_redacted() {
    let app = spawn().await;
    app.post(
        "/users",
        &app.staff,
        json!({"username": "jane", "password": "a long passphrase", "role": "staff"}),
    )
    .await
    .expect(201);
    let found = app.audit_events("createUser").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["details"]["body"]["username"], "jane");
    assert_eq!(found[0]["details"]["body"]["password"], "[redacted]");
    assert!(!found[0].to_string().contains("a long passphrase"));
}

#[tokio::test]
async fn a_failed_write_and_a_read_leave_no_event() {
    let app = spawn().await;
    app.doctors().await;
    let count = async || {
        app.get("/audit-events?limit=200", &app.staff)
            .await
            .expect(200)
            .body["items"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    };
    let member = app.member_token(app.person("NM", "Audit").await).await;
    let before = count().await;
    // Refused by validation, by a missing record and by role: nothing changed, nothing recorded.
    app.post("/contacts", &app.staff, json!({"customer_type": "NOPE"}))
        .await
        .problem(422, "validation_failed");
    app.patch("/contacts/999999", &app.staff, json!({"phone": "1"}))
        .await
        .expect(404);
    app.post("/products", &member, json!({})).await.expect(403);
    app.get("/contacts", &app.staff).await.expect(200);
    assert_eq!(count().await, before);
}

#[tokio::test]
async fn joining_paying_importing_and_a_renewal_run_are_each_recorded_once() {
    let app = spawn().await;
    let cycle = app.doctors_with_join_cycle("Audit join").await;
    let contact = app.person("NM", "Payer").await;
    let invoice = app
        .join_and_pay(contact, "Audit join", "2026-01-01", "2026-01-05")
        .await;
    assert_eq!(app.audit_events("joinContact").await.len(), 1);
    let paid = app.audit_events("payInvoice").await;
    assert_eq!(paid.len(), 1);
    assert_eq!(
        paid[0]["subject"],
        format!("/api/v1/invoices/{}/payments", invoice["id"])
    );
    assert_eq!(paid[0]["details"]["body"]["method"], "card");

    let csv = format!(
        "contact_id,product,begin_date,paid_through\n{contact},MDUES,2026-01-01,2027-12-31\n"
    );
    app.post_csv("/subscriptions/import?action=upsert", &csv)
        .await
        .expect(200);
    let imported = app.audit_events("importSubscriptions").await;
    assert_eq!(imported.len(), 1);
    // Non-JSON bodies are described, not copied.
    assert_eq!(imported[0]["details"]["body"]["content_type"], "text/csv");
    assert_eq!(imported[0]["details"]["body"]["length"], csv.len());
    assert_eq!(
        imported[0]["subject"],
        "/api/v1/subscriptions/import?action=upsert"
    );

    // A preview writes nothing; a committed run writes page by page and is recorded once.
    app.post(
        "/renewal-runs",
        &app.staff,
        json!({"billing_cycle": cycle, "dry_run": true}),
    )
    .await
    .expect(200);
    assert!(app.audit_events("createRenewalRun").await.is_empty());
    app.post("/renewal-runs", &app.staff, json!({"billing_cycle": cycle}))
        .await
        .expect(201);
    assert_eq!(app.audit_events("createRenewalRun").await.len(), 1);
}
