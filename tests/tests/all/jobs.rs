//! JB-1, JB-4: long operations as jobs. A renewal run started with `Prefer: respond-async`
//! answers 202 with the job's location; the job shows its progress and the run's answer; a
//! cancelled run stops at a page boundary with whole pages only; a server killed mid-run
//! leaves its job to another server, which finishes it from the next page, billing nobody
//! twice, with the totals of an uninterrupted run.

use std::process::Stdio;
use std::time::{Duration, Instant};

use sea_orm::Database;
use serde_json::{Value, json};
use tests::child::Process;
use tests::{drop_database, fresh_database, spawn};

use super::killed_run::{PASSWORD, SERVER, count, seed_members, setup, token};

async fn get_json(client: &reqwest::Client, base: &str, token: &str, path: &str) -> Value {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("job")
        .json()
        .await
        .expect("json")
}

async fn start_async(client: &reqwest::Client, base: &str, t: &str) -> (String, Value) {
    let r = client
        .post(format!("{base}/api/v1/renewal-runs"))
        .bearer_auth(t)
        .header("Prefer", "respond-async")
        .json(&json!({"billing_cycle": "Renewals", "effective_date": "2027-01-01"}))
        .send()
        .await
        .expect("start");
    assert_eq!(r.status().as_u16(), 202);
    assert_eq!(
        r.headers()
            .get("preference-applied")
            .and_then(|v| v.to_str().ok()),
        Some("respond-async")
    );
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_owned();
    assert!(location.starts_with("/api/v1/jobs/"), "{location}");
    (location, r.json().await.expect("json"))
}

async fn until_ended(client: &reqwest::Client, base: &str, t: &str, location: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let j = get_json(client, base, t, location).await;
        if !matches!(j["state"].as_str(), Some("running" | "queued")) {
            return j;
        }
        assert!(Instant::now() < deadline, "the job did not end: {j}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn jb1_an_async_run_answers_202_and_its_job_holds_the_runs_answer() {
    let app = spawn().await;
    setup(&app.client, &app.base, &app.staff).await;
    let db = Database::connect(&app.url).await.expect("connect");
    seed_members(&db, 2_500).await;
    let (location, started) = start_async(&app.client, &app.base, &app.staff).await;
    assert_eq!(started["kind"], "renewal_run");
    assert_eq!(started["state"], "running");
    let ended = until_ended(&app.client, &app.base, &app.staff, &location).await;
    assert_eq!(ended["state"], "succeeded", "{ended}");
    assert_eq!(ended["done"], 2_500);
    assert_eq!(ended["total"], 2_500);
    assert_eq!(ended["attempts"], 1);
    let result = &ended["result"];
    assert_eq!(result["billed"], 2_500);
    assert_eq!(result["total"], "1250000.00");
    let run_id = result["id"].as_i64().expect("the run's id");
    let run = app
        .get(&format!("/renewal-runs/{run_id}"), &app.staff)
        .await;
    assert_eq!(run.body["status"], "completed");
    assert_eq!(run.body["billed"], 2_500);
    // A finished job cannot be cancelled; an unknown one is not found.
    let id = ended["id"].as_i64().expect("id");
    // The command line shows the same state and progress.
    let out = std::process::Command::new(SERVER)
        .args(["job", &id.to_string()])
        .env("AMS_DATABASE_URL", &app.url)
        .env("AMS_LOG", "warn")
        .output()
        .expect("ams job");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains(&format!(
            "job {id} (renewal_run): succeeded  2500/2500 done (100%)"
        )),
        "{shown}"
    );
    assert!(shown.contains(&format!("\"id\":{run_id}")), "{shown}");
    app.post(&format!("/jobs/{id}/cancel"), &app.staff, json!({}))
        .await
        .problem(409, "conflict");
    app.get("/jobs/999999", &app.staff)
        .await
        .problem(404, "not_found");
    let _ = db.close().await;
}

