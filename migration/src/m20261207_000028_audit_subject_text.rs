//! An audit event's subject is the request's path with its query, which an import's column
//! mapping (MG-1) makes longer than the 100 characters first allowed. SQLite does not enforce
//! a column's length; PostgreSQL's column becomes text.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE audit_events ALTER COLUMN subject TYPE text")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE audit_events ALTER COLUMN subject TYPE varchar(100) \
                     USING left(subject, 100)",
                )
                .await?;
        }
        Ok(())
    }
}
