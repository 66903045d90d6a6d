//! Shared by the tests that run the `ams` binary: a fresh database for each, made the same way
//! as for the HTTP tests.

#[path = "../../../tests/src/fresh_db.rs"]
mod fresh_db;

/// A new PostgreSQL database when `AMS_TEST_DATABASE_URL` is set, else an SQLite file in a
/// temporary directory (kept alive by the returned guard).
pub async fn database() -> (String, Option<tempfile::TempDir>) {
    fresh_db::fresh(std::env::var("AMS_TEST_DATABASE_URL").ok().as_deref()).await
}

/// Drops a PostgreSQL database made by [`database`] once the test is done with it.
pub async fn drop_database(url: &str) {
    let server = std::env::var("AMS_TEST_DATABASE_URL").ok();
    fresh_db::drop(server.as_deref().filter(|u| !u.is_empty()), url).await;
}
