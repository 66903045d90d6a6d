use sea_orm::entity::prelude::*;

/// M-2, M-3: money returned of a payment: a refund, or a reversal of a payment that failed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub payment_id: i64,
    pub invoice_id: i64,
    /// `refund` or `reversal`.
    pub kind: String,
    pub amount_cents: i64,
    /// Of the amount, what came out of the credit a credit note had moved from the invoice
    /// (M-4, M-5); the rest came off what the invoice received.
    pub from_credit_cents: i64,
    pub reason: String,
    pub method: Option<String>,
    /// Whether it left an invoice paid in full no longer paid in full.
    pub reopened: bool,
    pub recorded_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
