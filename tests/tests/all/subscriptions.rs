//! Subscriptions over HTTP: S-1..S-8, C-7 (the contact's paid-through follows its membership
//! component), list filters and pagination, `If-Match`, and SEC-1 visibility for members.
//! Bulk import (S-9) is in `subscription_import.rs`.

use reqwest::Method;
use serde_json::json;
use tests::{Res, TestApp, detail, etag, id as id_of, spawn};

/// Asserts a field error on `field` whose message contains `needle`.
#[track_caller]
fn assert_field_error(r: &Res, field: &str, needle: &str) {
    let found = r.body["errors"].as_array().is_some_and(|a| {
        a.iter().any(|e| {
            e["field"] == field && e["message"].as_str().is_some_and(|m| m.contains(needle))
        })
    });
    assert!(
        found,
        "expected an error on {field} containing {needle:?}; body: {}",
        r.text
    );
}

/// Ids of every subscription matching `query`, walking all pages.
async fn ids(app: &TestApp, query: &str) -> Vec<i64> {
    app.subscriptions(query).await.iter().map(id_of).collect()
}

async fn org(app: &TestApp, name: &str) -> i64 {
    id_of(
        &app.create_contact(json!({"customer_type": "HOSP", "organization_name": name}))
            .await,
    )
}

// ---------------------------------------------------------------- S-1

#[tokio::test]
async fn s1_contact_and_product_are_required_and_unknown_ones_are_named() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;

    let r = app
        .post("/subscriptions", &app.staff, json!({"product": "JOURNAL"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "contact_id", "required");
    let r = app
        .post("/subscriptions", &app.staff, json!({"contact_id": a}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "product", "required");

    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": a, "product": "NOPE"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "product", "product NOPE does not exist");
    assert!(detail(&r).contains("NOPE"), "{}", r.text);

    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": 999999, "product": "JOURNAL"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "contact_id", "contact 999999 does not exist");

    // Both unknown: both are named at once.
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": 999999, "product": "NOPE"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "contact_id", "contact 999999 does not exist");
    assert_field_error(&r, "product", "product NOPE does not exist");

    // An unknown bill-to contact is named too.
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": a, "product": "JOURNAL", "bill_to_id": 999998}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "bill_to_id", "contact 999998 does not exist");

    // Ids must be positive whole numbers.
    for bad in [json!("abc"), json!(-3), json!(1.5), json!(true)] {
        let r = app
            .post(
                "/subscriptions",
                &app.staff,
                json!({"contact_id": bad, "product": "JOURNAL"}),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "contact_id", "");
    }
    // A product code matches exactly: not case-folded.
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": a, "product": "journal"}),
    )
    .await
    .problem(422, "validation_failed");

    assert!(ids(&app, "").await.is_empty(), "nothing was created");
    // One row per (contact, product).
    app.subscribe(json!({"contact_id": a, "product": "JOURNAL"}))
        .await;
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": a, "product": "JOURNAL"}),
        )
        .await
        .problem(409, "conflict");
    assert!(detail(&r).contains("JOURNAL"), "{}", r.text);
    assert_eq!(ids(&app, "").await.len(), 1);
}

// ---------------------------------------------------------------- S-2

#[tokio::test]
async fn s2_every_field_round_trips_with_location_and_etag() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let payer = app.person("NM", "Payer").await;
    let body = json!({
        "contact_id": a, "product": "JOURNAL", "begin_date": "2024-02-29",
        "paid_through": "2025-02-28", "bill_to_id": payer, "bill_date": "2025-03-15",
        "bill_begin": "2025-03-01", "bill_through": "2026-02-28", "billed_amount": "12.50",
        "bill_subscription": false, "status": "Y", "cancellation_date": "2026-03-31",
        "adjustment_reason": "moved abroad", "source_code": "legacy-import",
        "is_complimentary": true, "is_membership_component": false, "accounting_method": "cash"
    });
    let r = app
        .post("/subscriptions", &app.staff, body.clone())
        .await
        .expect(201);
    let id = id_of(&r.body);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/subscriptions/{id}"))
    );
    assert_eq!(etag(&r), "\"1\"");
    let s = &r.body;
    for key in [
        "contact_id",
        "product",
        "begin_date",
        "paid_through",
        "bill_to_id",
        "bill_date",
        "bill_begin",
        "bill_through",
        "billed_amount",
        "cancellation_date",
        "adjustment_reason",
        "source_code",
        "is_complimentary",
        "is_membership_component",
        "bill_subscription",
        "accounting_method",
    ] {
        assert_eq!(s[key], body[key], "{key}: {}", r.text);
    }
    assert_eq!(s["status"], "active");
    assert_eq!(s["is_company"], false);
    assert_eq!(s["billed"], false);
    assert_eq!(s["version"], 1);
    assert!(s["created_at"].is_string() && s["updated_at"].is_string());

    // The Location resolves to the same record, with the same ETag.
    let g = app
        .get(&r.header("location").unwrap(), &app.staff)
        .await
        .expect(200);
    assert_eq!(etag(&g), "\"1\"");
    assert_eq!(g.body, r.body);
    // And the contact's list has it.
    let list = app
        .get(&format!("/contacts/{a}/subscriptions"), &app.staff)
        .await
        .expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["items"][0], r.body);
    assert!(list.body["next_cursor"].is_null());

    app.get("/subscriptions/999999", &app.staff)
        .await
        .problem(404, "not_found");
    app.get("/subscriptions/abc", &app.staff)
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn s2_defaults_bill_to_the_contact_and_take_the_accounting_method_from_settings() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let s = app
        .subscribe(json!({"contact_id": a, "product": "CHAPT/EAST"}))
        .await;
    assert_eq!(s["bill_to_id"], a);
    assert_eq!(s["status"], "active");
    assert_eq!(s["accounting_method"], "accrual", "the seeded default");
    assert_eq!(s["bill_subscription"], true);
    assert_eq!(s["is_membership_component"], false);
    assert_eq!(s["is_complimentary"], false);
    assert_eq!(s["billed"], false);
    assert!(s["billed_amount"].is_null());
    for key in [
        "begin_date",
        "paid_through",
        "bill_date",
        "bill_begin",
        "bill_through",
        "cancellation_date",
        "adjustment_reason",
        "source_code",
    ] {
        assert!(s[key].is_null(), "{key}: {s}");
    }

    app.set_settings(json!({"default_accounting_method": "cash"}))
        .await;
    let s = app
        .subscribe(json!({"contact_id": a, "product": "CHAPT/WEST"}))
        .await;
    assert_eq!(s["accounting_method"], "cash");
    // Explicit beats the default, in any letter case.
    let s = app
        .subscribe(json!({"contact_id": a, "product": "JOURNAL", "accounting_method": "Accrual"}))
        .await;
    assert_eq!(s["accounting_method"], "accrual");
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": a, "product": "MDUES", "accounting_method": "barter"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "accounting_method", "cash or accrual");
}

