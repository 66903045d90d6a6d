//! C-8: committees, their rosters at a date and a contact's committee service; members read
//! their own service, staff manage all.

use chrono::{Days, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use tests::{TestApp, assert_field_error, etag, id, spawn};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn days_ago(n: u64) -> String {
    (today() - Days::new(n)).to_string()
}

fn days_ahead(n: u64) -> String {
    (today() + Days::new(n)).to_string()
}

async fn committee(app: &TestApp, name: &str, kind: &str) -> i64 {
    let r = app
        .post(
            "/committees",
            &app.staff,
            json!({"name": name, "kind": kind}),
        )
        .await
        .expect(201);
    id(&r.body)
}

async fn seat(app: &TestApp, committee: i64, body: Value) -> Value {
    app.post(
        &format!("/committees/{committee}/members"),
        &app.staff,
        body,
    )
    .await
    .expect(201)
    .body
}

/// `(contact_id, position)` of a list of terms, in order.
fn seats(items: &[Value]) -> Vec<(i64, String)> {
    items
        .iter()
        .map(|t| {
            (
                t["contact_id"].as_i64().expect("contact_id"),
                t["position"].as_str().expect("position").to_owned(),
            )
        })
        .collect()
}

/// A board of E-1 persons: a past chair (ended 100 days ago), the current chair (began 99
/// days ago, open-ended), a member whose term ends in 30 days and an incoming member who
/// starts in 60.
struct Board {
    id: i64,
    past_chair: i64,
    chair: i64,
    leaving: i64,
    incoming: i64,
}

async fn board(app: &TestApp) -> Board {
    app.doctors().await;
    let id = committee(app, "Board of Directors", "board").await;
    let past_chair = app.person("NM", "Past").await;
    let chair = app.person("NM", "Chair").await;
    let leaving = app.person("NM", "Leaving").await;
    let incoming = app.person("NM", "Incoming").await;
    for body in [
        json!({"contact_id": past_chair, "position": "chair", "begin": days_ago(800), "end": days_ago(100)}),
        json!({"contact_id": chair, "position": "chair", "begin": days_ago(99)}),
        json!({"contact_id": leaving, "position": "member", "begin": days_ago(800), "end": days_ahead(30)}),
        json!({"contact_id": incoming, "position": "member", "begin": days_ahead(60), "end": null}),
    ] {
        seat(app, id, body).await;
    }
    Board {
        id,
        past_chair,
        chair,
        leaving,
        incoming,
    }
}

#[tokio::test]
async fn c8_staff_create_a_committee_and_seat_members_with_positions_and_terms() {
    let app = spawn().await;
    app.doctors().await;
    let r = app
        .post(
            "/committees",
            &app.staff,
            json!({"name": "  Finance Committee ", "description": "Budget and dues"}),
        )
        .await
        .expect(201);
    let committee = id(&r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("/api/v1/committees/{committee}").as_str())
    );
    assert_eq!(r.body["name"], "Finance Committee");
    assert_eq!(r.body["kind"], "committee");
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["version"], 1);
    let got = app
        .get(&format!("/committees/{committee}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(etag(&got), "\"1\"");
    assert_eq!(got.body, r.body);

    let ana = id(&app
        .create_contact(json!({"customer_type": "NM", "first_name": "Ana", "last_name": "Silva"}))
        .await);
    let hospital = id(&app
        .create_contact(json!({"customer_type": "HOSP", "organization_name": "General Hospital"}))
        .await);
    let added = app
        .post(
            &format!("/committees/{committee}/members"),
            &app.staff,
            json!({"contact_id": ana, "position": "chair", "begin": "2025-01-01", "end": "2999-12-31"}),
        )
        .await
        .expect(201);
    let term = &added.body;
    assert_eq!(
        added.header("location").as_deref(),
        Some(format!("/api/v1/committees/{committee}/members/{}", id(term)).as_str())
    );
    assert_eq!(term["committee_id"], committee);
    assert_eq!(term["committee_name"], "Finance Committee");
    assert_eq!(term["contact_id"], ana);
    assert_eq!(term["contact_name"], "Ana Silva");
    assert_eq!(term["position"], "chair");
    assert_eq!(term["begin"], "2025-01-01");
    assert_eq!(term["end"], "2999-12-31");
    assert_eq!(term["current"], true);
    let org = seat(
        &app,
        committee,
        json!({"contact_id": hospital, "position": "member", "begin": "2025-01-01"}),
    )
    .await;
    assert_eq!(org["contact_name"], "General Hospital");
    assert_eq!(org["end"], Value::Null);
    let one = app
        .get(
            &format!("/committees/{committee}/members/{}", id(&org)),
            &app.staff,
        )
        .await
        .expect(200);
    assert_eq!(one.body, org);

    // Listed and paged like the other lists, filtered by `active`.
    committee_named(&app, "Nominations").await;
    let page = app.get("/committees?limit=1", &app.staff).await.expect(200);
    assert_eq!(page.body["items"][0]["id"], committee);
    let cursor = page.body["next_cursor"].as_str().expect("a second page");
    let next = app
        .items(&format!("/committees?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(next[0]["name"], "Nominations");
    assert_eq!(app.items("/committees?active=false").await.len(), 1);

    // Each write is in the audit trail.
    assert_eq!(app.audit_events("createCommittee").await.len(), 2);
    assert_eq!(app.audit_events("addCommitteeMember").await.len(), 2);
}

async fn committee_named(app: &TestApp, name: &str) -> i64 {
    let r = app
        .post(
            "/committees",
            &app.staff,
            json!({"name": name, "kind": "task_force", "active": false}),
        )
        .await
        .expect(201);
    id(&r.body)
}

#[tokio::test]
async fn c8_roster_at_a_date_lists_who_served_then() {
    let app = spawn().await;
    let b = board(&app).await;
    let roster = |query: String| {
        let app = &app;
        async move {
            seats(
                &app.items(&format!("/committees/{}/members{query}", b.id))
                    .await,
            )
        }
    };
    // Today by default.
    assert_eq!(
        roster(String::new()).await,
        [(b.chair, "chair".into()), (b.leaving, "member".into())]
    );
    assert_eq!(
        roster(format!("?as_of={}", today())).await,
        roster(String::new()).await
    );
    // A past date: the chair then, and the member since.
    assert_eq!(
        roster(format!("?as_of={}", days_ago(200))).await,
        [(b.past_chair, "chair".into()), (b.leaving, "member".into())]
    );
    // Both ends of a term are in it.
    assert_eq!(
        roster(format!("?as_of={}", days_ago(100))).await,
        [(b.past_chair, "chair".into()), (b.leaving, "member".into())]
    );
    assert_eq!(
        roster(format!("?as_of={}", days_ago(99))).await,
        [(b.chair, "chair".into()), (b.leaving, "member".into())]
    );
    // A future date: the incoming member, not the one who left.
    assert_eq!(
        roster(format!("?as_of={}", days_ahead(90))).await,
        [(b.chair, "chair".into()), (b.incoming, "member".into())]
    );
    // Before the board had anyone.
    assert!(roster("?as_of=1990-01-01".into()).await.is_empty());
    // Every term, paged.
    assert_eq!(roster("?all=true".into()).await.len(), 4);
    let page = app
        .get(
            &format!("/committees/{}/members?all=true&limit=3", b.id),
            &app.staff,
        )
        .await
        .expect(200);
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(3));
    let cursor = page.body["next_cursor"].as_str().expect("cursor");
    let rest = app
        .items(&format!(
            "/committees/{}/members?all=true&limit=3&cursor={cursor}",
            b.id
        ))
        .await;
    assert_eq!(seats(&rest), [(b.incoming, "member".into())]);
    // Bad parameters are problems, not empty rosters.
    for query in ["?as_of=2026-13-01", "?as_of=yesterday"] {
        app.get(&format!("/committees/{}/members{query}", b.id), &app.staff)
            .await
            .problem(400, "invalid_parameter");
    }
    // Well formed each, but asking two things at once.
    app.get(
        &format!("/committees/{}/members?all=true&as_of=2026-01-01", b.id),
        &app.staff,
    )
    .await
    .problem(422, "validation_failed");
    app.get("/committees/999999/members", &app.staff)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn c8_a_contacts_service_lists_current_and_past_terms_with_committee_names() {
    let app = spawn().await;
    let b = board(&app).await;
    let finance = committee(&app, "Finance", "committee").await;
    seat(
        &app,
        finance,
        json!({"contact_id": b.past_chair, "position": "treasurer", "begin": days_ago(50)}),
    )
    .await;
    let path = format!("/contacts/{}/committees", b.past_chair);
    let service = app.items(&path).await;
    let summary: Vec<(String, String, bool)> = service
        .iter()
        .map(|t| {
            (
                t["committee_name"].as_str().unwrap_or_default().to_owned(),
                t["position"].as_str().unwrap_or_default().to_owned(),
                t["current"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("Board of Directors".into(), "chair".into(), false),
            ("Finance".into(), "treasurer".into(), true)
        ]
    );
    assert_eq!(service[0]["begin"], days_ago(800));
    assert_eq!(service[0]["end"], days_ago(100));
    let current = app.items(&format!("{path}?current=true")).await;
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["committee_id"], finance);
    let past = app.items(&format!("{path}?current=false")).await;
    assert_eq!(past.len(), 1);
    assert_eq!(past[0]["committee_id"], b.id);
    // A future term is neither current nor past yet, but it is listed.
    let incoming = app
        .items(&format!("/contacts/{}/committees", b.incoming))
        .await;
    assert_eq!(incoming.len(), 1);
    assert_eq!(incoming[0]["current"], false);
    // No service is an empty list; an unknown contact is not found.
    let never = app.person("NM", "Never").await;
    assert!(
        app.items(&format!("/contacts/{never}/committees"))
            .await
            .is_empty()
    );
    app.get("/contacts/999999/committees", &app.staff)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn c8_members_read_their_own_service_and_nothing_else() {
    let app = spawn().await;
    let b = board(&app).await;
    let chair = app.member_token(b.chair).await;
    let mine = app.get("/me/committees", &chair).await.expect(200);
    assert_eq!(
        seats(mine.body["items"].as_array().expect("items")),
        [(b.chair, "chair".into())]
    );
    assert_eq!(
        mine.body["items"][0]["committee_name"],
        "Board of Directors"
    );
    assert_eq!(mine.body["items"][0]["current"], true);
    let own = app
        .get(&format!("/contacts/{}/committees", b.chair), &chair)
        .await
        .expect(200);
    assert_eq!(own.body, mine.body);
    // Another contact's service does not exist for this member (SEC-1).
    app.get(&format!("/contacts/{}/committees", b.past_chair), &chair)
        .await
        .problem(404, "not_found");
    // Committees and rosters are staff's.
    let paths = [
        "/committees".to_owned(),
        format!("/committees/{}", b.id),
        format!("/committees/{}/members", b.id),
    ];
    for path in &paths {
        app.get(path, &chair).await.problem(403, "forbidden");
    }
    app.post(
        &format!("/committees/{}/members", b.id),
        &chair,
        json!({"contact_id": b.chair, "position": "president", "begin": "2026-01-01"}),
    )
    .await
    .problem(403, "forbidden");
    app.patch(
        &format!("/committees/{}", b.id),
        &chair,
        json!({"active": false}),
    )
    .await
    .problem(403, "forbidden");
    // Self-service is for member logins.
    app.get("/me/committees", &app.staff)
        .await
        .problem(403, "forbidden");
    let roster = app
        .items(&format!("/committees/{}/members?all=true", b.id))
        .await;
    assert_eq!(roster.len(), 4, "nothing changed");
}

#[tokio::test]
async fn c8_bad_input_names_the_field_and_changes_nothing() {
    let app = spawn().await;
    let b = board(&app).await;
    let members = format!("/committees/{}/members", b.id);
    let before = app.items(&format!("{members}?all=true")).await;
    let someone = app.person("NM", "Someone").await;

    let r = app
        .post(
            &members,
            &app.staff,
            json!({"contact_id": someone, "position": "member", "begin": "2026-05-02", "end": "2026-05-01"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "end");
    let r = app
        .post(
            &members,
            &app.staff,
            json!({"contact_id": 999999, "position": "member", "begin": "2026-05-01"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "contact_id");
    for position in ["", "   "] {
        let r = app
            .post(
                &members,
                &app.staff,
                json!({"contact_id": someone, "position": position, "begin": "2026-05-01"}),
            )
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "position");
    }
    for (body, field) in [
        (
            json!({"contact_id": someone, "position": "member", "begin": "2026-5-1"}),
            "begin",
        ),
        (
            json!({"contact_id": someone, "position": "member"}),
            "begin",
        ),
        (
            json!({"contact_id": someone, "position": "member", "begin": "2026-05-01", "seat": 3}),
            "seat",
        ),
    ] {
        let r = app
            .post(&members, &app.staff, body)
            .await
            .problem(422, "validation_failed");
        assert!(r.text.contains(field), "{field}: {}", r.text);
    }
    // One seat per person per committee at a time.
    let r = app
        .post(
            &members,
            &app.staff,
            json!({"contact_id": b.chair, "position": "member", "begin": days_ahead(10)}),
        )
        .await
        .problem(409, "conflict");
    assert!(r.text.contains("end that term first"), "{}", r.text);
    app.post(
        "/committees/999999/members",
        &app.staff,
        json!({"contact_id": someone, "position": "member", "begin": "2026-05-01"}),
    )
    .await
    .problem(404, "not_found");
    assert_eq!(app.items(&format!("{members}?all=true")).await, before);
    assert!(
        app.items(&format!("/contacts/{someone}/committees"))
            .await
            .is_empty()
    );

    // Committees: names are required and unique regardless of letter case.
    for name in ["", "  "] {
        let r = app
            .post("/committees", &app.staff, json!({"name": name}))
            .await
            .problem(422, "validation_failed");
        assert_field_error(&r, "name");
    }
    app.post(
        "/committees",
        &app.staff,
        json!({"name": "BOARD OF DIRECTORS"}),
    )
    .await
    .problem(409, "conflict");
    let r = app
        .post(
            "/committees",
            &app.staff,
            json!({"name": "Audit", "kind": "council"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "kind");
    assert_eq!(app.items("/committees").await.len(), 1);
}

#[tokio::test]
async fn c8_a_term_ends_when_someone_steps_down_and_mistakes_are_deleted() {
    let app = spawn().await;
    let b = board(&app).await;
    let chair_term = app
        .items(&format!("/contacts/{}/committees", b.chair))
        .await[0]
        .clone();
    let path = format!("/committees/{}/members/{}", b.id, id(&chair_term));
    let read = app.get(&path, &app.staff).await.expect(200);
    let tag = etag(&read);

    // Stepping down: the term ends, with If-Match.
    let stepped = app
        .send(
            Method::PATCH,
            &path,
            Some(&app.staff),
            Some(json!({"end": days_ago(1)})),
            &[("If-Match", &tag)],
        )
        .await
        .expect(200);
    assert_eq!(stepped.body["end"], days_ago(1));
    assert_eq!(stepped.body["current"], false);
    assert_eq!(stepped.body["version"], 2);
    app.send(
        Method::PATCH,
        &path,
        Some(&app.staff),
        Some(json!({"position": "past chair"})),
        &[("If-Match", &tag)],
    )
    .await
    .problem(412, "precondition_failed");
    let r = app
        .patch(&path, &app.staff, json!({"end": days_ago(500)}))
        .await
        .problem(422, "validation_failed");
    assert_field_error(&r, "end");
    app.patch(&path, &app.staff, json!({"position": ""}))
        .await
        .problem(422, "validation_failed");
    app.patch(&path, &app.staff, json!({"contact_id": b.leaving}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(
        app.get(&path, &app.staff).await.expect(200).body,
        stepped.body
    );
    // Open-ended again.
    let reopened = app
        .patch(&path, &app.staff, json!({"end": null}))
        .await
        .expect(200);
    assert_eq!(reopened.body["end"], Value::Null);
    assert_eq!(reopened.body["current"], true);
    // A record of another committee is not found under this one.
    let other = committee(&app, "Ethics", "committee").await;
    app.get(
        &format!("/committees/{other}/members/{}", id(&chair_term)),
        &app.staff,
    )
    .await
    .problem(404, "not_found");

    // A committee with member records stays (its history); it can be deactivated.
    let board_path = format!("/committees/{}", b.id);
    app.delete(&board_path, &app.staff)
        .await
        .problem(409, "conflict");
    let renamed = app
        .patch(
            &board_path,
            &app.staff,
            json!({"name": "Board", "active": false, "description": null}),
        )
        .await
        .expect(200);
    assert_eq!(renamed.body["name"], "Board");
    assert_eq!(renamed.body["active"], false);
    assert_eq!(renamed.body["kind"], "board");
    app.patch(&board_path, &app.staff, json!({"name": "ethics"}))
        .await
        .problem(409, "conflict");
    app.patch("/committees/999999", &app.staff, json!({"active": true}))
        .await
        .problem(404, "not_found");

    // A member record entered by mistake is deleted; with all gone, the committee can be.
    let all = app
        .items(&format!("/committees/{}/members?all=true", b.id))
        .await;
    for term in &all {
        let p = format!("/committees/{}/members/{}", b.id, id(term));
        let tag = etag(&app.get(&p, &app.staff).await.expect(200));
        app.send(
            Method::DELETE,
            &p,
            Some(&app.staff),
            None,
            &[("If-Match", &tag)],
        )
        .await
        .expect(204);
        app.get(&p, &app.staff).await.problem(404, "not_found");
    }
    app.delete(&board_path, &app.staff).await.expect(204);
    app.get(&board_path, &app.staff)
        .await
        .problem(404, "not_found");
    assert_eq!(app.audit_events("deleteCommitteeMember").await.len(), 4);
}

#[tokio::test]
async fn c8_member_record_changes_are_events() {
    let app = spawn().await;
    app.doctors().await;
    let board = committee(&app, "Board", "board").await;
    let ana = app.person("NM", "Silva").await;
    let term = seat(
        &app,
        board,
        json!({"contact_id": ana, "position": "chair", "begin": "2026-01-01"}),
    )
    .await;
    let path = format!("/committees/{board}/members/{}", id(&term));
    app.patch(&path, &app.staff, json!({"end": "2026-06-30"}))
        .await
        .expect(200);
    app.delete(&path, &app.staff).await.expect(204);
    let events = app.items("/events?type=committee_member.changed").await;
    let changes: Vec<&str> = events
        .iter()
        .map(|e| e["data"]["change"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(changes, ["created", "updated", "deleted"]);
    assert_eq!(events[0]["subject"], path.trim_start_matches('/'));
    assert_eq!(
        events[1]["data"],
        json!({"committee_member_id": id(&term), "committee_id": board, "contact_id": ana,
            "position": "chair", "begin": "2026-01-01", "end": "2026-06-30", "change": "updated"})
    );
}

#[tokio::test]
async fn c8_cs4_a_purged_contact_takes_its_committee_service_with_it() {
    let app = spawn().await;
    let b = board(&app).await;
    app.patch(
        &format!("/contacts/{}", b.past_chair),
        &app.staff,
        json!({"status": "D"}),
    )
    .await
    .expect(200);
    let done = app
        .post("/contacts/purge", &app.staff, json!({}))
        .await
        .expect(200);
    assert_eq!(done.body["purged"], json!([b.past_chair]));
    let left = app
        .items(&format!("/committees/{}/members?all=true", b.id))
        .await;
    assert!(left.iter().all(|t| t["contact_id"] != b.past_chair));
    assert_eq!(left.len(), 3);
}
