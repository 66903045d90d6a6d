//! M-4: credit notes. Staff reduce what an invoice asks, whole lines or amounts on lines, with
//! a reason, as a credit note with its own number. An invoice paid in full stays paid in full:
//! what was paid above the new total goes to the payer's credit (M-5). An open invoice whose
//! payments now cover what it asks is paid in full, with what that does (I-3).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;

use entity::credit_note as n;
use entity::credit_note_line as nl;
use entity::invoice as i;
use entity::invoice_line as l;
use entity::payment as p;

use crate::access::Actor;
use crate::db::Db;
use crate::error::{Error, Errors, Result};
use crate::events::{self, Event};
use crate::page::{self, Page, PageRequest};
use crate::{clock, counters, money};

use super::credit::{self, About, OVERPAYMENT};
use super::invoices::{self, InvoiceView, OPEN, PAID};
use super::payments::allocate_to_lines;

/// Credit notes' numbers.
pub const SEQUENCE: &str = "credit_note";

/// A line to credit: the invoice's line for `product`, by `amount_cents` (the whole line when
/// `None`).
#[derive(Debug, Clone)]
pub struct CreditLine {
    pub product: String,
    pub amount_cents: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewCreditNote {
    pub lines: Vec<CreditLine>,
    pub reason: String,
    pub created_by: Option<i64>,
}

/// A credit note with its lines.
#[derive(Debug, Clone)]
pub struct CreditNoteView {
    pub note: n::Model,
    pub lines: Vec<nl::Model>,
}

/// What issuing a credit note left: the note and the invoice.
#[derive(Debug, Clone)]
pub struct Credited {
    pub note: CreditNoteView,
    pub invoice: InvoiceView,
}

/// M-4: issues a credit note on invoice `invoice_id`, in one transaction.
pub async fn issue(db: &Db, invoice_id: i64, new: NewCreditNote) -> Result<Credited> {
    let reason = invoices::checked_reason(&new.reason)?;
    let txn = db.write().await?;
    let current = invoices::get(&txn, Actor::Staff, invoice_id).await?;
    check_creditable(&current)?;
    let amounts = line_amounts(&current, &new.lines)?;
    let credit: i64 = amounts.values().sum();
    check_not_everything_unpaid(&current, credit)?;

    let now = clock::now();
    lower_lines(&txn, &amounts).await?;
    let to_credit = lower_invoice(&txn, &current, credit, now).await?;
    let written = Note {
        credit,
        to_credit,
        reason,
        created_by: new.created_by,
    };
    let note = insert_note(&txn, &current, &amounts, written, now).await?;
    if to_credit > 0 {
        let about = About {
            invoice_id: Some(invoice_id),
            credit_note_id: Some(note.note.id),
            created_by: new.created_by,
            ..Default::default()
        };
        credit::add(
            &txn,
            current.invoice.bill_to_id,
            to_credit,
            OVERPAYMENT,
            about,
            now,
        )
        .await?;
    }
    let after = invoices::get(&txn, Actor::Staff, invoice_id).await?;
    allocate_to_lines(&txn, &after).await?;
    complete_if_covered(&txn, &after, now).await?;
    announce(&txn, &note, &after).await?;
    let invoice = invoices::get(&txn, Actor::Staff, invoice_id).await?;
    txn.commit().await?;
    Ok(Credited { note, invoice })
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<CreditNoteView> {
    let note = n::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("credit note", id))?;
    with_lines(conn, vec![note])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("credit note", id))
}

