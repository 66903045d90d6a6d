//! M-5: a contact's credit balance. Money paid above what an invoice asks after a credit note
//! (M-4), and credit payments refunded, go in; applying credit to an invoice (a payment of
//! method `credit`) and refunding it take it out. The balance is one row per contact whose
//! decrement is checked in the same statement (and by a check constraint), so two servers
//! spending one credit at once cannot take it below zero; every change is a movement.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use entity::credit_balance as b;
use entity::credit_movement as m;

use crate::access::Actor;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::idempotency::{self, Key, Outcome, Stored};
use crate::{clock, money};

use super::invoices;
use super::payments::{self, NewPayment, Paid};

/// The payment method of credit applied to an invoice.
pub const METHOD: &str = "credit";

/// Why credit moved.
pub const OVERPAYMENT: &str = "overpayment";
pub const APPLIED: &str = "applied";
pub const REFUNDED: &str = "refunded";
pub const RETURNED: &str = "returned";

/// What a movement is about.
#[derive(Debug, Clone, Copy, Default)]
pub struct About {
    pub invoice_id: Option<i64>,
    pub payment_id: Option<i64>,
    pub credit_note_id: Option<i64>,
    pub created_by: Option<i64>,
}

/// A contact's balance and its movements, oldest first.
#[derive(Debug, Clone)]
pub struct Credit {
    pub contact_id: i64,
    pub balance_cents: i64,
    pub movements: Vec<m::Model>,
}

pub async fn get(conn: &impl ConnectionTrait, actor: Actor, contact_id: i64) -> Result<Credit> {
    crate::contacts::get(conn, actor, contact_id).await?;
    let balance_cents = b::Entity::find_by_id(contact_id)
        .one(conn)
        .await?
        .map_or(0, |r| r.balance_cents);
    let movements = m::Entity::find()
        .filter(m::Column::ContactId.eq(contact_id))
        .order_by_asc(m::Column::Id)
        .all(conn)
        .await?;
    Ok(Credit {
        contact_id,
        balance_cents,
        movements,
    })
}

