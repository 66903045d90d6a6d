//! Invoices, joins and payments (I-1..I-4, J-1..J-5).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::billing::invoices::InvoiceView;
use service::billing::join::{CycleRef, JoinBill, JoinRequest, Joined};
use service::billing::lines::LineDraft;
use utoipa::{IntoParams, ToSchema};

use super::words::{AccountingMethodDto, InvoiceKindDto, TreatedAsDto};
use super::{Date, Money};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineDto {
    pub product: String,
    /// Set when the invoice is paid (joins) or billed (renewals).
    pub subscription_id: Option<i64>,
    pub term_begin: NaiveDate,
    pub term_end: NaiveDate,
    pub amount: Money,
    /// Voluntary amounts may be edited before payment.
    pub voluntary: bool,
    pub paid: Money,
    pub is_primary: bool,
    /// Taken off the line by credit notes (M-4); `amount` is what it asks after them.
    pub credited: Money,
    /// How many (one-off invoices, M-8); `amount` is for all of them.
    pub quantity: i32,
    /// Why the price was given by hand instead of by the pricing rules (M-8).
    pub price_reason: Option<String>,
}

impl From<service::entity::invoice_line::Model> for LineDto {
    fn from(l: service::entity::invoice_line::Model) -> Self {
        LineDto {
            product: l.product,
            subscription_id: l.subscription_id,
            term_begin: l.term_begin,
            term_end: l.term_end,
            amount: Money(l.amount_cents),
            voluntary: l.voluntary,
            paid: Money(l.paid_cents),
            is_primary: l.is_primary,
            credited: Money(l.credited_cents),
            quantity: l.quantity,
            price_reason: l.price_reason,
        }
    }
}

