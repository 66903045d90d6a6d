//! Reports A-1..A-3.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use service::reports::billing::{BillingReport, Period};
use service::reports::counts::{MembershipCounts, TypeCount};
use service::reports::mix::MixRow;
use utoipa::{IntoParams, ToSchema};

use super::{Date, Money};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MixQuery {
    /// Count only records changed, invoiced or with history in this many years before `as_of`.
    #[param(minimum = 1, maximum = 100)]
    pub active_within_years: Option<u32>,
    /// `true`: count only records active in the last 5 years (or `active_within_years`).
    pub recent: Option<bool>,
    /// Reference date of the activity window (default: today).
    pub as_of: Option<Date>,
    /// Count only the contacts of this saved segment.
    pub segment: Option<i64>,
    pub customer_type: Option<String>,
    pub billing_category: Option<String>,
    pub status: Option<String>,
    pub is_member: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"customer_type": "M", "billing_category": "REG", "count": 420, "share": 0.42, "flagged": true}))]
pub struct MixRowDto {
    pub customer_type: String,
    pub billing_category: Option<String>,
    pub count: i64,
    /// Share of all counted records, 0..1, to 4 places.
    pub share: f64,
    /// More than 20 % of the records.
    pub flagged: bool,
}

impl From<MixRow> for MixRowDto {
    fn from(r: MixRow) -> Self {
        MixRowDto {
            share: r.share(),
            customer_type: r.customer_type,
            billing_category: r.billing_category,
            count: r.count,
            flagged: r.flagged,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountsQuery {
    /// The date counted (default: today).
    pub as_of: Option<Date>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TypeCountDto {
    pub customer_type: String,
    pub is_member: bool,
    pub is_organization: bool,
    pub count: i64,
}

impl From<TypeCount> for TypeCountDto {
    fn from(t: TypeCount) -> Self {
        TypeCountDto {
            customer_type: t.customer_type,
            is_member: t.is_member,
            is_organization: t.is_organization,
            count: t.count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"as_of": "2026-12-31", "members": 812, "non_members": 3410,
    "organizations": 95, "member_organizations": 40, "persons": 4127, "member_persons": 772,
    "staff": 6, "total": 4222, "by_customer_type": [{"customer_type": "M", "is_member": true, "is_organization": false, "count": 772}]}))]
pub struct CountsDto {
    pub as_of: NaiveDate,
    /// Contacts of a member type on that date.
    pub members: i64,
    pub non_members: i64,
    pub organizations: i64,
    pub member_organizations: i64,
    pub persons: i64,
    pub member_persons: i64,
    /// Staff logins that existed on that date.
    pub staff: i64,
    /// Contacts that existed on that date.
    pub total: i64,
    pub by_customer_type: Vec<TypeCountDto>,
}

impl From<MembershipCounts> for CountsDto {
    fn from(c: MembershipCounts) -> Self {
        CountsDto {
            as_of: c.as_of,
            members: c.members,
            non_members: c.non_members,
            organizations: c.organizations,
            member_organizations: c.member_organizations,
            persons: c.persons,
            member_persons: c.member_persons,
            staff: c.staff,
            total: c.total,
            by_customer_type: c.by_customer_type.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodDto {
    Month,
    Quarter,
    Year,
}

impl From<PeriodDto> for Period {
    fn from(p: PeriodDto) -> Self {
        match p {
            PeriodDto::Month => Period::Month,
            PeriodDto::Quarter => Period::Quarter,
            PeriodDto::Year => Period::Year,
        }
    }
}

impl From<Period> for PeriodDto {
    fn from(p: Period) -> Self {
        match p {
            Period::Month => PeriodDto::Month,
            Period::Quarter => PeriodDto::Quarter,
            Period::Year => PeriodDto::Year,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BillingReportQuery {
    /// First day reported (default: the start of the period 11 periods before `to`).
    pub from: Option<Date>,
    /// Last day reported (default: today).
    pub to: Option<Date>,
    /// `month` (default), `quarter` or `year`.
    pub period: Option<PeriodDto>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"start": "2026-11-01", "end": "2026-11-30", "renewal_runs": 1,
    "renewal_considered": 1200, "renewal_billed": 1100, "renewal_skipped": 100,
    "renewal_amount": "550000.00", "invoices_issued": 1130, "billed": "562000.00",
    "voided": "500.00", "payments": 640, "cash_received": "318000.00", "refunded": "750.00",
    "reversed": "375.00", "net_cash": "316875.00", "credited": "120.00", "written_off": "500.00",
    "open_receivables": "241000.00"}))]
pub struct PeriodRowDto {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Renewal runs completed that started in the period, with their results.
    pub renewal_runs: i64,
    pub renewal_considered: i64,
    pub renewal_billed: i64,
    pub renewal_skipped: i64,
    pub renewal_amount: Money,
    /// Invoices issued in the period (any kind, drafts excluded) and their total as issued,
    /// before credit notes.
    pub invoices_issued: i64,
    pub billed: Money,
    /// Total of invoices voided or cancelled in the period.
    pub voided: Money,
    /// Payments received in the period and their total (credit applied is not cash, M-5).
    pub payments: i64,
    pub cash_received: Money,
    /// Refunded in the period, whenever the money was paid (M-2).
    pub refunded: Money,
    /// Payments reversed in the period (bounced cheques, chargebacks; M-3).
    pub reversed: Money,
    /// Cash received less refunds and reversals (M-9).
    pub net_cash: Money,
    /// Taken off invoices by credit notes issued in the period (M-4).
    pub credited: Money,
    /// Written off as bad debt in the period (M-6).
    pub written_off: Money,
    /// Unpaid balance of accrual invoices at the period's last day.
    pub open_receivables: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingReportDto {
    pub period: PeriodDto,
    pub periods: Vec<PeriodRowDto>,
}

impl From<BillingReport> for BillingReportDto {
    fn from(r: BillingReport) -> Self {
        BillingReportDto {
            period: r.period.into(),
            periods: r
                .rows
                .into_iter()
                .map(|p| PeriodRowDto {
                    start: p.start,
                    end: p.end,
                    renewal_runs: p.renewal_runs,
                    renewal_considered: p.renewal_considered,
                    renewal_billed: p.renewal_billed,
                    renewal_skipped: p.renewal_skipped,
                    renewal_amount: Money(p.renewal_amount_cents),
                    invoices_issued: p.invoices_issued,
                    billed: Money(p.billed_cents),
                    voided: Money(p.voided_cents),
                    payments: p.payments,
                    cash_received: Money(p.cash_received_cents),
                    refunded: Money(p.refunded_cents),
                    reversed: Money(p.reversed_cents),
                    net_cash: Money(p.net_cash_cents()),
                    credited: Money(p.credited_cents),
                    written_off: Money(p.written_off_cents),
                    open_receivables: Money(p.open_receivables_cents),
                })
                .collect(),
        }
    }
}
