use sea_orm::entity::prelude::*;

use crate::words::CommitteeKind;

/// C-8: a named group (the board, a committee, a task force).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "committees")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique regardless of letter case.
    pub name: String,
    pub kind: CommitteeKind,
    pub description: Option<String>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
