//! Membership lifecycle over HTTP: expiry (L-1, CS-3, CT-6), mass change (L-4), purge (CS-4),
//! member history with gaps (L-6), and the audit trail of those staff actions.

use reqwest::Method;
use serde_json::{Value, json};
use tests::{TestApp, id, spawn};

const JOIN_CYCLE: &str = "Member join";

/// A contact of type `M` holding MDUES paid through `paid_through` (C-7 copies it).
async fn member(app: &TestApp, last: &str, paid_through: &str) -> i64 {
    let c = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "Pat", "last_name": last}))
        .await);
    hold(app, c, "MDUES", paid_through).await;
    c
}

async fn hold(app: &TestApp, c: i64, product: &str, paid_through: &str) {
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": c, "product": product, "is_membership_component": true,
            "paid_through": paid_through, "bill_subscription": true}),
    )
    .await
    .expect(201);
}

async fn expire(app: &TestApp, as_of: &str, dry_run: bool) -> Value {
    app.post(
        "/membership/expire",
        &app.staff,
        json!({"as_of": as_of, "dry_run": dry_run}),
    )
    .await
    .expect(200)
    .body
}

/// `(contact_id, from, to)` of a `changed` list.
fn changes(body: &Value) -> Vec<(i64, String, String)> {
    body["changed"]
        .as_array()
        .unwrap_or_else(|| panic!("changed in {body}"))
        .iter()
        .map(|c| {
            (
                c["contact_id"].as_i64().expect("contact_id"),
                c["from"].as_str().expect("from").to_owned(),
                c["to"].as_str().expect("to").to_owned(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------- L-1, CS-3

#[tokio::test]
async fn l1_cs3_expiry_preview_then_apply_makes_lapsed_members_active_non_members() {
    let app = spawn().await;
    app.doctors().await;
    app.set_settings(json!({"grace_period_months": 3})).await;
    // TERM-VECTORS: paid through 2026-06-30 with 3 months' grace has expired on 2026-10-01;
    // 2026-07-31 has not.
    let lapsed = member(&app, "Lapsed", "2026-06-30").await;
    let in_grace = member(&app, "InGrace", "2026-07-31").await;
    let non_member = app.person("NM", "Never").await;

    // The day before, nobody has expired yet.
    let early = expire(&app, "2026-09-30", true).await;
    assert!(changes(&early).is_empty(), "{early}");

    let preview = expire(&app, "2026-10-01", true).await;
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["expired_paid_through"], "2026-06-30");
    assert_eq!(preview["grace_period_months"], 3);
    assert_eq!(
        changes(&preview),
        vec![(lapsed, "M".into(), "NM".into())],
        "{preview}"
    );
    // A preview writes nothing.
    assert_eq!(app.contact(lapsed).await["customer_type"], "M");
    assert!(app.audit_events("membership.expire").await.is_empty());

    let r = app
        .send(
            Method::POST,
            "/membership/expire",
            Some(&app.staff),
            Some(json!({"as_of": "2026-10-01"})),
            &[("X-Request-Id", "expire-2026-10")],
        )
        .await
        .expect(200);
    assert_eq!(r.body["dry_run"], false);
    assert_eq!(changes(&r.body), changes(&preview));
    let k = app.contact(lapsed).await;
    assert_eq!(k["customer_type"], "NM");
    assert_eq!(k["is_member"], false);
    // CS-3: active non-member, not an inactive or suspended member.
    assert_eq!(k["status"], "A");
    assert_eq!(
        k["paid_through"], "2026-06-30",
        "paid-through is history, kept"
    );
    assert_eq!(app.contact(in_grace).await["customer_type"], "M");
    assert_eq!(app.contact(non_member).await["customer_type"], "NM");
    let h = app.history(lapsed).await;
    assert!(
        h.iter()
            .any(|e| e["kind"] == "type_change" && e["from"] == "M" && e["to"] == "NM"),
        "{h:?}"
    );
    let events = app.audit_events("membership.expire").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["request_id"], "expire-2026-10");
    assert_eq!(events[0]["details"]["expired"], 1);
    assert!(events[0]["user_id"].as_i64().is_some());

    // Running it again changes nobody.
    let again = expire(&app, "2026-10-01", false).await;
    assert!(changes(&again).is_empty(), "{again}");
}

#[tokio::test]
async fn l1_without_grace_expires_the_day_after_paid_through_at_month_ends() {
    let app = spawn().await;
    app.doctors().await;
    let feb = member(&app, "Leap", "2024-02-29").await;
    let mar = member(&app, "March", "2024-03-01").await;
    let r = expire(&app, "2024-03-01", false).await;
    assert_eq!(changes(&r), vec![(feb, "M".into(), "NM".into())]);
    assert_eq!(r["expired_paid_through"], "2024-02-29");
    assert_eq!(app.contact(mar).await["customer_type"], "M");
}

#[tokio::test]
async fn l1_ct6_an_expiring_college_takes_its_linked_persons_along() {
    let app = spawn().await;
    app.colleges().await;
    // A person with a membership of their own never follows the college.
    app.create_product("IDUES", "dues", "90.00").await;
    app.create_type(
        json!({"code": "IM", "name": "Individual member", "is_member": true,
        "is_organization": false, "primary_fee": {"kind": "products", "products": ["IDUES"]},
        "expires_to": "NMIND"}),
    )
    .await;
    let lapsed_college = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "RES",
            "organization_name": "Old College"}))
        .await);
    hold(&app, lapsed_college, "CDUES", "2025-12-31").await;
    let paid_college = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "RES",
            "organization_name": "Paid College"}))
        .await);
    hold(&app, paid_college, "CDUES", "2026-12-31").await;
    let follower = id(&app
        .create_contact(json!({"customer_type": "NMIND", "first_name": "Flo",
            "last_name": "Follower", "company_id": lapsed_college}))
        .await);
    assert_eq!(app.contact(follower).await["customer_type"], "MIND");
    let own = id(&app
        .create_contact(
            json!({"customer_type": "IM", "billing_category": "RES", "first_name": "Owen",
            "last_name": "Own", "company_id": lapsed_college}),
        )
        .await);
    hold(&app, own, "IDUES", "2027-06-30").await;
    let elsewhere = id(&app
        .create_contact(json!({"customer_type": "NMIND", "first_name": "Ella",
            "last_name": "Elsewhere", "company_id": paid_college}))
        .await);

    let preview = expire(&app, "2026-06-01", true).await;
    assert_eq!(
        changes(&preview),
        vec![
            (lapsed_college, "M".into(), "NM".into()),
            (follower, "MIND".into(), "NMIND".into()),
        ],
        "{preview}"
    );
    let flo = preview["changed"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["contact_id"] == follower))
        .cloned()
        .expect("follower listed");
    assert_eq!(flo["company_id"], lapsed_college);

    expire(&app, "2026-06-01", false).await;
    assert_eq!(app.contact(lapsed_college).await["customer_type"], "NM");
    let f = app.contact(follower).await;
    assert_eq!(f["customer_type"], "NMIND");
    assert_eq!(f["status"], "A");
    assert_eq!(app.contact(own).await["customer_type"], "IM");
    assert_eq!(app.contact(paid_college).await["customer_type"], "M");
    assert_eq!(app.contact(elsewhere).await["customer_type"], "MIND");
    assert!(
        app.history(follower)
            .await
            .iter()
            .any(|e| e["kind"] == "type_change" && e["from"] == "MIND" && e["to"] == "NMIND")
    );
}

