//! What every import shares (S-9, MG-1, MG-3, MG-4): its actions and modes, and the per-row
//! report. Each row is planned first; all-or-nothing writes nothing when any row fails,
//! row-by-row writes the rows that passed. Either way a failed row changes nothing.

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

#[derive(Debug, Clone)]
pub struct RowError {
    pub code: &'static str,
    pub message: String,
    pub errors: Vec<FieldError>,
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
        RowError {
            code: e.code(),
            message: e.to_string(),
            errors: field_errors(e),
        }
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

#[derive(Debug, Clone)]
pub struct Report {
    pub action: Action,
    pub mode: Mode,
    pub applied: usize,
    pub failed: usize,
    pub rows: Vec<RowReport>,
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

/// Whether the accepted rows are written: all-or-nothing writes only when no row failed.
pub fn writes<P>(mode: Mode, plans: &[Result<P, RowError>]) -> bool {
    mode == Mode::RowByRow || plans.iter().all(Result::is_ok)
}

/// The report of `plans`; `ids` holds the written id of each accepted row, in order.
pub fn report<P: PlannedRow>(
    action: Action,
    mode: Mode,
    plans: Vec<Result<P, RowError>>,
    ids: Vec<i64>,
) -> Report {
    let write = writes(mode, &plans);
    let failed = plans.iter().filter(|p| p.is_err()).count();
    let mut ids = ids.into_iter();
    let rows: Vec<RowReport> = plans
        .into_iter()
        .enumerate()
        .map(|(i, plan)| {
            let row = i + 1;
            match plan {
                Err(error) => RowReport {
                    row,
                    outcome: Outcome::Failed,
                    id: None,
                    matched_by: None,
                    error: Some(error),
                },
                Ok(p) => RowReport {
                    row,
                    outcome: if write {
                        p.outcome()
                    } else {
                        Outcome::NotApplied
                    },
                    id: if write { ids.next() } else { p.existing_id() },
                    matched_by: p.matched_by(),
                    error: None,
                },
            }
        })
        .collect();
    Report {
        action,
        mode,
        applied: rows
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Failed | Outcome::NotApplied))
            .count(),
        failed,
        rows,
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
    let rows: Vec<RowReport> = results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let row = i + 1;
            match r {
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
        })
        .collect();
    Report {
        action,
        mode,
        applied: rows
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Failed | Outcome::NotApplied))
            .count(),
        failed: rows.iter().filter(|r| r.outcome == Outcome::Failed).count(),
        rows,
    }
}

/// A batch-written import's first look at every row: the whole file is readable (a CSV or
/// XLSX file that is not is refused whole; a JSON row that is not an object fails as its
/// row), and how many rows it has.
pub fn count_rows(source: &crate::row_reader::Source) -> crate::error::Result<usize> {
    let json = matches!(source, crate::row_reader::Source::Json(_));
    let mut rows = 0;
    for row in source.rows() {
        rows += 1;
        if let Err(e) = row
            && !json
        {
            return Err(e);
        }
    }
    if rows == 0 {
        return Err(Error::invalid("rows", "the import has no rows"));
    }
    Ok(rows)
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
