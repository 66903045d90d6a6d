use sea_orm::entity::prelude::*;

/// M-5: a contact's credit, never below zero (a check in the database).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_balances")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub contact_id: i64,
    pub balance_cents: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
