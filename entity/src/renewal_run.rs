use sea_orm::entity::prelude::*;

use crate::words::AutopayOption;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "renewal_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cycle_id: i64,
    pub effective_date: Date,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// The staff login that started the run.
    pub run_by: i64,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub considered: i64,
    pub billed: i64,
    pub skipped: i64,
    pub total_cents: i64,
    /// Progress: contacts up to this id have been handled.
    pub last_contact_id: i64,
    pub error: Option<String>,
    /// B-16: the AutoPay option the run used (its cycle's unless overridden).
    pub autopay_option: Option<AutopayOption>,
    /// JB-1: the job the run belongs to.
    pub job_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