/// A planned line (a preview): nothing paid, no subscription yet.
impl From<LineDraft> for LineDto {
    fn from(l: LineDraft) -> Self {
        LineDto {
            product: l.product,
            subscription_id: None,
            term_begin: l.term_begin,
            term_end: l.term_end,
            amount: Money(l.amount_cents),
            voluntary: l.voluntary,
            paid: Money(0),
            is_primary: l.is_primary,
            credited: Money(0),
            quantity: l.quantity,
            price_reason: l.price_reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 77, "contact_id": 1001, "bill_to_id": 1001, "kind": "join", "billing_cycle": 3,
    "accounting_method": "accrual", "status": "open", "treated_as": "join",
    "term_begin": "2026-04-01", "term_end": "2026-12-31", "term_months": 12,
    "customer_type": "M", "billing_category": "REG",
    "lines": [{"product": "MDUES", "subscription_id": null, "term_begin": "2026-04-01",
        "term_end": "2026-12-31", "amount": "375.00", "voluntary": false, "paid": "0.00", "is_primary": true}],
    "total": "375.00", "paid": "0.00", "balance": "375.00", "batch_id": null, "void_reason": null,
    "version": 1, "created_at": "2026-04-10T09:00:00Z", "updated_at": "2026-04-10T09:00:00Z"
}))]
pub struct InvoiceDto {
    pub id: i64,
    pub contact_id: i64,
    pub bill_to_id: i64,
    pub kind: InvoiceKindDto,
    pub billing_cycle: Option<i64>,
    pub accounting_method: AccountingMethodDto,
    /// `draft`, `open`, `paid`, `void`, `cancelled` or `written_off` (M-6).
    pub status: String,
    pub treated_as: TreatedAsDto,
    pub term_begin: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub term_months: Option<i32>,
    /// What the contact becomes when the invoice is paid.
    pub customer_type: Option<String>,
    pub billing_category: Option<String>,
    pub lines: Vec<LineDto>,
    /// What the invoice asks, after credit notes.
    pub total: Money,
    pub paid: Money,
    pub balance: Money,
    /// Taken off by credit notes (M-4): the invoice first asked `total + credited`.
    pub credited: Money,
    /// Written off as bad debt (M-6), with the reason.
    pub written_off: Money,
    pub written_off_reason: Option<String>,
    /// S-11: the instalment plan, in part order; empty without one.
    pub instalments: Vec<InstalmentDto>,
    /// The renewal run that billed it.
    pub renewal_run: Option<i64>,
    /// AutoPay batch (I-5).
    pub batch_id: Option<i64>,
    pub void_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<InvoiceView> for InvoiceDto {
    fn from(v: InvoiceView) -> Self {
        let balance = v.balance();
        let instalments = v
            .instalments
            .iter()
            .map(|p| InstalmentDto {
                number: p.number,
                due_on: p.due_on,
                amount: Money(p.amount_cents),
                paid: Money(p.paid_of(v.invoice.paid_cents)),
            })
            .collect();
        let i = v.invoice;
        InvoiceDto {
            id: i.id,
            contact_id: i.contact_id,
            bill_to_id: i.bill_to_id,
            kind: i.kind.into(),
            billing_cycle: i.cycle_id,
            accounting_method: i.accounting_method.into(),
            status: i.status,
            treated_as: i.treated_as.into(),
            term_begin: i.term_begin,
            term_end: i.term_end,
            term_months: i.term_months,
            customer_type: i.customer_type,
            billing_category: i.billing_category,
            lines: v.lines.into_iter().map(Into::into).collect(),
            total: Money(i.total_cents),
            paid: Money(i.paid_cents),
            balance: Money(balance),
            credited: Money(i.credited_cents),
            written_off: Money(i.written_off_cents),
            written_off_reason: i.written_off_reason,
            instalments,
            renewal_run: i.renewal_run_id,
            batch_id: i.batch_id,
            void_reason: i.void_reason,
            version: i.version,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceList {
    pub items: Vec<InvoiceDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    pub contact_id: Option<i64>,
    /// `draft`, `open`, `paid`, `void`, `cancelled` or `written_off` (M-6).
    #[param(pattern = "^(draft|open|paid|void|cancelled|written_off)$")]
    pub status: Option<String>,
    pub renewal_run: Option<i64>,
    pub billing_cycle: Option<i64>,
    pub updated_since: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::IdCursor>,
}

/// A billing cycle by id or by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CycleRefDto {
    Id(i64),
    Name(String),
}

impl From<CycleRefDto> for CycleRef {
    fn from(d: CycleRefDto) -> Self {
        match d {
            CycleRefDto::Id(id) => CycleRef::Id(id),
            CycleRefDto::Name(n) => CycleRef::Name(n),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "billing_cycle": 3, "billing_category": "REG", "chapters": ["CHAPT/EAST"],
    "add_ons": ["JOURNAL", "SCHOLARSHIP"], "voluntary": {"SCHOLARSHIP": "25.00"},
    "join_date": "2026-04-10", "dry_run": true
}))]
pub struct JoinRequestDto {
    pub billing_cycle: CycleRefDto,
    pub billing_category: Option<String>,
    /// A product of the type's formula family (J-2); default: the family's default.
    pub primary_product: Option<String>,
    #[serde(default)]
    pub chapters: Vec<String>,
    #[serde(default)]
    pub add_ons: Vec<String>,
    /// Amounts for voluntary add-ons (J-3).
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub voluntary: BTreeMap<String, Money>,
    /// Default: today. Staff only: a member joins on the day the server records it (SEC-6).
    pub join_date: Option<Date>,
    #[serde(default)]
    pub dry_run: bool,
}

impl validator::Validate for JoinRequestDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

impl From<JoinRequestDto> for JoinRequest {
    fn from(d: JoinRequestDto) -> Self {
        JoinRequest {
            cycle: Some(d.billing_cycle.into()),
            billing_category: d.billing_category,
            primary_product: d.primary_product,
            chapters: d.chapters,
            add_ons: d.add_ons,
            voluntary: d.voluntary.into_iter().map(|(k, v)| (k, v.0)).collect(),
            join_date: d.join_date.map(Into::into),
            dry_run: d.dry_run,
        }
    }
}

/// The join's invoice: the invoice's own fields at the top level, plus `treated_as`,
/// `proration` and `dry_run`. With `dry_run` it is the preview: `id`, `version` and the
/// timestamps are null and nothing is written.
#[derive(Debug, Serialize, ToSchema)]
pub struct JoinResponseDto {
    pub id: Option<i64>,
    pub contact_id: i64,
    pub bill_to_id: i64,
    pub kind: InvoiceKindDto,
    pub billing_cycle: i64,
    pub dry_run: bool,
    /// `join`, or `renewal` for a rejoin inside the cycle's window (J-4).
    pub treated_as: TreatedAsDto,
    pub status: String,
    pub customer_type: String,
    pub billing_category: Option<String>,
    pub accounting_method: AccountingMethodDto,
    pub term_begin: NaiveDate,
    pub term_end: NaiveDate,
    pub term_months: u32,
    /// Whole months / term length for a prorated annual join (e.g. "9/12"); null otherwise.
    pub proration: Option<String>,
    pub lines: Vec<LineDto>,
    pub total: Money,
    pub paid: Money,
    pub balance: Money,
    /// Always null: joins are billed on their own, not by a renewal run.
    pub renewal_run: Option<i64>,
    /// AutoPay batch (I-5); joins are never batched.
    pub batch_id: Option<i64>,
    pub void_reason: Option<String>,
    pub version: Option<i32>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The same invoice as `GET /invoices/{id}` shows it; null for a preview.
    pub invoice: Option<InvoiceDto>,
    /// S-10: the join's invoices to other payers, one per bill-to: the lines of subscriptions
    /// the contact holds billed to someone else. Empty when the joiner pays everything.
    pub other_invoices: Vec<JoinOtherInvoiceDto>,
}

/// S-10: another invoice of the same join, billed to another payer (a company paying part of
/// its staff member's join). Paying it pays its subscriptions; the membership starts with the
/// join's own invoice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JoinOtherInvoiceDto {
    /// Null for a preview.
    pub id: Option<i64>,
    pub bill_to_id: i64,
    /// `open`, `paid`, or `preview`.
    pub status: String,
    pub lines: Vec<LineDto>,
    pub total: Money,
}

impl From<&JoinBill> for JoinOtherInvoiceDto {
    fn from(b: &JoinBill) -> Self {
        let saved = b.invoice.clone().map(InvoiceDto::from);
        JoinOtherInvoiceDto {
            id: saved.as_ref().map(|i| i.id),
            bill_to_id: b.bill_to_id,
            status: saved
                .as_ref()
                .map_or_else(|| "preview".to_owned(), |i| i.status.clone()),
            lines: match saved {
                Some(inv) => inv.lines,
                None => b.lines.iter().cloned().map(Into::into).collect(),
            },
            total: Money(b.total_cents),
        }
    }
}

impl From<Joined> for JoinResponseDto {
    fn from(j: Joined) -> Self {
        let others = j.others().iter().map(Into::into).collect();
        let own = j.membership().clone();
        let total = own.total_cents;
        let proration = j.term.whole_months.map(|_| j.term.scale.to_string());
        let invoice = own.invoice.map(InvoiceDto::from);
        let (id, status, paid, lines) = match &invoice {
            Some(inv) => (
                Some(inv.id),
                inv.status.clone(),
                inv.paid,
                inv.lines.clone(),
            ),
            None => (
                None,
                "preview".to_owned(),
                Money(0),
                own.lines.into_iter().map(Into::into).collect(),
            ),
        };
        JoinResponseDto {
            id,
            contact_id: j.contact_id,
            bill_to_id: own.bill_to_id,
            kind: InvoiceKindDto::Join,
            billing_cycle: j.cycle_id,
            dry_run: invoice.is_none(),
            treated_as: j.treated_as.into(),
            status,
            customer_type: j.customer_type,
            billing_category: j.billing_category,
            accounting_method: j.accounting_method.into(),
            term_begin: j.term.begin,
            term_end: j.term.end,
            term_months: j.term_months,
            proration,
            lines,
            total: Money(total),
            paid,
            balance: Money(total - paid.0),
            renewal_run: None,
            batch_id: invoice.as_ref().and_then(|i| i.batch_id),
            void_reason: invoice.as_ref().and_then(|i| i.void_reason.clone()),
            version: invoice.as_ref().map(|i| i.version),
            created_at: invoice.as_ref().map(|i| i.created_at),
            updated_at: invoice.as_ref().map(|i| i.updated_at),
            invoice,
            other_invoices: others,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "375.00", "paid_on": "2026-04-12", "method": "card", "reference": "ch_123"}))]
