//! MG-3: history import. Past terms brought from another system (contact, begin, end,
//! customer type, product, amount) enter the term ledger (L-6) marked imported, so that
//! previous members (L-2), gaps and counts at a date work on migrated data. A term
//! already in the ledger (same contact, dates and product) is reported unchanged, so a
//! migration can be run again. Rows are read like every import's (CSV, XLSX, JSON, column
//! mapping), checked against facts loaded once, and written in multi-row statements.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde_json::{Map, Value};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use entity::contact as c;
use entity::contact_history as h;

use crate::column_map::ColumnMap;
use crate::error::{Error, Errors, Result};
use crate::history::{self, NewTerm, TERM};
use crate::import::{self, Action, Mode, Outcome, Report, Results, RowError, Summary};
use crate::row_reader::{self, Reader, Source};
use crate::sql::{IN_CHUNK, in_ids, in_values};
use crate::{clock, db::Db, products};

/// Every column a row may carry: the contact by `contact_ref` (its external reference) or
/// `contact_id`.
pub const COLUMNS: &[&str] = &[
    "contact_ref",
    "contact_id",
    "begin",
    "end",
    "customer_type",
    "product",
    "amount",
];

/// Which contact a row is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactKey {
    Id(i64),
    Ref(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub contact: ContactKey,
    pub begin: NaiveDate,
    pub end: NaiveDate,
    pub customer_type: String,
    pub product: Option<String>,
    pub amount_cents: Option<i64>,
}

/// Parses one row; a term that ends before it begins is refused naming `end`.
pub fn parse_row(map: &Map<String, Value>) -> Result<HistoryRow> {
    let mut r = Reader::new(map);
    for key in map.keys() {
        if !COLUMNS.contains(&key.as_str()) {
            r.errors.add(key.as_str(), "is not a history field");
        }
    }
    let contact = match (r.id("contact_id", "a contact id"), r.text("contact_ref")) {
        (Some(id), _) => Some(ContactKey::Id(id)),
        (None, Some(Some(x))) => Some(ContactKey::Ref(x)),
        _ => None,
    };
    let begin = r.date("begin").flatten();
    let end = r.date("end").flatten();
    let customer_type = r.text("customer_type").flatten();
    let product = r.text("product").flatten();
    let amount_cents = r.amount("amount").flatten();
    let mut errors = std::mem::take(&mut r.errors);
    require(
        &mut errors,
        "contact_ref",
        contact.is_some(),
        "the contact is required: contact_ref (its external reference) or contact_id",
    );
    require(
        &mut errors,
        "begin",
        begin.is_some() || map.contains_key("begin"),
        "is required",
    );
    require(
        &mut errors,
        "end",
        end.is_some() || map.contains_key("end"),
        "is required",
    );
    require(
        &mut errors,
        "customer_type",
        customer_type.is_some(),
        "is required",
    );
    if let (Some(b), Some(e)) = (begin, end)
        && e < b
    {
        errors.add("end", format!("the term ends ({e}) before it begins ({b})"));
    }
    errors.into_result()?;
    match (contact, begin, end, customer_type) {
        (Some(contact), Some(begin), Some(end), Some(customer_type)) => Ok(HistoryRow {
            contact,
            begin,
            end,
            customer_type,
            product,
            amount_cents,
        }),
        _ => Err(Error::invalid("begin", "is required")),
    }
}

fn require(errors: &mut Errors, field: &str, present: bool, message: &str) {
    if !present {
        errors.add(field, message);
    }
}

/// JSON rows, their keys renamed by `map` (MG-1); read in batches by the import.
pub fn parse_json_rows(rows: Vec<Value>, map: &ColumnMap) -> Result<Source> {
    Source::json(rows, map)
}

/// CSV under a header of field names (or the file's own, renamed by `map`); the header is
/// checked now, the rows when the import reads them.
pub fn parse_csv(bytes: Vec<u8>, map: &ColumnMap) -> Result<Source> {
    let (headers, _) = crate::spreadsheet::csv_records(&bytes)?;
    let headers = checked(&headers, map)?;
    Source::csv(headers, bytes)
}

/// The first worksheet of an XLSX workbook, exactly like a CSV file.
pub fn parse_xlsx(bytes: &[u8], map: &ColumnMap) -> Result<Source> {
    let table = crate::spreadsheet::read_xlsx(bytes)?;
    let headers = checked(&table.headers, map)?;
    Ok(Source::Table {
        headers,
        rows: table.rows,
    })
}

