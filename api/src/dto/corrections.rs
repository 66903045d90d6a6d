//! Credit notes (M-4), credit balances (M-5) and write-offs (M-6).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use service::billing::credit::Credit;
use service::billing::credit_notes::{CreditLine, CreditNoteView, Credited};
use service::entity::credit_movement as m;

use super::Money;
use super::invoices::InvoiceDto;

/// M-4: a line to credit, by product; the whole line when `amount` is absent.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditLineDto {
    pub product: String,
    pub amount: Option<Money>,
}

/// M-4: what to take off an invoice, and why.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lines": [{"product": "JOURNAL"}, {"product": "MDUES", "amount": "50.00"}],
    "reason": "journal never delivered; dues reduced by the board"}))]
pub struct NewCreditNoteDto {
    pub lines: Vec<CreditLineDto>,
    /// 1 to 200 characters.
    pub reason: String,
}

impl validator::Validate for NewCreditNoteDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

impl NewCreditNoteDto {
    pub fn lines(&self) -> Vec<CreditLine> {
        self.lines
            .iter()
            .map(|l| CreditLine {
                product: l.product.clone(),
                amount_cents: l.amount.map(|a| a.0),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreditNoteLineDto {
    pub product: String,
    pub amount: Money,
}

/// M-4: a credit note.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreditNoteDto {
    pub id: i64,
    /// Sequential and never reused, separate from receipt numbers.
    pub number: i64,
    pub invoice_id: i64,
    /// The invoice's holder.
    pub contact_id: i64,
    pub amount: Money,
    /// What had been paid above the invoice's new total and went to the payer's credit (M-5).
    pub to_credit: Money,
    pub reason: String,
    pub lines: Vec<CreditNoteLineDto>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<CreditNoteView> for CreditNoteDto {
    fn from(v: CreditNoteView) -> Self {
        let n = v.note;
        CreditNoteDto {
            id: n.id,
            number: n.number,
            invoice_id: n.invoice_id,
            contact_id: n.contact_id,
            amount: Money(n.amount_cents),
            to_credit: Money(n.to_credit_cents),
            reason: n.reason,
            lines: v
                .lines
                .into_iter()
                .map(|l| CreditNoteLineDto {
                    product: l.product,
                    amount: Money(l.amount_cents),
                })
                .collect(),
            created_by: n.created_by,
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditedDto {
    pub credit_note: CreditNoteDto,
    pub invoice: InvoiceDto,
}

impl From<Credited> for CreditedDto {
    fn from(c: Credited) -> Self {
        CreditedDto {
            credit_note: c.note.into(),
            invoice: c.invoice.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNoteList {
    pub items: Vec<CreditNoteDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreditNoteQuery {
    pub invoice_id: Option<i64>,
    /// Credit notes on invoices this contact holds.
    pub contact_id: Option<i64>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::IdCursor>,
}

/// M-5: one change of a contact's credit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreditMovementDto {
    pub id: i64,
    /// Positive in, negative out.
    pub amount: Money,
    /// `overpayment` (a credit note left more paid than asked), `applied` (paid an invoice),
    /// `refunded` (paid back), `returned` (a credit payment refunded back to credit).
    pub kind: String,
    pub invoice_id: Option<i64>,
    pub payment_id: Option<i64>,
    pub credit_note_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<m::Model> for CreditMovementDto {
    fn from(m: m::Model) -> Self {
        CreditMovementDto {
            id: m.id,
            amount: Money(m.amount_cents),
            kind: m.kind,
            invoice_id: m.invoice_id,
            payment_id: m.payment_id,
            credit_note_id: m.credit_note_id,
            created_by: m.created_by,
            created_at: m.created_at,
        }
    }
}

/// M-5: a contact's credit balance and how it came to be.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditDto {
    pub contact_id: i64,
    pub balance: Money,
    pub movements: Vec<CreditMovementDto>,
}

impl From<Credit> for CreditDto {
    fn from(c: Credit) -> Self {
        CreditDto {
            contact_id: c.contact_id,
            balance: Money(c.balance_cents),
            movements: c.movements.into_iter().map(Into::into).collect(),
        }
    }
}

/// M-5: credit to apply to one of the contact's open invoices.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"invoice_id": 78, "amount": "40.00"}))]
pub struct ApplyCreditDto {
    pub invoice_id: i64,
    pub amount: Money,
}

impl validator::Validate for ApplyCreditDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// M-6: why a balance is written off.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "member unreachable since 2025; collection abandoned"}))]
pub struct WriteOffDto {
    /// 1 to 200 characters.
    pub reason: String,
}

impl validator::Validate for WriteOffDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}
