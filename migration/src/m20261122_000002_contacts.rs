//! Contacts, their tags and their history of type and status changes.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_reference_data::{BillingCategories, ContactStatuses, CustomerTypes};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Contacts {
    Table,
    Id,
    CustomerType,
    BillingCategory,
    Status,
    FirstName,
    LastName,
    OrganizationName,
    SortName,
    Email,
    Phone,
    AddressLine1,
    AddressLine2,
    City,
    Region,
    PostalCode,
    Country,
    CompanyId,
    ExternalRef,
    Autopay,
    EmailOptIn,
    MailOptIn,
    BallotPreference,
    JoinDate,
    PaidThrough,
    RenewMonths,
    PrimaryChapter,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum ContactTags {
    Table,
    ContactId,
    Tag,
}

#[derive(DeriveIden)]
pub enum ContactHistory {
    Table,
    Id,
    ContactId,
    Kind,
    At,
    FromValue,
    ToValue,
    TermBegin,
    TermEnd,
    CustomerType,
    Product,
    InvoiceId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Contacts as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(big_pk_auto(C::Id))
                    .col(string_len(C::CustomerType, 20))
                    .col(string_len_null(C::BillingCategory, 20))
                    .col(string_len(C::Status, 20))
                    .col(string_len_null(C::FirstName, 100))
                    .col(string_len_null(C::LastName, 100))
                    .col(string_len_null(C::OrganizationName, 200))
                    .col(string_len(C::SortName, 300))
                    .col(string_len_null(C::Email, 254))
                    .col(string_len_null(C::Phone, 40))
                    .col(string_len_null(C::AddressLine1, 200))
                    .col(string_len_null(C::AddressLine2, 200))
                    .col(string_len_null(C::City, 100))
                    .col(string_len_null(C::Region, 100))
                    .col(string_len_null(C::PostalCode, 20))
                    .col(string_len_null(C::Country, 2))
                    .col(big_integer_null(C::CompanyId))
                    .col(string_len_null(C::ExternalRef, 100))
                    .col(boolean(C::Autopay).default(false))
                    .col(boolean(C::EmailOptIn).default(true))
                    .col(boolean(C::MailOptIn).default(true))
                    .col(string_len_null(C::BallotPreference, 20))
                    .col(date_null(C::JoinDate))
                    .col(date_null(C::PaidThrough))
                    .col(integer_null(C::RenewMonths))
                    .col(string_len_null(C::PrimaryChapter, 40))
                    .col(integer(C::Version).default(1))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(C::Table, C::CustomerType)
                            .to(CustomerTypes::Table, CustomerTypes::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(C::Table, C::BillingCategory)
                            .to(BillingCategories::Table, BillingCategories::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(C::Table, C::Status)
                            .to(ContactStatuses::Table, ContactStatuses::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(C::Table, C::CompanyId)
                            .to(C::Table, C::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Every list filter has an index; (x, id) keeps keyset pagination on the index.
        for (name, col) in [
            ("idx_contacts_customer_type", C::CustomerType),
            ("idx_contacts_billing_category", C::BillingCategory),
            ("idx_contacts_status", C::Status),
            ("idx_contacts_company_id", C::CompanyId),
            ("idx_contacts_email", C::Email),
            ("idx_contacts_updated_at", C::UpdatedAt),
            ("idx_contacts_paid_through", C::PaidThrough),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(C::Table)
                        .col(col)
                        .col(C::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ux_contacts_external_ref")
                    .table(C::Table)
                    .col(C::ExternalRef)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ContactTags::Table)
                    .col(big_integer(ContactTags::ContactId))
                    .col(string_len(ContactTags::Tag, 60))
                    .primary_key(
                        Index::create()
                            .col(ContactTags::ContactId)
                            .col(ContactTags::Tag),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContactTags::Table, ContactTags::ContactId)
                            .to(C::Table, C::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_contact_tags_tag")
                    .table(ContactTags::Table)
                    .col(ContactTags::Tag)
                    .col(ContactTags::ContactId)
                    .to_owned(),
            )
            .await?;

        use ContactHistory as H;
        manager
            .create_table(
                Table::create()
                    .table(H::Table)
                    .col(big_pk_auto(H::Id))
                    .col(big_integer(H::ContactId))
                    .col(string_len(H::Kind, 20))
                    .col(timestamp_with_time_zone(H::At))
                    .col(string_len_null(H::FromValue, 40))
                    .col(string_len_null(H::ToValue, 40))
                    .col(date_null(H::TermBegin))
                    .col(date_null(H::TermEnd))
                    .col(string_len_null(H::CustomerType, 20))
                    .col(string_len_null(H::Product, 40))
                    .col(big_integer_null(H::InvoiceId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(H::Table, H::ContactId)
                            .to(C::Table, C::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_contact_history_contact")
                    .table(H::Table)
                    .col(H::ContactId)
                    .col(H::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ContactHistory::Table.into_iden(),
            ContactTags::Table.into_iden(),
            Contacts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
