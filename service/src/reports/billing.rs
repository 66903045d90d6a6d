//! renewal run results, open receivables (accrual) and cash received, by period. Four
//! aggregate statements whatever the number of periods: each row is put in its period by a
//! `CASE` over the period boundaries, and receivables at each period end are running sums.

use chrono::{Datelike, NaiveDate};
use sea_orm::{ConnectionTrait, Value};

use crate::billing::invoices::{CANCELLED, DRAFT, VOID};
use crate::error::{Error, Result};
use crate::sql::Sql;
use crate::{money, terms};

pub const MAX_PERIODS: usize = 240;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month,
    Quarter,
    Year,
}

impl Period {
    pub fn months(self) -> i32 {
        match self {
            Period::Month => 1,
            Period::Quarter => 3,
            Period::Year => 12,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    /// The first day of the period that contains `d` (quarters and years are calendar ones).
    pub fn start_containing(self, d: NaiveDate) -> NaiveDate {
        let month0 = (d.month0() as i32 / self.months()) * self.months();
        NaiveDate::from_ymd_opt(d.year(), month0 as u32 + 1, 1).unwrap_or(d)
    }
}

/// Boundaries `[b0, b1, ..., bn]`: period k runs from `b[k]` to the day before `b[k+1]`.
pub fn boundaries(period: Period, from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>> {
    if to < from {
        return Err(Error::invalid("to", "must not be before from"));
    }
    let mut out = vec![period.start_containing(from)];
    while out.last().is_some_and(|b| *b <= to) {
        if out.len() > MAX_PERIODS {
            return Err(Error::invalid(
                "from",
                format!(
                    "at most {MAX_PERIODS} periods per report; choose a longer period or a shorter range"
                ),
            ));
        }
        let last = *out.last().unwrap_or(&to);
        out.push(terms::add_months(last, period.months()));
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodRow {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub renewal_runs: i64,
    pub renewal_considered: i64,
    pub renewal_billed: i64,
    pub renewal_skipped: i64,
    pub renewal_amount_cents: i64,
    pub invoices_issued: i64,
    pub billed_cents: i64,
    pub voided_cents: i64,
    pub payments: i64,
    pub cash_received_cents: i64,
    /// Open accrual receivables at the period's last day.
    pub open_receivables_cents: i64,
}

#[derive(Debug, Clone)]
pub struct BillingReport {
    pub period: Period,
    pub rows: Vec<PeriodRow>,
}

/// `CASE WHEN col < b0 THEN -1 WHEN col < b1 THEN 0 ... ELSE n END`: the period index, -1 for
/// before the first period, n for after the last.
fn bucket(q: &mut Sql, column: &str, bounds: &[Value]) {
    q.push("CAST(CASE");
    for (k, b) in bounds.iter().enumerate() {
        q.push(" WHEN ").push(column).push(" < ").bind(b.clone());
        q.push(&format!(" THEN {}", k as i64 - 1));
    }
    q.push(&format!(" ELSE {} END AS BIGINT)", bounds.len() as i64 - 1));
}

/// Runs `SELECT b, <aggregates> FROM (<inner with bucket b>) t GROUP BY b`; returns rows of
/// (period index, values).
async fn by_bucket(
    conn: &impl ConnectionTrait,
    q: Sql,
    values: usize,
) -> Result<Vec<(i64, Vec<i64>)>> {
    let mut out = Vec::new();
    for row in conn.query_all_raw(q.build()).await? {
        let b: i64 = row.try_get_by_index(0)?;
        let mut vals = Vec::with_capacity(values);
        for k in 0..values {
            let v: Option<i64> = row.try_get_by_index(k + 1)?;
            vals.push(v.unwrap_or(0));
        }
        out.push((b, vals));
    }
    Ok(out)
}

pub async fn billing_report(
    conn: &impl ConnectionTrait,
    period: Period,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BillingReport> {
    let bounds = boundaries(period, from, to)?;
    let n = bounds.len() - 1;
    let day_bounds: Vec<Value> = bounds.iter().map(|d| Value::from(*d)).collect();
    let instant_bounds: Vec<Value> = bounds
        .iter()
        .map(|d| Value::from(super::start_of(*d)))
        .collect();
    let backend = conn.get_database_backend();
    let mut rows: Vec<PeriodRow> = bounds
        .windows(2)
        .map(|w| PeriodRow {
            start: w[0],
            end: w[1].pred_opt().unwrap_or(w[1]),
            ..Default::default()
        })
        .collect();
    let sum = |col: &str| format!("CAST(SUM({col}) AS BIGINT)");

    // Renewal runs that completed, by start.
    let mut q = Sql::new(backend);
    q.push(&format!(
        "SELECT b, COUNT(*), {}, {}, {}, {} FROM (SELECT ",
        sum("considered"),
        sum("billed"),
        sum("skipped"),
        sum("total_cents")
    ));
    bucket(&mut q, "started_at", &instant_bounds);
    q.push(" AS b, considered, billed, skipped, total_cents FROM renewal_runs WHERE status = ")
        .bind("completed")
        .push(") t GROUP BY b");
    for (b, v) in by_bucket(conn, q, 5).await? {
        if let Some(r) = usize::try_from(b).ok().and_then(|b| rows.get_mut(b)) {
            r.renewal_runs = v[0];
            r.renewal_considered = v[1];
            r.renewal_billed = v[2];
            r.renewal_skipped = v[3];
            r.renewal_amount_cents = v[4];
        }
    }

    // Invoices issued (drafts are not issued yet), by creation; accrual ones separately, for
    // the receivables.
    let accrual_case =
        |col: &str| format!("CASE WHEN accounting_method = 'accrual' THEN {col} ELSE 0 END");
    let mut q = Sql::new(backend);
    q.push(&format!(
        "SELECT b, COUNT(*), {}, {} FROM (SELECT ",
        sum("total_cents"),
        sum("accrual")
    ));
    bucket(&mut q, "created_at", &instant_bounds);
    q.push(&format!(
        " AS b, total_cents, {} AS accrual FROM invoices WHERE status <> ",
        accrual_case("total_cents")
    ))
    .bind(DRAFT)
    .push(") t GROUP BY b");
    let issued = by_bucket(conn, q, 3).await?;

    // Voided or cancelled invoices, by when that happened (their last change).
    let mut q = Sql::new(backend);
    q.push(&format!(
        "SELECT b, {}, {} FROM (SELECT ",
        sum("total_cents"),
        sum("accrual")
    ));
    bucket(&mut q, "updated_at", &instant_bounds);
    q.push(&format!(
        " AS b, total_cents, {} AS accrual FROM invoices WHERE status IN (",
        accrual_case("total_cents")
    ))
    .bind(VOID)
    .push(", ")
    .bind(CANCELLED)
    .push(")) t GROUP BY b");
    let voided = by_bucket(conn, q, 2).await?;

    // Payments, by the day paid.
    let mut q = Sql::new(backend);
    q.push(&format!(
        "SELECT b, COUNT(*), {}, {} FROM (SELECT ",
        sum("amount_cents"),
        sum("accrual")
    ));
    bucket(&mut q, "p.paid_on", &day_bounds);
    q.push(
        " AS b, p.amount_cents, CASE WHEN i.accounting_method = 'accrual' THEN p.amount_cents ELSE 0 END AS accrual \
         FROM payments p JOIN invoices i ON i.id = p.invoice_id) t GROUP BY b",
    );
    let paid = by_bucket(conn, q, 3).await?;

    // Receivables at each period end: everything accrual issued up to then, less what was
    // voided and paid up to then. Index 0 of `delta` is "before the first period".
    let mut delta = vec![0i64; n + 1];
    let slot = |b: i64| usize::try_from(b + 1).ok().filter(|s| *s <= n);
    for (b, v) in &issued {
        if let Some(r) = usize::try_from(*b).ok().and_then(|b| rows.get_mut(b)) {
            r.invoices_issued = v[0];
            r.billed_cents = v[1];
        }
        if let Some(s) = slot(*b) {
            money::add_to(&mut delta[s], v[2])?;
        }
    }
    for (b, v) in &voided {
        if let Some(r) = usize::try_from(*b).ok().and_then(|b| rows.get_mut(b)) {
            r.voided_cents = v[0];
        }
        if let Some(s) = slot(*b) {
            money::take_from(&mut delta[s], v[1])?;
        }
    }
    for (b, v) in &paid {
        if let Some(r) = usize::try_from(*b).ok().and_then(|b| rows.get_mut(b)) {
            r.payments = v[0];
            r.cash_received_cents = v[1];
        }
        if let Some(s) = slot(*b) {
            money::take_from(&mut delta[s], v[2])?;
        }
    }
    let mut running = delta[0];
    for (k, r) in rows.iter_mut().enumerate() {
        money::add_to(&mut running, delta[k + 1])?;
        r.open_receivables_cents = running;
    }
    Ok(BillingReport { period, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a3_periods_cover_the_range_in_calendar_periods() {
        let b = boundaries(Period::Month, d("2026-01-31"), d("2026-03-01")).unwrap();
        assert_eq!(
            b,
            vec![
                d("2026-01-01"),
                d("2026-02-01"),
                d("2026-03-01"),
                d("2026-04-01")
            ]
        );
        let b = boundaries(Period::Quarter, d("2026-05-15"), d("2026-07-01")).unwrap();
        assert_eq!(b, vec![d("2026-04-01"), d("2026-07-01"), d("2026-10-01")]);
        let b = boundaries(Period::Year, d("2024-02-29"), d("2024-12-31")).unwrap();
        assert_eq!(b, vec![d("2024-01-01"), d("2025-01-01")]);
        assert!(boundaries(Period::Month, d("2026-02-01"), d("2026-01-01")).is_err());
        assert!(boundaries(Period::Month, d("1990-01-01"), d("2026-01-01")).is_err());
    }
}
