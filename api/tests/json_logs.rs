//! With `AMS_LOG_FORMAT=json` every request is one JSON line on standard error, carrying the
//! request id, the method, the path, the status and the time taken.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;

#[tokio::test]
async fn each_request_is_logged_as_one_json_line_with_its_request_id() {
    let (url, _dir) = support::database().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ams"))
        .env("AMS_DATABASE_URL", &url)
        .env("AMS_BIND", format!("127.0.0.1:{port}"))
        .env("AMS_ADMIN_PASSWORD", "json-logs-admin-password")
        .env("AMS_LOG", "info")
        .env("AMS_LOG_FORMAT", "json")
        .env("AMS_WEBHOOK_POLL_MS", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ams");
    let base = format!("http://127.0.0.1:{port}");
    let client = service::http::client();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{base}/health")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let res = client
        .get(format!("{base}/api/v1/contacts"))
        .header("x-request-id", "json-log-probe-1")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 401);
    // Let the line be written, then stop the server and read what it wrote.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    let out = BufReader::new(child.stderr.take().expect("stderr"));
    let lines: Vec<String> = out.lines().map_while(Result::ok).collect();
    let logged: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.to_string().contains("json-log-probe-1"))
        .collect();
    assert_eq!(logged.len(), 1, "one line for the request: {lines:#?}");
    let line = &logged[0];
    assert_eq!(line["fields"]["status"], 401, "{line}");
    assert!(line["fields"]["elapsed_ms"].is_number(), "{line}");
    assert_eq!(line["span"]["request_id"], "json-log-probe-1", "{line}");
    assert_eq!(line["span"]["path"], "/api/v1/contacts", "{line}");
    assert_eq!(line["span"]["method"], "GET", "{line}");
    assert!(line["timestamp"].is_string() && line["level"].is_string());
    support::drop_database(&url).await;
}
