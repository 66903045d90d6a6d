//! Invoice documents (N-4): one invoice as a PDF for staff and for its member, a renewal run's
//! invoices as one printable PDF, and renewal notices carrying theirs. The PDFs are read back
//! as text with `pdftotext` (Debian's poppler-utils, installed by `.ci/run`); without it the
//! text checks say so and pass over, unless `AMS_TEST_REQUIRE_PDFTOTEXT` is set.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;
use serde_json::{Value, json};
use service::mail::delivery::{Deliverer, Mailer, Settings};
use tests::{TestApp, id, spawn};

const JOIN: &str = "Document join";
const RENEW: &str = "Document renewals";
const ASSOCIATION: &str = "Society of Example Physicians";

struct Pdf {
    status: u16,
    content_type: String,
    bytes: Vec<u8>,
}

async fn pdf(app: &TestApp, path: &str, token: &str) -> Pdf {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .header("accept", "application/pdf")
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = res.bytes().await.expect("body").to_vec();
    Pdf {
        status,
        content_type,
        bytes,
    }
}

/// A PDF that was answered and is whole: its header, its end, and a page.
#[track_caller]
fn assert_pdf(doc: &Pdf) {
    assert_eq!(doc.status, 200, "{}", String::from_utf8_lossy(&doc.bytes));
    assert_eq!(doc.content_type, "application/pdf");
    assert!(doc.bytes.starts_with(b"%PDF-1."));
    assert!(doc.bytes.trim_ascii_end().ends_with(b"%%EOF"));
}

/// The PDF's text, laid out as on the page; `None` without `pdftotext`.
fn text_of(bytes: &[u8]) -> Option<String> {
    let child = Command::new("pdftotext")
        .args(["-layout", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("AMS_TEST_REQUIRE_PDFTOTEXT").is_none(),
                "pdftotext is required here: {e}"
            );
            eprintln!("pdftotext is not installed ({e}): the PDF's text is not checked");
            return None;
        }
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write");
    let out = child.wait_with_output().expect("pdftotext");
    assert!(
        out.status.success(),
        "pdftotext could not read the PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[track_caller]
fn assert_has(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} is not in:\n{text}");
    }
}

/// The footer that names an invoice on each of its pages.
fn footer_of(invoice: i64) -> String {
    format!("- invoice {invoice} - page")
}

async fn setup(app: &TestApp) {
    app.doctors_with_join_cycle(JOIN).await;
    app.set_settings(json!({"association_name": ASSOCIATION,
        "association_address": "1 Main Street\nSpringfield, IL 62701",
        "reply_to": "membership@example.org", "default_accounting_method": "accrual"}))
        .await;
}

async fn member_with_address(app: &TestApp, last: &str, email: Option<&str>) -> i64 {
    id(&app
        .create_contact(
            json!({"customer_type": "NM", "first_name": "Pat", "last_name": last,
            "email": email,
            "address": {"line1": "12 Elm Street", "city": "Shelbyville", "region": "IL",
                "postal_code": "62565", "country": "US"}}),
        )
        .await)
}

/// N-4: staff read any invoice as a PDF and a member their own, with the association's name
/// and address, bill-to, the lines with their terms, totals, paid, balance and how to pay;
/// another member's is not found, and so is an invoice that does not exist.
#[tokio::test]
async fn n4_staff_and_members_read_an_invoice_as_a_pdf() {
    let app = spawn().await;
    setup(&app).await;
    let c = member_with_address(&app, "Document", Some("pat.document@example.org")).await;
    let inv = app
        .post(
            &format!("/contacts/{c}/join"),
            &app.staff,
            json!({"billing_cycle": JOIN, "billing_category": "REG", "join_date": "2026-04-10"}),
        )
        .await
        .expect(201)
        .body;
    let invoice = id(&inv);
    let total = inv["total"].as_str().expect("total").to_owned();
    let line = &inv["lines"][0];

    let staff = pdf(&app, &format!("/invoices/{invoice}"), &app.staff).await;
    assert_pdf(&staff);
    if let Some(text) = text_of(&staff.bytes) {
        assert_has(
            &text,
            &[
                ASSOCIATION,
                "1 Main Street",
                "Springfield, IL 62701",
                "INVOICE",
                &format!("Invoice no. {invoice}"),
                "Bill to",
                "Pat Document",
                "12 Elm Street",
                "Shelbyville, IL 62565",
                "MDUES",
                &format!(
                    "{} to {}",
                    line["term_begin"].as_str().expect("begin"),
                    line["term_end"].as_str().expect("end")
                ),
                "Total",
                &total,
                "Balance due",
                "How to pay",
                &format!("By cheque: payable to {ASSOCIATION}"),
                &footer_of(invoice),
            ],
        );
    }
    if let Ok(path) = std::env::var("AMS_TEST_SAMPLE_PDF") {
        std::fs::write(&path, &staff.bytes).expect("sample PDF");
    }

    let token = app.member_token(c).await;
    let mine = pdf(&app, &format!("/me/invoices/{invoice}"), &token).await;
    assert_pdf(&mine);
    if let Some(text) = text_of(&mine.bytes) {
        assert_has(&text, &[&format!("Invoice no. {invoice}"), "Pat Document"]);
    }
    let json = app
        .get(&format!("/me/invoices/{invoice}"), &token)
        .await
        .expect(200);
    assert_eq!(json.body["id"], invoice);
    assert!(json.header("etag").is_some());

    let other = member_with_address(&app, "Other", None).await;
    let other_token = app.member_token(other).await;
    for path in [
        format!("/me/invoices/{invoice}"),
        format!("/invoices/{invoice}"),
    ] {
        let denied = pdf(&app, &path, &other_token).await;
        assert_eq!(denied.status, 404, "{path}");
        assert!(denied.content_type.starts_with("application/problem+json"));
    }
    assert_eq!(pdf(&app, "/invoices/999999", &app.staff).await.status, 404);

    app.post(
        &format!("/invoices/{invoice}/payments"),
        &app.staff,
        json!({"amount": total, "method": "check", "paid_on": "2026-04-12"}),
    )
    .await
    .expect(201);
    let paid = pdf(&app, &format!("/invoices/{invoice}"), &app.staff).await;
    assert_pdf(&paid);
    if let Some(text) = text_of(&paid.bytes) {
        assert_has(&text, &["PAID", "Paid in full. Thank you."]);
        assert!(!text.contains("How to pay"), "{text}");
    }
}

