//! L-1: expire members. As of a date, every contact of a dues-paying member type whose
//! paid-through plus the grace period is before that date (or who has an instalment overdue by
//! more than the grace period, as of the paid-through before its invoice: S-11) moves to its
//! type's `expires_to`;
//! its status is left as it is, so lapsed members become active non-members (CS-3), and the
//! persons linked to an expiring organization follow it (CT-6).

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use entity::contact as c;

use super::retype::{self, ContactChange};
use crate::audit::{self, Who};
use crate::billing::instalments;
use crate::error::Result;
use crate::events::{self, Event};
use crate::flow_down::FlowDown;
use crate::online::charges;
use crate::{clock, customer_types, db::Db, notices, settings, terms};

pub const AUDIT_ACTION: &str = "membership.expire";

#[derive(Debug, Clone)]
pub struct ExpireResult {
    pub as_of: NaiveDate,
    pub grace_period_months: u32,
    /// Members paid through this date or earlier have expired.
    pub expired_paid_through: NaiveDate,
    pub dry_run: bool,
    /// By contact id; organizations' linked persons carry `company_id`.
    pub changed: Vec<ContactChange>,
}

/// Expires members as of `as_of` (L-1), or previews it with `dry_run`.
pub async fn run(db: &Db, as_of: NaiveDate, dry_run: bool, who: &Who) -> Result<ExpireResult> {
    if dry_run {
        return plan(&db.conn, as_of, dry_run).await;
    }
    let txn = db.write().await?;
    let result = plan(&txn, as_of, dry_run).await?;
    let now = clock::now();
    retype::apply(&txn, &result.changed, now).await?;
    let mut expired = Vec::with_capacity(result.changed.len() * 2);
    for ch in &result.changed {
        expired.push(ch.updated_event("expire"));
        if let Some((from, to)) = &ch.customer_type {
            expired.push(Event::contact(
                events::MEMBERSHIP_EXPIRED,
                ch.contact_id,
                json!({
                    "from_customer_type": from,
                    "customer_type": to,
                    "followed_organization": ch.company_id,
                }),
            ));
        }
    }
    events::emit(&txn, expired).await?;
    let lapsed: Vec<i64> = result
        .changed
        .iter()
        .filter(|ch| ch.customer_type.is_some())
        .map(|ch| ch.contact_id)
        .collect();
    notices::for_contacts(&txn, notices::EXPIRY, &lapsed, now).await?;
    let followed = result
        .changed
        .iter()
        .filter(|ch| ch.company_id.is_some())
        .count();
    audit::record(
        &txn,
        who,
        AUDIT_ACTION,
        "contacts",
        json!({
            "as_of": as_of,
            "grace_period_months": result.grace_period_months,
            "expired_paid_through": result.expired_paid_through,
            "expired": result.changed.len() - followed,
            "followed_organization": followed,
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(result)
}

async fn plan(
    conn: &impl ConnectionTrait,
    as_of: NaiveDate,
    dry_run: bool,
) -> Result<ExpireResult> {
    let st = settings::get(conn).await?;
    let types = customer_types::all(conn).await?;
    // Only types with a primary fee hold a membership of their own; a flow-down member type
    // (MIND) lapses with its organization, never on a paid-through of its own.
    let expires_to: HashMap<String, String> = types
        .iter()
        .filter(|t| t.is_member && t.primary_fee_kind != "none")
        .filter_map(|t| t.expires_to.clone().map(|to| (t.code.clone(), to)))
        .collect();
    let cutoff = terms::last_expired_paid_through(as_of, st.grace_period_months);
    let mut changed = Vec::new();
    if !expires_to.is_empty() {
        let rows: Vec<(i64, String)> = c::Entity::find()
            .select_only()
            .column(c::Column::Id)
            .column(c::Column::CustomerType)
            .filter(c::Column::CustomerType.is_in(expires_to.keys().cloned()))
            .filter(
                Condition::any()
                    .add(c::Column::PaidThrough.lte(cutoff))
                    .add(c::Column::Id.in_subquery(instalments::overdue_holders(cutoff))),
            )
            .filter(c::Column::Id.not_in_subquery(charges::retrying_holders()))
            .order_by_asc(c::Column::Id)
            .into_tuple()
            .all(conn)
            .await?;
        for (id, ty) in rows {
            if let Some(to) = expires_to.get(&ty) {
                changed.push(ContactChange::retype(id, &ty, to));
            }
        }
    }
    let fd = FlowDown::new(types, st.default_person_type.clone());
    let changed = retype::with_followers(conn, &fd, changed).await?;
    Ok(ExpireResult {
        as_of,
        grace_period_months: st.grace_period_months,
        expired_paid_through: cutoff,
        dry_run,
        changed,
    })
}
