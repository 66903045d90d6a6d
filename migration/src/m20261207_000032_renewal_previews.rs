//! JB-2: a renewal preview is saved for 24 hours: its inputs and counts, and each bill with
//! what identifies it (its fingerprint: type, term, lines and payers), so that it can be paged
//! and committed as previewed, reporting the bills that changed since.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RenewalPreviews {
    Table,
    Id,
    CycleId,
    EffectiveDate,
    AutopayOption,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    Considered,
    Billed,
    Skipped,
    TotalCents,
    CommittedRunId,
}

#[derive(DeriveIden)]
enum RenewalPreviewBills {
    Table,
    Id,
    PreviewId,
    ContactId,
    Printed,
    CustomerType,
    TermBegin,
    TermEnd,
    TotalCents,
    Lines,
    Fingerprint,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RenewalPreviewBills as B;
        use RenewalPreviews as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(big_pk_auto(P::Id))
                    .col(big_integer(P::CycleId))
                    .col(date(P::EffectiveDate))
                    .col(string_len_null(P::AutopayOption, 20))
                    .col(big_integer(P::CreatedBy))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .col(timestamp_with_time_zone(P::ExpiresAt))
                    .col(big_integer(P::Considered).default(0))
                    .col(big_integer(P::Billed).default(0))
                    .col(big_integer(P::Skipped).default(0))
                    .col(big_integer(P::TotalCents).default(0))
                    .col(big_integer_null(P::CommittedRunId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_renewal_previews_expires")
                    .table(P::Table)
                    .col(P::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .col(big_pk_auto(B::Id))
                    .col(big_integer(B::PreviewId))
                    .col(big_integer(B::ContactId))
                    .col(boolean(B::Printed))
                    .col(string_len(B::CustomerType, 50))
                    .col(date(B::TermBegin))
                    .col(date(B::TermEnd))
                    .col(big_integer(B::TotalCents))
                    .col(text(B::Lines))
                    .col(text(B::Fingerprint))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_renewal_preview_bills")
                    .table(B::Table)
                    .col(B::PreviewId)
                    .col(B::ContactId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RenewalPreviewBills::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RenewalPreviews::Table).to_owned())
            .await
    }
}
