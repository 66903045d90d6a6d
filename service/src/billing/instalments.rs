//! S-11: instalment plans. Staff (or a member, where the invoice's cycle allows it) turn the
//! open balance of a join or renewal invoice into 2 to 12 monthly parts due on a day of the
//! month. Parts differ by at most one cent, the extra cents on the last parts. The invoice
//! takes effect (the membership starts or is renewed) once its first part is paid, and is paid
//! once every part is; expiry (L-1) treats a part overdue by more than the grace period as
//! non-payment, as of the paid-through before the invoice.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use entity::instalment as p;
use entity::invoice as i;

use crate::access::Actor;
use crate::db::Db;
use crate::error::{Error, Errors, Result};
use crate::events::{self, Event};
use crate::{billing_cycles, clock, money, terms};

use super::invoices::{self, InvoiceKind, InvoiceView, OPEN};

pub const MIN_PARTS: u32 = 2;
pub const MAX_PARTS: u32 = 12;
/// The last day of the month a plan may fall due on: every month has it.
pub const LAST_DAY: u32 = 28;

/// Both are required; they are checked once the caller may see the invoice (SEC-1: another
/// member's invoice is "not found" whatever the body says).
#[derive(Debug, Clone, Copy)]
pub struct NewPlan {
    pub parts: Option<u32>,
    /// 1 to 28: a day every month has.
    pub day_of_month: Option<u32>,
}

/// S-11: plans the open balance of invoice `invoice_id` as of `today`, in one transaction.
pub async fn plan(
    db: &Db,
    actor: Actor,
    invoice_id: i64,
    new: NewPlan,
    today: NaiveDate,
) -> Result<InvoiceView> {
    let txn = db.write().await?;
    let current = invoices::get(&txn, actor, invoice_id).await?;
    let (parts, day_of_month) = check_request(new)?;
    check_plannable(&current)?;
    if let Actor::Member { .. } = actor {
        check_members_may(&txn, &current).await?;
    }
    let amounts = split(current.balance(), parts)?;
    let dues = due_dates(today, day_of_month, parts);
    insert_parts(&txn, &current, &amounts, &dues).await?;
    touch(&txn, &current).await?;
    announce(&txn, &current, &amounts, &dues).await?;
    let view = invoices::get(&txn, Actor::Staff, invoice_id).await?;
    txn.commit().await?;
    Ok(view)
}

/// The plans of `invoice_ids`, each in part order.
pub async fn of_invoices(
    conn: &impl ConnectionTrait,
    invoice_ids: &[i64],
) -> Result<HashMap<i64, Vec<p::Model>>> {
    let mut out: HashMap<i64, Vec<p::Model>> = HashMap::new();
    if invoice_ids.is_empty() {
        return Ok(out);
    }
    for part in p::Entity::find()
        .filter(crate::sql::in_ids(p::Column::InvoiceId, invoice_ids))
        .order_by_asc(p::Column::InvoiceId)
        .order_by_asc(p::Column::Number)
        .all(conn)
        .await?
    {
        out.entry(part.invoice_id).or_default().push(part);
    }
    Ok(out)
}

/// I-8, R-7: the lines of an invoice paid in instalments are fixed: its parts add up to them.
pub fn check_no_plan(view: &InvoiceView) -> Result<()> {
    if view.instalments.is_empty() {
        return Ok(());
    }
    Err(Error::conflict(format!(
        "invoice {} is paid in instalments; its lines no longer change",
        view.invoice.id
    )))
}

/// Whether `view` has a plan whose first part is paid: the invoice takes effect.
pub fn first_part_paid(view: &InvoiceView) -> bool {
    view.instalments
        .first()
        .is_some_and(|first| first.paid_of(view.invoice.paid_cents) == first.amount_cents)
}

