//! CS-4: purge the contacts whose status is "marked for deletion" (code beginning with `D`).
//! A contact with any invoice, subscription or dues history is never hard-deleted: it is kept
//! and reported with the reason, so nothing financial is ever lost.

use std::collections::{BTreeMap, HashSet};

use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use entity::committee_member as cm;
use entity::contact as c;
use entity::contact_history as h;
use entity::contact_status as cs;
use entity::contact_tag as tag;
use entity::invoice as i;
use entity::pricing_group_member as pgm;
use entity::renewal_run_skip as skip;
use entity::subscription as s;
use entity::user as u;

use crate::audit::{self, Who};
use crate::contact_statuses::{self, StatusKind};
use crate::error::Result;
use crate::events::{self, Event};
use crate::{clock, db::Db, history, sql, users};

pub const AUDIT_ACTION: &str = "contacts.purge";

#[derive(Debug, Clone)]
pub struct PurgeResult {
    pub dry_run: bool,
    pub purged: Vec<i64>,
    /// `(contact id, reason)`.
    pub kept: Vec<(i64, String)>,
}

pub async fn run(db: &Db, dry_run: bool, who: &Who) -> Result<PurgeResult> {
    if dry_run {
        return plan(&db.conn, dry_run).await;
    }
    let txn = db.write().await?;
    let result = plan(&txn, dry_run).await?;
    for chunk in result.purged.chunks(sql::rows_per_statement(1)) {
        tag::Entity::delete_many()
            .filter(sql::in_ids(tag::Column::ContactId, chunk))
            .exec(&txn)
            .await?;
        h::Entity::delete_many()
            .filter(sql::in_ids(h::Column::ContactId, chunk))
            .exec(&txn)
            .await?;
        pgm::Entity::delete_many()
            .filter(sql::in_ids(pgm::Column::ContactId, chunk))
            .exec(&txn)
            .await?;
        skip::Entity::delete_many()
            .filter(sql::in_ids(skip::Column::ContactId, chunk))
            .exec(&txn)
            .await?;
        cm::Entity::delete_many()
            .filter(sql::in_ids(cm::Column::ContactId, chunk))
            .exec(&txn)
            .await?;
        u::Entity::delete_many()
            .filter(sql::in_ids(u::Column::ContactId, chunk))
            .exec(&txn)
            .await?;
        // Links among purged contacts go first, so that no chunk deletes an organization that
        // a not-yet-deleted person still points to.
        c::Entity::update_many()
            .col_expr(c::Column::CompanyId, Expr::value(Option::<i64>::None))
            .filter(sql::in_ids(c::Column::Id, chunk))
            .exec(&txn)
            .await?;
    }
    for chunk in result.purged.chunks(sql::rows_per_statement(1)) {
        c::Entity::delete_many()
            .filter(sql::in_ids(c::Column::Id, chunk))
            .exec(&txn)
            .await?;
    }
    let deleted = result
        .purged
        .iter()
        .map(|id| Event::contact(events::CONTACT_DELETED, *id, json!({"via": "purge"})));
    events::emit(&txn, deleted).await?;
    audit::record(
        &txn,
        who,
        AUDIT_ACTION,
        "contacts",
        json!({
            "purged": result.purged,
            "kept": result.kept.iter().map(|(id, r)| json!({"contact_id": id, "reason": r})).collect::<Vec<_>>(),
        }),
        clock::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(result)
}

/// The ids of the contacts marked for deletion, as a subquery.
fn marked(codes: &[String]) -> SelectStatement {
    Query::select()
        .column(c::Column::Id)
        .from(c::Entity)
        .and_where(Expr::col(c::Column::Status).is_in(codes.iter().cloned()))
        .to_owned()
}

/// Marked contacts referenced by `column` of a table (one query per reference).
async fn referenced<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    column: E::Column,
    codes: &[String],
    extra: Option<sea_orm::Condition>,
) -> Result<HashSet<i64>> {
    let mut q = E::find()
        .select_only()
        .column(column)
        .distinct()
        .filter(column.in_subquery(marked(codes)));
    if let Some(cond) = extra {
        q = q.filter(cond);
    }
    let ids: Vec<i64> = q.into_tuple().all(conn).await?;
    Ok(ids.into_iter().collect())
}

