//! Reference data over HTTP: membership settings (T-1), customer types (CT-1..CT-7), billing
//! categories (BC-1, BC-2), contact statuses (CS-1, CS-2), products (P-1, P-2), and the list
//! conventions of API.md (keyset pagination, `limit` bounds, bad cursors).

use reqwest::Method;
use serde_json::{Value, json};
use tests::{TestApp, assert_field_error, detail, etag, spawn, with};

fn codes(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("items is a list")
        .iter()
        .map(|i| i["code"].as_str().expect("code").to_owned())
        .collect()
}

/// Walks a list page by page with `limit`, checking the page sizes, and returns every code.
async fn walk(app: &TestApp, path: &str, limit: u64) -> Vec<String> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            None => format!("{path}{sep}limit={limit}"),
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
        };
        let r = app.get(&url, &app.staff).await.expect(200);
        let page = codes(&r.body["items"]);
        assert!(
            page.len() as u64 <= limit,
            "page larger than limit: {}",
            r.text
        );
        all.extend(page.clone());
        match r.body["next_cursor"].as_str() {
            None => {
                assert!(
                    r.body["next_cursor"].is_null(),
                    "next_cursor is null on the last page: {}",
                    r.text
                );
                return all;
            }
            Some(c) => {
                assert_eq!(
                    page.len() as u64,
                    limit,
                    "a page with a next_cursor is full: {}",
                    r.text
                );
                cursor = Some(c.to_owned());
            }
        }
    }
    panic!("pagination of {path} did not end");
}

async fn settings(app: &TestApp) -> Value {
    app.get("/settings/membership", &app.staff)
        .await
        .expect(200)
        .body
}

// ---------------------------------------------------------------- T-1 settings

