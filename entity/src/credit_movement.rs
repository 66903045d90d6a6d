use sea_orm::entity::prelude::*;

/// M-5: one change of a contact's credit: money in (an overpayment, a refunded credit payment)
/// or out (applied to an invoice, refunded).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_movements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    /// Positive in, negative out.
    pub amount_cents: i64,
    pub kind: String,
    pub invoice_id: Option<i64>,
    pub payment_id: Option<i64>,
    pub credit_note_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
