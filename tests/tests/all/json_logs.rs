//! With `AMS_LOG_FORMAT=json` every request is one JSON line on standard error, carrying the
//! request id, the method, the path, the status and the time taken.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tests::child::Process;
use tests::{drop_database, fresh_database};

#[tokio::test]
async fn each_request_is_logged_as_one_json_line_with_its_request_id() {
    let (url, _dir) = fresh_database().await;
    let mut server = Process::start(
        env!("CARGO_BIN_EXE_ams-cli"),
        &url,
        "json-logs-admin-password",
        &[
            ("AMS_LOG", "info"),
            ("AMS_LOG_FORMAT", "json"),
            ("AMS_WEBHOOK_POLL_MS", "0"),
        ],
        Stdio::piped(),
    )
    .await;
    let client = service::http::client();
    let res = client
        .get(format!("{}/api/v1/contacts", server.base))
        .header("x-request-id", "json-log-probe-1")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 401);
    // Let the line be written, then stop the server and read what it wrote.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill();
    let out = BufReader::new(server.child.stderr.take().expect("stderr"));
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
    drop_database(&url).await;
}
