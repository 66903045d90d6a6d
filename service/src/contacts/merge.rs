//! MG-2: merging one contact into another. In one transaction every row that references the
//! merged contact moves to the survivor (subscriptions, invoices, payments' credit, history,
//! logins, links, tags, committee service, ...), the survivor keeps the earlier join date and
//! its paid-through is recomputed (C-7), and the merged contact's row stays behind pointing at
//! the survivor, so that its id answers 404 naming where it went and is never reused (C-1).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, Statement};
use serde_json::json;

use crate::contacts::draft::{Draft, Reference};
use crate::contacts::{self, ContactView};
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::flow_down::FlowDown;
use crate::sql::Sql;
use crate::{clock, db::Db, history, paid_through};

use entity::contact as c;

/// How a merge moves the rows of one referencing column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Point the rows at the survivor.
    Repoint,
    /// A row keyed by (contact, `key`): the survivor keeps its rows and gains the others.
    Union { key: &'static str },
    /// One row per contact: refused when both contacts have one.
    OnePerContact,
    /// One balance per contact: the merged contact's is added to the survivor's.
    SumBalance,
    /// One row per (contact, `key`) that a merge cannot combine: refused when both have one.
    UniquePer { key: &'static str },
}

/// Every column that references a contact, and how a merge moves it. A test reads the
/// schema's foreign keys to `contacts` and fails when one is missing here.
pub const REFERENCES: &[(&str, &str, Move)] = &[
    ("contacts", "company_id", Move::Repoint),
    ("contact_tags", "contact_id", Move::Union { key: "tag" }),
    ("contact_history", "contact_id", Move::Repoint),
    ("users", "contact_id", Move::Repoint),
    (
        "pricing_group_members",
        "contact_id",
        Move::Union { key: "group_code" },
    ),
    (
        "subscriptions",
        "contact_id",
        Move::UniquePer { key: "product" },
    ),
    ("subscriptions", "bill_to_id", Move::Repoint),
    ("invoices", "contact_id", Move::Repoint),
    ("invoices", "bill_to_id", Move::Repoint),
    (
        "renewal_run_skips",
        "contact_id",
        Move::Union { key: "run_id" },
    ),
    ("committee_members", "contact_id", Move::Repoint),
    ("credit_notes", "contact_id", Move::Repoint),
    ("credit_balances", "contact_id", Move::SumBalance),
    ("credit_movements", "contact_id", Move::Repoint),
    ("payment_customers", "contact_id", Move::OnePerContact),
    ("saved_payment_methods", "contact_id", Move::Repoint),
    ("charge_attempts", "payer_id", Move::Repoint),
    ("notices", "contact_id", Move::Repoint),
];

/// Merges contact `id` into `into`; returns the survivor as it is after the merge.
pub async fn merge(db: &Db, id: i64, into: i64) -> Result<ContactView> {
    let txn = db.write().await?;
    let (merged, survivor) = load_pair(&txn, id, into).await?;
    let kinds = Kinds::load(&txn, &merged, &survivor).await?;
    check_conflicts(&txn, id, into).await?;
    let now = clock::now();
    for (table, column, how) in REFERENCES {
        move_rows(&txn, table, column, *how, id, into, now).await?;
    }
    retire(&txn, &merged, into, now).await?;
    let survivor = keep(&txn, &merged, survivor, kinds.takes_membership, now).await?;
    paid_through::sync(&txn, &[into], now).await?;
    follow_survivor(&txn, &survivor, now).await?;
    emit(&txn, id, into).await?;
    let view = contacts::get(&txn, crate::access::Actor::Staff, into).await?;
    txn.commit().await?;
    Ok(view)
}

/// The contact to merge and the survivor; a contact is never merged into itself or into a
/// contact that was itself merged.
async fn load_pair(
    conn: &impl ConnectionTrait,
    id: i64,
    into: i64,
) -> Result<(c::Model, c::Model)> {
    if id == into {
        return Err(Error::invalid(
            "into",
            "a contact cannot be merged into itself",
        ));
    }
    let merged = contacts::require(conn, id).await?;
    let survivor = match contacts::require(conn, into).await {
        Ok(s) => s,
        Err(Error::Merged { into: next, .. }) => {
            return Err(Error::invalid(
                "into",
                format!("contact {into} was merged into contact {next}; merge into {next}"),
            ));
        }
        Err(Error::NotFound { .. }) => {
            return Err(Error::invalid(
                "into",
                format!("contact {into} does not exist"),
            ));
        }
        Err(e) => return Err(e),
    };
    Ok((merged, survivor))
}

/// What the two contacts' customer types say about the merge.
struct Kinds {
    /// The merged contact is a member and the survivor is not: the survivor takes the
    /// membership's classification with its subscriptions.
    takes_membership: bool,
}

impl Kinds {
    /// A person merges into a person, an organization into an organization.
    async fn load(
        conn: &impl ConnectionTrait,
        merged: &c::Model,
        survivor: &c::Model,
    ) -> Result<Kinds> {
        let drafts = [Draft::of(merged), Draft::of(survivor)];
        let reference = Reference::load(conn, drafts.iter()).await?;
        let ty = |m: &c::Model| reference.customer_type(&m.customer_type);
        let flag = |m: &c::Model, f: fn(&crate::customer_types::CustomerType) -> bool| {
            ty(m).is_some_and(f)
        };
        if flag(merged, |t| t.is_organization) != flag(survivor, |t| t.is_organization) {
            return Err(Error::invalid(
                "into",
                format!(
                    "contact {} and contact {} are not the same kind of record (person vs organization)",
                    merged.id, survivor.id
                ),
            ));
        }
        Ok(Kinds {
            takes_membership: flag(merged, |t| t.is_member) && !flag(survivor, |t| t.is_member),
        })
    }
}

/// What a merge cannot combine is refused, naming it, before anything is written.
async fn check_conflicts(conn: &impl ConnectionTrait, id: i64, into: i64) -> Result<()> {
    let mut problems = Vec::new();
    for (table, column, how) in REFERENCES {
        let both = match how {
            Move::OnePerContact => {
                shared(conn, &format!("SELECT '' FROM {table} a JOIN {table} b ON a.{column} = {{}} AND b.{column} = {{}}"), id, into).await?
            }
            Move::UniquePer { key } => {
                shared(conn, &format!("SELECT a.{key} FROM {table} a JOIN {table} b ON a.{key} = b.{key} AND a.{column} = {{}} AND b.{column} = {{}}"), id, into).await?
            }
            _ => Vec::new(),
        };
        if both.is_empty() {
            continue;
        }
        problems.push(match how {
            Move::UniquePer { .. } => format!(
                "both contacts have a subscription to {}; delete or cancel one of each first",
                both.join(", ")
            ),
            _ => format!("both contacts have a record in {table}; remove one first"),
        });
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::conflict(problems.join("; ")))
    }
}

