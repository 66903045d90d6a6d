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
