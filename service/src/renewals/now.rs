//! renew now. A due contact without an open renewal starts one, billed exactly as a run
//! of that one contact would bill it: the same selection, lines and
//! writing. Members start their own; staff any contact's.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use entity::billing_cycle as b;
use entity::billing_cycle_customer_type as bt;
use entity::contact as c;
use entity::invoice as i;

use crate::access::Actor;
use crate::billing::invoices::{self, DRAFT, InvoiceKind, InvoiceView, OPEN};
use crate::billing_cycles::{self, Cycle, CycleRef};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::settings;

use super::{Loaded, Range, RunFacts, billed_as, effective_date, load, plan_page, write_page};

/// Starts the renewal of `contact_id` through `cycle` (default: the first dues cycle of the
/// type it renews as), as of `today`; answers the invoice.
pub async fn renew_now(
    db: &Db,
    actor: Actor,
    contact_id: i64,
    cycle: Option<CycleRef>,
    today: NaiveDate,
) -> Result<InvoiceView> {
    let txn = db.write().await?;
    let contact = crate::contacts::get(&txn, actor, contact_id).await?.contact;
    refuse_a_second_open_renewal(&txn, contact_id).await?;
    let loaded = load(&txn).await?;
    let cycle = cycle_for(&txn, &loaded, &contact, cycle).await?;
    let settings = settings::get(&txn).await?;
    let facts = RunFacts {
        cycle: &cycle,
        loaded: &loaded,
        settings: &settings,
        effective: effective_date(&cycle, None, today),
        committing: None,
    };
    let id = bill_one(&txn, facts, contact_id).await?;
    let view = invoices::get(&txn, Actor::Staff, id).await?;
    txn.commit().await?;
    Ok(view)
}

/// The contact's open (or draft) renewal invoice, if it has one.
pub async fn open_renewal_of(conn: &impl ConnectionTrait, contact_id: i64) -> Result<Option<i64>> {
    Ok(i::Entity::find()
        .select_only()
        .column(i::Column::Id)
        .filter(i::Column::ContactId.eq(contact_id))
        .filter(i::Column::Kind.eq(InvoiceKind::Renewal))
        .filter(i::Column::Status.is_in([OPEN, DRAFT]))
        .into_tuple()
        .one(conn)
        .await?)
}

/// one open renewal at a time; the open one is itemized or paid instead.
async fn refuse_a_second_open_renewal(conn: &impl ConnectionTrait, contact_id: i64) -> Result<()> {
    match open_renewal_of(conn, contact_id).await? {
        Some(id) => Err(Error::conflict(format!(
            "contact {contact_id} has an open renewal invoice ({id}); pay or change that one"
        ))),
        None => Ok(()),
    }
}

/// The cycle named, else the first dues cycle (by id) of the type the contact renews as.
async fn cycle_for(
    conn: &impl ConnectionTrait,
    loaded: &Loaded,
    contact: &c::Model,
    named: Option<CycleRef>,
) -> Result<Cycle> {
    if let Some(r) = named {
        return billing_cycles::resolve(conn, &r).await;
    }
    let billed_as = billed_as(loaded, &contact.customer_type);
    let dues_cycles: Vec<i64> = b::Entity::find()
        .select_only()
        .column(b::Column::Id)
        .filter(b::Column::Membership.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    let first: Option<i64> = bt::Entity::find()
        .select_only()
        .column(bt::Column::CycleId)
        .filter(bt::Column::CustomerType.eq(billed_as.as_str()))
        .filter(bt::Column::CycleId.is_in(dues_cycles))
        .order_by_asc(bt::Column::CycleId)
        .into_tuple()
        .one(conn)
        .await?;
    let id = first.ok_or_else(|| {
        Error::invalid(
            "billing_cycle",
            format!("no dues cycle renews customer type {billed_as}"),
        )
    })?;
    billing_cycles::get(conn, id).await
}

/// R-1..R-4: the contact planned as a page of one (a page holds only the due, R-1, R-2)
/// and written the same way; the invoice id.
async fn bill_one(
    conn: &impl ConnectionTrait,
    facts: RunFacts<'_>,
    contact_id: i64,
) -> Result<i64> {
    let range = Range {
        after: contact_id - 1,
        upto: Some(contact_id),
    };
    let (selected, bills, skips) = plan_page(conn, facts, range, true).await?;
    if selected.is_empty() {
        return Err(Error::conflict(format!(
            "contact {contact_id} is not due in billing cycle {:?} as of {} (R-1: paid through before the effective date, and selected by the cycle)",
            facts.cycle.fields.name, facts.effective
        )));
    }
    if let Some((_, reason)) = skips.first() {
        return Err(Error::conflict(format!(
            "contact {contact_id} cannot be renewed: {reason}"
        )));
    }
    if bills.iter().any(|b| !b.printed) {
        return Err(Error::conflict(format!(
            "contact {contact_id} renews at no charge and the cycle prints no zero invoices: the next renewal run renews it (R-10)"
        )));
    }
    let ids = write_page(conn, None, facts.cycle, facts.settings, &bills, &[]).await?;
    ids.into_iter()
        .flatten()
        .next()
        .ok_or_else(|| Error::Internal("a renewal of one contact wrote no invoice".into()))
}
