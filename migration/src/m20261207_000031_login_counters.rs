//! JB-4: login limits counted in the database, so that every server of one database counts
//! the same attempts: one row per count (failures per address and username, attempts and
//! registrations per address) with the end of its window.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginCounters {
    Table,
    Key,
    Count,
    WindowEnds,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginCounters::Table)
                    .col(string_len(LoginCounters::Key, 400).primary_key())
                    .col(integer(LoginCounters::Count))
                    .col(timestamp_with_time_zone(LoginCounters::WindowEnds))
                    .to_owned(),
            )
            .await?;
        // The sweep of ended windows.
        manager
            .create_index(
                Index::create()
                    .name("idx_login_counters_ends")
                    .table(LoginCounters::Table)
                    .col(LoginCounters::WindowEnds)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginCounters::Table).to_owned())
            .await
    }
}
