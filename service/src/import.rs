//! What every import shares (S-9, MG-1, MG-3, MG-4): its actions and modes, and the per-row
//! report. Each row is planned first; all-or-nothing writes nothing when any row fails,
//! row-by-row writes the rows that passed. Either way a failed row changes nothing.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use crate::error::{Error, FieldError};

/// S-9 actions; single requests use `Insert`, `Update` and `Delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Insert,
    InsertWithMatching,
    Update,
    Upsert,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Insert => "insert",
            Action::InsertWithMatching => "insert_with_matching",
            Action::Update => "update",
            Action::Upsert => "upsert",
            Action::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    AllOrNothing,
    RowByRow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Inserted,
    Updated,
    /// An update or upsert whose values were already as given: nothing written.
    Unchanged,
    Deleted,
    Failed,
    /// Valid, but not written because another row failed (all-or-nothing).
    NotApplied,
}

/// Why a row failed. Boxed: a report of a million rows keeps one pointer per row, the
/// message only for the rows that failed.
#[derive(Debug, Clone)]
pub struct RowError(Box<RowErrorDetail>);

#[derive(Debug, Clone)]
pub struct RowErrorDetail {
    pub code: &'static str,
    pub message: String,
    pub errors: Vec<FieldError>,
}

impl std::ops::Deref for RowError {
    type Target = RowErrorDetail;
    fn deref(&self) -> &RowErrorDetail {
        &self.0
    }
}

impl RowError {
    pub fn into_detail(self) -> RowErrorDetail {
        *self.0
    }
}

