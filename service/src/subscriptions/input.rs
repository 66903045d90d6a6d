//! What a request or an import row says about a subscription, before it is checked against
//! the database. JSON values and CSV cells go through the same parser, so a row means the
//! same thing whichever way it arrives.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::column_map::ColumnMap;
use crate::error::{Errors, Result};
use crate::settings::AccountingMethod;

use super::words::{parse_flag, parse_status};

pub use crate::row_reader::Change;
use crate::row_reader::{Reader, Source};

/// The optional fields of S-2 that a request may set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    pub begin_date: Change<NaiveDate>,
    pub paid_through: Change<NaiveDate>,
    pub bill_to_id: Option<i64>,
    pub bill_date: Change<NaiveDate>,
    pub bill_begin: Change<NaiveDate>,
    pub bill_through: Change<NaiveDate>,
    pub billed_cents: Change<i64>,
    pub active: Option<bool>,
    pub cancellation_date: Change<NaiveDate>,
    pub adjustment_reason: Change<String>,
    pub source_code: Change<String>,
    pub is_complimentary: Option<bool>,
    pub is_membership_component: Option<bool>,
    pub bill_subscription: Option<bool>,
    pub accounting_method: Option<AccountingMethod>,
}

/// Which contact a row is about: its id, or a matching key (S-9 `insert_with_matching`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactRef {
    Id(i64),
    ExternalRef(String),
    Email(String),
}

impl std::fmt::Display for ContactRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContactRef::Id(id) => write!(f, "contact {id}"),
            ContactRef::ExternalRef(r) => write!(f, "external_ref {r:?}"),
            ContactRef::Email(e) => write!(f, "email {e:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub contact: Option<ContactRef>,
    pub product: Option<String>,
    pub fields: Fields,
    /// What an export file shows of the columns the server sets (MG-4): checked against the
    /// subscription, never written.
    pub shown: Shown,
}

/// Read-only columns as a row shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub id: Option<i64>,
    pub is_company: Option<bool>,
    pub billed: Option<bool>,
}

/// Every column a row may carry. `email` and `external_ref` are matching keys.
pub const COLUMNS: &[&str] = &[
    "contact_id",
    "email",
    "external_ref",
    "product",
    "begin_date",
    "paid_through",
    "bill_to_id",
    "bill_date",
    "bill_begin",
    "bill_through",
    "billed_amount",
    "status",
    "cancellation_date",
    "adjustment_reason",
    "source_code",
    "is_complimentary",
    "is_membership_component",
    "bill_subscription",
    "accounting_method",
];

/// Columns that are shown but never set by a request. An import accepts them as a list
/// export writes them (MG-4) when they agree with the subscription; a request refuses them.
pub const READ_ONLY: &[(&str, &str)] = &[
    (
        "is_company",
        "is read-only: it comes from the contact's customer type; change the customer type instead",
    ),
    ("id", "is assigned by the server"),
    ("billed", "is set by billing"),
];

/// Columns of a list export that an import reads past: bookkeeping the server keeps.
pub const BOOKKEEPING: &[&str] = &["version", "created_at", "updated_at"];

pub const SOURCE_CODE_MAX: usize = 40;
pub const ADJUSTMENT_REASON_MAX: usize = 200;

fn method(r: &mut Reader, field: &str) -> Option<AccountingMethod> {
    let parsed = match r.get(field)? {
        Value::String(s) => AccountingMethod::parse(&s.trim().to_ascii_lowercase()),
        _ => None,
    };
    if parsed.is_none() {
        r.errors.add(field, "must be cash or accrual");
    }
    parsed
}

/// Parses one request. Unknown and read-only columns are errors, so a typo never goes
/// unnoticed.
pub fn parse_row(map: &Map<String, Value>) -> Result<Row> {
    read_row(map, false)
}

/// Parses one import row: the read-only columns of a list export are read into `shown`.
pub fn parse_import_row(map: &Map<String, Value>) -> Result<Row> {
    read_row(map, true)
}

fn read_row(map: &Map<String, Value>, import: bool) -> Result<Row> {
    let mut r = Reader::new(map);
    for key in map.keys() {
        let shown = READ_ONLY.iter().find(|(k, _)| k == key);
        if import && (shown.is_some() || BOOKKEEPING.contains(&key.as_str())) {
            continue;
        }
        if let Some((_, why)) = shown {
            r.errors.add(key.as_str(), *why);
        } else if !COLUMNS.contains(&key.as_str()) {
            r.errors.add(key.as_str(), "is not a subscription field");
        }
    }
    let shown = if import {
        Shown {
            id: r.get("id").and_then(|_| r.id("id", "a subscription id")),
            is_company: r.flag("is_company", parse_flag),
            billed: r.flag("billed", parse_flag),
        }
    } else {
        Shown::default()
    };
    let contact = if let Some(id) = r.id("contact_id", "a contact id") {
        Some(ContactRef::Id(id))
    } else if let Some(Some(x)) = r.text("external_ref") {
        Some(ContactRef::ExternalRef(x))
    } else if let Some(Some(e)) = r.text("email") {
        Some(ContactRef::Email(e))
    } else {
        None
    };
    let product = r.text("product").flatten();
    let mut fields = Fields {
        begin_date: r.date("begin_date"),
        paid_through: r.date("paid_through"),
        bill_to_id: None,
        bill_date: r.date("bill_date"),
        bill_begin: r.date("bill_begin"),
        bill_through: r.date("bill_through"),
        billed_cents: r.amount("billed_amount"),
        active: r.flag("status", parse_status),
        cancellation_date: r.date("cancellation_date"),
        adjustment_reason: r.text("adjustment_reason"),
        source_code: r.text("source_code"),
        is_complimentary: r.flag("is_complimentary", parse_flag),
        is_membership_component: r.flag("is_membership_component", parse_flag),
        bill_subscription: r.flag("bill_subscription", parse_flag),
        accounting_method: method(&mut r, "accounting_method"),
    };
    if r.get("bill_to_id").is_some_and(|v| !v.is_null()) {
        fields.bill_to_id = r.id("bill_to_id", "a contact id");
    }
    r.errors.into_result()?;
    Ok(Row {
        contact,
        product,
        fields,
        shown,
    })
}

