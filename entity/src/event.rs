use sea_orm::entity::prelude::*;

/// A business event in the outbox, e.g. `invoice.paid`. Written in the transaction that made
/// the change; ids grow in commit order.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    #[sea_orm(column_name = "type")]
    pub kind: String,
    /// What it happened to, e.g. `invoices/42`.
    pub subject: String,
    /// JSON object.
    pub data: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
