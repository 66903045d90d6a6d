//! Previous members (L-2), prospects (L-3) and saved segments, reusable in lists and reports.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;
use tests::{TestApp, id, spawn};

const JOIN_CYCLE: &str = "Member join";

async fn ids(app: &TestApp, path: &str) -> BTreeSet<i64> {
    let r = app.get(path, &app.staff).await.expect(200);
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items in {}", r.text))
        .iter()
        .map(id)
        .collect()
}

fn set(v: &[i64]) -> BTreeSet<i64> {
    v.iter().copied().collect()
}

/// E-1 with a join cycle; two members who joined in 2020 and 2023 and lapsed (expired on
/// 2026-06-01), one current member, one non-member who never was, and tagged non-members.
struct World {
    lapsed_2020: i64,
    lapsed_2023: i64,
    current: i64,
    never: i64,
    attendee: i64,
    interested: i64,
    other_tag: i64,
    member_attendee: i64,
}

async fn world(app: &TestApp) -> World {
    app.doctors_with_join_cycle(JOIN_CYCLE).await;
    let lapsed_2020 = app.person("NM", "Early").await;
    app.join_and_pay(lapsed_2020, JOIN_CYCLE, "2020-04-10", "2020-04-10")
        .await;
    let lapsed_2023 = app.person("NM", "Later").await;
    app.join_and_pay(lapsed_2023, JOIN_CYCLE, "2023-04-10", "2023-04-10")
        .await;
    app.post(
        "/membership/expire",
        &app.staff,
        json!({"as_of": "2026-06-01"}),
    )
    .await
    .expect(200);
    let current = app.person("NM", "Current").await;
    app.join_and_pay(current, JOIN_CYCLE, "2026-04-10", "2026-04-10")
        .await;
    let never = app.person("NM", "Never").await;
    let tagged = |last: &'static str, ty: &'static str, tag: &'static str| {
        let app = &app;
        async move {
            let mut body = json!({"customer_type": ty, "first_name": "Tia", "last_name": last,
                "tags": [tag]});
            if ty == "M" {
                body["billing_category"] = json!("REG");
            }
            id(&app.create_contact(body).await)
        }
    };
    World {
        lapsed_2020,
        lapsed_2023,
        current,
        never,
        attendee: tagged("Attendee", "NM", "event-attendee").await,
        interested: tagged("Interested", "NM", "interest-form").await,
        other_tag: tagged("Other", "NM", "newsletter").await,
        member_attendee: tagged("MemberAttendee", "M", "event-attendee").await,
    }
}

