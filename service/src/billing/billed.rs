//! J-6, I-2, S-4: the subscriptions an invoice bills from the start. A join (or a staff or
//! member change to an open invoice) bills each line's subscription at once: the one the
//! contact holds, else a new one, inactive until paid. Either is marked billed for the term, so
//! accrual locks hold (S-4). Releasing a line (cancel, void, a line removed) undoes exactly
//! that: subscriptions that exist only because of the invoice go (cash) or stay inactive
//! (accrual); held ones billed on cash lose the billing mark.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use entity::invoice as i;
use entity::invoice_line as l;
use entity::subscription as s;

use crate::error::Result;
use crate::products::TAX_SUFFIX;
use crate::settings::AccountingMethod;
use crate::sql::in_ids;

use super::lines::LineDraft;

/// Who an invoice bills and how: the holder, the payer and the accounting method.
#[derive(Debug, Clone, Copy)]
pub struct Billing {
    pub contact_id: i64,
    pub bill_to_id: i64,
    pub method: AccountingMethod,
    pub now: DateTime<Utc>,
}

impl Billing {
    /// As `invoice` bills.
    pub fn of(invoice: &i::Model, now: DateTime<Utc>) -> Self {
        Billing {
            contact_id: invoice.contact_id,
            bill_to_id: invoice.bill_to_id,
            method: invoice.accounting_method,
            now,
        }
    }
}

/// The subscription each line bills, by product: held ones marked billed for the line's term,
/// missing ones opened (inactive, billed). Tax lines bill no subscription of their own.
pub async fn bill(
    conn: &impl ConnectionTrait,
    billing: Billing,
    lines: &[LineDraft],
) -> Result<HashMap<String, i64>> {
    let billed: Vec<&LineDraft> = lines
        .iter()
        .filter(|l| !l.product.ends_with(TAX_SUFFIX))
        .collect();
    let codes: Vec<String> = billed.iter().map(|l| l.product.clone()).collect();
    let held: Vec<s::Model> = s::Entity::find()
        .filter(s::Column::ContactId.eq(billing.contact_id))
        .filter(s::Column::Product.is_in(codes))
        .all(conn)
        .await?;
    let mut ids: HashMap<String, i64> = held.iter().map(|h| (h.product.clone(), h.id)).collect();
    mark_held_billed(conn, billing, &billed, &held).await?;
    let missing: Vec<&LineDraft> = billed
        .into_iter()
        .filter(|l| !ids.contains_key(&l.product))
        .collect();
    ids.extend(open(conn, billing, &missing).await?);
    Ok(ids)
}

/// S-4: a held subscription billed for the term, by the invoice's method; one statement per
/// term (a join's lines share one).
async fn mark_held_billed(
    conn: &impl ConnectionTrait,
    billing: Billing,
    lines: &[&LineDraft],
    held: &[s::Model],
) -> Result<()> {
    let mut by_term: HashMap<(NaiveDate, NaiveDate), Vec<i64>> = HashMap::new();
    for h in held {
        if let Some(l) = lines.iter().find(|l| l.product == h.product) {
            by_term
                .entry((l.term_begin, l.term_end))
                .or_default()
                .push(h.id);
        }
    }
    for ((begin, end), ids) in by_term {
        s::Entity::update_many()
            .col_expr(s::Column::Billed, Expr::val(true))
            .col_expr(s::Column::BillBegin, Expr::val(begin))
            .col_expr(s::Column::BillThrough, Expr::val(end))
            .col_expr(
                s::Column::AccountingMethod,
                Expr::val(billing.method.as_str()),
            )
            .col_expr(s::Column::Version, Expr::col(s::Column::Version).add(1))
            .col_expr(s::Column::UpdatedAt, Expr::val(billing.now))
            .filter(in_ids(s::Column::Id, &ids))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// J-6: a line for a product the contact does not hold opens its subscription, inactive
/// until the invoice is paid (I-3), so a family never holds two active ones (S-8).
async fn open(
    conn: &impl ConnectionTrait,
    billing: Billing,
    lines: &[&LineDraft],
) -> Result<HashMap<String, i64>> {
    if lines.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = lines.iter().map(|l| s::ActiveModel {
        contact_id: Set(billing.contact_id),
        product: Set(l.product.clone()),
        begin_date: Set(Some(l.term_begin)),
        paid_through: Set(None),
        bill_to_id: Set(billing.bill_to_id),
        bill_begin: Set(Some(l.term_begin)),
        bill_through: Set(Some(l.term_end)),
        active: Set(false),
        is_complimentary: Set(false),
        is_membership_component: Set(l.is_primary),
        bill_subscription: Set(true),
        accounting_method: Set(billing.method),
        billed: Set(true),
        version: Set(1),
        created_at: Set(billing.now),
        updated_at: Set(billing.now),
        ..Default::default()
    });
    let opened = s::Entity::insert_many(rows)
        .exec_with_returning(conn)
        .await?;
    Ok(opened.into_iter().map(|m| (m.product, m.id)).collect())
}

/// Whether `sub` exists only because `invoice` billed it: opened at or after the invoice was
/// written, never active, never paid.
pub fn opened_by(sub: &s::Model, invoice_created_at: DateTime<Utc>) -> bool {
    !sub.active && sub.paid_through.is_none() && sub.created_at >= invoice_created_at
}

/// Undoes what billing `sub_ids` for `invoice` did (J-6): subscriptions it opened are removed
/// (cash) or stay inactive (accrual, never deleted: S-5); held ones billed on cash are as if
/// never billed. The invoice's lines stop naming removed subscriptions.
pub async fn release(
    conn: &impl ConnectionTrait,
    invoice: &i::Model,
    sub_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    let subs = s::Entity::find()
        .filter(in_ids(s::Column::Id, sub_ids))
        .all(conn)
        .await?;
    let (opened, held): (Vec<&s::Model>, Vec<&s::Model>) =
        subs.iter().partition(|s| opened_by(s, invoice.created_at));
    if invoice.accounting_method == AccountingMethod::Cash {
        remove(
            conn,
            invoice.id,
            &opened.iter().map(|s| s.id).collect::<Vec<_>>(),
        )
        .await?;
        let held: Vec<i64> = held.iter().map(|s| s.id).collect();
        unmark(conn, &held, now).await?;
    }
    Ok(())
}

async fn remove(conn: &impl ConnectionTrait, invoice_id: i64, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    l::Entity::update_many()
        .col_expr(l::Column::SubscriptionId, Expr::val(Option::<i64>::None))
        .col_expr(l::Column::BilledTerm, Expr::val(Option::<NaiveDate>::None))
        .filter(l::Column::InvoiceId.eq(invoice_id))
        .filter(in_ids(l::Column::SubscriptionId, ids))
        .exec(conn)
        .await?;
    s::Entity::delete_many()
        .filter(in_ids(s::Column::Id, ids))
        .exec(conn)
        .await?;
    Ok(())
}

async fn unmark(conn: &impl ConnectionTrait, ids: &[i64], now: DateTime<Utc>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    s::Entity::update_many()
        .col_expr(s::Column::Billed, Expr::val(false))
        .col_expr(s::Column::BillBegin, Expr::val(Option::<NaiveDate>::None))
        .col_expr(s::Column::BillThrough, Expr::val(Option::<NaiveDate>::None))
        .col_expr(s::Column::Version, Expr::col(s::Column::Version).add(1))
        .col_expr(s::Column::UpdatedAt, Expr::val(now))
        .filter(in_ids(s::Column::Id, ids))
        .exec(conn)
        .await?;
    Ok(())
}
