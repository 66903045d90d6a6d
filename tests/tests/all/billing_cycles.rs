//! Billing cycles over HTTP: B-1..B-13 and P-6 (DOMAIN.md section 5), with the API.md
//! conventions for the `/billing-cycles` resource: staff only, `Location` and `ETag` on create,
//! `If-Match` on PATCH and DELETE, `{items, next_cursor}` lists, problem+json errors, and the
//! `warnings` every cycle response carries. The primary-fee families of B-3 follow CT-3.

use reqwest::Method;
use serde_json::{Value, json};
use tests::{Res, TestApp, detail, error_fields, etag, id as id_of, spawn, with};

const CYCLES: &str = "/billing-cycles";

fn path_of(id: i64) -> String {
    format!("{CYCLES}/{id}")
}

/// Asserts a 422 `validation_failed` with an error on `field`.
#[track_caller]
fn assert_invalid(r: Res, field: &str) -> Res {
    let r = r.problem(422, "validation_failed");
    assert!(
        error_fields(&r).iter().any(|f| f == field),
        "expected an error on {field}; body: {}",
        r.text
    );
    r
}

/// Asserts that the problem (detail or an error message) mentions `needle`.
#[track_caller]
fn assert_mentions(r: &Res, needle: &str) {
    assert!(
        r.text.contains(needle),
        "expected the error to mention {needle:?}; body: {}",
        r.text
    );
}

fn warnings(v: &Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("a cycle carries a warnings list: {v}"))
        .iter()
        .map(|w| w.as_str().expect("a warning is a string").to_owned())
        .collect()
}

#[track_caller]
fn assert_no_warnings(v: &Value) {
    assert_eq!(v["warnings"], json!([]), "expected no warnings: {v}");
}

/// Asserts a warning that mentions every one of `needles` (case-insensitive).
#[track_caller]
fn assert_warning(v: &Value, needles: &[&str]) {
    let w = warnings(v);
    assert!(
        w.iter().any(|w| {
            let w = w.to_lowercase();
            needles.iter().all(|n| w.contains(n))
        }),
        "expected a warning mentioning {needles:?}: {v}"
    );
}

#[track_caller]
fn assert_no_warning(v: &Value, needle: &str) {
    let w = warnings(v);
    assert!(
        !w.iter().any(|w| w.to_lowercase().contains(needle)),
        "expected no warning mentioning {needle:?}: {v}"
    );
}

fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("expected a list: {v}"))
        .iter()
        .map(|x| x.as_str().expect("string").to_owned())
        .collect();
    out.sort();
    out
}

/// The smallest valid body: a dues cycle for `M`.
fn minimal(name: &str) -> Value {
    json!({"name": name, "customer_types": ["M"]})
}

async fn create(app: &TestApp, body: Value) -> Value {
    app.post(CYCLES, &app.staff, body).await.expect(201).body
}

async fn fetch(app: &TestApp, id: i64) -> Res {
    app.get(&path_of(id), &app.staff).await.expect(200)
}

/// E-1's reference data plus one add-on product of every non-dues type (P-2), a non-member
/// person type `RET` that no other record refers to, a category `ELEC` likewise, and a dues
/// product `LIFE` that no customer type bills.
async fn setup(app: &TestApp) {
    app.doctors().await;
    app.create_category("ELEC").await;
    for (code, t) in [
        ("CHAPT/EAST", "chapter"),
        ("CHAPT/WEST", "chapter"),
        ("MISC", "miscellaneous"),
        ("SEC/PEDS", "section"),
        ("JOURNAL", "subscription"),
        ("GIFT", "voluntary"),
        ("LIFE", "dues"),
    ] {
        app.create_product(code, t, "10.00").await;
    }
    app.create_type(
        json!({"code": "RET", "name": "Retired", "is_member": false, "is_organization": false}),
    )
    .await;
}

/// E-1 plus the formula type `AM` of CT-3: designator `AM`, dues `AM_1` and `AM_2`, the tax
/// companion `AM_1_GST` (P-5) and a journal `AM_NEWS` whose code begins with the designator.
async fn associates(app: &TestApp) {
    for (code, t, price) in [
        ("AM_1", "dues", "100.00"),
        ("AM_2", "dues", "190.00"),
        ("AM_1_GST", "miscellaneous", "5.00"),
        ("AM_NEWS", "subscription", "20.00"),
    ] {
        app.create_product(code, t, price).await;
    }
    app.create_type(
        json!({"code": "AM", "name": "Associate", "is_member": true, "is_organization": false,
        "primary_fee": {"kind": "formula", "designator": "AM", "default_product": "AM_1"},
        "expires_to": "NM"}),
    )
    .await;
}

// ---------------------------------------------------------------- resource conventions

#[tokio::test]
async fn b2_new_cycle_defaults_and_membership_flag() {
    let app = spawn().await;
    setup(&app).await;
    let r = app
        .post(CYCLES, &app.staff, minimal("Member renewals"))
        .await
        .expect(201);
    let id = id_of(&r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("/api/v1/billing-cycles/{id}").as_str()),
        "Location names the new cycle"
    );
    assert_eq!(etag(&r), "\"1\"");
    let c = r.body.clone();
    assert_eq!(c["name"], "Member renewals");
    assert_eq!(c["customer_types"], json!(["M"]));
    // B-2: a cycle is a dues cycle unless it says otherwise.
    assert_eq!(c["membership"], true);
    assert_eq!(c["billing_categories"], json!([]));
    assert_eq!(c["products"], json!([]));
    assert_eq!(c["billing_time"], "default");
    assert_eq!(c["accounting_method"], "default");
    assert_eq!(c["autopay_option"], "bill_all");
    for flag in [
        "require_chapter",
        "allow_multiple_chapters",
        "require_billed_chapters_on_renewal",
        "include_inactive_members",
        "include_inactive_sections",
        "include_suspended_members",
        "print_zero_balance",
        "include_all_sections",
        "include_all_chapters",
        "update_complimentary_paid_through_at_payment",
        "use_primary_fee_term_length",
        "join_item_set",
        "itemized_renewals",
    ] {
        assert_eq!(c[flag], false, "{flag} defaults to false: {c}");
    }
    assert_eq!(c["months_prior_to_expiration"], 0);
    assert_eq!(c["rejoin_as_renewal_months"], 0);
    assert!(
        c.get("reminder_days").is_some_and(Value::is_null),
        "reminder_days defaults to null: {c}"
    );
    assert_no_warnings(&c);

    // The Location is the resource; GET returns the same representation and ETag.
    let location = r.header("location").expect("location");
    let got = app.get(&location, &app.staff).await.expect(200);
    assert_eq!(etag(&got), "\"1\"");
    assert_eq!(got.body, c);

    // B-2: a non-dues cycle round-trips, and the flag can be changed either way.
    let r = app
        .post(
            CYCLES,
            &app.staff,
            json!({"name": "Journal renewals", "membership": false, "customer_types": ["M"], "products": ["JOURNAL"]}),
        )
        .await
        .expect(201);
    let other = id_of(&r.body);
    assert_eq!(r.body["membership"], false);
    assert_eq!(fetch(&app, other).await.body["membership"], false);
    let r = app
        .patch(&path_of(other), &app.staff, json!({"membership": true}))
        .await
        .expect(200);
    assert_eq!(r.body["membership"], true);
    assert_eq!(etag(&r), "\"2\"");
    let r = app
        .patch(&path_of(id), &app.staff, json!({"membership": false}))
        .await
        .expect(200);
    assert_eq!(r.body["membership"], false);
    assert_eq!(fetch(&app, id).await.body["membership"], false);
}

