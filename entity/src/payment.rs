use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub invoice_id: i64,
    pub amount_cents: i64,
    pub paid_on: Date,
    pub method: String,
    pub reference: Option<String>,
    pub created_at: DateTimeUtc,
    /// M-1: sequential, never reused (payments recorded before numbering carry their id).
    pub receipt_number: i64,
    /// The user who recorded it; `None` from the command line or the demo.
    pub recorded_by: Option<i64>,
    /// M-2, M-3: what has been returned of it (refunds and a reversal).
    pub refunded_cents: i64,
    pub reversed: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