/// The field errors of an error, for a row's report.
pub fn field_errors(e: &Error) -> Vec<FieldError> {
    match e {
        Error::Validation(errs) => errs.clone(),
        Error::LockedFields { fields, message } => fields
            .iter()
            .map(|f| FieldError::new(f.clone(), message.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

impl From<&Error> for RowError {
    fn from(e: &Error) -> Self {
        RowError(Box::new(RowErrorDetail {
            code: e.code(),
            message: e.to_string(),
            errors: field_errors(e),
        }))
    }
}

#[derive(Debug, Clone)]
pub struct RowReport {
    /// 1-based: row 1 is the first data row (the line after a CSV header).
    pub row: usize,
    pub outcome: Outcome,
    pub id: Option<i64>,
    /// MG-2: the key that found an existing contact (`insert_with_matching`).
    pub matched_by: Option<&'static str>,
    pub error: Option<RowError>,
}

#[derive(Debug)]
pub struct Report {
    pub action: Action,
    pub mode: Mode,
    pub applied: usize,
    pub failed: usize,
    pub rows: Rows,
}

/// Each row's report, made as it is read: the import keeps one small result per row, and the
/// report of a large file is never held twice.
#[derive(Debug)]
pub struct Rows {
    results: Results,
    kept: bool,
}

impl IntoIterator for Rows {
    type Item = RowReport;
    type IntoIter = Box<dyn Iterator<Item = RowReport> + Send>;

    fn into_iter(self) -> Self::IntoIter {
        let kept = self.kept;
        Box::new(
            self.results
                .into_iter()
                .enumerate()
                .map(move |(i, r)| row_report(i + 1, r, kept)),
        )
    }
}

fn row_report(row: usize, result: Option<Result<Summary, RowError>>, kept: bool) -> RowReport {
    match result {
        Some(Ok(s)) => RowReport {
            row,
            outcome: if kept { s.outcome } else { Outcome::NotApplied },
            id: if kept { s.id } else { s.existing },
            matched_by: s.matched_by,
            error: None,
        },
        Some(Err(e)) => RowReport {
            row,
            outcome: Outcome::Failed,
            id: None,
            matched_by: None,
            error: Some(e),
        },
        None => RowReport {
            row,
            outcome: Outcome::Failed,
            id: None,
            matched_by: None,
            error: Some(RowError::from(&Error::Internal("row not read".into()))),
        },
    }
}

/// What a planned row says about itself in the report.
pub trait PlannedRow {
    fn outcome(&self) -> Outcome;
    /// The id the row will write to, when it exists before the write.
    fn existing_id(&self) -> Option<i64>;
    fn matched_by(&self) -> Option<&'static str> {
        None
    }
}

/// What an import that writes batch by batch keeps of a row it planned: enough for the report.
#[derive(Debug, Clone)]
pub struct Summary {
    pub outcome: Outcome,
    /// The id the row planned against, when it existed.
    pub existing: Option<i64>,
    pub matched_by: Option<&'static str>,
    /// The id written.
    pub id: Option<i64>,
}

/// Each row's result, by row index (`None`: not read, which does not happen).
pub type Results = Vec<Option<Result<Summary, RowError>>>;

/// The report of an import written batch by batch; `kept` says whether its transaction was
/// committed (all-or-nothing rolls back when a row failed).
pub fn batch_report(action: Action, mode: Mode, results: Results, kept: bool) -> Report {
    let failed = results.iter().filter(|r| !matches!(r, Some(Ok(_)))).count();
    Report {
        action,
        mode,
        applied: if kept { results.len() - failed } else { 0 },
        failed,
        rows: Rows { results, kept },
    }
}

/// The keys of the rows read so far, to refuse a row that repeats an earlier one, naming it.
/// Rows of earlier batches are kept in one sorted list (a key and a row number each, no hash
/// table around them); only the batch being read is hashed.
#[derive(Debug)]
pub struct Seen<K> {
    earlier: Vec<(K, u32)>,
    batch: HashMap<K, u32>,
}

impl<K: Ord + Hash + Copy> Seen<K> {
    /// `rows`: how many rows the import has, so the list is allocated once.
    pub fn with_capacity(rows: usize) -> Self {
        Seen {
            earlier: Vec::with_capacity(rows),
            batch: HashMap::new(),
        }
    }

    /// Records `key` for row `index` (0-based); the index of an earlier row with the same key.
    pub fn insert(&mut self, key: K, index: usize) -> Option<usize> {
        if let Ok(at) = self.earlier.binary_search_by(|(k, _)| k.cmp(&key)) {
            return Some(self.earlier[at].1 as usize);
        }
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        match self.batch.entry(key) {
            Entry::Occupied(e) => Some(*e.get() as usize),
            Entry::Vacant(v) => {
                v.insert(index);
                None
            }
        }
    }

    /// Ends a batch: its keys join the sorted list.
    pub fn end_batch(&mut self) {
        let mut batch: Vec<(K, u32)> = self.batch.drain().collect();
        batch.sort_unstable_by_key(|a| a.0);
        self.earlier.extend(batch);
        // Two sorted runs: the stable sort finds them and merges them in one pass.
        self.earlier.sort_by_key(|a| a.0);
    }
}

/// How many rows a batch-written import has; none is refused. The file was read whole when
/// it was taken (a CSV or XLSX file that cannot be read is refused then); a JSON row that is
/// not an object fails as its row when read.
pub fn count_rows(source: &crate::row_reader::Source) -> crate::error::Result<usize> {
    match source.len() {
        0 => Err(Error::invalid("rows", "the import has no rows")),
        rows => Ok(rows),
    }
}

/// Ends a batch-written import: the savepoint `work` holding its rows is kept, or undone when
/// all-or-nothing met a failed row, and the request's transaction `txn` (its audit event) is
/// committed either way. Whether the rows were kept.
pub async fn finish(
    txn: crate::db::Transaction,
    work: crate::db::Transaction,
    mode: Mode,
    results: &Results,
) -> crate::error::Result<bool> {
    let failed = results.iter().any(|r| matches!(r, Some(Err(_))));
    let keep = mode == Mode::RowByRow || !failed;
    if keep {
        work.commit().await?;
    } else {
        work.rollback().await?;
    }
    txn.commit().await?;
    Ok(keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mg1_a_repeated_key_names_the_earlier_row_across_batches() {
        let mut seen = Seen::with_capacity(6);
        assert_eq!(seen.insert((2, 'b'), 0), None);
        assert_eq!(seen.insert((1, 'a'), 1), None);
        assert_eq!(seen.insert((2, 'b'), 2), Some(0));
        seen.end_batch();
        assert_eq!(seen.insert((3, 'c'), 3), None);
        assert_eq!(seen.insert((1, 'a'), 4), Some(1));
        seen.end_batch();
        assert_eq!(seen.insert((3, 'c'), 5), Some(3));
        assert_eq!(seen.insert((2, 'b'), 6), Some(0));
        assert_eq!(seen.insert((0, 'z'), 7), None);
    }
}