#[tokio::test]
async fn b2_b13_every_field_round_trips_through_post_get_patch_and_list() {
    let app = spawn().await;
    setup(&app).await;
    let body = json!({
        "name": "Chapter and section renewals",
        "membership": true,
        "customer_types": ["M"],
        "billing_categories": ["REG", "INTL"],
        "products": ["CHAPT/WEST", "CHAPT/EAST", "SEC/PEDS", "JOURNAL", "MISC", "GIFT"],
        "billing_time": "annual",
        "accounting_method": "cash",
        "autopay_option": "only_non_autopay",
        "require_chapter": true,
        "allow_multiple_chapters": true,
        "require_billed_chapters_on_renewal": true,
        "include_inactive_members": true,
        "include_inactive_sections": true,
        "include_suspended_members": true,
        "print_zero_balance": true,
        "include_all_sections": true,
        "include_all_chapters": true,
        "update_complimentary_paid_through_at_payment": true,
        "use_primary_fee_term_length": true,
        "months_prior_to_expiration": 2,
        "rejoin_as_renewal_months": 6,
        "join_item_set": true,
        "itemized_renewals": true,
        "reminder_days": 30
    });
    let check = |got: &Value| {
        for (k, v) in body.as_object().expect("object") {
            if k == "billing_categories" {
                // B-4: a set of categories.
                assert_eq!(sorted(&got[k]), sorted(v), "{k}: {got}");
            } else {
                assert_eq!(&got[k], v, "{k} round-trips: {got}");
            }
        }
        // Annual billing, cash accounting and a products-list type: nothing to warn about.
        assert_no_warnings(got);
        assert!(got["id"].is_i64() && got["version"].is_i64(), "{got}");
        assert!(
            got["created_at"].is_string() && got["updated_at"].is_string(),
            "{got}"
        );
    };
    let created = create(&app, body.clone()).await;
    check(&created);
    let id = id_of(&created);
    check(&fetch(&app, id).await.body);
    let list = app.get(CYCLES, &app.staff).await.expect(200).body;
    let item = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("the cycle is listed: {list}"));
    check(&item);

    // A PATCH of every scalar field to other values, then back to the defaults.
    let changed = json!({
        "name": "Renamed",
        "membership": false,
        "billing_categories": ["FYEAR"],
        "products": ["JOURNAL"],
        "billing_time": "anniversary",
        "accounting_method": "accrual",
        "autopay_option": "only_autopay",
        "require_chapter": false,
        "allow_multiple_chapters": false,
        "require_billed_chapters_on_renewal": false,
        "include_inactive_members": false,
        "include_inactive_sections": false,
        "include_suspended_members": false,
        "print_zero_balance": false,
        "include_all_sections": false,
        "include_all_chapters": false,
        "update_complimentary_paid_through_at_payment": false,
        "use_primary_fee_term_length": false,
        "months_prior_to_expiration": 24,
        "rejoin_as_renewal_months": 0,
        "join_item_set": false,
        "itemized_renewals": false,
        "reminder_days": 7
    });
    let r = app
        .patch(&path_of(id), &app.staff, changed.clone())
        .await
        .expect(200);
    let got = fetch(&app, id).await.body;
    assert_eq!(r.body, got, "the PATCH response is the stored cycle");
    for (k, v) in changed.as_object().expect("object") {
        assert_eq!(&got[k], v, "{k} after PATCH: {got}");
    }
    assert_eq!(got["customer_types"], json!(["M"]), "absent fields stay");
    assert_eq!(got["created_at"], created["created_at"]);
}

#[tokio::test]
async fn b1_cycles_are_staff_only() {
    let app = spawn().await;
    setup(&app).await;
    let c = create(&app, minimal("Member renewals")).await;
    let path = path_of(id_of(&c));
    let contact = app.person("NM", "Reader").await;
    let member = app.member_token(contact).await;
    app.get(CYCLES, &member).await.problem(403, "forbidden");
    app.post(CYCLES, &member, minimal("By a member"))
        .await
        .problem(403, "forbidden");
    app.get(&path, &member).await.problem(403, "forbidden");
    app.patch(&path, &member, json!({"name": "Changed by a member"}))
        .await
        .problem(403, "forbidden");
    app.delete(&path, &member).await.problem(403, "forbidden");
    // Anonymous: 401 with a Bearer challenge.
    let r = app.send(Method::GET, CYCLES, None, None, &[]).await;
    let r = r.problem(401, "unauthorized");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer")),
        "{:?}",
        r.headers
    );
    app.send(Method::POST, CYCLES, None, Some(minimal("Anon")), &[])
        .await
        .problem(401, "unauthorized");
    // Nothing changed.
    let got = fetch(&app, id_of(&c)).await;
    assert_eq!(got.body, c);
    let list = app.get(CYCLES, &app.staff).await.expect(200).body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test]