#[tokio::test]
async fn jb1_a_cancelled_run_stops_at_a_page_boundary_with_whole_pages() {
    let app = spawn().await;
    setup(&app.client, &app.base, &app.staff).await;
    let db = Database::connect(&app.url).await.expect("connect");
    seed_members(&db, 2_500).await;
    // A job asked to stop before its first page ends: the run stops after that page.
    let cycle = service::billing_cycles::resolve(
        &app.db.conn,
        &service::billing_cycles::CycleRef::Name("Renewals".into()),
    )
    .await
    .expect("cycle");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let params = service::renewals::RunJob {
        billing_cycle: cycle.id,
        effective_date: chrono::NaiveDate::from_ymd_opt(2027, 1, 1),
        autopay_option: None,
        run_by: 1,
        today,
        preview_id: None,
    };
    let lease = Duration::from_secs(30);
    let (started, control) = service::jobs::start(
        &app.db,
        service::jobs::RENEWAL_RUN,
        &params.to_json().expect("params"),
        1,
        "test-server",
        lease,
    )
    .await
    .expect("job");
    let asked = app
        .post(
            &format!("/jobs/{}/cancel", started.id),
            &app.staff,
            json!({}),
        )
        .await
        .expect(202);
    assert_eq!(asked.body["cancel_requested"], true);
    control.beat(&app.db).await.expect("beat");
    assert!(control.cancelled());
    let timing = service::jobs::runner::Timing::default();
    let (result, flow) = service::jobs::runner::execute(
        &app.db,
        control.clone(),
        &timing,
        api::jobs::run_renewals(&app.db, &params, started.id, &control),
        |(r, f)| api::jobs::ended(r, *f),
    )
    .await
    .expect("run");
    assert_eq!(flow, service::renewals::Flow::Cancelled);
    // Whole pages of 1,000: one, or two where PostgreSQL writes two pages side by side.
    let billed = result.billed;
    assert!(billed == 1_000 || billed == 2_000, "whole pages: {billed}");
    let invoices = count(&db, "SELECT COUNT(*) FROM invoices WHERE kind = 'renewal'").await;
    assert_eq!(invoices as u64, billed);
    let lineless = count(
        &db,
        "SELECT COUNT(*) FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id)",
    )
    .await;
    assert_eq!(lineless, 0);
    let j = app
        .get(&format!("/jobs/{}", started.id), &app.staff)
        .await
        .expect(200);
    assert_eq!(j.body["state"], "cancelled");
    assert_eq!(j.body["done"], billed);
    assert_eq!(j.body["total"], 2_500);
    assert_eq!(j.body["result"]["billed"], billed);
    let run_id = j.body["result"]["id"].as_i64().expect("run id");
    let run = app
        .get(&format!("/renewal-runs/{run_id}"), &app.staff)
        .await;
    assert_eq!(run.body["status"], "cancelled");
    assert_eq!(run.body["billed"], billed);
    app.post(
        &format!("/jobs/{}/cancel", started.id),
        &app.staff,
        json!({}),
    )
    .await
    .problem(409, "conflict");
    let _ = db.close().await;
}

#[tokio::test]
async fn jb1_jb4_a_run_whose_server_was_killed_is_finished_by_another_server() {
    const MEMBERS: i64 = 20_000;
    let (url, _dir) = fresh_database().await;
    let client = service::http::client();
    let quick_lease = [("AMS_JOB_LEASE_SECS", "2"), ("AMS_JOB_POLL_MS", "0")];
    let mut first = Process::start(SERVER, &url, PASSWORD, &quick_lease, Stdio::null()).await;
    let t = token(&client, &first.base).await;
    setup(&client, &first.base, &t).await;
    let db = Database::connect(&url).await.expect("connect");
    seed_members(&db, MEMBERS).await;

    let (location, _) = start_async(&client, &first.base, &t).await;
    // Killed as soon as the run's first page is committed.
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&db, "SELECT COUNT(*) FROM renewal_run_pages").await == 0 {
        assert!(Instant::now() < deadline, "the run made no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill();
    let written = count(&db, "SELECT COUNT(*) FROM invoices WHERE kind = 'renewal'").await;
    eprintln!("the killed server had written {written} of {MEMBERS} invoices");
    assert!(
        written > 0 && written < MEMBERS,
        "killed mid-run: {written}"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM jobs WHERE state = 'running'").await,
        1,
        "the job is left running by the dead server"
    );

    // Another server takes the job over once its lease ends and finishes the run.
    let second = Process::start(
        SERVER,
        &url,
        PASSWORD,
        &[("AMS_JOB_LEASE_SECS", "2"), ("AMS_JOB_POLL_MS", "100")],
        Stdio::null(),
    )
    .await;
    let t = token(&client, &second.base).await;
    let ended = until_ended(&client, &second.base, &t, &location).await;
    assert_eq!(ended["state"], "succeeded", "{ended}");
    assert_eq!(ended["attempts"], 2);
    assert_eq!(ended["done"], MEMBERS);
    // The totals of an uninterrupted run: everyone billed once, at 500.00.
    let result = &ended["result"];
    assert_eq!(result["considered"], MEMBERS);
    assert_eq!(result["billed"], MEMBERS);
    assert_eq!(result["skipped_count"], 0);
    assert_eq!(result["total"], format!("{}.00", MEMBERS * 500));
    let run_id = result["id"].as_i64().expect("run id");
    let run = get_json(
        &client,
        &second.base,
        &t,
        &format!("/api/v1/renewal-runs/{run_id}"),
    )
    .await;
    assert_eq!(run["status"], "completed");
    assert_eq!(run["billed"], MEMBERS);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM renewal_runs").await, 1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM invoices WHERE kind = 'renewal'").await,
        MEMBERS
    );
    let twice = count(
        &db,
        "SELECT COUNT(*) FROM (SELECT contact_id FROM invoices WHERE kind = 'renewal' GROUP BY contact_id HAVING COUNT(*) > 1) AS d",
    )
    .await;
    assert_eq!(twice, 0, "nobody billed twice");
    let lineless = count(
        &db,
        "SELECT COUNT(*) FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id)",
    )
    .await;
    assert_eq!(lineless, 0);
    // JB-4: nothing is left running.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM renewal_runs WHERE status = 'running'"
        )
        .await,
        0
    );
    drop(second);
    let _ = db.close().await;
    drop_database(&url).await;
}

