//! CSV answers for lists and reports (`Accept: text/csv`): the JSON items, flattened. Nested
//! objects become `parent_child` columns, lists of plain values are joined with `;`, lists of
//! objects (invoice lines) are kept as JSON in one cell. A list export holds every matching
//! row, not a page: it is read page by page from the database and streamed, so memory stays
//! flat however long the list.

use std::future::Future;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::{StreamExt, stream};
use serde::Serialize;
use serde_json::{Map, Value};
use service::page::{MAX_LIMIT, Page, PageRequest};
use utoipa::ToSchema;

use crate::problem::ApiResult;

pub const CSV: &str = "text/csv";

/// The client asked for CSV: `text/csv` is in `Accept` and is not refused (`q=0`).
pub fn wanted(req: &HttpRequest) -> bool {
    crate::respond::accepts(req, CSV)
}

/// Writes rows under the header: the item schema's columns (so that every export of a
/// collection has the same columns, whatever its first row holds), else the first row's.
#[derive(Default)]
struct Writer {
    header: Option<Vec<String>>,
    started: bool,
}

impl Writer {
    fn of<T: ToSchema>() -> Self {
        Writer {
            header: crate::schema_shape::columns(&T::name()),
            started: false,
        }
    }

    fn rows(&mut self, items: &[Value]) -> Vec<u8> {
        let mut out = csv::WriterBuilder::new().from_writer(Vec::new());
        if !self.started
            && let Some(names) = &self.header
        {
            let _ = out.write_record(names);
            self.started = true;
        }
        for item in items {
            let mut flat = Map::new();
            flatten("", item, &mut flat);
            let header = self.header.get_or_insert_with(|| {
                let names: Vec<String> = flat.keys().cloned().collect();
                let _ = out.write_record(&names);
                names
            });
            self.started = true;
            let cells = header
                .iter()
                .map(|h| flat.get(h).map(cell).unwrap_or_default());
            let _ = out.write_record(cells);
        }
        out.into_inner().unwrap_or_default()
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}_{k}")
                };
                if v.is_object() {
                    flatten(&name, v, out);
                } else {
                    out.insert(name, v.clone());
                }
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => guard(s),
        // The joined cell is what a spreadsheet reads: it is guarded as a whole.
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => guard(
            &items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(";"),
        ),
        other => other.to_string(),
    }
}

/// A text cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or CR
/// first) is quoted with `'`; plain negative amounts such as `-12.50` stay numbers.
fn guard(s: &str) -> String {
    let risky = s.starts_with(['=', '+', '@', '\t', '\r'])
        || s.strip_prefix('-')
            .is_some_and(|rest| !is_plain_number(rest));
    if risky { format!("'{s}") } else { s.to_owned() }
}

/// Digits with at most one decimal point inside: no exponent, sign, `inf` or `NaN`.
fn is_plain_number(s: &str) -> bool {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, "0"));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

fn response(name: &str) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::Ok();
    res.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    ))
    .insert_header((
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{name}.csv\""),
    ));
    res
}

/// A report (or any list held in memory) as CSV.
pub fn rows<T: Serialize + ToSchema>(name: &str, items: &[T]) -> HttpResponse {
    response(name).body(Writer::of::<T>().rows(&values(items)))
}

/// Every page of a keyset list, from `start` on, streamed as CSV. The first page is read
/// before answering, so that a bad filter is still a problem response; a database error
/// after that ends the file early (the status is sent by then) and is logged.
pub async fn pages<T, F, Fut>(name: &str, start: PageRequest, fetch: F) -> ApiResult<HttpResponse>
where
    T: Serialize + ToSchema,
    F: Fn(PageRequest) -> Fut + 'static,
    Fut: Future<Output = service::Result<Page<T>>> + 'static,
{
    struct State<F> {
        fetch: F,
        next: Option<PageRequest>,
        writer: Writer,
    }
    let page_after = |cursor: Option<String>| {
        cursor.map(|cursor| PageRequest {
            limit: Some(MAX_LIMIT),
            cursor: Some(cursor),
        })
    };
    let first = fetch(PageRequest {
        limit: Some(MAX_LIMIT),
        cursor: start.cursor,
    })
    .await?;
    let mut writer = Writer::of::<T>();
    let head = Bytes::from(writer.rows(&values(&first.items)));
    let state = State {
        fetch,
        next: page_after(first.next_cursor),
        writer,
    };
    let rest = stream::unfold(state, move |mut st| async move {
        let req = st.next.take()?;
        match (st.fetch)(req).await {
            Ok(page) => {
                let bytes = st.writer.rows(&values(&page.items));
                st.next = page_after(page.next_cursor);
                Some((Ok::<_, actix_web::Error>(Bytes::from(bytes)), st))
            }
            Err(err) => {
                tracing::error!(%err, "CSV export stopped");
                None
            }
        }
    });
    let body = stream::once(async move { Ok(head) }).chain(rest);
    Ok(response(name).streaming(body))
}

/// An item as the cells of its CSV row, by column: what an import compares a row with.
pub fn cells(item: &Value) -> std::collections::BTreeMap<String, String> {
    let mut flat = Map::new();
    flatten("", item, &mut flat);
    flat.iter().map(|(k, v)| (k.clone(), cell(v))).collect()
}

fn values<T: Serialize>(items: &[T]) -> Vec<Value> {
    items
        .iter()
        .filter_map(|i| serde_json::to_value(i).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_flatten_and_lists_join() {
        let rows = [
            json!({"id": 1, "name": "Ames", "address": {"city": "Leeds", "country": "GB"},
                "tags": ["a", "b"], "lines": [{"product": "MDUES"}], "email": null}),
            json!({"id": 2, "name": "=cmd()", "address": {"city": "York", "country": null},
                "tags": [], "lines": [], "email": "b@example.org"}),
        ];
        let text = String::from_utf8(Writer::default().rows(&rows)).unwrap();
        assert_eq!(
            text,
            "id,name,address_city,address_country,tags,lines,email\n\
             1,Ames,Leeds,GB,a;b,\"[{\"\"product\"\":\"\"MDUES\"\"}]\",\n\
             2,'=cmd(),York,,,,b@example.org\n"
        );
    }

    #[test]
    fn negative_amounts_stay_numbers_and_formulas_are_quoted() {
        assert_eq!(guard("-12.50"), "-12.50");
        assert_eq!(guard("-SUM(A1)"), "'-SUM(A1)");
        assert_eq!(guard("@import"), "'@import");
        assert_eq!(guard("plain"), "plain");
        assert_eq!(guard("-2e5"), "'-2e5");
        assert_eq!(guard("-inf"), "'-inf");
        assert_eq!(guard("-7"), "-7");
    }

    #[test]
    fn lists_joined_into_one_cell_are_guarded_as_a_whole() {
        assert_eq!(cell(&json!(["-2e5", "-a1:a2"])), "'-2e5;-a1:a2");
        assert_eq!(cell(&json!(["=1+1"])), "'=1+1");
        assert_eq!(cell(&json!(["ok", "=1+1"])), "ok;=1+1");
        assert_eq!(cell(&json!(["event-attendee"])), "event-attendee");
    }
}
