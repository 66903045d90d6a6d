use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_types")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub is_member: bool,
    pub is_organization: bool,
    /// `none`, `products` or `formula`.
    pub primary_fee_kind: String,
    pub formula_designator: Option<String>,
    pub formula_default_product: Option<String>,
    pub expires_to: Option<String>,
    pub renews_as: Option<String>,
    pub flow_down_type: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
