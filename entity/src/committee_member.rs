use sea_orm::entity::prelude::*;

/// C-8: one term of a contact on a committee, in a position.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "committee_members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub committee_id: i64,
    pub contact_id: i64,
    pub position: String,
    pub begin_date: Date,
    /// `None`: the term is open-ended.
    pub end_date: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
