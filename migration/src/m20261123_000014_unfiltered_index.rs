//! No query filters or orders subscriptions by paid-through (expiry reads the contact's), yet
//! every subscription written, by imports and renewal runs alike, wrote an entry in its index.

use sea_orm_migration::prelude::*;

use crate::m20261122_000005_subscriptions::Subscriptions;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_subscriptions_paid_through";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(Subscriptions::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Subscriptions::Table)
                    .col(Subscriptions::PaidThrough)
                    .col(Subscriptions::Id)
                    .to_owned(),
            )
            .await
    }
}
