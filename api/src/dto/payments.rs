//! Payments as a resource (M-1), refunds and reversals (M-2, M-3).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use service::billing::payment_list::PaymentView;
use service::entity::refund as r;

use super::invoices::InvoiceDto;
use super::{Date, Money};

/// M-1: a recorded payment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentDto {
    pub id: i64,
    /// Sequential and never reused.
    pub receipt_number: i64,
    pub invoice_id: i64,
    /// The payer: the invoice's bill-to contact (S-10).
    pub contact_id: i64,
    /// Who holds the invoice (the payer, unless someone else pays for them).
    pub holder_id: i64,
    pub amount: Money,
    pub paid_on: NaiveDate,
    /// e.g. `card`, `cheque`, `transfer`, `credit`.
    pub method: String,
    pub reference: Option<String>,
    /// What refunds and a reversal have returned of it (M-2, M-3).
    pub refunded: Money,
    /// Whether it was reversed (M-3).
    pub reversed: bool,
    /// The user who recorded it; null from the command line.
    pub recorded_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PaymentView> for PaymentDto {
    fn from(v: PaymentView) -> Self {
        let p = v.payment;
        PaymentDto {
            id: p.id,
            receipt_number: p.receipt_number,
            invoice_id: p.invoice_id,
            contact_id: v.payer_id,
            holder_id: v.holder_id,
            amount: Money(p.amount_cents),
            paid_on: p.paid_on,
            method: p.method,
            reference: p.reference,
            refunded: Money(p.refunded_cents),
            reversed: p.reversed,
            recorded_by: p.recorded_by,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    pub items: Vec<PaymentDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// Payments of invoices this contact holds or pays.
    pub contact_id: Option<i64>,
    pub invoice_id: Option<i64>,
    pub method: Option<String>,
    /// Paid on or after.
    pub from: Option<Date>,
    /// Paid on or before.
    pub to: Option<Date>,
    /// Only payments changed (recorded, refunded, reversed) at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::IdCursor>,
}

/// M-2: a refund of all or part of a payment.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "375.00", "reason": "resigned in the first month", "method": "card"}))]
pub struct NewRefundDto {
    pub amount: Money,
    /// 1 to 200 characters.
    pub reason: String,
    /// How the money goes back; the payment's method if absent.
    pub method: Option<String>,
}

impl validator::Validate for NewRefundDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// M-3: why a payment is reversed (a bounced cheque, a chargeback).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "cheque returned unpaid"}))]
pub struct ReversalDto {
    /// 1 to 200 characters.
    pub reason: String,
}

impl validator::Validate for ReversalDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// Money returned of a payment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefundDto {
    pub id: i64,
    pub payment_id: i64,
    pub invoice_id: i64,
    /// `refund` (M-2) or `reversal` (M-3).
    #[schema(pattern = "^(refund|reversal)$")]
    pub kind: String,
    pub amount: Money,
    /// Of `amount`, what came out of the credit a credit note had moved from the invoice
    /// (M-4, M-5); the rest came off what the invoice received.
    pub from_credit: Money,
    pub reason: String,
    pub method: Option<String>,
    /// Whether it reopened an invoice that was paid in full, undoing what paying it did.
    pub reopened: bool,
    pub recorded_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<r::Model> for RefundDto {
    fn from(m: r::Model) -> Self {
        RefundDto {
            id: m.id,
            payment_id: m.payment_id,
            invoice_id: m.invoice_id,
            kind: m.kind,
            amount: Money(m.amount_cents),
            from_credit: Money(m.from_credit_cents),
            reason: m.reason,
            method: m.method,
            reopened: m.reopened,
            recorded_by: m.recorded_by,
            created_at: m.created_at,
        }
    }
}

/// A refund or reversal with the payment and invoice it left.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundResponseDto {
    pub refund: RefundDto,
    pub payment: PaymentDto,
    pub invoice: InvoiceDto,
}

impl From<service::billing::refunds::Returned> for RefundResponseDto {
    fn from(r: service::billing::refunds::Returned) -> Self {
        RefundResponseDto {
            refund: r.refund.into(),
            payment: r.payment.into(),
            invoice: r.invoice.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundList {
    pub items: Vec<RefundDto>,
}

/// G-7: a refund of a card payment that the payment provider has accepted but not yet
/// confirmed. Nothing is recorded until it does; the provider's event records it then.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "pending", "provider_refund_id": "re_3Pq1", "amount": "50.00"}))]
pub struct PendingRefundDto {
    /// Always `pending`.
    #[schema(pattern = "^pending$")]
    pub status: String,
    /// The provider's refund id (`re_...`).
    pub provider_refund_id: String,
    pub amount: Money,
}
