use sea_orm::entity::prelude::*;

/// JB-3: a schedule staff set (a schedule never set runs by its defaults).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedules")]
pub struct Model {
    /// `expiry`, `dunning`, `notices`, `webhooks`, `renewal_run:{cycle}`, `reminders:{cycle}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub enabled: bool,
    pub cron: Option<String>,
    pub day_of_month: Option<i32>,
    pub last_run: Option<DateTimeUtc>,
    pub next_run: Option<DateTimeUtc>,
    /// The staff user who last set it: what it runs is done in their name.
    pub updated_by: Option<i64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