#[tokio::test]
async fn l1_bad_input_is_a_problem_and_changes_nothing() {
    let app = spawn().await;
    app.doctors().await;
    let m = member(&app, "Kept", "2020-01-31").await;
    for body in [
        json!({"dry_run": false}),
        json!({"as_of": "2026-02-30"}),
        json!({"as_of": "2026-01-01", "extra": 1}),
        json!({"as_of": 20260101}),
    ] {
        let r = app
            .post("/membership/expire", &app.staff, body.clone())
            .await;
        assert!(
            [400, 422].contains(&r.status.as_u16()),
            "{body}: {}",
            r.text
        );
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json")
        );
    }
    assert_eq!(app.contact(m).await["customer_type"], "M");
}

// ---------------------------------------------------------------- L-4

#[tokio::test]
async fn l4_mass_change_previews_then_changes_status_in_one_audited_action() {
    let app = spawn().await;
    app.doctors().await;
    let mut listed = Vec::new();
    for last in ["Ames", "Baker", "Cole"] {
        listed.push(id(&app
            .create_contact(json!({"customer_type": "NM", "first_name": "Li",
                "last_name": last, "tags": ["old-list"]}))
            .await));
    }
    let untagged = app.person("NM", "Dunn").await;
    let body = |dry: bool| {
        json!({"filter": {"tag": "old-list", "customer_type": "NM"}, "set": {"status": "I"},
            "dry_run": dry})
    };
    let preview = app
        .post("/contacts/mass-change", &app.staff, body(true))
        .await
        .expect(200);
    assert_eq!(preview.body["count"], 3);
    let expected: Vec<(i64, String, String)> = listed
        .iter()
        .map(|c| (*c, "A".to_owned(), "I".to_owned()))
        .collect();
    assert_eq!(changes(&preview.body), expected);
    assert_eq!(app.contact(listed[0]).await["status"], "A");

    let done = app
        .post("/contacts/mass-change", &app.staff, body(false))
        .await
        .expect(200);
    assert_eq!(changes(&done.body), expected);
    for c in &listed {
        let k = app.contact(*c).await;
        assert_eq!(k["status"], "I");
        assert_eq!(k["customer_type"], "NM");
        assert!(
            app.history(*c)
                .await
                .iter()
                .any(|e| e["kind"] == "status_change" && e["from"] == "A" && e["to"] == "I")
        );
    }
    assert_eq!(app.contact(untagged).await["status"], "A");
    let events = app.audit_events("contacts.mass_change").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["details"]["changed"], 3);
    assert_eq!(events[0]["details"]["filter"]["tag"], "old-list");
    // Already changed: a second run changes nobody.
    let again = app
        .post("/contacts/mass-change", &app.staff, body(false))
        .await
        .expect(200);
    assert_eq!(again.body["count"], 0);
}