#[tokio::test]
async fn jb1_jb4_behind_nginx_the_other_server_finishes_the_run_of_a_killed_one() {
    const MEMBERS: i64 = 50_000;
    let (url, _dir) = fresh_database().await;
    let settings = [("AMS_JOB_LEASE_SECS", "2"), ("AMS_JOB_POLL_MS", "200")];
    let mut servers = vec![
        Process::start(SERVER, &url, PASSWORD, &settings, Stdio::null()).await,
        Process::start(SERVER, &url, PASSWORD, &settings, Stdio::null()).await,
    ];
    let upstreams: Vec<String> = servers
        .iter()
        .map(|s| s.base.trim_start_matches("http://").to_owned())
        .collect();
    let Some(nginx) = tests::balancer::Balancer::start(&upstreams).await else {
        drop_database(&url).await;
        return;
    };
    let client = service::http::client();
    let t = token(&client, &nginx.base).await;
    setup(&client, &nginx.base, &t).await;
    let db = Database::connect(&url).await.expect("connect");
    seed_members(&db, MEMBERS).await;

    let (location, started) = start_async(&client, &nginx.base, &t).await;
    let id = started["id"].as_i64().expect("job id");
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&db, "SELECT COUNT(*) FROM renewal_run_pages").await == 0 {
        assert!(Instant::now() < deadline, "the run made no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The server running the job (its owner names its process) is killed.
    let owner = owner_of(&db, id).await;
    let running = servers
        .iter()
        .position(|s| owner.contains(&format!(":{}:", s.child.id())))
        .expect("one of the two servers runs the job");
    servers[running].kill();
    let written = count(&db, "SELECT COUNT(*) FROM invoices WHERE kind = 'renewal'").await;
    eprintln!("the killed server had written {written} of {MEMBERS} invoices");
    assert!(
        written > 0 && written < MEMBERS,
        "killed mid-run: {written}"
    );

    // Through nginx, the other server answers, takes the job over and finishes the run.
    let ended = until_ended(&client, &nginx.base, &t, &location).await;
    assert_eq!(ended["state"], "succeeded", "{ended}");
    assert_eq!(ended["attempts"], 2);
    assert_ne!(owner_of(&db, id).await, owner, "another server finished it");
    let result = &ended["result"];
    assert_eq!(result["considered"], MEMBERS);
    assert_eq!(result["billed"], MEMBERS);
    assert_eq!(result["total"], format!("{}.00", MEMBERS * 500));
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM invoices WHERE kind = 'renewal'").await,
        MEMBERS
    );
    let twice = count(
        &db,
        "SELECT COUNT(*) FROM (SELECT contact_id FROM invoices WHERE kind = 'renewal' GROUP BY contact_id HAVING COUNT(*) > 1) AS d",
    )
    .await;
    assert_eq!(twice, 0, "nobody billed twice");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM renewal_runs WHERE status = 'running'"
        )
        .await,
        0
    );
    drop(nginx);
    drop(servers);
    let _ = db.close().await;
    drop_database(&url).await;
}

async fn owner_of(db: &sea_orm::DatabaseConnection, job: i64) -> String {
    use sea_orm::ConnectionTrait;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT owner FROM jobs WHERE id = {job}"),
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index::<String>(0).expect("owner")
}