#[tokio::test]
async fn s2_is_company_comes_from_the_contacts_customer_type_and_is_read_only() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let hospital = org(&app, "General").await;
    let person = app.person("NM", "Ames").await;
    let s = app
        .subscribe(json!({"contact_id": hospital, "product": "JOURNAL"}))
        .await;
    assert_eq!(s["is_company"], true);
    assert_eq!(app.subscription(id_of(&s)).await["is_company"], true);
    let p = app
        .subscribe(json!({"contact_id": person, "product": "JOURNAL"}))
        .await;
    assert_eq!(p["is_company"], false);

    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": person, "product": "CHAPT/EAST", "is_company": true}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "is_company", "customer type");
    let r = app
        .patch(
            &format!("/subscriptions/{}", id_of(&p)),
            &app.staff,
            json!({"is_company": true}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "is_company", "read-only");
    // The other read-only and unknown fields are refused too, never ignored.
    for (field, value) in [
        ("id", json!(5)),
        ("billed", json!(true)),
        ("colour", json!("red")),
        ("version", json!(3)),
    ] {
        let r = app
            .post(
                "/subscriptions",
                &app.staff,
                json!({"contact_id": person, "product": "CHAPT/EAST", field: value}),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, field, "");
    }
    assert_eq!(ids(&app, "").await.len(), 2, "nothing else was created");
}

#[tokio::test]
async fn s2_billed_amount_is_money_and_dates_are_iso() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    // A string or a number; always read back with 2 places.
    let mut n = 0;
    for (given, shown) in [
        (json!("12.50"), "12.50"),
        (json!(12.5), "12.50"),
        (json!(7), "7.00"),
        (json!("0"), "0.00"),
    ] {
        n += 1;
        let c = app.person("NM", &format!("Money{n}")).await;
        let s = app.subscribe(json!({"contact_id": c, "product": "JOURNAL", "bill_subscription": false, "billed_amount": given}),
        )
        .await;
        assert_eq!(s["billed_amount"], shown, "{given}");
    }
    // SEC-4: plain decimals only, so spaces, exponents, separators and `+` are refused.
    for bad in [
        json!(" 3.1 "),
        json!("1E2"),
        json!("1_000"),
        json!("+1.00"),
        json!("12.345"),
        json!(12.345),
        json!("10.500"),
        json!("-1.00"),
        json!(-1),
        json!("abc"),
        json!(""),
        json!(true),
        json!([1]),
    ] {
        let r = app
            .post(
                "/subscriptions",
                &app.staff,
                json!({"contact_id": a, "product": "JOURNAL", "bill_subscription": false, "billed_amount": bad}),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "billed_amount", "");
    }
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": a, "product": "JOURNAL", "bill_subscription": false, "billed_amount": "-1.00"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billed_amount", "negative");
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": a, "product": "JOURNAL", "bill_subscription": false, "billed_amount": "12.345"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billed_amount", "2 decimal places");

    for field in [
        "begin_date",
        "paid_through",
        "bill_date",
        "bill_begin",
        "bill_through",
        "cancellation_date",
    ] {
        for bad in [
            json!("2024-02-30"),
            json!("6/15/24"),
            json!("2024-1-5"),
            json!(20240105),
        ] {
            let r = app
                .post(
                    "/subscriptions",
                    &app.staff,
                    json!({"contact_id": a, "product": "JOURNAL", field: bad}),
                )
                .await
                .problem(422, "validation_failed");
            assert_field_error(&r, field, "YYYY-MM-DD");
        }
    }
    // bill_through may not precede bill_begin.
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": a, "product": "JOURNAL", "bill_begin": "2025-01-01", "bill_through": "2024-12-31"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "bill_through", "bill_begin");
    // A leap day is a date.
    app.subscribe(json!({"contact_id": a, "product": "JOURNAL", "begin_date": "2024-02-29"}))
        .await;
    assert_eq!(ids(&app, &format!("contact_id={a}")).await.len(), 1);
}

#[tokio::test]
async fn s2_source_code_is_at_most_40_characters() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let forty = "S".repeat(40);
    let s = app
        .subscribe(json!({"contact_id": a, "product": "JOURNAL", "source_code": forty}))
        .await;
    assert_eq!(s["source_code"], forty.as_str());
    // 40 characters, not bytes.
    let accented = "é".repeat(40);
    let e = app
        .subscribe(json!({"contact_id": a, "product": "CHAPT/EAST", "source_code": accented}))
        .await;
    assert_eq!(e["source_code"], accented.as_str());

    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": a, "product": "CHAPT/WEST", "source_code": "S".repeat(41)}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "source_code", "40");
    let r = app
        .patch(
            &format!("/subscriptions/{}", id_of(&s)),
            &app.staff,
            json!({"source_code": "x".repeat(41)}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "source_code", "40");
    assert_eq!(
        app.subscription(id_of(&s)).await["source_code"],
        forty.as_str()
    );
}

