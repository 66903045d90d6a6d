//! I-7: reminders list contacts with open renewal invoices of a cycle. A voluntary line is
//! reminded of only while a non-voluntary line of the same invoice is still open.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use entity::invoice as i;
use entity::invoice_line as l;
use entity::notice as n;

use crate::billing::invoices::InvoiceKind;
use crate::billing_cycles;
use crate::db::Db;
use crate::error::Result;
use crate::page::{self, Page, PageRequest};
use crate::{clock, notices};

use super::invoices::OPEN;

#[derive(Debug, Clone)]
pub struct Reminder {
    pub invoice: i::Model,
    /// The lines still open, in line order.
    pub lines: Vec<l::Model>,
}

impl Reminder {
    pub fn open_amount(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.amount_cents - l.paid_cents)
            .sum()
    }
}

/// The open lines a reminder shows (I-7).
pub fn open_lines(lines: Vec<l::Model>) -> Vec<l::Model> {
    let open: Vec<l::Model> = lines
        .into_iter()
        .filter(|l| l.amount_cents > l.paid_cents)
        .collect();
    if open.iter().any(|l| !l.voluntary) {
        open
    } else {
        Vec::new()
    }
}

/// Open renewal invoices of the cycle billed at least the cycle's `reminder_days` before
/// `as_of` (B-13), with their open lines.
pub async fn list(
    conn: &impl ConnectionTrait,
    cycle_id: i64,
    as_of: NaiveDate,
    req: &PageRequest,
) -> Result<Page<Reminder>> {
    let cycle = billing_cycles::get(conn, cycle_id).await?;
    let limit = req.limit()?;
    let days = i64::from(cycle.fields.reminder_days.unwrap_or(0));
    let billed_by = as_of - chrono::Duration::days(days);
    let cutoff = billed_by
        .and_hms_opt(23, 59, 59)
        .map(|t| t.and_utc())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut after = req.after_id()?.unwrap_or(0);
    // Invoices whose only open lines are voluntary are left out, so read until the page is
    // full or the invoices run out.
    loop {
        let batch = i::Entity::find()
            .filter(i::Column::CycleId.eq(cycle_id))
            .filter(i::Column::Kind.eq(InvoiceKind::Renewal))
            .filter(i::Column::Status.eq(OPEN))
            .filter(Expr::col(i::Column::PaidCents).lt(Expr::col(i::Column::TotalCents)))
            .filter(i::Column::CreatedAt.lte(cutoff))
            .filter(i::Column::Id.gt(after))
            .order_by_asc(i::Column::Id)
            .limit(limit + 1)
            .all(conn)
            .await?;
        let exhausted = batch.len() as u64 <= limit;
        let ids: Vec<i64> = batch.iter().map(|b| b.id).collect();
        let mut lines = l::Entity::find()
            .filter(l::Column::InvoiceId.is_in(ids))
            .order_by_asc(l::Column::InvoiceId)
            .order_by_asc(l::Column::Position)
            .all(conn)
            .await?;
        for inv in batch {
            after = inv.id;
            let (mine, rest): (Vec<l::Model>, Vec<l::Model>) =
                lines.into_iter().partition(|l| l.invoice_id == inv.id);
            lines = rest;
            let open = open_lines(mine);
            if !open.is_empty() {
                out.push(Reminder {
                    invoice: inv,
                    lines: open,
                });
            }
            if out.len() as u64 > limit {
                break;
            }
        }
        if exhausted || out.len() as u64 > limit {
            break;
        }
    }
    Ok(page::build(out, limit, |r| r.invoice.id.to_string()))
}

/// N-1, I-7: a `reminder` notice to the payer of each invoice the reminder list of `as_of`
/// shows, once a day: an invoice reminded of already that day is left out. Returns how many
/// were written.
pub async fn send(db: &Db, cycle_id: i64, as_of: NaiveDate) -> Result<u64> {
    let txn = db.write().await?;
    let mut ids = Vec::new();
    let mut req = PageRequest {
        limit: Some(page::MAX_LIMIT),
        cursor: None,
    };
    loop {
        let page = list(&txn, cycle_id, as_of, &req).await?;
        ids.extend(page.items.iter().map(|r| r.invoice.id));
        match page.next_cursor {
            Some(cursor) => req.cursor = Some(cursor),
            None => break,
        }
    }
    let now = clock::now();
    let day_start = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let reminded: std::collections::HashSet<i64> = n::Entity::find()
        .select_only()
        .column(n::Column::InvoiceId)
        .filter(n::Column::Kind.eq(notices::REMINDER))
        .filter(n::Column::CreatedAt.gte(day_start))
        .filter(n::Column::InvoiceId.is_not_null())
        .into_tuple::<Option<i64>>()
        .all(&txn)
        .await?
        .into_iter()
        .flatten()
        .collect();
    ids.retain(|id| !reminded.contains(id));
    notices::for_invoices(
        &txn,
        notices::REMINDER,
        &ids,
        notices::Recipient::Payer,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(ids.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(amount: i64, paid: i64, voluntary: bool) -> l::Model {
        let d = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default();
        l::Model {
            id: 0,
            invoice_id: 1,
            position: 0,
            product: "P".into(),
            subscription_id: None,
            term_begin: d,
            term_end: d,
            amount_cents: amount,
            paid_cents: paid,
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
    fn i7_voluntary_lines_only_with_an_open_non_voluntary_line() {
        let open = open_lines(vec![line(5000, 0, false), line(2500, 0, true)]);
        assert_eq!(open.len(), 2);
        // Dues paid, only the gift open: no reminder at all.
        assert!(open_lines(vec![line(5000, 5000, false), line(2500, 0, true)]).is_empty());
        // Partly paid dues keep the reminder, with the gift.
        assert_eq!(
            open_lines(vec![line(5000, 100, false), line(2500, 0, true)]).len(),
            2
        );
    }
}
