//! A-3, M-9: renewal run results, open receivables (accrual), cash received net of refunds
//! and reversals, credit notes and write-offs, by period. Seven aggregate statements whatever
//! the number of periods: each row is put in its period by a `CASE` over the period
//! boundaries, and receivables at each period end are running sums. Credit applied to an
//! invoice (method `credit`) is not cash: it pays the invoice but counts neither as cash
//! received nor, refunded back to credit, as cash refunded.

use chrono::{Datelike, NaiveDate};
use sea_orm::{ConnectionTrait, DatabaseBackend, Value};

use crate::billing::credit::METHOD as CREDIT;
use crate::billing::invoices::{CANCELLED, DRAFT, VOID};
use crate::error::{Error, Result};
use crate::settings::AccountingMethod;
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
    /// M-2: money paid out again, by when it was refunded.
    pub refunded_cents: i64,
    /// M-3: payments that failed afterwards, by when they were reversed.
    pub reversed_cents: i64,
    /// M-4: what credit notes took off invoices.
    pub credited_cents: i64,
    /// M-6: balances written off as bad debt.
    pub written_off_cents: i64,
    /// Open accrual receivables at the period's last day.
    pub open_receivables_cents: i64,
}

impl PeriodRow {
    /// M-9: cash received less what was refunded and reversed.
    pub fn net_cash_cents(&self) -> i64 {
        self.cash_received_cents - self.refunded_cents - self.reversed_cents
    }
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

/// the report's rows for the periods from `from` to `to`, from seven aggregate
/// statements.
pub async fn billing_report(
    conn: &impl ConnectionTrait,
    period: Period,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BillingReport> {
    let bounds = boundaries(period, from, to)?;
    let queries = Queries::new(conn.get_database_backend(), &bounds);
    let mut periods = Periods::new(&bounds);
    periods.runs(by_bucket(conn, queries.renewal_runs(), 5).await?);
    let issued = by_bucket(conn, queries.issued(), 3).await?;
    let voided = by_bucket(conn, queries.voided(), 2).await?;
    let paid = by_bucket(conn, queries.paid(), 3).await?;
    let returned = by_bucket(conn, queries.returned(), 3).await?;
    let credited = by_bucket(conn, queries.credited(), 2).await?;
    let written_off = by_bucket(conn, queries.written_off(), 1).await?;
    periods.issued(&issued)?;
    periods.voided(&voided)?;
    periods.paid(&paid)?;
    periods.returned(&returned)?;
    periods.credited(&credited)?;
    periods.written_off(&written_off)?;
    Ok(BillingReport {
        period,
        rows: periods.with_receivables()?,
    })
}

fn sum(col: &str) -> String {
    format!("CAST(SUM({col}) AS BIGINT)")
}

fn accrual_case(col: &str) -> String {
    let accrual = AccountingMethod::Accrual.as_str();
    format!("CASE WHEN accounting_method = '{accrual}' THEN {col} ELSE 0 END")
}

/// The report's statements, each grouping its rows by period.
struct Queries {
    backend: DatabaseBackend,
    day_bounds: Vec<Value>,
    instant_bounds: Vec<Value>,
}

impl Queries {
    fn new(backend: DatabaseBackend, bounds: &[NaiveDate]) -> Self {
        Self {
            backend,
            day_bounds: bounds.iter().map(|d| Value::from(*d)).collect(),
            instant_bounds: bounds
                .iter()
                .map(|d| Value::from(super::start_of(*d)))
                .collect(),
        }
    }

    /// Renewal runs that completed, by start.
    fn renewal_runs(&self) -> Sql {
        let mut q = Sql::new(self.backend);
        q.push(&format!(
            "SELECT b, COUNT(*), {}, {}, {}, {} FROM (SELECT ",
            sum("considered"),
            sum("billed"),
            sum("skipped"),
            sum("total_cents")
        ));
        bucket(&mut q, "started_at", &self.instant_bounds);
        q.push(" AS b, considered, billed, skipped, total_cents FROM renewal_runs WHERE status = ")
            .bind("completed")
            .push(") t GROUP BY b");
        q
    }

    /// Invoices issued (drafts are not issued yet), by creation, at what they asked before
    /// any credit note; accrual ones separately, for the receivables.
    fn issued(&self) -> Sql {
        let mut q = Sql::new(self.backend);
        q.push(&format!(
            "SELECT b, COUNT(*), {}, {} FROM (SELECT ",
            sum("issued"),
            sum("accrual")
        ));
        bucket(&mut q, "created_at", &self.instant_bounds);
        q.push(&format!(
            " AS b, total_cents + credited_cents AS issued, {} AS accrual FROM invoices WHERE status <> ",
            accrual_case("total_cents + credited_cents")
        ))
        .bind(DRAFT)
        .push(") t GROUP BY b");
        q
    }

    /// Voided or cancelled invoices, by when that happened (their last change).
    fn voided(&self) -> Sql {
        let mut q = Sql::new(self.backend);
        q.push(&format!(
            "SELECT b, {}, {} FROM (SELECT ",
            sum("total_cents"),
            sum("accrual")
        ));
        bucket(&mut q, "updated_at", &self.instant_bounds);
        q.push(&format!(
            " AS b, total_cents, {} AS accrual FROM invoices WHERE status IN (",
            accrual_case("total_cents")
        ))
        .bind(VOID)
        .push(", ")
        .bind(CANCELLED)
        .push(")) t GROUP BY b");
        q
    }

    /// Payments, by the day paid: cash (credit applied aside) and, for the receivables,
    /// every payment of an accrual invoice.
    fn paid(&self) -> Sql {
        let mut q = Sql::new(self.backend);
        q.push(&format!(
            "SELECT b, {}, {}, {} FROM (SELECT ",
            sum("cash_count"),
            sum("cash"),
            sum("accrual")
        ));
        bucket(&mut q, "p.paid_on", &self.day_bounds);
        q.push(" AS b, CASE WHEN p.method = ")
            .bind(CREDIT)
            .push(" THEN 0 ELSE 1 END AS cash_count, CASE WHEN p.method = ")
            .bind(CREDIT)
            .push(
                " THEN 0 ELSE p.amount_cents END AS cash, \
                 CASE WHEN i.accounting_method = 'accrual' THEN p.amount_cents ELSE 0 END AS accrual \
                 FROM payments p JOIN invoices i ON i.id = p.invoice_id) t GROUP BY b",
            );
        q
    }
}

impl Queries {
    /// Refunds and reversals of cash payments, by when they were recorded; for the
    /// receivables, what came off accrual invoices (that is owed again).
    fn returned(&self) -> Sql {
        let mut q = Sql::new(self.backend);
        q.push(&format!(
            "SELECT b, {}, {}, {} FROM (SELECT ",
            sum("refunded"),
            sum("reversed"),
            sum("accrual")
        ));
        bucket(&mut q, "r.created_at", &self.instant_bounds);
        q.push(" AS b, CASE WHEN r.kind = ")
            .bind(crate::billing::refunds::REFUND)
            .push(" AND p.method <> ")
            .bind(CREDIT)
            .push(" THEN r.amount_cents ELSE 0 END AS refunded, CASE WHEN r.kind = ")
            .bind(crate::billing::refunds::REVERSAL)
            .push(" AND p.method <> ")
            .bind(CREDIT)
            .push(
                " THEN r.amount_cents ELSE 0 END AS reversed, \
                 CASE WHEN i.accounting_method = 'accrual' \
                 THEN r.amount_cents - r.from_credit_cents ELSE 0 END AS accrual \
                 FROM refunds r JOIN payments p ON p.id = r.payment_id \
                 JOIN invoices i ON i.id = r.invoice_id) t GROUP BY b",
            );
        q
    }

    /// Credit notes, by when they were issued; for the receivables, what they took off the
    /// balance of accrual invoices (not what went to credit).
    fn credited(&self) -> Sql {
        let mut q = Sql::new(self.backend);
        q.push(&format!(
            "SELECT b, {}, {} FROM (SELECT ",
            sum("amount_cents"),
            sum("accrual")
        ));
        bucket(&mut q, "n.created_at", &self.instant_bounds);
        q.push(
            " AS b, n.amount_cents, CASE WHEN i.accounting_method = 'accrual' \
             THEN n.amount_cents - n.to_credit_cents ELSE 0 END AS accrual \
             FROM credit_notes n JOIN invoices i ON i.id = n.invoice_id) t GROUP BY b",
        );
        q
    }

    /// Write-offs (accrual invoices only), by when they were written off.
    fn written_off(&self) -> Sql {
        let mut q = Sql::new(self.backend);
        q.push(&format!(
            "SELECT b, {} FROM (SELECT ",
            sum("written_off_cents")
        ));
        bucket(&mut q, "written_off_at", &self.instant_bounds);
        q.push(
            " AS b, written_off_cents FROM invoices WHERE written_off_at IS NOT NULL) t GROUP BY b",
        );
        q
    }
}

/// The report's rows being filled, and the change of accrual receivables in each period:
/// index 0 of `delta` is "before the first period".
struct Periods {
    rows: Vec<PeriodRow>,
    delta: Vec<i64>,
}

impl Periods {
    fn new(bounds: &[NaiveDate]) -> Self {
        let rows: Vec<PeriodRow> = bounds
            .windows(2)
            .map(|w| PeriodRow {
                start: w[0],
                end: w[1].pred_opt().unwrap_or(w[1]),
                ..Default::default()
            })
            .collect();
        let delta = vec![0i64; rows.len() + 1];
        Self { rows, delta }
    }

    fn row(&mut self, b: i64) -> Option<&mut PeriodRow> {
        usize::try_from(b).ok().and_then(|b| self.rows.get_mut(b))
    }

    /// The receivables slot of period `b`: periods before the first count in slot 0.
    fn slot(&mut self, b: i64) -> Option<&mut i64> {
        let n = self.rows.len();
        usize::try_from(b + 1)
            .ok()
            .filter(|s| *s <= n)
            .map(|s| &mut self.delta[s])
    }

    fn runs(&mut self, runs: Vec<(i64, Vec<i64>)>) {
        for (b, v) in runs {
            if let Some(r) = self.row(b) {
                r.renewal_runs = v[0];
                r.renewal_considered = v[1];
                r.renewal_billed = v[2];
                r.renewal_skipped = v[3];
                r.renewal_amount_cents = v[4];
            }
        }
    }

    /// Accrual invoices issued add to the receivables.
    fn issued(&mut self, issued: &[(i64, Vec<i64>)]) -> Result<()> {
        for (b, v) in issued {
            if let Some(r) = self.row(*b) {
                r.invoices_issued = v[0];
                r.billed_cents = v[1];
            }
            if let Some(s) = self.slot(*b) {
                money::add_to(s, v[2])?;
            }
        }
        Ok(())
    }

    /// Accrual invoices voided or cancelled leave the receivables.
    fn voided(&mut self, voided: &[(i64, Vec<i64>)]) -> Result<()> {
        for (b, v) in voided {
            if let Some(r) = self.row(*b) {
                r.voided_cents = v[0];
            }
            if let Some(s) = self.slot(*b) {
                money::take_from(s, v[1])?;
            }
        }
        Ok(())
    }

    /// Payments of accrual invoices leave the receivables.
    fn paid(&mut self, paid: &[(i64, Vec<i64>)]) -> Result<()> {
        for (b, v) in paid {
            if let Some(r) = self.row(*b) {
                r.payments = v[0];
                r.cash_received_cents = v[1];
            }
            if let Some(s) = self.slot(*b) {
                money::take_from(s, v[2])?;
            }
        }
        Ok(())
    }

    /// Credit notes lower what accrual invoices ask.
    fn credited(&mut self, credited: &[(i64, Vec<i64>)]) -> Result<()> {
        for (b, v) in credited {
            if let Some(r) = self.row(*b) {
                r.credited_cents = v[0];
            }
            if let Some(s) = self.slot(*b) {
                money::take_from(s, v[1])?;
            }
        }
        Ok(())
    }

    /// Balances written off leave the receivables.
    fn written_off(&mut self, written_off: &[(i64, Vec<i64>)]) -> Result<()> {
        for (b, v) in written_off {
            if let Some(r) = self.row(*b) {
                r.written_off_cents = v[0];
            }
            if let Some(s) = self.slot(*b) {
                money::take_from(s, v[0])?;
            }
        }
        Ok(())
    }

    /// Refunds and reversals of accrual invoices are owed again.
    fn returned(&mut self, returned: &[(i64, Vec<i64>)]) -> Result<()> {
        for (b, v) in returned {
            if let Some(r) = self.row(*b) {
                r.refunded_cents = v[0];
                r.reversed_cents = v[1];
            }
            if let Some(s) = self.slot(*b) {
                money::add_to(s, v[2])?;
            }
        }
        Ok(())
    }

    /// Receivables at each period end: everything accrual issued up to then, less what was
    /// voided and paid up to then, plus what was returned.
    fn with_receivables(mut self) -> Result<Vec<PeriodRow>> {
        let mut running = self.delta[0];
        for (k, r) in self.rows.iter_mut().enumerate() {
            money::add_to(&mut running, self.delta[k + 1])?;
            r.open_receivables_cents = running;
        }
        Ok(self.rows)
    }
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