#[tokio::test]
async fn s2_patch_changes_given_fields_clears_nulls_and_keeps_identity() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let payer = app.person("NM", "Payer").await;
    let s = app
        .subscribe(
            json!({"contact_id": a, "product": "JOURNAL", "begin_date": "2025-01-01",
            "paid_through": "2025-12-31", "adjustment_reason": "promo", "source_code": "web"}),
        )
        .await;
    let id = id_of(&s);
    let path = format!("/subscriptions/{id}");
    let r = app
        .patch(
            &path,
            &app.staff,
            json!({"paid_through": "2026-12-31", "adjustment_reason": null, "bill_to_id": payer,
                "is_complimentary": "Y", "cancellation_date": "2026-06-30"}),
        )
        .await
        .expect(200);
    assert_eq!(etag(&r), "\"2\"");
    let p = &r.body;
    assert_eq!(p["paid_through"], "2026-12-31");
    assert!(p["adjustment_reason"].is_null());
    assert_eq!(p["bill_to_id"], payer);
    assert_eq!(p["is_complimentary"], true);
    assert_eq!(p["cancellation_date"], "2026-06-30");
    // Untouched fields stay.
    assert_eq!(p["begin_date"], "2025-01-01");
    assert_eq!(p["source_code"], "web");
    assert_eq!(p["version"], 2);
    assert_eq!(app.subscription(id).await, r.body);

    // contact_id and product identify the row: they cannot change.
    for (field, value) in [
        ("contact_id", json!(payer)),
        ("product", json!("CHAPT/EAST")),
        ("email", json!("x@example.org")),
    ] {
        let r = app
            .patch(&path, &app.staff, json!({ field: value }))
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, field, "");
    }
    let r = app
        .patch(&path, &app.staff, json!({"bill_to_id": 999999}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "bill_to_id", "contact 999999 does not exist");
    app.patch(&path, &app.staff, json!({"nonsense": 1}))
        .await
        .problem(422, "validation_failed");
    app.patch(
        "/subscriptions/999999",
        &app.staff,
        json!({"source_code": "x"}),
    )
    .await
    .problem(404, "not_found");
    app.delete("/subscriptions/999999", &app.staff)
        .await
        .problem(404, "not_found");
    app.send(
        Method::PATCH,
        &path,
        Some(&app.staff),
        None,
        &[("content-type", "application/json")],
    )
    .await
    .expect(400);
    // A failed PATCH changed nothing.
    assert_eq!(app.subscription(id).await["version"], 2);
    // A PATCH that changes nothing keeps the version.
    let same = app
        .patch(&path, &app.staff, json!({"source_code": "web"}))
        .await
        .expect(200);
    assert_eq!(same.body["version"], 2);
}

/// S-2: a subscription billed to another contact keeps that payer through later edits that
/// do not mention `bill_to_id`.
#[tokio::test]
async fn s2_a_separate_bill_to_contact_survives_edits_that_do_not_mention_it() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let payer = app.person("NM", "Payer").await;
    let s = app.subscribe(json!({"contact_id": a, "product": "JOURNAL", "bill_to_id": payer, "accounting_method": "cash"}),
    )
    .await;
    assert_eq!(s["bill_to_id"], payer);
    let path = format!("/subscriptions/{}", id_of(&s));
    let r = app
        .patch(&path, &app.staff, json!({"status": "I"}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "inactive");
    assert_eq!(r.body["bill_to_id"], payer);
    let r = app
        .patch(&path, &app.staff, json!({"source_code": "later"}))
        .await
        .expect(200);
    assert_eq!(r.body["bill_to_id"], payer);
    // Back to the holder, then to the payer again.
    app.patch(&path, &app.staff, json!({"bill_to_id": a}))
        .await
        .expect(200);
    app.patch(&path, &app.staff, json!({"bill_to_id": payer}))
        .await
        .expect(200);
    app.delete(&path, &app.staff).await.expect(204);
}

#[tokio::test]
async fn s2_patch_and_delete_honour_if_match() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let s = app
        .subscribe(json!({"contact_id": a, "product": "JOURNAL", "accounting_method": "cash"}))
        .await;
    let path = format!("/subscriptions/{}", id_of(&s));
    let first = etag(&app.get(&path, &app.staff).await.expect(200));
    assert_eq!(first, "\"1\"");
    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&app.staff),
            Some(json!({"source_code": "one"})),
            &[("if-match", &first)],
        )
        .await
        .expect(200);
    let second = etag(&r);
    assert_eq!(second, "\"2\"");
    // A second editor still holding version 1 is refused.
    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&app.staff),
            Some(json!({"source_code": "two"})),
            &[("if-match", &first)],
        )
        .await
        .problem(412, "precondition_failed");
    assert!(r.body["detail"].is_string());
    app.send(
        Method::PATCH,
        &path,
        Some(&app.staff),
        Some(json!({"source_code": "two"})),
        &[("if-match", "\"not-a-version\"")],
    )
    .await
    .problem(412, "precondition_failed");
    assert_eq!(app.subscription(id_of(&s)).await["source_code"], "one");
    app.send(
        Method::DELETE,
        &path,
        Some(&app.staff),
        None,
        &[("if-match", &first)],
    )
    .await
    .problem(412, "precondition_failed");
    app.get(&path, &app.staff).await.expect(200);
    // `*` matches any version.
    app.send(
        Method::PATCH,
        &path,
        Some(&app.staff),
        Some(json!({"source_code": "three"})),
        &[("if-match", "*")],
    )
    .await
    .expect(200);
    app.send(
        Method::DELETE,
        &path,
        Some(&app.staff),
        None,
        &[("if-match", "\"3\"")],
    )
    .await
    .expect(204);
    app.get(&path, &app.staff).await.problem(404, "not_found");
}

