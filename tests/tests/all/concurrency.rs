//! Two server processes on one database (PostgreSQL with `AMS_TEST_DATABASE_URL`, else one
//! SQLite file): concurrent renewal runs, payments with and without one idempotency key, and
//! edits racing on one `If-Match`. Nothing is billed or paid twice and no update is lost.

use reqwest::Method;
use serde_json::{Value, json};
use service::Db;
use tests::child::{ChildServer, count, create_renewal_cycle, seeded};
use tests::drop_database;

const SERVER: &str = env!("CARGO_BIN_EXE_ams-cli");
const CYCLE: &str = "Concurrent renewals";

struct Setup {
    url: String,
    _guard: Option<tempfile::TempDir>,
    db: Db,
    a: ChildServer,
    b: ChildServer,
}

impl Setup {
    async fn new(persons: u64) -> Setup {
        let (url, guard, db) = seeded(persons, 5).await;
        let a = ChildServer::start(SERVER, &url).await;
        let b = ChildServer::start(SERVER, &url).await;
        create_renewal_cycle(&a, CYCLE).await;
        Setup {
            url,
            _guard: guard,
            db,
            a,
            b,
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        count(&self.db, sql).await
    }

    async fn finish(self) {
        drop(self.a);
        drop(self.b);
        self.db.conn.close().await.expect("close");
        drop_database(&self.url).await;
    }
}

fn run_body() -> Value {
    json!({"billing_cycle": CYCLE, "effective_date": "2028-01-01"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r2_two_processes_running_renewals_at_once_bill_each_member_once() {
    let s = Setup::new(tests::scale(3_000, 30_000)).await;
    let due =
        s.a.send(
            Method::POST,
            "/renewal-runs",
            Some(json!({"billing_cycle": CYCLE, "effective_date": "2028-01-01", "dry_run": true})),
            &[],
        )
        .await
        .expect(200)
        .body["billed"]
            .as_i64()
            .expect("billed");
    let (ra, rb) = tokio::join!(
        s.a.send(Method::POST, "/renewal-runs", Some(run_body()), &[]),
        s.b.send(Method::POST, "/renewal-runs", Some(run_body()), &[]),
    );
    let (ra, rb) = (ra.expect(201), rb.expect(201));
    let billed = ra.body["billed"].as_i64().unwrap_or(0) + rb.body["billed"].as_i64().unwrap_or(0);
    assert_eq!(billed, due, "the two runs together billed each member once");
    assert_eq!(s.count("SELECT COUNT(*) FROM invoices").await, due);
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM (SELECT contact_id FROM invoices GROUP BY contact_id \
             HAVING COUNT(*) > 1) twice"
        )
        .await,
        0
    );
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i4_racing_payments_pay_once_with_or_without_one_idempotency_key() {
    let s = Setup::new(100).await;
    let run =
        s.a.send(Method::POST, "/renewal-runs", Some(run_body()), &[])
            .await
            .expect(201);
    let invoices: Vec<(i64, Value)> = run.body["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .take(tests::scale(8, 60) as usize)
        .map(|i| (i["invoice_id"].as_i64().expect("id"), i["total"].clone()))
        .collect();
    for (n, (id, total)) in invoices.iter().enumerate() {
        let path = format!("/invoices/{id}/payments");
        let body = json!({"amount": total, "paid_on": "2028-01-05", "method": "card"});
        let key = format!("race-{id}");
        let same_key = n % 2 == 0;
        let headers: Vec<(&str, &str)> = if same_key {
            vec![("Idempotency-Key", key.as_str())]
        } else {
            Vec::new()
        };
        let (ra, rb) = tokio::join!(
            s.a.send(Method::POST, &path, Some(body.clone()), &headers),
            s.b.send(Method::POST, &path, Some(body.clone()), &headers),
        );
        let statuses = [ra.status.as_u16(), rb.status.as_u16()];
        if same_key {
            // One payment, reported to both callers.
            assert_eq!(statuses, [201, 201], "{} / {}", ra.text, rb.text);
            assert_eq!(ra.body["payment"]["id"], rb.body["payment"]["id"]);
        } else {
            // The second full payment would overpay: refused, whichever lands second.
            let mut sorted = statuses;
            sorted.sort();
            assert_eq!(sorted[0], 201, "{} / {}", ra.text, rb.text);
            assert!(
                sorted[1] == 409 || sorted[1] == 422,
                "{} / {}",
                ra.text,
                rb.text
            );
        }
        assert_eq!(
            s.count(&format!(
                "SELECT COUNT(*) FROM payments WHERE invoice_id = {id}"
            ))
            .await,
            1
        );
    }
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c5_edits_racing_on_one_if_match_lose_no_update() {
    let s = Setup::new(10).await;
    let path = "/contacts/1";
    for round in 0..tests::scale(5, 50) {
        let etag =
            s.a.send(Method::GET, path, None, &[])
                .await
                .expect(200)
                .header("etag")
                .expect("etag");
        let phone_a = format!("555-01{round}1");
        let phone_b = format!("555-01{round}2");
        let if_match = [("If-Match", etag.as_str())];
        let (ra, rb) = tokio::join!(
            s.a.send(
                Method::PATCH,
                path,
                Some(json!({"phone": phone_a})),
                &if_match
            ),
            s.b.send(
                Method::PATCH,
                path,
                Some(json!({"phone": phone_b})),
                &if_match
            ),
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "{} / {}", ra.text, rb.text);
        let winner = if ra.status.as_u16() == 200 {
            phone_a
        } else {
            phone_b
        };
        let now = s.b.send(Method::GET, path, None, &[]).await.expect(200);
        assert_eq!(now.body["phone"], winner.as_str());
    }
    s.finish().await;
}

/// M-2 (and `issue` item 7): two refunds of one payment sent at once to two servers never
/// exceed it; a refund racing a payment on the same invoice leaves the invoice consistent
/// (what it received is its payments less what was returned, and it is paid only if that is
/// its total).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m2_racing_refunds_never_exceed_the_payment_and_a_refund_racing_a_payment_stays_consistent()
{
    let s = Setup::new(20).await;
    let run =
        s.a.send(Method::POST, "/renewal-runs", Some(run_body()), &[])
            .await
            .expect(201);
    let invoices: Vec<(i64, i64)> = run.body["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .take(tests::scale(4, 20) as usize)
        .map(|i| {
            let total = tests::cents(&i["total"]);
            (i["invoice_id"].as_i64().expect("id"), total)
        })
        .collect();
    for (id, total) in invoices {
        let money = |c: i64| format!("{}.{:02}", c / 100, c % 100);
        // Paid in part: each of two refunds of 60% would fit alone, not together.
        let paid = total / 2;
        let payment =
            s.a.send(
                Method::POST,
                &format!("/invoices/{id}/payments"),
                Some(json!({"amount": money(paid), "paid_on": "2028-01-05", "method": "card"})),
                &[],
            )
            .await
            .expect(201)
            .body["payment"]["id"]
                .as_i64()
                .expect("payment id");
        let part = paid * 6 / 10;
        let refund = json!({"amount": money(part), "reason": "race"});
        let path = format!("/payments/{payment}/refunds");
        let (ra, rb) = tokio::join!(
            s.a.send(Method::POST, &path, Some(refund.clone()), &[]),
            s.b.send(Method::POST, &path, Some(refund.clone()), &[]),
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses[0], 201, "{} / {}", ra.text, rb.text);
        assert!(
            statuses[1] == 409 || statuses[1] == 422,
            "{} / {}",
            ra.text,
            rb.text
        );
        assert_eq!(
            s.count(&format!(
                "SELECT CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) FROM refunds \
                 WHERE payment_id = {payment}"
            ))
            .await,
            part
        );

        // A refund of the rest of the payment races a payment of the balance.
        let rest = json!({"amount": money(paid - part), "reason": "race"});
        let balance = total - (paid - part);
        let pay = json!({"amount": money(balance), "paid_on": "2028-01-06", "method": "card"});
        let pay_path = format!("/invoices/{id}/payments");
        let (ra, rb) = tokio::join!(
            s.a.send(Method::POST, &path, Some(rest), &[]),
            s.b.send(Method::POST, &pay_path, Some(pay), &[]),
        );
        assert!(ra.status.as_u16() < 500, "{}", ra.text);
        assert!(rb.status.as_u16() < 500, "{}", rb.text);
        let received = s
            .count(&format!(
                "SELECT CAST((SELECT COALESCE(SUM(amount_cents), 0) FROM payments \
                 WHERE invoice_id = {id}) - (SELECT COALESCE(SUM(amount_cents), 0) FROM refunds \
                 WHERE invoice_id = {id}) AS BIGINT)"
            ))
            .await;
        let inv =
            s.b.send(Method::GET, &format!("/invoices/{id}"), None, &[])
                .await;
        assert_eq!(tests::cents(&inv.body["paid"]), received, "{}", inv.text);
        let paid_in_full = received == total;
        assert_eq!(inv.body["status"] == "paid", paid_in_full, "{}", inv.text);
    }
    s.finish().await;
}

/// M-1: payments recorded at once through two servers take unique receipt numbers that
/// increase with the order the payments were written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m1_receipt_numbers_from_two_servers_are_unique_and_increasing() {
    let s = Setup::new(40).await;
    let run =
        s.a.send(Method::POST, "/renewal-runs", Some(run_body()), &[])
            .await
            .expect(201);
    let invoices: Vec<(i64, Value)> = run.body["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .map(|i| (i["invoice_id"].as_i64().expect("id"), i["total"].clone()))
        .collect();
    for pair in invoices.chunks(2) {
        let send = |server: &'static str, (id, total): &(i64, Value)| {
            let body = json!({"amount": total, "paid_on": "2028-01-05", "method": "card"});
            let path = format!("/invoices/{id}/payments");
            let server = if server == "a" { &s.a } else { &s.b };
            async move { server.send(Method::POST, &path, Some(body), &[]).await }
        };
        match pair {
            [x, y] => {
                let (ra, rb) = tokio::join!(send("a", x), send("b", y));
                ra.expect(201);
                rb.expect(201);
            }
            [x] => {
                send("a", x).await.expect(201);
            }
            _ => {}
        }
    }
    assert_eq!(
        s.count("SELECT COUNT(DISTINCT receipt_number) FROM payments")
            .await,
        invoices.len() as i64
    );
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM payments p JOIN payments q \
             ON p.id < q.id AND p.receipt_number >= q.receipt_number"
        )
        .await,
        0
    );
    s.finish().await;
}
