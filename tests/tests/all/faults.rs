//! Faults: the server killed (SIGKILL) during a renewal run, an import and a payment, and the
//! database going away and coming back. After a kill and a restart no invoice is partial, no
//! payment is lost or doubled, and re-running completes with the totals of an uninterrupted
//! run. Runs on SQLite and, with `AMS_TEST_DATABASE_URL`, on PostgreSQL.

use std::time::{Duration, Instant};

use reqwest::Method;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use service::Db;
use service::demo::members;
use tests::child::{ChildServer, count, create_renewal_cycle, seeded};
use tests::{cents, drop_database, server_url};

const SERVER: &str = env!("CARGO_BIN_EXE_ams-cli");
const CYCLE: &str = "Fault renewals";

/// Every invoice whole: it has lines and its total is their sum.
async fn assert_no_partial_invoice(db: &Db) {
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM invoices i WHERE NOT EXISTS \
             (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id)"
        )
        .await,
        0,
        "an invoice without lines"
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM invoices i WHERE i.total_cents <> \
             (SELECT SUM(l.amount_cents) FROM invoice_lines l WHERE l.invoice_id = i.id)"
        )
        .await,
        0,
        "an invoice whose total is not the sum of its lines"
    );
}

async fn create_cycle(s: &ChildServer) {
    create_renewal_cycle(s, CYCLE).await;
}

fn run_body(dry_run: bool) -> Value {
    json!({"billing_cycle": CYCLE, "effective_date": "2028-01-01", "dry_run": dry_run})
}

async fn wait_for(db: &Db, sql: &str, at_least: i64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(db, sql).await < at_least {
        assert!(Instant::now() < deadline, "timed out waiting for {sql}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r2_a_renewal_run_killed_midway_leaves_whole_pages_and_a_rerun_completes_it() {
    let (url, _guard, db) = seeded(tests::scale(8_000, 50_000), 3).await;
    let s = ChildServer::start(SERVER, &url).await;
    create_cycle(&s).await;
    let preview = s
        .send(Method::POST, "/renewal-runs", Some(run_body(true)), &[])
        .await
        .expect(200);
    let due = preview.body["billed"].as_i64().expect("billed");
    let expected_total = cents(&preview.body["total"]);
    assert!(due >= tests::scale(8_000, 50_000) as i64, "{due}");

    let run = s.detached(Method::POST, "/renewal-runs", Some(run_body(false)));
    // Killed once the first page has landed: the run is under way, not finished.
    wait_for(&db, "SELECT COUNT(*) FROM invoices", 1).await;
    s.kill();
    assert!(run.await.expect("task").is_err(), "the run finished first");

    let written = count(&db, "SELECT COUNT(*) FROM invoices").await;
    assert!(written > 0 && written < due, "{written} of {due} written");
    assert_eq!(
        written % service::renewals::PAGE as i64,
        0,
        "only whole pages land"
    );
    assert_no_partial_invoice(&db).await;

    let s = ChildServer::start(SERVER, &url).await;
    let rerun = s
        .send(Method::POST, "/renewal-runs", Some(run_body(false)), &[])
        .await
        .expect(201);
    assert_eq!(rerun.body["billed"].as_i64(), Some(due - written));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM invoices").await, due);
    assert_eq!(
        count(&db, "SELECT CAST(SUM(total_cents) AS BIGINT) FROM invoices").await,
        expected_total,
        "the totals of an uninterrupted run"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM (SELECT contact_id FROM invoices GROUP BY contact_id \
             HAVING COUNT(*) > 1) twice"
        )
        .await,
        0,
        "a member billed twice"
    );
    assert_no_partial_invoice(&db).await;
    drop(s);
    db.conn.close().await.expect("close");
    drop_database(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s9_an_import_killed_midway_lands_whole_or_not_at_all_and_a_rerun_completes_it() {
    let persons = tests::scale(30_000, 100_000);
    let (url, _guard, db) = seeded(persons, 3).await;
    let s = ChildServer::start(SERVER, &url).await;
    let mut csv = String::from("contact_id,product,paid_through\n");
    let ids: Vec<i64> = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
        entity::contact::Entity::find()
            .select_only()
            .column(entity::contact::Column::Id)
            .filter(entity::contact::Column::CustomerType.eq("M"))
            .into_tuple()
            .all(&db.conn)
            .await
            .expect("members")
    };
    for id in &ids {
        csv.push_str(&format!("{id},{},2031-12-31\n", members::JOURNAL));
    }
    let moved = format!(
        "SELECT COUNT(*) FROM subscriptions WHERE product = '{}' AND paid_through = '2031-12-31'",
        members::JOURNAL
    );
    let import = {
        let (client, base, token, body) = (
            s.client.clone(),
            s.base.clone(),
            s.token.clone(),
            csv.clone(),
        );
        tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/subscriptions/import?action=upsert"))
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .body(body)
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    s.kill();
    assert!(
        import.await.expect("task").is_err(),
        "the import finished first"
    );
    // All or nothing: the import is one transaction.
    let after_kill = count(&db, &moved).await;
    assert!(
        after_kill == 0 || after_kill == ids.len() as i64,
        "{after_kill} rows of {}",
        ids.len()
    );

    let s = ChildServer::start(SERVER, &url).await;
    let r = s
        .client
        .post(format!(
            "{}/api/v1/subscriptions/import?action=upsert",
            s.base
        ))
        .bearer_auth(&s.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(count(&db, &moved).await, ids.len() as i64);
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM subscriptions WHERE product = '{}'",
                members::JOURNAL
            )
        )
        .await,
        ids.len() as i64,
        "an upsert never doubles a subscription"
    );
    drop(s);
    db.conn.close().await.expect("close");
    drop_database(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i4_a_payment_cut_off_by_a_kill_is_neither_lost_nor_doubled_on_retry() {
    let (url, _guard, db) = seeded(200, 3).await;
    let mut s = ChildServer::start(SERVER, &url).await;
    create_cycle(&s).await;
    let run = s
        .send(Method::POST, "/renewal-runs", Some(run_body(false)), &[])
        .await
        .expect(201);
    let invoices: Vec<(i64, Value)> = run.body["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .take(tests::scale(6, 40) as usize)
        .map(|i| (i["invoice_id"].as_i64().expect("id"), i["total"].clone()))
        .collect();
    assert_eq!(invoices.len(), tests::scale(6, 40) as usize);
    for (round, (id, total)) in invoices.iter().enumerate() {
        let id = *id;
        let key = format!("fault-payment-{id}");
        let body = json!({"amount": total, "paid_on": "2028-01-05", "method": "card"});
        let (client, base, token, b, k) = (
            s.client.clone(),
            s.base.clone(),
            s.token.clone(),
            body.clone(),
            key.clone(),
        );
        let pay = tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/invoices/{id}/payments"))
                .bearer_auth(token)
                .header("Idempotency-Key", k)
                .json(&b)
                .send()
                .await
        });
        // From before the request is read to after it has committed.
        tokio::time::sleep(Duration::from_millis(round as u64 % 8 * 4)).await;
        s.kill();
        let _ = pay.await;
        s = ChildServer::start(SERVER, &url).await;
        let retry = s
            .send(
                Method::POST,
                &format!("/invoices/{id}/payments"),
                Some(body),
                &[("Idempotency-Key", &key)],
            )
            .await
            .expect(201);
        assert_eq!(cents(&retry.body["payment"]["amount"]), cents(total));
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM payments WHERE invoice_id = {id}")
            )
            .await,
            1,
            "invoice {id}: one payment"
        );
        assert_eq!(
            count(
                &db,
                &format!("SELECT paid_cents FROM invoices WHERE id = {id}")
            )
            .await,
            cents(total),
            "invoice {id}: paid once"
        );
    }
    drop(s);
    db.conn.close().await.expect("close");
    drop_database(&url).await;
}

