use sea_orm::entity::prelude::*;

/// JB-1: a long operation run by whichever server holds its lease.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `renewal_run`, ...
    pub kind: String,
    /// `queued`, `running`, `succeeded`, `failed`, `cancelled`.
    pub state: String,
    /// The operation's request, as JSON.
    pub params: String,
    pub done: i64,
    pub total: Option<i64>,
    /// What the operation answered, as JSON.
    pub result: Option<String>,
    pub error: Option<String>,
    pub cancel_requested: bool,
    /// The user who started it.
    pub created_by: i64,
    /// The server running it.
    pub owner: Option<String>,
    /// Its server renews this while it works; after it, another server takes the job over.
    pub lease_until: Option<DateTimeUtc>,
    /// How many times a server began or took over the job.
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