pub struct NewPaymentDto {
    pub amount: Money,
    pub paid_on: Date,
    /// e.g. `card`, `cheque`, `transfer`.
    pub method: String,
    pub reference: Option<String>,
}

impl validator::Validate for NewPaymentDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentResponseDto {
    pub payment: super::payments::PaymentDto,
    pub invoice: InvoiceDto,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "billed in error"}))]
pub struct ReasonDto {
    pub reason: Option<String>,
}

impl validator::Validate for ReasonDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// I-8: a staff adjustment of an open join invoice before payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"add": ["JOURNAL"], "remove": ["CHAPT/WEST"], "voluntary": {"GIFT": "40.00"},
    "primary_product": "AM_2", "reason": "member asked by phone"}))]
pub struct InvoiceAdjustmentDto {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub voluntary: BTreeMap<String, Money>,
    /// Another product of the primary fee's formula family.
    pub primary_product: Option<String>,
    /// Why; recorded with who made the change.
    pub reason: String,
}

impl validator::Validate for InvoiceAdjustmentDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustmentDto {
    pub id: i64,
    pub invoice_id: i64,
    pub at: DateTime<Utc>,
    /// The staff login that made the change.
    pub user_id: i64,
    pub reason: String,
    /// What changed: added and removed products, voluntary amounts, primary product, totals.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustmentList {
    pub items: Vec<AdjustmentDto>,
    pub next_cursor: Option<String>,
}

