//! T-8: a billing cycle's proration table for annual joins, kept with the cycle as a JSON
//! array (`[]`: T-3 applies). It is read and written whole, with the cycle.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum BillingCycles {
    Table,
    ProrationRules,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BillingCycles::Table)
                    .add_column(
                        ColumnDef::new(BillingCycles::ProrationRules)
                            .text()
                            .not_null()
                            .default("[]"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BillingCycles::Table)
                    .drop_column(BillingCycles::ProrationRules)
                    .to_owned(),
            )
            .await
    }
}
