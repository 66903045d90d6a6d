use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_type: String,
    pub billing_category: Option<String>,
    pub status: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organization_name: Option<String>,
    /// Lower-cased display name, for search and sorting.
    pub sort_name: String,
    pub email: Option<String>,
    /// `email` lower-cased, for matching regardless of letter case.
    pub email_key: Option<String>,
    pub phone: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub company_id: Option<i64>,
    pub external_ref: Option<String>,
    pub autopay: bool,
    pub email_opt_in: bool,
    pub mail_opt_in: bool,
    pub ballot_preference: Option<String>,
    pub join_date: Option<Date>,
    pub paid_through: Option<Date>,
    pub renew_months: Option<i32>,
    pub primary_chapter: Option<String>,
    /// The contact this one was merged into (MG-2): its id then answers 404 naming it.
    pub merged_into: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