#[tokio::test]
async fn s2_list_filters_and_pagination() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let b = app.person("NM", "Bell").await;
    let payer = app.person("NM", "Payer").await;
    let s1 = id_of(
        &app.subscribe(json!({"contact_id": a, "product": "CHAPT/EAST"}))
            .await,
    );
    let s2 = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "JOURNAL", "status": "I", "bill_to_id": payer}),
        )
        .await,
    );
    let s3 = id_of(
        &app.subscribe(json!({"contact_id": b, "product": "CHAPT/EAST"}))
            .await,
    );
    let s4 = id_of(
        &app.subscribe(
            json!({"contact_id": b, "product": "MDUES", "is_membership_component": true}),
        )
        .await,
    );

    assert_eq!(ids(&app, "").await, vec![s1, s2, s3, s4]);
    assert_eq!(ids(&app, &format!("contact_id={a}")).await, vec![s1, s2]);
    assert_eq!(ids(&app, "product=CHAPT%2FEAST").await, vec![s1, s3]);
    assert_eq!(ids(&app, "product=MDUES").await, vec![s4]);
    assert!(ids(&app, "product=NOPE").await.is_empty());
    assert_eq!(ids(&app, "status=active").await, vec![s1, s3, s4]);
    assert_eq!(ids(&app, "status=inactive").await, vec![s2]);
    assert_eq!(ids(&app, &format!("bill_to_id={payer}")).await, vec![s2]);
    assert_eq!(ids(&app, &format!("bill_to_id={b}")).await, vec![s3, s4]);
    assert_eq!(ids(&app, "is_membership_component=true").await, vec![s4]);
    assert_eq!(
        ids(&app, "is_membership_component=false").await,
        vec![s1, s2, s3]
    );
    assert_eq!(
        ids(
            &app,
            &format!("contact_id={b}&product=CHAPT%2FEAST&status=active")
        )
        .await,
        vec![s3]
    );

    // updated_since: only what changed at or after the instant.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let changed = app
        .patch(
            &format!("/subscriptions/{s1}"),
            &app.staff,
            json!({"source_code": "sync"}),
        )
        .await
        .expect(200);
    let since = changed.body["updated_at"]
        .as_str()
        .unwrap()
        .replace('+', "%2B");
    assert_eq!(ids(&app, &format!("updated_since={since}")).await, vec![s1]);
    assert_eq!(
        ids(&app, "updated_since=2000-01-01T00:00:00Z").await,
        vec![s1, s2, s3, s4]
    );
    assert!(
        ids(&app, "updated_since=2999-01-01T00:00:00Z")
            .await
            .is_empty()
    );

    // Keyset pagination.
    let p1 = app
        .get("/subscriptions?limit=3", &app.staff)
        .await
        .expect(200);
    let first: Vec<i64> = p1.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(first, vec![s1, s2, s3]);
    let cursor = p1.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let p2 = app
        .get(
            &format!("/subscriptions?limit=3&cursor={cursor}"),
            &app.staff,
        )
        .await
        .expect(200);
    let second: Vec<i64> = p2.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(second, vec![s4]);
    assert!(p2.body["next_cursor"].is_null());
    // Default page holds everything here.
    let all = app.get("/subscriptions", &app.staff).await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 4);
    assert!(all.body["next_cursor"].is_null());

    // Bad parameters are 400 problems.
    for q in [
        "limit=0",
        "limit=201",
        "limit=x",
        "status=maybe",
        "contact_id=abc",
        "is_membership_component=perhaps",
        "updated_since=yesterday",
        "cursor=%%%",
    ] {
        let r = app.get(&format!("/subscriptions?{q}"), &app.staff).await;
        assert_eq!(r.status.as_u16(), 400, "{q}: {}", r.text);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{q}"
        );
    }

    // The contact's own list takes the same filters.
    let r = app
        .get(
            &format!("/contacts/{a}/subscriptions?status=active"),
            &app.staff,
        )
        .await
        .expect(200);
    let own: Vec<i64> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(own, vec![s1]);
    app.get("/contacts/999999/subscriptions", &app.staff)
        .await
        .problem(404, "not_found");
}

// ---------------------------------------------------------------- S-3

#[tokio::test]
async fn s3_status_accepts_every_word_in_any_case_and_json_booleans() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let s = app
        .subscribe(json!({"contact_id": a, "product": "JOURNAL", "status": "n"}))
        .await;
    assert_eq!(s["status"], "inactive");
    let path = format!("/subscriptions/{}", id_of(&s));
    let active = [
        json!("1"),
        json!("TRUE"),
        json!("true"),
        json!("Y"),
        json!("y"),
        json!("YES"),
        json!("Yes"),
        json!("T"),
        json!("t"),
        json!("ACTIVE"),
        json!("Active"),
        json!("A"),
        json!("a"),
        json!(true),
        json!(1),
    ];
    let inactive = [
        json!("0"),
        json!("FALSE"),
        json!("false"),
        json!("N"),
        json!("n"),
        json!("NO"),
        json!("No"),
        json!("F"),
        json!("f"),
        json!("INACTIVE"),
        json!("inActive"),
        json!("I"),
        json!("i"),
        json!(false),
        json!(0),
    ];
    for (on, off) in active.iter().zip(inactive.iter()) {
        let r = app
            .patch(&path, &app.staff, json!({"status": on}))
            .await
            .expect(200);
        assert_eq!(r.body["status"], "active", "{on}");
        let r = app
            .patch(&path, &app.staff, json!({"status": off}))
            .await
            .expect(200);
        assert_eq!(r.body["status"], "inactive", "{off}");
    }
    // Creation takes the same words.
    let b = app
        .subscribe(json!({"contact_id": a, "product": "CHAPT/EAST", "status": "yEs"}))
        .await;
    assert_eq!(b["status"], "active");
    let c = app
        .subscribe(json!({"contact_id": a, "product": "CHAPT/WEST", "status": false}))
        .await;
    assert_eq!(c["status"], "inactive");
}

