use sea_orm::entity::prelude::*;

use crate::words::AutopayOption;

/// JB-2: a renewal run's preview, saved for 24 hours and committed at most once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "renewal_previews")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cycle_id: i64,
    pub effective_date: Date,
    pub autopay_option: Option<AutopayOption>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub considered: i64,
    pub billed: i64,
    pub skipped: i64,
    pub total_cents: i64,
    /// The run that committed it.
    pub committed_run_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