/// The first column of the rows `sql` (with two `{}` for the contacts) finds, as text.
async fn shared(conn: &impl ConnectionTrait, sql: &str, id: i64, into: i64) -> Result<Vec<String>> {
    let stmt = statement(conn, sql, &[id, into]);
    let mut out = Vec::new();
    for row in conn.query_all_raw(stmt).await? {
        out.push(row.try_get_by_index::<String>(0).unwrap_or_default());
    }
    Ok(out)
}

/// `sql` with each `{}` bound to the next of `ids`.
fn statement(conn: &impl ConnectionTrait, sql: &str, ids: &[i64]) -> Statement {
    let mut q = Sql::new(conn.get_database_backend());
    let mut parts = sql.split("{}");
    if let Some(first) = parts.next() {
        q.push(first);
    }
    for (part, id) in parts.zip(ids) {
        q.bind(*id).push(part);
    }
    q.build()
}

async fn run(conn: &impl ConnectionTrait, sql: &str, ids: &[i64]) -> Result<()> {
    conn.execute_raw(statement(conn, sql, ids)).await?;
    Ok(())
}

async fn move_rows(
    conn: &impl ConnectionTrait,
    table: &str,
    column: &str,
    how: Move,
    id: i64,
    into: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let repoint = format!("UPDATE {table} SET {column} = {{}} WHERE {column} = {{}}");
    if table == "contacts" {
        // Persons linked to the merged organization: their record changes, so its version.
        let mut q = Sql::new(conn.get_database_backend());
        q.push(&format!("UPDATE contacts SET {column} = "))
            .bind(into)
            .push(", version = version + 1, updated_at = ")
            .bind(now)
            .push(&format!(" WHERE {column} = "))
            .bind(id);
        conn.execute_raw(q.build()).await?;
        return Ok(());
    }
    match how {
        Move::Repoint | Move::OnePerContact | Move::UniquePer { .. } => {
            run(conn, &repoint, &[into, id]).await
        }
        Move::Union { key } => {
            run(
                conn,
                &format!(
                    "DELETE FROM {table} WHERE {column} = {{}} AND {key} IN \
                     (SELECT {key} FROM {table} WHERE {column} = {{}})"
                ),
                &[id, into],
            )
            .await?;
            run(conn, &repoint, &[into, id]).await
        }
        Move::SumBalance => {
            let mut add = Sql::new(conn.get_database_backend());
            add.push(&format!(
                "UPDATE {table} SET balance_cents = balance_cents + \
                 (SELECT m.balance_cents FROM {table} m WHERE m.{column} = "
            ))
            .bind(id)
            .push("), updated_at = ")
            .bind(now)
            .push(&format!(" WHERE {column} = "))
            .bind(into)
            .push(&format!(
                " AND EXISTS (SELECT 1 FROM {table} m WHERE m.{column} = "
            ))
            .bind(id)
            .push(")");
            let added = conn.execute_raw(add.build()).await?.rows_affected();
            if added > 0 {
                run(
                    conn,
                    &format!("DELETE FROM {table} WHERE {column} = {{}}"),
                    &[id],
                )
                .await
            } else {
                run(conn, &repoint, &[into, id]).await
            }
        }
    }
}

