//! A renewal run killed mid-way (SIGKILL) leaves whole pages only, and the next run bills the
//! rest: every due member ends with exactly one renewal invoice.

use std::process::Stdio;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tests::child::Process;
use tests::{drop_database, fresh_database};

pub(crate) const SERVER: &str = env!("CARGO_BIN_EXE_ams-cli");
pub(crate) const PASSWORD: &str = "killed-run-admin-password";
const MEMBERS: i64 = 12_000;

pub(crate) async fn token(client: &reqwest::Client, base: &str) -> String {
    let r: Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    r["access_token"].as_str().expect("access token").to_owned()
}

pub(crate) async fn post(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: Value,
) -> Value {
    let r = client
        .post(format!("{base}/api/v1{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.expect("json")
}

pub(crate) async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index::<i64>(0).expect("count")
}

pub(crate) async fn seed_members(db: &DatabaseConnection, members: i64) {
    let now = "2026-11-22T00:00:00Z";
    for start in (1..=members).step_by(500) {
        let values: Vec<String> = (start..(start + 500).min(members + 1))
            .map(|n| {
                format!(
                    "('M', 'REG', 'A', 'Member', 'No{n}', 'no{n}, member', FALSE, TRUE, TRUE, 1, '{now}', '{now}')"
                )
            })
            .collect();
        db.execute_unprepared(&format!(
            "INSERT INTO contacts (customer_type, billing_category, status, first_name, last_name, sort_name, autopay, email_opt_in, mail_opt_in, version, created_at, updated_at) VALUES {}",
            values.join(", ")
        ))
        .await
        .expect("insert contacts");
    }
}

/// Dues of 500.00 for type M, and the cycle `Renewals` billing it.
pub(crate) async fn setup(client: &reqwest::Client, base: &str, t: &str) {
    post(
        client,
        base,
        t,
        "/billing-categories",
        json!({"code": "REG", "name": "Regular"}),
    )
    .await;
    post(
        client,
        base,
        t,
        "/products",
        json!({"code": "MDUES", "name": "Dues", "product_type": "dues", "price": "500.00"}),
    )
    .await;
    post(
        client,
        base,
        t,
        "/customer-types",
        json!({"code": "M", "name": "Member", "is_member": true, "is_organization": false,
            "primary_fee": {"kind": "products", "products": ["MDUES"]}, "expires_to": "NMP"}),
    )
    .await;
    post(
        client,
        base,
        t,
        "/billing-cycles",
        json!({"name": "Renewals", "customer_types": ["M"]}),
    )
    .await;
}

#[tokio::test]
async fn r2_r6_a_run_killed_mid_way_leaves_whole_pages_and_the_next_run_finishes_it() {
    let (url, _dir) = fresh_database().await;
    let client = service::http::client();
    let mut server = Process::start(SERVER, &url, PASSWORD, &[], Stdio::null()).await;
    let t = token(&client, &server.base).await;
    let base = server.base.clone();
    setup(&client, &base, &t).await;
    let db = Database::connect(&url).await.expect("connect");
    seed_members(&db, MEMBERS).await;

    // Start a run, and kill the server as soon as its first page is written.
    let run_client = client.clone();
    let run_base = base.clone();
    let run_token = t.clone();
    let running = tokio::spawn(async move {
        let _ = run_client
            .post(format!("{run_base}/api/v1/renewal-runs"))
            .bearer_auth(run_token)
            .json(&json!({"billing_cycle": "Renewals", "effective_date": "2027-01-01"}))
            .send()
            .await;
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let progressed = count(
            &db,
            "SELECT COUNT(*) FROM renewal_runs WHERE last_contact_id > 0",
        )
        .await;
        let done = count(
            &db,
            "SELECT COUNT(*) FROM renewal_runs WHERE status <> 'running'",
        )
        .await;
        if progressed > 0 || done > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the run made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    running.abort();

    // Whole pages only: the killed run's counters match what it wrote, every invoice has lines.
    let billed = count(&db, "SELECT billed FROM renewal_runs ORDER BY id LIMIT 1").await;
    let written = count(&db, "SELECT COUNT(*) FROM invoices WHERE kind = 'renewal'").await;
    assert_eq!(
        billed, written,
        "the run's record and its invoices disagree"
    );
    eprintln!("the killed run had written {written} of {MEMBERS} invoices");
    assert!(written > 0 && written <= MEMBERS);
    let lineless = count(
        &db,
        "SELECT COUNT(*) FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id)",
    )
    .await;
    assert_eq!(lineless, 0);

    // After a restart, the next run bills the rest, and nobody twice.
    // It takes no job over (JB-1 has its own test): this test is about the next run.
    let server = Process::start(
        SERVER,
        &url,
        PASSWORD,
        &[("AMS_JOB_POLL_MS", "0")],
        Stdio::null(),
    )
    .await;
    let t = token(&client, &server.base).await;
    let second = post(
        &client,
        &server.base,
        &t,
        "/renewal-runs",
        json!({"billing_cycle": "Renewals", "effective_date": "2027-01-01"}),
    )
    .await;
    assert_eq!(second["billed"].as_i64(), Some(MEMBERS - written));
    assert_eq!(second["skipped_count"].as_i64(), Some(written));
    let total = count(&db, "SELECT COUNT(*) FROM invoices WHERE kind = 'renewal'").await;
    assert_eq!(total, MEMBERS);
    let twice = count(
        &db,
        "SELECT COUNT(*) FROM (SELECT contact_id FROM invoices WHERE kind = 'renewal' GROUP BY contact_id HAVING COUNT(*) > 1) AS d",
    )
    .await;
    assert_eq!(twice, 0);
    drop(server);
    let _ = db.close().await;
    drop_database(&url).await;
}
