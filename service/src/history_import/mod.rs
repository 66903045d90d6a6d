//! MG-3: history import. Past terms brought from another system (contact, begin, end,
//! customer type, product, amount) enter the term ledger (L-6) marked imported, so that
//! previous members (L-2), gaps and counts at a date work on migrated data. A term
//! already in the ledger (same contact, dates and product) is reported unchanged, so a
//! migration can be run again. MG-4: the ledger's export (`ledger`) imports back; a row naming
//! a term by `id` is unchanged as exported, and an edited imported term takes its new values.
//! Rows are read like every import's (CSV, XLSX, JSON, column mapping), checked against
//! facts loaded per batch, and written in multi-row statements.

pub mod input;
pub mod ledger;
mod plan;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::history::{self, NewTerm};
use crate::import::{self, Action, Mode, Outcome, Report, Results, RowError, Seen, Summary};
use crate::row_batches::{self, Batch};
use crate::row_reader::Source;
use crate::{clock, db::Db};

pub use input::{COLUMNS, HistoryRow, parse_csv, parse_json_rows, parse_xlsx};
use plan::{Known, RowKey};

/// Rows planned and written at a time.
pub const BATCH: usize = 5_000;

pub async fn run(db: &Db, action: Action, mode: Mode, source: Source) -> Result<Report> {
    if !matches!(action, Action::Insert | Action::Update | Action::Upsert) {
        return Err(Error::invalid(
            "action",
            "history is imported with insert (a term already recorded is left unchanged), \
             update or upsert (a term named by id takes the row's values)",
        ));
    }
    let count = import::count_rows(&source)?;
    let txn = db.write().await?;
    // The rows go in a savepoint: all-or-nothing undoes them and still keeps the request's
    // audit event, written when the transaction began.
    let work = crate::db::savepoint(&txn).await?;
    let known = Known::load(&work).await?;
    let mut batches = Batches {
        action,
        known,
        seen: Seen::with_capacity(count),
        results: vec![None; count],
    };
    let mut rows =
        row_batches::read_ahead(Arc::new(source), BATCH, |_| true, |r| input::parse_row(&r));
    while let Some(batch) = rows.next().await? {
        batches.write(&work, batch).await?;
    }
    let keep = crate::import::finish(txn, work, mode, &batches.results).await?;
    Ok(import::batch_report(action, mode, batches.results, keep))
}

/// What carries from batch to batch: the codes rows may name, the terms seen so far (a term
/// repeated in the file fails), and each row's result.
struct Batches {
    action: Action,
    known: Known,
    seen: Seen<RowKey>,
    results: Results,
}

impl Batches {
    /// Plans a batch against the contacts and terms it names; records its new terms and
    /// writes its changed ones.
    async fn write(
        &mut self,
        txn: &sea_orm::DatabaseTransaction,
        batch: Batch<HistoryRow>,
    ) -> Result<()> {
        let facts = plan::load(txn, batch.iter().filter_map(|(_, r)| r.as_ref().ok())).await?;
        let mut new: Vec<(usize, NewTerm)> = Vec::new();
        let mut changed: Vec<(i64, NewTerm)> = Vec::new();
        for (i, row) in batch {
            let planned = row
                .and_then(|r| plan::plan(self.action, &self.known, &facts, &mut self.seen, i, r));
            self.results[i] = Some(match planned {
                Ok(p) => {
                    match (p.outcome, p.existing) {
                        (Outcome::Inserted, _) => new.push((i, p.term)),
                        (Outcome::Updated, Some(id)) => changed.push((id, p.term)),
                        _ => {}
                    }
                    Ok(Summary {
                        outcome: p.outcome,
                        existing: p.existing,
                        matched_by: None,
                        id: p.existing,
                    })
                }
                Err(e) => Err(RowError::from(&e)),
            });
        }
        let terms: Vec<NewTerm> = new.iter().map(|(_, t)| t.clone()).collect();
        let ids = history::record_terms(txn, &terms, clock::now()).await?;
        for ((i, _), id) in new.iter().zip(ids) {
            if let Some(Ok(s)) = &mut self.results[*i] {
                s.id = Some(id);
            }
        }
        self.seen.end_batch();
        ledger::rewrite_terms(txn, &changed).await
    }
}