/// The merged contact stays as a pointer to the survivor, as do contacts merged into it
/// before; its external reference is freed for the survivor.
async fn retire(
    conn: &impl ConnectionTrait,
    merged: &c::Model,
    into: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut q = Sql::new(conn.get_database_backend());
    q.push("UPDATE contacts SET merged_into = ")
        .bind(into)
        .push(", external_ref = NULL, version = version + 1, updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(merged.id)
        .push(" OR merged_into = ")
        .bind(merged.id);
    conn.execute_raw(q.build()).await?;
    Ok(())
}

/// The survivor keeps the earlier join date, takes the merged contact's external reference
/// when it has none (so that later imports from the old system still find it), and, when it
/// takes a membership, the member's classification (recorded in its history, L-6).
async fn keep(
    conn: &impl ConnectionTrait,
    merged: &c::Model,
    survivor: c::Model,
    takes_membership: bool,
    now: DateTime<Utc>,
) -> Result<c::Model> {
    let mut am: c::ActiveModel = survivor.clone().into();
    let join_date = match (survivor.join_date, merged.join_date) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    am.join_date = Set(join_date);
    am.external_ref = Set(survivor
        .external_ref
        .clone()
        .or(merged.external_ref.clone()));
    if takes_membership {
        am.customer_type = Set(merged.customer_type.clone());
        am.billing_category = Set(merged.billing_category.clone());
        am.renew_months = Set(survivor.renew_months.or(merged.renew_months));
        am.primary_chapter = Set(survivor
            .primary_chapter
            .clone()
            .or(merged.primary_chapter.clone()));
        history::record_change(
            conn,
            survivor.id,
            history::TYPE_CHANGE,
            &survivor.customer_type,
            &merged.customer_type,
            now,
        )
        .await?;
    }
    am.version = Set(survivor.version + 1);
    am.updated_at = Set(now);
    Ok(am.update(conn).await?)
}

/// CT-6: persons that followed the merged organization now follow the survivor's type (which
/// may itself have come from the merged organization's membership).
async fn follow_survivor(
    conn: &impl ConnectionTrait,
    survivor: &c::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    let fd = FlowDown::load(conn).await?;
    if fd.is_organization_type(&survivor.customer_type) {
        fd.apply_to_linked(conn, survivor.id, &survivor.customer_type, now)
            .await?;
    }
    Ok(())
}

async fn emit(conn: &impl ConnectionTrait, id: i64, into: i64) -> Result<()> {
    events::emit(
        conn,
        vec![
            Event::contact(events::CONTACT_DELETED, id, json!({ "merged_into": into })),
            Event::contact(events::CONTACT_UPDATED, into, json!({ "merged": id })),
        ],
    )
    .await
}