/// JSON rows, their keys renamed by `map` (MG-1); read in batches by the import.
pub fn parse_json_rows(rows: Vec<Value>, map: &ColumnMap) -> Result<Source> {
    Source::json(rows, map)
}

/// CSV with a header row of field names, or of the file's own names renamed by `map`
/// (MG-1); an empty cell means "not given". Header and line problems reject the whole file;
/// cell problems are reported per row when the import reads the rows.
pub fn parse_csv(bytes: Vec<u8>, map: &ColumnMap) -> Result<Source> {
    Source::csv(bytes, map, check_headers)
}

/// The first worksheet of an XLSX workbook, read exactly like a CSV file: its first row
/// names the fields (`crate::spreadsheet::read_xlsx`).
pub fn parse_xlsx(bytes: &[u8], map: &ColumnMap) -> Result<Source> {
    Source::xlsx(bytes, map, check_headers)
}

fn check_headers(headers: &[String]) -> Result<()> {
    let mut errors = Errors::new();
    let mut seen = std::collections::HashSet::new();
    for h in headers {
        if h.is_empty() {
            errors.add("csv", "a header cell is empty");
        } else if !COLUMNS.contains(&h.as_str())
            && !BOOKKEEPING.contains(&h.as_str())
            && !READ_ONLY.iter().any(|(k, _)| k == h)
        {
            errors.add(
                h.as_str(),
                format!("unknown column {h:?}; columns are: {}", COLUMNS.join(", ")),
            );
        } else if !seen.insert(h.as_str()) {
            errors.add(h.as_str(), format!("column {h} appears twice"));
        }
    }
    if !headers.iter().any(|h| h == "product") {
        errors.add("product", "the required column product is missing");
    }
    if !headers
        .iter()
        .any(|h| h == "contact_id" || h == "email" || h == "external_ref")
    {
        errors.add(
            "contact_id",
            "a contact column is missing: contact_id (or email / external_ref to match contacts)",
        );
    }
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use serde_json::json;

    fn row(v: Value) -> Result<Row> {
        match v {
            Value::Object(m) => parse_row(&m),
            _ => unreachable!(),
        }
    }

    #[test]
    fn s2_json_and_csv_rows_mean_the_same() {
        let j = row(
            json!({"contact_id": 7, "product": "CHAPT/EAST", "begin_date": "2024-02-29",
            "billed_amount": "12.50", "status": "Y", "source_code": "legacy"}),
        )
        .unwrap();
        let csv = "contact_id,product,begin_date,billed_amount,status,source_code\n7,CHAPT/EAST,2024-02-29,12.50,y,legacy\n";
        let source = parse_csv(csv.as_bytes().to_vec(), &ColumnMap::default()).unwrap();
        let c = parse_import_row(&source.rows().next().unwrap().unwrap()).unwrap();
        assert_eq!(j, c);
        assert_eq!(c.contact, Some(ContactRef::Id(7)));
        assert_eq!(c.fields.billed_cents, Some(Some(1250)));
        assert_eq!(c.fields.active, Some(true));
    }

    #[test]
    fn s9_bad_cells_are_reported_per_field() {
        let err = row(
            json!({"contact_id": "x", "product": "P", "begin_date": "2024-02-30",
            "billed_amount": "1.234", "status": "maybe", "is_company": true}),
        )
        .unwrap_err();
        let Error::Validation(errs) = err else {
            panic!()
        };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "contact_id",
            "begin_date",
            "billed_amount",
            "status",
            "is_company",
        ] {
            assert!(fields.contains(&f), "{f} missing in {fields:?}");
        }
    }

    fn vb(b: &[u8]) -> Vec<u8> {
        b.to_vec()
    }

    #[test]
    fn s9_csv_header_must_name_known_columns_and_the_required_ones() {
        assert!(parse_csv(vb(b"contact,product\n1,P\n"), &ColumnMap::default()).is_err());
        assert!(
            parse_csv(
                vb(b"contact_id,begin_date\n1,2024-01-01\n"),
                &ColumnMap::default()
            )
            .is_err()
        );
        assert!(
            parse_csv(
                vb(b"contact_id,product,product\n1,P,P\n"),
                &ColumnMap::default()
            )
            .is_err()
        );
        assert!(parse_csv(vb(b"email,product\na@b.org,P\n"), &ColumnMap::default()).is_ok());
        // A short line is a file error, not a silently shifted row.
        assert!(
            parse_csv(
                vb(b"contact_id,product,status\n1,P\n"),
                &ColumnMap::default()
            )
            .is_err()
        );
    }

    #[test]
    fn dates_are_iso_only() {
        assert!(crate::dates::parse("2024-02-29").is_ok());
        for bad in [
            "2023-02-29",
            "6/15/24",
            "2024-1-5",
            "20240105",
            "2024-01-05T00:00",
        ] {
            assert!(crate::dates::parse(bad).is_err(), "{bad}");
        }
    }
}
