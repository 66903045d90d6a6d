//! Shared by the tests that run the `ams` binary: a fresh database for each.

use sea_orm::{ConnectionTrait, Database};

/// A new PostgreSQL database when `AMS_TEST_DATABASE_URL` is set, else an SQLite file in a
/// temporary directory (kept alive by the returned guard).
pub async fn database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("AMS_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("ams_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.expect("connect");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            let _ = admin.close().await;
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b);
            (format!("{base}/{name}"), None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/ams.db?mode=rwc", dir.path().display());
            (url, Some(dir))
        }
    }
}
