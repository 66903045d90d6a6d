//! Payments import (MG-4): the payments list's CSV export imports back unchanged, only edited
//! references change, new payments come in by file exactly as recorded one by one (and not
//! twice), and money columns are corrected only by refund or reversal.

use serde_json::{Value, json};
use tests::{TestApp, outcomes, spawn, updated_ids};

async fn import(app: &TestApp, query: &str, text: &str) -> Value {
    app.post_csv(&format!("/payments/import?{query}"), text)
        .await
        .expect(200)
        .body
}

fn first_error(report: &Value, row: usize) -> String {
    let r = &report["rows"][row];
    assert_eq!(r["outcome"], "failed", "{report}");
    let e = &r["error"]["errors"][0];
    format!("{}: {}", e["field"].as_str().unwrap_or(""), e["message"])
}

/// A staff join through JOIN, unpaid; the invoice's id and total.
async fn join(app: &TestApp, contact: i64) -> (i64, String) {
    let inv = app
        .post(
            &format!("/contacts/{contact}/join"),
            &app.staff,
            json!({"billing_cycle": "JOIN", "billing_category": "REG", "join_date": "2026-01-01"}),
        )
        .await
        .expect(201)
        .body["invoice"]
        .clone();
    (
        inv["id"].as_i64().expect("invoice id"),
        inv["total"].as_str().expect("total").to_owned(),
    )
}

#[tokio::test]
async fn mg4_payments_round_trip_and_a_bank_file_records_each_payment_once() {
    let app = spawn().await;
    app.doctors_with_join_cycle("JOIN").await;
    let mut invoices = Vec::new();
    for name in ["Ana", "Ben", "Cy", "Di"] {
        let c = app.person("NM", name).await;
        invoices.push((c, join(&app, c).await));
    }
    for (n, (_, (inv, _))) in invoices.iter().take(3).enumerate() {
        app.post(
            &format!("/invoices/{inv}/payments"),
            &app.staff,
            json!({"amount": "100.00", "paid_on": "2026-01-05", "method": "cheque",
                "reference": format!("CHQ-{n}")}),
        )
        .await
        .expect(201);
    }

    // As exported: nothing changes.
    let exported = app.export_csv("/payments").await;
    let before = app.stamps("/payments").await;
    let same = import(&app, "action=upsert", &exported).await;
    assert_eq!(outcomes(&same), ["unchanged"; 3], "{same}");
    assert_eq!(same["ignored_columns"], json!(["created_at", "updated_at"]));
    assert_eq!(app.stamps("/payments").await, before);

    // A bank file: the rest of Ana's dues and all of Di's, recorded like payments made one by
    // one (Di becomes a member); the same file again pays nobody twice.
    let (ana, (ana_inv, ana_total)) = &invoices[0];
    let (di, (di_inv, di_total)) = &invoices[3];
    let rest = format!("{:.2}", ana_total.parse::<f64>().expect("total") - 100.0);
    let bank = format!(
        "invoice_id,amount,paid_on,method,reference\n\
         {ana_inv},{rest},2026-01-20,transfer,BANK-1\n\
         {di_inv},{di_total},2026-01-20,transfer,BANK-2\n"
    );
    let report = import(&app, "action=insert", &bank).await;
    assert_eq!(outcomes(&report), ["inserted"; 2], "{report}");
    for (contact, inv) in [(ana, ana_inv), (di, di_inv)] {
        assert_eq!(app.invoice(*inv).await["status"], "paid");
        assert_eq!(app.contact(*contact).await["is_member"], true);
    }
    let again = import(&app, "action=insert", &bank).await;
    assert_eq!(outcomes(&again), ["unchanged"; 2], "{again}");
    assert_eq!(again["rows"][1]["id"], report["rows"][1]["id"]);
    assert_eq!(app.all("/payments").await.len(), 5);
    let recorded = app
        .get(
            &format!("/payments/{}", report["rows"][1]["id"]),
            &app.staff,
        )
        .await
        .expect(200)
        .body;
    assert!(recorded["recorded_by"].as_i64().is_some(), "{recorded}");

    // Three references corrected in the export: exactly those payments change.
    let exported = app.export_csv("/payments").await;
    let before = app.stamps("/payments").await;
    let events = app.events_of("payment.updated").await.len();
    let edited = exported
        .replace("CHQ-0", "CHQ-0001")
        .replace("CHQ-2", "CHQ-2002")
        .replace("BANK-2", "BANK-2B");
    let report = import(&app, "action=upsert", &edited).await;
    let changed = updated_ids(&report);
    assert_eq!(changed.len(), 3, "{report}");
    for ((id, was), (_, now)) in before.iter().zip(app.stamps("/payments").await.iter()) {
        assert_eq!(was == now, !changed.contains(id), "payment {id}");
    }
    assert_eq!(app.events_of("payment.updated").await.len(), events + 3);

    // Money is corrected by refund or reversal; the server's columns must agree; a new
    // payment must fit its invoice. All-or-nothing: nothing is recorded.
    let header = exported.lines().next().expect("header");
    let rows: Vec<&str> = exported.lines().skip(1).collect();
    let mut cells: Vec<String> = rows[0].split(',').map(str::to_owned).collect();
    let column = |name: &str| header.split(',').position(|c| c == name).expect(name);
    cells[column("amount")] = "99.00".into();
    let amount_edited = cells.join(",");
    let mut cells: Vec<String> = rows[1].split(',').map(str::to_owned).collect();
    cells[column("refunded")] = "5.00".into();
    let refunded_edited = cells.join(",");
    let (_, (ben_inv, _)) = &invoices[1];
    let bad = format!(
        "{header}\n{amount_edited}\n{refunded_edited}\n\
         ,,999999,,,10.00,2026-02-01,cheque,X-1,,,,,\n\
         ,,{ben_inv},,,100000.00,2026-02-01,cheque,X-2,,,,,\n\
         ,,{ben_inv},,,10.00,2026-02-01,cheque,X-3,,,,,\n"
    );
    let count = app.all("/payments").await.len();
    let report = import(&app, "action=upsert", &bad).await;
    assert_eq!(
        outcomes(&report),
        ["failed", "failed", "failed", "failed", "not_applied"],
        "{report}"
    );
    assert!(first_error(&report, 0).starts_with("amount:"), "{report}");
    assert!(first_error(&report, 0).contains("refund"), "{report}");
    assert!(first_error(&report, 1).starts_with("refunded:"), "{report}");
    assert!(
        first_error(&report, 2).starts_with("invoice_id:"),
        "{report}"
    );
    assert!(first_error(&report, 3).starts_with("amount:"), "{report}");
    assert_eq!(app.all("/payments").await.len(), count);
    app.post_csv("/payments/import", "invoice,amount\n1,2.00\n")
        .await
        .problem(422, "validation_failed");
}