#[tokio::test]
async fn s3_other_status_words_are_rejected_listing_the_accepted_ones() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    for bad in [
        json!("maybe"),
        json!("ACT"),
        json!("2"),
        json!(""),
        json!("on"),
        json!(2),
    ] {
        let r = app
            .post(
                "/subscriptions",
                &app.staff,
                json!({"contact_id": a, "product": "JOURNAL", "status": bad}),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "status", "1/TRUE/Y/YES/T/ACTIVE/A");
        assert_field_error(&r, "status", "0/FALSE/N/NO/F/INACTIVE/I");
    }
    for bad in [json!(null), json!([]), json!({"x": 1})] {
        let r = app
            .post(
                "/subscriptions",
                &app.staff,
                json!({"contact_id": a, "product": "JOURNAL", "status": bad}),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "status", "");
    }
    assert!(ids(&app, "").await.is_empty());
    let s = app
        .subscribe(json!({"contact_id": a, "product": "JOURNAL"}))
        .await;
    let r = app
        .patch(
            &format!("/subscriptions/{}", id_of(&s)),
            &app.staff,
            json!({"status": "enabled"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "status", "1/TRUE/Y/YES/T/ACTIVE/A");
    assert_eq!(app.subscription(id_of(&s)).await["status"], "active");
}

// ---------------------------------------------------------------- S-4

#[tokio::test]
async fn s4_billed_accrual_subscriptions_lock_their_dates_and_name_the_fields() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let s = app
        .subscribe(
            json!({"contact_id": a, "product": "JOURNAL", "accounting_method": "accrual",
            "begin_date": "2025-01-01", "paid_through": "2025-12-31", "bill_date": "2025-12-01",
            "bill_begin": "2026-01-01", "bill_through": "2026-12-31", "source_code": "web"}),
        )
        .await;
    let id = id_of(&s);
    let path = format!("/subscriptions/{id}");
    app.mark_billed(id).await;
    let billed = app.subscription(id).await;
    assert_eq!(billed["billed"], true);

    let r = app
        .patch(&path, &app.staff, json!({"begin_date": "2025-02-01"}))
        .await
        .problem(422, "locked_field");
    assert_field_error(&r, "begin_date", "");
    assert!(detail(&r).contains("begin_date"), "{}", r.text);
    assert!(detail(&r).contains("accrual"), "{}", r.text);

    let r = app
        .patch(
            &path,
            &app.staff,
            json!({"paid_through": "2026-12-31", "bill_date": "2026-12-01",
                "bill_begin": "2027-01-01", "bill_through": "2027-12-31", "source_code": "changed"}),
        )
        .await
        .problem(422, "locked_field");
    for f in ["paid_through", "bill_date", "bill_begin", "bill_through"] {
        assert_field_error(&r, f, "");
        assert!(detail(&r).contains(f), "{f}: {}", r.text);
    }
    let named: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(!named.contains(&"source_code"), "{}", r.text);
    // Clearing a date is a change, and so is switching the basis.
    app.patch(&path, &app.staff, json!({"begin_date": null}))
        .await
        .problem(422, "locked_field");
    let r = app
        .patch(&path, &app.staff, json!({"accounting_method": "cash"}))
        .await
        .problem(422, "locked_field");
    assert_field_error(&r, "accounting_method", "");
    // Nothing changed, not even the unlocked field sent with locked ones.
    assert_eq!(app.subscription(id).await, billed);

    // Other fields still change; resending a locked date unchanged is fine.
    let r = app
        .patch(
            &path,
            &app.staff,
            json!({"status": "I", "source_code": "changed", "begin_date": "2025-01-01",
                "adjustment_reason": "lapsed", "cancellation_date": "2025-06-30"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "inactive");
    assert_eq!(r.body["source_code"], "changed");
    assert_eq!(r.body["cancellation_date"], "2025-06-30");
    for f in [
        "begin_date",
        "paid_through",
        "bill_date",
        "bill_begin",
        "bill_through",
    ] {
        assert_eq!(r.body[f], billed[f], "{f}");
    }
    assert_eq!(r.body["billed"], true);
}

#[tokio::test]
async fn s4_cash_billed_and_unbilled_subscriptions_may_change_dates() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let dates = json!({"begin_date": "2026-01-01", "paid_through": "2026-12-31",
        "bill_date": "2026-12-01", "bill_begin": "2027-01-01", "bill_through": "2027-12-31"});

    // Billed on a cash basis.
    let cash = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "JOURNAL", "accounting_method": "cash",
                "begin_date": "2025-01-01"}),
        )
        .await,
    );
    app.mark_billed(cash).await;
    let r = app
        .patch(&format!("/subscriptions/{cash}"), &app.staff, dates.clone())
        .await
        .expect(200);
    assert_eq!(r.body["billed"], true);
    for (k, v) in dates.as_object().unwrap() {
        assert_eq!(&r.body[k], v, "{k}");
    }
    // A billed cash subscription may switch to accrual; then its dates are locked.
    app.patch(
        &format!("/subscriptions/{cash}"),
        &app.staff,
        json!({"accounting_method": "accrual"}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/subscriptions/{cash}"),
        &app.staff,
        json!({"begin_date": "2024-01-01"}),
    )
    .await
    .problem(422, "locked_field");

    // Accrual but not billed yet.
    let unbilled = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "CHAPT/EAST", "accounting_method": "accrual"}),
        )
        .await,
    );
    let r = app
        .patch(
            &format!("/subscriptions/{unbilled}"),
            &app.staff,
            dates.clone(),
        )
        .await
        .expect(200);
    for (k, v) in dates.as_object().unwrap() {
        assert_eq!(&r.body[k], v, "{k}");
    }
    let r = app
        .patch(
            &format!("/subscriptions/{unbilled}"),
            &app.staff,
            json!({"accounting_method": "cash"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["accounting_method"], "cash");
}

// ---------------------------------------------------------------- S-5

#[tokio::test]
async fn s5_accrual_subscriptions_cannot_be_deleted_cash_ones_can() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let accrual = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "JOURNAL", "accounting_method": "accrual"}),
        )
        .await,
    );
    let r = app
        .delete(&format!("/subscriptions/{accrual}"), &app.staff)
        .await
        .problem(409, "conflict");
    let d = detail(&r);
    assert!(d.contains("accrual"), "{d}");
    assert!(d.contains("inactive"), "{d}");
    assert_eq!(app.subscription(accrual).await["version"], 1);
    // The way out: make it inactive.
    let r = app
        .patch(
            &format!("/subscriptions/{accrual}"),
            &app.staff,
            json!({"status": "INACTIVE"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "inactive");
    app.delete(&format!("/subscriptions/{accrual}"), &app.staff)
        .await
        .problem(409, "conflict");

    let cash = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "CHAPT/EAST", "accounting_method": "cash"}),
        )
        .await,
    );
    let r = app
        .delete(&format!("/subscriptions/{cash}"), &app.staff)
        .await
        .expect(204);
    assert!(r.text.is_empty());
    app.get(&format!("/subscriptions/{cash}"), &app.staff)
        .await
        .problem(404, "not_found");
    app.delete(&format!("/subscriptions/{cash}"), &app.staff)
        .await
        .problem(404, "not_found");
    assert_eq!(ids(&app, "").await, vec![accrual]);
    // A billed cash subscription may be deleted too.
    let billed_cash = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "CHAPT/WEST", "accounting_method": "cash"}),
        )
        .await,
    );
    app.mark_billed(billed_cash).await;
    app.delete(&format!("/subscriptions/{billed_cash}"), &app.staff)
        .await
        .expect(204);
    // The key is free again once deleted.
    app.subscribe(json!({"contact_id": a, "product": "CHAPT/EAST"}))
        .await;
}