/// Credit notes, oldest first, optionally of one invoice or one contact's invoices.
pub async fn list(
    conn: &impl ConnectionTrait,
    invoice_id: Option<i64>,
    contact_id: Option<i64>,
    req: &PageRequest,
) -> Result<Page<CreditNoteView>> {
    let limit = req.limit()?;
    let mut q = n::Entity::find().order_by_asc(n::Column::Id);
    if let Some(after) = req.after_id()? {
        q = q.filter(n::Column::Id.gt(after));
    }
    if let Some(inv) = invoice_id {
        q = q.filter(n::Column::InvoiceId.eq(inv));
    }
    if let Some(c) = contact_id {
        q = q.filter(n::Column::ContactId.eq(c));
    }
    let rows = q.limit(limit + 1).all(conn).await?;
    let page = page::build(rows, limit, |r| r.id.to_string());
    Ok(Page {
        items: with_lines(conn, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

async fn with_lines(
    conn: &impl ConnectionTrait,
    notes: Vec<n::Model>,
) -> Result<Vec<CreditNoteView>> {
    let ids: Vec<i64> = notes.iter().map(|n| n.id).collect();
    let mut lines: HashMap<i64, Vec<nl::Model>> = HashMap::new();
    for line in nl::Entity::find()
        .filter(crate::sql::in_ids(nl::Column::CreditNoteId, &ids))
        .order_by_asc(nl::Column::Id)
        .all(conn)
        .await?
    {
        lines.entry(line.credit_note_id).or_default().push(line);
    }
    Ok(notes
        .into_iter()
        .map(|note| CreditNoteView {
            lines: lines.remove(&note.id).unwrap_or_default(),
            note,
        })
        .collect())
}

/// Only what an open or paid invoice asks can be credited.
fn check_creditable(current: &InvoiceView) -> Result<()> {
    let inv = &current.invoice;
    if inv.status != OPEN && inv.status != PAID {
        return Err(Error::conflict(format!(
            "invoice {} is {}; credit notes apply to open and paid invoices",
            inv.id, inv.status
        )));
    }
    Ok(())
}

/// The amount to take off each line, by line id: every product named once, on the invoice,
/// by more than zero and at most what its line asks.
fn line_amounts(current: &InvoiceView, asked: &[CreditLine]) -> Result<HashMap<i64, i64>> {
    let mut errors = Errors::new();
    let mut amounts: HashMap<i64, i64> = HashMap::new();
    if asked.is_empty() {
        errors.add("lines", "name at least one line to credit");
    }
    for (k, c) in asked.iter().enumerate() {
        let field = format!("lines[{k}]");
        let Some(line) = current.lines.iter().find(|l| l.product == c.product) else {
            errors.add(
                format!("{field}.product"),
                format!("{} is not on invoice {}", c.product, current.invoice.id),
            );
            continue;
        };
        if amounts.contains_key(&line.id) {
            errors.add(
                format!("{field}.product"),
                format!("{} is named twice", c.product),
            );
            continue;
        }
        let amount = c.amount_cents.unwrap_or(line.amount_cents);
        if amount <= 0 || amount > line.amount_cents {
            errors.add(
                format!("{field}.amount"),
                format!(
                    "must be more than 0 and at most the {} the line asks",
                    money::format_cents(line.amount_cents)
                ),
            );
            continue;
        }
        amounts.insert(line.id, amount);
    }
    errors.into_result()?;
    Ok(amounts)
}

/// Crediting all an unpaid invoice asks is cancelling or voiding it (I-2).
fn check_not_everything_unpaid(current: &InvoiceView, credit: i64) -> Result<()> {
    let inv = &current.invoice;
    if inv.paid_cents == 0 && credit == inv.total_cents {
        return Err(Error::conflict(format!(
            "crediting all of unpaid invoice {} leaves nothing asked: cancel or void it instead",
            inv.id
        )));
    }
    Ok(())
}

async fn lower_lines(conn: &impl ConnectionTrait, amounts: &HashMap<i64, i64>) -> Result<()> {
    for (line_id, amount) in amounts {
        l::Entity::update_many()
            .col_expr(
                l::Column::AmountCents,
                Expr::col(l::Column::AmountCents).sub(*amount),
            )
            .col_expr(
                l::Column::CreditedCents,
                Expr::col(l::Column::CreditedCents).add(*amount),
            )
            .filter(l::Column::Id.eq(*line_id))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// The invoice asks `credit` less, if nobody changed it meanwhile; what was paid above the
/// new total leaves it (for the payer's credit). Returns that amount.
async fn lower_invoice(
    conn: &impl ConnectionTrait,
    current: &InvoiceView,
    credit: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    let inv = &current.invoice;
    let total = inv.total_cents - credit;
    let to_credit = Ord::max(inv.paid_cents - total, 0);
    let res = i::Entity::update_many()
        .col_expr(i::Column::TotalCents, Expr::val(total))
        .col_expr(i::Column::PaidCents, Expr::val(inv.paid_cents - to_credit))
        .col_expr(
            i::Column::CreditedCents,
            Expr::col(i::Column::CreditedCents).add(credit),
        )
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(now))
        .filter(i::Column::Id.eq(inv.id))
        .filter(i::Column::Version.eq(inv.version))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::conflict(
            "the invoice changed meanwhile (a payment?); read it again",
        ));
    }
    Ok(to_credit)
}

/// What a credit note records besides its lines.
struct Note {
    credit: i64,
    to_credit: i64,
    reason: String,
    created_by: Option<i64>,
}

async fn insert_note(
    conn: &impl ConnectionTrait,
    current: &InvoiceView,
    amounts: &HashMap<i64, i64>,
    written: Note,
    now: DateTime<Utc>,
) -> Result<CreditNoteView> {
    let number = counters::next(conn, SEQUENCE).await?;
    let note = n::ActiveModel {
        number: Set(number),
        invoice_id: Set(current.invoice.id),
        contact_id: Set(current.invoice.contact_id),
        amount_cents: Set(written.credit),
        to_credit_cents: Set(written.to_credit),
        reason: Set(written.reason),
        created_by: Set(written.created_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let rows = current
        .lines
        .iter()
        .filter_map(|line| amounts.get(&line.id).map(|a| (line, *a)))
        .map(|(line, amount)| nl::ActiveModel {
            credit_note_id: Set(note.id),
            invoice_line_id: Set(line.id),
            product: Set(line.product.clone()),
            amount_cents: Set(amount),
            ..Default::default()
        });
    nl::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    get(conn, note.id).await
}

/// An open invoice whose payments now cover what it asks is paid in full (I-3); the last
/// payment is the one a refund would undo (M-2).
async fn complete_if_covered(
    conn: &impl ConnectionTrait,
    after: &InvoiceView,
    now: DateTime<Utc>,
) -> Result<()> {
    let inv = &after.invoice;
    if inv.status != OPEN || inv.paid_cents != inv.total_cents {
        return Ok(());
    }
    let last: Option<i64> = p::Entity::find()
        .select_only()
        .column(p::Column::Id)
        .filter(p::Column::InvoiceId.eq(inv.id))
        .order_by_desc(p::Column::Id)
        .into_tuple()
        .one(conn)
        .await?;
    let last = last.ok_or_else(|| Error::Internal("a covered invoice without payments".into()))?;
    super::complete::settle(conn, after, last, now).await
}

async fn announce(
    conn: &impl ConnectionTrait,
    note: &CreditNoteView,
    after: &InvoiceView,
) -> Result<()> {
    let inv = &after.invoice;
    let event = Event::invoice(
        events::INVOICE_CREDITED,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({
            "credit_note_id": note.note.id,
            "number": note.note.number,
            "amount": money::format_cents(note.note.amount_cents),
            "to_credit": money::format_cents(note.note.to_credit_cents),
            "reason": note.note.reason,
        }),
    );
    events::emit(conn, vec![event]).await
}
