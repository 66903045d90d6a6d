//! S-9: bulk import. Every row is parsed and checked first against facts loaded once; then
//! the accepted rows are written with multi-row statements in one transaction. All-or-nothing
//! writes nothing when any row fails; row-by-row writes the rows that passed. Either way a
//! failed row changes nothing.

use crate::clock;
use crate::db::Db;
use std::collections::HashSet;
use std::sync::Arc;

use crate::error::Result;
pub use crate::import::{Mode, Outcome, PlannedRow, Report, Results, RowError, RowReport, Summary};
use crate::row_batches::{self, Batch};
use crate::row_reader::Source;

use super::context;
use super::input::{self, Row};
use super::plan::{Action, Planned, Planner};
use super::store;

/// Rows planned and written at a time.
pub const BATCH: usize = 5_000;

pub async fn run(db: &Db, action: Action, mode: Mode, source: Source) -> Result<Report> {
    let count = crate::import::count_rows(&source)?;
    let started = std::time::Instant::now();
    let txn = db.write().await?;
    // The rows go in a savepoint: all-or-nothing undoes them and still keeps the request's
    // audit event, written when the transaction began.
    let work = crate::db::savepoint(&txn).await?;
    let mut seen = HashSet::new();
    let mut results: Results = vec![None; count];
    let mut rows = row_batches::read_ahead(
        Arc::new(source),
        BATCH,
        |_| true,
        |r| input::parse_import_row(&r),
    );
    while let Some(batch) = rows.next().await? {
        seen = write_batch(&work, action, seen, batch, &mut results).await?;
    }
    let keep = crate::import::finish(txn, work, mode, &results).await?;
    tracing::debug!(rows = count, took = ?started.elapsed(), "subscription import");
    Ok(crate::import::batch_report(action, mode, results, keep))
}

/// Plans a batch against the facts its rows need (earlier batches' writes included) and
/// writes the rows that pass; returns the keys used so far.
async fn write_batch(
    txn: &sea_orm::DatabaseTransaction,
    action: Action,
    seen: HashSet<(i64, String)>,
    batch: Batch<Row>,
    results: &mut Results,
) -> Result<HashSet<(i64, String)>> {
    let facts = context::load(txn, batch.iter().filter_map(|(_, r)| r.as_ref().ok())).await?;
    let mut planner = Planner::continuing(facts, seen);
    let (mut rows, mut accepted): (Vec<usize>, Vec<Planned>) = (Vec::new(), Vec::new());
    for (i, row) in batch {
        match row.and_then(|r| planner.plan(action, r)) {
            Ok(p) => {
                results[i] = Some(Ok(Summary {
                    outcome: p.outcome(),
                    existing: p.existing_id(),
                    matched_by: None,
                    id: None,
                }));
                rows.push(i);
                accepted.push(p);
            }
            Err(e) => results[i] = Some(Err(RowError::from(&e))),
        }
    }
    let ids = store::apply(txn, &accepted, clock::now()).await?;
    for (i, id) in rows.iter().zip(ids) {
        if let Some(Ok(s)) = &mut results[*i] {
            s.id = Some(id);
        }
    }
    Ok(planner.into_seen())
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
