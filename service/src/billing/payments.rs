//! I-3, I-4: payments. A payment never exceeds the open balance, is allocated to
//! non-voluntary lines first, and a payment in full starts or extends the membership.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use entity::invoice as i;
use entity::invoice_line as l;
use entity::payment as p;

use crate::access::Actor;
use crate::db::Db;
use crate::error::{Error, Errors, Result};
use crate::events::{self, Event};
use crate::idempotency::{self, Key, Outcome, Stored};
use crate::{clock, counters, money, notices};

use super::complete;
use super::invoices::{self, InvoiceView, OPEN};

#[derive(Debug, Clone)]
pub struct NewPayment {
    pub amount_cents: i64,
    pub paid_on: NaiveDate,
    pub method: String,
    pub reference: Option<String>,
    /// M-1: the user recording it (`None` from the command line or the demo).
    pub recorded_by: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Paid {
    pub payment: p::Model,
    pub invoice: InvoiceView,
}

/// I-3: what each line has received of `paid` cents: non-voluntary lines first, in line
/// order, then voluntary ones.
pub fn allocate(lines: &[l::Model], mut paid: i64) -> Vec<i64> {
    let mut out = vec![0; lines.len()];
    for voluntary in [false, true] {
        for (n, line) in lines.iter().enumerate() {
            if line.voluntary != voluntary || paid <= 0 {
                continue;
            }
            let take = Ord::min(Ord::max(line.amount_cents, 0), paid);
            out[n] = take;
            paid -= take;
        }
    }
    out
}

pub(crate) fn check(new: &NewPayment) -> Result<()> {
    let mut errors = Errors::new();
    if new.amount_cents <= 0 {
        errors.add("amount", "must be more than 0");
    }
    if new.method.trim().is_empty() || new.method.chars().count() > 40 {
        errors.add(
            "method",
            "must be 1 to 40 characters (e.g. card, cheque, transfer)",
        );
    } else if new
        .method
        .trim()
        .eq_ignore_ascii_case(super::credit::METHOD)
    {
        errors.add(
            "method",
            "credit is applied with POST /contacts/{id}/credit/apply, which takes it from the balance",
        );
    }
    if new
        .reference
        .as_ref()
        .is_some_and(|r| r.chars().count() > 100)
    {
        errors.add("reference", "must be at most 100 characters");
    }
    errors.into_result()
}

/// Records a payment. `render` turns the result into the response stored under the
/// idempotency key, inside the same transaction.
pub async fn pay(
    db: &Db,
    invoice_id: i64,
    new: NewPayment,
    key: Option<Key>,
    render: impl FnOnce(&Paid) -> Stored,
) -> Result<Outcome<Box<Paid>>> {
    check(&new)?;
    let txn = db.write().await?;
    if let Some(k) = &key
        && let Some(stored) = idempotency::begin(&txn, k).await?
    {
        return Ok(Outcome::Replayed(stored));
    }
    let paid = record(&txn, invoice_id, new).await?;
    if let Some(k) = &key {
        idempotency::finish(&txn, k, &render(&paid)).await?;
    }
    txn.commit().await?;
    Ok(Outcome::Done(Box::new(paid)))
}

/// I-3 in the caller's transaction: the payment, its share on each line, and (when it pays the
/// invoice in full) what that does, kept for a refund to undo (M-2).
pub async fn record(conn: &impl ConnectionTrait, invoice_id: i64, new: NewPayment) -> Result<Paid> {
    let current = invoices::get(conn, Actor::Staff, invoice_id).await?;
    check_payable(&current, new.amount_cents)?;
    let now = clock::now();
    add_to_paid(conn, invoice_id, new.amount_cents, now).await?;
    let payment = insert_payment(conn, invoice_id, new, now).await?;
    let after = invoices::get(conn, Actor::Staff, invoice_id).await?;
    allocate_to_lines(conn, &after).await?;
    announce(conn, &payment, &after).await?;
    receipt(conn, &payment, now).await?;
    complete::settle(conn, &after, payment.id, now).await?;
    Ok(Paid {
        payment,
        invoice: invoices::get(conn, Actor::Staff, invoice_id).await?,
    })
}

/// Every payment, partial or in full, is an `invoice.payment_received` event (a payment in
/// full is `invoice.paid` as well).
async fn announce(
    conn: &impl ConnectionTrait,
    payment: &p::Model,
    after: &InvoiceView,
) -> Result<()> {
    let inv = &after.invoice;
    let event = Event::invoice(
        events::INVOICE_PAYMENT_RECEIVED,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({
            "payment_id": payment.id,
            "amount": money::format_cents(payment.amount_cents),
            "paid": money::format_cents(inv.paid_cents),
            "balance": money::format_cents(after.balance()),
        }),
    );
    events::emit(conn, vec![event]).await
}

/// N-1: money received is a receipt to the payer; credit applied is not new money.
async fn receipt(
    conn: &impl ConnectionTrait,
    payment: &p::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    if payment.method == super::credit::METHOD {
        return Ok(());
    }
    notices::for_payment(conn, notices::RECEIPT, payment.id, payment.invoice_id, now).await
}

/// I-3: only an open invoice takes payments, and none above its open balance.
fn check_payable(current: &InvoiceView, amount_cents: i64) -> Result<()> {
    let inv = &current.invoice;
    if inv.status != OPEN {
        return Err(Error::conflict(format!(
            "invoice {} is {}; only open invoices take payments",
            inv.id, inv.status
        )));
    }
    let balance = current.balance();
    if amount_cents > balance {
        return Err(Error::invalid(
            "amount",
            format!(
                "{} is more than the open balance of {}",
                money::format_cents(amount_cents),
                money::format_cents(balance)
            ),
        ));
    }
    Ok(())
}

/// The balance check and the increment are one statement, so concurrent payments can never
/// together exceed the total.
async fn add_to_paid(
    conn: &impl ConnectionTrait,
    invoice_id: i64,
    amount_cents: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let res = i::Entity::update_many()
        .col_expr(
            i::Column::PaidCents,
            Expr::col(i::Column::PaidCents).add(amount_cents),
        )
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(now))
        .filter(i::Column::Id.eq(invoice_id))
        .filter(i::Column::Status.eq(OPEN))
        .filter(
            Expr::col(i::Column::PaidCents)
                .add(amount_cents)
                .lte(Expr::col(i::Column::TotalCents)),
        )
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::conflict(
            "another payment changed this invoice's balance meanwhile; read it again",
        ));
    }
    Ok(())
}