async fn b1_unknown_id_is_404_and_a_bad_id_is_a_problem() {
    let app = spawn().await;
    setup(&app).await;
    app.get(&path_of(999_999), &app.staff)
        .await
        .problem(404, "not_found");
    app.patch(&path_of(999_999), &app.staff, json!({"name": "Ghost"}))
        .await
        .problem(404, "not_found");
    app.delete(&path_of(999_999), &app.staff)
        .await
        .problem(404, "not_found");
    let r = app.get(&format!("{CYCLES}/abc"), &app.staff).await;
    assert!(
        matches!(r.status.as_u16(), 400 | 404 | 422),
        "a non-numeric id is a client error: {} {}",
        r.status,
        r.text
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn b1_patch_and_delete_honour_if_match() {
    let app = spawn().await;
    setup(&app).await;
    let r = app
        .post(CYCLES, &app.staff, minimal("Member renewals"))
        .await
        .expect(201);
    let id = id_of(&r.body);
    let path = path_of(id);
    let e1 = etag(&r);
    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&app.staff),
            Some(json!({"months_prior_to_expiration": 2})),
            &[("If-Match", &e1)],
        )
        .await
        .expect(200);
    let e2 = etag(&r);
    assert_ne!(e1, e2, "a change moves the ETag");
    assert_eq!(r.body["months_prior_to_expiration"], 2);
    // Stale: 412 and nothing changes.
    app.send(
        Method::PATCH,
        &path,
        Some(&app.staff),
        Some(json!({"months_prior_to_expiration": 5})),
        &[("If-Match", &e1)],
    )
    .await
    .problem(412, "precondition_failed");
    app.send(
        Method::PATCH,
        &path,
        Some(&app.staff),
        Some(json!({"months_prior_to_expiration": 5})),
        &[("If-Match", "\"not-a-version\"")],
    )
    .await
    .problem(412, "precondition_failed");
    app.send(
        Method::DELETE,
        &path,
        Some(&app.staff),
        None,
        &[("If-Match", &e1)],
    )
    .await
    .problem(412, "precondition_failed");
    let now = fetch(&app, id).await;
    assert_eq!(etag(&now), e2);
    assert_eq!(now.body["months_prior_to_expiration"], 2);
    // Current: deleted, then gone.
    let r = app
        .send(
            Method::DELETE,
            &path,
            Some(&app.staff),
            None,
            &[("If-Match", &e2)],
        )
        .await
        .expect(204);
    assert!(r.text.is_empty());
    app.get(&path, &app.staff).await.problem(404, "not_found");
    app.delete(&path, &app.staff)
        .await
        .problem(404, "not_found");
    let list = app.get(CYCLES, &app.staff).await.expect(200).body;
    assert_eq!(list["items"], json!([]));
    // Without If-Match the write is unconditional.
    let c = create(&app, minimal("Second")).await;
    app.patch(
        &path_of(id_of(&c)),
        &app.staff,
        json!({"name": "Second, renamed"}),
    )
    .await
    .expect(200);
    app.delete(&path_of(id_of(&c)), &app.staff)
        .await
        .expect(204);
}

#[tokio::test]
async fn b1_list_pages_with_limit_and_cursor() {
    let app = spawn().await;
    setup(&app).await;
    let mut made = Vec::new();
    for name in ["One", "Two", "Three", "Four", "Five"] {
        made.push(id_of(&create(&app, minimal(name)).await));
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let url = match &cursor {
            None => format!("{CYCLES}?limit=2"),
            Some(c) => format!("{CYCLES}?limit=2&cursor={c}"),
        };
        let r = app.get(&url, &app.staff).await.expect(200);
        let items = r.body["items"].as_array().expect("items").clone();
        assert!(items.len() <= 2, "{}", r.text);
        for i in &items {
            assert!(i["warnings"].is_array(), "list items carry warnings: {i}");
            seen.push(id_of(i));
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), 2, "a page with a cursor is full: {}", r.text);
                cursor = Some(c.to_owned());
            }
            None => {
                assert!(r.body["next_cursor"].is_null(), "{}", r.text);
                break;
            }
        }
    }
    seen.sort();
    made.sort();
    assert_eq!(seen, made, "every cycle once");
    let all = app.get(CYCLES, &app.staff).await.expect(200).body;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(5));
    assert!(all["next_cursor"].is_null());
    for q in [
        "limit=0",
        "limit=201",
        "limit=abc",
        "cursor=!!not-a-cursor!!",
    ] {
        app.get(&format!("{CYCLES}?{q}"), &app.staff)
            .await
            .problem(400, "invalid_parameter");
    }
}

#[tokio::test]
async fn b1_unknown_fields_bad_enum_words_and_wrong_types_are_422() {
    let app = spawn().await;
    setup(&app).await;
    let bad_bodies = [
        with(minimal("X"), json!({"surprise": 1})),
        with(minimal("X"), json!({"billing_time": "weekly"})),
        with(minimal("X"), json!({"accounting_method": "barter"})),
        with(minimal("X"), json!({"autopay_option": "sometimes"})),
        with(minimal("X"), json!({"membership": "yes"})),
        with(minimal("X"), json!({"customer_types": "M"})),
        with(minimal("X"), json!({"months_prior_to_expiration": -1})),
        with(minimal("X"), json!({"reminder_days": -5})),
        json!({"customer_types": ["M"]}),
        json!({"name": "X"}),
    ];
    for b in bad_bodies {
        app.post(CYCLES, &app.staff, b.clone())
            .await
            .problem(422, "validation_failed");
    }
    let r = app
        .post(
            CYCLES,
            &app.staff,
            with(minimal("X"), json!({"billing_time": "weekly"})),
        )
        .await
        .problem(422, "validation_failed");
    assert_mentions(&r, "billing_time");
    // Malformed JSON is a 400 problem.
    let r = app
        .send_raw(
            Method::POST,
            CYCLES,
            &app.staff,
            "application/json",
            "{\"name\": ",
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.text);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json"),
        "{}",
        r.text
    );
    let list = app.get(CYCLES, &app.staff).await.expect(200).body;
    assert_eq!(list["items"], json!([]), "nothing was created");

    // PATCH likewise, and nothing changes.
    let c = create(&app, minimal("Member renewals")).await;
    let path = path_of(id_of(&c));
    for b in [
        json!({"surprise": 1}),
        json!({"billing_time": "weekly"}),
        json!({"accounting_method": "barter"}),
        json!({"autopay_option": "sometimes"}),
        json!({"rejoin_as_renewal_months": -1}),
        json!({"products": "JOURNAL"}),
    ] {
        app.patch(&path, &app.staff, b)
            .await
            .problem(422, "validation_failed");
    }
    assert_eq!(fetch(&app, id_of(&c)).await.body, c);
}

// ---------------------------------------------------------------- B-1, P-6 names

