use sea_orm::entity::prelude::*;

use crate::words::{AccountingMethod, AutopayOption, BillingTime};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_cycles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The name upper-cased: names are unique, and never equal a product code, whatever
    /// their letter case.
    pub name_key: String,
    pub membership: bool,
    pub billing_time: Option<BillingTime>,
    pub accounting_method: Option<AccountingMethod>,
    pub autopay_option: AutopayOption,
    pub require_chapter: bool,
    pub allow_multiple_chapters: bool,
    pub require_billed_chapters_on_renewal: bool,
    pub include_inactive_members: bool,
    pub include_inactive_sections: bool,
    pub include_suspended_members: bool,
    pub print_zero_balance: bool,
    pub include_all_sections: bool,
    pub include_all_chapters: bool,
    pub update_complimentary_paid_through_at_payment: bool,
    pub use_primary_fee_term_length: bool,
    pub months_prior_to_expiration: i32,
    pub rejoin_as_renewal_months: i32,
    pub join_item_set: bool,
    pub itemized_renewals: bool,
    /// S-11: members may turn their own invoices of this cycle into instalments.
    pub member_instalments: bool,
    /// T-8: the proration table, a JSON array (`[]`: none).
    pub proration_rules: String,
    pub reminder_days: Option<i32>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
