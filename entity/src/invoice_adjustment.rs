use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_adjustments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub invoice_id: i64,
    pub at: DateTimeUtc,
    /// The staff login that made the change.
    pub user_id: i64,
    pub reason: String,
    /// What changed, as JSON: added and removed products, voluntary amounts, the primary
    /// product, and the totals before and after.
    pub details: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