// ---------------------------------------------------------------- S-6

#[tokio::test]
async fn s6_bill_flag_and_billed_amount_decide_each_other_on_create() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let mut n = 0;
    let mut contact = || {
        n += 1;
        let name = format!("C{n}");
        let app = &app;
        async move { app.person("NM", &name).await }
    };

    // true + amount: the price is computed, so the amount must be empty.
    let c = contact().await;
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": c, "product": "JOURNAL", "bill_subscription": true, "billed_amount": "10.00"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billed_amount", "bill_subscription");
    // false without an amount: the amount is required.
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": c, "product": "JOURNAL", "bill_subscription": false}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billed_amount", "required");
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": c, "product": "JOURNAL", "bill_subscription": false, "billed_amount": null}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billed_amount", "required");
    assert!(ids(&app, "").await.is_empty());

    // false + amount, under Membership or not.
    for member in [true, false] {
        let c = contact().await;
        let s = app
            .subscribe(
                json!({"contact_id": c, "product": "MDUES", "bill_subscription": false,
                "is_membership_component": member, "billed_amount": "10.00"}),
            )
            .await;
        assert_eq!(s["bill_subscription"], false);
        assert_eq!(s["is_membership_component"], member);
        assert_eq!(s["billed_amount"], "10.00");
    }
    // true, under Membership or not, amount left empty.
    for member in [true, false] {
        let c = contact().await;
        let s = app
            .subscribe(
                json!({"contact_id": c, "product": "MDUES", "bill_subscription": true,
                "is_membership_component": member}),
            )
            .await;
        assert_eq!(s["bill_subscription"], true);
        assert_eq!(s["is_membership_component"], member);
        assert!(s["billed_amount"].is_null());
    }
    // Neither flag and no amount: billed at the price, not under Membership.
    let c = contact().await;
    let s = app
        .subscribe(json!({"contact_id": c, "product": "JOURNAL"}))
        .await;
    assert_eq!(s["bill_subscription"], true);
    assert_eq!(s["is_membership_component"], false);
    assert!(s["billed_amount"].is_null());
    // An amount without the flag: a fixed amount, not billed.
    let c = contact().await;
    let s = app
        .subscribe(json!({"contact_id": c, "product": "JOURNAL", "billed_amount": "15.00"}))
        .await;
    assert_eq!(s["bill_subscription"], false);
    assert_eq!(s["billed_amount"], "15.00");
    // Flags also take yes/no words.
    let c = contact().await;
    let s = app
        .subscribe(
            json!({"contact_id": c, "product": "JOURNAL", "bill_subscription": "N",
            "is_membership_component": "yes", "billed_amount": 3}),
        )
        .await;
    assert_eq!(s["bill_subscription"], false);
    assert_eq!(s["is_membership_component"], true);
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": c, "product": "CHAPT/EAST", "bill_subscription": "sometimes"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "bill_subscription", "");
}

