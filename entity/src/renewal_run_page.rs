use sea_orm::entity::prelude::*;

/// A page a renewal run committed: its due contacts after `after_id`, through `upto_id` (the
/// last page has none). A run taken over resumes after its committed pages.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "renewal_run_pages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    pub after_id: i64,
    pub upto_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
