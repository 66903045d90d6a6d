use sea_orm::entity::prelude::*;

/// M-4: a numbered reduction of what an invoice asks, with a reason.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_notes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number: i64,
    pub invoice_id: i64,
    /// The invoice's holder.
    pub contact_id: i64,
    pub amount_cents: i64,
    /// What had been paid above the new total and went to the payer's credit (M-5).
    pub to_credit_cents: i64,
    pub reason: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
