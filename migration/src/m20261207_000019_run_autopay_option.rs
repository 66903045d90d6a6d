//! B-16: a renewal run may override its cycle's AutoPay option; the run records the option it
//! used (NULL for runs recorded before: they used their cycle's).

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum RenewalRuns {
    Table,
    AutopayOption,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RenewalRuns::Table)
                    .add_column(
                        ColumnDef::new(RenewalRuns::AutopayOption)
                            .string_len(20)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RenewalRuns::Table)
                    .drop_column(RenewalRuns::AutopayOption)
                    .to_owned(),
            )
            .await
    }
}
