use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pricing_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub product: String,
    pub price_cents: i64,
    pub customer_type: Option<String>,
    pub billing_category: Option<String>,
    pub company_member: Option<bool>,
    pub pricing_group: Option<String>,
    pub with_product: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub joined_from: Option<Date>,
    pub joined_to: Option<Date>,
    pub priority: i32,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
