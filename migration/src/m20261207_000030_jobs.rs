//! JB-1: long operations as jobs. A job is a row: its kind and parameters, its state, its
//! progress (done of total), its result or error, whether cancelling was asked, and the
//! server holding it with the time its lease ends (a server that dies stops renewing the
//! lease, and another takes the job over). A renewal run names the job it belongs to, and
//! records each page it committed, so that a run taken over resumes at the next page.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    State,
    Params,
    Done,
    Total,
    Result,
    Error,
    CancelRequested,
    CreatedBy,
    Owner,
    LeaseUntil,
    Attempts,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum RenewalRuns {
    Table,
    JobId,
}

#[derive(DeriveIden)]
enum RenewalRunPages {
    Table,
    Id,
    RunId,
    AfterId,
    UptoId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(big_pk_auto(Jobs::Id))
                    .col(string_len(Jobs::Kind, 40))
                    .col(string_len(Jobs::State, 20))
                    .col(text(Jobs::Params))
                    .col(big_integer(Jobs::Done).default(0))
                    .col(big_integer_null(Jobs::Total))
                    .col(text_null(Jobs::Result))
                    .col(string_len_null(Jobs::Error, 500))
                    .col(boolean(Jobs::CancelRequested).default(false))
                    .col(big_integer(Jobs::CreatedBy))
                    .col(string_len_null(Jobs::Owner, 80))
                    .col(timestamp_with_time_zone_null(Jobs::LeaseUntil))
                    .col(integer(Jobs::Attempts).default(0))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone_null(Jobs::StartedAt))
                    .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        // The runners' claim: queued jobs, and running ones whose lease ended.
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_claim")
                    .table(Jobs::Table)
                    .col(Jobs::State)
                    .col(Jobs::LeaseUntil)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RenewalRuns::Table)
                    .add_column(big_integer_null(RenewalRuns::JobId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_renewal_runs_job")
                    .table(RenewalRuns::Table)
                    .col(RenewalRuns::JobId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RenewalRunPages::Table)
                    .col(big_pk_auto(RenewalRunPages::Id))
                    .col(big_integer(RenewalRunPages::RunId))
                    .col(big_integer(RenewalRunPages::AfterId))
                    .col(big_integer_null(RenewalRunPages::UptoId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_renewal_run_pages")
                    .table(RenewalRunPages::Table)
                    .col(RenewalRunPages::RunId)
                    .col(RenewalRunPages::AfterId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RenewalRunPages::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_renewal_runs_job")
                    .table(RenewalRuns::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RenewalRuns::Table)
                    .drop_column(RenewalRuns::JobId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await
    }
}
