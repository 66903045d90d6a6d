//! I-1, I-2, I-6: invoices as read, listed, voided and cancelled.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use entity::invoice as i;
use entity::invoice_line as l;

pub use entity::words::InvoiceKind;

use crate::access::{self, Actor};
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::page::{self, Page, PageRequest};
use crate::settings::AccountingMethod;
use crate::{clock, db::Db};

pub const DRAFT: &str = "draft";
pub const OPEN: &str = "open";
pub const PAID: &str = "paid";
pub const VOID: &str = "void";
pub const CANCELLED: &str = "cancelled";
/// M-6: an accrual invoice's balance written off as bad debt.
pub const WRITTEN_OFF: &str = "written_off";
pub const STATUSES: [&str; 6] = [DRAFT, OPEN, PAID, VOID, CANCELLED, WRITTEN_OFF];

/// An invoice with its lines, in line order, and its instalment plan (S-11), in part order.
#[derive(Debug, Clone)]
pub struct InvoiceView {
    pub invoice: i::Model,
    pub lines: Vec<l::Model>,
    pub instalments: Vec<entity::instalment::Model>,
}

impl InvoiceView {
    /// What is still owed: what the invoice asks, less what it received and what was written
    /// off (M-6).
    pub fn balance(&self) -> i64 {
        self.invoice.total_cents - self.invoice.paid_cents - self.invoice.written_off_cents
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub contact_id: Option<i64>,
    /// Invoices this contact holds or pays (S-10).
    pub party: Option<i64>,
    pub status: Option<String>,
    pub cycle_id: Option<i64>,
    pub renewal_run: Option<i64>,
    pub updated_since: Option<DateTime<Utc>>,
}

/// `invoices` with their lines and instalment plans, read in one query each.
pub async fn with_lines(
    conn: &impl ConnectionTrait,
    invoices: Vec<i::Model>,
) -> Result<Vec<InvoiceView>> {
    let ids: Vec<i64> = invoices.iter().map(|m| m.id).collect();
    let mut lines: HashMap<i64, Vec<l::Model>> = HashMap::new();
    if !ids.is_empty() {
        for line in l::Entity::find()
            .filter(l::Column::InvoiceId.is_in(ids.clone()))
            .order_by_asc(l::Column::InvoiceId)
            .order_by_asc(l::Column::Position)
            .all(conn)
            .await?
        {
            lines.entry(line.invoice_id).or_default().push(line);
        }
    }
    let mut plans = super::instalments::of_invoices(conn, &ids).await?;
    Ok(invoices
        .into_iter()
        .map(|invoice| InvoiceView {
            lines: lines.remove(&invoice.id).unwrap_or_default(),
            instalments: plans.remove(&invoice.id).unwrap_or_default(),
            invoice,
        })
        .collect())
}

/// SEC-1: a member sees only their own invoices; another's is "not found".
pub async fn get(conn: &impl ConnectionTrait, actor: Actor, id: i64) -> Result<InvoiceView> {
    let m = i::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("invoice", id))?;
    access::check(actor, "invoice", id, &[m.contact_id, m.bill_to_id])?;
    with_lines(conn, vec![m])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("invoice", id))
}