#[tokio::test]
async fn l4_mass_change_of_type_and_status_together_lists_both() {
    let app = spawn().await;
    app.doctors().await;
    app.create_type(
        json!({"code": "OLDM", "name": "Phased out", "is_member": true,
        "is_organization": false, "primary_fee": {"kind": "products", "products": ["MDUES"]},
        "expires_to": "NM", "renews_as": "M"}),
    )
    .await;
    let a = id(&app
        .create_contact(json!({"customer_type": "OLDM", "first_name": "Ola",
            "last_name": "Old", "billing_category": "REG"}))
        .await);
    let r = app
        .post(
            "/contacts/mass-change",
            &app.staff,
            json!({"filter": {"customer_type": "OLDM"},
                "set": {"customer_type": "M", "status": "S"}}),
        )
        .await
        .expect(200);
    let ch = &r.body["changed"][0];
    assert_eq!(ch["contact_id"], a);
    assert_eq!(ch["from"], "OLDM");
    assert_eq!(ch["to"], "M");
    assert_eq!(ch["customer_type"], json!({"from": "OLDM", "to": "M"}));
    assert_eq!(ch["status"], json!({"from": "A", "to": "S"}));
    let k = app.contact(a).await;
    assert_eq!(k["customer_type"], "M");
    assert_eq!(k["status"], "S");
}

#[tokio::test]
async fn l4_ct6_mass_change_of_colleges_flows_down_to_linked_persons() {
    let app = spawn().await;
    app.colleges().await;
    let college = id(&app
        .create_contact(json!({"customer_type": "NM", "organization_name": "North College"}))
        .await);
    let person = id(&app
        .create_contact(json!({"customer_type": "NMIND", "first_name": "Nia",
            "last_name": "North", "company_id": college}))
        .await);
    let r = app
        .post(
            "/contacts/mass-change",
            &app.staff,
            json!({"filter": {"customer_type": "NM"}, "set": {"customer_type": "M"}}),
        )
        .await
        .expect(200);
    assert_eq!(
        changes(&r.body),
        vec![
            (college, "NM".into(), "M".into()),
            (person, "NMIND".into(), "MIND".into())
        ]
    );
    assert_eq!(r.body["changed"][1]["company_id"], college);
    assert_eq!(app.contact(person).await["customer_type"], "MIND");
}