/// A committed run of `RENEW` for the term beginning 2027-01-01.
async fn renew(app: &TestApp) -> Value {
    app.post(
        "/renewal-runs",
        &app.staff,
        json!({"billing_cycle": RENEW, "effective_date": "2027-01-01"}),
    )
    .await
    .expect(201)
    .body
}

/// Members due for renewal in `RENEW` (print zero balance on): one with dues and a
/// complimentary journal (a zero line), one with complimentary dues only (a zero total), one
/// with dues. Their invoices, in that order.
async fn renewal_run(app: &TestApp) -> (i64, [i64; 3]) {
    app.create_product("JOURNAL", "subscription", "40.00").await;
    app.create_cycle(
        json!({"name": RENEW, "customer_types": ["M"], "products": ["JOURNAL"],
        "print_zero_balance": true}),
    )
    .await;
    let mut members = Vec::new();
    for (last, dues_free, journal) in [
        ("Zeroline", false, true),
        ("Complimentary", true, false),
        ("Plain", false, false),
    ] {
        let c = id(&app
            .create_contact(json!({"customer_type": "M", "billing_category": "REG",
                "first_name": "Pat", "last_name": last}))
            .await);
        app.post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": c, "product": "MDUES", "is_membership_component": true,
                "paid_through": "2026-12-31", "bill_subscription": true,
                "is_complimentary": dues_free}),
        )
        .await
        .expect(201);
        if journal {
            app.post(
                "/subscriptions",
                &app.staff,
                json!({"contact_id": c, "product": "JOURNAL", "paid_through": "2026-12-31",
                    "is_complimentary": true}),
            )
            .await
            .expect(201);
        }
        members.push(c);
    }
    let run = renew(app).await;
    let invoices: Vec<Value> = app
        .items(&format!("/invoices?renewal_run={}", id(&run)))
        .await;
    let of = |c: i64| {
        invoices
            .iter()
            .find(|i| i["contact_id"] == c)
            .map(id)
            .unwrap_or_else(|| panic!("no invoice for {c}: {invoices:?}"))
    };
    (id(&run), [of(members[0]), of(members[1]), of(members[2])])
}