/// An AutoPay batch (I-5).
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchDto {
    pub id: i64,
    pub renewal_run: i64,
    /// `open` until posted, then `posted`.
    pub status: String,
    pub invoice_ids: Vec<i64>,
    pub total: Money,
    pub created_at: DateTime<Utc>,
    pub posted_at: Option<DateTime<Utc>>,
}

impl From<service::billing::batches::BatchView> for BatchDto {
    fn from(v: service::billing::batches::BatchView) -> Self {
        BatchDto {
            id: v.batch.id,
            renewal_run: v.batch.run_id,
            status: v.batch.status,
            invoice_ids: v.invoice_ids,
            total: Money(v.total_cents),
            created_at: v.batch.created_at,
            posted_at: v.batch.posted_at,
        }
    }
}

/// M-8: one line of a one-off invoice: a product, how many, and optionally the price of one
/// given by hand, with the reason.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OneOffLineDto {
    pub product: String,
    /// 1 to 10000 (default 1); a subscription product is sold one term at a time.
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: Option<i32>,
    /// The price of one; without it the pricing rules price the line (P-3).
    pub amount: Option<Money>,
    /// Required with `amount`: why the price is given by hand.
    pub reason: Option<String>,
}

/// M-8: a one-off invoice (kind `other`) for store sales, advertising, booth sales, donations.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_id": 1001, "lines": [{"product": "BOOK", "quantity": 2},
    {"product": "BOOTH", "amount": "250.00", "reason": "early-bird exhibitor rate"}]}))]
pub struct NewOneOffInvoiceDto {
    pub contact_id: i64,
    /// Who pays (S-10); the contact if absent.
    pub bill_to_id: Option<i64>,
    pub lines: Vec<OneOffLineDto>,
}

impl validator::Validate for NewOneOffInvoiceDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

impl From<NewOneOffInvoiceDto> for service::billing::one_off::NewOneOff {
    fn from(d: NewOneOffInvoiceDto) -> Self {
        service::billing::one_off::NewOneOff {
            contact_id: d.contact_id,
            bill_to_id: d.bill_to_id,
            lines: d
                .lines
                .into_iter()
                .map(|l| service::billing::one_off::OneOffLine {
                    product: l.product,
                    quantity: l.quantity,
                    amount_cents: l.amount.map(|a| a.0),
                    reason: l.reason,
                })
                .collect(),
        }
    }
}

/// S-11: one part of an instalment plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstalmentDto {
    /// 1 for the first part: the membership takes effect once it is paid.
    pub number: i32,
    pub due_on: NaiveDate,
    pub amount: Money,
    /// What of it is paid (payments go to the parts in order).
    pub paid: Money,
}

/// S-11: spread an open balance over monthly parts.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"parts": 4, "day_of_month": 15}))]
pub struct InstalmentPlanDto {
    /// Required: 2 to 12.
    #[schema(minimum = 2, maximum = 12)]
    pub parts: Option<u32>,
    /// Required: 1 to 28, a day every month has.
    #[schema(minimum = 1, maximum = 28)]
    pub day_of_month: Option<u32>,
}

impl validator::Validate for InstalmentPlanDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// An invoice document (N-4): association, bill-to, lines with their terms, totals, paid,
/// balance and how to pay, set on US Letter pages.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PdfDocument(pub Vec<u8>);

/// What a run's print leaves out.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrintQuery {
    /// Leave out lines of no amount (default false). Zero-total invoices are left out unless
    /// the cycle prints zero balances (B-10).
    #[serde(default)]
    pub suppress_zero_lines: bool,
}
