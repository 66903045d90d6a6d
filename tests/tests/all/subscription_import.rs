//! Bulk import of subscriptions over HTTP (S-9): JSON and CSV bodies, every action, both
//! modes, whole-file and per-row errors, and the rules a single request also follows (S-1,
//! S-4, S-5, S-7, S-8, C-7) applied row by row. Ends with a 5,000-row file on the set-based
//! path.

use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::{Value, json};
use tests::{Res, TestApp, id as id_of, spawn};

/// Posts a JSON import and returns the report (200).
async fn import(app: &TestApp, body: Value) -> Value {
    app.post("/subscriptions/import", &app.staff, body)
        .await
        .expect(200)
        .body
}

async fn csv(app: &TestApp, query: &str, text: &str) -> Res {
    app.post_csv(&format!("/subscriptions/import?{query}"), text)
        .await
}

fn outcomes(report: &Value) -> Vec<String> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["outcome"].as_str().expect("outcome").to_owned())
        .collect()
}

#[track_caller]
fn assert_outcomes(report: &Value, expected: &[&str]) {
    assert_eq!(outcomes(report), expected, "report: {report}");
    for (i, r) in report["rows"].as_array().unwrap().iter().enumerate() {
        assert_eq!(r["row"], i + 1, "rows are numbered from 1: {report}");
        if r["outcome"] == "failed" {
            assert!(r["error"].is_object(), "a failed row has an error: {r}");
            assert!(r["error"]["message"].is_string() && r["error"]["errors"].is_array());
        } else {
            assert!(r["error"].is_null(), "only failed rows have an error: {r}");
        }
    }
    let failed = expected.iter().filter(|o| **o == "failed").count();
    let applied = expected
        .iter()
        .filter(|o| !matches!(**o, "failed" | "not_applied"))
        .count();
    assert_eq!(report["failed"], failed, "report: {report}");
    assert_eq!(report["applied"], applied, "report: {report}");
}

/// The error of report row `row` (1-based).
fn row_error(report: &Value, row: usize) -> &Value {
    &report["rows"][row - 1]["error"]
}

#[track_caller]
fn assert_row_error(report: &Value, row: usize, code: &str, field: Option<&str>, needle: &str) {
    let e = row_error(report, row);
    assert_eq!(e["code"], code, "row {row}: {report}");
    let message = e["message"].as_str().unwrap_or_default();
    let in_fields = e["errors"].as_array().is_some_and(|a| {
        a.iter().any(|f| {
            field.is_none_or(|name| f["field"] == name)
                && f["message"].as_str().is_some_and(|m| m.contains(needle))
        })
    });
    match field {
        Some(_) => assert!(
            in_fields,
            "row {row}: expected an error on {field:?} containing {needle:?}: {report}"
        ),
        None => assert!(
            message.contains(needle),
            "row {row}: expected {needle:?} in the message: {report}"
        ),
    }
}

async fn people(app: &TestApp, n: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(app.person("NM", &format!("P{i}")).await);
    }
    out
}

// ---------------------------------------------------------------- insert (JSON)

#[tokio::test]
async fn s9_json_insert_reports_each_row_and_writes_them() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let [a, b] = people(&app, 2).await[..] else {
        unreachable!()
    };
    let report = import(
        &app,
        json!({"action": "insert", "rows": [
            {"contact_id": a, "product": "CHAPT/EAST", "status": "Y", "source_code": "idms",
             "begin_date": "2026-01-01", "paid_through": "2026-12-31"},
            {"contact_id": b, "product": "JOURNAL", "billed_amount": "40.00",
             "bill_subscription": false, "status": "inactive"}
        ]}),
    )
    .await;
    assert_eq!(report["action"], "insert");
    assert_eq!(report["mode"], "all_or_nothing", "the default mode");
    assert_outcomes(&report, &["inserted", "inserted"]);
    let east = app
        .subscription(report["rows"][0]["id"].as_i64().unwrap())
        .await;
    assert_eq!(east["contact_id"], a);
    assert_eq!(east["product"], "CHAPT/EAST");
    assert_eq!(east["status"], "active");
    assert_eq!(east["source_code"], "idms");
    assert_eq!(east["begin_date"], "2026-01-01");
    assert_eq!(east["paid_through"], "2026-12-31");
    assert_eq!(east["bill_to_id"], a);
    assert_eq!(east["accounting_method"], "accrual");
    assert_eq!(east["version"], 1);
    let journal = app
        .subscription(report["rows"][1]["id"].as_i64().unwrap())
        .await;
    assert_eq!(journal["contact_id"], b);
    assert_eq!(journal["status"], "inactive");
    assert_eq!(journal["billed_amount"], "40.00");
    assert_eq!(journal["bill_subscription"], false);
    assert_eq!(app.subscriptions("").await.len(), 2);

    // Inserting the same rows again: each one exists, so each fails as a conflict.
    let again = import(
        &app,
        json!({"action": "insert", "mode": "row_by_row", "rows": [
            {"contact_id": a, "product": "CHAPT/EAST", "source_code": "other"},
            {"contact_id": b, "product": "JOURNAL", "billed_amount": "1.00"}
        ]}),
    )
    .await;
    assert_eq!(again["mode"], "row_by_row");
    assert_outcomes(&again, &["failed", "failed"]);
    assert_row_error(&again, 1, "conflict", None, "CHAPT/EAST");
    assert_row_error(&again, 2, "conflict", None, "JOURNAL");
    assert_eq!(app.subscription(id_of(&east)).await, east);
    assert_eq!(app.subscription(id_of(&journal)).await, journal);
}

// ---------------------------------------------------------------- modes