/// L-1: holders of open invoices with a part unpaid on `cutoff` or before (overdue by more
/// than the grace period), whose paid-through before the invoice (the day before its term
/// began) is `cutoff` or before too.
pub fn overdue_holders(cutoff: NaiveDate) -> SelectStatement {
    let (inv, part) = (Alias::new("inv"), Alias::new("part"));
    let day_after = cutoff.succ_opt().unwrap_or(cutoff);
    Query::select()
        .column((inv.clone(), i::Column::ContactId))
        .from_as(p::Entity, part.clone())
        .join_as(
            JoinType::InnerJoin,
            i::Entity,
            inv.clone(),
            Expr::col((inv.clone(), i::Column::Id)).equals((part.clone(), p::Column::InvoiceId)),
        )
        .and_where(Expr::col((inv.clone(), i::Column::Status)).eq(OPEN))
        .and_where(Expr::col((part.clone(), p::Column::DueOn)).lte(cutoff))
        .and_where(
            Expr::col((inv.clone(), i::Column::PaidCents)).lt(Expr::col((
                part.clone(),
                p::Column::CoversFromCents,
            ))
            .add(Expr::col((part, p::Column::AmountCents)))),
        )
        .and_where(Expr::col((inv, i::Column::TermBegin)).lte(day_after))
        .to_owned()
}

/// The number of parts and the day of the month, each given and in range.
fn check_request(new: NewPlan) -> Result<(u32, u32)> {
    let mut errors = Errors::new();
    match new.parts {
        None => errors.add("parts", "is required"),
        Some(p) if !(MIN_PARTS..=MAX_PARTS).contains(&p) => {
            errors.add("parts", format!("must be {MIN_PARTS} to {MAX_PARTS}"))
        }
        _ => {}
    }
    match new.day_of_month {
        None => errors.add("day_of_month", "is required"),
        Some(d) if !(1..=LAST_DAY).contains(&d) => errors.add(
            "day_of_month",
            format!("must be 1 to {LAST_DAY}, a day every month has"),
        ),
        _ => {}
    }
    errors.into_result()?;
    Ok((
        new.parts.unwrap_or(MIN_PARTS),
        new.day_of_month.unwrap_or(1),
    ))
}

/// Only an open join or renewal invoice with a balance and no plan yet.
fn check_plannable(current: &InvoiceView) -> Result<()> {
    let inv = &current.invoice;
    if inv.kind == InvoiceKind::Other {
        return Err(Error::conflict(format!(
            "invoice {} is a one-off invoice; instalments spread join and renewal invoices",
            inv.id
        )));
    }
    if inv.status != OPEN || current.balance() <= 0 {
        return Err(Error::conflict(format!(
            "invoice {} is {} with a balance of {}; only an open balance is spread",
            inv.id,
            inv.status,
            money::format_cents(current.balance())
        )));
    }
    if !current.instalments.is_empty() {
        return Err(Error::conflict(format!(
            "invoice {} already has an instalment plan",
            inv.id
        )));
    }
    Ok(())
}

/// A member plans their own invoice only where its cycle allows it.
async fn check_members_may(conn: &impl ConnectionTrait, current: &InvoiceView) -> Result<()> {
    let allowed = match current.invoice.cycle_id {
        Some(id) => {
            billing_cycles::get(conn, id)
                .await?
                .fields
                .member_instalments
        }
        None => false,
    };
    if allowed {
        return Ok(());
    }
    Err(Error::Forbidden {
        message: "this invoice's billing cycle does not let members pay in instalments; ask the association".into(),
        fields: vec![],
    })
}

/// `balance` in `parts` parts differing by at most one cent, the extra cents on the last ones.
pub fn split(balance: i64, parts: u32) -> Result<Vec<i64>> {
    let n = i64::from(parts);
    let (base, extra) = (balance / n, balance % n);
    if base == 0 {
        return Err(Error::invalid(
            "parts",
            format!(
                "a balance of {} cannot be spread over {parts} parts",
                money::format_cents(balance)
            ),
        ));
    }
    Ok((0..n).map(|k| base + i64::from(k >= n - extra)).collect())
}