#[tokio::test]
async fn b1_names_are_unique_whatever_the_letter_case() {
    let app = spawn().await;
    setup(&app).await;
    let first = create(&app, minimal("Annual Dues")).await;
    for dup in [
        "Annual Dues",
        "annual dues",
        "ANNUAL DUES",
        "  Annual Dues  ",
    ] {
        let r = assert_invalid(app.post(CYCLES, &app.staff, minimal(dup)).await, "name");
        assert!(!detail(&r).is_empty());
    }
    let list = app.get(CYCLES, &app.staff).await.expect(200).body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    // A rename into another cycle's name is rejected the same way.
    let second = create(&app, minimal("Fall Dues")).await;
    assert_invalid(
        app.patch(
            &path_of(id_of(&second)),
            &app.staff,
            json!({"name": "ANNUAL dues"}),
        )
        .await,
        "name",
    );
    assert_eq!(fetch(&app, id_of(&second)).await.body["name"], "Fall Dues");
    // Renaming a cycle to its own name in another letter case is not a duplicate.
    let r = app
        .patch(
            &path_of(id_of(&first)),
            &app.staff,
            json!({"name": "ANNUAL DUES"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["name"], "ANNUAL DUES");
    // After a delete the name is free again.
    app.delete(&path_of(id_of(&first)), &app.staff)
        .await
        .expect(204);
    create(&app, minimal("annual dues")).await;
}

#[tokio::test]
async fn b1_empty_name_is_rejected() {
    let app = spawn().await;
    setup(&app).await;
    for name in ["", "   "] {
        assert_invalid(app.post(CYCLES, &app.staff, minimal(name)).await, "name");
    }
    let c = create(&app, minimal("Member renewals")).await;
    assert_invalid(
        app.patch(&path_of(id_of(&c)), &app.staff, json!({"name": ""}))
            .await,
        "name",
    );
    assert_eq!(fetch(&app, id_of(&c)).await.body["name"], "Member renewals");
}

#[tokio::test]
async fn b1_p6_name_may_not_equal_a_product_code_in_any_letter_case() {
    let app = spawn().await;
    setup(&app).await;
    for name in [
        "MDUES",
        "mdues",
        "MDues",
        "journal",
        "CHAPT/EAST",
        "chapt/east",
    ] {
        let r = assert_invalid(app.post(CYCLES, &app.staff, minimal(name)).await, "name");
        assert!(
            r.text.to_uppercase().contains(&name.to_uppercase()),
            "the error names the product: {}",
            r.text
        );
    }
    let list = app.get(CYCLES, &app.staff).await.expect(200).body;
    assert_eq!(list["items"], json!([]));
    // A rename into a product code likewise.
    let c = create(&app, minimal("Member renewals")).await;
    assert_invalid(
        app.patch(&path_of(id_of(&c)), &app.staff, json!({"name": "Gift"}))
            .await,
        "name",
    );
    assert_eq!(fetch(&app, id_of(&c)).await.body["name"], "Member renewals");
}

#[tokio::test]
async fn p6_product_code_may_not_equal_a_cycle_name() {
    let app = spawn().await;
    setup(&app).await;
    let c = create(&app, minimal("Spring")).await;
    create(&app, minimal("FALL_2026")).await;
    for code in ["SPRING", "FALL_2026"] {
        let r = app
            .post(
                "/products",
                &app.staff,
                json!({"code": code, "name": "A product", "product_type": "miscellaneous", "price": "1.00"}),
            )
            .await;
        assert_invalid(r, "code");
        app.get(&format!("/products/{code}"), &app.staff)
            .await
            .problem(404, "not_found");
    }
    // Once the cycle is gone the code is free.
    app.delete(&path_of(id_of(&c)), &app.staff)
        .await
        .expect(204);
    app.create_product("SPRING", "miscellaneous", "1.00").await;
    // And now the name is taken by the product.
    assert_invalid(
        app.post(CYCLES, &app.staff, minimal("spring")).await,
        "name",
    );
}

#[tokio::test]
async fn b1_special_characters_in_the_name_are_accepted_with_a_warning() {
    let app = spawn().await;
    setup(&app).await;
    let plain = create(&app, minimal("Member renewals 2026")).await;
    assert_no_warnings(&plain);
    for name in ["Dues_2026", "Chapters/East"] {
        let r = app
            .post(CYCLES, &app.staff, minimal(name))
            .await
            .expect(201);
        assert_eq!(r.body["name"], name);
        assert!(!warnings(&r.body).is_empty(), "{}", r.text);
        assert_warning(&r.body, &["special character"]);
        // The warning is part of the cycle's representation.
        let got = fetch(&app, id_of(&r.body)).await.body;
        assert_warning(&got, &["special character"]);
    }
    // A rename brings the warning, and a rename back removes it.
    let path = path_of(id_of(&plain));
    let r = app
        .patch(&path, &app.staff, json!({"name": "Member_renewals"}))
        .await
        .expect(200);
    assert_warning(&r.body, &["special character"]);
    let r = app
        .patch(&path, &app.staff, json!({"name": "Member renewals"}))
        .await
        .expect(200);
    assert_no_warnings(&r.body);
}

// ---------------------------------------------------------------- B-3 customer types

#[tokio::test]
async fn b3_customer_types_are_required_and_must_exist() {
    let app = spawn().await;
    setup(&app).await;
    assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            json!({"name": "Nobody", "customer_types": []}),
        )
        .await,
        "customer_types",
    );
    let r = assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            json!({"name": "Ghosts", "customer_types": ["M", "GHOST"]}),
        )
        .await,
        "customer_types",
    );
    assert_mentions(&r, "GHOST");
    let list = app.get(CYCLES, &app.staff).await.expect(200).body;
    assert_eq!(list["items"], json!([]));
    // One or more types.
    let c = create(
        &app,
        json!({"name": "Everyone", "customer_types": ["M", "NM", "RET"], "membership": false,
            "products": ["JOURNAL"]}),
    )
    .await;
    assert_eq!(sorted(&c["customer_types"]), vec!["M", "NM", "RET"]);
    // PATCH replaces the list and checks it the same way.
    let path = path_of(id_of(&c));
    assert_invalid(
        app.patch(&path, &app.staff, json!({"customer_types": []}))
            .await,
        "customer_types",
    );
    let r = assert_invalid(
        app.patch(&path, &app.staff, json!({"customer_types": ["NOPE"]}))
            .await,
        "customer_types",
    );
    assert_mentions(&r, "NOPE");
    let r = app
        .patch(&path, &app.staff, json!({"customer_types": ["RET"]}))
        .await
        .expect(200);
    assert_eq!(r.body["customer_types"], json!(["RET"]));
}

#[tokio::test]
async fn b3_join_item_set_needs_exactly_one_customer_type() {
    let app = spawn().await;
    setup(&app).await;
    assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            json!({"name": "Joins", "customer_types": ["M", "RET"], "join_item_set": true}),
        )
        .await,
        "customer_types",
    );
    let r = app
        .post(
            CYCLES,
            &app.staff,
            json!({"name": "Joins", "customer_types": ["M"], "join_item_set": true}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["join_item_set"], true);
    assert_eq!(r.body["customer_types"], json!(["M"]));
}