#[tokio::test]
async fn s9_all_or_nothing_writes_nothing_when_a_row_fails() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let [a, b] = people(&app, 2).await[..] else {
        unreachable!()
    };
    let rows = json!([
        {"contact_id": a, "product": "CHAPT/EAST", "is_membership_component": true, "paid_through": "2026-12-31"},
        {"contact_id": a, "product": "NOPE"},
        {"contact_id": b, "product": "JOURNAL"}
    ]);
    let report = import(&app, json!({"action": "insert", "rows": rows.clone()})).await;
    assert_outcomes(&report, &["not_applied", "failed", "not_applied"]);
    assert_row_error(
        &report,
        2,
        "validation_failed",
        Some("product"),
        "product NOPE does not exist",
    );
    assert!(report["rows"][0]["id"].is_null());
    assert!(
        app.subscriptions("").await.is_empty(),
        "nothing was written"
    );
    assert!(app.paid_through(a).await.is_null(), "C-7 untouched");

    // Explicitly asked: the same.
    let report = import(
        &app,
        json!({"action": "insert", "mode": "all_or_nothing", "rows": rows}),
    )
    .await;
    assert_eq!(report["mode"], "all_or_nothing");
    assert_outcomes(&report, &["not_applied", "failed", "not_applied"]);
    assert!(app.subscriptions("").await.is_empty());

    // An update that would pass is not applied either, and says which row it was.
    let s = app
        .subscribe(json!({"contact_id": a, "product": "JOURNAL", "source_code": "old"}))
        .await;
    let report = import(
        &app,
        json!({"action": "upsert", "rows": [
            {"contact_id": a, "product": "JOURNAL", "source_code": "new"},
            {"contact_id": 999999, "product": "JOURNAL"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["not_applied", "failed"]);
    assert_eq!(report["rows"][0]["id"], id_of(&s));
    assert_row_error(
        &report,
        2,
        "validation_failed",
        Some("contact_id"),
        "contact 999999 does not exist",
    );
    assert_eq!(app.subscription(id_of(&s)).await, s);
}

#[tokio::test]
async fn s9_row_by_row_writes_the_good_rows_and_failed_rows_change_nothing() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let [a, b, c] = people(&app, 3).await[..] else {
        unreachable!()
    };
    let held = app.subscribe(json!({"contact_id": c, "product": "JOURNAL", "source_code": "keep", "paid_through": "2025-12-31"}),
    )
    .await;
    let report = import(
        &app,
        json!({"action": "upsert", "mode": "row_by_row", "rows": [
            {"contact_id": a, "product": "CHAPT/EAST"},
            {"contact_id": a, "product": "NOPE"},
            {"contact_id": b, "product": "JOURNAL", "status": "sometimes"},
            // A bad cell on an existing row: the row keeps its values.
            {"contact_id": c, "product": "JOURNAL", "source_code": "lost", "paid_through": "2025-02-30"},
            {"contact_id": b, "product": "CHAPT/WEST"},
            "not an object"
        ]}),
    )
    .await;
    assert_outcomes(
        &report,
        &[
            "inserted", "failed", "failed", "failed", "inserted", "failed",
        ],
    );
    assert_row_error(&report, 2, "validation_failed", Some("product"), "NOPE");
    assert_row_error(&report, 3, "validation_failed", Some("status"), "ACTIVE");
    assert_row_error(
        &report,
        4,
        "validation_failed",
        Some("paid_through"),
        "YYYY-MM-DD",
    );
    assert_row_error(&report, 6, "validation_failed", Some("row"), "object");
    let written: Vec<(i64, String)> = app
        .subscriptions("")
        .await
        .iter()
        .map(|s| {
            (
                s["contact_id"].as_i64().unwrap(),
                s["product"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        written,
        vec![
            (c, "JOURNAL".to_owned()),
            (a, "CHAPT/EAST".to_owned()),
            (b, "CHAPT/WEST".to_owned())
        ]
    );
    assert_eq!(
        report["rows"][0]["id"],
        app.subscriptions("product=CHAPT%2FEAST").await[0]["id"]
    );
    assert_eq!(app.subscription(id_of(&held)).await, held);
}

// ---------------------------------------------------------------- insert_with_matching

#[tokio::test]
async fn s9_insert_with_matching_finds_contacts_by_external_ref_or_email() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let legacy = id_of(
        &app.create_contact(
            json!({"customer_type": "NM", "first_name": "Leg", "last_name": "Acy", "external_ref": "LEG-1"}),
        )
        .await,
    );
    let ana = id_of(
        &app.create_contact(
            json!({"customer_type": "NM", "first_name": "Ana", "last_name": "Ng", "email": "Ana@Example.org"}),
        )
        .await,
    );
    let twin1 = id_of(
        &app.create_contact(
            json!({"customer_type": "NM", "first_name": "Tw", "last_name": "One", "email": "shared@example.org"}),
        )
        .await,
    );
    let twin2 = id_of(
        &app.create_contact(
            json!({"customer_type": "NM", "first_name": "Tw", "last_name": "Two", "email": "SHARED@example.org"}),
        )
        .await,
    );
    let report = import(
        &app,
        json!({"action": "insert_with_matching", "mode": "row_by_row", "rows": [
            {"external_ref": "LEG-1", "product": "CHAPT/EAST", "status": "Y"},
            {"email": "ana@EXAMPLE.ORG", "product": "CHAPT/EAST", "source_code": "idms"},
            {"external_ref": "NOPE-9", "product": "CHAPT/EAST"},
            {"email": "nobody@example.org", "product": "CHAPT/EAST"},
            {"email": "shared@example.org", "product": "CHAPT/EAST"},
            {"contact_id": legacy, "product": "JOURNAL"},
            {"product": "JOURNAL"},
            {"external_ref": "LEG-1", "product": "NOPE"}
        ]}),
    )
    .await;
    assert_eq!(report["action"], "insert_with_matching");
    assert_outcomes(
        &report,
        &[
            "inserted", "inserted", "failed", "failed", "failed", "failed", "failed", "failed",
        ],
    );
    let first = app
        .subscription(report["rows"][0]["id"].as_i64().unwrap())
        .await;
    assert_eq!(first["contact_id"], legacy);
    let second = app
        .subscription(report["rows"][1]["id"].as_i64().unwrap())
        .await;
    assert_eq!(
        second["contact_id"], ana,
        "e-mail matches in any letter case"
    );
    assert_eq!(second["source_code"], "idms");
    assert_row_error(
        &report,
        3,
        "validation_failed",
        Some("external_ref"),
        "NOPE-9",
    );
    assert_row_error(
        &report,
        4,
        "validation_failed",
        Some("email"),
        "nobody@example.org",
    );
    // An e-mail two contacts share is ambiguous: both are named.
    assert_row_error(
        &report,
        5,
        "validation_failed",
        Some("email"),
        &twin1.to_string(),
    );
    assert_row_error(
        &report,
        5,
        "validation_failed",
        Some("email"),
        &twin2.to_string(),
    );
    // Ids are for plain insert.
    assert_row_error(
        &report,
        6,
        "validation_failed",
        Some("contact_id"),
        "insert_with_matching",
    );
    assert_row_error(&report, 7, "validation_failed", Some("external_ref"), "");
    assert_row_error(
        &report,
        8,
        "validation_failed",
        Some("product"),
        "product NOPE does not exist",
    );
    assert_eq!(app.subscriptions("").await.len(), 2);

    // A matched row that already exists fails like insert.
    let again = import(
        &app,
        json!({"action": "insert_with_matching", "rows": [
            {"external_ref": "LEG-1", "product": "CHAPT/EAST"}
        ]}),
    )
    .await;
    assert_outcomes(&again, &["failed"]);
    assert_row_error(&again, 1, "conflict", None, "CHAPT/EAST");

    // Matching keys are only for insert_with_matching.
    let plain = import(
        &app,
        json!({"action": "insert", "rows": [{"external_ref": "LEG-1", "product": "JOURNAL"}]}),
    )
    .await;
    assert_outcomes(&plain, &["failed"]);
    assert_row_error(
        &plain,
        1,
        "validation_failed",
        Some("contact_id"),
        "insert_with_matching",
    );
}

/// S-9: e-mail matching ignores letter case for every letter, not only ASCII ones, and the
/// stored spelling itself always matches, on both databases.
#[tokio::test]
async fn s9_email_matching_ignores_case_beyond_ascii() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let elise = id_of(
        &app.create_contact(
            json!({"customer_type": "NM", "first_name": "Élise", "last_name": "Roy", "email": "Élise@Example.org"}),
        )
        .await,
    );
    let report = import(
        &app,
        json!({"action": "insert_with_matching", "mode": "row_by_row", "rows": [
            {"email": "Élise@Example.org", "product": "CHAPT/EAST"},
            {"email": "élise@example.org", "product": "JOURNAL"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["inserted", "inserted"]);
    for row in report["rows"].as_array().unwrap() {
        assert_eq!(
            app.subscription(row["id"].as_i64().unwrap()).await["contact_id"],
            elise
        );
    }
}

// ---------------------------------------------------------------- update / upsert

#[tokio::test]
async fn s9_update_and_upsert_report_updated_unchanged_and_not_found() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let [a, b] = people(&app, 2).await[..] else {
        unreachable!()
    };
    let s = app.subscribe(json!({"contact_id": a, "product": "CHAPT/EAST", "source_code": "old", "paid_through": "2025-12-31"}),
    )
    .await;
    let id = id_of(&s);

    let report = import(
        &app,
        json!({"action": "update", "mode": "row_by_row", "rows": [
            {"contact_id": a, "product": "CHAPT/EAST", "source_code": "new", "paid_through": "2026-12-31"},
            {"contact_id": b, "product": "CHAPT/EAST", "source_code": "x"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["updated", "failed"]);
    assert_eq!(report["rows"][0]["id"], id);
    assert_row_error(&report, 2, "not_found", None, "CHAPT/EAST");
    let after = app.subscription(id).await;
    assert_eq!(after["source_code"], "new");
    assert_eq!(after["paid_through"], "2026-12-31");
    assert_eq!(after["version"], 2);
    // Fields the row does not carry stay.
    assert_eq!(after["status"], "active");
    assert_eq!(app.subscriptions(&format!("contact_id={b}")).await.len(), 0);

    // The same values again: unchanged, nothing written.
    let report = import(
        &app,
        json!({"action": "update", "rows": [
            {"contact_id": a, "product": "CHAPT/EAST", "source_code": "new", "status": "A"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["unchanged"]);
    assert_eq!(report["rows"][0]["id"], id);
    assert_eq!(app.subscription(id).await, after);

    // Upsert: unchanged, inserted and updated in one file.
    let report = import(
        &app,
        json!({"action": "upsert", "rows": [
            {"contact_id": a, "product": "CHAPT/EAST", "source_code": "new"},
            {"contact_id": b, "product": "CHAPT/EAST", "status": "N"},
            {"contact_id": a, "product": "JOURNAL", "billed_amount": "9.99"}
        ]}),
    )
    .await;
    assert_eq!(report["action"], "upsert");
    assert_outcomes(&report, &["unchanged", "inserted", "inserted"]);
    assert_eq!(app.subscription(id).await, after);
    let journal = report["rows"][2]["id"].as_i64().unwrap();
    assert_eq!(app.subscription(journal).await["billed_amount"], "9.99");
    let inactive = app
        .subscription(report["rows"][1]["id"].as_i64().unwrap())
        .await;
    assert_eq!(inactive["status"], "inactive");
    assert_eq!(inactive["contact_id"], b);

    let report = import(
        &app,
        json!({"action": "upsert", "rows": [
            {"contact_id": a, "product": "JOURNAL", "billed_amount": 10},
            {"contact_id": a, "product": "CHAPT/EAST", "source_code": null}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["updated", "updated"]);
    assert_eq!(app.subscription(journal).await["billed_amount"], "10.00");
    assert!(app.subscription(id).await["source_code"].is_null());
}

/// S-2 in imports: a row that does not mention `bill_to_id` keeps the payer already set; an
/// unknown payer fails its row (S-1).
#[tokio::test]
async fn s9_update_keeps_a_separate_bill_to_contact() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let [a, payer, c] = people(&app, 3).await[..] else {
        unreachable!()
    };
    let s = app.subscribe(json!({"contact_id": a, "product": "JOURNAL", "bill_to_id": payer, "source_code": "old"}),
    )
    .await;
    let report = import(
        &app,
        json!({"action": "update", "rows": [
            {"contact_id": a, "product": "JOURNAL", "source_code": "new"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["updated"]);
    let after = app.subscription(id_of(&s)).await;
    assert_eq!(after["source_code"], "new");
    assert_eq!(after["bill_to_id"], payer);
    let report = import(
        &app,
        json!({"action": "upsert", "mode": "row_by_row", "rows": [
            {"contact_id": a, "product": "JOURNAL", "source_code": "new"},
            {"contact_id": c, "product": "JOURNAL", "bill_to_id": 999999}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["unchanged", "failed"]);
    assert_row_error(
        &report,
        2,
        "validation_failed",
        Some("bill_to_id"),
        "contact 999999 does not exist",
    );
    assert_eq!(app.subscription(id_of(&s)).await, after);
}

// ---------------------------------------------------------------- delete (S-5)

#[tokio::test]
async fn s9_s5_import_delete_removes_cash_subscriptions_only() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let [a, b] = people(&app, 2).await[..] else {
        unreachable!()
    };
    let cash = id_of(
        &app.subscribe(json!({"contact_id": a, "product": "JOURNAL", "accounting_method": "cash"}))
            .await,
    );
    let accrual = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "CHAPT/EAST", "accounting_method": "accrual"}),
        )
        .await,
    );
    let rows = json!([
        {"contact_id": a, "product": "JOURNAL"},
        {"contact_id": a, "product": "CHAPT/EAST"},
        {"contact_id": b, "product": "JOURNAL"}
    ]);
    let report = import(&app, json!({"action": "delete", "rows": rows.clone()})).await;
    assert_outcomes(&report, &["not_applied", "failed", "failed"]);
    assert_row_error(&report, 2, "conflict", None, "accrual");
    assert_row_error(&report, 3, "not_found", None, "JOURNAL");
    app.subscription(cash).await;
    app.subscription(accrual).await;

    let report = import(
        &app,
        json!({"action": "delete", "mode": "row_by_row", "rows": rows}),
    )
    .await;
    assert_eq!(report["action"], "delete");
    assert_outcomes(&report, &["deleted", "failed", "failed"]);
    assert_eq!(report["rows"][0]["id"], cash);
    app.get(&format!("/subscriptions/{cash}"), &app.staff)
        .await
        .problem(404, "not_found");
    assert_eq!(app.subscription(accrual).await["version"], 1);
    let left: Vec<i64> = app.subscriptions("").await.iter().map(id_of).collect();
    assert_eq!(left, vec![accrual]);
}

// ---------------------------------------------------------------- repeated keys

#[tokio::test]
async fn s9_a_repeated_contact_and_product_fails_the_later_row() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let [a, b] = people(&app, 2).await[..] else {
        unreachable!()
    };
    let report = import(
        &app,
        json!({"action": "insert", "mode": "row_by_row", "rows": [
            {"contact_id": a, "product": "CHAPT/EAST", "source_code": "first"},
            {"contact_id": b, "product": "CHAPT/EAST"},
            {"contact_id": a, "product": "CHAPT/EAST", "source_code": "second"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["inserted", "inserted", "failed"]);
    assert_row_error(&report, 3, "conflict", None, "earlier row");
    let first = app
        .subscription(report["rows"][0]["id"].as_i64().unwrap())
        .await;
    assert_eq!(first["source_code"], "first");

    // Also for upsert, where the second row would otherwise silently win.
    let report = import(
        &app,
        json!({"action": "upsert", "mode": "row_by_row", "rows": [
            {"contact_id": a, "product": "CHAPT/EAST", "source_code": "third"},
            {"contact_id": a, "product": "CHAPT/EAST", "source_code": "fourth"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["updated", "failed"]);
    assert_row_error(&report, 2, "conflict", None, "earlier row");
    assert_eq!(
        app.subscription(id_of(&first)).await["source_code"],
        "third"
    );
    // All-or-nothing: the repeat sinks the file.
    let report = import(
        &app,
        json!({"action": "upsert", "rows": [
            {"contact_id": b, "product": "JOURNAL"},
            {"contact_id": b, "product": "JOURNAL"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["not_applied", "failed"]);
    assert!(app.subscriptions("product=JOURNAL").await.is_empty());
}

// ---------------------------------------------------------------- S-8 across rows

#[tokio::test]
async fn s9_s8_one_active_formula_product_per_contact_across_rows() {
    let app = spawn().await;
    app.doctors().await;
    app.create_product("AM_1", "dues", "100.00").await;
    app.create_product("AM_2", "dues", "150.00").await;
    app.create_product("AM_1_GST", "miscellaneous", "5.00")
        .await;
    app.create_type(
        json!({"code": "AM", "name": "Associate", "is_member": true, "is_organization": false,
        "primary_fee": {"kind": "formula", "designator": "AM", "default_product": "AM_1"},
        "expires_to": "NM"}),
    )
    .await;
    let [a, b] = people(&app, 2).await[..] else {
        unreachable!()
    };
    let report = import(
        &app,
        json!({"action": "insert", "mode": "row_by_row", "rows": [
            {"contact_id": a, "product": "AM_1", "status": "Y"},
            {"contact_id": a, "product": "AM_2", "status": "Y"},
            {"contact_id": a, "product": "AM_1_GST", "status": "Y"},
            {"contact_id": b, "product": "AM_2", "status": "Y"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["inserted", "failed", "inserted", "inserted"]);
    assert_row_error(&report, 2, "conflict", None, "AM_1");
    // A file naming only AM_2 still sees the AM_1 held from before.
    let report = import(
        &app,
        json!({"action": "insert", "mode": "row_by_row", "rows": [
            {"contact_id": a, "product": "AM_2", "status": "Y"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["failed"]);
    assert_row_error(&report, 1, "conflict", None, "AM_1");
    // An inactive one beside the active one, and the tax line, are fine.
    let report = import(
        &app,
        json!({"action": "insert", "rows": [
            {"contact_id": b, "product": "AM_1", "status": "I"},
            {"contact_id": b, "product": "AM_1_GST", "status": "A"},
            {"contact_id": b, "product": "MDUES"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["inserted", "inserted", "inserted"]);
    // Switching within one file: the first row makes AM_1 inactive, so AM_2 may be active.
    let report = import(
        &app,
        json!({"action": "upsert", "rows": [
            {"contact_id": a, "product": "AM_1", "status": "N"},
            {"contact_id": a, "product": "AM_2", "status": "Y"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["updated", "inserted"]);
    // And back in the wrong order: the activation comes first and is refused.
    let report = import(
        &app,
        json!({"action": "upsert", "mode": "row_by_row", "rows": [
            {"contact_id": b, "product": "AM_1", "status": "Y"},
            {"contact_id": b, "product": "AM_2", "status": "N"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["failed", "updated"]);
    assert_row_error(&report, 1, "conflict", None, "AM_2");
    let active: Vec<String> = app
        .subscriptions(&format!("contact_id={a}&status=active"))
        .await
        .iter()
        .map(|s| s["product"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(active, vec!["AM_1_GST", "AM_2"]);
}

// ---------------------------------------------------------------- S-4 across rows

#[tokio::test]
async fn s9_s4_import_cannot_change_locked_dates() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let s = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "JOURNAL", "accounting_method": "accrual",
                "begin_date": "2025-01-01", "paid_through": "2025-12-31"}),
        )
        .await,
    );
    app.mark_billed(s).await;
    let report = import(
        &app,
        json!({"action": "update", "mode": "row_by_row", "rows": [
            {"contact_id": a, "product": "JOURNAL", "paid_through": "2026-12-31", "bill_begin": "2026-01-01"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["failed"]);
    assert_row_error(&report, 1, "locked_field", Some("paid_through"), "");
    assert_row_error(&report, 1, "locked_field", Some("bill_begin"), "");
    let report = import(
        &app,
        json!({"action": "upsert", "rows": [
            {"contact_id": a, "product": "JOURNAL", "status": "I", "paid_through": "2025-12-31"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["updated"]);
    let after = app.subscription(s).await;
    assert_eq!(after["status"], "inactive");
    assert_eq!(after["paid_through"], "2025-12-31");
    assert_eq!(after["billed"], true);
}

// ---------------------------------------------------------------- C-7 across rows

#[tokio::test]
async fn s9_c7_import_moves_the_contacts_paid_through() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let [a, b] = people(&app, 2).await[..] else {
        unreachable!()
    };
    let report = import(
        &app,
        json!({"action": "insert", "rows": [
            {"contact_id": a, "product": "MDUES", "is_membership_component": "Y",
             "paid_through": "2026-12-31", "accounting_method": "cash"},
            {"contact_id": a, "product": "JOURNAL", "paid_through": "2030-12-31"},
            {"contact_id": b, "product": "JOURNAL", "paid_through": "2030-12-31"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["inserted", "inserted", "inserted"]);
    assert_eq!(app.paid_through(a).await, "2026-12-31");
    assert!(app.paid_through(b).await.is_null());

    let report = import(
        &app,
        json!({"action": "upsert", "rows": [
            {"contact_id": a, "product": "MDUES", "paid_through": "2027-12-31"},
            {"contact_id": b, "product": "MDUES", "is_membership_component": true,
             "paid_through": "2028-06-30", "accounting_method": "cash"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["updated", "inserted"]);
    assert_eq!(app.paid_through(a).await, "2027-12-31");
    assert_eq!(app.paid_through(b).await, "2028-06-30");

    // A failed file leaves it.
    let report = import(
        &app,
        json!({"action": "upsert", "rows": [
            {"contact_id": a, "product": "MDUES", "paid_through": "2029-12-31"},
            {"contact_id": a, "product": "NOPE"}
        ]}),
    )
    .await;
    assert_outcomes(&report, &["not_applied", "failed"]);
    assert_eq!(app.paid_through(a).await, "2027-12-31");

    // Deleting the only component clears it.
    let report = import(
        &app,
        json!({"action": "delete", "rows": [{"contact_id": a, "product": "MDUES"}]}),
    )
    .await;
    assert_outcomes(&report, &["deleted"]);
    assert!(app.paid_through(a).await.is_null());
    assert_eq!(app.paid_through(b).await, "2028-06-30");
}

// ---------------------------------------------------------------- CSV

#[tokio::test]
async fn s9_s7_csv_import_with_a_header_row_and_empty_cells() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let [a, b] = people(&app, 2).await[..] else {
        unreachable!()
    };
    let text = format!(
        "contact_id,product,begin_date,paid_through,status,source_code,billed_amount,bill_subscription\n\
         {a},CHAPT/EAST,2026-01-01,2026-12-31,Y,idms,,\n\
         {b},JOURNAL,,,n,,40.00,N\n\
         {b},CHAPT/EAST,,,,\"quoted, with comma\",,\n"
    );
    let r = csv(&app, "action=insert", &text).await.expect(200);
    let report = r.body;
    assert_eq!(report["action"], "insert");
    assert_eq!(report["mode"], "all_or_nothing");
    assert_outcomes(&report, &["inserted", "inserted", "inserted"]);
    let east = app
        .subscription(report["rows"][0]["id"].as_i64().unwrap())
        .await;
    assert_eq!(east["contact_id"], a);
    assert_eq!(east["product"], "CHAPT/EAST");
    assert_eq!(east["paid_through"], "2026-12-31");
    assert_eq!(east["status"], "active");
    assert_eq!(east["source_code"], "idms");
    assert_eq!(east["bill_subscription"], true);
    let journal = app
        .subscription(report["rows"][1]["id"].as_i64().unwrap())
        .await;
    assert_eq!(journal["status"], "inactive");
    assert!(
        journal["begin_date"].is_null(),
        "an empty cell is not given"
    );
    assert_eq!(journal["billed_amount"], "40.00");
    assert_eq!(journal["bill_subscription"], false);
    let quoted = app
        .subscription(report["rows"][2]["id"].as_i64().unwrap())
        .await;
    assert_eq!(quoted["source_code"], "quoted, with comma");
    assert_eq!(quoted["status"], "active");
    // S-7: the chapter rows are found by the encoded product filter.
    let chapter: Vec<i64> = app
        .subscriptions("product=CHAPT%2FEAST")
        .await
        .iter()
        .map(|s| s["contact_id"].as_i64().unwrap())
        .collect();
    assert_eq!(chapter, vec![a, b]);

    // The mode comes from the query too; header names are not case-sensitive.
    let r = csv(
        &app,
        "action=upsert&mode=row_by_row",
        &format!("Contact_ID,PRODUCT,Source_Code\n{a},CHAPT/EAST,csv\n{a},NOPE,x\n"),
    )
    .await
    .expect(200);
    assert_eq!(r.body["mode"], "row_by_row");
    assert_outcomes(&r.body, &["updated", "failed"]);
    assert_eq!(app.subscription(id_of(&east)).await["source_code"], "csv");
    // Matching by e-mail in CSV.
    let m = id_of(
        &app.create_contact(
            json!({"customer_type": "NM", "last_name": "Mail", "email": "m@example.org"}),
        )
        .await,
    );
    let r = csv(
        &app,
        "action=insert_with_matching",
        "email,product\nM@Example.org,CHAPT/WEST\n",
    )
    .await
    .expect(200);
    assert_outcomes(&r.body, &["inserted"]);
    assert_eq!(
        app.subscription(r.body["rows"][0]["id"].as_i64().unwrap())
            .await["contact_id"],
        m
    );
    // CRLF line ends, a byte-order mark and a charset parameter are fine.
    let r = app
        .send_raw(
            Method::POST,
            "/subscriptions/import?action=insert",
            &app.staff,
            "text/csv; charset=utf-8",
            format!("\u{feff}contact_id,product\r\n{a},JOURNAL\r\n"),
        )
        .await
        .expect(200);
    assert_outcomes(&r.body, &["inserted"]);
}

#[tokio::test]
async fn s9_csv_whole_file_problems_reject_the_file_and_write_nothing() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    for (text, field) in [
        (format!("contact,product\n{a},CHAPT/EAST\n"), "contact"),
        (
            format!("contact_id,begin_date\n{a},2026-01-01\n"),
            "product",
        ),
        ("product,status\nCHAPT/EAST,Y\n".to_owned(), "contact_id"),
        (
            format!("contact_id,product,product\n{a},CHAPT/EAST,CHAPT/EAST\n"),
            "product",
        ),
        (
            format!("contact_id,product,status\n{a},CHAPT/EAST,Y\n{a},JOURNAL\n"),
            "csv",
        ),
        (format!("contact_id,product\n{a},CHAPT/EAST,extra\n"), "csv"),
        (String::new(), "product"),
    ] {
        for mode in ["all_or_nothing", "row_by_row"] {
            let r = csv(&app, &format!("action=insert&mode={mode}"), &text)
                .await
                .problem(422, "validation_failed");
            tests::assert_field_error(&r, field);
        }
    }
    // The read-only columns of a list export (MG-4) are read, and a row whose value differs
    // from the server's fails on that column.
    let r = csv(
        &app,
        "action=insert",
        &format!("contact_id,product,is_company,id\n{a},CHAPT/EAST,Y,\n{a},JOURNAL,N,77\n"),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(
        r["rows"][0]["error"]["errors"][0]["field"], "is_company",
        "{r}"
    );
    assert_eq!(r["rows"][1]["error"]["errors"][0]["field"], "id", "{r}");
    assert_eq!(r["applied"], 0);
    // The unknown column is named with the known ones.
    let r = csv(
        &app,
        "action=insert",
        &format!("contact,product\n{a},CHAPT/EAST\n"),
    )
    .await
    .problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("contact_id"));
    // A short line is reported with its line number.
    let r = csv(
        &app,
        "action=insert",
        &format!("contact_id,product,status\n{a},CHAPT/EAST,Y\n{a},JOURNAL\n"),
    )
    .await
    .problem(422, "validation_failed");
    assert!(
        r.body["detail"].as_str().unwrap().contains("line 3"),
        "{}",
        r.text
    );
    assert!(
        app.subscriptions("").await.is_empty(),
        "nothing was written"
    );

    // Action and media type.
    let r = csv(&app, "", &format!("contact_id,product\n{a},CHAPT/EAST\n"))
        .await
        .problem(422, "validation_failed");
    tests::assert_field_error(&r, "action");
    csv(
        &app,
        "action=merge",
        &format!("contact_id,product\n{a},CHAPT/EAST\n"),
    )
    .await
    .problem(400, "invalid_parameter");
    csv(
        &app,
        "action=insert&mode=sometimes",
        &format!("contact_id,product\n{a},CHAPT/EAST\n"),
    )
    .await
    .problem(400, "invalid_parameter");
    for ct in ["text/plain", "application/xml", "multipart/form-data"] {
        app.send_raw(
            Method::POST,
            "/subscriptions/import?action=insert",
            &app.staff,
            ct,
            format!("contact_id,product\n{a},CHAPT/EAST\n"),
        )
        .await
        .problem(415, "unsupported_media_type");
    }
    // No rows at all.
    let r = csv(&app, "action=insert", "contact_id,product\n")
        .await
        .problem(422, "validation_failed");
    tests::assert_field_error(&r, "rows");
    let r = app
        .post(
            "/subscriptions/import",
            &app.staff,
            json!({"action": "insert", "rows": []}),
        )
        .await
        .problem(422, "validation_failed");
    tests::assert_field_error(&r, "rows");
    // JSON bodies: the action is required and must be known; no extra keys.
    for body in [
        json!({"rows": [{"contact_id": a, "product": "CHAPT/EAST"}]}),
        json!({"action": "merge", "rows": [{"contact_id": a, "product": "CHAPT/EAST"}]}),
        json!({"action": "insert", "mode": "sometimes", "rows": [{"contact_id": a, "product": "CHAPT/EAST"}]}),
        json!({"action": "insert", "rows": [{"contact_id": a, "product": "CHAPT/EAST"}], "dry_run": true}),
        json!({"action": "insert", "rows": {"contact_id": a}}),
        json!({"action": "insert"}),
    ] {
        app.post("/subscriptions/import", &app.staff, body)
            .await
            .problem(422, "validation_failed");
    }
    app.send_raw(
        Method::POST,
        "/subscriptions/import",
        &app.staff,
        "application/json",
        "{not json",
    )
    .await
    .problem(400, "malformed_json");
    assert!(
        app.subscriptions("").await.is_empty(),
        "nothing was written"
    );
}

#[tokio::test]
async fn s9_csv_bad_cells_fail_their_rows_only() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let c = people(&app, 9).await;
    let long = "S".repeat(41);
    let text = format!(
        "contact_id,product,begin_date,paid_through,billed_amount,bill_subscription,source_code,status\n\
         {},CHAPT/EAST,2026-01-01,,,,,Y\n\
         {},CHAPT/EAST,2024-02-30,,,,,\n\
         {},CHAPT/EAST,,6/15/24,,,,\n\
         {},JOURNAL,,,12.345,N,,\n\
         {},JOURNAL,,,abc,N,,\n\
         {},CHAPT/EAST,,,,,{long},\n\
         {},NOPE,,,,,,\n\
         {},CHAPT/EAST,,,,,,maybe\n\
         {},JOURNAL,,,12.50,N,legacy,I\n",
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
    );
    // All-or-nothing first: nothing written.
    let r = csv(&app, "action=insert", &text).await.expect(200);
    assert_outcomes(
        &r.body,
        &[
            "not_applied",
            "failed",
            "failed",
            "failed",
            "failed",
            "failed",
            "failed",
            "failed",
            "not_applied",
        ],
    );
    assert!(app.subscriptions("").await.is_empty());

    let r = csv(&app, "action=insert&mode=row_by_row", &text)
        .await
        .expect(200);
    let report = r.body;
    assert_outcomes(
        &report,
        &[
            "inserted", "failed", "failed", "failed", "failed", "failed", "failed", "failed",
            "inserted",
        ],
    );
    assert_row_error(
        &report,
        2,
        "validation_failed",
        Some("begin_date"),
        "2024-02-30",
    );
    assert_row_error(
        &report,
        3,
        "validation_failed",
        Some("paid_through"),
        "6/15/24",
    );
    assert_row_error(
        &report,
        4,
        "validation_failed",
        Some("billed_amount"),
        "2 decimal places",
    );
    assert_row_error(
        &report,
        5,
        "validation_failed",
        Some("billed_amount"),
        "abc",
    );
    assert_row_error(&report, 6, "validation_failed", Some("source_code"), "40");
    assert_row_error(
        &report,
        7,
        "validation_failed",
        Some("product"),
        "product NOPE does not exist",
    );
    assert_row_error(
        &report,
        8,
        "validation_failed",
        Some("status"),
        "1/TRUE/Y/YES/T/ACTIVE/A",
    );
    let written: Vec<i64> = app
        .subscriptions("")
        .await
        .iter()
        .map(|s| s["contact_id"].as_i64().unwrap())
        .collect();
    assert_eq!(written, vec![c[0], c[8]]);
    let last = app
        .subscription(report["rows"][8]["id"].as_i64().unwrap())
        .await;
    assert_eq!(last["billed_amount"], "12.50");
    assert_eq!(last["status"], "inactive");
    assert_eq!(last["source_code"], "legacy");
}

// ---------------------------------------------------------------- a large file

/// Inserts `n` person contacts with one multi-row statement per chunk, without the API (which
/// would take one request each); returns their ids in order.
async fn bulk_contacts(app: &TestApp, n: usize) -> Vec<(i64, String)> {
    use entity::contact as c;
    let now = chrono::Utc::now();
    let models: Vec<c::ActiveModel> = (0..n)
        .map(|i| c::ActiveModel {
            customer_type: Set("NM".into()),
            status: Set("A".into()),
            first_name: Set(Some("Bulk".into())),
            last_name: Set(Some(format!("Person{i:05}"))),
            sort_name: Set(format!("person{i:05}, bulk")),
            email: Set(Some(format!("bulk{i:05}@example.org"))),
            external_ref: Set(Some(format!("BULK-{i:05}"))),
            autopay: Set(false),
            email_opt_in: Set(true),
            mail_opt_in: Set(true),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in models.chunks(500) {
        c::Entity::insert_many(chunk.to_vec())
            .exec(&app.db.conn)
            .await
            .expect("insert contacts");
    }
    c::Entity::find()
        .select_only()
        .column(c::Column::Id)
        .column(c::Column::ExternalRef)
        .filter(c::Column::ExternalRef.starts_with("BULK-"))
        .order_by_asc(c::Column::Id)
        .into_tuple::<(i64, String)>()
        .all(&app.db.conn)
        .await
        .expect("contact ids")
}

#[tokio::test]
async fn s9_c7_five_thousand_csv_rows_on_the_set_based_path() {
    const N: usize = 5_000;
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let contacts = bulk_contacts(&app, N).await;
    assert_eq!(contacts.len(), N);

    // Insert, matching every contact by its external reference.
    let mut text = String::from(
        "external_ref,product,begin_date,paid_through,status,is_membership_component,accounting_method,source_code\n",
    );
    for (_, r) in &contacts {
        text.push_str(&format!("{r},MDUES,2026-01-01,2026-12-31,Y,Y,cash,bulk\n"));
    }
    let r = csv(&app, "action=insert_with_matching", &text)
        .await
        .expect(200);
    assert_eq!(r.body["applied"], N);
    assert_eq!(r.body["failed"], 0);
    let rows = r.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), N);
    assert!(rows.iter().all(|x| x["outcome"] == "inserted"));
    let mut ids: Vec<i64> = rows.iter().map(|x| x["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), N, "every row has its own id");
    let listed = app.subscriptions("product=MDUES").await;
    assert_eq!(listed.len(), N);
    // Each row landed on its matched contact.
    let first = app.subscription(rows[0]["id"].as_i64().unwrap()).await;
    assert_eq!(first["contact_id"], contacts[0].0);
    let last = app.subscription(rows[N - 1]["id"].as_i64().unwrap()).await;
    assert_eq!(last["contact_id"], contacts[N - 1].0);
    for (id, _) in [&contacts[0], &contacts[N / 2], &contacts[N - 1]] {
        assert_eq!(app.paid_through(*id).await, "2026-12-31");
    }

    // Upsert by id: every row changes; one more row is new.
    let mut text = String::from("contact_id,product,paid_through\n");
    for (id, _) in &contacts {
        text.push_str(&format!("{id},MDUES,2027-12-31\n"));
    }
    text.push_str(&format!("{},JOURNAL,2027-12-31\n", contacts[7].0));
    let r = csv(&app, "action=upsert", &text).await.expect(200);
    assert_eq!(r.body["applied"], N + 1);
    let rows = r.body["rows"].as_array().unwrap();
    assert!(rows[..N].iter().all(|x| x["outcome"] == "updated"));
    assert_eq!(rows[N]["outcome"], "inserted");
    for (id, _) in [&contacts[0], &contacts[N / 2], &contacts[N - 1]] {
        assert_eq!(app.paid_through(*id).await, "2027-12-31");
    }
    assert_eq!(
        app.subscription(rows[N / 2]["id"].as_i64().unwrap()).await["version"],
        2
    );

    // The same file again: all unchanged.
    let r = csv(&app, "action=upsert", &text).await.expect(200);
    assert_eq!(r.body["applied"], N + 1);
    assert!(
        r.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["outcome"] == "unchanged")
    );

    // One bad row sinks the whole file (all-or-nothing) ...
    let mut bad = String::from("contact_id,product,paid_through\n");
    for (id, _) in &contacts {
        bad.push_str(&format!("{id},MDUES,2028-12-31\n"));
    }
    bad.push_str(&format!("{},MDUES,2028-02-30\n", contacts[1].0));
    let r = csv(&app, "action=update", &bad).await.expect(200);
    assert_eq!(r.body["applied"], 0);
    assert_eq!(r.body["failed"], 1);
    assert_eq!(r.body["rows"][N]["outcome"], "failed");
    assert_eq!(app.paid_through(contacts[3].0).await, "2027-12-31");

    // ... and delete takes them all out (cash), clearing each paid-through.
    let mut del = String::from("contact_id,product\n");
    for (id, _) in &contacts {
        del.push_str(&format!("{id},MDUES\n"));
    }
    let r = csv(&app, "action=delete", &del).await.expect(200);
    assert_eq!(r.body["applied"], N);
    assert!(
        r.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["outcome"] == "deleted")
    );
    assert!(app.subscriptions("product=MDUES").await.is_empty());
    for (id, _) in [&contacts[0], &contacts[N / 2], &contacts[N - 1]] {
        assert!(app.paid_through(*id).await.is_null());
    }
    assert_eq!(app.subscriptions("").await.len(), 1, "the journal stays");
}

// ---------------------------------------------------------------- column mapping

/// MG-1 (column mapping): a file from another system keeps its own column names; the mapping
/// renames them, in CSV (`?map=`) and JSON (`map`) alike. A column neither mapped nor a field
/// is still refused by name, and a mapping naming a column the file lacks is refused, with
/// nothing written.
#[tokio::test]
async fn mg1_a_column_mapping_reads_another_systems_file_unchanged() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    for (k, r) in ["OLD-1", "OLD-2"].iter().enumerate() {
        app.create_contact(json!({"customer_type": "NM", "first_name": "Old",
            "last_name": format!("Member{k}"), "external_ref": r}))
            .await;
    }
    let file = "Member ID,Item,Start,Expires\nOLD-1,CHAPT/EAST,2020-01-01,2026-12-31\n";
    let map = "map=Member%20ID:external_ref,item:product,START:begin_date,Expires:paid_through";
    let report = csv(&app, &format!("action=insert_with_matching&{map}"), file)
        .await
        .expect(200)
        .body;
    assert_outcomes(&report, &["inserted"]);
    let sub = app
        .subscription(report["rows"][0]["id"].as_i64().expect("id"))
        .await;
    assert_eq!(sub["product"], "CHAPT/EAST");
    assert_eq!(sub["begin_date"], "2020-01-01");
    assert_eq!(sub["paid_through"], "2026-12-31");
    // The audit keeps the request's path with its (long) query.
    let audited = app.audit_events("importSubscriptions").await;
    assert!(
        audited.iter().any(|e| e["subject"]
            .as_str()
            .is_some_and(|s| s.ends_with("Expires:paid_through"))),
        "{audited:?}"
    );

    let json_report = import(
        &app,
        json!({"action": "insert_with_matching", "map": {"Member ID": "external_ref", "Item": "product"},
            "rows": [{"Member ID": "OLD-2", "Item": "JOURNAL"}]}),
    )
    .await;
    assert_outcomes(&json_report, &["inserted"]);

    let unmapped = csv(
        &app,
        "action=insert_with_matching&map=Member%20ID:external_ref,Item:product",
        "Member ID,Item,Notes\nOLD-2,CHAPT/WEST,paid by cheque\n",
    )
    .await
    .problem(422, "validation_failed");
    assert!(unmapped.text.contains("notes"), "{}", unmapped.text);
    let missing = csv(
        &app,
        "action=insert_with_matching&map=Member%20Number:external_ref,Item:product",
        "Member ID,Item\nOLD-2,CHAPT/WEST\n",
    )
    .await
    .problem(422, "validation_failed");
    assert!(missing.text.contains("member number"), "{}", missing.text);
    let unreadable = csv(&app, "action=insert&map=Member%20ID", file)
        .await
        .problem(422, "validation_failed");
    assert!(
        unreadable.text.contains("column:field"),
        "{}",
        unreadable.text
    );
    assert_eq!(app.subscriptions("").await.len(), 2, "nothing more written");
}
