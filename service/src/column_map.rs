//! MG-1: files from another system come with other column names. A column mapping
//! (`{"Member ID": "external_ref", ...}`) renames them to our field names, so that staff never
//! rewrite a file by hand. Names compare ignoring case and surrounding spaces; a column the
//! mapping does not name keeps its own name, and is still refused when it is not a field.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::error::{Error, Errors, Result};

#[derive(Debug, Clone, Default)]
pub struct ColumnMap {
    /// (the file's column, normalized; our field)
    pairs: Vec<(String, String)>,
}

impl ColumnMap {
    /// The query form: `Member ID:external_ref,Expires:paid_through`.
    pub fn parse(text: &str) -> Result<ColumnMap> {
        let mut pairs = Vec::new();
        for item in text.split(',').filter(|i| !i.trim().is_empty()) {
            let (column, field) = item.rsplit_once(':').ok_or_else(|| {
                Error::invalid(
                    "map",
                    format!("{item:?} is not column:field (for example Member ID:external_ref)"),
                )
            })?;
            pairs.push((column.to_owned(), field.to_owned()));
        }
        ColumnMap::new(pairs)
    }

    /// Refuses empty names, a column mapped twice and two columns mapped to one field.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Result<ColumnMap> {
        let mut errors = Errors::new();
        let mut columns = HashSet::new();
        let mut fields = HashSet::new();
        let mut out = Vec::new();
        for (column, field) in pairs {
            let column = normalize(&column);
            let field = field.trim().to_lowercase();
            if column.is_empty() || field.is_empty() {
                errors.add("map", "a column and a field name must not be empty");
            } else if !columns.insert(column.clone()) {
                errors.add("map", format!("column {column:?} is mapped twice"));
            } else if !fields.insert(field.clone()) {
                errors.add("map", format!("two columns are mapped to {field}"));
            }
            out.push((column, field));
        }
        errors.into_result()?;
        Ok(ColumnMap { pairs: out })
    }

    /// The field a column of the file stands for.
    pub fn field(&self, column: &str) -> String {
        let key = normalize(column);
        self.pairs
            .iter()
            .find(|(c, _)| *c == key)
            .map_or(key, |(_, field)| field.clone())
    }

    /// Every column the mapping names is in the file: a misspelled mapping is an error, not a
    /// column silently left unread.
    pub fn check_columns<'a>(&self, columns: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let present: HashSet<String> = columns.into_iter().map(normalize).collect();
        let mut errors = Errors::new();
        for (column, _) in self.pairs.iter().filter(|(c, _)| !present.contains(c)) {
            errors.add("map", format!("column {column:?} is not in the file"));
        }
        errors.into_result()
    }

    /// A JSON row with its keys renamed.
    pub fn row(&self, row: Map<String, Value>) -> Map<String, Value> {
        if self.pairs.is_empty() {
            return row;
        }
        row.into_iter().map(|(k, v)| (self.field(&k), v)).collect()
    }
}

/// A column name as compared: trimmed, without a byte-order mark, lower case.
fn normalize(column: &str) -> String {
    column
        .trim()
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mg1_a_mapping_renames_columns_whatever_their_case() {
        let map =
            ColumnMap::parse("Member ID:external_ref, Expires:paid_through").unwrap_or_default();
        assert_eq!(map.field("member id"), "external_ref");
        assert_eq!(map.field(" EXPIRES "), "paid_through");
        assert_eq!(map.field("Product"), "product");
        assert!(
            map.check_columns(["MEMBER ID", "expires", "product"])
                .is_ok()
        );
        assert!(map.check_columns(["Member Id"]).is_err());
    }

    #[test]
    fn mg1_a_mapping_that_cannot_be_read_is_refused() {
        assert!(ColumnMap::parse("Member ID").is_err());
        assert!(ColumnMap::parse("A:x,a:y").is_err());
        assert!(ColumnMap::parse("A:x,B:x").is_err());
        assert!(ColumnMap::parse(":x").is_err());
    }
}