/// PostgreSQL only (SQLite is a file inside the process and cannot go away on its own): the
/// test database refuses connections and its sessions are ended, then it comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_going_away_and_back_is_reported_and_survived_without_restart() {
    let Some(admin_url) = server_url() else {
        eprintln!("PostgreSQL only: set AMS_TEST_DATABASE_URL");
        return;
    };
    let app = tests::spawn().await;
    app.get("/contacts", &app.staff).await.expect(200);
    let name = app
        .url
        .rsplit('/')
        .next()
        .expect("database name")
        .to_owned();
    let admin = sea_orm::Database::connect(&admin_url).await.expect("admin");
    let exec = |sql: String| {
        let admin = &admin;
        async move {
            admin
                .execute_unprepared(&sql)
                .await
                .expect("admin statement");
        }
    };
    exec(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    exec(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;

    let ready = app.get("/ready", &app.staff).await;
    assert_eq!(ready.status.as_u16(), 503, "{}", ready.text);
    let r = app.get("/contacts", &app.staff).await;
    assert_eq!(r.status.as_u16(), 503, "{}", r.text);
    assert_eq!(r.body["code"], "service_unavailable");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json")
    );

    exec(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if app.get("/ready", &app.staff).await.status.as_u16() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "/ready did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.get("/contacts", &app.staff).await.expect(200);
    // Writes work again too.
    app.create_type(
        json!({"code": "BACK", "name": "Back", "is_member": false, "is_organization": false}),
    )
    .await;
    let _ = admin.close().await;
}