fn checked(headers: &[String], map: &ColumnMap) -> Result<Vec<String>> {
    let headers = row_reader::mapped_headers(headers, map)?;
    let mut errors = Errors::new();
    let mut seen = HashSet::new();
    for h in &headers {
        if !COLUMNS.contains(&h.as_str()) {
            errors.add(
                h.as_str(),
                format!("unknown column {h:?}; columns are: {}", COLUMNS.join(", ")),
            );
        } else if !seen.insert(h.as_str()) {
            errors.add(h.as_str(), format!("column {h} appears twice"));
        }
    }
    for required in ["begin", "end", "customer_type"] {
        if !seen.contains(required) {
            errors.add(
                required,
                format!("the required column {required} is missing"),
            );
        }
    }
    if !seen.contains("contact_ref") && !seen.contains("contact_id") {
        errors.add(
            "contact_ref",
            "a contact column is missing: contact_ref or contact_id",
        );
    }
    errors.into_result()?;
    Ok(headers)
}

/// A term as the ledger and a file identify it: (contact, begin, end, product).
type TermKey = (i64, NaiveDate, NaiveDate, Option<String>);

/// A ledger row as read: (id, contact, begin, end, product).
type LedgerRow = (
    i64,
    i64,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<String>,
);

/// A checked row: the term to record, or one already in the ledger.
#[derive(Debug, Clone)]
pub struct Planned {
    term: NewTerm,
    existing: Option<i64>,
}

/// What the checks need, loaded once.
#[derive(Default)]
struct Facts {
    /// Contacts by id: `Err(survivor)` for a merged one.
    by_id: HashMap<i64, std::result::Result<(), i64>>,
    by_ref: HashMap<String, i64>,
    /// Terms in the ledger: (contact, begin, end, product) → history id.
    terms: HashMap<TermKey, i64>,
}

/// Rows planned and written at a time.
pub const BATCH: usize = 10_000;

pub async fn run(db: &Db, action: Action, mode: Mode, source: Source) -> Result<Report> {
    if !matches!(action, Action::Insert | Action::Upsert) {
        return Err(Error::invalid(
            "action",
            "history is imported with insert (a term already recorded is left unchanged)",
        ));
    }
    let count = import::count_rows(&source)?;
    let txn = db.write().await?;
    // The rows go in a savepoint: all-or-nothing undoes them and still keeps the request's
    // audit event, written when the transaction began.
    let work = crate::db::savepoint(&txn).await?;
    let known = Known::load(&work).await?;
    let mut seen: HashMap<TermKey, usize> = HashMap::new();
    let mut results: Results = vec![None; count];
    let mut batch: Vec<(usize, Result<HistoryRow>)> = Vec::with_capacity(BATCH);
    for (i, row) in source.rows().enumerate() {
        batch.push((i, row.and_then(|r| parse_row(&r))));
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            write_batch(&work, &known, &mut seen, full, &mut results).await?;
        }
    }
    write_batch(&work, &known, &mut seen, batch, &mut results).await?;
    let keep = crate::import::finish(txn, work, mode, &results).await?;
    Ok(import::batch_report(action, mode, results, keep))
}

/// Plans a batch against the contacts and terms it names, and records its new terms.
async fn write_batch(
    txn: &sea_orm::DatabaseTransaction,
    known: &Known,
    seen: &mut HashMap<TermKey, usize>,
    batch: Vec<(usize, Result<HistoryRow>)>,
    results: &mut Results,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let facts = load(txn, batch.iter().filter_map(|(_, r)| r.as_ref().ok())).await?;
    let mut new: Vec<(usize, NewTerm)> = Vec::new();
    for (i, row) in batch {
        let planned = row.and_then(|r| plan(known, &facts, seen, i, r));
        results[i] = Some(match planned {
            Ok(p) => {
                let existing = p.existing;
                if existing.is_none() {
                    new.push((i, p.term));
                }
                Ok(Summary {
                    outcome: if existing.is_some() {
                        Outcome::Unchanged
                    } else {
                        Outcome::Inserted
                    },
                    existing,
                    matched_by: None,
                    id: existing,
                })
            }
            Err(e) => Err(RowError::from(&e)),
        });
    }
    let terms: Vec<NewTerm> = new.iter().map(|(_, t)| t.clone()).collect();
    let ids = history::record_terms(txn, &terms, clock::now()).await?;
    for ((i, _), id) in new.iter().zip(ids) {
        if let Some(Ok(s)) = &mut results[*i] {
            s.id = Some(id);
        }
    }
    Ok(())
}

/// The customer types and products rows may name: loaded once for the file.
struct Known {
    types: HashSet<String>,
    products: HashSet<String>,
}

impl Known {
    async fn load(conn: &impl ConnectionTrait) -> Result<Known> {
        Ok(Known {
            types: crate::customer_types::all(conn)
                .await?
                .into_iter()
                .map(|t| t.code)
                .collect(),
            products: products::codes(conn).await?,
        })
    }
}

