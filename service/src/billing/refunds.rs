//! M-2, M-3: money returned of a payment. A refund returns all or part of a payment, with a
//! reason; a reversal returns what is left of a payment that failed afterwards (a bounced
//! cheque, a chargeback). Either way the invoice's paid amount goes down by as much; when that
//! leaves an invoice that was paid in full no longer paid in full, the invoice reopens and what
//! paying it in full did is undone ([`Effects::undo`]), in the same transaction.
//!
//! Refunds of one payment never exceed it: the check and the increment are one statement, so
//! two refunds sent at once to two servers cannot both pass.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use entity::invoice as i;
use entity::invoice_line as l;
use entity::payment as p;
use entity::refund as r;

use crate::access::Actor;
use crate::db::Db;
use crate::error::{Error, Errors, Result};
use crate::events::{self, Event};
use crate::idempotency::{self, Key, Outcome, Stored};
use crate::sql::in_ids;
use crate::{clock, money};

use super::credit;
use super::effects::Effects;
use super::invoices::{self, InvoiceView, OPEN, PAID, WRITTEN_OFF};
use super::payment_list::{self, PaymentView};
use super::payments::allocate_to_lines;

pub const REFUND: &str = "refund";
pub const REVERSAL: &str = "reversal";

/// A refund asked for (M-2).
#[derive(Debug, Clone)]
pub struct NewRefund {
    pub amount_cents: i64,
    pub reason: String,
    /// How the money goes back (e.g. the card, a cheque); the payment's method if absent.
    pub method: Option<String>,
    pub recorded_by: Option<i64>,
}

/// What a refund or reversal left: the row, the payment and its invoice.
#[derive(Debug, Clone)]
pub struct Returned {
    pub refund: r::Model,
    pub payment: PaymentView,
    pub invoice: InvoiceView,
}

/// M-2: refunds `new.amount_cents` of payment `payment_id`. With `key`, a retry answers the
/// first result and returns nothing more (I-4).
pub async fn refund(
    db: &Db,
    payment_id: i64,
    new: NewRefund,
    key: Option<Key>,
    render: impl FnOnce(&Returned) -> Stored,
) -> Result<Outcome<Box<Returned>>> {
    check_refund(&new)?;
    let txn = db.write().await?;
    if let Some(k) = &key
        && let Some(stored) = idempotency::begin(&txn, k).await?
    {
        return Ok(Outcome::Replayed(stored));
    }
    let returned = give_back(&txn, payment_id, asked(&new, None)).await?;
    if let Some(k) = &key {
        idempotency::finish(&txn, k, &render(&returned)).await?;
    }
    txn.commit().await?;
    Ok(Outcome::Done(Box::new(returned)))
}

/// M-2's checks of a refund, and nothing kept: the refund is recorded and rolled back. For a
/// refund made elsewhere first (G-7, at the payment provider), so that it is asked there only
/// when it can then be recorded here.
pub async fn rehearse(db: &Db, payment_id: i64, new: &NewRefund) -> Result<()> {
    check_refund(new)?;
    let txn = db.trial().await?;
    let tried = give_back(&txn, payment_id, asked(new, None)).await;
    txn.rollback().await?;
    tried.map(|_| ())
}

/// M-2 in the caller's transaction, for a refund made elsewhere (G-7): `reference` is its id
/// there.
pub(crate) async fn record(
    conn: &impl ConnectionTrait,
    payment_id: i64,
    new: &NewRefund,
    reference: &str,
) -> Result<Returned> {
    check_refund(new)?;
    give_back(conn, payment_id, asked(new, Some(reference))).await
}

/// M-3: reverses what is left of payment `payment_id`; a payment is reversed once. With `key`,
/// a retry answers the first result.
pub async fn reverse(
    db: &Db,
    payment_id: i64,
    reason: &str,
    recorded_by: Option<i64>,
    key: Option<Key>,
    render: impl FnOnce(&Returned) -> Stored,
) -> Result<Outcome<Box<Returned>>> {
    let reason = invoices::checked_reason(reason)?;
    let txn = db.write().await?;
    if let Some(k) = &key
        && let Some(stored) = idempotency::begin(&txn, k).await?
    {
        return Ok(Outcome::Replayed(stored));
    }
    let ask = Return {
        kind: REVERSAL,
        amount_cents: None,
        reason,
        method: None,
        recorded_by,
        reference: None,
    };
    let returned = give_back(&txn, payment_id, ask).await?;
    if let Some(k) = &key {
        idempotency::finish(&txn, k, &render(&returned)).await?;
    }
    txn.commit().await?;
    Ok(Outcome::Done(Box::new(returned)))
}

