//! What a contact import row says (MG-1): every field of `POST /contacts`, the fields only
//! actions change afterwards (C-5), the organization by its external reference, and the
//! contact's own id for `update` and `upsert`. JSON objects (with `address` nested or flat)
//! and CSV or XLSX lines (the columns of the contact list's CSV export) read the same way.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::column_map::ColumnMap;
use crate::contacts::ContactPatch;
use crate::error::{Errors, Result};
use crate::membership::RENEW_MONTHS_MAX;
use crate::row_reader::{Change, Reader, Source};
use crate::subscriptions::words::parse_flag;

/// One row of a contact import.
#[derive(Debug, Clone, Default)]
pub struct ContactRow {
    pub id: Option<i64>,
    /// Every profile and classification field but the address, as a patch (absent fields
    /// are not given).
    pub patch: ContactPatch,
    /// The address fields given (`line1`, `line2`, `city`, `region`, `postal_code`,
    /// `country`): each replaces its field, the others stay.
    pub address: [Change<String>; 6],
    /// C-3: the organization, by its external reference.
    pub company_ref: Option<String>,
    /// C-5: set by actions after the import; an import brings them over.
    pub join_date: Change<NaiveDate>,
    pub renew_months: Change<i32>,
    pub primary_chapter: Change<String>,
}

/// What a request held: its rows, not yet parsed (read in batches by the import), and the
/// columns that were read but not written because the server sets them (as a contact list
/// export has them).
pub struct Parsed {
    pub source: Source,
    pub ignored_columns: Vec<String>,
}

pub const ADDRESS: [&str; 6] = ["line1", "line2", "city", "region", "postal_code", "country"];

/// Every column a row may carry (the address flat, as `address_city`).
pub const COLUMNS: &[&str] = &[
    "id",
    "customer_type",
    "billing_category",
    "status",
    "first_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "address_city",
    "address_region",
    "address_postal_code",
    "address_country",
    "company_id",
    "company_ref",
    "external_ref",
    "tags",
    "autopay",
    "email_opt_in",
    "mail_opt_in",
    "ballot_preference",
    "join_date",
    "renew_months",
    "primary_chapter",
];

/// Columns of the contact list export that the server sets: read and left alone.
pub const SERVER_SET: &[&str] = &[
    "is_member",
    "is_organization",
    "paid_through",
    "version",
    "created_at",
    "updated_at",
];

/// A nested `address` object becomes the flat `address_*` columns.
fn flatten_address(mut row: Map<String, Value>, errors: &mut Errors) -> Map<String, Value> {
    match row.remove("address") {
        Some(Value::Object(a)) => {
            for (k, v) in a {
                if ADDRESS.contains(&k.as_str()) {
                    row.insert(format!("address_{k}"), v);
                } else {
                    errors.add(format!("address.{k}"), "is not an address field");
                }
            }
        }
        Some(Value::Null) => {
            for k in ADDRESS {
                row.insert(format!("address_{k}"), Value::Null);
            }
        }
        Some(_) => errors.add("address", "must be an object"),
        None => {}
    }
    row
}

/// Parses one row; unknown columns are errors naming them.
pub fn parse_row(row: Map<String, Value>) -> Result<ContactRow> {
    let mut errors = Errors::new();
    let map = flatten_address(row, &mut errors);
    let mut r = Reader::new(&map);
    r.errors = errors;
    for key in map.keys() {
        if !COLUMNS.contains(&key.as_str()) && !SERVER_SET.contains(&key.as_str()) {
            r.errors.add(key.as_str(), "is not a contact field");
        }
    }
    let patch = ContactPatch {
        customer_type: r.text("customer_type").flatten(),
        billing_category: r.text("billing_category"),
        status: r.text("status").flatten(),
        first_name: r.text("first_name"),
        last_name: r.text("last_name"),
        organization_name: r.text("organization_name"),
        email: r.text("email"),
        phone: r.text("phone"),
        address: None,
        company_id: match r.get("company_id") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(_) => r.id("company_id", "a contact id").map(Some),
        },
        external_ref: r.text("external_ref"),
        tags: r.list("tags"),
        autopay: r.flag("autopay", parse_flag),
        email_opt_in: r.flag("email_opt_in", parse_flag),
        mail_opt_in: r.flag("mail_opt_in", parse_flag),
        ballot_preference: r.text("ballot_preference"),
        attempted_locked: Vec::new(),
    };
    let row = ContactRow {
        id: r.id("id", "a contact id"),
        company_ref: r.text("company_ref").flatten(),
        join_date: r.date("join_date"),
        renew_months: r
            .whole("renew_months", 1..=i64::from(RENEW_MONTHS_MAX))
            .map(|m| m.map(|m| m as i32)),
        primary_chapter: r.text("primary_chapter"),
        address: ADDRESS.map(|k| r.text(&format!("address_{k}"))),
        patch,
    };
    if row.company_ref.is_some() && row.patch.company_id.flatten().is_some() {
        r.errors.add(
            "company_ref",
            "give the organization by company_id or by company_ref, not both",
        );
    }
    r.errors.into_result()?;
    Ok(row)
}

