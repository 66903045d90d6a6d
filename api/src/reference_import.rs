//! MG-4: reference data (products, pricing rules, customer types, billing categories, billing
//! cycles) imports back from its own CSV export. Each row is compared with the item's
//! exported cells: a row as exported is `unchanged` and writes nothing; an edited row is
//! turned into the collection's create or update request, typed by the request's schema in
//! the OpenAPI document (lists from `a;b`, nested objects from `parent_child` columns, lists
//! of objects from JSON), and goes through the same checks as that request. Every row is
//! written in one transaction, each under a savepoint: all-or-nothing keeps none when a row
//! fails, row-by-row keeps the rows that passed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use actix_web::HttpResponse;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use service::column_map::ColumnMap;
use service::db::{Connection as DatabaseConnection, Transaction as DatabaseTransaction};
use service::import::{Action, Mode, Outcome, Results, RowError, Summary};

use crate::csv_export;
use crate::dto::subscriptions::ImportQuery;
use crate::extract::Upload;
use crate::import_upload::{self, RowParser};
use crate::problem::ApiResult;
use crate::schema_shape::{columns_of, kind, resolve, schemas};
use crate::state::AppState;

/// Columns every export has that the server keeps: never compared, never written.
const BOOKKEEPING: &[&str] = &[
    "version",
    "created_at",
    "updated_at",
    "warnings",
    "specificity",
];

/// One collection of reference data.
pub trait Collection {
    /// The CSV file's name and the collection's name in messages.
    const NAME: &'static str;
    /// The column that names an item: `code`, or `id` for rules and cycles.
    const KEY: &'static str;
    /// The schemas (components of the OpenAPI document) of the create and update requests.
    const NEW: &'static str;
    const PATCH: &'static str;
    type New: DeserializeOwned + validator::Validate;
    type Patch: DeserializeOwned + validator::Validate;
    type Item: Serialize;

    /// Every item, as the list exports it.
    fn all(conn: &DatabaseConnection) -> impl Future<Output = service::Result<Vec<Self::Item>>>;
    /// Creates an item; returns its numeric id when it has one.
    fn create(
        txn: &DatabaseTransaction,
        new: Self::New,
    ) -> impl Future<Output = service::Result<Option<i64>>>;
    fn update(
        txn: &DatabaseTransaction,
        key: &str,
        patch: Self::Patch,
    ) -> impl Future<Output = service::Result<()>>;
}

/// Every item of a keyset list, page after page.
pub async fn all_pages<T, F, Fut>(mut page: F) -> service::Result<Vec<T>>
where
    F: FnMut(service::page::PageRequest) -> Fut,
    Fut: Future<Output = service::Result<service::page::Page<T>>>,
{
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let p = page(service::page::PageRequest {
            limit: Some(service::page::MAX_LIMIT),
            cursor,
        })
        .await?;
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Rows of cells, by column, whatever shape the request came in.
pub struct CellRows {
    rows: Vec<service::Result<BTreeMap<String, String>>>,
    columns: BTreeSet<String>,
}

impl RowParser for CellRows {
    type Rows = CellRows;

    fn json(rows: Vec<Value>, map: &ColumnMap) -> service::Result<CellRows> {
        map.check_columns(
            rows.iter()
                .filter_map(Value::as_object)
                .flat_map(|o| o.keys().map(String::as_str)),
        )?;
        let mut columns = BTreeSet::new();
        let rows = rows
            .into_iter()
            .map(|v| match v {
                Value::Object(row) => {
                    let cells = csv_export::cells(&Value::Object(map.row(row)));
                    let cells: BTreeMap<String, String> = cells
                        .into_iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(k, v)| (k, service::row_reader::unguard(&v).to_owned()))
                        .collect();
                    columns.extend(cells.keys().cloned());
                    Ok(cells)
                }
                _ => Err(service::Error::invalid(
                    "row",
                    "each row must be a JSON object",
                )),
            })
            .collect();
        Ok(CellRows { rows, columns })
    }

    fn csv(bytes: Vec<u8>, map: &ColumnMap) -> service::Result<CellRows> {
        let (headers, records) = service::spreadsheet::csv_records(&bytes)?;
        table(&headers, map, records)
    }

    fn xlsx(bytes: &[u8], map: &ColumnMap) -> service::Result<CellRows> {
        let t = service::spreadsheet::read_xlsx(bytes)?;
        table(&t.headers, map, t.rows.into_iter().map(Ok))
    }
}

