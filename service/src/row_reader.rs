//! Reading import rows: a JSON object, or a CSV or XLSX line under its header (mapped by a
//! `ColumnMap`, MG-1), read cell by cell into typed values with every bad cell named. Every
//! import reads its rows here, so a cell means the same thing in every import.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::column_map::ColumnMap;
use crate::error::{Errors, Result};
use crate::money;

/// `None`: not given, leave as is. `Some(None)`: clear. `Some(Some(v))`: set.
pub type Change<T> = Option<Option<T>>;

pub struct Reader<'a> {
    map: &'a Map<String, Value>,
    pub errors: Errors,
}

impl<'a> Reader<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Reader {
            map,
            errors: Errors::new(),
        }
    }

    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field)
    }

    pub fn text(&mut self, field: &str) -> Change<String> {
        match self.get(field)? {
            Value::Null => Some(None),
            Value::String(s) => {
                let s = s.trim();
                // SEC-5: import rows are client text too, whichever format brought them.
                if let Err(m) = crate::text::check(s, crate::text::has_lines(field)) {
                    self.errors.add(field, m);
                    return None;
                }
                Some((!s.is_empty()).then(|| s.to_owned()))
            }
            Value::Number(n) => Some(Some(n.to_string())),
            _ => {
                self.errors.add(field, "must be text");
                None
            }
        }
    }

    pub fn date(&mut self, field: &str) -> Change<NaiveDate> {
        match self.get(field)? {
            Value::Null => Some(None),
            Value::String(s) => match crate::dates::parse(s) {
                Ok(d) => Some(Some(d)),
                Err(m) => {
                    self.errors.add(field, m);
                    None
                }
            },
            _ => {
                self.errors
                    .add(field, "must be a date in the form YYYY-MM-DD");
                None
            }
        }
    }

    /// A record id; `what` names it in the error ("a contact id").
    pub fn id(&mut self, field: &str, what: &str) -> Option<i64> {
        let parsed = match self.get(field)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match parsed {
            Some(id) if id > 0 => Some(id),
            _ => {
                self.errors
                    .add(field, format!("must be {what} (a positive whole number)"));
                None
            }
        }
    }

    /// A whole number in `range`; empty or null clears.
    pub fn whole(&mut self, field: &str, range: std::ops::RangeInclusive<i64>) -> Change<i64> {
        let parsed = match self.get(field)? {
            Value::Null => return Some(None),
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if range.contains(&n) => Some(Some(n)),
            _ => {
                self.errors.add(
                    field,
                    format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    pub fn amount(&mut self, field: &str) -> Change<i64> {
        let parsed = match self.get(field)? {
            Value::Null => return Some(None),
            Value::String(s) => money::parse_amount(s),
            Value::Number(n) => money::parse_amount(&n.to_string()),
            _ => Err("must be a decimal amount such as \"12.50\"".to_owned()),
        };
        match parsed {
            Ok(c) if c < 0 => {
                self.errors.add(field, "must not be negative");
                None
            }
            Ok(c) => Some(Some(c)),
            Err(m) => {
                self.errors.add(field, m);
                None
            }
        }
    }

    pub fn flag(
        &mut self,
        field: &str,
        words: fn(&str) -> std::result::Result<bool, String>,
    ) -> Option<bool> {
        let parsed = match self.get(field)? {
            Value::Bool(b) => Ok(*b),
            Value::Number(n) => match n.as_i64() {
                Some(1) => Ok(true),
                Some(0) => Ok(false),
                _ => words(&n.to_string()),
            },
            Value::String(s) => words(s),
            Value::Null => Err("must not be null".to_owned()),
            _ => Err("must be true or false".to_owned()),
        };
        match parsed {
            Ok(b) => Some(b),
            Err(m) => {
                self.errors.add(field, m);
                None
            }
        }
    }

    /// A list of text values: a JSON array, or one cell of values separated by `;` (as the
    /// CSV exports write lists).
    pub fn list(&mut self, field: &str) -> Option<Vec<String>> {
        match self.get(field)? {
            Value::Null => Some(Vec::new()),
            Value::String(s) => Some(
                s.split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        _ => {
                            self.errors.add(field, "must be a list of text values");
                            return None;
                        }
                    }
                }
                Some(out)
            }
            _ => {
                self.errors.add(field, "must be a list of text values");
                None
            }
        }
    }
}

/// The header row renamed to field names by `map` (MG-1); a mapped column the file lacks
/// is an error.
pub fn mapped_headers(headers: &[String], map: &ColumnMap) -> Result<Vec<String>> {
    map.check_columns(headers.iter().map(String::as_str))?;
    Ok(headers.iter().map(|h| map.field(h)).collect())
}

/// Each line of text cells as an object keyed by `headers`, handed to `parse`. An empty
/// cell means "not given"; cells are trimmed; a leading `'` that the CSV exports put before
/// a cell a spreadsheet would run as a formula is taken off again, so an export imports back
/// unchanged (MG-4).
pub fn table_rows<R>(
    headers: &[String],
    records: impl Iterator<Item = Result<Vec<String>>>,
    mut parse: impl FnMut(Map<String, Value>) -> R,
) -> Result<Vec<R>> {
    let mut rows = Vec::new();
    for record in records {
        rows.push(parse(cells(headers, record?)));
    }
    Ok(rows)
}

/// An import's rows, kept as the request brought them and read as many times as an import
/// needs (a first look at every row, then rows in batches), so that no more than a batch of
/// rows is ever parsed at once: a CSV file stays bytes until its rows are read.
pub enum Source {
    /// CSV bytes under `headers` (the file's own, already renamed by the column map).
    Csv {
        headers: Vec<String>,
        bytes: Vec<u8>,
        /// Counted when the file was checked.
        rows: usize,
    },
    /// A worksheet's cells under `headers`.
    Table {
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// JSON objects, keys already renamed; anything else fails as its row.
    Json(Vec<Value>),
}

impl Source {
    /// A CSV file under its own header row, renamed by `map` (MG-1) and checked by `check`
    /// (the import's columns), every line read once now: a file that cannot be read (a ragged
    /// line, a broken quote, bytes that are not UTF-8) is refused whole, naming the line,
    /// before anything is written. Cells are read when the import reads the rows.
    pub fn csv(
        bytes: Vec<u8>,
        map: &ColumnMap,
        check: impl FnOnce(&[String]) -> Result<()>,
    ) -> Result<Source> {
        let (headers, records) = crate::spreadsheet::csv_records(&bytes)?;
        let headers = mapped_headers(&headers, map)?;
        check(&headers)?;
        let mut rows = 0;
        for record in records {
            record?;
            rows += 1;
        }
        Ok(Source::Csv {
            headers,
            bytes,
            rows,
        })
    }

    /// The first worksheet of an XLSX workbook, read exactly like a CSV file: its first row
    /// names the fields.
    pub fn xlsx(
        bytes: &[u8],
        map: &ColumnMap,
        check: impl FnOnce(&[String]) -> Result<()>,
    ) -> Result<Source> {
        let table = crate::spreadsheet::read_xlsx(bytes)?;
        let headers = mapped_headers(&table.headers, map)?;
        check(&headers)?;
        Ok(Source::Table {
            headers,
            rows: table.rows,
        })
    }

    /// The columns of a file, as renamed; none for JSON rows, whose keys are their own.
    pub fn headers(&self) -> &[String] {
        match self {
            Source::Csv { headers, .. } | Source::Table { headers, .. } => headers,
            Source::Json(_) => &[],
        }
    }

    /// Whether a row may give `column`: a file's header names it, and any JSON row may.
    pub fn may_have(&self, column: &str) -> bool {
        match self {
            Source::Csv { headers, .. } | Source::Table { headers, .. } => {
                headers.iter().any(|h| h == column)
            }
            Source::Json(_) => true,
        }
    }

    /// JSON rows, their keys renamed by `map` (MG-1); a row that is not an object fails as
    /// its row when read.
    pub fn json(rows: Vec<Value>, map: &ColumnMap) -> Result<Source> {
        map.check_columns(
            rows.iter()
                .filter_map(Value::as_object)
                .flat_map(|o| o.keys().map(String::as_str)),
        )?;
        Ok(Source::Json(
            rows.into_iter()
                .map(|v| match v {
                    Value::Object(row) => Value::Object(map.row(row)),
                    other => other,
                })
                .collect(),
        ))
    }

    /// How many rows: every CSV line was read when the file was checked, and a worksheet's
    /// or JSON body's rows are already apart.
    pub fn len(&self) -> usize {
        match self {
            Source::Csv { rows, .. } => *rows,
            Source::Table { rows, .. } => rows.len(),
            Source::Json(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every row, in order, as an object of its given cells (empty cells left out).
    pub fn rows(&self) -> Box<dyn Iterator<Item = Result<Map<String, Value>>> + '_> {
        match self {
            Source::Csv { headers, bytes, .. } => match crate::spreadsheet::csv_records(bytes) {
                Ok((_, records)) => Box::new(records.map(move |r| r.map(|r| cells(headers, r)))),
                Err(e) => Box::new(std::iter::once(Err(e))),
            },
            Source::Table { headers, rows } => {
                Box::new(rows.iter().map(move |r| Ok(cells(headers, r.clone()))))
            }
            Source::Json(rows) => Box::new(rows.iter().map(|v| match v {
                Value::Object(m) => Ok(m.clone()),
                _ => Err(crate::Error::invalid(
                    "row",
                    "each row must be a JSON object",
                )),
            })),
        }
    }
}

/// A line of text cells as an object keyed by `headers` (see [`table_rows`]).
fn cells(headers: &[String], record: Vec<String>) -> Map<String, Value> {
    let mut map = Map::new();
    for (h, cell) in headers.iter().zip(record) {
        let trimmed = cell.trim();
        if trimmed.is_empty() {
            continue;
        }
        let value = unguard(trimmed);
        if value.len() == cell.len() {
            map.insert(h.clone(), Value::String(cell));
        } else {
            map.insert(h.clone(), Value::String(value.to_owned()));
        }
    }
    map
}

/// A cell without the `'` a CSV export adds before text a spreadsheet would run as a formula.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mg4_a_guarded_export_cell_reads_back_as_written() {
        assert_eq!(unguard("'=cmd()"), "=cmd()");
        assert_eq!(unguard("'-SUM(A1)"), "-SUM(A1)");
        assert_eq!(unguard("O'Brien"), "O'Brien");
        assert_eq!(unguard("'quoted'"), "'quoted'");
    }
}
