//! The server as a child process, for the tests that kill it (SIGKILL) or run two of it on
//! one database. Tests pass the binary: `env!("CARGO_BIN_EXE_ams-server")`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::{ADMIN_PASSWORD, Res};

pub struct ChildServer {
    child: Child,
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
}

impl ChildServer {
    /// Starts the server on `url` and waits until it answers, then logs in as `admin`.
    pub async fn start(exe: &str, url: &str) -> ChildServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let child = Command::new(exe)
            .env("AMS_DATABASE_URL", url)
            .env("AMS_BIND", format!("127.0.0.1:{port}"))
            .env("AMS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("AMS_LOG", "warn")
            .env("AMS_WORKERS", "2")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the server");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{base}/health")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut server = ChildServer {
            child,
            base,
            client,
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    let url = if path.starts_with("/health") || path.starts_with("/ready") {
        format!("{base}{path}")
    } else {
        format!("{base}/api/v1{path}")
    };
    let mut req = client.request(method, url);
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await?;
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await?;
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Res {
        status,
        headers,
        body,
        text,
    })
}