fn table(
    headers: &[String],
    map: &ColumnMap,
    records: impl Iterator<Item = service::Result<Vec<String>>>,
) -> service::Result<CellRows> {
    let headers = service::row_reader::mapped_headers(headers, map)?;
    let rows = service::row_reader::table_rows(&headers, records, |row| {
        Ok(row
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect())
    })?;
    Ok(CellRows {
        rows,
        columns: headers.into_iter().collect(),
    })
}

/// The request body a row's cells make, typed by `schema`; a cell that does not read as its
/// type is named.
fn typed(
    schema: &Value,
    cells: &BTreeMap<String, String>,
    prefix: &str,
    errors: &mut service::error::Errors,
) -> Map<String, Value> {
    let schema = resolve(schema);
    let mut out = Map::new();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return out;
    };
    for (name, p) in props {
        let col = format!("{prefix}{name}");
        let p = resolve(p);
        if kind(&p) == "object" && p.get("properties").is_some() {
            let inner = typed(&p, cells, &format!("{col}_"), errors);
            if !inner.is_empty() {
                out.insert(name.clone(), Value::Object(inner));
            }
            continue;
        }
        let Some(cell) = cells.get(&col) else {
            continue;
        };
        match value_of(&p, cell) {
            Ok(v) => {
                out.insert(name.clone(), v);
            }
            Err(m) => errors.add(col, m),
        }
    }
    out
}

fn value_of(schema: &Value, cell: &str) -> Result<Value, String> {
    match kind(schema) {
        "integer" => cell
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "must be a whole number".to_owned()),
        "boolean" => service::subscriptions::words::parse_flag(cell).map(Value::Bool),
        "array" => {
            let items = resolve(schema.get("items").unwrap_or(&Value::Null));
            if kind(&items) == "object" {
                serde_json::from_str(cell).map_err(|e| format!("must be a JSON list: {e}"))
            } else {
                Ok(Value::Array(
                    cell.split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| value_of(&items, s))
                        .collect::<Result<Vec<_>, _>>()?,
                ))
            }
        }
        _ => Ok(Value::String(cell.to_owned())),
    }
}

/// A row's plan: what it does, and to which item.
#[derive(Debug, Clone)]
struct Planned {
    outcome: Outcome,
    id: Option<i64>,
}

/// Reads the request, checks its columns, applies each row, and answers the report.
pub async fn run<C: Collection>(
    state: &AppState,
    q: &ImportQuery,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    let (action, mode, parsed) = import_upload::read::<CellRows>(upload, q, None).await?;
    let (action, mode): (Action, Mode) = (action.into(), mode.into());
    if action == Action::Delete || action == Action::InsertWithMatching {
        return Err(service::Error::invalid(
            "action",
            format!("{} are imported with insert, update or upsert", C::NAME),
        )
        .into());
    }
    check_columns::<C>(&parsed.columns)?;
    if parsed.rows.is_empty() {
        return Err(service::Error::invalid("rows", "the import has no rows").into());
    }
    let current = current::<C>(&state.db.conn).await?;
    let outer = state.db.write().await.map_err(service::Error::from)?;
    // The rows go in a savepoint: all-or-nothing undoes them and still keeps the request's
    // audit event, written when the transaction began.
    let txn = service::db::savepoint(&outer)
        .await
        .map_err(service::Error::from)?;
    let mut results: Results = Vec::with_capacity(parsed.rows.len());
    for row in parsed.rows {
        let planned = match row {
            Ok(cells) => apply::<C>(&txn, action, &current, cells).await,
            Err(e) => Err(e),
        };
        results.push(Some(planned.map(summary).map_err(|e| RowError::from(&e))));
    }
    let keep = service::import::finish(outer, txn, mode, &results).await?;
    let report = service::import::batch_report(action, mode, results, keep);
    let ignored = parsed
        .columns
        .iter()
        .filter(|c| BOOKKEEPING.contains(&c.as_str()))
        .cloned()
        .collect();
    Ok(crate::import_report::respond(report, ignored))
}

/// A row's part of the report. Items named by code have no numeric id: only rules and cycles
/// report one.
fn summary(p: Planned) -> Summary {
    Summary {
        outcome: p.outcome,
        existing: if p.outcome == Outcome::Inserted {
            None
        } else {
            p.id
        },
        matched_by: None,
        id: p.id,
    }
}