/// The first `day` (1 to [`LAST_DAY`]) of a month on or after `from`, then the same day of each
/// next month.
pub fn due_dates(from: NaiveDate, day: u32, parts: u32) -> Vec<NaiveDate> {
    let first_of_month = from.with_day(1).unwrap_or(from);
    let on_day = |first: NaiveDate| first.with_day(day).unwrap_or(first);
    let skip = i32::from(on_day(first_of_month) < from);
    (0..parts as i32)
        .map(|k| on_day(terms::add_months(first_of_month, skip + k)))
        .collect()
}

async fn insert_parts(
    conn: &impl ConnectionTrait,
    current: &InvoiceView,
    amounts: &[i64],
    dues: &[NaiveDate],
) -> Result<()> {
    let now = clock::now();
    let mut covers_from = current.invoice.paid_cents;
    let mut rows = Vec::with_capacity(amounts.len());
    for (k, (amount, due)) in amounts.iter().zip(dues).enumerate() {
        rows.push(p::ActiveModel {
            invoice_id: Set(current.invoice.id),
            number: Set(k as i32 + 1),
            due_on: Set(*due),
            amount_cents: Set(*amount),
            covers_from_cents: Set(covers_from),
            created_at: Set(now),
            ..Default::default()
        });
        covers_from += amount;
    }
    p::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The invoice changed: a new version.
async fn touch(conn: &impl ConnectionTrait, current: &InvoiceView) -> Result<()> {
    let res = i::Entity::update_many()
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(clock::now()))
        .filter(i::Column::Id.eq(current.invoice.id))
        .filter(i::Column::Version.eq(current.invoice.version))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::conflict(
            "the invoice changed meanwhile (a payment?); read it again",
        ));
    }
    Ok(())
}

async fn announce(
    conn: &impl ConnectionTrait,
    current: &InvoiceView,
    amounts: &[i64],
    dues: &[NaiveDate],
) -> Result<()> {
    let inv = &current.invoice;
    let parts: Vec<_> = amounts
        .iter()
        .zip(dues)
        .map(|(a, d)| json!({"due_on": d, "amount": money::format_cents(*a)}))
        .collect();
    let event = Event::invoice(
        events::INVOICE_INSTALMENTS,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({"instalments": parts}),
    );
    events::emit(conn, vec![event]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn s11_parts_differ_by_at_most_a_cent_and_the_last_ones_take_the_rest() {
        assert_eq!(split(10000, 3).ok(), Some(vec![3333, 3333, 3334]));
        assert_eq!(
            split(100005, 12).ok().map(|p| p.iter().sum::<i64>()),
            Some(100005)
        );
        let parts = split(100005, 12).unwrap_or_default();
        assert!(
            parts
                .iter()
                .max()
                .zip(parts.iter().min())
                .is_some_and(|(a, b)| a - b <= 1)
        );
        assert!(parts.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(split(2, 2).ok(), Some(vec![1, 1]));
        assert!(split(1, 2).is_err());
    }

    #[test]
    fn s11_parts_fall_due_monthly_from_the_first_such_day() {
        assert_eq!(
            due_dates(d("2026-01-15"), 28, 4),
            [
                d("2026-01-28"),
                d("2026-02-28"),
                d("2026-03-28"),
                d("2026-04-28")
            ]
        );
        // A day already past this month starts next month, across a leap February.
        assert_eq!(
            due_dates(d("2028-01-31"), 28, 3),
            [d("2028-02-28"), d("2028-03-28"), d("2028-04-28")]
        );
        assert_eq!(
            due_dates(d("2026-12-15"), 15, 2),
            [d("2026-12-15"), d("2027-01-15")]
        );
        assert_eq!(
            due_dates(d("2026-12-16"), 1, 2),
            [d("2027-01-01"), d("2027-02-01")]
        );
    }
}
