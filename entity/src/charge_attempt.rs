use sea_orm::entity::prelude::*;

/// G-5, G-6: one AutoPay charge of an invoice (or of its instalments due up to a part), due on
/// a day and, once made, with what the provider answered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charge_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub invoice_id: i64,
    /// The instalment part it charges up to (S-11); 0 for the whole invoice.
    pub part: i32,
    /// 1 for the first charge, then each retry (G-6).
    pub attempt: i32,
    pub payer_id: i64,
    pub due_on: Date,
    /// `scheduled`, `processing`, `succeeded`, `failed`, `not_needed`.
    pub status: String,
    /// A server charging it holds it until then; past it, another may take it over.
    pub lease_until: Option<DateTimeUtc>,
    /// The provider's saved method charged (`pm_...`).
    pub payment_method: Option<String>,
    pub provider_intent_id: Option<String>,
    pub amount_cents: Option<i64>,
    /// The provider's decline code, or why no charge could be made.
    pub decline_code: Option<String>,
    pub message: Option<String>,
    pub payment_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub attempted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
