//! S-9: bulk import. Every row is parsed and checked first against facts loaded once; then
//! the accepted rows are written with multi-row statements in one transaction. All-or-nothing
//! writes nothing when any row fails; row-by-row writes the rows that passed. Either way a
//! failed row changes nothing.

use crate::clock;
use crate::db::Db;
use crate::error::{Error, Result};
pub use crate::import::{Mode, Outcome, PlannedRow, Report, RowError, RowReport};

use super::context;
use super::input::Row;
use super::plan::{Action, Planned, Planner};
use super::store;

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
    let accepted: Vec<Planned> = if crate::import::writes(mode, &plans) {
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
    Ok(crate::import::report(action, mode, plans, ids))
}

impl PlannedRow for Planned {
    fn outcome(&self) -> Outcome {
        match self {
            Planned::Insert(_) => Outcome::Inserted,
            Planned::Update { before, after, .. } if before == after => Outcome::Unchanged,
            Planned::Update { .. } => Outcome::Updated,
            Planned::Delete { .. } => Outcome::Deleted,
        }
    }

    fn existing_id(&self) -> Option<i64> {
        match self {
            Planned::Insert(_) => None,
            Planned::Update { id, .. } | Planned::Delete { id, .. } => Some(*id),
        }
    }
}