/// N-4 with B-10: a run's invoices print as one PDF. Zero-total invoices are printed only
/// while the cycle prints zero balances, zero lines are left out when asked, and void
/// invoices never print.
#[tokio::test]
async fn n4_a_runs_print_leaves_out_zero_totals_and_zero_lines_as_asked() {
    let app = spawn().await;
    setup(&app).await;
    let (run, [zero_line, zero_total, plain]) = renewal_run(&app).await;
    let zero_total_invoice = app.invoice(zero_total).await;
    assert_eq!(zero_total_invoice["total"], "0.00", "{zero_total_invoice}");
    let print = |query: &'static str| {
        let app = &app;
        async move {
            let doc = pdf(
                app,
                &format!("/renewal-runs/{run}/invoices.pdf{query}"),
                &app.staff,
            )
            .await;
            assert_pdf(&doc);
            text_of(&doc.bytes)
        }
    };

    if let Some(text) = print("").await {
        assert_has(
            &text,
            &[
                &footer_of(zero_line),
                &footer_of(zero_total),
                &footer_of(plain),
                "JOURNAL",
            ],
        );
    }
    if let Some(text) = print("?suppress_zero_lines=true").await {
        assert_has(&text, &[&footer_of(zero_line), &footer_of(plain), "MDUES"]);
        assert!(!text.contains("JOURNAL"), "{text}");
    }

    // A run that billed nobody (everyone due was billed by the first) prints one page saying so.
    let again = renew(&app).await;
    assert_eq!(again["billed"], 0, "{again}");
    let empty = pdf(
        &app,
        &format!("/renewal-runs/{}/invoices.pdf", id(&again)),
        &app.staff,
    )
    .await;
    assert_pdf(&empty);
    if let Some(text) = text_of(&empty.bytes) {
        assert_has(
            &text,
            &[&format!(
                "Renewal run {} has no invoices to print.",
                id(&again)
            )],
        );
    }

    let cycle = app
        .items("/billing-cycles")
        .await
        .into_iter()
        .find(|c| c["name"] == RENEW)
        .expect("cycle");
    app.patch(
        &format!("/billing-cycles/{}", id(&cycle)),
        &app.staff,
        json!({"print_zero_balance": false}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/invoices/{plain}/void"),
        &app.staff,
        json!({"reason": "resigned"}),
    )
    .await
    .expect(200);
    if let Some(text) = print("").await {
        assert_has(&text, &[&footer_of(zero_line)]);
        assert!(!text.contains(&footer_of(zero_total)), "{text}");
        assert!(!text.contains(&footer_of(plain)), "{text}");
    }

    assert_eq!(
        pdf(&app, "/renewal-runs/999999/invoices.pdf", &app.staff)
            .await
            .status,
        404
    );
    let bad = pdf(
        &app,
        &format!("/renewal-runs/{run}/invoices.pdf?suppress_zero_lines=perhaps"),
        &app.staff,
    )
    .await;
    assert_eq!(bad.status, 400);
    let member = app.member_token(app.person("NM", "Nosy").await).await;
    assert_eq!(
        pdf(&app, &format!("/renewal-runs/{run}/invoices.pdf"), &member)
            .await
            .status,
        403
    );
}

/// N-4 with N-1: a renewal notice carries its invoice as a PDF attachment.
#[tokio::test]
async fn n4_renewal_notices_carry_their_invoice_as_a_pdf() {
    let (Ok(url), Ok(maildir)) = (
        std::env::var("AMS_TEST_SMTP_URL"),
        std::env::var("AMS_TEST_MAILDIR"),
    ) else {
        eprintln!(
            "AMS_TEST_SMTP_URL and AMS_TEST_MAILDIR are not set: no mail server (.ci/run starts aiosmtpd)"
        );
        return;
    };
    let app = spawn().await;
    setup(&app).await;
    app.create_cycle(json!({"name": RENEW, "customer_types": ["M"]}))
        .await;
    let email = format!("pdf.{}.{}@example.org", std::process::id(), tests::now());
    let c = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "Pat", "last_name": "Attached", "email": email}))
        .await);
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": c, "product": "MDUES", "is_membership_component": true,
            "paid_through": "2026-12-31", "bill_subscription": true}),
    )
    .await
    .expect(201);
    let run = renew(&app).await;
    let invoice = id(&app
        .items(&format!("/invoices?renewal_run={}", id(&run)))
        .await[0]);
    let mailer =
        Mailer::new(&url, &format!("{ASSOCIATION} <membership@example.org>")).expect("mailer");
    let tick = Deliverer::new(app.db.clone(), Some(mailer), Settings::default())
        .tick()
        .await
        .expect("tick");
    assert_eq!(tick.sent, 1, "{tick:?}");
    let message = std::fs::read_dir(std::path::Path::new(&maildir).join("new"))
        .expect("maildir")
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .find(|m| {
            m.lines()
                .any(|l| l.starts_with("To: ") && l.contains(&email))
        })
        .expect("the renewal notice was delivered");
    let attachment = attachment(&message, &format!("invoice-{invoice}.pdf"));
    assert!(attachment.starts_with(b"%PDF-1."));
    if let Some(text) = text_of(&attachment) {
        assert_has(
            &text,
            &[
                &format!("Invoice no. {invoice}"),
                "Pat Attached",
                "Balance due",
            ],
        );
    }
}

/// The attachment called `name` in a raw MIME message, decoded from base64.
fn attachment(message: &str, name: &str) -> Vec<u8> {
    let lines: Vec<&str> = message.lines().collect();
    let named = lines
        .iter()
        .position(|l| l.contains(&format!("filename=\"{name}\"")))
        .unwrap_or_else(|| panic!("no attachment {name} in:\n{message}"));
    // The part's headers run from its boundary line to the first blank line.
    let first = lines[..named]
        .iter()
        .rposition(|l| l.starts_with("--"))
        .map_or(0, |k| k + 1);
    let blank = named
        + lines[named..]
            .iter()
            .position(|l| l.trim().is_empty())
            .expect("the part's body");
    assert!(
        lines[first..blank].contains(&"Content-Type: application/pdf"),
        "the attachment is a PDF: {:?}",
        &lines[first..blank]
    );
    let body: String = lines[blank + 1..]
        .iter()
        .take_while(|l| !l.starts_with("--"))
        .map(|l| l.trim())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64 attachment")
}