#[tokio::test]
async fn l2_previous_members_are_non_members_with_dues_history() {
    let app = spawn().await;
    let w = world(&app).await;
    let all = ids(&app, "/segments/previous-members").await;
    assert_eq!(all, set(&[w.lapsed_2020, w.lapsed_2023]));
    assert!(!all.contains(&w.current) && !all.contains(&w.never));
    // The same criterion on the contact list.
    assert_eq!(ids(&app, "/contacts?previous_member=true").await, all);
    // Join date and lapse date (the last paid-through) filters.
    assert_eq!(
        ids(&app, "/segments/previous-members?joined_from=2022-01-01").await,
        set(&[w.lapsed_2023])
    );
    assert_eq!(
        ids(&app, "/segments/previous-members?lapsed_to=2021-12-31").await,
        set(&[w.lapsed_2020])
    );
    assert_eq!(
        ids(
            &app,
            "/segments/previous-members?lapsed_from=2023-12-31&lapsed_to=2023-12-31"
        )
        .await,
        set(&[w.lapsed_2023])
    );
    // Same list shape as /contacts, with keyset paging.
    let page = app
        .get("/segments/previous-members?limit=1", &app.staff)
        .await
        .expect(200);
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(1));
    assert!(page.body["next_cursor"].is_string());
    assert_eq!(page.body["items"][0]["is_member"], false);
    app.get(
        "/segments/previous-members?joined_from=not-a-date",
        &app.staff,
    )
    .await
    .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn l3_prospects_are_non_members_who_were_members_or_carry_a_prospect_tag() {
    let app = spawn().await;
    let w = world(&app).await;
    let prospects = ids(&app, "/segments/prospects").await;
    assert_eq!(
        prospects,
        set(&[w.lapsed_2020, w.lapsed_2023, w.attendee, w.interested])
    );
    for not in [w.current, w.never, w.other_tag, w.member_attendee] {
        assert!(!prospects.contains(&not));
    }
    // "Which prospects came to our event?"
    assert_eq!(
        ids(&app, "/segments/prospects?tag=event-attendee").await,
        set(&[w.attendee])
    );
    // The association's own criteria.
    let s = app
        .set_settings(json!({"prospect_tags": ["newsletter"]}))
        .await;
    assert_eq!(s["prospect_tags"], json!(["newsletter"]));
    assert_eq!(
        ids(&app, "/segments/prospects").await,
        set(&[w.lapsed_2020, w.lapsed_2023, w.other_tag])
    );
    let r = app
        .put(
            "/settings/membership",
            &app.staff,
            json!({"fiscal_year_start_month": 1, "standard_billing_interval_months": 12,
                "default_billing_time": "annual", "default_accounting_method": "accrual",
                "grace_period_months": 0, "currency": "USD", "prospect_tags": ["Not a tag!"]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
}

#[tokio::test]
async fn l3_saved_segments_are_reused_in_lists_and_reports() {
    let app = spawn().await;
    let w = world(&app).await;
    let created = app
        .post(
            "/segments",
            &app.staff,
            json!({"name": "Event prospects", "description": "for the breakfast",
                "filter": {"prospect": true, "any_tags": ["event-attendee", "interest-form"]}}),
        )
        .await
        .expect(201);
    let seg = id(&created.body);
    assert_eq!(
        created.header("location").as_deref(),
        Some(format!("/api/v1/segments/{seg}").as_str())
    );
    assert_eq!(
        created.body["filter"],
        json!({"prospect": true, "any_tags": ["event-attendee", "interest-form"]})
    );
    let members = set(&[w.attendee, w.interested]);
    assert_eq!(
        ids(&app, &format!("/segments/{seg}/contacts")).await,
        members
    );
    assert_eq!(
        ids(&app, &format!("/contacts?segment={seg}")).await,
        members
    );
    // List filters narrow a segment further.
    assert_eq!(
        ids(&app, &format!("/segments/{seg}/contacts?tag=interest-form")).await,
        set(&[w.interested])
    );
    // A-1 over the segment only.
    let mix = app
        .get(
            &format!("/reports/membership-mix?segment={seg}"),
            &app.staff,
        )
        .await
        .expect(200);
    assert_eq!(
        mix.body,
        json!([{"customer_type": "NM", "billing_category": null, "count": 2, "share": 1.0,
            "flagged": true}])
    );
    // Listed, read, replaced with If-Match, deleted.
    let list = app.get("/segments", &app.staff).await.expect(200);
    assert_eq!(list.body["items"][0]["name"], "Event prospects");
    let got = app
        .get(&format!("/segments/{seg}"), &app.staff)
        .await
        .expect(200);
    let etag = got.header("etag").expect("etag");
    let patched = app
        .send(
            Method::PATCH,
            &format!("/segments/{seg}"),
            Some(&app.staff),
            Some(json!({"name": "Previous members since 2022",
                "filter": {"previous_member": true, "joined_from": "2022-01-01"}})),
            &[("If-Match", &etag)],
        )
        .await
        .expect(200);
    assert_eq!(patched.body["version"], 2);
    assert_eq!(
        ids(&app, &format!("/segments/{seg}/contacts")).await,
        set(&[w.lapsed_2023])
    );
    app.send(
        Method::PATCH,
        &format!("/segments/{seg}"),
        Some(&app.staff),
        Some(json!({"name": "Stale", "filter": {}})),
        &[("If-Match", &etag)],
    )
    .await
    .problem(412, "precondition_failed");
    app.delete(&format!("/segments/{seg}"), &app.staff)
        .await
        .expect(204);
    app.get(&format!("/segments/{seg}/contacts"), &app.staff)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn l3_segment_input_is_validated() {
    let app = spawn().await;
    app.doctors().await;
    app.post(
        "/segments",
        &app.staff,
        json!({"name": "Taken", "filter": {"is_member": false}}),
    )
    .await
    .expect(201);
    app.post(
        "/segments",
        &app.staff,
        json!({"name": "Taken", "filter": {"is_member": true}}),
    )
    .await
    .problem(409, "conflict");
    for (body, field) in [
        (
            json!({"name": "T", "filter": {"customer_type": "NOPE"}}),
            "filter.customer_type",
        ),
        (
            json!({"name": "T", "filter": {"status": "ZZ"}}),
            "filter.status",
        ),
        (
            json!({"name": "T", "filter": {"joined_from": "2024-01-01", "joined_to": "2023-01-01"}}),
            "filter.joined_to",
        ),
        (
            json!({"name": "T", "filter": {"segment": 1}}),
            "filter.segment",
        ),
        (json!({"name": "", "filter": {}}), "name"),
    ] {
        let r = app
            .post("/segments", &app.staff, body.clone())
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
    app.post(
        "/segments",
        &app.staff,
        json!({"name": "T", "filter": {"unknown": 1}}),
    )
    .await
    .problem(422, "validation_failed");
}
