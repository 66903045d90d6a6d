//! MG-1, MG-2: contact import. Rows are read (`input`), the contacts they name or match are
//! loaded once (`facts`), each row is planned in two passes around one load of reference
//! data (`plan`), and the accepted rows are written with multi-row statements in one
//! transaction (`store`). All-or-nothing writes nothing when any row fails; row-by-row writes
//! the rows that passed; either way a failed row changes nothing.

pub mod facts;
pub mod input;
pub mod plan;
pub mod store;

use crate::clock;
use crate::contacts::draft::Reference;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::import::{self, Action, Mode, Report, RowError};

use input::Parsed;
use plan::{Drafted, Drafter, Planned};

/// A contact import's report, with the columns read but set by the server.
#[derive(Debug, Clone)]
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
        rows,
        ignored_columns,
    } = parsed;
    if rows.is_empty() {
        return Err(Error::invalid("rows", "the import has no rows"));
    }
    let txn = db.write().await?;
    let facts = facts::load(&txn, action, rows.iter().filter_map(|r| r.as_ref().ok())).await?;
    let drafted = draft_rows(action, &facts, rows);
    let reference =
        Reference::load(&txn, drafted.iter().flatten().flat_map(Drafted::drafts)).await?;
    let plans = plan_rows(&drafted, &reference, &facts);
    let accepted: Vec<store::Accepted> = if import::writes(mode, &plans) {
        plans
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().ok().map(|p| (i, p.clone())))
            .collect()
    } else {
        Vec::new()
    };
    let ids = store::apply(&txn, &accepted, &facts.flow_down, clock::now()).await?;
    txn.commit().await?;
    Ok(ContactReport {
        report: import::report(action, mode, plans, ids),
        ignored_columns,
    })
}

/// The first pass over every row.
fn draft_rows(
    action: Action,
    facts: &facts::Facts,
    rows: Vec<Result<input::ContactRow>>,
) -> Vec<std::result::Result<Drafted, RowError>> {
    let mut drafter = Drafter::new(action, facts, &rows);
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            row.and_then(|r| drafter.draft(i, r))
                .map_err(|e| RowError::from(&e))
        })
        .collect()
}

/// The second pass; a row linked to an organization whose own row failed fails too.
fn plan_rows(
    drafted: &[std::result::Result<Drafted, RowError>],
    reference: &Reference,
    facts: &facts::Facts,
) -> Vec<std::result::Result<Planned, RowError>> {
    let mut plans: Vec<std::result::Result<Planned, RowError>> = drafted
        .iter()
        .map(|d| match d {
            Err(e) => Err(e.clone()),
            Ok(d) => plan::check(drafted, d, reference, facts).map_err(|e| RowError::from(&e)),
        })
        .collect();
    let failed: Vec<bool> = plans.iter().map(|p| p.is_err()).collect();
    for p in plans.iter_mut() {
        if let Ok(planned) = p
            && let Some(org) = planned.company_row()
            && failed[org]
        {
            *p = Err(RowError::from(&Error::invalid(
                "company_ref",
                format!("the organization's row {} failed", org + 1),
            )));
        }
    }
    plans
}
