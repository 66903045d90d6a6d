//! Benchmarks, not timed tests: every figure is a ratio to a baseline measured in the same run
//! on the same machine, so it holds on a noisy machine. Build with `cargo build --release
//! --workspace` first; the server under test is the `ams` binary beside this one.
//!
//! ```sh
//! target/release/bench renewals --members 100000,1000000
//! target/release/bench import --rows 100000
//! AMS_BENCH_DATABASE_URL=postgres://ams:ams@127.0.0.1:5432/ams target/release/bench renewals
//! AMS_BENCH_WRAP="perf record -g -o perf.data --" target/release/bench renewals
//! ```

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use clap::{Parser, Subcommand};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde_json::{Value, json};
use service::Db;
use service::demo::members::{self, Options};

const PASSWORD: &str = "bench-admin-password";
const CYCLE: &str = "Bench renewals";

#[derive(Parser)]
#[command(about = "Benchmarks against baselines measured in the same run")]
struct Cli {
    /// PostgreSQL server URL (a fresh database is created per run); default: SQLite files.
    #[arg(long, env = "AMS_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// A committed renewal run of N members (dues, a journal and a chapter each; 1,000 pricing
    /// rules) against inserting as many invoice and line rows in one transaction.
    Renewals {
        #[arg(long, value_delimiter = ',', default_value = "100000")]
        members: Vec<u64>,
    },
    /// A CSV subscription import (`upsert`) against inserting as many subscription rows in one
    /// transaction; then a contact import of as many contacts with three history rows each
    /// (MG-1, MG-3) against inserting as many contact and history rows.
    Import {
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
    },
    /// The API under load: `wrk` (Debian package) on core 0 with 64 connections against the
    /// server pinned to core 1, next to a raw loop running the same SELECT through the same
    /// pool on core 1.
    Api {
        #[arg(long, default_value_t = 100_000)]
        members: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// List latency as the data grows: p50 of sequential requests at each size (deep cursor,
    /// filters), compared with the smallest size.
    Growth {
        #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
        members: Vec<u64>,
        #[arg(long, default_value_t = 200)]
        requests: usize,
    },
    /// Notice delivery (N-3): N expiry notices rendered and sent by the server's deliverer to a
    /// local SMTP server over reused connections (one by default), against sending as many
    /// ready-made messages over as many connections of the same kind.
    Notices {
        #[arg(long, default_value_t = 10_000)]
        messages: u64,
        /// Messages sent at once, each over its own connection.
        #[arg(long, default_value_t = 1)]
        connections: usize,
        /// A running SMTP server, e.g. `python -m aiosmtpd -n -l 127.0.0.1:8025 -c
        /// aiosmtpd.handlers.Sink`.
        #[arg(long, default_value = "smtp://127.0.0.1:8025")]
        smtp_url: String,
    },
    /// A renewal run's invoices printed as one PDF (N-4): its time, size and the server's peak
    /// memory, against the CSV export of the same invoices (`GET /invoices?renewal_run=`).
    Print {
        #[arg(long, default_value_t = 100_000)]
        invoices: u64,
    },
    /// The raw loop of `bench api`, run by it on one core.
    #[command(hide = true)]
    RawLoop {
        #[arg(long)]
        url: String,
        #[arg(long)]
        query: RawQuery,
        #[arg(long)]
        max_id: i64,
        #[arg(long)]
        seconds: u64,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum RawQuery {
    /// One contact by id.
    Get,
    /// The first page of 50 (51 rows read, as the list reads one more to know of a next page).
    List,
}

const CONNECTIONS: usize = 64;

/// A fresh database, dropped at the end of the benchmark.
struct Fresh {
    url: String,
    server: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

async fn fresh(server_url: Option<&str>) -> Fresh {
    let (url, dir) = tests::fresh_db::fresh(server_url).await;
    Fresh {
        url,
        server: server_url.map(str::to_owned),
        _dir: dir,
    }
}

impl Fresh {
    async fn drop_database(self) {
        tests::fresh_db::drop(self.server.as_deref(), &self.url).await;
    }
}

/// `ams serve` as a child process, with a staff token.
struct Server {
    child: Child,
    base: String,
    token: String,
    client: reqwest::Client,
}

fn sibling(name: &str) -> PathBuf {
    let me = std::env::current_exe().expect("current exe");
    me.with_file_name(name)
}

impl Server {
    async fn start(url: &str) -> Server {
        Server::start_on(url, None).await
    }

    /// The server, pinned to one CPU core when `core` is given (`taskset`).
    async fn start_on(url: &str, core: Option<usize>) -> Server {
        let port = tests::started::free_port();
        // `AMS_BENCH_WRAP="perf record -g -o perf.data --"` profiles the server.
        let wrap = std::env::var("AMS_BENCH_WRAP").unwrap_or_default();
        let mut words: Vec<String> = match core {
            Some(core) => vec!["taskset".into(), "-c".into(), core.to_string()],
            None => Vec::new(),
        };
        words.extend(wrap.split_whitespace().map(str::to_owned));
        words.push(sibling("ams").display().to_string());
        let child = Command::new(&words[0])
            .args(&words[1..])
            .env("AMS_DATABASE_URL", url)
            .env("AMS_BIND", format!("127.0.0.1:{port}"))
            .env("AMS_ADMIN_PASSWORD", PASSWORD)
            .env(
                "AMS_LOG",
                std::env::var("AMS_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(if std::env::var_os("AMS_BENCH_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("start ams (run `cargo build --release --workspace` first)");
        let base = format!("http://127.0.0.1:{port}");
        let client = service::http::client_builder()
            .timeout(Duration::from_secs(3_600))
            .build()
            .expect("client");
        let deadline = Instant::now() + Duration::from_secs(120);
        while client
            .get(format!("{base}/health"))
            .send()
            .await
            .map_or(true, |r| !r.status().is_success())
        {
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let token: Value = client
            .post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"username": "admin", "password": PASSWORD}))
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        Server {
            child,
            base,
            token: token["access_token"].as_str().expect("token").to_owned(),
            client,
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .client
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status();
        let v: Value = r.json().await.expect("json");
        assert!(status.is_success(), "POST {path}: {status} {v}");
        v
    }

    async fn post_csv(&self, path: &str, csv: String) -> Value {
        let r = self
            .client
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .expect("request");
        let status = r.status();
        let v: Value = r.json().await.expect("json");
        assert!(status.is_success(), "POST {path}: {status}");
        v
    }

    /// The server's peak resident memory so far, in MiB (Linux `VmHWM`).
    fn peak_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }
}

impl Drop for Server {
    /// Asks the server (or the profiler wrapping it) to stop, so that `perf record` can finish
    /// its file; kills it when it has not stopped after ten seconds.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn prepared(url: &str, persons: u64, all_members: bool) -> Db {
    let db = Db::connect(url).await.expect("connect");
    service::bootstrap::prepare(&db).await.expect("migrate");
    let opts = Options {
        persons,
        seed: 1,
        all_members,
    };
    members::generate(&db, opts, &|_, _| {})
        .await
        .expect("generate");
    db
}

/// Settles the database before a measurement: the write-ahead log checkpointed and, on
/// PostgreSQL, dead rows vacuumed, so that no measured operation pays for work that the data
/// generator or the baseline left behind. Best effort: `CHECKPOINT` needs a privileged role.
async fn settle(db: &Db) {
    let statements: &[&str] = match db.conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => &["VACUUM ANALYZE", "CHECKPOINT"],
        _ => &["PRAGMA wal_checkpoint(TRUNCATE)"],
    };
    for sql in statements {
        // SQLite answers (busy, log frames, checkpointed frames); busy while the pool's own
        // checkpoint runs.
        for _ in 0..50 {
            match db
                .conn
                .query_one_raw(sea_orm::Statement::from_string(
                    db.conn.get_database_backend(),
                    *sql,
                ))
                .await
            {
                Ok(Some(row)) if row.try_get_by_index::<i64>(0).is_ok_and(|busy| busy != 0) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(_) => break,
                Err(e) => {
                    eprintln!("settling the database: {sql}: {e}");
                    break;
                }
            }
        }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Each member's dues, journal and chapter subscription, in that order, as the run bills them.
async fn billed_subscriptions(db: &Db, contact_ids: &[i64]) -> Vec<[Option<(i64, String)>; 3]> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    use std::collections::HashMap;
    let mut by_contact: HashMap<i64, [Option<(i64, String)>; 3]> = HashMap::new();
    let rows: Vec<(i64, i64, String)> = entity::subscription::Entity::find()
        .select_only()
        .columns([
            entity::subscription::Column::Id,
            entity::subscription::Column::ContactId,
            entity::subscription::Column::Product,
        ])
        .filter(entity::subscription::Column::ContactId.is_not_null())
        .into_tuple()
        .all(&db.conn)
        .await
        .expect("subscriptions");
    for (id, contact, product) in rows {
        let slot = match product.as_str() {
            "MDUES" => 0,
            p if p == members::JOURNAL => 1,
            _ => 2,
        };
        by_contact.entry(contact).or_default()[slot] = Some((id, product));
    }
    contact_ids
        .iter()
        .map(|c| by_contact.remove(c).unwrap_or_default())
        .collect()
}

/// Inserts `n` renewal-shaped invoices with the lines the run writes (each naming its
/// subscription and billed term, so the same foreign key and billing key are checked),
/// multi-row, in one committed transaction: the least any renewal run of `n` members must
/// write. The rows are deleted afterwards.
async fn invoice_baseline(db: &Db, contact_ids: &[i64]) -> Duration {
    let held = billed_subscriptions(db, contact_ids).await;
    use entity::invoice as i;
    use entity::invoice_line as l;
    let now = Utc::now();
    let begin = NaiveDate::from_ymd_opt(2028, 1, 1).unwrap_or_default();
    let end = NaiveDate::from_ymd_opt(2028, 12, 31).unwrap_or_default();
    let started = Instant::now();
    let txn = db.write().await.expect("txn");
    let invoices: Vec<i::ActiveModel> = contact_ids
        .iter()
        .map(|c| i::ActiveModel {
            contact_id: Set(*c),
            bill_to_id: Set(*c),
            kind: Set(service::entity::words::InvoiceKind::Renewal),
            cycle_id: Set(None),
            accounting_method: Set(service::entity::words::AccountingMethod::Accrual),
            status: Set("open".into()),
            batch_id: Set(None),
            total_cents: Set(57_000),
            paid_cents: Set(0),
            term_begin: Set(Some(begin)),
            term_end: Set(Some(end)),
            term_months: Set(Some(12)),
            customer_type: Set(Some("M".into())),
            billing_category: Set(Some("REG".into())),
            treated_as: Set(service::entity::words::TreatedAs::Renewal),
            join_date: Set(None),
            first_join: Set(false),
            void_reason: Set(None),
            renewal_run_id: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    let mut ids = Vec::with_capacity(invoices.len());
    for chunk in invoices.chunks(service::sql::rows_per_page_statement(22)) {
        for m in i::Entity::insert_many(chunk.to_vec())
            .exec_with_returning(&txn)
            .await
            .expect("invoices")
        {
            ids.push(m.id);
        }
    }
    let mut lines = Vec::with_capacity(ids.len() * 3);
    for (id, subs) in ids.into_iter().zip(&held) {
        for (n, (sub, product)) in subs.iter().flatten().map(|(s, p)| (*s, p)).enumerate() {
            lines.push(l::ActiveModel {
                invoice_id: Set(id),
                position: Set(n as i32),
                product: Set(product.clone()),
                subscription_id: Set(Some(sub)),
                term_begin: Set(begin),
                term_end: Set(end),
                amount_cents: Set(19_000),
                paid_cents: Set(0),
                voluntary: Set(false),
                is_primary: Set(n == 0),
                is_chapter: Set(n == 2),
                billed_term: Set(Some(begin)),
                ..Default::default()
            });
        }
    }
    for chunk in lines.chunks(service::sql::rows_per_page_statement(13)) {
        l::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .expect("lines");
    }
    txn.commit().await.expect("commit");
    let took = started.elapsed();
    // Out of the timing: the run under test starts from the same empty tables. On PostgreSQL a
    // DELETE would leave the run 400,000 dead rows and their index entries to insert past, and
    // autovacuum clearing them during the run.
    let clear = match db.conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => vec!["TRUNCATE invoice_lines, invoices CASCADE".into()],
        _ => ["invoice_lines", "invoices"]
            .map(|t| format!("DELETE FROM {t}"))
            .to_vec(),
    };
    for sql in clear {
        db.conn
            .execute_unprepared(&sql)
            .await
            .expect("clear baseline rows");
    }
    took
}

async fn member_ids(db: &Db) -> Vec<i64> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    entity::contact::Entity::find()
        .select_only()
        .column(entity::contact::Column::Id)
        .filter(entity::contact::Column::CustomerType.eq("M"))
        .order_by_asc(entity::contact::Column::Id)
        .into_tuple()
        .all(&db.conn)
        .await
        .expect("members")
}

async fn renewals(server_url: Option<&str>, sizes: &[u64]) {
    println!("renewal run vs. baseline (insert as many invoices and lines in one transaction)");
    println!(
        "{:>10} {:>12} {:>10} {:>7} {:>10}",
        "members", "baseline s", "run s", "ratio", "peak MiB"
    );
    let mut runs = Vec::new();
    for &n in sizes {
        let fresh = fresh(server_url).await;
        let db = prepared(&fresh.url, n, true).await;
        let ids = member_ids(&db).await;
        settle(&db).await;
        let baseline = invoice_baseline(&db, &ids).await;
        settle(&db).await;
        let server = Server::start(&fresh.url).await;
        server
            .post(
                "/billing-cycles",
                json!({"name": CYCLE, "customer_types": ["M"], "products": [members::JOURNAL],
                    "include_all_chapters": true, "accounting_method": "accrual"}),
            )
            .await;
        let started = Instant::now();
        let r = server
            .post(
                "/renewal-runs",
                json!({"billing_cycle": CYCLE, "effective_date": "2028-01-01", "dry_run": false}),
            )
            .await;
        let run = started.elapsed();
        assert_eq!(
            r["billed"].as_u64(),
            Some(ids.len() as u64),
            "billed every member"
        );
        println!(
            "{:>10} {:>12.2} {:>10.2} {:>6.2}x {:>10.1}",
            n,
            secs(baseline),
            secs(run),
            secs(run) / secs(baseline),
            server.peak_mib()
        );
        runs.push((n, run));
        drop(server);
        let _ = db.conn.close().await;
        fresh.drop_database().await;
    }
    if let (Some((n0, t0)), Some((n1, t1))) = (runs.first(), runs.last())
        && n1 > n0
    {
        println!(
            "growth: {}x the members took {:.2}x the time",
            n1 / n0,
            secs(*t1) / secs(*t0)
        );
    }
}

async fn import(server_url: Option<&str>, rows: u64) {
    use entity::subscription as s;
    let fresh = fresh(server_url).await;
    let db = prepared(&fresh.url, rows, false).await;
    let ids: Vec<i64> = {
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
        entity::contact::Entity::find()
            .select_only()
            .column(entity::contact::Column::Id)
            .filter(entity::contact::Column::CustomerType.ne("HOSP"))
            .order_by_asc(entity::contact::Column::Id)
            .limit(rows)
            .into_tuple()
            .all(&db.conn)
            .await
            .expect("contacts")
    };
    // Baseline: the same number of subscription rows, multi-row, one committed transaction
    // (deleted afterwards).
    settle(&db).await;
    let now = Utc::now();
    let through = NaiveDate::from_ymd_opt(2028, 12, 31);
    let started = Instant::now();
    let txn = db.write().await.expect("txn");
    let subs: Vec<s::ActiveModel> = ids
        .iter()
        .map(|c| s::ActiveModel {
            contact_id: Set(*c),
            product: Set("CHAPT/C50".into()),
            begin_date: Set(None),
            paid_through: Set(through),
            bill_to_id: Set(*c),
            bill_date: Set(None),
            bill_begin: Set(None),
            bill_through: Set(None),
            billed_cents: Set(None),
            active: Set(true),
            cancellation_date: Set(None),
            adjustment_reason: Set(None),
            source_code: Set(Some("bench-baseline".into())),
            is_complimentary: Set(false),
            is_membership_component: Set(false),
            bill_subscription: Set(true),
            accounting_method: Set(service::entity::words::AccountingMethod::Accrual),
            billed: Set(false),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in subs.chunks(service::sql::rows_per_statement(21)) {
        // The few members who hold CHAPT/C50 already are skipped.
        s::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing_on([s::Column::ContactId, s::Column::Product])
            .exec_without_returning(&txn)
            .await
            .expect("insert");
    }
    txn.commit().await.expect("commit");
    let baseline = started.elapsed();
    db.conn
        .execute_unprepared("DELETE FROM subscriptions WHERE source_code = 'bench-baseline'")
        .await
        .expect("clear baseline rows");
    settle(&db).await;

    let mut csv = String::from("contact_id,product,paid_through,source_code\n");
    for c in &ids {
        csv.push_str(&format!("{c},{},2028-12-31,bench\n", members::JOURNAL));
    }
    let server = Server::start(&fresh.url).await;
    let started = Instant::now();
    let r = server
        .post_csv(
            "/subscriptions/import?action=upsert&mode=all_or_nothing",
            csv,
        )
        .await;
    let took = started.elapsed();
    assert_eq!(
        r["applied"].as_u64(),
        Some(ids.len() as u64),
        "every row applied"
    );
    println!("subscription import (upsert) vs. baseline (insert as many rows in one transaction)");
    println!(
        "{:>10} {:>12} {:>10} {:>7} {:>10}",
        "rows", "baseline s", "import s", "ratio", "peak MiB"
    );
    println!(
        "{:>10} {:>12.2} {:>10.2} {:>6.2}x {:>10.1}",
        ids.len(),
        secs(baseline),
        secs(took),
        secs(took) / secs(baseline),
        server.peak_mib()
    );
    drop(server);
    contact_import(&db, &fresh.url, rows).await;
    let _ = db.conn.close().await;
    fresh.drop_database().await;
}

/// MG-1, MG-3: `rows` contacts with three past terms each, imported from CSV (contacts, then
/// their history), against inserting as many contact and history rows in one transaction.
async fn contact_import(db: &Db, url: &str, rows: u64) {
    use entity::contact as c;
    use entity::contact_history as h;
    let join = NaiveDate::from_ymd_opt(2010, 2, 28).expect("date");
    let year = |y: i32, end: bool| {
        NaiveDate::from_ymd_opt(y, if end { 12 } else { 1 }, if end { 31 } else { 1 })
            .expect("date")
    };
    // Baseline: the same rows, multi-row, one committed transaction (deleted afterwards).
    settle(db).await;
    let now = Utc::now();
    let started = Instant::now();
    let txn = db.write().await.expect("txn");
    let contacts: Vec<c::ActiveModel> = (0..rows)
        .map(|i| c::ActiveModel {
            customer_type: Set("M".into()),
            billing_category: Set(Some("REG".into())),
            status: Set("A".into()),
            first_name: Set(Some(format!("Base{i}"))),
            last_name: Set(Some("Line".into())),
            sort_name: Set(format!("line, base{i}")),
            email: Set(Some(format!("base{i}@example.org"))),
            email_key: Set(Some(format!("base{i}@example.org"))),
            address_line1: Set(Some(format!("{i} Main St"))),
            city: Set(Some("Ottawa".into())),
            postal_code: Set(Some("K1A 0B1".into())),
            external_ref: Set(Some(format!("BASE-{i}"))),
            autopay: Set(false),
            email_opt_in: Set(true),
            mail_opt_in: Set(true),
            join_date: Set(Some(join)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    let mut ids = Vec::with_capacity(rows as usize);
    for chunk in contacts.chunks(service::sql::rows_per_statement(34)) {
        use sea_orm::QueryTrait;
        let mut stmt = c::Entity::insert_many(chunk.to_vec()).into_query();
        stmt.returning_col(c::Column::Id);
        for row in txn.query_all(&stmt).await.expect("insert contacts") {
            ids.push(row.try_get_by_index::<i64>(0).expect("id"));
        }
    }
    let terms: Vec<h::ActiveModel> = ids
        .iter()
        .flat_map(|id| {
            (2017..2020).map(move |y| h::ActiveModel {
                contact_id: Set(*id),
                kind: Set("term".into()),
                at: Set(now),
                term_begin: Set(Some(year(y, false))),
                term_end: Set(Some(year(y, true))),
                customer_type: Set(Some("M".into())),
                product: Set(Some("MDUES".into())),
                imported: Set(true),
                amount_cents: Set(Some(45_000)),
                ..Default::default()
            })
        })
        .collect();
    for chunk in terms.chunks(service::sql::rows_per_statement(10)) {
        h::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .expect("insert history");
    }
    txn.commit().await.expect("commit");
    let baseline = started.elapsed();
    for sql in [
        "DELETE FROM contact_history WHERE contact_id IN (SELECT id FROM contacts WHERE external_ref LIKE 'BASE-%')",
        "DELETE FROM contacts WHERE external_ref LIKE 'BASE-%'",
    ] {
        db.conn
            .execute_unprepared(sql)
            .await
            .expect("clear baseline rows");
    }
    settle(db).await;

    let mut contacts_csv =
        String::from("Member ID,Type,Category,First,Last,E-mail,Street,City,Postal,Joined\n");
    let mut history_csv = String::from("contact_ref,begin,end,customer_type,product,amount\n");
    for i in 0..rows {
        contacts_csv.push_str(&format!(
            "OLD-{i},M,REG,Imp{i},Orted,imp{i}@example.org,{i} Main St,Ottawa,K1A 0B1,{join}\n"
        ));
        for y in 2017..2020 {
            history_csv.push_str(&format!(
                "OLD-{i},{},{},M,MDUES,450.00\n",
                year(y, false),
                year(y, true)
            ));
        }
    }
    let map = "map=Member%20ID:external_ref,Type:customer_type,Category:billing_category,\
First:first_name,Last:last_name,E-mail:email,Street:address_line1,City:address_city,\
Postal:address_postal_code,Joined:join_date";
    // A server for each import, so that each peak is that import's.
    let server = Server::start(url).await;
    let started = Instant::now();
    let r = server
        .post_csv(
            &format!("/contacts/import?action=insert&{map}"),
            contacts_csv,
        )
        .await;
    let contacts_took = started.elapsed();
    let contacts_peak = server.peak_mib();
    drop(server);
    assert_eq!(r["applied"].as_u64(), Some(rows), "every contact applied");
    let server = Server::start(url).await;
    let started = Instant::now();
    let r = server
        .post_csv("/contacts/import-history", history_csv)
        .await;
    let history_took = started.elapsed();
    let history_peak = server.peak_mib();
    drop(server);
    assert_eq!(r["applied"].as_u64(), Some(rows * 3), "every term applied");
    let took = contacts_took + history_took;
    println!(
        "contact import (insert, mapped columns) with 3 history rows each vs. baseline (insert as many rows in one transaction)"
    );
    println!(
        "{:>10} {:>12} {:>10} {:>10} {:>10} {:>7} {:>14} {:>13}",
        "contacts",
        "baseline s",
        "contacts s",
        "history s",
        "import s",
        "ratio",
        "contacts MiB",
        "history MiB"
    );
    println!(
        "{:>10} {:>12.2} {:>10.2} {:>10.2} {:>10.2} {:>6.2}x {:>14.1} {:>13.1}",
        rows,
        secs(baseline),
        secs(contacts_took),
        secs(history_took),
        secs(took),
        secs(took) / secs(baseline),
        contacts_peak,
        history_peak
    );
}

/// The raw loop: `CONNECTIONS` tasks running the SELECT for `seconds`; prints queries per second.
async fn raw_loop(url: &str, query: RawQuery, max_id: i64, seconds: u64) {
    use entity::contact as c;
    use sea_orm::{QueryOrder, QuerySelect};
    let db = Db::connect(url).await.expect("connect");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for n in 0..CONNECTIONS {
        let conn = db.conn.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ n as u64;
            while Instant::now() < deadline {
                match query {
                    RawQuery::Get => {
                        seed = seed
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        let id = 1 + ((seed >> 33) as i64) % max_id;
                        c::Entity::find_by_id(id).one(&conn).await.expect("get");
                    }
                    RawQuery::List => {
                        c::Entity::find()
                            .order_by_asc(c::Column::Id)
                            .limit(51)
                            .all(&conn)
                            .await
                            .expect("list");
                    }
                }
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    println!("qps={:.0}", total as f64 / seconds as f64);
}

/// Runs the raw loop pinned to `core`; returns its queries per second.
fn pinned_raw_loop(core: usize, url: &str, query: &str, max_id: i64, seconds: u64) -> f64 {
    let me = std::env::current_exe().expect("current exe");
    let out = Command::new("taskset")
        .args(["-c", &core.to_string()])
        .arg(me)
        .args(["raw-loop", "--url", url, "--query", query])
        .args([
            "--max-id",
            &max_id.to_string(),
            "--seconds",
            &seconds.to_string(),
        ])
        .output()
        .expect("run the raw loop (needs `taskset`)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("qps="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "raw loop failed: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// `wrk` on `core`, `CONNECTIONS` connections; `script` picks each request's path.
fn wrk(core: usize, base: &str, token: &str, script: &str, seconds: u64) -> Load {
    let file = tempfile::NamedTempFile::new().expect("script file");
    std::fs::write(file.path(), script).expect("write script");
    let out = Command::new("taskset")
        .args(["-c", &core.to_string(), "wrk", "-t1"])
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{seconds}s"))
        .arg("--latency")
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg("-s")
        .arg(file.path())
        .arg(base)
        .output()
        .expect("run wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        !text.contains("Non-2xx"),
        "wrk saw failing responses:\n{text}"
    );
    let ms = |v: &str| -> f64 {
        let v = v.trim();
        let (n, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
        let n: f64 = n.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            _ => f64::NAN,
        }
    };
    let field = |prefix: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
    };
    Load {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no wrk figures:\n{text}")),
        p50_ms: field("50%").map_or(f64::NAN, |v| ms(&v)),
        p99_ms: field("99%").map_or(f64::NAN, |v| ms(&v)),
    }
}

fn path_script(path: &str) -> String {
    format!("request = function() return wrk.format(\"GET\", \"{path}\") end\n")
}

async fn api(server_url: Option<&str>, members: u64, seconds: u64) {
    let fresh = fresh(server_url).await;
    let db = prepared(&fresh.url, members, false).await;
    let max_id: i64 = {
        use sea_orm::{ExprTrait, QuerySelect};
        entity::contact::Entity::find()
            .select_only()
            .expr(sea_orm::sea_query::Expr::col(entity::contact::Column::Id).max())
            .into_tuple::<Option<i64>>()
            .one(&db.conn)
            .await
            .expect("max id")
            .flatten()
            .unwrap_or(1)
    };
    let _ = db.conn.close().await;
    let server = Server::start_on(&fresh.url, Some(1)).await;
    let by_id = format!(
        "math.randomseed(7)\nrequest = function() return wrk.format(\"GET\", \"/api/v1/contacts/\" .. math.random(1, {max_id})) end\n"
    );
    let list = path_script("/api/v1/contacts?limit=50");
    let health = path_script("/health");
    // Warm the caches of both sides before measuring.
    wrk(0, &server.base, &server.token, &by_id, 2);
    let health_load = wrk(0, &server.base, &server.token, &health, seconds);
    println!(
        "API under load: wrk on core 0, {CONNECTIONS} connections; server and raw loop on core 1"
    );
    println!(
        "{:<28} {:>10} {:>12} {:>7} {:>9} {:>9} {:>10}",
        "request", "req/s", "raw loop q/s", "ratio", "p50 ms", "p99 ms", "vs health"
    );
    println!(
        "{:<28} {:>10.0} {:>12} {:>7} {:>9.2} {:>9.2} {:>10}",
        "GET /health", health_load.rps, "", "", health_load.p50_ms, health_load.p99_ms, ""
    );
    for (name, script, query) in [
        ("GET /api/v1/contacts/{id}", &by_id, "get"),
        ("GET /api/v1/contacts?limit=50", &list, "list"),
    ] {
        let load = wrk(0, &server.base, &server.token, script, seconds);
        let raw = pinned_raw_loop(1, &fresh.url, query, max_id, seconds);
        println!(
            "{:<28} {:>10.0} {:>12.0} {:>6.0}% {:>9.2} {:>9.2} {:>9.0}%",
            name,
            load.rps,
            raw,
            100.0 * load.rps / raw,
            load.p50_ms,
            load.p99_ms,
            100.0 * load.rps / health_load.rps
        );
    }
    drop(server);
    fresh.drop_database().await;
}

/// The median latency of `n` sequential GETs of `path`, in milliseconds.
async fn p50_ms(server: &Server, path: &str, n: usize) -> f64 {
    let url = format!("{}{path}", server.base);
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let r = server
            .client
            .get(&url)
            .bearer_auth(&server.token)
            .send()
            .await
            .expect("request");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.bytes().await.expect("body");
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    took[took.len() / 2]
}

async fn growth(server_url: Option<&str>, sizes: &[u64], requests: usize) {
    let mut table: Vec<(u64, Vec<(String, f64)>)> = Vec::new();
    for &n in sizes {
        let fresh = fresh(server_url).await;
        let db = prepared(&fresh.url, n, false).await;
        let _ = db.conn.close().await;
        let server = Server::start(&fresh.url).await;
        // A cursor nine tenths of the way through the contacts.
        let deep = n * 9 / 10;
        let cursor = deep.to_string();
        let paths = [
            (
                "first page".to_owned(),
                "/api/v1/contacts?limit=50".to_owned(),
            ),
            (
                "deep cursor".to_owned(),
                format!("/api/v1/contacts?limit=50&cursor={cursor}"),
            ),
            (
                "customer_type=M past the cursor".to_owned(),
                format!("/api/v1/contacts?limit=50&customer_type=M&cursor={cursor}"),
            ),
            (
                "tag=event-attendee".to_owned(),
                "/api/v1/contacts?limit=50&tag=event-attendee".to_owned(),
            ),
            (
                "previous members".to_owned(),
                "/api/v1/segments/previous-members?limit=50".to_owned(),
            ),
            (
                "contact by id".to_owned(),
                format!("/api/v1/contacts/{deep}"),
            ),
        ];
        let mut row = Vec::new();
        for (name, path) in paths {
            p50_ms(&server, &path, requests / 10 + 1).await;
            row.push((name, p50_ms(&server, &path, requests).await));
        }
        table.push((n, row));
        drop(server);
        fresh.drop_database().await;
    }
    println!("p50 latency of sequential requests, ms (ratio to the smallest size)");
    let Some((n0, first)) = table.first() else {
        return;
    };
    for (n, row) in &table {
        println!("{n} members:");
        for ((name, ms), (_, base)) in row.iter().zip(first) {
            println!(
                "  {name:<34} {ms:>8.2} {:>7.2}x{}",
                ms / base,
                if n == n0 { " (base)" } else { "" }
            );
        }
    }
}

async fn notices(server_url: Option<&str>, messages: u64, connections: usize, smtp_url: &str) {
    use futures_util::StreamExt;
    use lettre::AsyncTransport;
    use service::mail::delivery::{Deliverer, Mailer, Settings};
    println!(
        "notice delivery vs. baseline (as many ready-made messages), {connections} connection(s)"
    );
    let fresh = fresh(server_url).await;
    let db = prepared(&fresh.url, messages, true).await;
    let ids = member_ids(&db).await;
    let from = "Bench <bench@example.org>";
    let baseline = {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(smtp_url)
            .expect("smtp url")
            .build();
        let started = Instant::now();
        futures_util::stream::iter(0..ids.len())
            .map(|k| {
                let transport = &transport;
                async move {
                    let message = lettre::Message::builder()
                        .from(from.parse().expect("from"))
                        .to(format!("member{k}@example.org").parse().expect("to"))
                        .subject("Your membership has ended")
                        .body(String::from("Dear member, your membership has ended."))
                        .expect("message");
                    transport.send(message).await.expect("send");
                }
            })
            .buffer_unordered(connections)
            .collect::<Vec<()>>()
            .await;
        started.elapsed()
    };
    let txn = db.write().await.expect("txn");
    service::notices::for_contacts(&txn, service::notices::EXPIRY, &ids, service::clock::now())
        .await
        .expect("notices");
    txn.commit().await.expect("commit");
    settle(&db).await;
    let mailer = Mailer::new(smtp_url, from).expect("mailer");
    let settings = Settings {
        connections,
        ..Settings::default()
    };
    let deliverer = Deliverer::new(db.clone(), Some(mailer), settings);
    let started = Instant::now();
    let mut sent = 0;
    loop {
        let tick = deliverer.tick().await.expect("tick");
        sent += tick.sent;
        if tick.attempted == 0 {
            break;
        }
    }
    let delivered = started.elapsed();
    assert_eq!(sent, ids.len() as u64, "every notice sent");
    let rate = |d: Duration| ids.len() as f64 / secs(d);
    println!(
        "{:>10} {:>14} {:>14} {:>7}",
        "messages", "baseline msg/s", "notices msg/s", "ratio"
    );
    println!(
        "{:>10} {:>14.0} {:>14.0} {:>6.2}x",
        ids.len(),
        rate(baseline),
        rate(delivered),
        secs(delivered) / secs(baseline)
    );
    let _ = db.conn.close().await;
    fresh.drop_database().await;
}

/// Reads `path` to the end as it arrives, keeping nothing; its size in bytes.
async fn download(server: &Server, path: &str, accept: &str) -> u64 {
    let mut res = server
        .client
        .get(format!("{}/api/v1{path}", server.base))
        .bearer_auth(&server.token)
        .header("accept", accept)
        .send()
        .await
        .expect("request");
    assert!(res.status().is_success(), "GET {path}: {}", res.status());
    let mut size = 0;
    while let Some(chunk) = res.chunk().await.expect("body") {
        size += chunk.len() as u64;
    }
    size
}

/// `path` read by a server started for it alone, so that its peak memory is the read's: the
/// time, the size in bytes and the peak in MiB.
async fn fresh_download(url: &str, path: &str, accept: &str) -> (Duration, u64, f64) {
    let server = Server::start(url).await;
    let started = Instant::now();
    let size = download(&server, path, accept).await;
    (started.elapsed(), size, server.peak_mib())
}

async fn print(server_url: Option<&str>, invoices: u64) {
    println!("a run's invoices as one PDF vs. baseline (the CSV export of the same invoices)");
    let fresh = fresh(server_url).await;
    let db = prepared(&fresh.url, invoices, true).await;
    let run = {
        let server = Server::start(&fresh.url).await;
        server
            .post(
                "/billing-cycles",
                json!({"name": CYCLE, "customer_types": ["M"], "products": [members::JOURNAL],
                    "include_all_chapters": true, "accounting_method": "accrual"}),
            )
            .await;
        server
            .post(
                "/renewal-runs",
                json!({"billing_cycle": CYCLE, "effective_date": "2028-01-01", "dry_run": false}),
            )
            .await
    };
    let run_id = run["id"].as_i64().expect("run id");
    settle(&db).await;
    let (csv_time, csv_size, csv_peak) = fresh_download(
        &fresh.url,
        &format!("/invoices?renewal_run={run_id}"),
        "text/csv",
    )
    .await;
    let (pdf_time, pdf_size, pdf_peak) = fresh_download(
        &fresh.url,
        &format!("/renewal-runs/{run_id}/invoices.pdf"),
        "application/pdf",
    )
    .await;
    println!(
        "{:>9} {:>8} {:>9} {:>9} {:>8} {:>9} {:>9} {:>10} {:>7}",
        "invoices",
        "csv s",
        "csv MiB",
        "csv peak",
        "pdf s",
        "pdf MiB",
        "pdf peak",
        "invoices/s",
        "ratio"
    );
    let mib = |b: u64| b as f64 / 1_048_576.0;
    println!(
        "{:>9} {:>8.2} {:>9.1} {:>9.1} {:>8.2} {:>9.1} {:>9.1} {:>10.0} {:>6.2}x",
        run["billed"],
        secs(csv_time),
        mib(csv_size),
        csv_peak,
        secs(pdf_time),
        mib(pdf_size),
        pdf_peak,
        run["billed"].as_f64().unwrap_or_default() / secs(pdf_time),
        secs(pdf_time) / secs(csv_time)
    );
    let _ = db.conn.close().await;
    fresh.drop_database().await;
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let server_url = cli.database_url.as_deref();
    if let Bench::RawLoop {
        url,
        query,
        max_id,
        seconds,
    } = &cli.command
    {
        return raw_loop(url, *query, *max_id, *seconds).await;
    }
    println!(
        "database: {}",
        server_url.map_or("SQLite", |_| "PostgreSQL")
    );
    match cli.command {
        Bench::Renewals { members } => renewals(server_url, &members).await,
        Bench::Import { rows } => import(server_url, rows).await,
        Bench::Api { members, seconds } => api(server_url, members, seconds).await,
        Bench::Growth { members, requests } => growth(server_url, &members, requests).await,
        Bench::Notices {
            messages,
            connections,
            smtp_url,
        } => notices(server_url, messages, connections, &smtp_url).await,
        Bench::Print { invoices } => print(server_url, invoices).await,
        Bench::RawLoop { .. } => {}
    }
}
