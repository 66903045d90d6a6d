//! JB-3: schedules staff read and set. Every kind runs when due, as of its due date (the
//! tests drive the clock); with two servers ticking at once each due time runs once; a bad
//! day or cron expression is 422 and changes nothing.

use chrono::{DateTime, Utc};
use sea_orm::Database;
use serde_json::json;
use service::schedules::tick::claim_due;
use tests::spawn;

use super::killed_run::{count, seed_members, setup};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("time").to_utc()
}

fn scheduled(app: &tests::TestApp, server: &str) -> api::schedules::Scheduled {
    api::schedules::Scheduled {
        db: app.db.clone(),
        stripe: None,
        mailer: None,
        webhooks: None,
        server_id: server.into(),
        timing: service::jobs::runner::Timing::default(),
    }
}

#[tokio::test]
async fn jb3_schedules_are_read_and_set_and_bad_timings_are_refused() {
    let app = spawn().await;
    setup(&app.client, &app.base, &app.staff).await;
    let cycle = count(
        &Database::connect(&app.url).await.expect("connect"),
        "SELECT id FROM billing_cycles",
    )
    .await;
    let list = app.get("/schedules", &app.staff).await.expect(200);
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    let renewal = format!("renewal_run:{cycle}");
    let reminders = format!("reminders:{cycle}");
    assert_eq!(
        names,
        [
            "expiry", "dunning", "notices", "webhooks", &renewal, &reminders
        ]
    );
    let one = app
        .get(&format!("/schedules/{renewal}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(one.body["enabled"], false);
    assert_eq!(one.body["day_of_month"], 1);
    assert!(one.body["next_run"].is_null());

    let path = format!("/schedules/{renewal}");
    for (body, field) in [
        (json!({"enabled": true, "day_of_month": 31}), "day_of_month"),
        (json!({"enabled": true, "day_of_month": 0}), "day_of_month"),
        (json!({"enabled": true, "cron": "61 * * * *"}), "cron"),
        (json!({"enabled": true, "cron": "every day"}), "cron"),
        (
            json!({"enabled": true, "cron": "0 2 * * *", "day_of_month": 3}),
            "day_of_month",
        ),
    ] {
        let r = app
            .put(&path, &app.staff, body)
            .await
            .problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.text);
    }
    assert_eq!(
        app.get(&path, &app.staff).await.expect(200).body,
        one.body,
        "nothing changed"
    );
    app.get("/schedules/nope", &app.staff)
        .await
        .problem(404, "not_found");
    app.put(
        "/schedules/renewal_run:999",
        &app.staff,
        json!({"enabled": true}),
    )
    .await
    .problem(404, "not_found");

    let set = app
        .put(
            &path,
            &app.staff,
            json!({"enabled": true, "day_of_month": 5}),
        )
        .await
        .expect(200);
    assert_eq!(set.body["enabled"], true);
    assert_eq!(set.body["day_of_month"], 5);
    let next = set.body["next_run"].as_str().expect("next run");
    assert!(next.contains("-05T00:00:00"), "{next}");
    let expiry = app
        .put(
            "/schedules/expiry",
            &app.staff,
            json!({"enabled": true, "cron": "30 1 * * *"}),
        )
        .await
        .expect(200);
    assert_eq!(expiry.body["cron"], "30 1 * * *");
    assert!(expiry.body["day_of_month"].is_null());
}

#[tokio::test]
async fn jb3_every_kind_runs_when_due_once_across_two_servers_as_of_its_date() {
    let app = spawn().await;
    setup(&app.client, &app.base, &app.staff).await;
    let db = Database::connect(&app.url).await.expect("connect");
    seed_members(&db, 1_200).await;
    let cycle = count(&db, "SELECT id FROM billing_cycles").await;
    let names = [
        "expiry".to_owned(),
        "dunning".to_owned(),
        "notices".to_owned(),
        "webhooks".to_owned(),
        format!("renewal_run:{cycle}"),
        format!("reminders:{cycle}"),
    ];
    for name in &names {
        app.put(
            &format!("/schedules/{name}"),
            &app.staff,
            json!({"enabled": true, "day_of_month": 1}),
        )
        .await
        .expect(200);
    }
    // Set on 2026-12-07 (this machine's clock may differ: the due time is read back).
    let due_at: Vec<String> = {
        let r = app.get("/schedules", &app.staff).await.expect(200);
        r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|s| s["next_run"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(due_at.len(), 6);
    assert!(due_at.iter().all(|d| d == &due_at[0]));
    let due = at(&due_at[0]);

    // A second before: nothing is due.
    let a = scheduled(&app, "server-a");
    let b = scheduled(&app, "server-b");
    assert!(
        claim_due(&a.db, due - chrono::Duration::seconds(1))
            .await
            .expect("tick")
            .is_empty()
    );
    // Two servers tick at the due time: each schedule is claimed once.
    let (first, second) = tokio::join!(claim_due(&a.db, due), claim_due(&b.db, due));
    let (first, second) = (first.expect("tick a"), second.expect("tick b"));
    assert_eq!(first.len() + second.len(), 6, "{first:?} {second:?}");
    let staff_id = count(&db, "SELECT id FROM users WHERE username = 'admin'").await;
    for d in first.iter().chain(&second) {
        assert_eq!(d.as_of, due.date_naive(), "run as of its due date");
        assert_eq!(d.by, Some(staff_id));
        a.run(d).await.expect("every kind runs");
    }
    // Claimed again at the same time: nothing (each due time runs once).
    assert!(claim_due(&b.db, due).await.expect("tick").is_empty());

    // The renewal run is a job, dated by the due time, in the name of who set the schedule.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while count(&db, "SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'").await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduled run did not end"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM renewal_runs").await, 1);
    assert_eq!(
        count(&db, "SELECT run_by FROM renewal_runs").await,
        staff_id
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM invoices WHERE kind = 'renewal'").await,
        1_200
    );
    let s = app
        .get(&format!("/schedules/renewal_run:{cycle}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(at(s.body["last_run"].as_str().expect("last run")), due);
    let next = at(s.body["next_run"].as_str().expect("next run"));
    assert!(
        next > due && next.format("%d %H:%M").to_string() == "01 00:00",
        "{next}"
    );
    let _ = db.close().await;
}
