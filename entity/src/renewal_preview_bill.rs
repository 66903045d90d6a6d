use sea_orm::entity::prelude::*;

/// JB-2: a bill of a saved renewal preview.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "renewal_preview_bills")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub preview_id: i64,
    pub contact_id: i64,
    pub printed: bool,
    pub customer_type: String,
    pub term_begin: Date,
    pub term_end: Date,
    pub total_cents: i64,
    /// The lines, as JSON.
    pub lines: String,
    /// What the bill is (type, term, lines, payers, printed): equal when nothing changed.
    pub fingerprint: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