/// M-1: the payment itself, with the next receipt number.
async fn insert_payment(
    conn: &impl ConnectionTrait,
    invoice_id: i64,
    new: NewPayment,
    now: DateTime<Utc>,
) -> Result<p::Model> {
    let receipt_number = counters::next(conn, counters::RECEIPT).await?;
    Ok(p::ActiveModel {
        invoice_id: Set(invoice_id),
        amount_cents: Set(new.amount_cents),
        paid_on: Set(new.paid_on),
        method: Set(new.method.trim().to_owned()),
        reference: Set(new.reference.map(|r| r.trim().to_owned())),
        created_at: Set(now),
        receipt_number: Set(receipt_number),
        recorded_by: Set(new.recorded_by),
        refunded_cents: Set(0),
        reversed: Set(false),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// I-3: each line records its share of what the invoice has received ([`allocate`]).
pub(super) async fn allocate_to_lines(
    conn: &impl ConnectionTrait,
    after: &InvoiceView,
) -> Result<()> {
    let shares = allocate(&after.lines, after.invoice.paid_cents);
    for (line, share) in after.lines.iter().zip(shares) {
        if line.paid_cents != share {
            l::Entity::update_many()
                .col_expr(l::Column::PaidCents, Expr::val(share))
                .filter(l::Column::Id.eq(line.id))
                .exec(conn)
                .await?;
        }
    }
    Ok(())
}

pub async fn list(conn: &impl ConnectionTrait, invoice_id: i64) -> Result<Vec<p::Model>> {
    Ok(p::Entity::find()
        .filter(p::Column::InvoiceId.eq(invoice_id))
        .all(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(amount: i64, voluntary: bool) -> l::Model {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        l::Model {
            id: 0,
            invoice_id: 1,
            position: 0,
            product: "P".into(),
            subscription_id: None,
            term_begin: d,
            term_end: d,
            amount_cents: amount,
            paid_cents: 0,
            voluntary,
            is_primary: false,
            is_chapter: false,
            billed_term: None,
            credited_cents: 0,
            quantity: 1,
            price_reason: None,
        }
    }

    #[test]
    fn i3_partial_payments_go_to_non_voluntary_lines_first_in_order() {
        let lines = [line(1000, true), line(5000, false), line(2000, false)];
        assert_eq!(allocate(&lines, 6000), vec![0, 5000, 1000]);
        assert_eq!(allocate(&lines, 7500), vec![500, 5000, 2000]);
        assert_eq!(allocate(&lines, 8000), vec![1000, 5000, 2000]);
        assert_eq!(allocate(&lines, 0), vec![0, 0, 0]);
    }
}