#[tokio::test]
async fn b3_products_a_type_bills_as_primary_fee_are_not_listed_again() {
    let app = spawn().await;
    setup(&app).await;
    // `M` bills MDUES as its primary fee (a products list, CT-3).
    let r = assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            json!({"name": "Twice", "customer_types": ["M"], "products": ["MDUES"]}),
        )
        .await,
        "products",
    );
    assert_mentions(&r, "MDUES");
    assert_mentions(&r, "twice");
    // Any selected type counts.
    let r = assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            json!({"name": "Twice", "customer_types": ["NM", "M"], "products": ["JOURNAL", "MDUES"]}),
        )
        .await,
        "products",
    );
    assert_mentions(&r, "twice");
    // PATCH: adding the primary fee later, or a type that bills a listed product.
    let c = create(
        &app,
        json!({"name": "Journals", "customer_types": ["M"], "products": ["JOURNAL"]}),
    )
    .await;
    let path = path_of(id_of(&c));
    let r = assert_invalid(
        app.patch(&path, &app.staff, json!({"products": ["JOURNAL", "MDUES"]}))
            .await,
        "products",
    );
    assert_mentions(&r, "twice");
    assert_eq!(
        fetch(&app, id_of(&c)).await.body["products"],
        json!(["JOURNAL"])
    );
}

#[tokio::test]
async fn b3_ct3_formula_family_products_are_not_listed_again_but_gst_is_outside_the_family() {
    let app = spawn().await;
    app.doctors().await;
    associates(&app).await;
    for product in ["AM_2", "AM_1"] {
        let r = assert_invalid(
            app.post(
                CYCLES,
                &app.staff,
                json!({"name": "Associates", "customer_types": ["AM"], "products": [product]}),
            )
            .await,
            "products",
        );
        assert_mentions(&r, product);
        assert_mentions(&r, "twice");
    }
    // Every product whose code begins with the designator is in the family, whatever its type.
    let r = assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            json!({"name": "Associates", "customer_types": ["AM"], "products": ["AM_NEWS"]}),
        )
        .await,
        "products",
    );
    assert_mentions(&r, "AM_NEWS");
    assert_mentions(&r, "twice");
    // The tax companion is not (P-5).
    let r = app
        .post(
            CYCLES,
            &app.staff,
            json!({"name": "Associates", "customer_types": ["AM"], "products": ["AM_1_GST"]}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["products"], json!(["AM_1_GST"]));
    // For a type outside the family, a non-dues family product is an ordinary add-on.
    let r = app
        .post(
            CYCLES,
            &app.staff,
            json!({"name": "Member news", "customer_types": ["M"], "products": ["AM_NEWS"]}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["products"], json!(["AM_NEWS"]));
    // Adding AM to that cycle would bill AM_NEWS twice.
    let r = assert_invalid(
        app.patch(
            &path_of(id_of(&r.body)),
            &app.staff,
            json!({"customer_types": ["M", "AM"]}),
        )
        .await,
        "products",
    );
    assert_mentions(&r, "twice");
}

// ---------------------------------------------------------------- B-4 categories

#[tokio::test]
async fn b4_billing_categories_must_exist_and_empty_means_all() {
    let app = spawn().await;
    setup(&app).await;
    let r = assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            with(
                minimal("Cats"),
                json!({"billing_categories": ["REG", "NOPE"]}),
            ),
        )
        .await,
        "billing_categories",
    );
    assert_mentions(&r, "NOPE");
    let all = create(
        &app,
        with(minimal("All"), json!({"billing_categories": []})),
    )
    .await;
    assert_eq!(all["billing_categories"], json!([]));
    let some = create(
        &app,
        with(
            minimal("Some"),
            json!({"billing_categories": ["REG", "FYEAR"]}),
        ),
    )
    .await;
    assert_eq!(sorted(&some["billing_categories"]), vec!["FYEAR", "REG"]);
    let path = path_of(id_of(&some));
    let r = app
        .patch(&path, &app.staff, json!({"billing_categories": ["INTL"]}))
        .await
        .expect(200);
    assert_eq!(r.body["billing_categories"], json!(["INTL"]));
    assert_invalid(
        app.patch(&path, &app.staff, json!({"billing_categories": ["GONE"]}))
            .await,
        "billing_categories",
    );
    let r = app
        .patch(&path, &app.staff, json!({"billing_categories": []}))
        .await
        .expect(200);
    assert_eq!(r.body["billing_categories"], json!([]));
}

#[tokio::test]
async fn b4_bc2_deleting_a_category_used_by_a_cycle_is_409() {
    let app = spawn().await;
    setup(&app).await;
    let c = create(
        &app,
        with(
            minimal("Electronic"),
            json!({"billing_categories": ["ELEC"]}),
        ),
    )
    .await;
    let r = app
        .delete("/billing-categories/ELEC", &app.staff)
        .await
        .problem(409, "conflict");
    assert!(detail(&r).contains("billing cycles"), "{}", r.text);
    app.get("/billing-categories/ELEC", &app.staff)
        .await
        .expect(200);
    app.delete(&path_of(id_of(&c)), &app.staff)
        .await
        .expect(204);
    app.delete("/billing-categories/ELEC", &app.staff)
        .await
        .expect(204);
}

#[tokio::test]
async fn b3_ct7_deleting_a_customer_type_used_by_a_cycle_is_409() {
    let app = spawn().await;
    setup(&app).await;
    let c = create(
        &app,
        json!({"name": "Retirees", "customer_types": ["RET"], "membership": false, "products": ["JOURNAL"]}),
    )
    .await;
    let r = app
        .delete("/customer-types/RET", &app.staff)
        .await
        .problem(409, "conflict");
    assert!(detail(&r).contains("billing cycles"), "{}", r.text);
    app.get("/customer-types/RET", &app.staff).await.expect(200);
    app.delete(&path_of(id_of(&c)), &app.staff)
        .await
        .expect(204);
    app.delete("/customer-types/RET", &app.staff)
        .await
        .expect(204);
}

// ---------------------------------------------------------------- B-5 products

