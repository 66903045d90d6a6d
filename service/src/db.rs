//! The database handle: one pool, migrations, and write transactions.
//!
//! SQLite allows one writer at a time; a deferred transaction that reads and then writes can
//! fail at once with SQLITE_BUSY instead of waiting. Write transactions on SQLite therefore
//! begin IMMEDIATE, taking the write lock up front and waiting (busy timeout) for it.
//!
//! SQLite copies its write-ahead log back into the database file (a checkpoint) in whichever
//! commit finds the log past its threshold, so one request in many paid for the writes of all
//! the others (a third of a 100,000-row import). Here a background task checkpoints instead,
//! as PostgreSQL's checkpointer does, and commits only append to the log.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, IsolationLevel, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

/// The connection and transaction types, for callers that hold a transaction across several
/// service calls (an import of reference data writes each row with the request's own checks).
pub use sea_orm::{DatabaseConnection as Connection, DatabaseTransaction as Transaction};

/// A savepoint inside `txn`: dropped without commit, it undoes only its own writes.
pub async fn savepoint(txn: &Transaction) -> Result<Transaction, DbErr> {
    use sea_orm::TransactionTrait;
    txn.begin().await
}

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
                        .pragma("wal_autocheckpoint", "0")
                        .pragma("cache_size", "-16000")
                });
        } else {
            opts.max_connections(20).min_connections(1);
        }
        let conn = Database::connect(opts).await?;
        if is_sqlite {
            tokio::spawn(checkpoints(conn.clone()));
        }
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
        let txn = self.begin_immediate().await?;
        crate::audit::record_request(&txn).await?;
        Ok(txn)
    }

    /// Begins a write transaction that the caller rolls back: it tries an operation's checks
    /// and writes before something that cannot be undone (asking the payment provider for a
    /// refund). The request's audit event is left to the transaction that keeps its work.
    pub async fn trial(&self) -> Result<DatabaseTransaction, DbErr> {
        self.begin_immediate().await
    }

    /// A read-only transaction that sees one state of the database throughout, for a read of
    /// many pages (a run's print): on PostgreSQL repeatable read, on SQLite the snapshot its
    /// write-ahead log gives a reader. It also keeps the read on one connection.
    pub async fn snapshot(&self) -> Result<DatabaseTransaction, DbErr> {
        match self.backend() {
            DatabaseBackend::Postgres => {
                self.conn
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await
            }
            _ => self.conn.begin().await,
        }
    }

    async fn begin_immediate(&self) -> Result<DatabaseTransaction, DbErr> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        self.conn.begin_with_options(options).await
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}

/// How often the log is copied back. PASSIVE never waits for readers or writers; what it cannot
/// copy now it copies on a later turn.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints an SQLite database's write-ahead log while its pool is open.
async fn checkpoints(conn: DatabaseConnection) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = conn
            .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await
        {
            // A closed pool ends the task.
            if conn.ping().await.is_err() {
                return;
            }
            tracing::warn!(error = %e, "write-ahead log checkpoint");
        }
    }
}