/// A column neither the item, its create request nor its update request has is refused.
fn check_columns<C: Collection>(columns: &BTreeSet<String>) -> service::Result<()> {
    let mut known = BTreeSet::new();
    for name in [C::NEW, C::PATCH] {
        columns_of(schemas().get(name).unwrap_or(&Value::Null), "", &mut known);
    }
    known.insert(C::KEY.to_owned());
    let unknown: Vec<&String> = columns
        .iter()
        .filter(|c| !known.contains(*c) && !BOOKKEEPING.contains(&c.as_str()))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let mut errors = service::error::Errors::new();
    for c in unknown {
        errors.add(
            c.as_str(),
            format!(
                "unknown column {c:?} for {}; columns are: {}",
                C::NAME,
                known.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    errors.into_result()
}

/// Every item's cells, by key.
async fn current<C: Collection>(
    conn: &DatabaseConnection,
) -> service::Result<HashMap<String, BTreeMap<String, String>>> {
    let mut out = HashMap::new();
    for item in C::all(conn).await? {
        let value =
            serde_json::to_value(&item).map_err(|e| service::Error::Internal(e.to_string()))?;
        let cells = csv_export::cells(&value);
        if let Some(key) = cells.get(C::KEY) {
            out.insert(key.clone(), cells);
        }
    }
    Ok(out)
}

/// One row, under a savepoint: unchanged, created or updated.
async fn apply<C: Collection>(
    txn: &DatabaseTransaction,
    action: Action,
    current: &HashMap<String, BTreeMap<String, String>>,
    cells: BTreeMap<String, String>,
) -> service::Result<Planned> {
    let key = cells.get(C::KEY).cloned();
    let existing = key.as_ref().and_then(|k| current.get(k));
    let id = |k: &str| k.parse::<i64>().ok();
    match (action, existing, &key) {
        (Action::Insert, Some(_), Some(k)) => Err(service::Error::conflict(format!(
            "{} {k} already exists; use update or upsert",
            C::NAME
        ))),
        (Action::Update, None, _) | (Action::Upsert, None, Some(_)) if C::KEY == "id" => {
            Err(service::Error::not_found(C::NAME, key.unwrap_or_default()))
        }
        (Action::Update, None, _) => Err(service::Error::not_found(
            C::NAME,
            key.unwrap_or_else(|| format!("(no {})", C::KEY)),
        )),
        (_, Some(now), Some(k)) => {
            if same(&cells, now) {
                return Ok(Planned {
                    outcome: Outcome::Unchanged,
                    id: id(k),
                });
            }
            let patch: C::Patch = request(C::PATCH, &cells, C::KEY)?;
            let sp = service::db::savepoint(txn).await?;
            C::update(&sp, k, patch).await?;
            sp.commit().await?;
            Ok(Planned {
                outcome: Outcome::Updated,
                id: id(k),
            })
        }
        _ => {
            let new: C::New = request(C::NEW, &cells, "")?;
            let sp = service::db::savepoint(txn).await?;
            let new_id = C::create(&sp, new).await?;
            sp.commit().await?;
            Ok(Planned {
                outcome: Outcome::Inserted,
                id: new_id,
            })
        }
    }
}

/// Every cell the row gives equals the item's (the server's bookkeeping aside).
fn same(row: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> bool {
    row.iter()
        .filter(|(c, _)| !BOOKKEEPING.contains(&c.as_str()))
        .all(|(c, v)| {
            let exported = now.get(c).map(String::as_str).unwrap_or("");
            service::row_reader::unguard(exported) == v.trim()
        })
}

/// The create or update request the cells make, checked as the request would be.
fn request<T: DeserializeOwned + validator::Validate>(
    schema: &str,
    cells: &BTreeMap<String, String>,
    skip: &str,
) -> service::Result<T> {
    let mut errors = service::error::Errors::new();
    let cells: BTreeMap<String, String> = cells
        .iter()
        .filter(|(c, _)| c.as_str() != skip)
        .map(|(c, v)| (c.clone(), v.clone()))
        .collect();
    let body = typed(
        schemas().get(schema).unwrap_or(&Value::Null),
        &cells,
        "",
        &mut errors,
    );
    errors.into_result()?;
    let value: T = serde_json::from_value(Value::Object(body))
        .map_err(|e| service::Error::invalid("row", e.to_string()))?;
    value
        .validate()
        .map_err(|e| service::Error::invalid("row", e.to_string()))?;
    Ok(value)
}
