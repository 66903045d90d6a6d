use sea_orm::entity::prelude::*;

use crate::words::{AccountingMethod, InvoiceKind, TreatedAs};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    pub bill_to_id: i64,
    pub kind: InvoiceKind,
    pub cycle_id: Option<i64>,
    pub accounting_method: AccountingMethod,
    pub status: String,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub term_begin: Option<Date>,
    pub term_end: Option<Date>,
    pub term_months: Option<i32>,
    /// The customer type the contact takes when the invoice is paid (J-1).
    pub customer_type: Option<String>,
    pub billing_category: Option<String>,
    /// `join` or `renewal` (J-4).
    pub treated_as: TreatedAs,
    /// The date the contact asked to join (J-5 sets it as the join date the first time).
    pub join_date: Option<Date>,
    /// The contact had never joined: paying sets the join date (J-5).
    pub first_join: bool,
    pub void_reason: Option<String>,
    pub renewal_run_id: Option<i64>,
    /// The AutoPay batch holding this invoice until it is posted (I-5).
    pub batch_id: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// M-4: what credit notes took off the total (`total_cents` is what is asked after them).
    pub credited_cents: i64,
    /// M-6: the balance written off as bad debt, with why and when.
    pub written_off_cents: i64,
    pub written_off_reason: Option<String>,
    pub written_off_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
