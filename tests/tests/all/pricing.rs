//! Pricing over HTTP: pricing rules (P-3, P-4), pricing groups, the price of a product for a
//! contact with its tax companion (P-5), and the in-use checks that pricing adds to deletes.

use chrono::NaiveDate;
use reqwest::Method;
use serde_json::{Value, json};
use service::pricing::{Conditions, NewRule};
use tests::{TestApp, detail, error_fields, etag, id, spawn};

async fn rule(app: &TestApp, body: Value) -> Value {
    app.post("/pricing-rules", &app.staff, body)
        .await
        .expect(201)
        .body
}

async fn price(app: &TestApp, code: &str, query: &str) -> Value {
    app.get(&format!("/products/{code}/price?{query}"), &app.staff)
        .await
        .expect(200)
        .body
}

async fn contact(app: &TestApp, body: Value) -> i64 {
    id(&app.create_contact(body).await)
}

/// E-1's category prices as rules on the dues product (REG 500, FYEAR 100, INTL 200).
async fn e1_rules(app: &TestApp) -> Vec<i64> {
    let mut ids = Vec::new();
    for (cat, amount) in [("REG", "500.00"), ("FYEAR", "100.00"), ("INTL", "200.00")] {
        let r = rule(
            app,
            json!({"product": "MDUES", "price": amount, "customer_type": "M", "billing_category": cat}),
        )
        .await;
        ids.push(id(&r));
    }
    ids
}

// ---------------------------------------------------------------- CRUD

