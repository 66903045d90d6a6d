use sea_orm::entity::prelude::*;

/// G-2: a payment intent at the provider for an invoice's open balance.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_intents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub invoice_id: i64,
    /// The provider's id (`pi_...`).
    pub provider_id: String,
    pub amount_cents: i64,
    pub currency: String,
    pub client_secret: String,
    /// G-3: the payment it recorded, set once.
    pub payment_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
