use sea_orm::entity::prelude::*;

/// S-11: one part of an invoice's instalment plan. It is paid once what the invoice received
/// reaches `covers_from_cents + amount_cents`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instalments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub invoice_id: i64,
    /// 1 for the first part.
    pub number: i32,
    pub due_on: Date,
    pub amount_cents: i64,
    /// What the invoice had received, or the parts before asked, before this part.
    pub covers_from_cents: i64,
    pub created_at: DateTimeUtc,
}

impl Model {
    /// What of this part is paid when the invoice has received `received`.
    pub fn paid_of(&self, received: i64) -> i64 {
        (received - self.covers_from_cents).clamp(0, self.amount_cents)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
