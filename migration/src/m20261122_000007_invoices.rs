//! Invoices, their lines and payments (I-1..I-4, I-6), with idempotency keys for retried
//! money movements.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_reference_data::Products;
use crate::m20261122_000002_contacts::Contacts;
use crate::m20261122_000005_subscriptions::Subscriptions;
use crate::m20261122_000006_billing_cycles::BillingCycles;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Invoices {
    Table,
    Id,
    ContactId,
    BillToId,
    Kind,
    CycleId,
    AccountingMethod,
    Status,
    TotalCents,
    PaidCents,
    TermBegin,
    TermEnd,
    TermMonths,
    CustomerType,
    BillingCategory,
    TreatedAs,
    JoinDate,
    FirstJoin,
    VoidReason,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum InvoiceLines {
    Table,
    Id,
    InvoiceId,
    Position,
    Product,
    SubscriptionId,
    TermBegin,
    TermEnd,
    AmountCents,
    PaidCents,
    Voluntary,
    IsPrimary,
    IsChapter,
}

#[derive(DeriveIden)]
pub enum Payments {
    Table,
    Id,
    InvoiceId,
    AmountCents,
    PaidOn,
    Method,
    Reference,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum IdempotencyKeys {
    Table,
    Scope,
    Key,
    RequestHash,
    Status,
    Body,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Invoices as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .col(big_pk_auto(I::Id))
                    .col(big_integer(I::ContactId))
                    .col(big_integer(I::BillToId))
                    .col(string_len(I::Kind, 10))
                    .col(big_integer_null(I::CycleId))
                    .col(string_len(I::AccountingMethod, 10))
                    .col(string_len(I::Status, 10))
                    .col(big_integer(I::TotalCents))
                    .col(big_integer(I::PaidCents).default(0))
                    .col(date_null(I::TermBegin))
                    .col(date_null(I::TermEnd))
                    .col(integer_null(I::TermMonths))
                    .col(string_len_null(I::CustomerType, 20))
                    .col(string_len_null(I::BillingCategory, 20))
                    .col(string_len(I::TreatedAs, 10))
                    .col(date_null(I::JoinDate))
                    .col(boolean(I::FirstJoin).default(false))
                    .col(string_len_null(I::VoidReason, 200))
                    .col(integer(I::Version).default(1))
                    .col(timestamp_with_time_zone(I::CreatedAt))
                    .col(timestamp_with_time_zone(I::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(I::Table, I::ContactId)
                            .to(Contacts::Table, Contacts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(I::Table, I::BillToId)
                            .to(Contacts::Table, Contacts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(I::Table, I::CycleId)
                            .to(BillingCycles::Table, BillingCycles::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_invoices_contact", I::ContactId),
            ("idx_invoices_status", I::Status),
            ("idx_invoices_cycle", I::CycleId),
            ("idx_invoices_updated_at", I::UpdatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(I::Table)
                        .col(col)
                        .col(I::Id)
                        .to_owned(),
                )
                .await?;
        }
        use InvoiceLines as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(big_pk_auto(L::Id))
                    .col(big_integer(L::InvoiceId))
                    .col(integer(L::Position))
                    .col(string_len(L::Product, 40))
                    .col(big_integer_null(L::SubscriptionId))
                    .col(date(L::TermBegin))
                    .col(date(L::TermEnd))
                    .col(big_integer(L::AmountCents))
                    .col(big_integer(L::PaidCents).default(0))
                    .col(boolean(L::Voluntary))
                    .col(boolean(L::IsPrimary))
                    .col(boolean(L::IsChapter))
                    .foreign_key(
                        ForeignKey::create()
                            .from(L::Table, L::InvoiceId)
                            .to(I::Table, I::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(L::Table, L::Product)
                            .to(Products::Table, Products::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(L::Table, L::SubscriptionId)
                            .to(Subscriptions::Table, Subscriptions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_invoice_lines_position")
                    .table(L::Table)
                    .col(L::InvoiceId)
                    .col(L::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_invoice_lines_product", L::Product),
            ("idx_invoice_lines_subscription", L::SubscriptionId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(L::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        use Payments as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(big_pk_auto(P::Id))
                    .col(big_integer(P::InvoiceId))
                    .col(big_integer(P::AmountCents))
                    .col(date(P::PaidOn))
                    .col(string_len(P::Method, 40))
                    .col(string_len_null(P::Reference, 100))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(P::Table, P::InvoiceId)
                            .to(I::Table, I::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payments_invoice")
                    .table(P::Table)
                    .col(P::InvoiceId)
                    .col(P::Id)
                    .to_owned(),
            )
            .await?;
        use IdempotencyKeys as K;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .col(string_len(K::Scope, 100))
                    .col(string_len(K::Key, 200))
                    .col(string_len(K::RequestHash, 64))
                    .col(integer(K::Status))
                    .col(text(K::Body))
                    .col(timestamp_with_time_zone(K::CreatedAt))
                    .primary_key(Index::create().col(K::Scope).col(K::Key))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            IdempotencyKeys::Table.into_iden(),
            Payments::Table.into_iden(),
            InvoiceLines::Table.into_iden(),
            Invoices::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
