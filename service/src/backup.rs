//! Backups and restores of the whole database.
//!
//! SQLite: `VACUUM INTO` writes a consistent, compacted copy while the server keeps serving
//! (readers and writers are not stopped); a restore checks the copy's integrity, then puts
//! it in place of the database file (with the server stopped) and removes the old WAL, which
//! belongs to the replaced file. PostgreSQL: `pg_dump --format=custom` and `pg_restore
//! --clean`, from the PostgreSQL client tools on the PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::db::Db;
use crate::error::{Error, Result};

/// The database file of an SQLite URL (`sqlite://ams.db?mode=rwc` → `ams.db`).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program).args(args).output().map_err(|e| {
        Error::Internal(format!(
            "could not run {program} ({e}): install the PostgreSQL client tools"
        ))
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Internal(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Writes a backup of the database at `url` to `to`, which must not exist yet.
pub async fn backup(db: &Db, url: &str, to: &Path) -> Result<()> {
    if to.exists() {
        return Err(Error::invalid(
            "to",
            format!("{} exists already", to.display()),
        ));
    }
    let target = to
        .to_str()
        .ok_or_else(|| Error::invalid("to", "not UTF-8"))?;
    match db.backend() {
        DatabaseBackend::Sqlite => {
            db.conn
                .execute_raw(Statement::from_string(
                    DatabaseBackend::Sqlite,
                    format!("VACUUM INTO {}", quote(target)),
                ))
                .await?;
            Ok(())
        }
        _ => run(
            "pg_dump",
            &[
                "--format=custom",
                "--no-owner",
                "--file",
                target,
                "--dbname",
                url,
            ],
        ),
    }
}

/// Replaces the database at `url` with the backup `from`. The server must be stopped.
pub async fn restore(url: &str, from: &Path) -> Result<()> {
    if !from.is_file() {
        return Err(Error::invalid(
            "from",
            format!("{} is not a file", from.display()),
        ));
    }
    let source = from
        .to_str()
        .ok_or_else(|| Error::invalid("from", "not UTF-8"))?;
    let Some(path) = sqlite_path(url) else {
        return run(
            "pg_restore",
            &[
                "--clean",
                "--if-exists",
                "--no-owner",
                "--dbname",
                url,
                source,
            ],
        );
    };
    // The copy must be a sound SQLite database before it replaces anything.
    // Opened read-only with no pragmas: the check must not change the copy.
    let check = sea_orm::Database::connect(format!("sqlite://{source}?mode=ro")).await?;
    let ok = check
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await?
        .and_then(|row| row.try_get_by_index::<String>(0).ok());
    check.close().await?;
    if ok.as_deref() != Some("ok") {
        return Err(Error::invalid(
            "from",
            format!("{} is not a sound SQLite database", from.display()),
        ));
    }
    let staging = path.with_extension("restoring");
    std::fs::copy(from, &staging).map_err(|e| Error::Internal(e.to_string()))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.clone().into_os_string();
        side.push(suffix);
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Internal(e.to_string())),
        }
    }
    std::fs::rename(&staging, &path).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(())
}
