//! MG-2: a merged contact keeps its row, pointing at the survivor, so that its id answers
//! 404 naming where it went and is never reused (C-1). MG-3: history rows brought from another
//! system are marked imported and keep the amount paid for the term.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Contacts {
    Table,
    MergedInto,
}

#[derive(DeriveIden)]
enum ContactHistory {
    Table,
    Imported,
    AmountCents,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .add_column(ColumnDef::new(Contacts::MergedInto).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // Few contacts are merged: the counts at a date find them without a scan.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_contacts_merged_into ON contacts (merged_into) \
                 WHERE merged_into IS NOT NULL",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ContactHistory::Table)
                    .add_column(
                        ColumnDef::new(ContactHistory::Imported)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ContactHistory::Table)
                    .add_column(
                        ColumnDef::new(ContactHistory::AmountCents)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_contacts_merged_into")
            .await?;
        for (table, column) in [
            (
                ContactHistory::Table.into_iden(),
                ContactHistory::AmountCents.into_iden(),
            ),
            (
                ContactHistory::Table.into_iden(),
                ContactHistory::Imported.into_iden(),
            ),
            (
                Contacts::Table.into_iden(),
                Contacts::MergedInto.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
