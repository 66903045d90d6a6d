use sea_orm::entity::prelude::*;

use crate::words::{AccountingMethod, BillingTime};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "membership_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub fiscal_year_start_month: i32,
    pub standard_billing_interval_months: i32,
    pub default_billing_time: BillingTime,
    pub default_accounting_method: AccountingMethod,
    pub grace_period_months: i32,
    pub default_person_type: Option<String>,
    pub default_organization_type: Option<String>,
    pub currency: String,
    /// JSON list of the tags that make a non-member a prospect (L-3); `None`: the defaults.
    pub prospect_tags: Option<String>,
    /// JSON list of the days after a failed AutoPay charge it is retried (G-6); `None`: the
    /// defaults.
    pub dunning_retry_days: Option<String>,
    /// N-4: what invoice documents and notices show the association as.
    pub association_name: Option<String>,
    pub association_address: Option<String>,
    /// N-3: where members' answers to notices go.
    pub reply_to: Option<String>,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
