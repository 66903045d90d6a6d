use sea_orm::entity::prelude::*;

/// M-2: what paying an invoice in full changed (JSON, the values before), kept until a refund
/// reopens the invoice and puts them back.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_effects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub invoice_id: i64,
    pub payment_id: i64,
    pub effects: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
