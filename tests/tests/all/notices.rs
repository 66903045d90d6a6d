//! Notices to members (N-1..N-3) delivered to a real SMTP server: aiosmtpd, started by
//! `.ci/run` on loopback, writing to a Maildir (`AMS_TEST_SMTP_URL`, `AMS_TEST_MAILDIR`).
//! Without it the tests that need a mail server say so and pass over; writing notices, the
//! templates and the log are tested everywhere.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};
use service::mail::delivery::{Deliverer, Mailer, Settings, Tick};
use tests::{TestApp, id, spawn};

const JOIN: &str = "Notice join";

fn mail_server() -> Option<(String, PathBuf)> {
    match (
        std::env::var("AMS_TEST_SMTP_URL"),
        std::env::var("AMS_TEST_MAILDIR"),
    ) {
        (Ok(url), Ok(dir)) => Some((url, PathBuf::from(dir))),
        _ => {
            eprintln!(
                "AMS_TEST_SMTP_URL and AMS_TEST_MAILDIR are not set: no mail server to deliver to (.ci/run starts aiosmtpd)"
            );
            None
        }
    }
}

/// An address no other test uses, so that its messages can be told apart in the Maildir.
fn address(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!(
        "{name}.{}.{}.{n}@example.org",
        std::process::id(),
        tests::now()
    )
    .to_lowercase()
}

fn mailer(url: &str) -> Mailer {
    Mailer::new(
        url,
        "Society of Example Physicians <membership@example.org>",
    )
    .expect("mailer")
}

/// Retries at once: what a day of waiting is, in a test.
fn settings(retries: usize) -> Settings {
    Settings {
        retry_delays: vec![Duration::ZERO; retries],
        batch: 500,
        lease: Duration::from_secs(60),
        ..Settings::default()
    }
}

async fn deliver(app: &TestApp, mailer: Option<Mailer>, retries: usize) -> Tick {
    Deliverer::new(app.db.clone(), mailer, settings(retries))
        .tick()
        .await
        .expect("tick")
}

/// The messages the mail server received for `to`, raw.
fn messages_to(maildir: &std::path::Path, to: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            if let Ok(text) = std::fs::read_to_string(entry.path())
                && text
                    .lines()
                    .any(|l| l.starts_with("To: ") && l.contains(to))
            {
                out.push(text);
            }
        }
    }
    out
}

