//! MG-4: the term ledger as one collection, in the columns the history import takes, so that
//! its export imports back; and the rewrite of imported terms an edited export changes.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use entity::contact as c;
use entity::contact_history as h;

use crate::error::Result;
use crate::history::{NewTerm, TERM};
use crate::page::{self, Page, PageRequest};
use crate::sql::{IN_CHUNK, Sql, in_ids};

/// Which terms a ledger page holds.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub contact_id: Option<i64>,
    pub imported: Option<bool>,
}

/// A term of the ledger with its contact's external reference.
#[derive(Debug, Clone)]
pub struct LedgerTerm {
    pub term: h::Model,
    pub contact_ref: Option<String>,
}

/// A page of terms, in the order they were recorded.
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &Filter,
    req: &PageRequest,
) -> Result<Page<LedgerTerm>> {
    let limit = req.limit()?;
    let mut q = h::Entity::find()
        .filter(h::Column::Kind.eq(TERM))
        .order_by_asc(h::Column::Id)
        .limit(limit + 1);
    if let Some(id) = filter.contact_id {
        q = q.filter(h::Column::ContactId.eq(id));
    }
    if let Some(imported) = filter.imported {
        q = q.filter(h::Column::Imported.eq(imported));
    }
    if let Some(after) = req.after_id()? {
        q = q.filter(h::Column::Id.gt(after));
    }
    let page = page::build(q.all(conn).await?, limit, |t| t.id.to_string());
    let refs = external_refs(conn, page.items.iter().map(|t| t.contact_id)).await?;
    Ok(page.map(|term| LedgerTerm {
        contact_ref: refs.get(&term.contact_id).cloned(),
        term,
    }))
}

async fn external_refs(
    conn: &impl ConnectionTrait,
    contacts: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    let mut ids: Vec<i64> = contacts.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<(i64, Option<String>)> = c::Entity::find()
            .select_only()
            .columns([c::Column::Id, c::Column::ExternalRef])
            .filter(in_ids(c::Column::Id, chunk))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(rows.into_iter().filter_map(|(id, x)| Some((id, x?))));
    }
    Ok(out)
}

/// The columns an edited term rewrites, with their PostgreSQL types.
const REWRITTEN: [(&str, &str); 6] = [
    ("id", "bigint"),
    ("term_begin", "date"),
    ("term_end", "date"),
    ("customer_type", "text"),
    ("product", "text"),
    ("amount_cents", "bigint"),
];

/// Gives each named term its new dates, type, product and amount, in multi-row statements.
pub async fn rewrite_terms(conn: &impl ConnectionTrait, terms: &[(i64, NewTerm)]) -> Result<()> {
    for chunk in terms.chunks(5_000) {
        let rows: Vec<Value> = chunk
            .iter()
            .map(|(id, t)| {
                json!([
                    id,
                    day(t.begin),
                    day(t.end),
                    t.customer_type,
                    t.product,
                    t.amount_cents
                ])
            })
            .collect();
        let mut q = Sql::new(conn.get_database_backend());
        q.push("UPDATE contact_history SET ");
        for (i, (col, _)) in REWRITTEN[1..].iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push(&format!("{col} = v.{col}"));
        }
        q.push(" FROM ");
        q.json_rows(&rows, &REWRITTEN)?;
        q.push(" AS v WHERE contact_history.id = v.id AND contact_history.imported");
        conn.execute_raw(q.build()).await?;
    }
    Ok(())
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}
