//! Contacts over HTTP: C-1..C-6, CT-6 flow-down, SEC-1 visibility for members, list filters,
//! keyset pagination and `If-Match` on PATCH.

use reqwest::Method;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{Value, json};
use tests::{TestApp, assert_field_error, detail, etag, id as id_of, spawn};

async fn type_of(app: &TestApp, id: i64) -> String {
    app.contact(id).await["customer_type"]
        .as_str()
        .expect("type")
        .to_owned()
}

fn type_changes(h: &[Value]) -> Vec<(String, String)> {
    h.iter()
        .filter(|e| e["kind"] == "type_change")
        .map(|e| {
            (
                e["from"].as_str().unwrap_or_default().to_owned(),
                e["to"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Ids of every contact matching `query`, walking all pages.
async fn ids(app: &TestApp, query: &str) -> Vec<i64> {
    let r = app
        .get(&format!("/contacts?limit=200&{query}"), &app.staff)
        .await
        .expect(200);
    assert!(r.body["next_cursor"].is_null());
    r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect()
}

async fn org(app: &TestApp, customer_type: &str, name: &str, category: Option<&str>) -> i64 {
    id_of(
        &app.create_contact(json!({"customer_type": customer_type, "organization_name": name, "billing_category": category}))
            .await,
    )
}

async fn linked(app: &TestApp, customer_type: &str, last_name: &str, company: i64) -> i64 {
    id_of(
        &app.create_contact(json!({"customer_type": customer_type, "first_name": "Pat", "last_name": last_name, "company_id": company}))
            .await,
    )
}

// ---------------------------------------------------------------- C-1

#[tokio::test]
async fn c1_ids_are_numeric_unique_increasing_and_never_reused() {
    let app = spawn().await;
    app.doctors().await;
    let mut seen = Vec::new();
    for name in ["Ann", "Bob", "Cy", "Di"] {
        let r = app
            .post(
                "/contacts",
                &app.staff,
                json!({"customer_type": "NM", "first_name": name, "last_name": "Lee"}),
            )
            .await
            .expect(201);
        let id = r.body["id"].as_i64().expect("the member id is a number");
        assert!(id > 0);
        assert_eq!(r.header("location"), Some(format!("/api/v1/contacts/{id}")));
        assert!(r.header("etag").is_some());
        if let Some(last) = seen.last() {
            assert!(id > *last, "ids increase: {seen:?} then {id}");
        }
        seen.push(id);
    }
    // The id never changes on update.
    let first = seen[0];
    let r = app
        .patch(
            &format!("/contacts/{first}"),
            &app.staff,
            json!({"first_name": "Annie"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["id"], first);
    app.patch(&format!("/contacts/{first}"), &app.staff, json!({"id": 99}))
        .await
        .problem(422, "validation_failed");
    app.post(
        "/contacts",
        &app.staff,
        json!({"id": 7, "customer_type": "NM", "last_name": "X"}),
    )
    .await
    .problem(422, "validation_failed");
    // Never reused: even after the newest record is removed (a purge, CS-4), a new contact
    // gets a fresh id.
    let newest = *seen.last().unwrap();
    entity::contact::Entity::delete_by_id(newest)
        .exec(&app.db.conn)
        .await
        .expect("delete");
    app.get(&format!("/contacts/{newest}"), &app.staff)
        .await
        .problem(404, "not_found");
    let next = id_of(
        &app.create_contact(json!({"customer_type": "NM", "last_name": "New"}))
            .await,
    );
    assert!(next > newest, "id {newest} was reused: got {next}");
    // Not-a-number ids are a 400 problem.
    app.get("/contacts/abc", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts/999999", &app.staff)
        .await
        .problem(404, "not_found");
}

// ---------------------------------------------------------------- C-2

#[tokio::test]
async fn c2_is_member_and_is_organization_are_not_settable_and_the_error_names_the_type() {
    let app = spawn().await;
    app.doctors().await;
    for field in ["is_member", "is_organization"] {
        let r = app
            .post(
                "/contacts",
                &app.staff,
                json!({"customer_type": "NM", "last_name": "Lee", field: true}),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, field);
        assert!(
            detail(&r).contains("customer type") && detail(&r).contains("NM"),
            "names the type: {}",
            r.text
        );
    }
    assert!(ids(&app, "").await.is_empty(), "nothing was created");

    let id = app.person("NM", "Lee").await;
    let before = app.contact(id).await;
    for (field, value) in [
        ("is_member", json!(true)),
        ("is_organization", json!(true)),
        ("is_member", json!(false)),
    ] {
        let r = app
            .patch(
                &format!("/contacts/{id}"),
                &app.staff,
                json!({ field: value, "first_name": "Changed" }),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, field);
        assert!(
            detail(&r).contains("customer_type") && detail(&r).contains("NM"),
            "names the type: {}",
            r.text
        );
    }
    assert_eq!(
        app.contact(id).await,
        before,
        "a rejected PATCH changes nothing"
    );
    // The flags come from the type.
    assert_eq!(before["is_member"], false);
    assert_eq!(before["is_organization"], false);
    let m = app
        .create_contact(
            json!({"customer_type": "M", "billing_category": "REG", "last_name": "Member"}),
        )
        .await;
    assert_eq!(
        (m["is_member"].as_bool(), m["is_organization"].as_bool()),
        (Some(true), Some(false))
    );
}

#[tokio::test]
async fn c2_member_patch_me_with_is_member_is_422() {
    let app = spawn().await;
    app.doctors().await;
    let id = app.person("NM", "Self").await;
    let token = app.member_token(id).await;
    let before = app.contact(id).await;
    let r = app
        .patch("/me", &token, json!({"is_member": true}))
        .await
        .problem(422, "validation_failed");
    assert!(detail(&r).contains("NM"), "names the type: {}", r.text);
    assert_field_error(&r, "is_member");
    assert_eq!(app.contact(id).await, before);
}

// ---------------------------------------------------------------- C-3

#[tokio::test]
async fn c3_person_links_to_one_organization_and_organizations_link_to_none() {
    let app = spawn().await;
    app.doctors().await;
    let hosp = org(&app, "HOSP", "General Hospital", None).await;
    let hosp2 = org(&app, "HOSP", "City Hospital", None).await;
    let person = linked(&app, "NM", "Lee", hosp).await;
    assert_eq!(app.contact(person).await["company_id"], hosp);

    // A person is not an organization to link to.
    let other = app.person("NM", "Kim").await;
    let r = app
        .post(
            "/contacts",
            &app.staff,
            json!({"customer_type": "NM", "last_name": "Roe", "company_id": other}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "company_id");
    // Nor a contact that does not exist.
    let r = app
        .post(
            "/contacts",
            &app.staff,
            json!({"customer_type": "NM", "last_name": "Roe", "company_id": 987654}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "company_id");
    // An organization cannot be linked to an organization.
    let r = app
        .post(
            "/contacts",
            &app.staff,
            json!({"customer_type": "HOSP", "organization_name": "Clinic", "company_id": hosp}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "company_id");
    assert_eq!(
        ids(&app, "").await.len(),
        4,
        "no contact was created by the rejected requests"
    );

    let before_person = app.contact(person).await;
    let r = app
        .patch(
            &format!("/contacts/{person}"),
            &app.staff,
            json!({"company_id": other}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "company_id");
    let r = app
        .patch(
            &format!("/contacts/{person}"),
            &app.staff,
            json!({"company_id": person}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "company_id");
    assert_eq!(app.contact(person).await, before_person);
    let before_org = app.contact(hosp2).await;
    let r = app
        .patch(
            &format!("/contacts/{hosp2}"),
            &app.staff,
            json!({"company_id": hosp}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "company_id");
    assert_eq!(app.contact(hosp2).await, before_org);

    // Re-linking and unlinking a person.
    let r = app
        .patch(
            &format!("/contacts/{person}"),
            &app.staff,
            json!({"company_id": hosp2}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["company_id"], hosp2);
    let r = app
        .patch(
            &format!("/contacts/{person}"),
            &app.staff,
            json!({"company_id": null}),
        )
        .await
        .expect(200);
    assert!(r.body["company_id"].is_null());

    // Record kind decides the name fields.
    let r = app
        .post(
            "/contacts",
            &app.staff,
            json!({"customer_type": "HOSP", "first_name": "A", "last_name": "B"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "organization_name");
    let r = app
        .post(
            "/contacts",
            &app.staff,
            json!({"customer_type": "NM", "organization_name": "Acme"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "last_name");
}

// ---------------------------------------------------------------- C-4

#[tokio::test]
async fn c4_one_type_one_category_one_status() {
    let app = spawn().await;
    app.doctors().await;
    // A type with a primary fee needs a billing category.
    let r = app
        .post(
            "/contacts",
            &app.staff,
            json!({"customer_type": "M", "last_name": "Lee"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billing_category");
    assert!(detail(&r).contains('M'));
    // Unknown category, status, type.
    let r = app
        .post(
            "/contacts",
            &app.staff,
            json!({"customer_type": "M", "billing_category": "NOPE", "last_name": "Lee"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billing_category");
    let r = app
        .post(
            "/contacts",
            &app.staff,
            json!({"customer_type": "NM", "status": "AZ", "last_name": "Lee"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "status");
    let r = app
        .post(
            "/contacts",
            &app.staff,
            json!({"customer_type": "GHOST", "last_name": "Lee"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "customer_type");
    app.post("/contacts", &app.staff, json!({"last_name": "Lee"}))
        .await
        .problem(422, "validation_failed");
    assert!(ids(&app, "").await.is_empty());

    // Status defaults to A; the category may be empty for types that bill nothing.
    let nm = app
        .create_contact(json!({"customer_type": "NM", "last_name": "Lee"}))
        .await;
    assert_eq!(nm["status"], "A");
    assert!(nm["billing_category"].is_null());
    let m = app
        .create_contact(json!({"customer_type": "M", "billing_category": "FYEAR", "status": "I", "last_name": "Kim"}))
        .await;
    assert_eq!(m["billing_category"], "FYEAR");
    assert_eq!(m["status"], "I");
    assert_eq!(m["customer_type"], "M");
    // Read adds the action-managed fields, empty on a new record.
    for f in [
        "join_date",
        "paid_through",
        "renew_months",
        "primary_chapter",
    ] {
        assert!(
            m.get(f).is_some_and(Value::is_null),
            "{f} present and empty: {m}"
        );
    }
    for f in ["created_at", "updated_at"] {
        assert!(
            m[f].as_str()
                .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
            "{f}: {m}"
        );
    }

    // PATCH keeps C-4: unknown status or category, or clearing the category of a fee-paying type.
    let mid = id_of(&m);
    let before = app.contact(mid).await;
    let r = app
        .patch(
            &format!("/contacts/{mid}"),
            &app.staff,
            json!({"status": "Q"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "status");
    let r = app
        .patch(
            &format!("/contacts/{mid}"),
            &app.staff,
            json!({"billing_category": "GONE"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billing_category");
    let r = app
        .patch(
            &format!("/contacts/{mid}"),
            &app.staff,
            json!({"billing_category": null}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "billing_category");
    assert_eq!(app.contact(mid).await, before);
    // Staff may change the category and the status; a status change is in the history.
    let r = app
        .patch(
            &format!("/contacts/{mid}"),
            &app.staff,
            json!({"billing_category": "INTL", "status": "A"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["billing_category"], "INTL");
    assert_eq!(r.body["status"], "A");
    let h = app.history(mid).await;
    assert!(
        h.iter()
            .any(|e| e["kind"] == "status_change" && e["from"] == "I" && e["to"] == "A"),
        "status change recorded: {h:?}"
    );
}

// ---------------------------------------------------------------- C-5

#[tokio::test]
async fn c5_action_fields_are_locked_on_patch_and_create() {
    let app = spawn().await;
    app.doctors().await;
    let id = app
        .create_contact(
            json!({"customer_type": "M", "billing_category": "REG", "last_name": "Lee"}),
        )
        .await;
    let id = id_of(&id);
    let before = app.contact(id).await;
    for (field, value) in [
        ("join_date", json!("2024-01-01")),
        ("paid_through", json!("2030-12-31")),
        ("renew_months", json!(24)),
    ] {
        let r = app
            .patch(
                &format!("/contacts/{id}"),
                &app.staff,
                json!({ field: value, "phone": "555" }),
            )
            .await
            .problem(422, "locked_field");
        assert_field_error(&r, field);
    }
    let r = app
        .patch(
            &format!("/contacts/{id}"),
            &app.staff,
            json!({"paid_through": "2030-12-31", "renew_months": 12}),
        )
        .await
        .problem(422, "locked_field");
    assert_field_error(&r, "paid_through");
    assert_field_error(&r, "renew_months");
    assert_eq!(
        app.contact(id).await,
        before,
        "a rejected PATCH changes nothing"
    );
    // Nor can a create set them.
    app.post(
        "/contacts",
        &app.staff,
        json!({"customer_type": "NM", "last_name": "X", "paid_through": "2030-12-31"}),
    )
    .await
    .problem(422, "locked_field");
    // Members neither.
    let token = app.member_token(id).await;
    app.patch("/me", &token, json!({"paid_through": "2030-12-31"}))
        .await
        .problem(422, "locked_field");
    assert_eq!(app.contact(id).await, before);
}

#[tokio::test]
async fn c5_clearing_an_action_field_with_null_is_locked_too() {
    // C-5: `null` in a PATCH clears a field (API.md); join date, paid-through and renew
    // months cannot be cleared by a profile update either, and the caller must be told so
    // (422 locked_field) rather than get a 200 that silently ignores the field.
    let app = spawn().await;
    app.doctors().await;
    let id = id_of(
        &app.create_contact(
            json!({"customer_type": "M", "billing_category": "REG", "last_name": "Lee"}),
        )
        .await,
    );
    // A member as joining and paying would leave them (no join endpoint here yet).
    let row = entity::contact::Entity::find_by_id(id)
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("row");
    let mut am = row.into_active_model();
    am.join_date = Set(chrono::NaiveDate::from_ymd_opt(2024, 4, 1));
    am.paid_through = Set(chrono::NaiveDate::from_ymd_opt(2026, 12, 31));
    am.renew_months = Set(Some(12));
    am.update(&app.db.conn).await.expect("update");
    let before = app.contact(id).await;
    assert_eq!(before["paid_through"], "2026-12-31");
    for field in ["join_date", "paid_through", "renew_months"] {
        let r = app
            .patch(
                &format!("/contacts/{id}"),
                &app.staff,
                json!({ field: null, "phone": "555" }),
            )
            .await;
        let after = app.contact(id).await;
        assert_eq!(after["join_date"], "2024-04-01");
        assert_eq!(after["paid_through"], "2026-12-31");
        assert_eq!(after["renew_months"], 12);
        let r = r.problem(422, "locked_field");
        assert_field_error(&r, field);
    }
    assert_eq!(
        app.contact(id).await,
        before,
        "a rejected PATCH changes nothing"
    );
}

#[tokio::test]
async fn c5_member_customer_type_changes_only_by_action() {
    let app = spawn().await;
    app.doctors().await;
    app.create_type(
        json!({"code": "RET", "name": "Retired", "is_member": false, "is_organization": false}),
    )
    .await;
    let m = id_of(
        &app.create_contact(
            json!({"customer_type": "M", "billing_category": "REG", "last_name": "Member"}),
        )
        .await,
    );
    let before = app.contact(m).await;
    let r = app
        .patch(
            &format!("/contacts/{m}"),
            &app.staff,
            json!({"customer_type": "NM"}),
        )
        .await
        .problem(422, "locked_field");
    assert_field_error(&r, "customer_type");
    assert_eq!(app.contact(m).await, before);

    // Nor may a plain update make a non-member a member (that is joining).
    let nm = app.person("NM", "Plain").await;
    let before_nm = app.contact(nm).await;
    app.patch(
        &format!("/contacts/{nm}"),
        &app.staff,
        json!({"customer_type": "M", "billing_category": "REG"}),
    )
    .await
    .problem(422, "locked_field");
    assert_eq!(app.contact(nm).await, before_nm);
    // Another record kind is not a reclassification either.
    let r = app
        .patch(
            &format!("/contacts/{nm}"),
            &app.staff,
            json!({"customer_type": "HOSP"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "customer_type");
    let r = app
        .patch(
            &format!("/contacts/{nm}"),
            &app.staff,
            json!({"customer_type": "GHOST"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "customer_type");
    assert_eq!(app.contact(nm).await, before_nm);
    assert!(type_changes(&app.history(nm).await).is_empty());

    // Non-member to non-member is a plain reclassification, recorded in the history.
    let r = app
        .patch(
            &format!("/contacts/{nm}"),
            &app.staff,
            json!({"customer_type": "RET"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["customer_type"], "RET");
    assert_eq!(r.body["is_member"], false);
    let h = app.history(nm).await;
    assert_eq!(type_changes(&h), vec![("NM".to_owned(), "RET".to_owned())]);
    let entry = h.iter().find(|e| e["kind"] == "type_change").unwrap();
    assert!(
        entry["at"]
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        "{entry}"
    );
    // Members' own history endpoint shows the same.
    let token = app.member_token(nm).await;
    let mine = app.get("/me/history", &token).await.expect(200).body;
    assert_eq!(
        type_changes(mine["items"].as_array().unwrap()),
        vec![("NM".to_owned(), "RET".to_owned())]
    );
}

// ---------------------------------------------------------------- C-6, SEC-1

#[tokio::test]
async fn c6_member_updates_own_profile_fields() {
    let app = spawn().await;
    app.doctors().await;
    let id = app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG", "first_name": "Ana", "last_name": "Silva"}))
        .await;
    let id = id_of(&id);
    let token = app.member_token(id).await;
    let me = app.get("/me", &token).await.expect(200);
    assert_eq!(me.body["id"], id);
    let r = app
        .patch(
            "/me",
            &token,
            json!({"phone": "+1 555 0100", "email": "ana@example.org", "ballot_preference": "paper",
                "address": {"line1": "2 Oak Ave", "city": "Springfield", "country": "US"},
                "first_name": "Ana Maria", "email_opt_in": false, "mail_opt_in": false}),
        )
        .await
        .expect(200);
    assert_ne!(etag(&r), etag(&me));
    let c = app.contact(id).await;
    assert_eq!(c["phone"], "+1 555 0100");
    assert_eq!(c["email"], "ana@example.org");
    assert_eq!(c["ballot_preference"], "paper");
    assert_eq!(c["address"]["line1"], "2 Oak Ave");
    assert_eq!(c["address"]["city"], "Springfield");
    assert_eq!(c["address"]["country"], "US");
    assert_eq!(c["first_name"], "Ana Maria");
    assert_eq!(c["email_opt_in"], false);
    assert_eq!(c["mail_opt_in"], false);
    // Validation still applies to a member's own edits.
    let r = app
        .patch("/me", &token, json!({"email": "not-an-email"}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "email");
    app.patch(
        "/me",
        &token,
        json!({"ballot_preference": "carrier-pigeon"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(app.contact(id).await, c);
}

#[tokio::test]
async fn c6_member_cannot_change_anything_but_the_profile() {
    let app = spawn().await;
    app.doctors().await;
    app.create_type(
        json!({"code": "RET", "name": "Retired", "is_member": false, "is_organization": false}),
    )
    .await;
    let hosp = org(&app, "HOSP", "General", None).await;
    let id = app.person("NM", "Self").await;
    let token = app.member_token(id).await;
    let before = app.contact(id).await;
    for (field, value) in [
        ("billing_category", json!("REG")),
        ("status", json!("I")),
        ("customer_type", json!("RET")),
        ("tags", json!(["vip"])),
        ("company_id", json!(hosp)),
        ("external_ref", json!("X-1")),
        ("autopay", json!(true)),
    ] {
        let r = app
            .patch("/me", &token, json!({ field: value, "phone": "555-0000" }))
            .await
            .problem(403, "forbidden");
        assert_field_error(&r, field);
        // Through /contacts/{own id} too.
        app.patch(&format!("/contacts/{id}"), &token, json!({ field: value }))
            .await
            .problem(403, "forbidden");
    }
    assert_eq!(app.contact(id).await, before, "nothing changed");
}

#[tokio::test]
async fn c6_sec1_member_sees_only_own_contact_and_others_are_404() {
    let app = spawn().await;
    app.doctors().await;
    let mine = app.person("NM", "Mine").await;
    let other = app.person("NM", "Other").await;
    let token = app.member_token(mine).await;
    let r = app
        .get(&format!("/contacts/{mine}"), &token)
        .await
        .expect(200);
    assert_eq!(r.body["id"], mine);
    assert!(r.header("etag").is_some());
    // Another contact's record: 404, not 403, the same as a contact that does not exist.
    let r = app
        .get(&format!("/contacts/{other}"), &token)
        .await
        .problem(404, "not_found");
    let missing = app
        .get("/contacts/987654", &token)
        .await
        .problem(404, "not_found");
    assert_eq!(r.body["title"], missing.body["title"]);
    app.get(&format!("/contacts/{other}/history"), &token)
        .await
        .problem(404, "not_found");
    let before = app.contact(other).await;
    app.patch(&format!("/contacts/{other}"), &token, json!({"phone": "1"}))
        .await
        .problem(404, "not_found");
    assert_eq!(app.contact(other).await, before);
    // Own history is readable.
    app.get(&format!("/contacts/{mine}/history"), &token)
        .await
        .expect(200);
    // Lists and creation are staff work.
    app.get("/contacts", &token).await.problem(403, "forbidden");
    app.post(
        "/contacts",
        &token,
        json!({"customer_type": "NM", "last_name": "X"}),
    )
    .await
    .problem(403, "forbidden");
    // Staff have no /me.
    app.get("/me", &app.staff).await.problem(403, "forbidden");
    // No token at all.
    let r = app
        .send(Method::GET, &format!("/contacts/{mine}"), None, None, &[])
        .await
        .problem(401, "unauthorized");
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
}

// ---------------------------------------------------------------- ETag / If-Match

#[tokio::test]
async fn contact_patch_honours_if_match() {
    // API.md General (ETag / If-Match) on the C-5/C-6 profile update: two editors cannot
    // silently overwrite each other.
    let app = spawn().await;
    app.doctors().await;
    let id = app.person("NM", "Lee").await;
    let got = app
        .get(&format!("/contacts/{id}"), &app.staff)
        .await
        .expect(200);
    let e1 = etag(&got);
    let path = format!("/contacts/{id}");
    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&app.staff),
            Some(json!({"phone": "111"})),
            &[("If-Match", &e1)],
        )
        .await
        .expect(200);
    let e2 = etag(&r);
    assert_ne!(e1, e2, "a write gives a new ETag");
    assert_eq!(r.body["phone"], "111");
    assert_eq!(etag(&app.get(&path, &app.staff).await.expect(200)), e2);

    // A second editor who read before the first write is refused.
    let before = app.contact(id).await;
    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&app.staff),
            Some(json!({"phone": "222"})),
            &[("If-Match", &e1)],
        )
        .await
        .problem(412, "precondition_failed");
    assert!(!detail(&r).is_empty());
    app.send(
        Method::PATCH,
        &path,
        Some(&app.staff),
        Some(json!({"phone": "333"})),
        &[("If-Match", "\"garbage\"")],
    )
    .await
    .problem(412, "precondition_failed");
    let after = app.get(&path, &app.staff).await.expect(200);
    assert_eq!(after.body, before, "nothing changed");
    assert_eq!(etag(&after), e2);

    // The current ETag works; weak form too.
    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&app.staff),
            Some(json!({"phone": "444"})),
            &[("If-Match", &e2)],
        )
        .await
        .expect(200);
    let e3 = etag(&r);
    app.send(
        Method::PATCH,
        &path,
        Some(&app.staff),
        Some(json!({"phone": "555"})),
        &[("If-Match", &format!("W/{e3}"))],
    )
    .await
    .expect(200);
    // Without If-Match the write is unconditional.
    app.patch(&path, &app.staff, json!({"phone": "666"}))
        .await
        .expect(200);
    assert_eq!(app.contact(id).await["phone"], "666");

    // Members' /me honours it as well.
    let token = app.member_token(id).await;
    let me = app.get("/me", &token).await.expect(200);
    let current = etag(&me);
    app.send(
        Method::PATCH,
        "/me",
        Some(&token),
        Some(json!({"phone": "777"})),
        &[("If-Match", &e1)],
    )
    .await
    .problem(412, "precondition_failed");
    assert_eq!(app.contact(id).await["phone"], "666");
    app.send(
        Method::PATCH,
        "/me",
        Some(&token),
        Some(json!({"phone": "777"})),
        &[("If-Match", &current)],
    )
    .await
    .expect(200);
    assert_eq!(app.contact(id).await["phone"], "777");
}

// ---------------------------------------------------------------- CT-6 flow-down (E-2)

#[tokio::test]
async fn ct6_person_linked_at_creation_takes_the_flow_down_type() {
    let app = spawn().await;
    app.colleges().await;
    let nm_college = org(&app, "NM", "Community College", None).await;
    let m_college = org(&app, "M", "State University", Some("RES")).await;
    let a = linked(&app, "NMIND", "Atnm", nm_college).await;
    assert_eq!(type_of(&app, a).await, "NMIND");
    let b = linked(&app, "NMIND", "Atm", m_college).await;
    let c = app.contact(b).await;
    assert_eq!(c["customer_type"], "MIND");
    assert_eq!(c["is_member"], true, "MIND is a member type");
    // Unlinked persons keep the type they were given.
    let u = app.person("NMIND", "Alone").await;
    assert_eq!(type_of(&app, u).await, "NMIND");
}

#[tokio::test]
async fn ct6_relinking_and_unlinking_a_person_moves_them() {
    let app = spawn().await;
    app.colleges().await;
    let nm_college = org(&app, "NM", "Community College", None).await;
    let m_college = org(&app, "M", "State University", Some("RES")).await;
    let p = linked(&app, "NMIND", "Mover", nm_college).await;
    assert_eq!(type_of(&app, p).await, "NMIND");

    // Relinked to a member college: MIND.
    let r = app
        .patch(
            &format!("/contacts/{p}"),
            &app.staff,
            json!({"company_id": m_college}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["customer_type"], "MIND");
    assert_eq!(r.body["company_id"], m_college);
    assert_eq!(r.body["is_member"], true);
    // Unlinked: the default person type.
    let r = app
        .patch(
            &format!("/contacts/{p}"),
            &app.staff,
            json!({"company_id": null}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["customer_type"], "NMIND");
    assert!(r.body["company_id"].is_null());
    // Linked again to the member college, then moved to the non-member college.
    let r = app
        .patch(
            &format!("/contacts/{p}"),
            &app.staff,
            json!({"company_id": m_college}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["customer_type"], "MIND");
    let r = app
        .patch(
            &format!("/contacts/{p}"),
            &app.staff,
            json!({"company_id": nm_college}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["customer_type"], "NMIND");
    let h = app.history(p).await;
    assert_eq!(
        type_changes(&h),
        vec![
            ("NMIND".to_owned(), "MIND".to_owned()),
            ("MIND".to_owned(), "NMIND".to_owned()),
            ("NMIND".to_owned(), "MIND".to_owned()),
            ("MIND".to_owned(), "NMIND".to_owned()),
        ],
        "each move recorded, oldest first"
    );
}

#[tokio::test]
async fn ct6_person_with_a_membership_of_their_own_is_never_moved_by_linking() {
    let app = spawn().await;
    app.colleges().await;
    app.create_product("IDUES", "dues", "150.00").await;
    app.create_type(json!({"code": "IND", "name": "Individual member", "is_member": true, "is_organization": false,
        "primary_fee": {"kind": "products", "products": ["IDUES"]}, "expires_to": "NMIND"}))
        .await;
    app.create_type(json!({"code": "OTHER", "name": "Unrelated non-member", "is_member": false, "is_organization": false}))
        .await;
    let nm_college = org(&app, "NM", "Community College", None).await;
    let m_college = org(&app, "M", "State University", Some("RES")).await;
    let own = id_of(
        &app.create_contact(json!({"customer_type": "IND", "billing_category": "RES", "last_name": "Payer", "company_id": m_college}))
            .await,
    );
    assert_eq!(type_of(&app, own).await, "IND");
    for company in [json!(nm_college), Value::Null, json!(m_college)] {
        let r = app
            .patch(
                &format!("/contacts/{own}"),
                &app.staff,
                json!({"company_id": company}),
            )
            .await
            .expect(200);
        assert_eq!(
            r.body["customer_type"], "IND",
            "linking to {company} leaves IND alone"
        );
    }
    // A person of a type that is neither a flow-down type nor the default does not follow either.
    let other = linked(&app, "OTHER", "Unrelated", m_college).await;
    assert_eq!(type_of(&app, other).await, "OTHER");
    app.patch(
        &format!("/contacts/{other}"),
        &app.staff,
        json!({"company_id": nm_college}),
    )
    .await
    .expect(200);
    assert_eq!(type_of(&app, other).await, "OTHER");
    assert!(type_changes(&app.history(own).await).is_empty());
    assert!(type_changes(&app.history(other).await).is_empty());
}

#[tokio::test]
async fn ct6_organization_type_change_moves_all_linked_followers_at_once() {
    let app = spawn().await;
    app.colleges().await;
    app.create_product("IDUES", "dues", "150.00").await;
    app.create_type(json!({"code": "IND", "name": "Individual member", "is_member": true, "is_organization": false,
        "primary_fee": {"kind": "products", "products": ["IDUES"]}, "expires_to": "NMIND"}))
        .await;
    app.create_type(json!({"code": "AFF", "name": "Affiliate individual", "is_member": false, "is_organization": false}))
        .await;
    app.create_type(json!({"code": "AFFC", "name": "Affiliate college", "is_member": false, "is_organization": true,
        "flow_down_type": "AFF"}))
        .await;
    let college = org(&app, "NM", "Community College", None).await;
    let elsewhere = org(&app, "NM", "Other College", None).await;
    let followers: Vec<i64> = {
        let mut v = Vec::new();
        for name in ["F1", "F2", "F3"] {
            v.push(linked(&app, "NMIND", name, college).await);
        }
        v
    };
    let payer = id_of(
        &app.create_contact(json!({"customer_type": "IND", "billing_category": "LA", "last_name": "Payer", "company_id": college}))
            .await,
    );
    let unrelated = linked(&app, "NMIND", "Elsewhere", elsewhere).await;
    let versions: Vec<i64> = {
        let mut v = Vec::new();
        for f in &followers {
            v.push(app.contact(*f).await["version"].as_i64().unwrap());
        }
        v
    };

    let r = app
        .patch(
            &format!("/contacts/{college}"),
            &app.staff,
            json!({"customer_type": "AFFC"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["customer_type"], "AFFC");
    for (f, v) in followers.iter().zip(&versions) {
        let c = app.contact(*f).await;
        assert_eq!(c["customer_type"], "AFF", "follower {f} moved");
        assert!(
            c["version"].as_i64().unwrap() > *v,
            "follower {f}'s ETag changes with its type"
        );
        assert_eq!(
            type_changes(&app.history(*f).await),
            vec![("NMIND".to_owned(), "AFF".to_owned())]
        );
    }
    assert_eq!(
        type_of(&app, payer).await,
        "IND",
        "a person with their own membership stays"
    );
    assert!(type_changes(&app.history(payer).await).is_empty());
    assert_eq!(
        type_of(&app, unrelated).await,
        "NMIND",
        "persons of other organizations stay"
    );
    assert_eq!(
        type_changes(&app.history(college).await),
        vec![("NM".to_owned(), "AFFC".to_owned())]
    );
    assert_eq!(
        ids(&app, &format!("customer_type=AFF&company_id={college}"))
            .await
            .len(),
        3
    );

    // And back again.
    app.patch(
        &format!("/contacts/{college}"),
        &app.staff,
        json!({"customer_type": "NM"}),
    )
    .await
    .expect(200);
    for f in &followers {
        assert_eq!(type_of(&app, *f).await, "NMIND");
        assert_eq!(
            type_changes(&app.history(*f).await),
            vec![
                ("NMIND".to_owned(), "AFF".to_owned()),
                ("AFF".to_owned(), "NMIND".to_owned())
            ]
        );
    }
    assert_eq!(type_of(&app, payer).await, "IND");

    // A member college's type cannot be changed by a plain update (C-5).
    let m_college = org(&app, "M", "State University", Some("RES")).await;
    app.patch(
        &format!("/contacts/{m_college}"),
        &app.staff,
        json!({"customer_type": "NM"}),
    )
    .await
    .problem(422, "locked_field");
}

// ---------------------------------------------------------------- list filters and paging

#[tokio::test]
async fn contacts_list_filters() {
    // API.md Contacts list filters over C-2 (is_member from the type), C-3 (company_id) and
    // C-4 (customer_type, billing_category, status), plus tag and q.
    let app = spawn().await;
    app.doctors().await;
    let hosp = org(&app, "HOSP", "General Hospital", None).await;
    let hosp2 = org(&app, "HOSP", "City Hospital", None).await;
    let smith = id_of(
        &app.create_contact(json!({"customer_type": "M", "billing_category": "REG", "first_name": "Jane", "last_name": "Smith",
            "email": "Jane.Smith@Example.ORG", "company_id": hosp, "tags": ["Board", "speaker"]}))
            .await,
    );
    let jones = id_of(
        &app.create_contact(json!({"customer_type": "M", "billing_category": "FYEAR", "first_name": "Tom", "last_name": "Jones",
            "email": "tj@mail.test", "status": "I", "company_id": hosp2, "tags": ["speaker"]}))
            .await,
    );
    let brown = id_of(
        &app.create_contact(json!({"customer_type": "NM", "first_name": "Ann", "last_name": "Brown", "email": "ann@brown.test",
            "company_id": hosp}))
            .await,
    );
    let all = ids(&app, "").await;
    assert_eq!(all, vec![hosp, hosp2, smith, jones, brown], "ordered by id");

    assert_eq!(ids(&app, "customer_type=M").await, vec![smith, jones]);
    assert_eq!(ids(&app, "customer_type=HOSP").await, vec![hosp, hosp2]);
    assert_eq!(ids(&app, "customer_type=NOPE").await, Vec::<i64>::new());
    assert_eq!(ids(&app, "billing_category=FYEAR").await, vec![jones]);
    assert_eq!(ids(&app, "status=I").await, vec![jones]);
    assert_eq!(ids(&app, "status=A").await, vec![hosp, hosp2, smith, brown]);
    assert_eq!(ids(&app, "is_member=true").await, vec![smith, jones]);
    assert_eq!(ids(&app, "is_member=false").await, vec![hosp, hosp2, brown]);
    assert_eq!(
        ids(&app, &format!("company_id={hosp}")).await,
        vec![smith, brown]
    );
    assert_eq!(ids(&app, &format!("company_id={hosp2}")).await, vec![jones]);
    assert_eq!(ids(&app, "tag=speaker").await, vec![smith, jones]);
    assert_eq!(
        ids(&app, "tag=board").await,
        vec![smith],
        "tags are case-insensitive"
    );
    assert_eq!(ids(&app, "tag=BOARD").await, vec![smith]);
    // A tag filter pages by cursor like any other list.
    let first = app
        .get("/contacts?tag=speaker&limit=1", &app.staff)
        .await
        .expect(200);
    assert_eq!(first.body["items"][0]["id"].as_i64(), Some(smith));
    let cursor = first.body["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let second = app
        .get(
            &format!("/contacts?tag=speaker&limit=1&cursor={cursor}"),
            &app.staff,
        )
        .await;
    assert_eq!(second.body["items"][0]["id"].as_i64(), Some(jones));
    assert!(second.body["next_cursor"].is_null(), "{}", second.body);
    // q: case-insensitive, in names and email.
    assert_eq!(ids(&app, "q=smith").await, vec![smith]);
    assert_eq!(ids(&app, "q=SMITH").await, vec![smith]);
    assert_eq!(ids(&app, "q=jane.smith%40example.org").await, vec![smith]);
    assert_eq!(ids(&app, "q=MAIL.TEST").await, vec![jones]);
    assert_eq!(ids(&app, "q=hospital").await, vec![hosp, hosp2]);
    assert_eq!(ids(&app, "q=ann").await, vec![brown]);
    assert_eq!(ids(&app, "q=zzz").await, Vec::<i64>::new());
    // Filters combine.
    assert_eq!(
        ids(&app, &format!("company_id={hosp}&is_member=true")).await,
        vec![smith]
    );
    assert_eq!(
        ids(&app, "customer_type=M&tag=speaker&status=A").await,
        vec![smith]
    );
    // Bad filter values are 400 problems.
    app.get("/contacts?is_member=maybe", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts?company_id=abc", &app.staff)
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn contacts_q_search_finds_emails_and_names_with_underscores() {
    // C-1 contacts, API.md Contacts: q is a name/email search. An email with `_` (very common) must be findable by
    // the email itself.
    let app = spawn().await;
    app.doctors().await;
    let a = id_of(
        &app.create_contact(
            json!({"customer_type": "NM", "last_name": "Ng", "email": "mary_ann@example.org"}),
        )
        .await,
    );
    let b = id_of(
        &app.create_contact(
            json!({"customer_type": "NM", "last_name": "Ok", "email": "maryann@example.org"}),
        )
        .await,
    );
    assert_eq!(ids(&app, "q=mary_ann%40example.org").await, vec![a]);
    assert_eq!(ids(&app, "q=maryann%40example.org").await, vec![b]);
    let c = id_of(
        &app.create_contact(json!({"customer_type": "NM", "last_name": "100% Pure"}))
            .await,
    );
    assert_eq!(ids(&app, "q=100%25").await, vec![c]);
}

#[tokio::test]
async fn contacts_list_updated_since_excludes_older_changes() {
    // API.md General: incremental sync of contacts (C-1 records) by `updated_since`.
    let app = spawn().await;
    app.doctors().await;
    let old = app.person("NM", "Old").await;
    let also_old = app.person("NM", "AlsoOld").await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let mark = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let new = app.person("NM", "New").await;
    let since = mark.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert_eq!(
        ids(&app, &format!("updated_since={since}")).await,
        vec![new]
    );
    // An update brings a contact into the window.
    app.patch(
        &format!("/contacts/{old}"),
        &app.staff,
        json!({"phone": "1"}),
    )
    .await
    .expect(200);
    assert_eq!(
        ids(&app, &format!("updated_since={since}")).await,
        vec![old, new]
    );
    assert!(
        !ids(&app, &format!("updated_since={since}"))
            .await
            .contains(&also_old)
    );
    // Offsets other than Z are understood (+ percent-encoded in the query).
    let plus2 = mark
        .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap())
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
        .replace('+', "%2B");
    assert_eq!(
        ids(&app, &format!("updated_since={plus2}")).await,
        vec![old, new]
    );
    // Far past: everything; far future: nothing.
    assert_eq!(
        ids(&app, "updated_since=2000-01-01T00:00:00Z").await.len(),
        3
    );
    assert!(
        ids(&app, "updated_since=2999-01-01T00:00:00Z")
            .await
            .is_empty()
    );
    // Not a timestamp: 400.
    app.get("/contacts?updated_since=yesterday", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts?updated_since=2026-01-01", &app.staff)
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn contacts_keyset_pagination() {
    // API.md General (lists): keyset pagination over contacts, in C-1 member-id order.
    let app = spawn().await;
    app.doctors().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(app.person("NM", &format!("P{i}")).await);
    }
    let org_id = org(&app, "HOSP", "Hospital", None).await;
    created.push(org_id);
    for limit in [1, 2, 3, 8, 50] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => format!("/contacts?limit={limit}"),
                Some(c) => format!("/contacts?limit={limit}&cursor={c}"),
            };
            let r = app.get(&path, &app.staff).await.expect(200);
            let page: Vec<i64> = r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(id_of)
                .collect();
            assert!(page.len() <= limit);
            seen.extend(page.iter().copied());
            match r.body["next_cursor"].as_str() {
                Some(c) => {
                    assert_eq!(page.len(), limit);
                    cursor = Some(c.to_owned());
                }
                None => break,
            }
            assert!(seen.len() <= created.len(), "pagination does not loop");
        }
        assert_eq!(
            seen, created,
            "every contact once, in id order, with limit {limit}"
        );
    }
    // With a filter.
    let r = app
        .get("/contacts?customer_type=NM&limit=4", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect::<Vec<_>>(),
        created[..4].to_vec()
    );
    let c = r["next_cursor"].as_str().unwrap();
    let r = app
        .get(
            &format!("/contacts?customer_type=NM&limit=4&cursor={c}"),
            &app.staff,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect::<Vec<_>>(),
        created[4..7].to_vec()
    );
    assert!(r["next_cursor"].is_null());
    // Limits and cursors that are not ours.
    app.get("/contacts?limit=0", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts?limit=201", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts?cursor=garbage!", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    // Letters are no id.
    app.get("/contacts?cursor=azphYmM", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    // A cursor from another list (customer types are keyed by code).
    let types = app
        .get("/customer-types?limit=1", &app.staff)
        .await
        .expect(200)
        .body;
    let foreign = types["next_cursor"].as_str().expect("more than one type");
    app.get(&format!("/contacts?cursor={foreign}"), &app.staff)
        .await
        .problem(400, "invalid_parameter");
    // History lists page too.
    let h = app
        .get(
            &format!("/contacts/{}/history?limit=0", created[0]),
            &app.staff,
        )
        .await;
    assert_eq!(h.status.as_u16(), 400, "{}", h.text);
}

// ---------------------------------------------------------------- tags and profile

#[tokio::test]
async fn c5_plain_profile_update_changes_profile_fields_tags_and_refs() {
    let app = spawn().await;
    app.doctors().await;
    let c = app
        .create_contact(json!({"customer_type": "NM", "first_name": " Ann ", "last_name": "Lee", "tags": ["VIP", "vip", "event-2026"],
            "external_ref": "LEG-1", "address": {"line1": "1 Main", "country": "us"}, "autopay": true}))
        .await;
    assert_eq!(c["first_name"], "Ann", "trimmed");
    assert_eq!(c["tags"], json!(["event-2026", "vip"]));
    assert_eq!(c["external_ref"], "LEG-1");
    assert_eq!(c["address"]["country"], "US");
    assert_eq!(c["autopay"], true);
    let id = id_of(&c);
    // external_ref is unique.
    app.post(
        "/contacts",
        &app.staff,
        json!({"customer_type": "NM", "last_name": "Dup", "external_ref": "LEG-1"}),
    )
    .await
    .problem(409, "conflict");
    let r = app
        .patch(
            &format!("/contacts/{id}"),
            &app.staff,
            json!({"tags": ["board"]}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["tags"], json!(["board"]));
    let r = app
        .patch(
            &format!("/contacts/{id}"),
            &app.staff,
            json!({"tags": ["bad tag!"]}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "tags");
    assert_eq!(app.contact(id).await["tags"], json!(["board"]));
    // `null` clears an optional field; absent leaves it.
    let r = app
        .patch(
            &format!("/contacts/{id}"),
            &app.staff,
            json!({"external_ref": null}),
        )
        .await
        .expect(200);
    assert!(r.body["external_ref"].is_null());
    assert_eq!(r.body["first_name"], "Ann");
    // A person must keep a last name.
    app.patch(
        &format!("/contacts/{id}"),
        &app.staff,
        json!({"last_name": null}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(app.contact(id).await["last_name"], "Lee");
}

/// MG-2: likely duplicates come from the database: one email address whatever its case, or
/// one name and postal code whatever their case and spaces, each pair once per reason, the
/// older contact first, paged by a cursor; staff only.
#[tokio::test]
async fn mg2_likely_duplicates_are_listed_with_their_reason() {
    let app = spawn().await;
    app.doctors().await;
    let person = |first: &str, last: &str, email: Option<&str>, postal: Option<&str>| {
        json!({"customer_type": "NM", "first_name": first, "last_name": last, "email": email,
            "address": {"postal_code": postal}})
    };
    let mut ids = Vec::new();
    for body in [
        person("Ann", "Lee", Some("ann.lee@example.org"), Some("K1A 0B1")),
        person("ANN", "lee", Some("Ann.Lee@Example.org"), Some("k1a0b1")),
        person("Ann", "Lee", None, Some("K1A 0B2")),
        person("Bob", "Stone", Some("ANN.LEE@example.org"), None),
        person("Cy", "Other", Some("cy@example.org"), Some("K1A 0B1")),
    ] {
        ids.push(tests::id(&app.create_contact(body).await));
    }
    let [a, b, _, d, _] = ids[..] else {
        unreachable!()
    };
    let expected = vec![
        json!({"contact_id": a, "duplicate_id": b, "reason": "email"}),
        json!({"contact_id": a, "duplicate_id": b, "reason": "name_postal_code"}),
        json!({"contact_id": a, "duplicate_id": d, "reason": "email"}),
        json!({"contact_id": b, "duplicate_id": d, "reason": "email"}),
    ];
    assert_eq!(app.items("/contacts/duplicates").await, expected);

    let first = app
        .get("/contacts/duplicates?limit=2", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(2));
    let cursor = first["next_cursor"].as_str().expect("cursor").to_owned();
    assert_eq!(cursor, format!("{a}-{b}-name_postal_code"));
    let rest = app
        .get(
            &format!("/contacts/duplicates?limit=2&cursor={cursor}"),
            &app.staff,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(rest["items"], json!(expected[2..]));
    assert!(rest["next_cursor"].is_null());

    app.get("/contacts/duplicates?cursor=12-nickname", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    let member = app.member_token(a).await;
    assert_eq!(app.get("/contacts/duplicates", &member).await.status, 403);
}

/// MG-2: a merge moves everything that references the merged contact to the survivor in one
/// transaction: subscriptions, invoices and their terms in the history, tags, logins,
/// committee service, and the persons linked to a merged organization. The survivor keeps
/// the earlier join date and takes the external reference; the merged id answers 404 naming
/// the survivor, and is left out of lists and duplicates.
#[tokio::test]
async fn mg2_merge_moves_every_reference_to_the_survivor() {
    let app = spawn().await;
    app.doctors_with_join_cycle("JOIN").await;
    app.create_product("CHAPT/EAST", "chapter", "25.00").await;
    let person = |last: &str, email: &str, extra: Value| {
        let mut body = json!({"customer_type": "NM", "first_name": "Ann", "last_name": last,
            "email": email, "tags": ["volunteer"]});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        body
    };
    let survivor = tests::id(
        &app.create_contact(person("Lee", "ann@example.org", json!({"tags": ["board"]})))
            .await,
    );
    let merged = tests::id(
        &app.create_contact(person(
            "Lee",
            "ANN@example.org",
            json!({"external_ref": "OLD-7"}),
        ))
        .await,
    );
    let invoice = app
        .join_and_pay(merged, "JOIN", "2020-03-01", "2020-03-01")
        .await;
    app.subscribe(json!({"contact_id": merged, "product": "CHAPT/EAST"}))
        .await;
    let committee = tests::id(
        &app.post(
            "/committees",
            &app.staff,
            json!({"name": "Finance", "kind": "committee"}),
        )
        .await
        .expect(201)
        .body,
    );
    app.post(
        &format!("/committees/{committee}/members"),
        &app.staff,
        json!({"contact_id": merged, "position": "chair", "begin": "2025-01-01"}),
    )
    .await
    .expect(201);
    let old_token = app.member_token(merged).await;

    let res = app
        .post(
            &format!("/contacts/{merged}/merge"),
            &app.staff,
            json!({"into": survivor}),
        )
        .await
        .expect(200);
    assert_eq!(res.body["id"], survivor);
    assert_eq!(res.body["external_ref"], "OLD-7");
    assert_eq!(res.body["join_date"], "2020-03-01");
    assert_eq!(
        res.body["customer_type"], "M",
        "the member's type is not lost"
    );
    assert_eq!(res.body["tags"], json!(["board", "volunteer"]));

    let gone = app
        .get(&format!("/contacts/{merged}"), &app.staff)
        .await
        .problem(404, "not_found");
    assert_eq!(gone.body["merged_into"], survivor, "{}", gone.text);
    let products: Vec<Value> = app
        .subscriptions(&format!("contact_id={survivor}"))
        .await
        .iter()
        .map(|s| s["product"].clone())
        .collect();
    assert!(products.contains(&json!("MDUES")) && products.contains(&json!("CHAPT/EAST")));
    assert!(
        app.subscriptions(&format!("contact_id={merged}"))
            .await
            .is_empty()
    );
    assert_eq!(
        app.invoice(tests::id(&invoice)).await["contact_id"],
        survivor
    );
    assert!(
        app.history(survivor)
            .await
            .iter()
            .any(|h| h["kind"] == "term")
    );
    let roster = app.items(&format!("/committees/{committee}/members")).await;
    assert_eq!(roster[0]["contact_id"], survivor, "{roster:?}");
    let ids: Vec<Value> = app
        .all("/contacts")
        .await
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert!(ids.contains(&json!(survivor)) && !ids.contains(&json!(merged)));
    assert!(app.items("/contacts/duplicates").await.is_empty());
    // The login moved to the survivor: a token issued for the merged contact must sign in
    // again, and then reads the survivor.
    use sea_orm::{ColumnTrait, QueryFilter};
    let login = entity::user::Entity::find()
        .filter(entity::user::Column::Username.eq(format!("member-{merged}")))
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("the merged contact's login");
    assert_eq!(login.contact_id, Some(survivor));
    app.get("/me", &old_token)
        .await
        .problem(401, "unauthorized");
    let me = app
        .get("/me", &app.member_token(survivor).await)
        .await
        .expect(200);
    assert_eq!(me.body["id"], survivor);
    let deleted = app.events_of("contact.deleted").await;
    assert!(
        deleted.iter().any(|e| e["data"]["merged_into"] == survivor),
        "{deleted:?}"
    );
    let audited = app.audit_events("mergeContact").await;
    assert_eq!(audited.len(), 1, "{audited:?}");

    // Organizations: persons linked to the merged one follow the survivor.
    let org = |name: &str| json!({"customer_type": "HOSP", "organization_name": name});
    let keep = tests::id(&app.create_contact(org("General")).await);
    let drop = tests::id(&app.create_contact(org("General Hospital")).await);
    let staffer = tests::id(
        &app.create_contact(
            json!({"customer_type": "NM", "last_name": "Staffer", "company_id": drop}),
        )
        .await,
    );
    app.post(
        &format!("/contacts/{drop}/merge"),
        &app.staff,
        json!({"into": keep}),
    )
    .await
    .expect(200);
    let staffer = app.contact(staffer).await;
    assert_eq!(staffer["company_id"], keep);
    assert_eq!(staffer["version"], 2);
}

/// MG-2 bad input: a merge into itself, into a merged contact, of a merged contact, across
/// record kinds, or of two contacts holding one product is refused and changes nothing.
#[tokio::test]
async fn mg2_merges_that_cannot_be_made_are_refused_and_change_nothing() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let a = app.person("NM", "Able").await;
    let b = app.person("NM", "Baker").await;
    let c = app.person("NM", "Cole").await;
    let org = tests::id(
        &app.create_contact(json!({"customer_type": "HOSP", "organization_name": "Clinic"}))
            .await,
    );
    for who in [a, b] {
        app.subscribe(json!({"contact_id": who, "product": "JOURNAL"}))
            .await;
    }
    let merge = |id: i64, into: Value| {
        let app = &app;
        async move {
            app.post(
                &format!("/contacts/{id}/merge"),
                &app.staff,
                json!({"into": into}),
            )
            .await
        }
    };
    merge(a, json!(a)).await.problem(422, "validation_failed");
    let both = merge(a, json!(b)).await.problem(409, "conflict");
    assert!(both.text.contains("JOURNAL"), "{}", both.text);
    assert_eq!(app.subscriptions(&format!("contact_id={a}")).await.len(), 1);
    merge(a, json!(org)).await.problem(422, "validation_failed");
    merge(a, json!(999_999))
        .await
        .problem(422, "validation_failed");
    merge(999_999, json!(a)).await.problem(404, "not_found");
    merge(a, json!("x")).await.problem(422, "validation_failed");
    merge(c, json!(a)).await.expect(200);
    let again = merge(c, json!(b)).await.problem(404, "not_found");
    assert_eq!(again.body["merged_into"], a);
    let into_merged = merge(b, json!(c)).await.problem(422, "validation_failed");
    assert!(
        into_merged.text.contains(&format!("merge into {a}")),
        "{}",
        into_merged.text
    );
    let member = app.member_token(b).await;
    assert_eq!(
        app.post(&format!("/contacts/{b}/merge"), &member, json!({"into": a}))
            .await
            .status,
        403
    );
    assert_eq!(app.contact(b).await["version"], 1, "nothing changed");
}

/// MG-2: every column of the schema that references a contact is one that a merge moves; a
/// new table that references contacts fails here until the merge handles it.
#[tokio::test]
async fn mg2_merge_handles_every_foreign_key_to_contacts() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let app = spawn().await;
    let conn = &app.db.conn;
    let sql = match conn.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT cl.relname::text, a.attname::text FROM pg_constraint k \
             JOIN pg_class cl ON cl.oid = k.conrelid \
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey) \
             WHERE k.contype = 'f' AND k.confrelid = 'contacts'::regclass"
        }
        _ => {
            "SELECT m.name, f.\"from\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND f.\"table\" = 'contacts'"
        }
    };
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .expect("foreign keys");
    let mut schema: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get_by_index::<String>(0).expect("table"),
                r.try_get_by_index::<String>(1).expect("column"),
            )
        })
        .collect();
    schema.sort();
    let mut handled: Vec<(String, String)> = service::contacts::merge::REFERENCES
        .iter()
        .map(|(t, c, _)| (t.to_string(), c.to_string()))
        .collect();
    handled.sort();
    assert!(schema.len() >= 18, "{schema:?}");
    assert_eq!(
        schema, handled,
        "tables referencing contacts vs. what a merge moves"
    );
}