async fn notices(app: &TestApp, query: &str) -> Vec<Value> {
    app.get(&format!("/notices?{query}"), &app.staff)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn setup(app: &TestApp) {
    app.doctors_with_join_cycle(JOIN).await;
    app.set_settings(json!({"association_name": "Society of Example Physicians",
        "association_address": "1 Main Street\nSpringfield, IL 62701",
        "reply_to": "membership@example.org"}))
        .await;
}

async fn person(app: &TestApp, last: &str, email: Option<&str>) -> i64 {
    let mut body = json!({"customer_type": "NM", "first_name": "Pat", "last_name": last});
    if let Some(e) = email {
        body["email"] = json!(e);
    }
    id(&app.create_contact(body).await)
}

/// N-1, N-3: a paid join writes a receipt to the payer and a welcome to the member in the
/// payment's transaction; a contact without an email gets them recorded as skipped; delivered,
/// each reaches the mail server once with the association's reply-to, and the log shows it.
#[tokio::test]
async fn n1_n3_a_paid_join_writes_a_receipt_and_a_welcome_delivered_once() {
    let app = spawn().await;
    setup(&app).await;
    let email = address("joiner");
    let joiner = person(&app, "Joiner", Some(&email)).await;
    let inv = app
        .join_and_pay(joiner, JOIN, "2026-04-10", "2026-04-11")
        .await;
    let written = notices(&app, &format!("contact_id={joiner}")).await;
    let kinds: Vec<&str> = written.iter().filter_map(|n| n["kind"].as_str()).collect();
    assert_eq!(kinds, ["receipt", "welcome"], "{written:?}");
    assert!(written.iter().all(|n| n["status"] == "pending"));
    assert!(written.iter().all(|n| n["to"] == email.as_str()));
    assert_eq!(written[0]["invoice_id"], inv["id"]);
    assert!(written[0]["payment_id"].is_i64());

    let silent = person(&app, "Silent", None).await;
    app.join_and_pay(silent, JOIN, "2026-04-10", "2026-04-11")
        .await;
    let skipped = notices(&app, &format!("contact_id={silent}")).await;
    assert_eq!(skipped.len(), 2);
    assert!(
        skipped
            .iter()
            .all(|n| n["status"] == "skipped" && n["to"].is_null())
    );

    let Some((url, maildir)) = mail_server() else {
        return;
    };
    let tick = deliver(&app, Some(mailer(&url)), 2).await;
    assert_eq!(tick.sent, 2, "{tick:?}");
    assert_eq!(deliver(&app, Some(mailer(&url)), 2).await.attempted, 0);
    let sent = notices(&app, &format!("contact_id={joiner}")).await;
    assert!(
        sent.iter()
            .all(|n| n["status"] == "sent" && n["attempts"] == 1),
        "{sent:?}"
    );
    assert!(
        sent[0]["subject"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Receipt ")
    );
    let messages = messages_to(&maildir, &email);
    assert_eq!(messages.len(), 2, "each notice once");
    let receipt = messages
        .iter()
        .find(|m| m.contains("Subject: Receipt"))
        .expect("the receipt");
    assert!(
        receipt.contains("Reply-To: membership@example.org"),
        "{receipt}"
    );
    assert!(receipt.contains("Society of Example Physicians"));
    assert!(
        receipt.contains(inv["total"].as_str().unwrap_or("?")),
        "{receipt}"
    );
    let welcome = messages
        .iter()
        .find(|m| m.contains("Subject: Welcome to Society of Example Physicians"))
        .expect("the welcome");
    assert!(welcome.contains("Dear Pat"));
    assert!(welcome.contains("text/html"));
    // The skipped ones stay as they are.
    let skipped = notices(&app, &format!("contact_id={silent}")).await;
    assert!(skipped.iter().all(|n| n["status"] == "skipped"));
}

/// N-3: with the mail server down nothing is lost and nothing is undone: the notice waits,
/// with the error in the log, and goes once the server is back; past its last retry it is
/// failed. Without a mail server configured notices are recorded as not sent.
#[tokio::test]
async fn n3_a_dead_mail_server_loses_nothing_and_undoes_nothing() {
    let app = spawn().await;
    setup(&app).await;
    let email = address("patient");
    let c = person(&app, "Patient", Some(&email)).await;
    let inv = app.join_and_pay(c, JOIN, "2026-04-10", "2026-04-11").await;
    let dead = mailer("smtp://127.0.0.1:9");
    let tick = deliver(&app, Some(dead.clone()), 3).await;
    assert_eq!((tick.attempted, tick.sent), (2, 0));
    let waiting = notices(&app, &format!("contact_id={c}")).await;
    assert!(
        waiting
            .iter()
            .all(|n| n["status"] == "pending" && n["attempts"] == 1 && n["last_error"].is_string()),
        "{waiting:?}"
    );
    assert_eq!(
        app.invoice(id(&inv)).await["status"],
        "paid",
        "the payment stands"
    );

    if let Some((url, maildir)) = mail_server() {
        assert_eq!(deliver(&app, Some(mailer(&url)), 3).await.sent, 2);
        assert_eq!(messages_to(&maildir, &email).len(), 2);
        let sent = notices(&app, &format!("contact_id={c}")).await;
        assert!(
            sent.iter()
                .all(|n| n["status"] == "sent" && n["attempts"] == 2)
        );
    }

    // Past the last retry: failed, with the error kept.
    let other = person(&app, "Unlucky", Some(&address("unlucky"))).await;
    app.join_and_pay(other, JOIN, "2026-04-10", "2026-04-11")
        .await;
    for _ in 0..2 {
        deliver(&app, Some(dead.clone()), 1).await;
    }
    let failed = notices(&app, &format!("contact_id={other}")).await;
    assert!(
        failed
            .iter()
            .all(|n| n["status"] == "failed" && n["attempts"] == 2),
        "{failed:?}"
    );
    let listed = notices(&app, "status=failed").await;
    assert_eq!(listed.len(), 2);

    // No mail server configured: recorded, not sent.
    let quiet = person(&app, "Quiet", Some(&address("quiet"))).await;
    app.join_and_pay(quiet, JOIN, "2026-04-10", "2026-04-11")
        .await;
    assert_eq!(deliver(&app, None, 1).await.not_sent, 2);
    let recorded = notices(&app, &format!("contact_id={quiet}")).await;
    assert!(recorded.iter().all(|n| n["status"] == "not_sent"));
    app.get("/notices?status=lost", &app.staff)
        .await
        .problem(400, "invalid_parameter");
}

/// N-3: two servers delivering at once send each notice once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n3_two_servers_delivering_at_once_send_each_notice_once() {
    let Some((url, maildir)) = mail_server() else {
        return;
    };
    let app = spawn().await;
    setup(&app).await;
    let mut emails = Vec::new();
    for k in 0..6 {
        let email = address(&format!("crowd{k}"));
        let c = person(&app, &format!("Crowd{k}"), Some(&email)).await;
        app.join_and_pay(c, JOIN, "2026-04-10", "2026-04-11").await;
        emails.push(email);
    }
    let small = |m: Mailer| {
        Deliverer::new(
            app.db.clone(),
            Some(m),
            Settings {
                batch: 3,
                ..settings(2)
            },
        )
    };
    let (a, b) = (small(mailer(&url)), small(mailer(&url)));
    let mut sent = 0;
    for _ in 0..4 {
        let (ta, tb) = tokio::join!(a.tick(), b.tick());
        sent += ta.expect("a").sent + tb.expect("b").sent;
    }
    assert_eq!(sent, 12);
    for email in emails {
        assert_eq!(messages_to(&maildir, &email).len(), 2, "{email}");
    }
}

/// N-3 (bad input): a name that carries a line break (written around the API, which refuses
/// it) adds no header: the subject stays one line.
#[tokio::test]
async fn n3_a_line_break_in_a_name_adds_no_header() {
    let Some((url, maildir)) = mail_server() else {
        return;
    };
    let app = spawn().await;
    setup(&app).await;
    let email = address("injected");
    let c = person(&app, "Plain", Some(&email)).await;
    app.put(
        "/notice-templates/welcome",
        &app.staff,
        json!({"subject": "Welcome, {{ contact.first_name }}", "text": "Hello", "html": "<p>Hello</p>"}),
    )
    .await
    .expect(200);
    let backend = app.db.conn.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => "UPDATE contacts SET first_name = $1 WHERE id = $2",
        _ => "UPDATE contacts SET first_name = ? WHERE id = ?",
    };
    app.db
        .conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            ["Eve\r\nBcc: thief@example.org".into(), c.into()],
        ))
        .await
        .expect("name");
    app.join_and_pay(c, JOIN, "2026-04-10", "2026-04-11").await;
    deliver(&app, Some(mailer(&url)), 1).await;
    let messages = messages_to(&maildir, &email);
    let welcome = messages
        .iter()
        .find(|m| m.contains("Subject: Welcome, Eve"))
        .expect("the welcome");
    assert!(!welcome.lines().any(|l| l.starts_with("Bcc:")), "{welcome}");
}