/// Puts `amount` into `contact_id`'s credit.
pub async fn add(
    conn: &impl ConnectionTrait,
    contact_id: i64,
    amount: i64,
    kind: &str,
    about: About,
    now: DateTime<Utc>,
) -> Result<()> {
    b::Entity::insert(b::ActiveModel {
        contact_id: Set(contact_id),
        balance_cents: Set(amount),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(b::Column::ContactId)
            .value(
                b::Column::BalanceCents,
                Expr::col((b::Entity, b::Column::BalanceCents)).add(amount),
            )
            .value(b::Column::UpdatedAt, Expr::val(now))
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    record(conn, contact_id, amount, kind, about, now).await
}

/// Takes `amount` out of `contact_id`'s credit, refused (naming `field`) when the balance is
/// less.
pub async fn take(
    conn: &impl ConnectionTrait,
    contact_id: i64,
    amount: i64,
    kind: &str,
    about: About,
    now: DateTime<Utc>,
) -> Result<()> {
    let res = b::Entity::update_many()
        .col_expr(
            b::Column::BalanceCents,
            Expr::col(b::Column::BalanceCents).sub(amount),
        )
        .col_expr(b::Column::UpdatedAt, Expr::val(now))
        .filter(b::Column::ContactId.eq(contact_id))
        .filter(b::Column::BalanceCents.gte(amount))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        let balance = b::Entity::find_by_id(contact_id)
            .one(conn)
            .await?
            .map_or(0, |r| r.balance_cents);
        return Err(Error::invalid(
            "amount",
            format!(
                "{} is more than the credit balance of {} of contact {contact_id}",
                money::format_cents(amount),
                money::format_cents(balance)
            ),
        ));
    }
    record(conn, contact_id, -amount, kind, about, now).await
}

async fn record(
    conn: &impl ConnectionTrait,
    contact_id: i64,
    amount: i64,
    kind: &str,
    about: About,
    now: DateTime<Utc>,
) -> Result<()> {
    m::ActiveModel {
        contact_id: Set(contact_id),
        amount_cents: Set(amount),
        kind: Set(kind.to_owned()),
        invoice_id: Set(about.invoice_id),
        payment_id: Set(about.payment_id),
        credit_note_id: Set(about.credit_note_id),
        created_by: Set(about.created_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// M-2 with M-5: of the credit that overpaying `invoice_id` gave `contact_id`, what is left
/// (neither applied elsewhere nor refunded): a refund of that invoice's payment returns it
/// first, so the invoice stays paid in full.
pub async fn left_from_invoice(
    conn: &impl ConnectionTrait,
    contact_id: i64,
    invoice_id: i64,
) -> Result<i64> {
    let from_invoice: i64 = m::Entity::find()
        .filter(m::Column::ContactId.eq(contact_id))
        .filter(m::Column::InvoiceId.eq(invoice_id))
        .filter(m::Column::Kind.is_in([OVERPAYMENT, REFUNDED]))
        .all(conn)
        .await?
        .iter()
        .map(|m| m.amount_cents)
        .sum();
    let balance = b::Entity::find_by_id(contact_id)
        .one(conn)
        .await?
        .map_or(0, |r| r.balance_cents);
    Ok(from_invoice.clamp(0, balance))
}

/// What to apply: `amount_cents` of `contact_id`'s credit to invoice `invoice_id`.
#[derive(Debug, Clone, Copy)]
pub struct Apply {
    pub contact_id: i64,
    pub invoice_id: i64,
    pub amount_cents: i64,
    pub recorded_by: Option<i64>,
}

/// M-5: applies credit to an open invoice the contact holds or pays: a payment of method
/// `credit`, with its receipt. With `key`, a retry answers the first result.
pub async fn apply(
    db: &Db,
    ask: Apply,
    key: Option<Key>,
    render: impl FnOnce(&Paid) -> Stored,
) -> Result<Outcome<Box<Paid>>> {
    if ask.amount_cents <= 0 {
        return Err(Error::invalid("amount", "must be more than 0"));
    }
    let txn = db.write().await?;
    if let Some(k) = &key
        && let Some(stored) = idempotency::begin(&txn, k).await?
    {
        return Ok(Outcome::Replayed(stored));
    }
    check_applicable(&txn, ask).await?;
    let now = clock::now();
    let new = NewPayment {
        amount_cents: ask.amount_cents,
        paid_on: now.date_naive(),
        method: METHOD.into(),
        reference: Some(format!("credit of contact {}", ask.contact_id)),
        recorded_by: ask.recorded_by,
    };
    let paid = payments::record(&txn, ask.invoice_id, new).await?;
    let about = About {
        invoice_id: Some(ask.invoice_id),
        payment_id: Some(paid.payment.id),
        created_by: ask.recorded_by,
        ..Default::default()
    };
    take(&txn, ask.contact_id, ask.amount_cents, APPLIED, about, now).await?;
    if let Some(k) = &key {
        idempotency::finish(&txn, k, &render(&paid)).await?;
    }
    txn.commit().await?;
    Ok(Outcome::Done(Box::new(paid)))
}

/// The contact exists and holds or pays the invoice (that it is open, recording the payment
/// checks).
async fn check_applicable(conn: &impl ConnectionTrait, ask: Apply) -> Result<()> {
    crate::contacts::require(conn, ask.contact_id).await?;
    let inv = invoices::get(conn, Actor::Staff, ask.invoice_id)
        .await?
        .invoice;
    if inv.contact_id != ask.contact_id && inv.bill_to_id != ask.contact_id {
        return Err(Error::invalid(
            "invoice_id",
            format!(
                "invoice {} is neither held nor paid by contact {}",
                inv.id, ask.contact_id
            ),
        ));
    }
    Ok(())
}
