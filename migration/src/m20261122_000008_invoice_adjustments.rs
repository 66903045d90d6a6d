//! I-8: every staff adjustment of an open invoice, with who, when and why.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000007_invoices::Invoices;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum InvoiceAdjustments {
    Table,
    Id,
    InvoiceId,
    At,
    UserId,
    Reason,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use InvoiceAdjustments as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(big_pk_auto(A::Id))
                    .col(big_integer(A::InvoiceId))
                    .col(timestamp_with_time_zone(A::At))
                    .col(big_integer(A::UserId))
                    .col(string_len(A::Reason, 200))
                    .col(text(A::Details))
                    .foreign_key(
                        ForeignKey::create()
                            .from(A::Table, A::InvoiceId)
                            .to(Invoices::Table, Invoices::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invoice_adjustments_invoice")
                    .table(A::Table)
                    .col(A::InvoiceId)
                    .col(A::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InvoiceAdjustments::Table).to_owned())
            .await
    }
}
