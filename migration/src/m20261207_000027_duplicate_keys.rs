//! MG-2: likely duplicates are contacts with one name and postal code (ignoring case and
//! spaces); this index finds each contact's namesakes at its postal code without a scan. The
//! expression is the one `service::duplicates` compares.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_contacts_name_postal_key ON contacts \
                 (sort_name, (upper(replace(postal_code, ' ', ''))))",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_contacts_name_postal_key")
            .await?;
        Ok(())
    }
}
