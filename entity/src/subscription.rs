use sea_orm::entity::prelude::*;

use crate::words::AccountingMethod;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    pub product: String,
    pub begin_date: Option<Date>,
    pub paid_through: Option<Date>,
    pub bill_to_id: i64,
    pub bill_date: Option<Date>,
    pub bill_begin: Option<Date>,
    pub bill_through: Option<Date>,
    pub billed_cents: Option<i64>,
    pub active: bool,
    pub cancellation_date: Option<Date>,
    pub adjustment_reason: Option<String>,
    pub source_code: Option<String>,
    pub is_complimentary: bool,
    pub is_membership_component: bool,
    pub bill_subscription: bool,
    pub accounting_method: AccountingMethod,
    pub billed: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
