//! `ams expire --as-of` (L-1) from the command line: a preview writes nothing, the real run
//! moves the lapsed member to a non-member type and leaves an audit event.

use std::process::Command;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tests::{drop_database, fresh_database};

fn ams(url: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ams-cli"))
        .args(args)
        .env("AMS_DATABASE_URL", url)
        .env("AMS_ADMIN_PASSWORD", "cli-expire-admin-password")
        .env("AMS_LOG", "warn")
        .output()
        .expect("run ams");
    assert!(
        out.status.success(),
        "ams {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn text(db: &DatabaseConnection, sql: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index::<String>(0).expect("text")
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index::<i64>(0).expect("count")
}

#[tokio::test]
async fn l1_ams_expire_previews_then_expires_from_the_command_line() {
    let (url, _dir) = fresh_database().await;
    ams(&url, &["demo-data", "--example", "e1"]);
    let db = Database::connect(&url).await.expect("connect");
    db.execute_unprepared(
        "UPDATE contacts SET paid_through = '2025-12-31' WHERE last_name = 'Silva'",
    )
    .await
    .expect("lapse Ana Silva");
    db.execute_unprepared(
        "UPDATE contacts SET paid_through = '2026-12-31' WHERE last_name IN ('Okafor', 'Wei')",
    )
    .await
    .expect("pay the others");

    let preview = ams(&url, &["expire", "--as-of", "2026-06-01", "--dry-run"]);
    assert!(
        preview.contains("would expire 1 contact(s) as of 2026-06-01"),
        "{preview}"
    );
    assert!(preview.contains("M -> NM"), "{preview}");
    let silva = "SELECT customer_type FROM contacts WHERE last_name = 'Silva'";
    assert_eq!(text(&db, silva).await, "M");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_events").await, 0);

    let done = ams(&url, &["expire", "--as-of", "2026-06-01"]);
    assert!(
        done.contains("expired 1 contact(s) as of 2026-06-01"),
        "{done}"
    );
    assert_eq!(text(&db, silva).await, "NM");
    assert_eq!(
        text(&db, "SELECT status FROM contacts WHERE last_name = 'Silva'").await,
        "A",
        "CS-3: an active non-member"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'membership.expire' AND user_id IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM contacts WHERE customer_type = 'M'"
        )
        .await,
        2
    );
    let _ = db.close().await;
    drop_database(&url).await;
}
