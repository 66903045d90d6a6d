//! Reading history rows (MG-3) in every shape an import takes, and the ledger's own export
//! (MG-4): its `id` names a term to change, and the columns the server sets (`imported`,
//! `invoice_id`) must agree with the ledger when given.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::column_map::ColumnMap;
use crate::error::{Error, Errors, Result};
use crate::row_reader::{Reader, Source};
use crate::subscriptions::words::parse_flag;

/// Every column a row may carry: the contact by `contact_ref` (its external reference) or
/// `contact_id`; `id`, `imported` and `invoice_id` as the ledger's export writes them.
pub const COLUMNS: &[&str] = &[
    "id",
    "contact_ref",
    "contact_id",
    "begin",
    "end",
    "customer_type",
    "product",
    "amount",
    "imported",
    "invoice_id",
];

/// Which contact a row is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactKey {
    Id(i64),
    Ref(String),
}

/// The columns the server sets, as a row shows them (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub imported: Option<bool>,
    pub invoice_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// A term of the ledger, as its export names it.
    pub id: Option<i64>,
    pub contact: ContactKey,
    pub begin: NaiveDate,
    pub end: NaiveDate,
    /// Required for a new term; a billed term may have none.
    pub customer_type: Option<String>,
    pub product: Option<String>,
    pub amount_cents: Option<i64>,
    pub shown: Shown,
}

/// Parses one row; a term that ends before it begins is refused naming `end`.
pub fn parse_row(map: &Map<String, Value>) -> Result<HistoryRow> {
    let mut r = Reader::new(map);
    for key in map.keys() {
        if !COLUMNS.contains(&key.as_str()) {
            r.errors.add(key.as_str(), "is not a history field");
        }
    }
    let id = r.id("id", "a term id");
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
    let shown = Shown {
        imported: r.flag("imported", parse_flag),
        invoice_id: r.id("invoice_id", "an invoice id"),
    };
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
        customer_type.is_some() || id.is_some(),
        "is required",
    );
    if let (Some(b), Some(e)) = (begin, end)
        && e < b
    {
        errors.add("end", format!("the term ends ({e}) before it begins ({b})"));
    }
    errors.into_result()?;
    match (contact, begin, end) {
        (Some(contact), Some(begin), Some(end)) => Ok(HistoryRow {
            id,
            contact,
            begin,
            end,
            customer_type,
            product,
            amount_cents,
            shown,
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
    Source::csv(bytes, map, check_headers)
}

/// The first worksheet of an XLSX workbook, exactly like a CSV file.
pub fn parse_xlsx(bytes: &[u8], map: &ColumnMap) -> Result<Source> {
    Source::xlsx(bytes, map, check_headers)
}

fn check_headers(headers: &[String]) -> Result<()> {
    let mut errors = Errors::new();
    let mut seen = HashSet::new();
    for h in headers {
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
    errors.into_result()
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

    #[test]
    fn mg4_an_exported_row_reads_its_id_and_the_columns_the_server_sets() {
        let r = row(json!({"id": "7", "contact_id": "3", "begin": "2024-01-01",
            "end": "2024-12-31", "imported": "false", "invoice_id": "12"}))
        .unwrap();
        assert_eq!(r.id, Some(7));
        assert_eq!(r.customer_type, None);
        assert_eq!(
            r.shown,
            Shown {
                imported: Some(false),
                invoice_id: Some(12)
            }
        );
        let err = row(json!({"id": "x", "contact_id": "3", "begin": "2024-01-01",
            "end": "2024-12-31"}))
        .unwrap_err();
        let Error::Validation(errs) = err else {
            panic!()
        };
        assert_eq!(errs[0].field, "id");
    }
}
