use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub invoice_id: i64,
    pub position: i32,
    pub product: String,
    pub subscription_id: Option<i64>,
    pub term_begin: Date,
    pub term_end: Date,
    pub amount_cents: i64,
    pub paid_cents: i64,
    pub voluntary: bool,
    pub is_primary: bool,
    pub is_chapter: bool,
    /// The term this line bills its subscription for, while the invoice is live (unique with
    /// the subscription: never billed twice for one term).
    pub billed_term: Option<Date>,
    /// M-4: what credit notes took off this line (`amount_cents` is what is asked after them).
    pub credited_cents: i64,
    /// How many were sold (one-off invoices, M-8); `amount_cents` is for all of them.
    pub quantity: i32,
    /// Why the price was given by hand instead of by the pricing rules (M-8).
    pub price_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