/// The contacts marked for deletion, each purged or kept with the reasons it stays.
async fn plan(conn: &impl ConnectionTrait, dry_run: bool) -> Result<PurgeResult> {
    let codes = marked_codes(conn).await?;
    if codes.is_empty() {
        return Ok(PurgeResult {
            dry_run,
            purged: Vec::new(),
            kept: Vec::new(),
        });
    }
    let candidates: Vec<i64> = c::Entity::find()
        .select_only()
        .column(c::Column::Id)
        .filter(c::Column::Status.is_in(codes.clone()))
        .order_by_asc(c::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let mut reasons = Reasons::default();
    reasons.referenced(conn, &codes).await?;
    reasons
        .linked_organizations(conn, &codes, &candidates)
        .await?;
    let (purged, kept) = reasons.split(candidates);
    Ok(PurgeResult {
        dry_run,
        purged,
        kept,
    })
}

/// The contact status codes that mark a contact for deletion.
async fn marked_codes(conn: &impl ConnectionTrait) -> Result<Vec<String>> {
    Ok(cs::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.code)
        .filter(|code| contact_statuses::kind(code) == Some(StatusKind::MarkedForDeletion))
        .collect())
}

/// Why each marked contact stays, in the order found.
#[derive(Default)]
struct Reasons(BTreeMap<i64, Vec<&'static str>>);

impl Reasons {
    fn mark(&mut self, ids: HashSet<i64>, reason: &'static str) {
        for id in ids {
            self.0.entry(id).or_default().push(reason);
        }
    }

    /// Contacts with invoices, subscriptions, dues history or a staff login stay.
    async fn referenced(&mut self, conn: &impl ConnectionTrait, codes: &[String]) -> Result<()> {
        let mut invoiced = referenced::<i::Entity>(conn, i::Column::ContactId, codes, None).await?;
        invoiced.extend(referenced::<i::Entity>(conn, i::Column::BillToId, codes, None).await?);
        self.mark(invoiced, "has invoices");
        let mut subscribed =
            referenced::<s::Entity>(conn, s::Column::ContactId, codes, None).await?;
        subscribed.extend(referenced::<s::Entity>(conn, s::Column::BillToId, codes, None).await?);
        self.mark(subscribed, "has subscriptions");
        let terms = sea_orm::Condition::all().add(h::Column::Kind.eq(history::TERM));
        self.mark(
            referenced::<h::Entity>(conn, h::Column::ContactId, codes, Some(terms)).await?,
            "has dues history",
        );
        let staff = sea_orm::Condition::all().add(u::Column::Role.eq(users::Role::Staff));
        self.mark(
            referenced::<u::Entity>(conn, u::Column::ContactId, codes, Some(staff)).await?,
            "is linked to a staff login",
        );
        Ok(())
    }

    /// An organization stays while any person that is not purged with it is linked to it.
    async fn linked_organizations(
        &mut self,
        conn: &impl ConnectionTrait,
        codes: &[String],
        candidates: &[i64],
    ) -> Result<()> {
        let linked: Vec<(i64, i64)> = c::Entity::find()
            .select_only()
            .column(c::Column::Id)
            .column(c::Column::CompanyId)
            .filter(c::Column::CompanyId.in_subquery(marked(codes)))
            .into_tuple()
            .all(conn)
            .await?;
        let purgeable = |id: i64| self.0.get(&id).is_none_or(Vec::is_empty);
        let candidate_set: HashSet<i64> = candidates.iter().copied().collect();
        let held: HashSet<i64> = linked
            .iter()
            .filter(|(person, _)| !candidate_set.contains(person) || !purgeable(*person))
            .map(|(_, org)| *org)
            .collect();
        for org in held {
            self.0.entry(org).or_default().push("has linked contacts");
        }
        Ok(())
    }

    /// The candidates purged, and those kept with their reasons.
    fn split(&self, candidates: Vec<i64>) -> (Vec<i64>, Vec<(i64, String)>) {
        let mut purged = Vec::new();
        let mut kept = Vec::new();
        for id in candidates {
            match self.0.get(&id) {
                Some(r) if !r.is_empty() => kept.push((id, r.join(", "))),
                _ => purged.push(id),
            }
        }
        (purged, kept)
    }
}
