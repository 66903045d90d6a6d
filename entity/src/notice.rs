use sea_orm::entity::prelude::*;

/// N-1, N-3: a notice to a contact, written with its cause and delivered by email afterwards.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `renewal_notice`, `reminder`, `receipt`, `payment_failed`, `welcome`, `expiry`,
    /// `password_reset`.
    pub kind: String,
    pub contact_id: i64,
    pub invoice_id: Option<i64>,
    pub payment_id: Option<i64>,
    /// The contact's email when the notice was written; `None`: skipped.
    pub to_address: Option<String>,
    /// `pending`, `sent`, `failed`, `skipped`, `not_sent`.
    pub status: String,
    pub attempts: i32,
    /// When it is tried next; a server sending it moves this forward first (its lease).
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    /// The subject it was sent with.
    pub subject: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