#[tokio::test]
async fn t1_settings_get_and_put_round_trip() {
    let app = spawn().await;
    let r = app
        .get("/settings/membership", &app.staff)
        .await
        .expect(200);
    assert!(r.header("etag").is_some());
    let s = r.body;
    for field in [
        "fiscal_year_start_month",
        "standard_billing_interval_months",
        "default_billing_time",
        "default_accounting_method",
        "grace_period_months",
        "default_person_type",
        "default_organization_type",
        "currency",
    ] {
        assert!(s.get(field).is_some(), "settings lack {field}: {s}");
    }
    // A fresh database has usable non-member defaults (bootstrap).
    assert!(s["default_person_type"].is_string());
    assert!(s["default_organization_type"].is_string());

    app.doctors().await;
    let new = with(
        settings(&app).await,
        json!({"fiscal_year_start_month": 7, "standard_billing_interval_months": 12, "default_billing_time": "annual",
            "default_accounting_method": "cash", "grace_period_months": 3, "currency": "CAD"}),
    );
    let put = app
        .put("/settings/membership", &app.staff, new.clone())
        .await
        .expect(200);
    assert_eq!(put.body, new);
    let got = settings(&app).await;
    assert_eq!(got, new);
    assert_eq!(got["default_person_type"], "NM");
    assert_eq!(got["default_organization_type"], "HOSP");

    // Unknown enum values and unknown fields are 422 problems, not 500s.
    let bad = with(new.clone(), json!({"default_billing_time": "weekly"}));
    app.put("/settings/membership", &app.staff, bad)
        .await
        .problem(422, "validation_failed");
    let bad = with(new.clone(), json!({"surprise": 1}));
    app.put("/settings/membership", &app.staff, bad)
        .await
        .problem(422, "validation_failed");
    assert_eq!(settings(&app).await, new);

    // Settings are staff-only (SEC-1).
    let id = app.person("NM", "Reader").await;
    let member = app.member_token(id).await;
    app.get("/settings/membership", &member)
        .await
        .problem(403, "forbidden");
    app.put("/settings/membership", &member, new)
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn t1_fiscal_year_start_month_must_be_1_to_12() {
    let app = spawn().await;
    let before = settings(&app).await;
    for month in [0, 13, 99] {
        let r = app
            .put(
                "/settings/membership",
                &app.staff,
                with(before.clone(), json!({"fiscal_year_start_month": month})),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "fiscal_year_start_month");
    }
    let r = app
        .put(
            "/settings/membership",
            &app.staff,
            with(before.clone(), json!({"fiscal_year_start_month": -1})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_eq!(
        settings(&app).await,
        before,
        "a rejected PUT changes nothing"
    );
    for month in [1, 12] {
        let r = app
            .put(
                "/settings/membership",
                &app.staff,
                with(before.clone(), json!({"fiscal_year_start_month": month})),
            )
            .await
            .expect(200);
        assert_eq!(r.body["fiscal_year_start_month"], month);
    }
}

#[tokio::test]
async fn t1_default_types_must_be_existing_non_member_types_of_the_right_kind() {
    let app = spawn().await;
    app.doctors().await;
    app.create_type(json!({"code": "NM2", "name": "Other non-member", "is_member": false, "is_organization": false})).await;
    app.create_type(json!({"code": "MO", "name": "Member org", "is_member": true, "is_organization": true, "expires_to": "HOSP"}))
        .await;
    let before = settings(&app).await;
    let cases = [
        ("default_person_type", "NOPE"),      // does not exist
        ("default_person_type", "M"),         // a member type
        ("default_person_type", "HOSP"),      // an organization type
        ("default_organization_type", "NM"),  // a person type
        ("default_organization_type", "MO"),  // a member type
        ("default_organization_type", "ZZZ"), // does not exist
    ];
    for (field, code) in cases {
        let r = app
            .put(
                "/settings/membership",
                &app.staff,
                with(before.clone(), json!({ field: code })),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, field);
        assert!(
            detail(&r).contains(code),
            "the error names {code}: {}",
            r.text
        );
    }
    assert_eq!(settings(&app).await, before, "rejected PUTs change nothing");
    let ok = app
        .put(
            "/settings/membership",
            &app.staff,
            with(before, json!({"default_person_type": "NM2"})),
        )
        .await
        .expect(200);
    assert_eq!(ok.body["default_person_type"], "NM2");
}

#[tokio::test]
async fn t1_settings_put_with_stale_if_match_is_412() {
    let app = spawn().await;
    let first = app
        .get("/settings/membership", &app.staff)
        .await
        .expect(200);
    let e1 = etag(&first);
    let s1 = first.body;
    let changed = with(s1.clone(), json!({"grace_period_months": 2}));
    let r = app
        .send(
            Method::PUT,
            "/settings/membership",
            Some(&app.staff),
            Some(changed.clone()),
            &[("If-Match", &e1)],
        )
        .await
        .expect(200);
    let e2 = etag(&r);
    assert_ne!(e1, e2, "a write gives a new ETag");
    assert_eq!(
        etag(
            &app.get("/settings/membership", &app.staff)
                .await
                .expect(200)
        ),
        e2
    );

    // Another editor still holds e1: their write is refused and changes nothing.
    let stale = with(s1.clone(), json!({"grace_period_months": 9}));
    app.send(
        Method::PUT,
        "/settings/membership",
        Some(&app.staff),
        Some(stale.clone()),
        &[("If-Match", &e1)],
    )
    .await
    .problem(412, "precondition_failed");
    app.send(
        Method::PUT,
        "/settings/membership",
        Some(&app.staff),
        Some(stale),
        &[("If-Match", "\"not-a-version\"")],
    )
    .await
    .problem(412, "precondition_failed");
    let now = app
        .get("/settings/membership", &app.staff)
        .await
        .expect(200);
    assert_eq!(now.body, changed);
    assert_eq!(etag(&now), e2);
}

// ---------------------------------------------------------------- CT-1..CT-7 customer types

#[tokio::test]
async fn ct1_customer_type_code_shape_and_uniqueness() {
    let app = spawn().await;
    for bad in ["m", "Nm", "M-1", "M_1", "M 1", "", "ABCDEFGHIJKLMNOPQRSTU"] {
        let r = app
            .post(
                "/customer-types",
                &app.staff,
                json!({"code": bad, "name": "X", "is_member": false, "is_organization": false}),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "code");
    }
    let r = app
        .post("/customer-types", &app.staff, json!({"code": "NM2", "name": "Non-member 2", "is_member": false, "is_organization": false}))
        .await
        .expect(201);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/v1/customer-types/NM2")
    );
    assert!(r.header("etag").is_some());
    assert_eq!(r.body["code"], "NM2");
    assert_eq!(r.body["name"], "Non-member 2");
    // Lower-case is rejected, not silently upper-cased.
    let list = app
        .get("/customer-types?limit=200", &app.staff)
        .await
        .expect(200);
    assert!(
        !codes(&list.body["items"])
            .iter()
            .any(|c| c.chars().any(|ch| ch.is_lowercase()))
    );
    // Unique.
    app.post(
        "/customer-types",
        &app.staff,
        json!({"code": "NM2", "name": "Again", "is_member": false, "is_organization": false}),
    )
    .await
    .problem(409, "conflict");
    // A name is required.
    let r = app
        .post(
            "/customer-types",
            &app.staff,
            json!({"code": "NM3", "name": "  ", "is_member": false, "is_organization": false}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "name");
    app.get("/customer-types/NM3", &app.staff)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn ct2_flags_decide_benefits_and_record_kind() {
    let app = spawn().await;
    app.doctors().await;
    let m = app
        .get("/customer-types/M", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(
        (m["is_member"].as_bool(), m["is_organization"].as_bool()),
        (Some(true), Some(false))
    );
    let hosp = app
        .get("/customer-types/HOSP", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(
        (
            hosp["is_member"].as_bool(),
            hosp["is_organization"].as_bool()
        ),
        (Some(false), Some(true))
    );
    // Flags are required on create.
    app.post(
        "/customer-types",
        &app.staff,
        json!({"code": "X", "name": "X"}),
    )
    .await
    .problem(422, "validation_failed");
    app.post(
        "/customer-types",
        &app.staff,
        json!({"code": "X", "name": "X", "is_member": "yes", "is_organization": false}),
    )
    .await
    .problem(422, "validation_failed");

    // Filters by flag.
    let members = app
        .get("/customer-types?is_member=true", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(codes(&members["items"]), vec!["M"]);
    let orgs = app
        .get("/customer-types?is_organization=true", &app.staff)
        .await
        .expect(200)
        .body;
    let org_codes = codes(&orgs["items"]);
    assert!(org_codes.contains(&"HOSP".to_owned()));
    assert!(!org_codes.contains(&"NM".to_owned()) && !org_codes.contains(&"M".to_owned()));

    // The contact's is_member/is_organization follow its type.
    let org = app
        .create_contact(json!({"customer_type": "HOSP", "organization_name": "General"}))
        .await;
    assert_eq!(org["is_organization"], true);
    assert_eq!(org["is_member"], false);

    // The record kind of a type in use cannot flip under its contacts.
    app.patch(
        "/customer-types/HOSP",
        &app.staff,
        json!({"is_organization": false}),
    )
    .await
    .problem(409, "conflict");
    let hosp = app
        .get("/customer-types/HOSP", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(hosp["is_organization"], true);

    // Members may read customer types but not change them.
    let id = app.person("NM", "Reader").await;
    let member = app.member_token(id).await;
    app.get("/customer-types", &member).await.expect(200);
    app.get("/customer-types/M", &member).await.expect(200);
    app.post(
        "/customer-types",
        &member,
        json!({"code": "Z", "name": "Z", "is_member": false, "is_organization": false}),
    )
    .await
    .problem(403, "forbidden");
    app.delete("/customer-types/NM", &member)
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn ct3_primary_fee_as_a_list_of_products_names_unknown_products() {
    let app = spawn().await;
    app.doctors().await;
    app.create_product("MDUES2", "dues", "100.00").await;
    let r = app
        .post(
            "/customer-types",
            &app.staff,
            json!({"code": "M2", "name": "Member 2", "is_member": true, "is_organization": false,
                "primary_fee": {"kind": "products", "products": ["MDUES", "NOPE_DUES"]}, "expires_to": "NM"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "primary_fee.products");
    assert!(
        detail(&r).contains("NOPE_DUES"),
        "the unknown product is named: {}",
        r.text
    );
    assert!(
        !detail(&r).contains("MDUES,"),
        "only unknown products are named: {}",
        r.text
    );
    app.get("/customer-types/M2", &app.staff)
        .await
        .problem(404, "not_found");

    let r = app
        .post(
            "/customer-types",
            &app.staff,
            json!({"code": "M2", "name": "Member 2", "is_member": true, "is_organization": false,
                "primary_fee": {"kind": "products", "products": []}, "expires_to": "NM"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "primary_fee.products");

    // A type never stores an amount.
    app.post(
        "/customer-types",
        &app.staff,
        json!({"code": "M2", "name": "Member 2", "is_member": true, "is_organization": false,
            "primary_fee": {"kind": "products", "products": ["MDUES"], "amount": "500.00"}, "expires_to": "NM"}),
    )
    .await
    .problem(422, "validation_failed");
    app.post(
        "/customer-types",
        &app.staff,
        json!({"code": "M2", "name": "Member 2", "is_member": true, "is_organization": false,
            "primary_fee": {"kind": "fixed", "amount": "500.00"}, "expires_to": "NM"}),
    )
    .await
    .problem(422, "validation_failed");

    let created = app
        .create_type(json!({"code": "M2", "name": "Member 2", "is_member": true, "is_organization": false,
            "primary_fee": {"kind": "products", "products": ["MDUES2", "MDUES"]}, "expires_to": "NM"}))
        .await;
    assert_eq!(
        created["primary_fee"],
        json!({"kind": "products", "products": ["MDUES2", "MDUES"]})
    );
    let got = app
        .get("/customer-types/M2", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(
        got["primary_fee"],
        json!({"kind": "products", "products": ["MDUES2", "MDUES"]})
    );
    // No fee at all.
    let nm = app
        .get("/customer-types/NM", &app.staff)
        .await
        .expect(200)
        .body;
    assert!(nm["primary_fee"].is_null());

    // PATCH keeps the rule: an unknown product is named and nothing changes.
    let r = app
        .patch(
            "/customer-types/M2",
            &app.staff,
            json!({"primary_fee": {"kind": "products", "products": ["GHOST"]}}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(detail(&r).contains("GHOST"), "{}", r.text);
    let again = app
        .get("/customer-types/M2", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(again["primary_fee"], got["primary_fee"]);

    // A product named as a primary fee is in use.
    let r = app
        .delete("/products/MDUES2", &app.staff)
        .await
        .problem(409, "conflict");
    assert!(detail(&r).contains('1'), "{}", r.text);
    app.get("/products/MDUES2", &app.staff).await.expect(200);
}

#[tokio::test]
async fn ct3_formula_default_product_must_be_in_the_family_and_not_gst() {
    let app = spawn().await;
    app.doctors().await;
    for (code, price) in [
        ("AM_1", "100.00"),
        ("AM_2", "190.00"),
        ("AM_1_GST", "5.00"),
        ("XM_1", "100.00"),
    ] {
        app.create_product(code, "dues", price).await;
    }
    let post = |fee: Value| {
        let app = &app;
        async move {
            app.post(
                "/customer-types",
                &app.staff,
                json!({"code": "AM", "name": "Associate", "is_member": true, "is_organization": false,
                    "primary_fee": fee, "expires_to": "NM"}),
            )
            .await
        }
    };
    // The tax companion is not a member of the family (P-5).
    let r = post(json!({"kind": "formula", "designator": "AM", "default_product": "AM_1_GST"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "primary_fee.default_product");
    // Another family.
    let r = post(json!({"kind": "formula", "designator": "AM", "default_product": "XM_1"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "primary_fee.default_product");
    assert!(detail(&r).contains("XM_1"), "{}", r.text);
    // In the family by name, but no such product.
    let r = post(json!({"kind": "formula", "designator": "AM", "default_product": "AM_9"}))
        .await
        .problem(422, "validation_failed");
    assert!(detail(&r).contains("AM_9"), "{}", r.text);
    // The designator is a code.
    let r = post(json!({"kind": "formula", "designator": "am", "default_product": null}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "primary_fee.designator");
    post(json!({"kind": "formula"}))
        .await
        .problem(422, "validation_failed");
    app.get("/customer-types/AM", &app.staff)
        .await
        .problem(404, "not_found");

    let r = post(json!({"kind": "formula", "designator": "AM", "default_product": "AM_1"}))
        .await
        .expect(201);
    assert_eq!(
        r.body["primary_fee"],
        json!({"kind": "formula", "designator": "AM", "default_product": "AM_1"})
    );
    let got = app
        .get("/customer-types/AM", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(
        got["primary_fee"],
        json!({"kind": "formula", "designator": "AM", "default_product": "AM_1"})
    );

    // The default product is optional.
    let r = app
        .patch("/customer-types/AM", &app.staff, json!({"primary_fee": {"kind": "formula", "designator": "AM", "default_product": null}}))
        .await
        .expect(200);
    assert_eq!(
        r.body["primary_fee"],
        json!({"kind": "formula", "designator": "AM", "default_product": null})
    );
    let r = app
        .patch("/customer-types/AM", &app.staff, json!({"primary_fee": {"kind": "formula", "designator": "AM", "default_product": "AM_1_GST"}}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "primary_fee.default_product");
    let got = app
        .get("/customer-types/AM", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(got["primary_fee"]["default_product"], Value::Null);
}

#[tokio::test]
async fn ct4_member_type_requires_expires_to_a_non_member_type_of_the_same_kind() {
    let app = spawn().await;
    app.doctors().await;
    app.create_type(json!({"code": "MO", "name": "Member org", "is_member": true, "is_organization": true, "expires_to": "HOSP"}))
        .await;
    app.create_type(json!({"code": "NM2", "name": "Other non-member", "is_member": false, "is_organization": false})).await;
    let member = |expires_to: Value| {
        json!({"code": "M2", "name": "Member 2", "is_member": true, "is_organization": false,
            "primary_fee": {"kind": "products", "products": ["MDUES"]}, "expires_to": expires_to})
    };
    for (expires_to, mentions) in [
        (Value::Null, None),           // required for member types
        (json!("NOPE"), Some("NOPE")), // unknown
        (json!("M"), Some("M")),       // a member type
        (json!("HOSP"), Some("HOSP")), // an organization type for a person type
    ] {
        let r = app
            .post("/customer-types", &app.staff, member(expires_to))
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "expires_to");
        if let Some(code) = mentions {
            assert!(detail(&r).contains(code), "{}", r.text);
        }
    }
    // An organization member type must expire to a non-member organization type.
    let r = app
        .post("/customer-types", &app.staff, json!({"code": "MO2", "name": "x", "is_member": true, "is_organization": true, "expires_to": "NM"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "expires_to");
    // Non-member types do not expire.
    let r = app
        .post("/customer-types", &app.staff, json!({"code": "NM3", "name": "x", "is_member": false, "is_organization": false, "expires_to": "NM"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "expires_to");
    app.get("/customer-types/M2", &app.staff)
        .await
        .problem(404, "not_found");

    let ok = app
        .post("/customer-types", &app.staff, member(json!("NM")))
        .await
        .expect(201);
    assert_eq!(ok.body["expires_to"], "NM");
    // A PATCH cannot drop it either.
    let r = app
        .patch(
            "/customer-types/M2",
            &app.staff,
            json!({"expires_to": null}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "expires_to");
    // Nor turn the target into a member type while it is an expiry target.
    let r = app
        .patch(
            "/customer-types/NM",
            &app.staff,
            json!({"is_member": true, "expires_to": "NM2"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "is_member");
    assert_eq!(
        app.get("/customer-types/M2", &app.staff)
            .await
            .expect(200)
            .body["expires_to"],
        "NM"
    );
    assert_eq!(
        app.get("/customer-types/NM", &app.staff)
            .await
            .expect(200)
            .body["is_member"],
        false
    );
}

#[tokio::test]
async fn ct5_renews_as_must_be_a_member_type_of_the_same_kind() {
    let app = spawn().await;
    app.doctors().await;
    app.create_type(json!({"code": "MO", "name": "Member org", "is_member": true, "is_organization": true, "expires_to": "HOSP"}))
        .await;
    let old = |renews_as: &str| {
        json!({"code": "OLDM", "name": "Phased-out member", "is_member": true, "is_organization": false,
            "primary_fee": {"kind": "products", "products": ["MDUES"]}, "expires_to": "NM", "renews_as": renews_as})
    };
    for target in ["NM", "MO", "NOPE", "OLDM"] {
        let r = app
            .post("/customer-types", &app.staff, old(target))
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "renews_as");
    }
    app.get("/customer-types/OLDM", &app.staff)
        .await
        .problem(404, "not_found");
    let ok = app
        .post("/customer-types", &app.staff, old("M"))
        .await
        .expect(201);
    assert_eq!(ok.body["renews_as"], "M");
    // Optional: a type may clear it.
    let r = app
        .patch(
            "/customer-types/OLDM",
            &app.staff,
            json!({"renews_as": null}),
        )
        .await
        .expect(200);
    assert!(r.body["renews_as"].is_null());
    let r = app
        .patch(
            "/customer-types/OLDM",
            &app.staff,
            json!({"renews_as": "HOSP"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "renews_as");
    assert!(
        app.get("/customer-types/OLDM", &app.staff)
            .await
            .expect(200)
            .body["renews_as"]
            .is_null()
    );
}

#[tokio::test]
async fn ct6_flow_down_type_only_on_organization_types_and_names_a_person_type() {
    let app = spawn().await;
    app.colleges().await;
    // On a person type: rejected.
    let r = app
        .post("/customer-types", &app.staff, json!({"code": "P2", "name": "x", "is_member": false, "is_organization": false, "flow_down_type": "NMIND"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "flow_down_type");
    // Naming an organization type: rejected.
    let r = app
        .post("/customer-types", &app.staff, json!({"code": "NM2", "name": "x", "is_member": false, "is_organization": true, "flow_down_type": "NM"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "flow_down_type");
    // Naming an unknown type: rejected.
    let r = app
        .post("/customer-types", &app.staff, json!({"code": "NM2", "name": "x", "is_member": false, "is_organization": true, "flow_down_type": "GHOST"}))
        .await
        .problem(422, "validation_failed");
    assert!(detail(&r).contains("GHOST"), "{}", r.text);
    app.get("/customer-types/NM2", &app.staff)
        .await
        .problem(404, "not_found");
    // Optional on organization types; when given, a person type.
    let r = app
        .post(
            "/customer-types",
            &app.staff,
            json!({"code": "NM2", "name": "x", "is_member": false, "is_organization": true}),
        )
        .await
        .expect(201);
    assert!(r.body["flow_down_type"].is_null());
    let r = app
        .patch(
            "/customer-types/NM2",
            &app.staff,
            json!({"flow_down_type": "MIND"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["flow_down_type"], "MIND");
    let m = app
        .get("/customer-types/M", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(m["flow_down_type"], "MIND");
    // The target cannot become an organization type while it is a flow-down target.
    app.patch(
        "/customer-types/MIND",
        &app.staff,
        json!({"is_organization": true, "expires_to": "NM"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(
        app.get("/customer-types/MIND", &app.staff)
            .await
            .expect(200)
            .body["is_organization"],
        false
    );
}

#[tokio::test]
async fn ct7_type_in_use_cannot_be_deleted() {
    let app = spawn().await;
    app.doctors().await;
    app.create_type(
        json!({"code": "RET", "name": "Retired", "is_member": false, "is_organization": false}),
    )
    .await;
    for name in ["One", "Two", "Three"] {
        app.person("RET", name).await;
    }
    let r = app
        .delete("/customer-types/RET", &app.staff)
        .await
        .problem(409, "conflict");
    assert!(
        detail(&r).contains('3'),
        "the error gives the count: {}",
        r.text
    );
    app.get("/customer-types/RET", &app.staff).await.expect(200);

    // A type another type expires to is in use too.
    app.delete("/customer-types/NM", &app.staff)
        .await
        .problem(409, "conflict");
    app.get("/customer-types/NM", &app.staff).await.expect(200);
    // So is a default type of the settings.
    app.delete("/customer-types/HOSP", &app.staff)
        .await
        .problem(409, "conflict");
    app.get("/customer-types/HOSP", &app.staff)
        .await
        .expect(200);

    // Unused: deleted, then gone.
    app.create_type(
        json!({"code": "TMP", "name": "Temporary", "is_member": false, "is_organization": false}),
    )
    .await;
    let r = app
        .delete("/customer-types/TMP", &app.staff)
        .await
        .expect(204);
    assert!(r.text.is_empty());
    app.get("/customer-types/TMP", &app.staff)
        .await
        .problem(404, "not_found");
    app.delete("/customer-types/TMP", &app.staff)
        .await
        .problem(404, "not_found");
    let list = app
        .get("/customer-types?limit=200", &app.staff)
        .await
        .expect(200)
        .body;
    assert!(!codes(&list["items"]).contains(&"TMP".to_owned()));
}

#[tokio::test]
async fn ct7_delete_and_patch_honour_if_match() {
    let app = spawn().await;
    let r = app
        .post("/customer-types", &app.staff, json!({"code": "TMP", "name": "Temporary", "is_member": false, "is_organization": false}))
        .await
        .expect(201);
    let e1 = etag(&r);
    let r = app
        .send(
            Method::PATCH,
            "/customer-types/TMP",
            Some(&app.staff),
            Some(json!({"name": "Renamed"})),
            &[("If-Match", &e1)],
        )
        .await
        .expect(200);
    assert_eq!(r.body["name"], "Renamed");
    app.send(
        Method::PATCH,
        "/customer-types/TMP",
        Some(&app.staff),
        Some(json!({"name": "Stale"})),
        &[("If-Match", &e1)],
    )
    .await
    .problem(412, "precondition_failed");
    app.send(
        Method::DELETE,
        "/customer-types/TMP",
        Some(&app.staff),
        None,
        &[("If-Match", &e1)],
    )
    .await
    .problem(412, "precondition_failed");
    let now = app.get("/customer-types/TMP", &app.staff).await.expect(200);
    assert_eq!(now.body["name"], "Renamed");
    let e2 = etag(&now);
    app.send(
        Method::DELETE,
        "/customer-types/TMP",
        Some(&app.staff),
        None,
        &[("If-Match", &e2)],
    )
    .await
    .expect(204);
    app.get("/customer-types/TMP", &app.staff)
        .await
        .problem(404, "not_found");
}

// ---------------------------------------------------------------- BC-1, BC-2 billing categories

#[tokio::test]
async fn bc1_billing_category_crud() {
    let app = spawn().await;
    let r = app
        .post(
            "/billing-categories",
            &app.staff,
            json!({"code": "REG", "name": "Regular"}),
        )
        .await
        .expect(201);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/v1/billing-categories/REG")
    );
    assert_eq!(r.body["code"], "REG");
    assert_eq!(r.body["name"], "Regular");
    let e1 = etag(&r);
    app.post(
        "/billing-categories",
        &app.staff,
        json!({"code": "FYEAR", "name": "First year"}),
    )
    .await
    .expect(201);

    for bad in ["reg", "", "R EG", "R/EG"] {
        let r = app
            .post(
                "/billing-categories",
                &app.staff,
                json!({"code": bad, "name": "x"}),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "code");
    }
    app.post(
        "/billing-categories",
        &app.staff,
        json!({"code": "REG", "name": "Again"}),
    )
    .await
    .problem(409, "conflict");
    let r = app
        .post(
            "/billing-categories",
            &app.staff,
            json!({"code": "INTL", "name": ""}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "name");
    app.post("/billing-categories", &app.staff, json!({"code": "INTL"}))
        .await
        .problem(422, "validation_failed");

    let got = app
        .get("/billing-categories/REG", &app.staff)
        .await
        .expect(200);
    assert_eq!(etag(&got), e1);
    let list = app
        .get("/billing-categories", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(codes(&list["items"]), vec!["FYEAR", "REG"]);
    assert!(list["next_cursor"].is_null());

    let r = app
        .patch(
            "/billing-categories/REG",
            &app.staff,
            json!({"name": "Regular member"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["name"], "Regular member");
    assert_ne!(etag(&r), e1);
    app.send(
        Method::PATCH,
        "/billing-categories/REG",
        Some(&app.staff),
        Some(json!({"name": "Stale"})),
        &[("If-Match", &e1)],
    )
    .await
    .problem(412, "precondition_failed");
    // The code is the key: it cannot be changed by PATCH.
    app.patch(
        "/billing-categories/REG",
        &app.staff,
        json!({"code": "REG2", "name": "x"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(
        app.get("/billing-categories/REG", &app.staff)
            .await
            .expect(200)
            .body["name"],
        "Regular member"
    );

    app.delete("/billing-categories/FYEAR", &app.staff)
        .await
        .expect(204);
    app.get("/billing-categories/FYEAR", &app.staff)
        .await
        .problem(404, "not_found");
    app.patch(
        "/billing-categories/FYEAR",
        &app.staff,
        json!({"name": "x"}),
    )
    .await
    .problem(404, "not_found");

    // Members may read categories, not change them.
    let t = app.create_type(json!({"code": "NM", "name": "Non-member", "is_member": false, "is_organization": false})).await;
    assert_eq!(t["code"], "NM");
    let id = app.person("NM", "Reader").await;
    let member = app.member_token(id).await;
    app.get("/billing-categories", &member).await.expect(200);
    app.get("/billing-categories/REG", &member)
        .await
        .expect(200);
    app.post(
        "/billing-categories",
        &member,
        json!({"code": "ELEC", "name": "Electronic"}),
    )
    .await
    .problem(403, "forbidden");
    app.delete("/billing-categories/REG", &member)
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn bc2_billing_category_in_use_cannot_be_deleted() {
    let app = spawn().await;
    app.doctors().await;
    for name in ["A", "B"] {
        app.create_contact(json!({"customer_type": "M", "billing_category": "FYEAR", "first_name": "F", "last_name": name}))
            .await;
    }
    let r = app
        .delete("/billing-categories/FYEAR", &app.staff)
        .await
        .problem(409, "conflict");
    assert!(
        detail(&r).contains('2'),
        "the error gives the count: {}",
        r.text
    );
    app.get("/billing-categories/FYEAR", &app.staff)
        .await
        .expect(200);
    // Categories separate prices within one type: the same type with several categories.
    app.create_contact(json!({"customer_type": "M", "billing_category": "INTL", "first_name": "F", "last_name": "C"}))
        .await;
    let m_intl = app
        .get(
            "/contacts?customer_type=M&billing_category=INTL",
            &app.staff,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(m_intl["items"].as_array().map(Vec::len), Some(1));
    // Unused: deletable.
    app.delete("/billing-categories/REG", &app.staff)
        .await
        .expect(204);
}

// ---------------------------------------------------------------- CS-1, CS-2 contact statuses

#[tokio::test]
async fn cs1_status_code_must_begin_with_a_i_s_or_d() {
    let app = spawn().await;
    for bad in ["X1", "X", "B", "ax", "", "XA"] {
        let r = app
            .post(
                "/contact-statuses",
                &app.staff,
                json!({"code": bad, "name": "Bad"}),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "code");
    }
    app.get("/contact-statuses/X1", &app.staff)
        .await
        .problem(404, "not_found");
    for ok in ["AX", "ACT", "IX", "SUSP", "DEL"] {
        let r = app
            .post(
                "/contact-statuses",
                &app.staff,
                json!({"code": ok, "name": ok}),
            )
            .await
            .expect(201);
        assert_eq!(
            r.header("location"),
            Some(format!("/api/v1/contact-statuses/{ok}"))
        );
        assert_eq!(r.body["code"], ok);
    }
    app.post(
        "/contact-statuses",
        &app.staff,
        json!({"code": "AX", "name": "dup"}),
    )
    .await
    .problem(409, "conflict");
    // A custom status can be given to a contact, and then it is in use.
    app.create_type(
        json!({"code": "NM", "name": "Non-member", "is_member": false, "is_organization": false}),
    )
    .await;
    let c = app
        .create_contact(json!({"customer_type": "NM", "last_name": "Ax", "status": "AX"}))
        .await;
    assert_eq!(c["status"], "AX");
    app.delete("/contact-statuses/AX", &app.staff)
        .await
        .problem(409, "conflict");
    app.delete("/contact-statuses/ACT", &app.staff)
        .await
        .expect(204);
    app.get("/contact-statuses/ACT", &app.staff)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn cs2_seeded_statuses_are_listed() {
    let app = spawn().await;
    let list = app
        .get("/contact-statuses", &app.staff)
        .await
        .expect(200)
        .body;
    let items = list["items"].as_array().expect("items");
    let names: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap().to_owned(),
                i["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (code, name) in [
        ("A", "Active"),
        ("I", "Inactive"),
        ("S", "Suspended"),
        ("D", "Marked for deletion"),
    ] {
        assert!(
            names.contains(&(code.to_owned(), name.to_owned())),
            "{code} {name} seeded: {names:?}"
        );
    }
    for code in ["A", "I", "S", "D"] {
        app.get(&format!("/contact-statuses/{code}"), &app.staff)
            .await
            .expect(200);
    }
    // `A` is the default status and is built in.
    app.delete("/contact-statuses/A", &app.staff)
        .await
        .problem(409, "conflict");
    app.get("/contact-statuses/A", &app.staff).await.expect(200);
}

// ---------------------------------------------------------------- P-1, P-2 products

#[tokio::test]
async fn p1_product_code_with_slash_round_trips_percent_encoded() {
    let app = spawn().await;
    let r = app
        .post("/products", &app.staff, json!({"code": "CHAPT/EAST", "name": "East chapter", "product_type": "chapter", "price": "25.00"}))
        .await
        .expect(201);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/v1/products/CHAPT%2FEAST")
    );
    assert_eq!(r.body["code"], "CHAPT/EAST");
    assert_eq!(r.body["price"], "25.00");
    assert_eq!(r.body["term_months"], 12, "default term span");
    assert_eq!(r.body["active"], true, "active by default");
    let e1 = etag(&r);

    let got = app
        .get("/products/CHAPT%2FEAST", &app.staff)
        .await
        .expect(200);
    assert_eq!(got.body["code"], "CHAPT/EAST");
    assert_eq!(got.body["name"], "East chapter");
    assert_eq!(etag(&got), e1);
    // The Location header is directly usable.
    let loc = r.header("location").unwrap();
    assert_eq!(
        app.get(&loc, &app.staff).await.expect(200).body["code"],
        "CHAPT/EAST"
    );
    // Codes are case-sensitive; lower-case hex in the escape works.
    app.get("/products/CHAPT%2feast", &app.staff)
        .await
        .problem(404, "not_found");
    app.get("/products/CHAPT%2fEAST", &app.staff)
        .await
        .expect(200);

    let p = app
        .patch(
            "/products/CHAPT%2FEAST",
            &app.staff,
            json!({"price": "30.50", "term_months": 24, "active": false}),
        )
        .await
        .expect(200);
    assert_eq!(p.body["price"], "30.50");
    assert_eq!(p.body["term_months"], 24);
    assert_eq!(p.body["active"], false);
    assert_eq!(
        app.get("/products/CHAPT%2FEAST", &app.staff)
            .await
            .expect(200)
            .body["price"],
        "30.50"
    );

    // `_` in codes.
    let r = app
        .post("/products", &app.staff, json!({"code": "AM_2_GST", "name": "Tax", "product_type": "dues", "price": "9.50", "term_months": 24}))
        .await
        .expect(201);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/v1/products/AM_2_GST")
    );
    assert_eq!(r.body["term_months"], 24);
    app.get("/products/AM_2_GST", &app.staff).await.expect(200);

    for bad in ["chapt/east", "CHAPT/", "/EAST", "A//B", "A B"] {
        let r = app
            .post(
                "/products",
                &app.staff,
                json!({"code": bad, "name": "x", "product_type": "miscellaneous", "price": "1.00"}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 422, "{bad}: {}", r.text);
    }
    app.post(
        "/products",
        &app.staff,
        json!({"code": "CHAPT/EAST", "name": "Dup", "product_type": "chapter", "price": "1.00"}),
    )
    .await
    .problem(409, "conflict");

    app.delete("/products/CHAPT%2FEAST", &app.staff)
        .await
        .expect(204);
    app.get("/products/CHAPT%2FEAST", &app.staff)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn p1_money_is_a_two_place_string_and_number_input_is_accepted() {
    let app = spawn().await;
    let mk = |code: &str, price: Value| json!({"code": code, "name": code, "product_type": "miscellaneous", "price": price});
    for (code, price, expected) in [
        ("P1", json!("25.00"), "25.00"),
        ("P2", json!(25), "25.00"),
        ("P3", json!(12.5), "12.50"),
        ("P4", json!("7"), "7.00"),
        ("P5", json!(0.1), "0.10"),
        ("P7", json!(0), "0.00"),
    ] {
        let r = app
            .post("/products", &app.staff, mk(code, price.clone()))
            .await
            .expect(201);
        assert_eq!(r.body["price"], expected, "{price} -> {expected}");
        assert!(r.body["price"].is_string());
        assert_eq!(
            app.get(&format!("/products/{code}"), &app.staff)
                .await
                .expect(200)
                .body["price"],
            expected
        );
    }
    for (i, price) in [
        json!("10.005"),
        json!(10.005),
        json!("1.234"),
        json!("abc"),
        json!(true),
        json!(null),
        json!("-1.00"),
    ]
    .into_iter()
    .enumerate()
    {
        let code = format!("BAD{i}");
        let r = app
            .post("/products", &app.staff, mk(&code, price.clone()))
            .await;
        assert_eq!(r.status.as_u16(), 422, "price {price}: {}", r.text);
        assert_eq!(
            r.body["code"], "validation_failed",
            "price {price}: {}",
            r.text
        );
        app.get(&format!("/products/{code}"), &app.staff)
            .await
            .problem(404, "not_found");
    }
    let r = app
        .patch("/products/P1", &app.staff, json!({"price": "3.999"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "price");
    assert_eq!(
        app.get("/products/P1", &app.staff).await.expect(200).body["price"],
        "25.00"
    );
}

#[tokio::test]
async fn p2_product_type_enum_and_chapter_codes() {
    let app = spawn().await;
    for (code, t) in [
        ("DUES", "dues"),
        ("CHAPT/WEST", "chapter"),
        ("MISC", "miscellaneous"),
        ("SEC/PEDS", "section"),
        ("JOURNAL", "subscription"),
        ("GIFT", "voluntary"),
    ] {
        let r = app
            .post(
                "/products",
                &app.staff,
                json!({"code": code, "name": code, "product_type": t, "price": "1.00"}),
            )
            .await
            .expect(201);
        assert_eq!(r.body["product_type"], t);
    }
    let r = app
        .post(
            "/products",
            &app.staff,
            json!({"code": "X", "name": "X", "product_type": "donation", "price": "1.00"}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(r.text.contains("product_type"), "{}", r.text);
    app.post(
        "/products",
        &app.staff,
        json!({"code": "X", "name": "X", "price": "1.00"}),
    )
    .await
    .problem(422, "validation_failed");
    // Chapter products are coded CHAPT/<chapter>, and CHAPT/ codes are chapter products.
    let r = app
        .post(
            "/products",
            &app.staff,
            json!({"code": "EAST", "name": "East", "product_type": "chapter", "price": "1.00"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "code");
    let r = app
        .post("/products", &app.staff, json!({"code": "CHAPT/NORTH", "name": "North", "product_type": "dues", "price": "1.00"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "product_type");
    app.get("/products/EAST", &app.staff)
        .await
        .problem(404, "not_found");
    app.get("/products/CHAPT%2FNORTH", &app.staff)
        .await
        .problem(404, "not_found");
    // A PATCH keeps the rule.
    app.patch(
        "/products/DUES",
        &app.staff,
        json!({"product_type": "chapter"}),
    )
    .await
    .problem(422, "validation_failed");
    app.patch(
        "/products/DUES",
        &app.staff,
        json!({"product_type": "unknown"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(
        app.get("/products/DUES", &app.staff).await.expect(200).body["product_type"],
        "dues"
    );

    // Filter by type; an unknown type in the query is a 400.
    let chapters = app
        .get("/products?product_type=chapter", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(codes(&chapters["items"]), vec!["CHAPT/WEST"]);
    app.get("/products?product_type=donation", &app.staff)
        .await
        .problem(400, "invalid_parameter");

    // Members may read products, not change them.
    app.create_type(
        json!({"code": "NM", "name": "Non-member", "is_member": false, "is_organization": false}),
    )
    .await;
    let id = app.person("NM", "Reader").await;
    let member = app.member_token(id).await;
    app.get("/products", &member).await.expect(200);
    app.get("/products/CHAPT%2FWEST", &member).await.expect(200);
    app.post(
        "/products",
        &member,
        json!({"code": "Y", "name": "Y", "product_type": "dues", "price": "1.00"}),
    )
    .await
    .problem(403, "forbidden");
    app.patch("/products/DUES", &member, json!({"price": "0.00"}))
        .await
        .problem(403, "forbidden");
}

// ---------------------------------------------------------------- lists (API.md General)

#[tokio::test]
async fn list_pagination_with_limit_and_next_cursor() {
    // API.md General (lists) over the P-1 products, BC-1 categories, CS-2 statuses and CT-1
    // customer types: `limit` pages, `next_cursor` chains them, nothing lost or repeated.
    let app = spawn().await;
    let mut expected = Vec::new();
    for code in [
        "CHAPT/EAST",
        "CHAPT/WEST",
        "AM_1",
        "AM_1_GST",
        "AM_2",
        "DUES",
        "GIFT",
    ] {
        let t = if code.starts_with("CHAPT/") {
            "chapter"
        } else {
            "dues"
        };
        app.create_product(code, t, "1.00").await;
        expected.push(code.to_owned());
    }
    for limit in [1, 2, 3, 7, 200] {
        let got = walk(&app, "/products", limit).await;
        let mut sorted = got.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            got.len(),
            expected.len(),
            "every product exactly once with limit {limit}: {got:?}"
        );
        assert_eq!(sorted.len(), got.len(), "no duplicates with limit {limit}");
        let mut want = expected.clone();
        want.sort();
        assert_eq!(sorted, want);
    }
    // A filter and the cursor combine.
    assert_eq!(
        walk(&app, "/products?product_type=chapter", 1).await,
        vec!["CHAPT/EAST", "CHAPT/WEST"]
    );

    // The other lookup lists page the same way.
    for c in ["C1", "C2", "C3", "C4", "C5"] {
        app.create_category(c).await;
    }
    assert_eq!(
        walk(&app, "/billing-categories", 2).await,
        vec!["C1", "C2", "C3", "C4", "C5"]
    );
    let statuses = walk(&app, "/contact-statuses", 3).await;
    for s in ["A", "D", "I", "S"] {
        assert!(statuses.contains(&s.to_owned()));
    }
    let types = walk(&app, "/customer-types", 1).await;
    let all_types = app
        .get("/customer-types?limit=200", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(types, codes(&all_types["items"]));
    assert!(!types.is_empty());

    // The default page size is 50: 55 categories need two pages.
    for i in 0..50 {
        app.create_category(&format!("K{i:02}")).await;
    }
    let first = app
        .get("/billing-categories", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(50));
    assert!(first["next_cursor"].is_string());
}

#[tokio::test]
async fn list_limit_out_of_range_and_bad_cursor_are_400() {
    // API.md General (lists): limit 1..=200, else 400 invalid_parameter; a cursor the server
    // did not issue is 400 too (P-1, CT-1, BC-1, CS-2 and C-1 lists).
    let app = spawn().await;
    for path in [
        "/products",
        "/customer-types",
        "/billing-categories",
        "/contact-statuses",
        "/contacts",
    ] {
        for q in [
            "limit=0",
            "limit=201",
            "limit=-1",
            "limit=abc",
            "cursor=!!not-a-cursor!!",
            "cursor=bm9wZQ",
        ] {
            let r = app
                .get(&format!("{path}?{q}"), &app.staff)
                .await
                .problem(400, "invalid_parameter");
            assert!(!detail(&r).is_empty());
        }
        app.get(&format!("{path}?limit=1"), &app.staff)
            .await
            .expect(200);
        app.get(&format!("{path}?limit=200"), &app.staff)
            .await
            .expect(200);
    }
}