#[tokio::test]
async fn l4_invalid_mass_changes_are_refused_and_change_nothing() {
    let app = spawn().await;
    app.doctors().await;
    let p = app.person("NM", "Stays").await;
    let cases = [
        (json!({"filter": {}, "set": {"status": "I"}}), "filter"),
        (json!({"filter": {"customer_type": "NM"}, "set": {}}), "set"),
        (
            json!({"filter": {"customer_type": "NM"}, "set": {"customer_type": "NOPE"}}),
            "set.customer_type",
        ),
        (
            json!({"filter": {"customer_type": "NM"}, "set": {"status": "ZZ"}}),
            "set.status",
        ),
        (
            json!({"filter": {"customer_type": "NM"}, "set": {"customer_type": "HOSP"}}),
            "set.customer_type",
        ),
        (
            json!({"filter": {"customer_type": "GONE"}, "set": {"status": "I"}}),
            "filter.customer_type",
        ),
    ];
    for (body, field) in cases {
        let r = app
            .post("/contacts/mass-change", &app.staff, body.clone())
            .await
            .problem(422, "validation_failed");
        assert!(
            r.body["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["field"] == field)),
            "{body}: {}",
            r.text
        );
    }
    let k = app.contact(p).await;
    assert_eq!(
        (k["customer_type"].clone(), k["status"].clone()),
        (json!("NM"), json!("A"))
    );
    assert!(app.audit_events("contacts.mass_change").await.is_empty());
}

// ---------------------------------------------------------------- CS-4

async fn join_cycle(app: &TestApp) {
    app.set_settings(json!({"default_billing_time": "annual", "fiscal_year_start_month": 1}))
        .await;
    app.post(
        "/billing-cycles",
        &app.staff,
        json!({"name": JOIN_CYCLE, "customer_types": ["M"], "join_item_set": true,
            "rejoin_as_renewal_months": 5}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn cs4_purge_deletes_only_marked_contacts_without_financial_history() {
    let app = spawn().await;
    app.doctors().await;
    join_cycle(&app).await;
    let marked = |last: &'static str| {
        let app = &app;
        async move {
            id(&app
                .create_contact(json!({"customer_type": "NM", "first_name": "Del",
                    "last_name": last, "status": "D", "tags": ["x"]}))
                .await)
        }
    };
    let bare = marked("Bare").await;
    let subscribed = marked("Subscribed").await;
    hold(&app, subscribed, "MDUES", "2025-12-31").await;
    let invoiced = app.person("NM", "Invoiced").await;
    app.post(
        &format!("/contacts/{invoiced}/join"),
        &app.staff,
        json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG", "join_date": "2026-04-10"}),
    )
    .await
    .expect(201);
    app.patch(
        &format!("/contacts/{invoiced}"),
        &app.staff,
        json!({"status": "D"}),
    )
    .await
    .expect(200);
    let active = app.person("NM", "Active").await;
    // An organization marked for deletion stays while a person that stays is linked to it;
    // one whose linked persons are purged with it goes too.
    let hospital = id(&app
        .create_contact(
            json!({"customer_type": "HOSP", "organization_name": "Kept Hospital",
            "status": "D"}),
        )
        .await);
    app.create_contact(
        json!({"customer_type": "NM", "first_name": "Ann", "last_name": "Linked",
        "company_id": hospital}),
    )
    .await;
    let clinic = id(&app
        .create_contact(
            json!({"customer_type": "HOSP", "organization_name": "Gone Clinic",
            "status": "D"}),
        )
        .await);
    let clinic_person = id(&app
        .create_contact(
            json!({"customer_type": "NM", "first_name": "Bo", "last_name": "Gone",
            "company_id": clinic, "status": "D"}),
        )
        .await);

    let preview = app
        .post("/contacts/purge", &app.staff, json!({"dry_run": true}))
        .await
        .expect(200);
    let mut purged: Vec<i64> = preview.body["purged"]
        .as_array()
        .expect("purged")
        .iter()
        .map(|v| v.as_i64().expect("id"))
        .collect();
    purged.sort();
    assert_eq!(
        purged,
        vec![bare, clinic, clinic_person],
        "{}",
        preview.text
    );
    let kept: Vec<(i64, String)> = preview.body["kept"]
        .as_array()
        .expect("kept")
        .iter()
        .map(|k| {
            (
                k["contact_id"].as_i64().expect("id"),
                k["reason"].as_str().expect("reason").to_owned(),
            )
        })
        .collect();
    assert!(
        kept.contains(&(subscribed, "has subscriptions".into())),
        "{kept:?}"
    );
    assert!(
        // J-6: an unpaid join bills subscriptions of its own.
        kept.contains(&(invoiced, "has invoices, has subscriptions".into())),
        "{kept:?}"
    );
    assert!(
        kept.contains(&(hospital, "has linked contacts".into())),
        "{kept:?}"
    );
    app.get(&format!("/contacts/{bare}"), &app.staff)
        .await
        .expect(200);

    let done = app
        .post("/contacts/purge", &app.staff, json!({}))
        .await
        .expect(200);
    assert_eq!(done.body["purged"].as_array().map(Vec::len), Some(3));
    for gone in [bare, clinic, clinic_person] {
        app.get(&format!("/contacts/{gone}"), &app.staff)
            .await
            .problem(404, "not_found");
    }
    for stays in [subscribed, invoiced, active, hospital] {
        app.get(&format!("/contacts/{stays}"), &app.staff)
            .await
            .expect(200);
    }
    // Nothing financial was lost.
    let invoices = app
        .get(&format!("/invoices?contact_id={invoiced}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(invoices.body["items"].as_array().map(Vec::len), Some(1));
    let events = app.audit_events("contacts.purge").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["details"]["purged"].as_array().map(Vec::len),
        Some(3)
    );
}

// ---------------------------------------------------------------- L-6

#[tokio::test]
async fn l6_history_lists_every_term_the_gap_between_and_type_changes() {
    let app = spawn().await;
    app.doctors().await;
    join_cycle(&app).await;
    let c = app.person("NM", "Returning").await;
    let first = app
        .join_and_pay(c, JOIN_CYCLE, "2020-04-10", "2020-04-11")
        .await;
    expire(&app, "2021-06-01", false).await;
    assert_eq!(app.contact(c).await["customer_type"], "NM");
    let second = app
        .join_and_pay(c, JOIN_CYCLE, "2026-04-10", "2026-04-11")
        .await;

    let h = app.history(c).await;
    let kinds: Vec<&str> = h
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    let terms: Vec<&Value> = h.iter().filter(|e| e["kind"] == "term").collect();
    assert_eq!(terms.len(), 2, "{h:?}");
    assert_eq!(terms[0]["term_begin"], "2020-04-01");
    assert_eq!(terms[0]["term_end"], "2020-12-31");
    assert_eq!(terms[0]["invoice_id"], id(&first));
    assert!(terms[0].get("gap_before").is_none(), "{h:?}");
    assert_eq!(terms[1]["term_begin"], "2026-04-01");
    assert_eq!(terms[1]["invoice_id"], id(&second));
    assert_eq!(
        terms[1]["gap_before"],
        json!({"begin": "2021-01-01", "end": "2026-03-31", "days": 1916})
    );
    // Oldest first: joined, lapsed (expiry), rejoined.
    let type_changes: Vec<(String, String)> = h
        .iter()
        .filter(|e| e["kind"] == "type_change")
        .map(|e| {
            (
                e["from"].as_str().expect("from").to_owned(),
                e["to"].as_str().expect("to").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        type_changes,
        vec![
            ("NM".into(), "M".into()),
            ("M".into(), "NM".into()),
            ("NM".into(), "M".into())
        ],
        "{kinds:?}"
    );
    // Paging keeps the gap: the second term alone on a page still knows the first.
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let path = match &cursor {
            Some(c2) => format!("/contacts/{c}/history?limit=1&cursor={c2}"),
            None => format!("/contacts/{c}/history?limit=1"),
        };
        let page = app.get(&path, &app.staff).await.expect(200).body;
        seen.extend(page["items"].as_array().cloned().expect("items"));
        match page["next_cursor"].as_str() {
            Some(n) => cursor = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, h);
}