#[tokio::test]
async fn b5_add_on_products_of_every_non_dues_type_are_accepted_in_order() {
    let app = spawn().await;
    setup(&app).await;
    let products = json!([
        "SEC/PEDS",
        "CHAPT/WEST",
        "GIFT",
        "JOURNAL",
        "MISC",
        "CHAPT/EAST"
    ]);
    let c = create(
        &app,
        with(minimal("Add-ons"), json!({"products": products})),
    )
    .await;
    assert_eq!(c["products"], products);
    assert_eq!(fetch(&app, id_of(&c)).await.body["products"], products);
    // Lists are replaced whole.
    let r = app
        .patch(
            &path_of(id_of(&c)),
            &app.staff,
            json!({"products": ["MISC", "GIFT"]}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["products"], json!(["MISC", "GIFT"]));
    assert_eq!(
        fetch(&app, id_of(&c)).await.body["products"],
        json!(["MISC", "GIFT"])
    );
}

#[tokio::test]
async fn b5_dues_unknown_and_duplicate_products_are_rejected() {
    let app = spawn().await;
    setup(&app).await;
    // A dues product that no selected type bills is still not an add-on.
    for dues in ["LIFE", "MDUES"] {
        assert_invalid(
            app.post(
                CYCLES,
                &app.staff,
                json!({"name": "Dues add-on", "customer_types": ["RET"], "products": ["JOURNAL", dues]}),
            )
            .await,
            "products",
        );
    }
    let r = assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            with(minimal("Unknown"), json!({"products": ["JOURNAL", "NOPE"]})),
        )
        .await,
        "products",
    );
    assert_mentions(&r, "NOPE");
    assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            with(
                minimal("Twice"),
                json!({"products": ["JOURNAL", "MISC", "JOURNAL"]}),
            ),
        )
        .await,
        "products",
    );
    let list = app.get(CYCLES, &app.staff).await.expect(200).body;
    assert_eq!(list["items"], json!([]));
    // PATCH likewise.
    let c = create(
        &app,
        with(minimal("Journal cycle"), json!({"products": ["JOURNAL"]})),
    )
    .await;
    let path = path_of(id_of(&c));
    for bad in [json!(["LIFE"]), json!(["GHOST"]), json!(["MISC", "MISC"])] {
        assert_invalid(
            app.patch(&path, &app.staff, json!({"products": bad})).await,
            "products",
        );
    }
    assert_eq!(fetch(&app, id_of(&c)).await.body, c);
}

#[tokio::test]
async fn b5_deleting_a_product_used_by_a_cycle_is_409() {
    let app = spawn().await;
    setup(&app).await;
    let c = create(
        &app,
        with(
            minimal("Add-ons"),
            json!({"products": ["JOURNAL", "CHAPT/EAST"]}),
        ),
    )
    .await;
    for path in ["/products/JOURNAL", "/products/CHAPT%2FEAST"] {
        let r = app.delete(path, &app.staff).await.problem(409, "conflict");
        assert!(detail(&r).contains("billing cycles"), "{}", r.text);
        app.get(path, &app.staff).await.expect(200);
    }
    app.delete(&path_of(id_of(&c)), &app.staff)
        .await
        .expect(204);
    app.delete("/products/JOURNAL", &app.staff)
        .await
        .expect(204);
    app.delete("/products/CHAPT%2FEAST", &app.staff)
        .await
        .expect(204);
}

// ---------------------------------------------------------------- B-6, B-7, B-8 options

