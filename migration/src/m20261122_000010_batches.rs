//! I-5: AutoPay invoices of a renewal run form a batch, posted or deleted as a whole.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000007_invoices::Invoices;
use crate::m20261122_000009_renewal_runs::RenewalRuns;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Batches {
    Table,
    Id,
    RunId,
    Status,
    CreatedAt,
    PostedAt,
}

#[derive(DeriveIden)]
enum Added {
    BatchId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Batches as B;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .col(big_pk_auto(B::Id))
                    .col(big_integer(B::RunId))
                    .col(string_len(B::Status, 10))
                    .col(timestamp_with_time_zone(B::CreatedAt))
                    .col(timestamp_with_time_zone_null(B::PostedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(B::Table, B::RunId)
                            .to(RenewalRuns::Table, RenewalRuns::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_batches_run")
                    .table(B::Table)
                    .col(B::RunId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Invoices::Table)
                    .add_column(big_integer_null(Added::BatchId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invoices_batch")
                    .table(Invoices::Table)
                    .col(Added::BatchId)
                    .col(Invoices::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_invoices_batch")
                    .table(Invoices::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Invoices::Table)
                    .drop_column(Added::BatchId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Batches::Table).to_owned())
            .await
    }
}
