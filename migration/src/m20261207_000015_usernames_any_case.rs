//! Usernames are unique regardless of letter case: `ALICE` and `alice` were two logins, while
//! login limits counted them as one. Logins look a username up by its lower-case form, which
//! this index serves.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_users_username_lower ON users (lower(username))",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_users_username_lower")
            .await
            .map(|_| ())
    }
}
