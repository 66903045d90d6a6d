use sea_orm::entity::prelude::*;

/// G-7: a refund at the provider of a card payment, recorded here once the provider confirms it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_refunds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The provider's id (`re_...`).
    pub provider_id: String,
    pub payment_id: i64,
    pub amount_cents: i64,
    /// The provider's status: `pending`, `succeeded`, `failed`, `canceled`.
    pub status: String,
    pub reason: String,
    pub recorded_by: Option<i64>,
    /// The refund recorded for it, set once.
    pub refund_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