#[tokio::test]
async fn s6_patch_keeps_the_flag_and_the_amount_consistent() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let billed = id_of(
        &app.subscribe(json!({"contact_id": a, "product": "JOURNAL"}))
            .await,
    );
    let path = format!("/subscriptions/{billed}");
    // Billed at the price: an amount alone is refused.
    let r = app
        .patch(&path, &app.staff, json!({"billed_amount": "5.00"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billed_amount", "bill_subscription");
    // Turning billing off needs an amount.
    let r = app
        .patch(&path, &app.staff, json!({"bill_subscription": false}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billed_amount", "required");
    let r = app
        .patch(
            &path,
            &app.staff,
            json!({"bill_subscription": false, "billed_amount": "5.00"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["bill_subscription"], false);
    assert_eq!(r.body["billed_amount"], "5.00");
    // Not billed: the amount may change, not be cleared.
    let r = app
        .patch(&path, &app.staff, json!({"billed_amount": 6}))
        .await
        .expect(200);
    assert_eq!(r.body["billed_amount"], "6.00");
    let r = app
        .patch(&path, &app.staff, json!({"billed_amount": null}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billed_amount", "required");
    // Turning billing back on drops the fixed amount.
    let r = app
        .patch(&path, &app.staff, json!({"bill_subscription": true}))
        .await
        .expect(200);
    assert_eq!(r.body["bill_subscription"], true);
    assert!(r.body["billed_amount"].is_null());
}

// ---------------------------------------------------------------- S-7

#[tokio::test]
async fn s7_chapters_are_subscriptions_to_chapt_products() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let b = app.person("NM", "Bell").await;
    let east = app
        .subscribe(json!({"contact_id": a, "product": "CHAPT/EAST"}))
        .await;
    assert_eq!(east["product"], "CHAPT/EAST");
    let west = app
        .subscribe(json!({"contact_id": a, "product": "CHAPT/WEST"}))
        .await;
    let east_b = app
        .subscribe(json!({"contact_id": b, "product": "CHAPT/EAST"}))
        .await;
    app.subscribe(json!({"contact_id": b, "product": "JOURNAL"}))
        .await;

    assert_eq!(
        ids(&app, "product=CHAPT%2FEAST").await,
        vec![id_of(&east), id_of(&east_b)]
    );
    assert_eq!(ids(&app, "product=CHAPT%2FWEST").await, vec![id_of(&west)]);
    let r = app
        .get(
            &format!("/contacts/{a}/subscriptions?product=CHAPT%2FEAST"),
            &app.staff,
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["product"], "CHAPT/EAST");
    // The chapter product itself round-trips with its encoded code.
    let p = app
        .get("/products/CHAPT%2FEAST", &app.staff)
        .await
        .expect(200);
    assert_eq!(p.body["product_type"], "chapter");
    // An unknown chapter is named.
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": a, "product": "CHAPT/NORTH"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "product", "product CHAPT/NORTH does not exist");
}

// ---------------------------------------------------------------- S-8

/// `doctors()` plus the formula type `AM` of CT-3: dues AM_1, AM_2 and the tax line AM_1_GST.
pub async fn associates(app: &TestApp) {
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
}

#[tokio::test]
async fn s8_one_active_subscription_per_formula_family() {
    let app = spawn().await;
    associates(&app).await;
    let a = app.person("NM", "Ames").await;
    let b = app.person("NM", "Bell").await;
    let am1 = id_of(
        &app.subscribe(json!({"contact_id": a, "product": "AM_1", "status": "A"}))
            .await,
    );
    let r = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": a, "product": "AM_2", "status": "A"}),
        )
        .await
        .problem(409, "conflict");
    assert!(
        detail(&r).contains("AM_1"),
        "names the held one: {}",
        r.text
    );
    // The tax companion is not in the family.
    app.subscribe(json!({"contact_id": a, "product": "AM_1_GST", "status": "A"}))
        .await;
    // Another contact is not affected.
    app.subscribe(json!({"contact_id": b, "product": "AM_2"}))
        .await;
    // An inactive one may be held beside the active one ...
    let am2 = id_of(
        &app.subscribe(json!({"contact_id": a, "product": "AM_2", "status": "I"}))
            .await,
    );
    // ... but not made active while AM_1 is.
    let r = app
        .patch(
            &format!("/subscriptions/{am2}"),
            &app.staff,
            json!({"status": "Y"}),
        )
        .await
        .problem(409, "conflict");
    assert!(detail(&r).contains("AM_1"), "{}", r.text);
    assert_eq!(app.subscription(am2).await["status"], "inactive");
    // Switching: AM_1 inactive first, then AM_2 active.
    app.patch(
        &format!("/subscriptions/{am1}"),
        &app.staff,
        json!({"status": "N"}),
    )
    .await
    .expect(200);
    let r = app
        .patch(
            &format!("/subscriptions/{am2}"),
            &app.staff,
            json!({"status": "Y"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "active");
    // Now AM_1 is the one refused, naming AM_2.
    let r = app
        .patch(
            &format!("/subscriptions/{am1}"),
            &app.staff,
            json!({"status": "Y"}),
        )
        .await
        .problem(409, "conflict");
    assert!(detail(&r).contains("AM_2"), "{}", r.text);
    // Other edits of the active one are fine.
    app.patch(
        &format!("/subscriptions/{am2}"),
        &app.staff,
        json!({"source_code": "switch"}),
    )
    .await
    .expect(200);
    // Products outside any formula family are unaffected (M's fixed dues list).
    app.subscribe(json!({"contact_id": a, "product": "MDUES"}))
        .await;
}

// ---------------------------------------------------------------- C-7

#[tokio::test]
async fn c7_contact_paid_through_follows_its_membership_components() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    app.create_product("LIFE", "dues", "0.00").await;
    let a = app.person("NM", "Ames").await;
    let b = app.person("NM", "Bell").await;
    assert!(app.paid_through(a).await.is_null());
    let other = app
        .subscribe(
            json!({"contact_id": b, "product": "MDUES", "is_membership_component": true,
            "paid_through": "2030-12-31"}),
        )
        .await;
    assert_eq!(app.paid_through(b).await, "2030-12-31");

    // Create.
    let dues = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "MDUES", "is_membership_component": true,
                "paid_through": "2025-12-31"}),
        )
        .await,
    );
    assert_eq!(app.paid_through(a).await, "2025-12-31");
    // A non-component subscription does not touch it.
    let journal = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "JOURNAL", "paid_through": "2031-01-31"}),
        )
        .await,
    );
    assert_eq!(app.paid_through(a).await, "2025-12-31");
    app.patch(
        &format!("/subscriptions/{journal}"),
        &app.staff,
        json!({"paid_through": "2032-01-31"}),
    )
    .await
    .expect(200);
    assert_eq!(app.paid_through(a).await, "2025-12-31");
    // The latest of several components wins.
    let life = id_of(
        &app.subscribe(
            json!({"contact_id": a, "product": "LIFE", "is_membership_component": true,
                "paid_through": "2026-06-30", "accounting_method": "cash"}),
        )
        .await,
    );
    assert_eq!(app.paid_through(a).await, "2026-06-30");
    // PATCH moves it, either way.
    app.patch(
        &format!("/subscriptions/{life}"),
        &app.staff,
        json!({"paid_through": "2024-01-31"}),
    )
    .await
    .expect(200);
    assert_eq!(app.paid_through(a).await, "2025-12-31");
    app.patch(
        &format!("/subscriptions/{dues}"),
        &app.staff,
        json!({"paid_through": "2027-03-31"}),
    )
    .await
    .expect(200);
    assert_eq!(app.paid_through(a).await, "2027-03-31");
    // No longer a component: it stops counting.
    app.patch(
        &format!("/subscriptions/{dues}"),
        &app.staff,
        json!({"is_membership_component": false}),
    )
    .await
    .expect(200);
    assert_eq!(app.paid_through(a).await, "2024-01-31");
    // Becoming a component again counts again.
    app.patch(
        &format!("/subscriptions/{journal}"),
        &app.staff,
        json!({"is_membership_component": true}),
    )
    .await
    .expect(200);
    assert_eq!(app.paid_through(a).await, "2032-01-31");
    app.patch(
        &format!("/subscriptions/{journal}"),
        &app.staff,
        json!({"is_membership_component": false}),
    )
    .await
    .expect(200);
    assert_eq!(app.paid_through(a).await, "2024-01-31");
    // A failed change (S-1 unknown bill-to) leaves it.
    app.patch(
        &format!("/subscriptions/{life}"),
        &app.staff,
        json!({"paid_through": "2029-01-31", "bill_to_id": 999999}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(app.paid_through(a).await, "2024-01-31");
    // Deleting the only component clears it.
    app.delete(&format!("/subscriptions/{life}"), &app.staff)
        .await
        .expect(204);
    assert!(app.paid_through(a).await.is_null());
    // The other contact never moved.
    assert_eq!(app.paid_through(b).await, "2030-12-31");
    assert_eq!(
        app.subscription(id_of(&other)).await["paid_through"],
        "2030-12-31"
    );
}

// ---------------------------------------------------------------- SEC-1

/// SEC-1 for subscriptions (S-1..S-9 endpoints): members may read their own, not another's,
/// and may not write.
#[tokio::test]
async fn sec1_members_see_only_their_own_subscriptions_and_cannot_write() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let mine = app.person("NM", "Mine").await;
    let other = app.person("NM", "Other").await;
    let member = app.member_token(mine).await;
    let own = app
        .subscribe(json!({"contact_id": mine, "product": "CHAPT/EAST"}))
        .await;
    let theirs = app
        .subscribe(json!({"contact_id": other, "product": "CHAPT/EAST"}))
        .await;

    app.post(
        "/subscriptions",
        &member,
        json!({"contact_id": mine, "product": "JOURNAL"}),
    )
    .await
    .problem(403, "forbidden");
    app.post(
        "/subscriptions/import",
        &member,
        json!({"action": "insert", "rows": [{"contact_id": mine, "product": "JOURNAL"}]}),
    )
    .await
    .problem(403, "forbidden");
    app.send_raw(
        Method::POST,
        "/subscriptions/import?action=insert",
        &member,
        "text/csv",
        format!("contact_id,product\n{mine},JOURNAL\n"),
    )
    .await
    .problem(403, "forbidden");
    app.get("/subscriptions", &member)
        .await
        .problem(403, "forbidden");
    app.patch(
        &format!("/subscriptions/{}", id_of(&own)),
        &member,
        json!({"source_code": "x"}),
    )
    .await
    .problem(403, "forbidden");
    app.delete(&format!("/subscriptions/{}", id_of(&own)), &member)
        .await
        .problem(403, "forbidden");

    // Another contact's records are "not found".
    app.get(&format!("/contacts/{other}/subscriptions"), &member)
        .await
        .problem(404, "not_found");
    app.get(&format!("/subscriptions/{}", id_of(&theirs)), &member)
        .await
        .problem(404, "not_found");

    // Their own, three ways.
    let r = app
        .get(&format!("/subscriptions/{}", id_of(&own)), &member)
        .await
        .expect(200);
    assert_eq!(r.body, own);
    assert!(r.header("etag").is_some());
    let r = app.get("/me/subscriptions", &member).await.expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0], own);
    // A contact_id in the query cannot widen it.
    let r = app
        .get(&format!("/me/subscriptions?contact_id={other}"), &member)
        .await
        .expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert!(items.iter().all(|s| s["contact_id"] == mine), "{}", r.text);
    let r = app
        .get(&format!("/contacts/{mine}/subscriptions"), &member)
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    // Staff have no /me.
    app.get("/me/subscriptions", &app.staff)
        .await
        .problem(403, "forbidden");
    // Nothing the member tried was written.
    assert_eq!(ids(&app, "").await.len(), 2);
    // Anonymous: 401.
    let r = app
        .send(Method::GET, "/me/subscriptions", None, None, &[])
        .await;
    assert_eq!(r.status.as_u16(), 401);
}