/// N-2: defaults for every kind, documented variables; a template that does not compile or
/// names an unknown variable is 422 with its line; a saved one is used and previewed with a
/// contact's data; reset brings the default back.
#[tokio::test]
async fn n2_templates_are_checked_saved_previewed_and_reset() {
    let app = spawn().await;
    setup(&app).await;
    let all = app
        .get("/notice-templates", &app.staff)
        .await
        .expect(200)
        .body["items"]
        .clone();
    assert_eq!(all.as_array().map(Vec::len), Some(7));
    for t in all.as_array().expect("items") {
        assert_eq!(t["is_default"], true);
        assert!(!t["subject"].as_str().unwrap_or_default().is_empty());
        assert!(t["variables"].as_array().is_some_and(|v| !v.is_empty()));
    }
    let receipt = app
        .get("/notice-templates/receipt", &app.staff)
        .await
        .expect(200)
        .body;
    assert!(
        receipt["variables"]
            .as_array()
            .expect("variables")
            .contains(&json!("payment.receipt_number"))
    );
    app.get("/notice-templates/postcard", &app.staff)
        .await
        .problem(404, "not_found");

    let broken = app
        .put(
            "/notice-templates/receipt",
            &app.staff,
            json!({"subject": "Receipt", "text": "Dear {{ contact.first_name }},\n{% if payment.amount %}\nThanks", "html": "<p>ok</p>"}),
        )
        .await
        .problem(422, "validation_failed");
    let text_error = error_of(&broken.body, "text");
    assert!(text_error.contains("line"), "{text_error}");
    let unknown = app
        .put(
            "/notice-templates/receipt",
            &app.staff,
            json!({"subject": "Receipt", "text": "Dear {{ contact.first_name }},\n\nYour nickname: {{ contact.nickname }}", "html": "<p>{{ payment.amount }}</p>"}),
        )
        .await
        .problem(422, "validation_failed");
    let text_error = error_of(&unknown.body, "text");
    assert!(
        text_error.contains("line 3") && text_error.contains("contact.nickname"),
        "{text_error}"
    );
    // A variable of another kind is unknown here.
    app.put(
        "/notice-templates/expiry",
        &app.staff,
        json!({"subject": "Bye", "text": "{{ invoice.total }}", "html": "<p>bye</p>"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(
        app.get("/notice-templates/receipt", &app.staff)
            .await
            .expect(200)
            .body["is_default"],
        true,
        "nothing saved"
    );

    let saved = app
        .put(
            "/notice-templates/welcome",
            &app.staff,
            json!({"subject": "Welcome aboard, {{ contact.first_name | upper }}",
                "text": "{{ association.name }} welcomes {{ contact.name }}.",
                "html": "<p>{{ contact.name }}</p>"}),
        )
        .await
        .expect(200);
    assert_eq!(saved.body["version"], 1);
    assert_eq!(saved.body["is_default"], false);
    let c = person(&app, "O'Brien & Sons", Some(&address("preview"))).await;
    let preview = app
        .post(
            "/notice-templates/welcome/preview",
            &app.staff,
            json!({"contact_id": c}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(preview["subject"], "Welcome aboard, PAT");
    assert_eq!(
        preview["text"],
        "Society of Example Physicians welcomes Pat O'Brien & Sons."
    );
    assert_eq!(preview["html"], "<p>Pat O&#x27;Brien &amp; Sons</p>");
    app.post(
        "/notice-templates/welcome/preview",
        &app.staff,
        json!({"contact_id": 987654}),
    )
    .await
    .problem(404, "not_found");
    let reset = app
        .delete("/notice-templates/welcome", &app.staff)
        .await
        .expect(200);
    assert_eq!(reset.body["is_default"], true);
    // Members do not edit templates.
    let me = app.member_token(c).await;
    app.get("/notice-templates/welcome", &me)
        .await
        .problem(403, "forbidden");
}

fn error_of(problem: &Value, field: &str) -> String {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["field"] == field)
        .and_then(|e| e["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// N-1: a renewal run writes one renewal notice per invoice with something to pay, in its
/// pages; expiry writes one to each member whose membership ended; settings check the
/// reply-to.
#[tokio::test]
async fn n1_renewal_runs_and_expiry_write_their_notices() {
    let app = spawn().await;
    setup(&app).await;
    let cycle = app
        .create_cycle(json!({"name": "Notice renewals", "customer_types": ["M"]}))
        .await;
    let mut members = Vec::new();
    for k in 0..3 {
        let c = id(&app
            .create_contact(json!({"customer_type": "M", "billing_category": "REG",
                "first_name": "Renee", "last_name": format!("Renew{k}"),
                "email": address(&format!("renew{k}"))}))
            .await);
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
    let run = app
        .post(
            "/renewal-runs",
            &app.staff,
            json!({"billing_cycle": "Notice renewals", "effective_date": "2027-01-01"}),
        )
        .await
        .expect(201)
        .body;
    let written = notices(&app, "kind=renewal_notice").await;
    assert_eq!(written.len(), 3, "{written:?}");
    for (n, c) in written.iter().zip(&members) {
        assert_eq!(n["contact_id"], *c);
        assert!(n["invoice_id"].is_i64());
    }
    assert_eq!(run["billed"], 3);
    // I-7 by email: each open renewal invoice once a day, however often it is sent.
    for expected in [3, 0] {
        let sent = app
            .post(
                "/renewal-reminders/send",
                &app.staff,
                json!({"billing_cycle": cycle}),
            )
            .await
            .expect(200);
        assert_eq!(sent.body["written"], expected);
    }
    let reminders = notices(&app, "kind=reminder").await;
    assert_eq!(reminders.len(), 3);
    assert_eq!(reminders[0]["invoice_id"], written[0]["invoice_id"]);
    app.post(
        "/membership/expire",
        &app.staff,
        json!({"as_of": "2027-06-01"}),
    )
    .await
    .expect(200);
    let expiry = notices(&app, "kind=expiry").await;
    assert_eq!(expiry.len(), 3, "{expiry:?}");
    let preview = app
        .post(
            "/notice-templates/renewal_notice/preview",
            &app.staff,
            json!({"contact_id": members[0], "invoice_id": written[0]["invoice_id"]}),
        )
        .await
        .expect(200)
        .body;
    assert!(
        preview["text"]
            .as_str()
            .unwrap_or_default()
            .contains("MDUES"),
        "{preview}"
    );
    let mut s = app
        .get("/settings/membership", &app.staff)
        .await
        .expect(200)
        .body;
    s["reply_to"] = json!("not an address");
    app.put("/settings/membership", &app.staff, s)
        .await
        .problem(422, "validation_failed");
}