#[tokio::test]
async fn p3_pricing_rule_crud_round_trips() {
    let app = spawn().await;
    app.doctors().await;
    let r = app
        .post(
            "/pricing-rules",
            &app.staff,
            json!({"product": "MDUES", "price": "100.00", "customer_type": "M", "billing_category": "FYEAR"}),
        )
        .await
        .expect(201);
    let rid = id(&r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("/api/v1/pricing-rules/{rid}").as_str())
    );
    let e1 = etag(&r);
    let b = &r.body;
    assert_eq!(b["product"], "MDUES");
    assert_eq!(b["price"], "100.00");
    assert_eq!(b["customer_type"], "M");
    assert_eq!(b["billing_category"], "FYEAR");
    for absent in [
        "company_member",
        "pricing_group",
        "with_product",
        "valid_from",
        "valid_to",
    ] {
        assert!(b[absent].is_null(), "{absent} is null: {b}");
    }
    assert_eq!(b["priority"], 0, "priority defaults to 0");
    assert_eq!(b["specificity"], 2);
    assert!(b["created_at"].is_string() && b["updated_at"].is_string());

    let loc = r.header("location").unwrap();
    let got = app.get(&loc, &app.staff).await.expect(200);
    assert_eq!(got.body, r.body);
    assert_eq!(etag(&got), e1);

    // PATCH: null clears a condition; the specificity follows; dates and priority are set.
    let p = app
        .send(
            Method::PATCH,
            &format!("/pricing-rules/{rid}"),
            Some(&app.staff),
            Some(json!({"billing_category": null, "price": 120, "valid_from": "2026-01-01", "valid_to": "2026-12-31", "priority": 3})),
            &[("If-Match", &e1)],
        )
        .await
        .expect(200);
    assert!(p.body["billing_category"].is_null());
    assert_eq!(p.body["customer_type"], "M", "absent fields stay");
    assert_eq!(p.body["price"], "120.00");
    assert_eq!(p.body["valid_from"], "2026-01-01");
    assert_eq!(p.body["valid_to"], "2026-12-31");
    assert_eq!(p.body["priority"], 3);
    assert_eq!(p.body["specificity"], 2, "type + a date bound");
    assert_ne!(etag(&p), e1);

    // List with filters; cursor pagination by id.
    let second = rule(
        &app,
        json!({"product": "MDUES", "price": "500.00", "customer_type": "M", "billing_category": "REG"}),
    )
    .await;
    app.create_product("JOURNAL", "subscription", "40.00").await;
    let third = rule(
        &app,
        json!({"product": "JOURNAL", "price": "30.00", "billing_category": "REG"}),
    )
    .await;
    let ids = |v: &Value| -> Vec<i64> { v["items"].as_array().unwrap().iter().map(id).collect() };
    let all = app.get("/pricing-rules", &app.staff).await.expect(200).body;
    assert_eq!(ids(&all), vec![rid, id(&second), id(&third)]);
    assert!(all["next_cursor"].is_null());
    let page1 = app
        .get("/pricing-rules?limit=2", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&page1), vec![rid, id(&second)]);
    let cursor = page1["next_cursor"].as_str().expect("more pages");
    let page2 = app
        .get(
            &format!("/pricing-rules?limit=2&cursor={cursor}"),
            &app.staff,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&page2), vec![id(&third)]);
    assert!(page2["next_cursor"].is_null());
    for (query, expected) in [
        ("product=JOURNAL", vec![id(&third)]),
        ("product=MDUES", vec![rid, id(&second)]),
        ("customer_type=M", vec![rid, id(&second)]),
        ("billing_category=REG", vec![id(&second), id(&third)]),
        ("pricing_group=NOPE", vec![]),
        ("product=MDUES&billing_category=REG", vec![id(&second)]),
    ] {
        let r = app
            .get(&format!("/pricing-rules?{query}"), &app.staff)
            .await
            .expect(200);
        assert_eq!(ids(&r.body), expected, "{query}");
    }
    app.get("/pricing-rules?limit=0", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/pricing-rules?cursor=garbage!", &app.staff)
        .await
        .problem(400, "invalid_parameter");

    // Delete; then it is gone.
    app.delete(&format!("/pricing-rules/{rid}"), &app.staff)
        .await
        .expect(204);
    app.get(&format!("/pricing-rules/{rid}"), &app.staff)
        .await
        .problem(404, "not_found");
    app.delete(&format!("/pricing-rules/{rid}"), &app.staff)
        .await
        .problem(404, "not_found");
    app.patch(
        &format!("/pricing-rules/{rid}"),
        &app.staff,
        json!({"price": "1.00"}),
    )
    .await
    .problem(404, "not_found");
    app.get("/pricing-rules/abc", &app.staff)
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn p3_every_validation_error_is_reported_at_once() {
    let app = spawn().await;
    app.doctors().await;
    let r = app
        .post(
            "/pricing-rules",
            &app.staff,
            json!({"product": "NOPE", "price": "-1.00", "customer_type": "XX", "billing_category": "YY",
                "pricing_group": "ZZ", "with_product": "WW", "valid_from": "2026-02-01", "valid_to": "2026-01-31"}),
        )
        .await
        .problem(422, "validation_failed");
    let mut fields = error_fields(&r);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "billing_category",
            "customer_type",
            "price",
            "pricing_group",
            "product",
            "valid_to",
            "with_product"
        ],
        "{}",
        r.text
    );
    let text = detail(&r);
    for code in ["NOPE", "XX", "YY", "ZZ", "WW"] {
        assert!(text.contains(code), "the message names {code}: {text}");
    }

    // A rule cannot be bundled with its own product.
    let r = app
        .post(
            "/pricing-rules",
            &app.staff,
            json!({"product": "MDUES", "price": "1.00", "with_product": "MDUES"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(error_fields(&r), vec!["with_product"]);

    // Shapes: missing price, 3 decimal places, bad date, unknown field, wrong type.
    for body in [
        json!({"product": "MDUES"}),
        json!({"product": "MDUES", "price": "1.005"}),
        json!({"product": "MDUES", "price": "1.00", "valid_from": "2026-02-30"}),
        json!({"product": "MDUES", "price": "1.00", "surprise": true}),
        json!({"product": "MDUES", "price": "1.00", "company_member": "yes"}),
        json!({"product": "MDUES", "price": "1.00", "priority": "high"}),
    ] {
        app.post("/pricing-rules", &app.staff, body.clone())
            .await
            .problem(422, "validation_failed");
    }

    // PATCH is validated as a whole, and product, price and priority cannot be null.
    let ok = rule(
        &app,
        json!({"product": "MDUES", "price": "1.00", "customer_type": "M"}),
    )
    .await;
    let path = format!("/pricing-rules/{}", id(&ok));
    let r = app
        .patch(
            &path,
            &app.staff,
            json!({"product": null, "price": null, "priority": null}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(error_fields(&r), vec!["product", "price", "priority"]);
    let r = app
        .patch(
            &path,
            &app.staff,
            json!({"customer_type": "XX", "valid_from": "2027-01-01", "valid_to": "2026-01-01"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(error_fields(&r), vec!["customer_type", "valid_to"]);
    app.patch(&path, &app.staff, json!({"valid_to": "2026-01-01"}))
        .await
        .expect(200);
    let r = app
        .patch(&path, &app.staff, json!({"valid_from": "2026-01-02"}))
        .await
        .problem(422, "validation_failed")
        .body;
    assert!(r.to_string().contains("valid_to"));
    // Nothing of the rejected patches was saved.
    let now = app.get(&path, &app.staff).await.expect(200).body;
    assert_eq!(now["customer_type"], "M");
    assert_eq!(now["valid_to"], "2026-01-01");
    assert!(now["valid_from"].is_null());
}

// ---------------------------------------------------------------- ties (P-3)

#[tokio::test]
async fn p3_ambiguous_tie_is_rejected_and_a_different_priority_is_accepted() {
    let app = spawn().await;
    app.doctors().await;
    let by_type = rule(
        &app,
        json!({"product": "MDUES", "price": "450.00", "customer_type": "M"}),
    )
    .await;
    // Same specificity (1), same priority (0), and an M+REG buyer matches both.
    let r = app
        .post(
            "/pricing-rules",
            &app.staff,
            json!({"product": "MDUES", "price": "480.00", "billing_category": "REG"}),
        )
        .await
        .problem(409, "conflict");
    let text = detail(&r);
    assert!(
        text.contains(&format!("pricing rule {}", id(&by_type))),
        "{text}"
    );
    assert!(text.contains("priority"), "suggests a priority: {text}");
    // A different priority breaks the tie.
    let by_cat = rule(
        &app,
        json!({"product": "MDUES", "price": "480.00", "billing_category": "REG", "priority": 1}),
    )
    .await;
    // A rule that can never match the same line (another customer type) is no tie.
    rule(
        &app,
        json!({"product": "MDUES", "price": "10.00", "customer_type": "NM"}),
    )
    .await;
    // Nor is a rule with a date range that overlaps nothing of equal specificity.
    rule(
        &app,
        json!({"product": "MDUES", "price": "470.00", "customer_type": "M", "valid_from": "2027-01-01"}),
    )
    .await;
    app.post(
        "/pricing-rules",
        &app.staff,
        json!({"product": "MDUES", "price": "475.00", "customer_type": "M", "valid_to": "2027-01-01"}),
    )
    .await
    .problem(409, "conflict");
    rule(
        &app,
        json!({"product": "MDUES", "price": "475.00", "customer_type": "M", "valid_to": "2026-12-31"}),
    )
    .await;
    // Patching a rule into a tie is rejected too, naming the other rule.
    let r = app
        .patch(
            &format!("/pricing-rules/{}", id(&by_cat)),
            &app.staff,
            json!({"priority": 0}),
        )
        .await
        .problem(409, "conflict");
    assert!(detail(&r).contains(&format!("pricing rule {}", id(&by_type))));
    // Different pricing groups can both match (a contact may be in both): a tie.
    for g in ["G1", "G2"] {
        app.post("/pricing-groups", &app.staff, json!({"code": g, "name": g}))
            .await
            .expect(201);
    }
    let g1 = rule(
        &app,
        json!({"product": "MDUES", "price": "300.00", "pricing_group": "G1", "priority": 5}),
    )
    .await;
    let r = app
        .post(
            "/pricing-rules",
            &app.staff,
            json!({"product": "MDUES", "price": "300.00", "pricing_group": "G2", "priority": 5}),
        )
        .await
        .problem(409, "conflict");
    assert!(detail(&r).contains(&format!("pricing rule {}", id(&g1))));
    rule(
        &app,
        json!({"product": "MDUES", "price": "300.00", "pricing_group": "G2", "priority": 4}),
    )
    .await;
}

// ---------------------------------------------------------------- the price endpoint

#[tokio::test]
async fn p3_e1_category_prices_through_the_price_endpoint() {
    let app = spawn().await;
    app.doctors().await;
    app.patch("/products/MDUES", &app.staff, json!({"price": "650.00"}))
        .await
        .expect(200);
    let rules = e1_rules(&app).await;
    let reg = contact(
        &app,
        json!({"customer_type": "M", "billing_category": "REG", "first_name": "Ana", "last_name": "Silva"}),
    )
    .await;
    let fyear = contact(
        &app,
        json!({"customer_type": "M", "billing_category": "FYEAR", "first_name": "Ben", "last_name": "Okafor"}),
    )
    .await;
    let intl = contact(
        &app,
        json!({"customer_type": "M", "billing_category": "INTL", "first_name": "Chen", "last_name": "Wei"}),
    )
    .await;
    let nm = app.person("NM", "Kowalski").await;
    for (who, expected, rule_id) in [
        (reg, "500.00", Some(rules[0])),
        (fyear, "100.00", Some(rules[1])),
        (intl, "200.00", Some(rules[2])),
        (nm, "650.00", None),
    ] {
        let p = price(&app, "MDUES", &format!("contact_id={who}&as_of=2026-06-15")).await;
        assert_eq!(p["product"], "MDUES");
        assert_eq!(p["price"], expected, "contact {who}: {p}");
        assert_eq!(p["as_of"], "2026-06-15");
        assert_eq!(p["rule"]["id"].as_i64(), rule_id, "{p}");
        assert!(p["tax_companion"].is_null());
        if rule_id.is_some() {
            // The full rule object.
            assert_eq!(p["rule"]["customer_type"], "M");
            assert_eq!(p["rule"]["specificity"], 2);
            assert_eq!(p["rule"]["price"], expected);
        } else {
            assert!(p["rule"].is_null());
        }
    }
    // No contact: the default price. No as_of: today (UTC).
    let p = price(&app, "MDUES", "").await;
    assert_eq!(p["price"], "650.00");
    let today = tests::today();
    assert_eq!(p["as_of"], today.as_str());
    // P-3: more conditions beat fewer; priority never beats specificity.
    rule(
        &app,
        json!({"product": "MDUES", "price": "550.00", "customer_type": "M", "priority": 99}),
    )
    .await;
    let p = price(&app, "MDUES", &format!("contact_id={reg}")).await;
    assert_eq!(p["price"], "500.00");
}

#[tokio::test]
async fn p3_price_endpoint_errors_and_percent_encoded_codes() {
    let app = spawn().await;
    app.doctors().await;
    app.create_product("CHAPT/EAST", "chapter", "25.00").await;
    let who = app.person("NM", "Kowalski").await;
    rule(
        &app,
        json!({"product": "CHAPT/EAST", "price": "20.00", "customer_type": "NM"}),
    )
    .await;
    let p = price(&app, "CHAPT%2FEAST", &format!("contact_id={who}")).await;
    assert_eq!(p["product"], "CHAPT/EAST");
    assert_eq!(p["price"], "20.00");
    assert_eq!(p["rule"]["product"], "CHAPT/EAST");
    app.get("/products/NOPE/price", &app.staff)
        .await
        .problem(404, "not_found");
    app.get("/products/MDUES/price?contact_id=987654", &app.staff)
        .await
        .problem(404, "not_found");
    let r = app
        .get("/products/MDUES/price?as_of=2026-13-01", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    assert_eq!(error_fields(&r), vec!["as_of"]);
    app.get("/products/MDUES/price?as_of=yesterday", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/products/MDUES/price?contact_id=abc", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    let r = app
        .get("/products/MDUES/price?with=CHAPT%2FEAST,NOPE", &app.staff)
        .await
        .problem(404, "not_found");
    assert!(detail(&r).contains("NOPE"), "{}", r.text);
    // The product itself still answers at its own path.
    app.get("/products/CHAPT%2FEAST", &app.staff)
        .await
        .expect(200);
}

#[tokio::test]
async fn p3_company_pricing_for_persons_linked_to_member_organizations() {
    let app = spawn().await;
    app.colleges().await;
    app.create_product("JOURNAL", "subscription", "50.00").await;
    let member_college = contact(
        &app,
        json!({"customer_type": "M", "billing_category": "RES", "organization_name": "Northfield University"}),
    )
    .await;
    let other_college = contact(
        &app,
        json!({"customer_type": "NM", "organization_name": "Lakeshore Institute"}),
    )
    .await;
    let at_member = contact(
        &app,
        json!({"customer_type": "NMIND", "first_name": "Eve", "last_name": "Moreau", "company_id": member_college}),
    )
    .await;
    let at_other = contact(
        &app,
        json!({"customer_type": "NMIND", "first_name": "Hugo", "last_name": "Berg", "company_id": other_college}),
    )
    .await;
    let unlinked = app.person("NMIND", "Alone").await;
    let yes = rule(
        &app,
        json!({"product": "JOURNAL", "price": "30.00", "company_member": true}),
    )
    .await;
    let no = rule(
        &app,
        json!({"product": "JOURNAL", "price": "45.00", "company_member": false}),
    )
    .await;
    for (who, expected, rule_id) in [
        (at_member, "30.00", id(&yes)),
        (at_other, "45.00", id(&no)),
        (unlinked, "45.00", id(&no)),
        // The organization itself is not a person linked to one.
        (member_college, "45.00", id(&no)),
    ] {
        let p = price(&app, "JOURNAL", &format!("contact_id={who}")).await;
        assert_eq!(p["price"], expected, "contact {who}: {p}");
        assert_eq!(p["rule"]["id"], rule_id);
        assert_eq!(p["rule"]["company_member"], rule_id == id(&yes));
    }
}

#[tokio::test]
async fn p3_group_pricing_and_group_membership() {
    let app = spawn().await;
    app.doctors().await;
    let r = app
        .post(
            "/pricing-groups",
            &app.staff,
            json!({"code": "CONSORT", "name": "Hospital consortium"}),
        )
        .await
        .expect(201);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/v1/pricing-groups/CONSORT")
    );
    assert_eq!(r.body["code"], "CONSORT");
    assert_eq!(r.body["name"], "Hospital consortium");
    app.post(
        "/pricing-groups",
        &app.staff,
        json!({"code": "CONSORT", "name": "Again"}),
    )
    .await
    .problem(409, "conflict");
    for bad in [
        json!({"code": "lower", "name": "x"}),
        json!({"code": "OK", "name": ""}),
    ] {
        app.post("/pricing-groups", &app.staff, bad)
            .await
            .problem(422, "validation_failed");
    }
    let got = app
        .get("/pricing-groups/CONSORT", &app.staff)
        .await
        .expect(200);
    let renamed = app
        .send(
            Method::PATCH,
            "/pricing-groups/CONSORT",
            Some(&app.staff),
            Some(json!({"name": "Regional consortium"})),
            &[("If-Match", &etag(&got))],
        )
        .await
        .expect(200);
    assert_eq!(renamed.body["name"], "Regional consortium");
    let list = app
        .get("/pricing-groups", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(list["items"][0]["code"], "CONSORT");

    let a = app.person("NM", "Alpha").await;
    let b = app.person("NM", "Beta").await;
    let c = app.person("NM", "Gamma").await;
    // Unknown ids: 422 naming them, and nobody is added.
    let r = app
        .post(
            "/pricing-groups/CONSORT/members",
            &app.staff,
            json!({"contact_ids": [a, 987654, 987655]}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(detail(&r).contains("987654") && detail(&r).contains("987655"));
    assert_eq!(error_fields(&r), vec!["contact_ids"]);
    app.post(
        "/pricing-groups/CONSORT/members",
        &app.staff,
        json!({"contact_ids": []}),
    )
    .await
    .problem(422, "validation_failed");
    let members = app
        .get("/pricing-groups/CONSORT/members", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(members["items"], json!([]));
    let r = app
        .post(
            "/pricing-groups/CONSORT/members",
            &app.staff,
            json!({"contact_ids": [b, a, a]}),
        )
        .await
        .expect(200);
    assert_eq!(r.body, json!({"added": 2, "already_members": 0}));
    // Already members are fine.
    let r = app
        .post(
            "/pricing-groups/CONSORT/members",
            &app.staff,
            json!({"contact_ids": [a, c]}),
        )
        .await
        .expect(200);
    assert_eq!(r.body, json!({"added": 1, "already_members": 1}));
    let page1 = app
        .get("/pricing-groups/CONSORT/members?limit=2", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(page1["items"], json!([a, b]));
    let cursor = page1["next_cursor"].as_str().expect("more");
    let page2 = app
        .get(
            &format!("/pricing-groups/CONSORT/members?limit=2&cursor={cursor}"),
            &app.staff,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(page2["items"], json!([c]));
    assert!(page2["next_cursor"].is_null());
    app.get("/pricing-groups/NOPE/members", &app.staff)
        .await
        .problem(404, "not_found");
    app.post(
        "/pricing-groups/NOPE/members",
        &app.staff,
        json!({"contact_ids": [a]}),
    )
    .await
    .problem(404, "not_found");

    // Group pricing: members pay the group price, others the default.
    let g = rule(
        &app,
        json!({"product": "MDUES", "price": "400.00", "pricing_group": "CONSORT"}),
    )
    .await;
    let p = price(&app, "MDUES", &format!("contact_id={a}")).await;
    assert_eq!(
        (p["price"].clone(), p["rule"]["id"].clone()),
        (json!("400.00"), json!(id(&g)))
    );
    let outsider = app.person("NM", "Delta").await;
    assert_eq!(
        price(&app, "MDUES", &format!("contact_id={outsider}")).await["price"],
        "500.00"
    );

    // Removing a member: 204, then 404; the price follows.
    app.delete(&format!("/pricing-groups/CONSORT/members/{a}"), &app.staff)
        .await
        .expect(204);
    app.delete(&format!("/pricing-groups/CONSORT/members/{a}"), &app.staff)
        .await
        .problem(404, "not_found");
    app.delete("/pricing-groups/CONSORT/members/abc", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    assert_eq!(
        price(&app, "MDUES", &format!("contact_id={a}")).await["price"],
        "500.00"
    );

    // A group a rule uses cannot be deleted (409 with the count); once unused it can, and
    // its memberships go with it.
    let r = app
        .delete("/pricing-groups/CONSORT", &app.staff)
        .await
        .problem(409, "conflict");
    assert!(detail(&r).contains("1 pricing rules"), "{}", r.text);
    app.delete(&format!("/pricing-rules/{}", id(&g)), &app.staff)
        .await
        .expect(204);
    app.delete("/pricing-groups/CONSORT", &app.staff)
        .await
        .expect(204);
    app.get("/pricing-groups/CONSORT", &app.staff)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn p3_bundle_price_when_another_product_is_on_the_same_invoice() {
    let app = spawn().await;
    app.doctors().await;
    app.create_product("DIVISION", "section", "60.00").await;
    app.create_product("SECTION", "section", "40.00").await;
    app.create_product("JOURNAL", "subscription", "30.00").await;
    let bundle = rule(
        &app,
        json!({"product": "SECTION", "price": "25.00", "with_product": "DIVISION"}),
    )
    .await;
    let who = app.person("NM", "Reader").await;
    let q = |with: &str| format!("contact_id={who}&with={with}");
    assert_eq!(price(&app, "SECTION", &q("")).await["price"], "40.00");
    assert_eq!(
        price(&app, "SECTION", &q("JOURNAL")).await["price"],
        "40.00"
    );
    let p = price(&app, "SECTION", &q("JOURNAL,%20DIVISION")).await;
    assert_eq!(p["price"], "25.00");
    assert_eq!(p["rule"]["id"], id(&bundle));
    assert_eq!(p["rule"]["with_product"], "DIVISION");
}

#[tokio::test]
async fn p4_future_dated_price_applies_from_its_date() {
    let app = spawn().await;
    app.doctors().await;
    let now = rule(
        &app,
        json!({"product": "MDUES", "price": "500.00", "customer_type": "M"}),
    )
    .await;
    // The price rises on 2027-01-01: a date-bounded rule is more specific while in force.
    let later = rule(
        &app,
        json!({"product": "MDUES", "price": "550.00", "customer_type": "M", "valid_from": "2027-01-01"}),
    )
    .await;
    let m = contact(
        &app,
        json!({"customer_type": "M", "billing_category": "REG", "first_name": "Ana", "last_name": "Silva"}),
    )
    .await;
    let at = |d: &str| format!("contact_id={m}&as_of={d}");
    let p = price(&app, "MDUES", &at("2026-12-31")).await;
    assert_eq!(
        (p["price"].clone(), p["rule"]["id"].clone()),
        (json!("500.00"), json!(id(&now)))
    );
    let p = price(&app, "MDUES", &at("2027-01-01")).await;
    assert_eq!(
        (p["price"].clone(), p["rule"]["id"].clone()),
        (json!("550.00"), json!(id(&later)))
    );
    assert_eq!(p["as_of"], "2027-01-01");
    // Both ends of a range are inclusive.
    let promo = rule(
        &app,
        json!({"product": "MDUES", "price": "450.00", "customer_type": "M", "billing_category": "REG",
            "valid_from": "2026-03-01", "valid_to": "2026-03-31"}),
    )
    .await;
    for (d, expected) in [
        ("2026-02-28", "500.00"),
        ("2026-03-01", "450.00"),
        ("2026-03-31", "450.00"),
        ("2026-04-01", "500.00"),
    ] {
        assert_eq!(price(&app, "MDUES", &at(d)).await["price"], expected, "{d}");
    }
    assert_eq!(promo["specificity"], 3);
}

#[tokio::test]
async fn p5_tax_companion_is_priced_with_its_product_when_active() {
    let app = spawn().await;
    app.doctors().await;
    app.create_product("AM_1", "dues", "100.00").await;
    app.create_product("AM_1_GST", "dues", "5.00").await;
    app.create_product("AM_2", "dues", "190.00").await;
    let m = contact(
        &app,
        json!({"customer_type": "M", "billing_category": "REG", "first_name": "Ana", "last_name": "Silva"}),
    )
    .await;
    let tax_rule = rule(
        &app,
        json!({"product": "AM_1_GST", "price": "4.50", "customer_type": "M"}),
    )
    .await;
    let p = price(&app, "AM_1", &format!("contact_id={m}")).await;
    assert_eq!(p["price"], "100.00");
    assert_eq!(p["tax_companion"]["product"], "AM_1_GST");
    assert_eq!(p["tax_companion"]["price"], "4.50");
    assert_eq!(p["tax_companion"]["rule"]["id"], id(&tax_rule));
    // Priced as on the same invoice as AM_1: a bundle rule on AM_1 applies to the companion.
    let with_rule = rule(
        &app,
        json!({"product": "AM_1_GST", "price": "4.00", "customer_type": "M", "with_product": "AM_1"}),
    )
    .await;
    let p = price(&app, "AM_1", &format!("contact_id={m}")).await;
    assert_eq!(p["tax_companion"]["price"], "4.00");
    assert_eq!(p["tax_companion"]["rule"]["id"], id(&with_rule));
    // Without a buyer: the companion's default price.
    let p = price(&app, "AM_1", "").await;
    assert_eq!(p["tax_companion"]["price"], "5.00");
    assert!(p["tax_companion"]["rule"].is_null());
    // No companion product, or an inactive one: none.
    assert!(price(&app, "AM_2", "").await["tax_companion"].is_null());
    app.patch("/products/AM_1_GST", &app.staff, json!({"active": false}))
        .await
        .expect(200);
    assert!(price(&app, "AM_1", "").await["tax_companion"].is_null());
    // The tax product itself has no companion.
    assert!(price(&app, "AM_1_GST", "").await["tax_companion"].is_null());
}

// ---------------------------------------------------------------- in use, If-Match, roles

#[tokio::test]
async fn p3_deleting_what_a_rule_uses_is_409_with_the_count() {
    let app = spawn().await;
    app.doctors().await;
    app.create_product("JOURNAL", "subscription", "30.00").await;
    app.create_category("STUDENT").await;
    app.create_type(
        json!({"code": "RET", "name": "Retired", "is_member": false, "is_organization": false}),
    )
    .await;
    app.post(
        "/pricing-groups",
        &app.staff,
        json!({"code": "CONSORT", "name": "Consortium"}),
    )
    .await
    .expect(201);
    let rules = [
        rule(&app, json!({"product": "JOURNAL", "price": "10.00", "customer_type": "RET"})).await,
        rule(&app, json!({"product": "JOURNAL", "price": "11.00", "billing_category": "STUDENT", "priority": 1})).await,
        rule(&app, json!({"product": "JOURNAL", "price": "12.00", "pricing_group": "CONSORT", "priority": 2})).await,
        rule(&app, json!({"product": "MDUES", "price": "13.00", "with_product": "JOURNAL"})).await,
    ];
    for (path, expected) in [
        (
            "/products/JOURNAL",
            "3 pricing rules, 1 pricing rules (with_product)",
        ),
        ("/customer-types/RET", "1 pricing rules"),
        ("/billing-categories/STUDENT", "1 pricing rules"),
        ("/pricing-groups/CONSORT", "1 pricing rules"),
    ] {
        let r = app.delete(path, &app.staff).await.problem(409, "conflict");
        assert!(detail(&r).contains(expected), "{path}: {}", r.text);
        app.get(path, &app.staff).await.expect(200);
    }
    for r in &rules {
        app.delete(&format!("/pricing-rules/{}", id(r)), &app.staff)
            .await
            .expect(204);
    }
    for path in [
        "/products/JOURNAL",
        "/customer-types/RET",
        "/billing-categories/STUDENT",
        "/pricing-groups/CONSORT",
    ] {
        app.delete(path, &app.staff).await.expect(204);
    }
}

#[tokio::test]
async fn p3_stale_if_match_is_412_on_rules_and_groups() {
    let app = spawn().await;
    app.doctors().await;
    let r = app
        .post(
            "/pricing-rules",
            &app.staff,
            json!({"product": "MDUES", "price": "100.00", "customer_type": "M"}),
        )
        .await
        .expect(201);
    let path = format!("/pricing-rules/{}", id(&r.body));
    let e1 = etag(&r);
    app.send(
        Method::PATCH,
        &path,
        Some(&app.staff),
        Some(json!({"price": "110.00"})),
        &[("If-Match", &e1)],
    )
    .await
    .expect(200);
    for method in [Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"price": "120.00"}));
        app.send(method, &path, Some(&app.staff), body, &[("If-Match", &e1)])
            .await
            .problem(412, "precondition_failed");
    }
    let now = app.get(&path, &app.staff).await.expect(200);
    assert_eq!(now.body["price"], "110.00");
    app.send(
        Method::DELETE,
        &path,
        Some(&app.staff),
        None,
        &[("If-Match", &etag(&now))],
    )
    .await
    .expect(204);

    let g = app
        .post(
            "/pricing-groups",
            &app.staff,
            json!({"code": "CONSORT", "name": "Consortium"}),
        )
        .await
        .expect(201);
    let g1 = etag(&g);
    app.send(
        Method::PATCH,
        "/pricing-groups/CONSORT",
        Some(&app.staff),
        Some(json!({"name": "Renamed"})),
        &[("If-Match", &g1)],
    )
    .await
    .expect(200);
    app.send(
        Method::DELETE,
        "/pricing-groups/CONSORT",
        Some(&app.staff),
        None,
        &[("If-Match", &g1)],
    )
    .await
    .problem(412, "precondition_failed");
}

#[tokio::test]
async fn sec1_members_never_see_prices_or_pricing_rules() {
    let app = spawn().await;
    app.doctors().await;
    let r = rule(
        &app,
        json!({"product": "MDUES", "price": "100.00", "customer_type": "M"}),
    )
    .await;
    let me = app.person("NM", "Member").await;
    let member = app.member_token(me).await;
    for (method, path, body) in [
        (Method::GET, "/pricing-rules".to_owned(), None),
        (
            Method::POST,
            "/pricing-rules".to_owned(),
            Some(json!({"product": "MDUES", "price": "1.00"})),
        ),
        (Method::GET, format!("/pricing-rules/{}", id(&r)), None),
        (
            Method::PATCH,
            format!("/pricing-rules/{}", id(&r)),
            Some(json!({"price": "1.00"})),
        ),
        (Method::DELETE, format!("/pricing-rules/{}", id(&r)), None),
        (
            Method::GET,
            format!("/products/MDUES/price?contact_id={me}"),
            None,
        ),
        (Method::GET, "/pricing-groups".to_owned(), None),
    ] {
        let res = app
            .send(method.clone(), &path, Some(&member), body, &[])
            .await
            .problem(403, "forbidden");
        assert!(res.body["detail"].is_string(), "{method} {path}");
    }
    // Nothing changed.
    let now = app
        .get(&format!("/pricing-rules/{}", id(&r)), &app.staff)
        .await
        .expect(200);
    assert_eq!(now.body["price"], "100.00");
}

// ---------------------------------------------------------------- many rules at once

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

#[tokio::test]
async fn p3_create_many_saves_a_thousand_rules_in_one_transaction() {
    let app = spawn().await;
    app.doctors().await;
    let products: Vec<String> = (0..10).map(|i| format!("SEC{i}")).collect();
    let categories: Vec<String> = (0..10).map(|i| format!("C{i}")).collect();
    for p in &products {
        app.create_product(p, "section", "10.00").await;
    }
    for c in &categories {
        app.create_category(c).await;
    }
    let mut rules = Vec::new();
    for (pi, p) in products.iter().enumerate() {
        for (ci, c) in categories.iter().enumerate() {
            for year in 0..10 {
                let from = d(&format!("{}-01-01", 2020 + year));
                let to = d(&format!("{}-12-31", 2020 + year));
                rules.push(NewRule {
                    product: p.clone(),
                    price_cents: (pi * 10_000 + ci * 100 + year) as i64,
                    conditions: Conditions {
                        billing_category: Some(c.clone()),
                        valid_from: Some(from),
                        valid_to: Some(to),
                        ..Default::default()
                    },
                    priority: 0,
                });
            }
        }
    }
    assert_eq!(rules.len(), 1_000);
    let started = std::time::Instant::now();
    let saved = service::pricing::create_many(&app.db, rules.clone())
        .await
        .expect("create_many");
    let took = started.elapsed();
    assert!(took.as_secs() < 30, "1,000 rules took {took:?}");
    assert_eq!(saved.len(), 1_000);
    // Returned in the order given, with their ids.
    for (s, r) in saved.iter().zip(&rules) {
        assert_eq!(s.price_cents, r.price_cents);
        assert_eq!(s.conditions_key(), r.conditions_key());
    }
    for (s, r) in saved.iter().zip(&rules).step_by(97) {
        let got = app
            .get(&format!("/pricing-rules/{}", s.id), &app.staff)
            .await
            .expect(200);
        assert_eq!(got.body["price"], money(r.price_cents));
        assert_eq!(got.body["product"], r.product.as_str());
    }
    let book = service::pricing::PriceBook::load(&app.db.conn)
        .await
        .expect("load");
    let buyer = service::pricing::Buyer {
        customer_type: Some("M".into()),
        billing_category: Some("C7".into()),
        ..Default::default()
    };
    let q = book
        .quote("SEC3", &buyer, d("2024-07-01"), &[])
        .expect("known product");
    assert_eq!(q.price_cents, 30_704);

    // All or nothing: one bad rule among many saves none, and its index is named.
    let mut more = rules.clone();
    more.truncate(3);
    for r in &mut more {
        r.priority = 1;
    }
    more[2].conditions.customer_type = Some("NOPE".into());
    let err = service::pricing::create_many(&app.db, more.clone())
        .await
        .expect_err("unknown type");
    assert!(err.to_string().contains("rules[2].customer_type"), "{err}");
    // A tie inside the batch names both positions.
    more[2] = more[0].clone();
    let err = service::pricing::create_many(&app.db, more)
        .await
        .expect_err("tie");
    let text = err.to_string();
    assert!(
        text.contains("rule 2 of this request") && text.contains("rule 0 of this request"),
        "{text}"
    );
    let list = app
        .get("/pricing-rules?product=SEC0&limit=200", &app.staff)
        .await
        .expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 100);
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// What identifies a rule's content, to compare a saved rule with the one given.
trait ConditionsKey {
    fn conditions_key(&self) -> (String, Option<String>, Option<NaiveDate>, Option<NaiveDate>);
}

impl ConditionsKey for entity::pricing_rule::Model {
    fn conditions_key(&self) -> (String, Option<String>, Option<NaiveDate>, Option<NaiveDate>) {
        (
            self.product.clone(),
            self.billing_category.clone(),
            self.valid_from,
            self.valid_to,
        )
    }
}

impl ConditionsKey for NewRule {
    fn conditions_key(&self) -> (String, Option<String>, Option<NaiveDate>, Option<NaiveDate>) {
        (
            self.product.clone(),
            self.conditions.billing_category.clone(),
            self.conditions.valid_from,
            self.conditions.valid_to,
        )
    }
}
