use sea_orm::entity::prelude::*;

/// M-4: what a credit note took off one invoice line.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_note_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub credit_note_id: i64,
    pub invoice_line_id: i64,
    pub product: String,
    pub amount_cents: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
