//! Subscriptions: who holds which product, paid through when (S-1..S-9).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_reference_data::Products;
use crate::m20261122_000002_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Subscriptions {
    Table,
    Id,
    ContactId,
    Product,
    BeginDate,
    PaidThrough,
    BillToId,
    BillDate,
    BillBegin,
    BillThrough,
    BilledCents,
    Active,
    CancellationDate,
    AdjustmentReason,
    SourceCode,
    IsComplimentary,
    IsMembershipComponent,
    BillSubscription,
    AccountingMethod,
    Billed,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum ContactEmailKey {
    EmailKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Subscriptions as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(big_pk_auto(S::Id))
                    .col(big_integer(S::ContactId))
                    .col(string_len(S::Product, 40))
                    .col(date_null(S::BeginDate))
                    .col(date_null(S::PaidThrough))
                    .col(big_integer(S::BillToId))
                    .col(date_null(S::BillDate))
                    .col(date_null(S::BillBegin))
                    .col(date_null(S::BillThrough))
                    .col(big_integer_null(S::BilledCents))
                    .col(boolean(S::Active).default(true))
                    .col(date_null(S::CancellationDate))
                    .col(string_len_null(S::AdjustmentReason, 200))
                    .col(string_len_null(S::SourceCode, 40))
                    .col(boolean(S::IsComplimentary).default(false))
                    .col(boolean(S::IsMembershipComponent).default(false))
                    .col(boolean(S::BillSubscription).default(true))
                    .col(string_len(S::AccountingMethod, 10))
                    .col(boolean(S::Billed).default(false))
                    .col(integer(S::Version).default(1))
                    .col(timestamp_with_time_zone(S::CreatedAt))
                    .col(timestamp_with_time_zone(S::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(S::Table, S::ContactId)
                            .to(Contacts::Table, Contacts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(S::Table, S::BillToId)
                            .to(Contacts::Table, Contacts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(S::Table, S::Product)
                            .to(Products::Table, Products::Code),
                    )
                    .to_owned(),
            )
            .await?;
        // One subscription per (contact, product); it also serves the contact filter.
        manager
            .create_index(
                Index::create()
                    .name("ux_subscriptions_contact_product")
                    .table(S::Table)
                    .col(S::ContactId)
                    .col(S::Product)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_subscriptions_product", S::Product),
            ("idx_subscriptions_bill_to", S::BillToId),
            ("idx_subscriptions_updated_at", S::UpdatedAt),
            ("idx_subscriptions_paid_through", S::PaidThrough),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(S::Table)
                        .col(col)
                        .col(S::Id)
                        .to_owned(),
                )
                .await?;
        }
        // Import matching finds contacts by e-mail regardless of letter case (S-9). The key is
        // lower-cased in Rust: SQLite's lower() folds ASCII letters only.
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .add_column(string_len_null(ContactEmailKey::EmailKey, 254))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_contacts_email_key")
                    .table(Contacts::Table)
                    .col(ContactEmailKey::EmailKey)
                    .col(Contacts::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_contacts_email_key")
                    .table(Contacts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .drop_column(ContactEmailKey::EmailKey)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Subscriptions::Table).to_owned())
            .await
    }
}
