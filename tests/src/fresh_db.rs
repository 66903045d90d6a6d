//! A fresh database for each test, binary test and benchmark: a new PostgreSQL database when a
//! server URL is given, else an SQLite file in a temporary directory. PostgreSQL databases are
//! named with their creation time, and those left by runs more than two hours old are dropped,
//! so a developer's server does not fill up over many runs.

use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

const PREFIX: &str = "ams_test_";
const STALE_AFTER_SECS: u64 = 2 * 3600;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `(url, guard)`: keep the guard alive as long as an SQLite database is used.
pub async fn fresh(server_url: Option<&str>) -> (String, Option<tempfile::TempDir>) {
    match server_url.filter(|u| !u.is_empty()) {
        Some(admin_url) => {
            let name = format!("{PREFIX}{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
            let admin = Database::connect(admin_url)
                .await
                .expect("connect to the PostgreSQL server");
            drop_stale(&admin).await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create a database");
            let _ = admin.close().await;
            let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
            (format!("{base}/{name}"), None)
        }
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/ams.db?mode=rwc", dir.path().display());
            (url, Some(dir))
        }
    }
}

/// Drops the test databases created more than two hours ago (best effort: one still in use
/// cannot be dropped and stays).
async fn drop_stale(admin: &DatabaseConnection) {
    let Ok(rows) = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"),
        ))
        .await
    else {
        return;
    };
    let now = unix_now();
    for row in rows {
        let Ok(name) = row.try_get_by_index::<String>(0) else {
            continue;
        };
        let created = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok())
            .unwrap_or(0);
        if now.saturating_sub(created) > STALE_AFTER_SECS {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await;
        }
    }
}

/// Drops a database made by [`fresh`] (PostgreSQL only; an SQLite file goes with its guard).
pub async fn drop(server_url: Option<&str>, url: &str) {
    let (Some(admin_url), Some((_, name))) = (server_url, url.rsplit_once('/')) else {
        return;
    };
    if let Ok(admin) = Database::connect(admin_url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await;
        let _ = admin.close().await;
    }
}