/// API.md General: subscriptions sync incrementally by `updated_since`: a new one and an
/// edited one are in the window, an untouched one is not.
#[tokio::test]
async fn subscriptions_list_updated_since_follows_creates_and_edits() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Ames").await;
    let old = id_of(
        &app.subscribe(json!({"contact_id": a, "product": "CHAPT/EAST"}))
            .await,
    );
    let untouched = id_of(
        &app.subscribe(json!({"contact_id": a, "product": "MDUES"}))
            .await,
    );
    let since = tests::sync_mark().await;
    let new = id_of(
        &app.subscribe(json!({"contact_id": a, "product": "JOURNAL"}))
            .await,
    );
    assert_eq!(app.ids_updated_since("/subscriptions", &since).await, [new]);
    app.patch(
        &format!("/subscriptions/{old}"),
        &app.staff,
        json!({"source_code": "sync"}),
    )
    .await
    .expect(200);
    let changed = app.ids_updated_since("/subscriptions", &since).await;
    assert_eq!(changed, [old, new]);
    assert!(!changed.contains(&untouched));
    assert_eq!(
        app.ids_updated_since("/subscriptions?product=JOURNAL", &since)
            .await,
        [new]
    );
    app.get("/subscriptions?updated_since=2026-01-01", &app.staff)
        .await
        .problem(400, "invalid_parameter");
}