/// The refunds and reversals of a payment, oldest first.
pub async fn of_payment(conn: &impl ConnectionTrait, payment_id: i64) -> Result<Vec<r::Model>> {
    Ok(r::Entity::find()
        .filter(r::Column::PaymentId.eq(payment_id))
        .all(conn)
        .await?)
}

fn check_refund(new: &NewRefund) -> Result<()> {
    let mut errors = Errors::new();
    if new.amount_cents <= 0 {
        errors.add("amount", "must be more than 0");
    }
    if invoices::checked_reason(&new.reason).is_err() {
        errors.add("reason", invoices::REASON_RULE);
    }
    if new
        .method
        .as_ref()
        .is_some_and(|m| m.trim().is_empty() || m.chars().count() > 40)
    {
        errors.add("method", "must be 1 to 40 characters");
    }
    errors.into_result()
}

/// A refund or reversal to record; `amount_cents: None` is what is left of the payment.
struct Return {
    kind: &'static str,
    amount_cents: Option<i64>,
    reason: String,
    method: Option<String>,
    recorded_by: Option<i64>,
    /// The refund's id where it was made, when not here (G-7).
    reference: Option<String>,
}

fn asked(new: &NewRefund, reference: Option<&str>) -> Return {
    Return {
        kind: REFUND,
        amount_cents: Some(new.amount_cents),
        reason: new.reason.trim().to_owned(),
        method: new.method.as_ref().map(|m| m.trim().to_owned()),
        recorded_by: new.recorded_by,
        reference: reference.map(str::to_owned),
    }
}

/// The steps of M-2 and M-3, in one transaction.
async fn give_back(conn: &impl ConnectionTrait, payment_id: i64, ask: Return) -> Result<Returned> {
    let now = clock::now();
    let paid = payment_list::get(conn, Actor::Staff, payment_id).await?;
    let payment = paid.payment.clone();
    check_not_written_off(conn, payment.invoice_id).await?;
    let amount = take_from_payment(conn, &payment, &ask, now).await?;
    let about = credit::About {
        invoice_id: Some(payment.invoice_id),
        payment_id: Some(payment.id),
        credit_note_id: None,
        created_by: ask.recorded_by,
    };
    let from_credit = take_from_credit(conn, &paid, amount, about, now).await?;
    if amount > from_credit {
        take_from_invoice(conn, payment.invoice_id, amount - from_credit, now).await?;
    }
    if payment.method == credit::METHOD {
        credit::add(conn, paid.payer_id, amount, credit::RETURNED, about, now).await?;
    }
    let after = invoices::get(conn, Actor::Staff, payment.invoice_id).await?;
    let reopened = undo_if_no_longer_paid(conn, &after, now).await?;
    let after = invoices::get(conn, Actor::Staff, payment.invoice_id).await?;
    allocate_to_lines(conn, &after).await?;
    let taken = Taken {
        amount,
        from_credit,
        reopened,
    };
    let refund = insert_refund(conn, &payment, &ask, taken, now).await?;
    announce(conn, &refund, &after, ask.reference.as_deref()).await?;
    Ok(Returned {
        refund,
        payment: payment_list::get(conn, Actor::Staff, payment_id).await?,
        invoice: invoices::get(conn, Actor::Staff, payment.invoice_id).await?,
    })
}

