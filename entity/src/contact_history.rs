use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    /// `term`, `type_change` or `status_change`.
    pub kind: String,
    pub at: DateTimeUtc,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub term_begin: Option<Date>,
    pub term_end: Option<Date>,
    pub customer_type: Option<String>,
    pub product: Option<String>,
    pub invoice_id: Option<i64>,
    /// Brought from another system by the history import (MG-3).
    pub imported: bool,
    pub amount_cents: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