fn plan(
    known: &Known,
    f: &Facts,
    seen: &mut HashMap<TermKey, usize>,
    index: usize,
    row: HistoryRow,
) -> Result<Planned> {
    let mut errors = Errors::new();
    let contact = match &row.contact {
        ContactKey::Id(id) => match f.by_id.get(id) {
            Some(Ok(())) => Some(*id),
            Some(Err(into)) => {
                return Err(Error::Merged {
                    id: *id,
                    into: *into,
                });
            }
            None => {
                errors.add("contact_id", format!("contact {id} does not exist"));
                None
            }
        },
        ContactKey::Ref(x) => match f.by_ref.get(x) {
            Some(id) => Some(*id),
            None => {
                errors.add("contact_ref", format!("no contact has external_ref {x}"));
                None
            }
        },
    };
    if !known.types.contains(&row.customer_type) {
        errors.add(
            "customer_type",
            format!("customer type {} does not exist", row.customer_type),
        );
    }
    if let Some(p) = &row.product
        && !known.products.contains(p)
    {
        errors.add("product", format!("product {p} does not exist"));
    }
    errors.into_result()?;
    let contact_id = contact.ok_or_else(|| Error::invalid("contact_ref", "is required"))?;
    let key = (contact_id, row.begin, row.end, row.product.clone());
    if let Some(earlier) = seen.insert(key.clone(), index) {
        return Err(Error::conflict(format!(
            "row {} repeats the term of row {} (contact {contact_id}, {} to {})",
            index + 1,
            earlier + 1,
            row.begin,
            row.end
        )));
    }
    Ok(Planned {
        existing: f.terms.get(&key).copied(),
        term: NewTerm {
            contact_id,
            begin: row.begin,
            end: row.end,
            customer_type: Some(row.customer_type),
            product: row.product,
            invoice_id: None,
            amount_cents: row.amount_cents,
            imported: true,
        },
    })
}

async fn load<'a>(
    conn: &impl ConnectionTrait,
    rows: impl Iterator<Item = &'a HistoryRow>,
) -> Result<Facts> {
    let (mut ids, mut refs) = (Vec::new(), Vec::new());
    for r in rows {
        match &r.contact {
            ContactKey::Id(id) => ids.push(*id),
            ContactKey::Ref(x) => refs.push(x.clone()),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    refs.sort();
    refs.dedup();
    let mut f = Facts::default();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<(i64, Option<i64>)> = c::Entity::find()
            .select_only()
            .columns([c::Column::Id, c::Column::MergedInto])
            .filter(in_ids(c::Column::Id, chunk))
            .into_tuple()
            .all(conn)
            .await?;
        for (id, merged) in rows {
            f.by_id.insert(id, merged.map_or(Ok(()), Err));
        }
    }
    for chunk in refs.chunks(IN_CHUNK) {
        let rows: Vec<(i64, Option<String>)> = c::Entity::find()
            .select_only()
            .columns([c::Column::Id, c::Column::ExternalRef])
            .filter(in_values(c::Column::ExternalRef, chunk.iter().cloned()))
            .filter(c::Column::MergedInto.is_null())
            .into_tuple()
            .all(conn)
            .await?;
        for (id, x) in rows {
            f.by_ref.extend(x.map(|x| (x, id)));
        }
    }
    let contacts: Vec<i64> = f
        .by_ref
        .values()
        .copied()
        .chain(f.by_id.iter().filter(|(_, v)| v.is_ok()).map(|(k, _)| *k))
        .collect();
    for chunk in contacts.chunks(IN_CHUNK) {
        let rows: Vec<LedgerRow> = h::Entity::find()
            .select_only()
            .columns([
                h::Column::Id,
                h::Column::ContactId,
                h::Column::TermBegin,
                h::Column::TermEnd,
                h::Column::Product,
            ])
            .filter(in_ids(h::Column::ContactId, chunk))
            .filter(h::Column::Kind.eq(TERM))
            .into_tuple()
            .all(conn)
            .await?;
        for (id, contact, begin, end, product) in rows {
            if let (Some(b), Some(e)) = (begin, end) {
                f.terms.insert((contact, b, e, product), id);
            }
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Result<HistoryRow> {
        match v {
            Value::Object(m) => parse_row(&m),
            _ => unreachable!(),
        }
    }

    #[test]
    fn mg3_a_term_that_ends_before_it_begins_is_refused_naming_end() {
        let err = row(
            json!({"contact_ref": "A", "begin": "2020-03-01", "end": "2020-02-29",
            "customer_type": "M"}),
        )
        .unwrap_err();
        let Error::Validation(errs) = err else {
            panic!()
        };
        assert_eq!(errs[0].field, "end");
        let ok = row(
            json!({"contact_ref": "A", "begin": "2020-02-29", "end": "2020-02-29",
            "customer_type": "M", "amount": "120.00"}),
        )
        .unwrap();
        assert_eq!(ok.amount_cents, Some(12_000));
        assert_eq!(ok.contact, ContactKey::Ref("A".into()));
    }

    #[test]
    fn mg3_required_fields_and_unknown_columns_are_named() {
        let err = row(json!({"begin": "x", "colour": 1})).unwrap_err();
        let Error::Validation(errs) = err else {
            panic!()
        };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in ["colour", "begin", "contact_ref", "end", "customer_type"] {
            assert!(fields.contains(&f), "{f}: {fields:?}");
        }
    }
}
