//! Renewal runs write three billing lines per member; every index on the lines costs each of
//! those rows. `(subscription_id)` alone duplicates the prefix of the unique
//! `(subscription_id, billed_term)` billing key, which answers the same lookups.

use sea_orm_migration::prelude::*;

use crate::m20261122_000007_invoices::InvoiceLines;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_invoice_lines_subscription")
                    .table(InvoiceLines::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_invoice_lines_subscription")
                    .table(InvoiceLines::Table)
                    .col(InvoiceLines::SubscriptionId)
                    .to_owned(),
            )
            .await
    }
}
