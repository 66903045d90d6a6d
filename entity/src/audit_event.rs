use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// The staff user who acted; `None` for the command line.
    pub user_id: Option<i64>,
    pub request_id: Option<String>,
    /// What was done, e.g. `membership.expire`.
    pub action: String,
    /// What it was done to, e.g. `contacts`.
    pub subject: Option<String>,
    /// JSON: the request and what changed.
    pub details: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
