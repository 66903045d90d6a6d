//! S-9: bulk import. Every row is parsed and checked first against facts loaded once; then
//! the accepted rows are written with multi-row statements in one transaction. All-or-nothing
//! writes nothing when any row fails; row-by-row writes the rows that passed. Either way a
//! failed row changes nothing.

use crate::clock;
use crate::db::Db;
use crate::error::{Error, FieldError, Result};

use super::context;
use super::input::Row;
use super::plan::{Action, Planned, Planner, field_errors};
use super::store;

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

pub async fn run(db: &Db, action: Action, mode: Mode, rows: Vec<Result<Row>>) -> Result<Report> {
    if rows.is_empty() {
        return Err(Error::invalid("rows", "the import has no rows"));
    }
    let started = std::time::Instant::now();
    let txn = db.write().await?;
    let facts = context::load(&txn, rows.iter().filter_map(|r| r.as_ref().ok())).await?;
    let loaded = started.elapsed();
    let mut planner = Planner::new(facts);
    let mut plans: Vec<std::result::Result<Planned, RowError>> = Vec::with_capacity(rows.len());
    for row in rows {
        plans.push(
            row.and_then(|r| planner.plan(action, r))
                .map_err(|e| RowError::from(&e)),
        );
    }
    let planned = started.elapsed();
    let failed = plans.iter().filter(|p| p.is_err()).count();
    let write = failed == 0 || mode == Mode::RowByRow;
    let accepted: Vec<Planned> = if write {
        plans
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect()
    } else {
        Vec::new()
    };
    let ids = store::apply(&txn, &accepted, clock::now()).await?;
    let applied = started.elapsed();
    txn.commit().await?;
    tracing::debug!(
        rows = plans.len(),
        load = ?loaded,
        plan = ?(planned - loaded),
        write = ?(applied - planned),
        commit = ?(started.elapsed() - applied),
        "subscription import"
    );

    let mut ids = ids.into_iter();
    let mut reports = Vec::with_capacity(plans.len());
    for (i, plan) in plans.into_iter().enumerate() {
        let row = i + 1;
        let report = match plan {
            Err(error) => RowReport {
                row,
                outcome: Outcome::Failed,
                id: None,
                error: Some(error),
            },
            Ok(p) if !write => RowReport {
                row,
                outcome: Outcome::NotApplied,
                id: planned_id(&p),
                error: None,
            },
            Ok(p) => RowReport {
                row,
                outcome: outcome(&p),
                id: ids.next(),
                error: None,
            },
        };
        reports.push(report);
    }
    Ok(Report {
        action,
        mode,
        applied: reports
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Failed | Outcome::NotApplied))
            .count(),
        failed,
        rows: reports,
    })
}

fn planned_id(p: &Planned) -> Option<i64> {
    match p {
        Planned::Insert(_) => None,
        Planned::Update { id, .. } | Planned::Delete { id, .. } => Some(*id),
    }
}

fn outcome(p: &Planned) -> Outcome {
    match p {
        Planned::Insert(_) => Outcome::Inserted,
        Planned::Update { before, after, .. } if before == after => Outcome::Unchanged,
        Planned::Update { .. } => Outcome::Updated,
        Planned::Delete { .. } => Outcome::Deleted,
    }
}