/// M-2: refunds of a payment never exceed it, and a reversed payment returns nothing more.
/// Checked and counted in one statement. Returns the amount taken.
async fn take_from_payment(
    conn: &impl ConnectionTrait,
    payment: &p::Model,
    ask: &Return,
    now: DateTime<Utc>,
) -> Result<i64> {
    let left = payment.amount_cents - payment.refunded_cents;
    if payment.reversed {
        return Err(Error::conflict(format!(
            "payment {} was reversed; nothing is left to return",
            payment.id
        )));
    }
    let amount = ask.amount_cents.unwrap_or(left);
    if amount > left || left == 0 {
        let message = format!(
            "{} is more than the {} left of payment {} ({} already returned)",
            money::format_cents(amount),
            money::format_cents(left),
            payment.id,
            money::format_cents(payment.refunded_cents)
        );
        return Err(if ask.amount_cents.is_some() {
            Error::invalid("amount", message)
        } else {
            Error::conflict(format!(
                "payment {} has nothing left to reverse",
                payment.id
            ))
        });
    }
    let res = p::Entity::update_many()
        .col_expr(
            p::Column::RefundedCents,
            Expr::col(p::Column::RefundedCents).add(amount),
        )
        .col_expr(p::Column::Reversed, Expr::val(ask.kind == REVERSAL))
        .col_expr(p::Column::UpdatedAt, Expr::val(now))
        .filter(p::Column::Id.eq(payment.id))
        .filter(p::Column::Reversed.eq(false))
        .filter(
            Expr::col(p::Column::RefundedCents)
                .add(amount)
                .lte(Expr::col(p::Column::AmountCents)),
        )
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::conflict(format!(
            "payment {} was refunded meanwhile; read it again",
            payment.id
        )));
    }
    Ok(amount)
}

/// A written-off invoice is closed: what it received stays as it is.
async fn check_not_written_off(conn: &impl ConnectionTrait, invoice_id: i64) -> Result<()> {
    let inv = invoices::get(conn, Actor::Staff, invoice_id).await?.invoice;
    if inv.status == WRITTEN_OFF {
        return Err(Error::conflict(format!(
            "invoice {invoice_id} was written off; its payments are not refunded"
        )));
    }
    Ok(())
}

/// M-4, M-5: what a credit note moved from this invoice to the payer's credit, and is still
/// there, is returned first: the invoice keeps what it asks paid. Returns the amount taken.
async fn take_from_credit(
    conn: &impl ConnectionTrait,
    paid: &PaymentView,
    amount: i64,
    about: credit::About,
    now: DateTime<Utc>,
) -> Result<i64> {
    let left = credit::left_from_invoice(conn, paid.payer_id, paid.payment.invoice_id).await?;
    let from_credit = Ord::min(amount, left);
    if from_credit > 0 {
        credit::take(
            conn,
            paid.payer_id,
            from_credit,
            credit::REFUNDED,
            about,
            now,
        )
        .await?;
    }
    Ok(from_credit)
}

/// The invoice has received that much less.
async fn take_from_invoice(
    conn: &impl ConnectionTrait,
    invoice_id: i64,
    amount: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let res = i::Entity::update_many()
        .col_expr(
            i::Column::PaidCents,
            Expr::col(i::Column::PaidCents).sub(amount),
        )
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(now))
        .filter(i::Column::Id.eq(invoice_id))
        .filter(i::Column::PaidCents.gte(amount))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::Internal(format!(
            "invoice {invoice_id} has received less than its payments"
        )));
    }
    Ok(())
}

/// M-2: the invoice is open again and everything paying it in full did is undone, unless a
/// later paid term builds on it.
/// M-2, S-11: an invoice that took effect (paid in full, or its first instalment paid) and no
/// longer would is undone; a paid invoice no longer paid in full is open again. Returns whether
/// it was undone.
async fn undo_if_no_longer_paid(
    conn: &impl ConnectionTrait,
    view: &InvoiceView,
    now: DateTime<Utc>,
) -> Result<bool> {
    let inv = &view.invoice;
    let was_paid = inv.status == PAID;
    let in_effect = inv.paid_cents == inv.total_cents || super::instalments::first_part_paid(view);
    let undo = !in_effect && (was_paid || Effects::kept(conn, inv.id).await?);
    if undo {
        undo_effects(conn, view, now).await?;
    }
    if was_paid && inv.paid_cents < inv.total_cents {
        reopen(conn, view).await?;
    }
    Ok(undo)
}