#[tokio::test]
async fn b6_b7_b8_billing_time_accounting_and_autopay_options_are_stored() {
    let app = spawn().await;
    setup(&app).await;
    let mut n = 0;
    for time in ["default", "annual", "anniversary"] {
        for method in ["default", "cash", "accrual"] {
            for autopay in ["bill_all", "only_autopay", "only_non_autopay"] {
                n += 1;
                let c = create(
                    &app,
                    with(
                        minimal(&format!("Cycle {n}")),
                        json!({"billing_time": time, "accounting_method": method, "autopay_option": autopay}),
                    ),
                )
                .await;
                let got = fetch(&app, id_of(&c)).await.body;
                for v in [&c, &got] {
                    assert_eq!(v["billing_time"], time, "{v}");
                    assert_eq!(v["accounting_method"], method, "{v}");
                    assert_eq!(v["autopay_option"], autopay, "{v}");
                }
            }
        }
    }
    // PATCH changes one option and leaves the others.
    let c = create(
        &app,
        with(
            minimal("Patched"),
            json!({"billing_time": "annual", "accounting_method": "cash", "autopay_option": "only_non_autopay"}),
        ),
    )
    .await;
    let path = path_of(id_of(&c));
    let r = app
        .patch(&path, &app.staff, json!({"billing_time": "anniversary"}))
        .await
        .expect(200);
    assert_eq!(r.body["billing_time"], "anniversary");
    assert_eq!(r.body["accounting_method"], "cash");
    assert_eq!(r.body["autopay_option"], "only_non_autopay");
    let r = app
        .patch(
            &path,
            &app.staff,
            json!({"accounting_method": "default", "autopay_option": "bill_all"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["billing_time"], "anniversary");
    assert_eq!(r.body["accounting_method"], "default");
    assert_eq!(r.body["autopay_option"], "bill_all");
    // The stored word is `default`, not the settings' value it stands for.
    app.set_settings(
        json!({"default_billing_time": "annual", "default_accounting_method": "cash"}),
    )
    .await;
    let got = fetch(&app, id_of(&c)).await.body;
    assert_eq!(got["accounting_method"], "default");
}

// ---------------------------------------------------------------- B-9 chapters

#[tokio::test]
async fn b9_chapter_options_need_a_chapter_product_in_the_cycle() {
    let app = spawn().await;
    setup(&app).await;
    for option in ["require_chapter", "allow_multiple_chapters"] {
        for products in [json!([]), json!(["JOURNAL", "SEC/PEDS"])] {
            let r = app
                .post(
                    CYCLES,
                    &app.staff,
                    with(
                        minimal("Chapters"),
                        json!({option: true, "products": products}),
                    ),
                )
                .await
                .problem(422, "validation_failed");
            assert!(
                r.text.to_lowercase().contains("chapter"),
                "the error is about chapters: {}",
                r.text
            );
        }
        let r = app
            .post(
                CYCLES,
                &app.staff,
                with(
                    minimal(&format!("Chapters {option}")),
                    json!({option: true, "products": ["JOURNAL", "CHAPT/EAST"]}),
                ),
            )
            .await
            .expect(201);
        assert_eq!(r.body[option], true);
    }
    let c = create(
        &app,
        with(
            minimal("All chapter options"),
            json!({"require_chapter": true, "allow_multiple_chapters": true,
                "require_billed_chapters_on_renewal": true,
                "products": ["CHAPT/WEST", "CHAPT/EAST"]}),
        ),
    )
    .await;
    let got = fetch(&app, id_of(&c)).await.body;
    for flag in [
        "require_chapter",
        "allow_multiple_chapters",
        "require_billed_chapters_on_renewal",
    ] {
        assert_eq!(got[flag], true, "{flag}: {got}");
    }
    // The chapter products order is kept: the first is the primary chapter.
    assert_eq!(got["products"], json!(["CHAPT/WEST", "CHAPT/EAST"]));
    // PATCH: removing every chapter while an option needs one is rejected.
    let path = path_of(id_of(&c));
    app.patch(&path, &app.staff, json!({"products": ["JOURNAL"]}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(
        fetch(&app, id_of(&c)).await.body["products"],
        json!(["CHAPT/WEST", "CHAPT/EAST"])
    );
    // Dropping the options first makes it possible.
    let r = app
        .patch(
            &path,
            &app.staff,
            json!({"require_chapter": false, "allow_multiple_chapters": false, "products": ["JOURNAL"]}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["products"], json!(["JOURNAL"]));
    // Turning an option on later needs a chapter too.
    app.patch(&path, &app.staff, json!({"require_chapter": true}))
        .await
        .problem(422, "validation_failed");
}

// ---------------------------------------------------------------- B-10 inclusion flags

#[tokio::test]
async fn b10_inclusion_flags_round_trip() {
    let app = spawn().await;
    setup(&app).await;
    let flags = [
        "include_inactive_members",
        "include_inactive_sections",
        "include_suspended_members",
        "print_zero_balance",
    ];
    for (i, flag) in flags.iter().enumerate() {
        let c = create(
            &app,
            with(minimal(&format!("Flag {i}")), json!({*flag: true})),
        )
        .await;
        let got = fetch(&app, id_of(&c)).await.body;
        for other in flags {
            assert_eq!(
                got[other],
                other == *flag,
                "{other} with only {flag} set: {got}"
            );
        }
        let r = app
            .patch(&path_of(id_of(&c)), &app.staff, json!({*flag: false}))
            .await
            .expect(200);
        assert_eq!(r.body[*flag], false);
        assert_eq!(fetch(&app, id_of(&c)).await.body[*flag], false);
    }
}

// ---------------------------------------------------------------- B-11 other instructions

#[tokio::test]
async fn b11_instruction_flags_and_month_bounds() {
    let app = spawn().await;
    setup(&app).await;
    app.set_settings(
        json!({"default_billing_time": "annual", "default_accounting_method": "cash"}),
    )
    .await;
    let c = create(
        &app,
        with(
            minimal("Instructions"),
            json!({"include_all_sections": true, "include_all_chapters": true,
                "update_complimentary_paid_through_at_payment": true,
                "use_primary_fee_term_length": true,
                "months_prior_to_expiration": 24, "rejoin_as_renewal_months": 120}),
        ),
    )
    .await;
    let got = fetch(&app, id_of(&c)).await.body;
    for flag in [
        "include_all_sections",
        "include_all_chapters",
        "update_complimentary_paid_through_at_payment",
        "use_primary_fee_term_length",
    ] {
        assert_eq!(got[flag], true, "{flag}: {got}");
    }
    assert_eq!(got["months_prior_to_expiration"], 24);
    assert_eq!(got["rejoin_as_renewal_months"], 120);
    assert_no_warnings(&got);

    let r = assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            with(
                minimal("Too early"),
                json!({"months_prior_to_expiration": 25}),
            ),
        )
        .await,
        "months_prior_to_expiration",
    );
    assert!(!detail(&r).is_empty());
    assert_invalid(
        app.post(
            CYCLES,
            &app.staff,
            with(
                minimal("Too long"),
                json!({"rejoin_as_renewal_months": 121}),
            ),
        )
        .await,
        "rejoin_as_renewal_months",
    );
    let path = path_of(id_of(&c));
    assert_invalid(
        app.patch(&path, &app.staff, json!({"months_prior_to_expiration": 25}))
            .await,
        "months_prior_to_expiration",
    );
    assert_invalid(
        app.patch(&path, &app.staff, json!({"rejoin_as_renewal_months": 121}))
            .await,
        "rejoin_as_renewal_months",
    );
    assert_eq!(fetch(&app, id_of(&c)).await.body, got);
    let r = app
        .patch(
            &path,
            &app.staff,
            json!({"months_prior_to_expiration": 0, "rejoin_as_renewal_months": 0,
                "include_all_sections": false}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["months_prior_to_expiration"], 0);
    assert_eq!(r.body["rejoin_as_renewal_months"], 0);
    assert_eq!(r.body["include_all_sections"], false);
    assert_eq!(r.body["include_all_chapters"], true);
}

#[tokio::test]
async fn b11_j4_rejoin_as_renewal_warns_unless_billing_is_annual() {
    let app = spawn().await;
    setup(&app).await;
    app.set_settings(json!({"default_billing_time": "anniversary"}))
        .await;
    // Explicit anniversary: accepted with a warning.
    let r = app
        .post(
            CYCLES,
            &app.staff,
            with(
                minimal("Anniversary rejoins"),
                json!({"billing_time": "anniversary", "rejoin_as_renewal_months": 6}),
            ),
        )
        .await
        .expect(201);
    assert_eq!(r.body["rejoin_as_renewal_months"], 6);
    assert_warning(&r.body, &["rejoin", "annual"]);
    // `default` when the settings say anniversary: the same.
    let r = app
        .post(
            CYCLES,
            &app.staff,
            with(
                minimal("Default rejoins"),
                json!({"rejoin_as_renewal_months": 6}),
            ),
        )
        .await
        .expect(201);
    let default_id = id_of(&r.body);
    assert_warning(&r.body, &["rejoin", "annual"]);
    // Annual: no warning; 0 means never, so nothing to warn about either.
    let annual = create(
        &app,
        with(
            minimal("Annual rejoins"),
            json!({"billing_time": "annual", "rejoin_as_renewal_months": 6}),
        ),
    )
    .await;
    assert_no_warnings(&annual);
    let never = create(
        &app,
        with(
            minimal("No rejoins"),
            json!({"billing_time": "anniversary"}),
        ),
    )
    .await;
    assert_no_warnings(&never);
    // A PATCH that moves an annual cycle to anniversary warns.
    let r = app
        .patch(
            &path_of(id_of(&annual)),
            &app.staff,
            json!({"billing_time": "anniversary"}),
        )
        .await
        .expect(200);
    assert_warning(&r.body, &["rejoin", "annual"]);
    // `default` follows the settings as they stand.
    app.set_settings(json!({"default_billing_time": "annual"}))
        .await;
    let got = fetch(&app, default_id).await.body;
    assert_no_warning(&got, "rejoin");
}

#[tokio::test]
async fn b11_complimentary_paid_through_at_payment_warns_unless_cash() {
    let app = spawn().await;
    setup(&app).await;
    app.set_settings(json!({"default_accounting_method": "accrual"}))
        .await;
    let flag = json!({"update_complimentary_paid_through_at_payment": true});
    let r = app
        .post(
            CYCLES,
            &app.staff,
            with(
                with(minimal("Accrual"), flag.clone()),
                json!({"accounting_method": "accrual"}),
            ),
        )
        .await
        .expect(201);
    assert_eq!(r.body["update_complimentary_paid_through_at_payment"], true);
    assert_warning(&r.body, &["complimentary", "cash"]);
    let r = app
        .post(CYCLES, &app.staff, with(minimal("Default"), flag.clone()))
        .await
        .expect(201);
    let default_id = id_of(&r.body);
    assert_warning(&r.body, &["complimentary", "cash"]);
    let cash = create(
        &app,
        with(
            with(minimal("Cash"), flag.clone()),
            json!({"accounting_method": "cash"}),
        ),
    )
    .await;
    assert_no_warnings(&cash);
    // B-8: AutoPay-only cycles are always accrual, whatever the method says.
    let r = app
        .post(
            CYCLES,
            &app.staff,
            with(
                with(minimal("AutoPay"), flag.clone()),
                json!({"accounting_method": "cash", "autopay_option": "only_autopay"}),
            ),
        )
        .await
        .expect(201);
    assert_warning(&r.body, &["complimentary", "cash"]);
    // Without the flag there is nothing to warn about.
    let plain = create(
        &app,
        with(
            minimal("Plain accrual"),
            json!({"accounting_method": "accrual"}),
        ),
    )
    .await;
    assert_no_warnings(&plain);
    // `default` follows the settings as they stand.
    app.set_settings(json!({"default_accounting_method": "cash"}))
        .await;
    assert_no_warnings(&fetch(&app, default_id).await.body);
}

// ---------------------------------------------------------------- B-12 display

#[tokio::test]
async fn b12_display_flags_round_trip() {
    let app = spawn().await;
    setup(&app).await;
    let c = create(
        &app,
        with(
            minimal("Display"),
            json!({"join_item_set": true, "itemized_renewals": true}),
        ),
    )
    .await;
    let got = fetch(&app, id_of(&c)).await.body;
    assert_eq!(got["join_item_set"], true);
    assert_eq!(got["itemized_renewals"], true);
    let path = path_of(id_of(&c));
    let r = app
        .patch(&path, &app.staff, json!({"itemized_renewals": false}))
        .await
        .expect(200);
    assert_eq!(r.body["itemized_renewals"], false);
    assert_eq!(r.body["join_item_set"], true);
    let r = app
        .patch(&path, &app.staff, json!({"join_item_set": false}))
        .await
        .expect(200);
    assert_eq!(r.body["join_item_set"], false);
    let got = fetch(&app, id_of(&c)).await.body;
    assert_eq!(got["join_item_set"], false);
    assert_eq!(got["itemized_renewals"], false);
}

// ---------------------------------------------------------------- B-13 reminders

#[tokio::test]
async fn b13_reminder_days_round_trip_and_null_clears_them() {
    let app = spawn().await;
    setup(&app).await;
    let c = create(
        &app,
        with(minimal("Reminders"), json!({"reminder_days": 30})),
    )
    .await;
    assert_eq!(c["reminder_days"], 30);
    let path = path_of(id_of(&c));
    assert_eq!(fetch(&app, id_of(&c)).await.body["reminder_days"], 30);
    // Absent: unchanged.
    let r = app
        .patch(&path, &app.staff, json!({"itemized_renewals": true}))
        .await
        .expect(200);
    assert_eq!(r.body["reminder_days"], 30);
    let r = app
        .patch(&path, &app.staff, json!({"reminder_days": 14}))
        .await
        .expect(200);
    assert_eq!(r.body["reminder_days"], 14);
    // null: no reminders.
    let r = app
        .patch(&path, &app.staff, json!({"reminder_days": null}))
        .await
        .expect(200);
    assert!(
        r.body.get("reminder_days").is_some_and(Value::is_null),
        "{}",
        r.text
    );
    let got = fetch(&app, id_of(&c)).await.body;
    assert!(
        got.get("reminder_days").is_some_and(Value::is_null),
        "{got}"
    );
    assert_eq!(got["itemized_renewals"], true);
    // An explicit null on create is the default.
    let c = create(
        &app,
        with(minimal("No reminders"), json!({"reminder_days": null})),
    )
    .await;
    assert!(c["reminder_days"].is_null());
}

// ---------------------------------------------------------------- PATCH validates the whole cycle

#[tokio::test]
async fn b3_b5_patch_revalidates_the_whole_cycle_and_replaces_lists() {
    let app = spawn().await;
    setup(&app).await;
    let r = app
        .post(
            CYCLES,
            &app.staff,
            json!({"name": "Two types", "customer_types": ["M", "RET"],
                "billing_categories": ["REG", "FYEAR"], "products": ["JOURNAL", "MISC"],
                "months_prior_to_expiration": 3}),
        )
        .await
        .expect(201);
    let c = r.body.clone();
    let id = id_of(&c);
    let path = path_of(id);
    // B-3: join_item_set on a two-type cycle is rejected and nothing changes.
    assert_invalid(
        app.patch(&path, &app.staff, json!({"join_item_set": true}))
            .await,
        "customer_types",
    );
    let now = fetch(&app, id).await;
    assert_eq!(now.body, c, "a rejected PATCH changes nothing");
    assert_eq!(etag(&now), "\"1\"", "nor the version");
    // One PATCH that fixes both is fine.
    let r = app
        .patch(
            &path,
            &app.staff,
            json!({"join_item_set": true, "customer_types": ["M"]}),
        )
        .await
        .expect(200);
    assert_eq!(etag(&r), "\"2\"");
    assert_eq!(r.body["customer_types"], json!(["M"]));
    assert_eq!(r.body["join_item_set"], true);
    // A later PATCH of a list is checked against the stored options.
    assert_invalid(
        app.patch(&path, &app.staff, json!({"customer_types": ["M", "RET"]}))
            .await,
        "customer_types",
    );
    // Lists are replaced whole, the rest stays.
    let r = app
        .patch(&path, &app.staff, json!({"products": ["GIFT"]}))
        .await
        .expect(200);
    assert_eq!(r.body["products"], json!(["GIFT"]));
    assert_eq!(r.body["customer_types"], json!(["M"]));
    assert_eq!(sorted(&r.body["billing_categories"]), vec!["FYEAR", "REG"]);
    assert_eq!(r.body["months_prior_to_expiration"], 3);
    assert_eq!(r.body["name"], "Two types");
    let r = app
        .patch(&path, &app.staff, json!({"products": []}))
        .await
        .expect(200);
    assert_eq!(r.body["products"], json!([]));
    // B-5 on PATCH.
    assert_invalid(
        app.patch(&path, &app.staff, json!({"products": ["MDUES"]}))
            .await,
        "products",
    );
    let got = fetch(&app, id).await.body;
    assert_eq!(got["products"], json!([]));
    assert_eq!(got["version"], 4);
}
