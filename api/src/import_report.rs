//! An import's report as the response (`ImportReportDto`): its rows are written to the body a
//! thousand at a time, so the report of a large file is never held whole as JSON beside the
//! rows it describes.

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use serde::Serialize;
use service::import::Report;

use crate::dto::subscriptions::{ImportAction, ImportMode, ImportRowDto};

/// Rows serialized per chunk of the body.
const ROWS_PER_CHUNK: usize = 1_000;

/// Everything of the report but its rows.
#[derive(Serialize)]
struct Head {
    action: ImportAction,
    mode: ImportMode,
    applied: usize,
    failed: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_columns: Vec<String>,
}

/// 200 with the report; `ignored_columns` are the columns read past (set by the server).
pub fn respond(report: Report, ignored_columns: Vec<String>) -> HttpResponse {
    let head = Head {
        action: report.action.into(),
        mode: report.mode.into(),
        applied: report.applied,
        failed: report.failed,
        ignored_columns,
    };
    let mut rows = report.rows.into_iter().map(ImportRowDto::from).peekable();
    let mut opening = Some(head);
    let mut finished = false;
    let chunks = std::iter::from_fn(move || {
        if finished {
            return None;
        }
        let mut buf = Vec::new();
        if let Some(head) = opening.take() {
            if let Err(e) = serde_json::to_writer(&mut buf, &head) {
                return Some(Err(e));
            }
            // `{...}` becomes `{..., "rows": [`.
            buf.pop();
            buf.extend_from_slice(b",\"rows\":[");
        } else {
            buf.push(b',');
        }
        for (n, row) in rows.by_ref().take(ROWS_PER_CHUNK).enumerate() {
            if n > 0 {
                buf.push(b',');
            }
            if let Err(e) = serde_json::to_writer(&mut buf, &row) {
                return Some(Err(e));
            }
        }
        if rows.peek().is_none() {
            buf.extend_from_slice(b"]}");
            finished = true;
        }
        Some(Ok(Bytes::from(buf)))
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .streaming(futures_util::stream::iter(chunks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use service::import::{Action, Mode, Outcome, Summary};

    async fn body(report: Report) -> serde_json::Value {
        let res = respond(report, vec!["version".into()]);
        let bytes = actix_web::body::to_bytes(res.into_body())
            .await
            .map_err(|_| ())
            .expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }

    fn report(rows: usize) -> Report {
        let results = (1..=rows)
            .map(|row| {
                Some(Ok(Summary {
                    outcome: Outcome::Inserted,
                    existing: None,
                    matched_by: None,
                    id: Some(row as i64),
                }))
            })
            .collect();
        service::import::batch_report(Action::Upsert, Mode::RowByRow, results, true)
    }

    #[actix_web::test]
    async fn s9_a_streamed_report_is_one_json_document_whatever_its_size() {
        for rows in [0, 1, 999, 1_000, 1_001, 2_500] {
            let v = body(report(rows)).await;
            assert_eq!(v["rows"].as_array().map(Vec::len), Some(rows), "{rows}");
            assert_eq!(v["applied"], rows);
            assert_eq!(v["ignored_columns"], serde_json::json!(["version"]));
            if rows > 0 {
                assert_eq!(v["rows"][rows - 1]["row"], rows);
                assert_eq!(v["rows"][rows - 1]["outcome"], "inserted");
            }
        }
    }
}