/// M-2: what taking effect did is undone, unless a later paid term builds on it.
async fn undo_effects(
    conn: &impl ConnectionTrait,
    view: &InvoiceView,
    now: DateTime<Utc>,
) -> Result<()> {
    let inv = &view.invoice;
    if let Some(later) = later_paid_term(conn, view).await? {
        return Err(Error::conflict(format!(
            "invoice {later} pays a later term that builds on invoice {}: refund invoice {later} first",
            inv.id
        )));
    }
    let effects = Effects::take(conn, inv.id).await?.ok_or_else(|| {
        Error::conflict(format!(
            "invoice {} was paid in full before payments could be undone; correct it by hand",
            inv.id
        ))
    })?;
    effects.undo(conn, now).await
}

/// The invoice is open again: `invoice.reopened`.
async fn reopen(conn: &impl ConnectionTrait, view: &InvoiceView) -> Result<()> {
    let inv = &view.invoice;
    i::Entity::update_many()
        .col_expr(i::Column::Status, Expr::val(OPEN))
        .filter(i::Column::Id.eq(inv.id))
        .exec(conn)
        .await?;
    let event = Event::invoice(
        events::INVOICE_REOPENED,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({"kind": inv.kind}),
    );
    events::emit(conn, vec![event]).await
}

/// A paid invoice with a line on one of `view`'s subscriptions for a later term.
async fn later_paid_term(conn: &impl ConnectionTrait, view: &InvoiceView) -> Result<Option<i64>> {
    let begins: HashMap<i64, chrono::NaiveDate> = view
        .lines
        .iter()
        .filter_map(|l| l.subscription_id.map(|s| (s, l.term_begin)))
        .collect();
    let subs: Vec<i64> = begins.keys().copied().collect();
    let later: Vec<l::Model> = l::Entity::find()
        .filter(in_ids(l::Column::SubscriptionId, &subs))
        .filter(l::Column::InvoiceId.ne(view.invoice.id))
        .all(conn)
        .await?
        .into_iter()
        .filter(|o| {
            o.subscription_id
                .and_then(|s| begins.get(&s))
                .is_some_and(|begin| o.term_begin > *begin)
        })
        .collect();
    let ids: Vec<i64> = later.iter().map(|o| o.invoice_id).collect();
    Ok(i::Entity::find()
        .filter(in_ids(i::Column::Id, &ids))
        .filter(i::Column::Status.eq(PAID))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.id)
        .min())
}

/// What a refund took, and whether it reopened the invoice.
struct Taken {
    amount: i64,
    from_credit: i64,
    reopened: bool,
}

async fn insert_refund(
    conn: &impl ConnectionTrait,
    payment: &p::Model,
    ask: &Return,
    taken: Taken,
    now: DateTime<Utc>,
) -> Result<r::Model> {
    let Taken {
        amount,
        from_credit,
        reopened,
    } = taken;
    Ok(r::ActiveModel {
        payment_id: Set(payment.id),
        invoice_id: Set(payment.invoice_id),
        kind: Set(ask.kind.to_owned()),
        amount_cents: Set(amount),
        from_credit_cents: Set(from_credit),
        reason: Set(ask.reason.clone()),
        method: Set(ask.method.clone().or_else(|| Some(payment.method.clone()))),
        reopened: Set(reopened),
        recorded_by: Set(ask.recorded_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// `payment.refunded` or `payment.reversed`, on the invoice.
async fn announce(
    conn: &impl ConnectionTrait,
    refund: &r::Model,
    after: &InvoiceView,
    reference: Option<&str>,
) -> Result<()> {
    let kind = if refund.kind == REVERSAL {
        events::PAYMENT_REVERSED
    } else {
        events::PAYMENT_REFUNDED
    };
    let inv = &after.invoice;
    let mut data = json!({
        "payment_id": refund.payment_id,
        "refund_id": refund.id,
        "amount": money::format_cents(refund.amount_cents),
        "reason": refund.reason,
        "reopened": refund.reopened,
        "paid": money::format_cents(inv.paid_cents),
        "balance": money::format_cents(after.balance()),
    });
    if let Some(reference) = reference {
        data["reference"] = reference.into();
    }
    let event = Event::invoice(kind, inv.id, inv.contact_id, inv.total_cents, data);
    events::emit(conn, vec![event]).await
}
