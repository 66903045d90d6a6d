//! MG-1, MG-2: contact import. The rows stay as the request brought them (`input`) and are
//! read in batches: for each batch the contacts it names or may match are loaded (`facts`),
//! each row is planned in two passes around one load of reference data (`plan`), and the
//! accepted rows are written with multi-row statements (`store`), all in one transaction.
//! Organizations that other rows of the file name (`company_ref`) are imported first, so
//! their people find them. All-or-nothing keeps nothing when any row fails; row-by-row keeps
//! the rows that passed; either way a failed row changes nothing. Memory holds one batch of
//! rows and the report, however long the file.

pub mod facts;
pub mod input;
pub mod plan;
pub mod store;

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::clock;
use crate::contacts::draft::Reference;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::import::{self, Action, Mode, PlannedRow, Report, Results, RowError, Summary};
use crate::row_batches::{self, Batch};
use crate::row_reader::Source;

use input::{ContactRow, Parsed};
use plan::{Drafted, Drafter};

/// Rows planned and written at a time.
pub const BATCH: usize = 2_500;

/// A contact import's report, with the columns read but set by the server.
#[derive(Debug)]
pub struct ContactReport {
    pub report: Report,
    pub ignored_columns: Vec<String>,
}

pub async fn run(db: &Db, action: Action, mode: Mode, parsed: Parsed) -> Result<ContactReport> {
    if action == Action::Delete {
        return Err(Error::invalid(
            "action",
            "contacts are not deleted by import: use insert, insert_with_matching, update or upsert",
        ));
    }
    let Parsed {
        source,
        ignored_columns,
    } = parsed;
    let first = first_look(&source)?;
    let txn = db.write().await?;
    // The rows go in a savepoint: all-or-nothing undoes them and still keeps the request's
    // audit event, written when the transaction began.
    let work = crate::db::savepoint(&txn).await?;
    let mut drafter = Drafter::new(action);
    let mut results: Results = vec![None; first.rows];
    let source = Arc::new(source);
    let named = Arc::new(first.named);
    // Organizations other rows name first, then every other row.
    let passes = if named.is_empty() {
        vec![false]
    } else {
        vec![true, false]
    };
    for organizations in passes {
        let named = named.clone();
        let take = move |i: usize| named.contains(&i) == organizations;
        let mut rows = row_batches::read_ahead(source.clone(), BATCH, take, input::parse_row);
        while let Some(batch) = rows.next().await? {
            write_batch(&work, action, &mut drafter, batch, &mut results).await?;
        }
    }
    let keep = crate::import::finish(txn, work, mode, &results).await?;
    Ok(ContactReport {
        report: import::batch_report(action, mode, results, keep),
        ignored_columns,
    })
}

/// A first look at every row, before anything is written: the whole file is readable, how
/// many rows it has, and which rows are organizations that other rows name.
struct FirstLook {
    rows: usize,
    named: HashSet<usize>,
}

fn first_look(source: &Source) -> Result<FirstLook> {
    let rows = import::count_rows(source)?;
    if !source.may_have("company_ref") {
        return Ok(FirstLook {
            rows,
            named: HashSet::new(),
        });
    }
    let text = |row: &Map<String, Value>, key: &str| match row.get(key) {
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let refs: HashSet<String> = source
        .rows()
        .flatten()
        .filter_map(|row| text(&row, "company_ref"))
        .collect();
    let mut named = HashSet::new();
    if !refs.is_empty() {
        for (i, row) in source.rows().enumerate() {
            if let Ok(row) = row
                && text(&row, "external_ref").is_some_and(|x| refs.contains(&x))
            {
                named.insert(i);
            }
        }
    }
    Ok(FirstLook { rows, named })
}

/// Plans and writes one batch; records each row's result.
async fn write_batch(
    txn: &sea_orm::DatabaseTransaction,
    action: Action,
    drafter: &mut Drafter,
    batch: Batch<ContactRow>,
    results: &mut Results,
) -> Result<()> {
    let rows = batch.iter().filter_map(|(_, r)| r.as_ref().ok());
    let facts = facts::load(txn, action, rows).await?;
    let drafted: Vec<(usize, std::result::Result<Drafted, RowError>)> = batch
        .into_iter()
        .map(|(i, row)| {
            let d = row.and_then(|r| drafter.draft(i, r, &facts));
            (i, d.map_err(|e| RowError::from(&e)))
        })
        .collect();
    let drafts = drafted
        .iter()
        .filter_map(|(_, d)| d.as_ref().ok())
        .flat_map(Drafted::drafts);
    let reference = Reference::load(txn, drafts).await?;
    let mut accepted: Vec<store::Accepted> = Vec::new();
    for (i, d) in drafted {
        let planned =
            d.and_then(|d| plan::check(d, &reference, &facts).map_err(|e| RowError::from(&e)));
        match planned {
            Ok(p) => {
                results[i] = Some(Ok(Summary {
                    outcome: p.outcome(),
                    existing: p.existing_id(),
                    matched_by: p.matched_by(),
                    id: None,
                }));
                accepted.push((i, p));
            }
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    let ids = store::apply(txn, &accepted, &facts.flow_down, clock::now()).await?;
    for ((i, _), id) in accepted.iter().zip(ids) {
        if let Some(Ok(s)) = &mut results[*i] {
            s.id = Some(id);
        }
    }
    Ok(())
}
