//! The server as a child process, for the tests that kill it (SIGKILL), run two of it on one
//! database or read what it logs. Tests pass the binary: `env!("CARGO_BIN_EXE_ams-cli")`.

use std::process::{Child, Command, Stdio};

use reqwest::Method;
use serde_json::{Value, json};

use crate::{ADMIN_PASSWORD, Res};

/// `exe` serving a database on a free local port; killed when dropped.
pub struct Process {
    pub child: Child,
    pub base: String,
}

impl Process {
    /// Starts the server on `url` with `admin_password` and extra settings, its logs (standard
    /// error) sent to `stderr`, and waits until it answers.
    pub async fn start(
        exe: &str,
        url: &str,
        admin_password: &str,
        env: &[(&str, &str)],
        stderr: Stdio,
    ) -> Process {
        let port = crate::started::free_port();
        let child = Command::new(exe)
            .env("AMS_DATABASE_URL", url)
            .env("AMS_BIND", format!("127.0.0.1:{port}"))
            .env("AMS_ADMIN_PASSWORD", admin_password)
            .env("AMS_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start the server");
        let base = format!("http://127.0.0.1:{port}");
        crate::started::wait_until_healthy(&service::http::client(), &base).await;
        Process { child, base }
    }

    /// SIGKILL: no shutdown, no rollback but the database's own.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A [`Process`] with two workers and a staff token, for the fault and concurrency tests.
pub struct ChildServer {
    process: Process,
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
}

impl ChildServer {
    /// Starts the server on `url` and waits until it answers, then logs in as `admin`.
    pub async fn start(exe: &str, url: &str) -> ChildServer {
        let process = Process::start(
            exe,
            url,
            ADMIN_PASSWORD,
            &[("AMS_WORKERS", "2")],
            Stdio::inherit(),
        )
        .await;
        let mut server = ChildServer {
            base: process.base.clone(),
            process,
            client: service::http::client(),
            token: String::new(),
        };
        let r = server
            .send(
                Method::POST,
                "/auth/token",
                Some(json!({"username": "admin", "password": ADMIN_PASSWORD})),
                &[],
            )
            .await
            .expect(200);
        server.token = r.body["access_token"].as_str().expect("token").to_owned();
        server
    }

    /// Sends a request as staff (paths under `/api/v1` unless they start with `/health` or
    /// `/ready`). A request cut off by a kill panics; use [`ChildServer::try_send`] then.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        self.try_send(method, path, body, headers)
            .await
            .expect("request")
    }

    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Result<Res, reqwest::Error> {
        send(
            &self.client,
            &self.base,
            &self.token,
            method,
            path,
            body,
            headers,
        )
        .await
    }

    /// A request that outlives this handle (to be cut off by a kill).
    pub fn detached(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> tokio::task::JoinHandle<Result<Res, reqwest::Error>> {
        let (client, base, token, path) = (
            self.client.clone(),
            self.base.clone(),
            self.token.clone(),
            path.to_owned(),
        );
        tokio::spawn(async move { send(&client, &base, &token, method, &path, body, &[]).await })
    }

    /// SIGKILL: no shutdown, no rollback but the database's own.
    pub fn kill(mut self) {
        self.process.kill();
    }
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Result<Res, reqwest::Error> {
    let mut req = client.request(method, crate::url_of(base, path));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    Res::read(req.send().await?).await
}

/// A fresh, migrated database with `persons` generated members (every one a member: dues, a
/// journal and mostly a chapter), for servers started as child processes.
pub async fn seeded(persons: u64, seed: u64) -> (String, Option<tempfile::TempDir>, service::Db) {
    let (url, guard) = crate::fresh_database().await;
    let db = service::Db::connect(&url).await.expect("connect");
    service::bootstrap::prepare(&db).await.expect("migrate");
    service::demo::members::generate(
        &db,
        service::demo::members::Options {
            persons,
            seed,
            all_members: true,
        },
        &|_, _| {},
    )
    .await
    .expect("generate");
    (url, guard, db)
}

/// The single number a `SELECT COUNT(*)`-like statement returns (0 for none).
pub async fn count(db: &service::Db, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    db.conn
        .query_one_raw(sea_orm::Statement::from_string(
            db.backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .and_then(|r| r.try_get_by_index::<Option<i64>>(0).ok().flatten())
        .unwrap_or(0)
}

/// A renewal cycle for the generated members (`seeded`): their journal and every chapter.
pub async fn create_renewal_cycle(server: &ChildServer, name: &str) {
    server
        .send(
            Method::POST,
            "/billing-cycles",
            Some(json!({"name": name, "customer_types": ["M"],
                "products": [service::demo::members::JOURNAL],
                "include_all_chapters": true, "accounting_method": "accrual"})),
            &[],
        )
        .await
        .expect(201);
}
