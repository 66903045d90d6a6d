//! The database handle: one pool, migrations, and write transactions.
//!
//! SQLite allows one writer at a time; a deferred transaction that reads and then writes can
//! fail at once with SQLITE_BUSY instead of waiting. Write transactions on SQLite therefore
//! begin IMMEDIATE, taking the write lock up front and waiting (busy timeout) for it.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

#[derive(Clone)]
pub struct Db {
    pub conn: DatabaseConnection,
}

impl Db {
    pub async fn connect(url: &str) -> Result<Db, DbErr> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        let is_sqlite = url.starts_with("sqlite:");
        if is_sqlite {
            opts.max_connections(8)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|o| {
                    o.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(30))
                        .create_if_missing(true)
                        .pragma("wal_autocheckpoint", "10000")
                        .pragma("cache_size", "-16000")
                });
        } else {
            opts.max_connections(20).min_connections(1);
        }
        let conn = Database::connect(opts).await?;
        Ok(Db { conn })
    }

    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.conn, None).await
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Begins a transaction for a multi-step write; everything in it lands or nothing does,
    /// the audit event of the request being served included.
    pub async fn write(&self) -> Result<DatabaseTransaction, DbErr> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = self.conn.begin_with_options(options).await?;
        crate::audit::record_request(&txn).await?;
        Ok(txn)
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}