/// JSON rows, their keys renamed by `map` (MG-1); each must be an object.
pub fn parse_json_rows(rows: Vec<Value>, map: &ColumnMap) -> Result<Parsed> {
    let source = Source::json(rows, map)?;
    let Source::Json(rows) = &source else {
        return Err(crate::Error::Internal("JSON rows read as a table".into()));
    };
    let ignored: std::collections::BTreeSet<String> = rows
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|row| row.keys())
        .filter(|k| SERVER_SET.contains(&k.as_str()))
        .cloned()
        .collect();
    Ok(Parsed {
        source,
        ignored_columns: ignored.into_iter().collect(),
    })
}

/// CSV with a header row of field names (or of the file's own, renamed by `map`); the header
/// is checked now, the rows when the import reads them.
pub fn parse_csv(bytes: Vec<u8>, map: &ColumnMap) -> Result<Parsed> {
    let source = Source::csv(bytes, map, check_headers)?;
    Ok(Parsed {
        ignored_columns: ignored(source.headers()),
        source,
    })
}

/// The first worksheet of an XLSX workbook, exactly like a CSV file.
pub fn parse_xlsx(bytes: &[u8], map: &ColumnMap) -> Result<Parsed> {
    let source = Source::xlsx(bytes, map, check_headers)?;
    Ok(Parsed {
        ignored_columns: ignored(source.headers()),
        source,
    })
}

fn ignored(headers: &[String]) -> Vec<String> {
    headers
        .iter()
        .filter(|h| SERVER_SET.contains(&h.as_str()))
        .cloned()
        .collect()
}

/// Unknown and repeated columns reject the file, naming them and the columns there are.
fn check_headers(headers: &[String]) -> Result<()> {
    let mut errors = Errors::new();
    let mut seen = std::collections::HashSet::new();
    for h in headers {
        if h.is_empty() {
            errors.add("csv", "a header cell is empty");
        } else if !COLUMNS.contains(&h.as_str()) && !SERVER_SET.contains(&h.as_str()) {
            errors.add(
                h.as_str(),
                format!(
                    "unknown column {h:?}; map it to a field (map=) or leave it out; columns are: {}",
                    COLUMNS.join(", ")
                ),
            );
        } else if !seen.insert(h.as_str()) {
            errors.add(h.as_str(), format!("column {h} appears twice"));
        }
    }
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use serde_json::json;

    fn first_row(p: Parsed) -> ContactRow {
        let row = p.source.rows().next().unwrap().unwrap();
        parse_row(row).unwrap()
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn mg1_json_nested_address_and_csv_flat_columns_read_the_same() {
        let j = parse_row(obj(json!({"customer_type": "M", "last_name": "Lee",
            "address": {"city": "Leeds", "postal_code": "LS1 4AP"}, "tags": ["board", "x"],
            "join_date": "2004-02-29", "renew_months": 24, "company_ref": "ORG-1"})))
        .unwrap();
        let csv = "customer_type,last_name,address_city,address_postal_code,tags,join_date,renew_months,company_ref\n\
                   M,Lee,Leeds,LS1 4AP,board;x,2004-02-29,24,ORG-1\n";
        let c = first_row(parse_csv(csv.as_bytes().to_vec(), &ColumnMap::default()).unwrap());
        for r in [&j, &c] {
            assert_eq!(r.patch.customer_type.as_deref(), Some("M"));
            assert_eq!(r.address[2], Some(Some("Leeds".into())));
            assert_eq!(r.address[4], Some(Some("LS1 4AP".into())));
            assert_eq!(r.address[0], None);
            assert_eq!(r.patch.tags, Some(vec!["board".into(), "x".into()]));
            assert_eq!(r.join_date, Some(NaiveDate::from_ymd_opt(2004, 2, 29)));
            assert_eq!(r.renew_months, Some(Some(24)));
            assert_eq!(r.company_ref.as_deref(), Some("ORG-1"));
        }
    }

    #[test]
    fn mg1_unknown_columns_are_named_and_server_set_columns_are_reported_as_ignored() {
        let err = parse_csv(
            b"last_name,Member Since\nLee,2001\n".to_vec(),
            &ColumnMap::default(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("member since"), "{err}");
        let parsed = parse_csv(
            b"id,last_name,is_member,version\n7,Lee,true,3\n".to_vec(),
            &ColumnMap::default(),
        )
        .unwrap();
        assert_eq!(parsed.ignored_columns, vec!["is_member", "version"]);
        assert_eq!(first_row(parsed).id, Some(7));
    }

    #[test]
    fn mg1_bad_cells_are_named() {
        let err = parse_row(obj(json!({"last_name": "Lee", "renew_months": 0,
            "join_date": "2023-02-29", "company_ref": "A", "company_id": 3, "colour": "red"})))
        .unwrap_err();
        let Error::Validation(errs) = err else {
            panic!()
        };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in ["renew_months", "join_date", "company_ref", "colour"] {
            assert!(fields.contains(&f), "{f} missing in {fields:?}");
        }
    }
}
