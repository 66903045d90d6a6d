//! A billing cycle's billing time and accounting method store "no choice" as NULL (the cycle
//! follows the membership settings, B-6 and B-7) rather than the word `default`: the columns
//! then hold only the words the settings hold too, read by one enum each.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [(&str, u32); 2] = [("billing_time", 12), ("accounting_method", 10)];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// On one connection and all or nothing, on SQLite too: the column is rebuilt in steps.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (column, len) in COLUMNS {
            let statements = match manager.get_database_backend() {
                DatabaseBackend::Postgres => vec![
                    format!("ALTER TABLE billing_cycles ALTER COLUMN {column} DROP NOT NULL"),
                    format!("UPDATE billing_cycles SET {column} = NULL WHERE {column} = 'default'"),
                ],
                _ => rebuild_sqlite_column(
                    column,
                    &format!("varchar({len}) NULL"),
                    &format!("NULLIF({column}, 'default')"),
                ),
            };
            run(manager, statements).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (column, len) in COLUMNS {
            let statements = match manager.get_database_backend() {
                DatabaseBackend::Postgres => vec![
                    format!(
                        "UPDATE billing_cycles SET {column} = 'default' WHERE {column} IS NULL"
                    ),
                    format!("ALTER TABLE billing_cycles ALTER COLUMN {column} SET NOT NULL"),
                ],
                _ => rebuild_sqlite_column(
                    column,
                    &format!("varchar({len}) NOT NULL DEFAULT 'default'"),
                    &format!("COALESCE({column}, 'default')"),
                ),
            };
            run(manager, statements).await?;
        }
        Ok(())
    }
}

/// SQLite cannot change a column's nullability: add the new column, copy, drop, rename.
fn rebuild_sqlite_column(column: &str, definition: &str, value: &str) -> Vec<String> {
    let next = format!("{column}_next");
    vec![
        format!("ALTER TABLE billing_cycles ADD COLUMN {next} {definition}"),
        format!("UPDATE billing_cycles SET {next} = {value}"),
        format!("ALTER TABLE billing_cycles DROP COLUMN {column}"),
        format!("ALTER TABLE billing_cycles RENAME COLUMN {next} TO {column}"),
    ]
}

async fn run(manager: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}