pub async fn list(
    conn: &impl ConnectionTrait,
    f: &Filter,
    req: &PageRequest,
) -> Result<Page<InvoiceView>> {
    let limit = req.limit()?;
    let mut cond = Condition::all();
    if let Some(after) = req.after_id()? {
        cond = cond.add(i::Column::Id.gt(after));
    }
    if let Some(c) = f.contact_id {
        cond = cond.add(i::Column::ContactId.eq(c));
    }
    if let Some(p) = f.party {
        cond = cond.add(
            Condition::any()
                .add(i::Column::ContactId.eq(p))
                .add(i::Column::BillToId.eq(p)),
        );
    }
    if let Some(s) = &f.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(Error::bad_parameter(
                "status",
                format!("must be one of {}", STATUSES.join(", ")),
            ));
        }
        cond = cond.add(i::Column::Status.eq(s.as_str()));
    }
    if let Some(c) = f.cycle_id {
        cond = cond.add(i::Column::CycleId.eq(c));
    }
    if let Some(r) = f.renewal_run {
        cond = cond.add(i::Column::RenewalRunId.eq(r));
    }
    if let Some(since) = f.updated_since {
        cond = cond.add(i::Column::UpdatedAt.gte(since));
    }
    let rows = i::Entity::find()
        .filter(cond)
        .order_by_asc(i::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let page = page::build(rows, limit, |r| r.id.to_string());
    Ok(Page {
        items: with_lines(conn, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

/// Moves an open, unpaid invoice to `to`, checking the version it was read at.
async fn close(
    db: &Db,
    id: i64,
    to: &str,
    reason: Option<String>,
    method: AccountingMethod,
) -> Result<InvoiceView> {
    let txn = db.write().await?;
    let current = get(&txn, Actor::Staff, id).await?;
    let inv = &current.invoice;
    if inv.status != OPEN {
        return Err(Error::conflict(format!(
            "invoice {id} is {}; only open invoices can be {to}",
            inv.status
        )));
    }
    if inv.accounting_method != method {
        return Err(Error::conflict(if to == VOID {
            format!("invoice {id} is a cash invoice: cancel it instead of voiding it")
        } else {
            format!(
                "invoice {id} is an accrual invoice: it is never cancelled, void it with a reason"
            )
        }));
    }
    if inv.paid_cents > 0 {
        return Err(Error::conflict(format!(
            "invoice {id} has a net paid amount of {}; refund or reverse its payments before it can be {to} (M-7)",
            crate::money::format_cents(inv.paid_cents)
        )));
    }
    let res = i::Entity::update_many()
        .col_expr(i::Column::Status, Expr::val(to))
        .col_expr(i::Column::VoidReason, Expr::val(reason))
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(clock::now()))
        .filter(i::Column::Id.eq(id))
        .filter(i::Column::Version.eq(inv.version))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::conflict("the invoice changed meanwhile; retry"));
    }
    let billed: Vec<i64> = current
        .lines
        .iter()
        .filter_map(|l| l.subscription_id)
        .collect();
    super::billed::release(&txn, inv, &billed, clock::now()).await?;
    // Its terms are no longer billed: a later run or join may bill them again.
    l::Entity::update_many()
        .col_expr(
            l::Column::BilledTerm,
            Expr::val(Option::<chrono::NaiveDate>::None),
        )
        .filter(l::Column::InvoiceId.eq(id))
        .exec(&txn)
        .await?;
    let view = get(&txn, Actor::Staff, id).await?;
    let kind = if to == VOID {
        events::INVOICE_VOIDED
    } else {
        events::INVOICE_CANCELLED
    };
    let reason = json!({"reason": view.invoice.void_reason});
    let ev = Event::invoice(kind, id, inv.contact_id, inv.total_cents, reason);
    events::emit(&txn, vec![ev]).await?;
    txn.commit().await?;
    Ok(view)
}

/// I-2, I-8, M-2..M-6: voids, adjustments and every correction of money give a reason.
pub const REASON_RULE: &str = "give a reason of 1 to 200 characters";

/// The reason given, trimmed, when it has 1 to 200 characters ([`REASON_RULE`]).
pub fn checked_reason(reason: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(Error::invalid("reason", REASON_RULE));
    }
    Ok(reason.to_owned())
}

/// I-2: an accrual invoice is never deleted, only voided with a reason.
pub async fn void(db: &Db, id: i64, reason: &str) -> Result<InvoiceView> {
    let reason = checked_reason(reason)?;
    close(db, id, VOID, Some(reason), AccountingMethod::Accrual).await
}

/// I-2: an unpaid cash invoice may be cancelled, which resets what billing changed (J-6).
pub async fn cancel(db: &Db, id: i64, reason: Option<&str>) -> Result<InvoiceView> {
    close(
        db,
        id,
        CANCELLED,
        reason.map(|r| r.trim().to_owned()),
        AccountingMethod::Cash,
    )
    .await
}

/// Inserts an invoice and its lines, each naming the subscription it bills (J-6); returns the
/// invoice id.
pub async fn insert(
    conn: &impl ConnectionTrait,
    invoice: i::ActiveModel,
    lines: Vec<super::lines::LineDraft>,
) -> Result<i64> {
    insert_billing(conn, invoice, lines, |_| true).await
}

/// Writes an invoice whose lines for which `bills` holds each bill their subscription (J-6); a
/// one-off invoice bills only its subscription products (M-8).
pub async fn insert_billing(
    conn: &impl ConnectionTrait,
    invoice: i::ActiveModel,
    lines: Vec<super::lines::LineDraft>,
    bills: impl Fn(&super::lines::LineDraft) -> bool,
) -> Result<i64> {
    let inv = invoice.insert(conn).await?;
    let billing = super::billed::Billing::of(&inv, inv.created_at);
    let billed: Vec<super::lines::LineDraft> = lines.iter().filter(|l| bills(l)).cloned().collect();
    let subs = super::billed::bill(conn, billing, &billed).await?;
    insert_lines(conn, inv.id, lines, &subs).await?;
    let ev = Event::invoice(
        events::INVOICE_CREATED,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({"kind": inv.kind}),
    );
    events::emit(conn, vec![ev]).await?;
    Ok(inv.id)
}

/// Writes an invoice's lines in order, with one multi-row statement; each names the
/// subscription of `subs` it bills, for the term it begins (R-2's billing key).
pub async fn insert_lines(
    conn: &impl ConnectionTrait,
    invoice_id: i64,
    lines: Vec<super::lines::LineDraft>,
    subs: &HashMap<String, i64>,
) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    l::Entity::insert_many(lines.into_iter().enumerate().map(|(n, d)| l::ActiveModel {
        invoice_id: Set(invoice_id),
        position: Set(n as i32),
        subscription_id: Set(subs.get(&d.product).copied()),
        billed_term: Set(subs.get(&d.product).map(|_| d.term_begin)),
        product: Set(d.product),
        term_begin: Set(d.term_begin),
        term_end: Set(d.term_end),
        amount_cents: Set(d.amount_cents),
        paid_cents: Set(0),
        voluntary: Set(d.voluntary),
        is_primary: Set(d.is_primary),
        is_chapter: Set(d.is_chapter),
        quantity: Set(d.quantity),
        price_reason: Set(d.price_reason),
        ..Default::default()
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
