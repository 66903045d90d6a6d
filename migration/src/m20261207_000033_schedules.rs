//! JB-3: schedules staff read and set: what runs on its own (expiry, reminders, dunning
//! retries, notice and webhook delivery, a renewal run per cycle), when (a cron expression or
//! a day of the month), when it last ran and runs next. Claiming a due time moves `next_run`
//! on in one conditional update, so with several servers each due time runs once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Schedules {
    Table,
    Name,
    Enabled,
    Cron,
    DayOfMonth,
    LastRun,
    NextRun,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Schedules as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(string_len(S::Name, 80).primary_key())
                    .col(boolean(S::Enabled))
                    .col(string_len_null(S::Cron, 200))
                    .col(integer_null(S::DayOfMonth))
                    .col(timestamp_with_time_zone_null(S::LastRun))
                    .col(timestamp_with_time_zone_null(S::NextRun))
                    .col(big_integer_null(S::UpdatedBy))
                    .col(timestamp_with_time_zone(S::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_schedules_due")
                    .table(S::Table)
                    .col(S::Enabled)
                    .col(S::NextRun)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Schedules::Table).to_owned())
            .await
    }
}
