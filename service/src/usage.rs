//! "In use" checks before a delete: counts of the rows that refer to a code.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

use crate::error::{Error, Result};

/// A column elsewhere that refers to the code, with words for the error message.
pub struct Use {
    pub table: &'static str,
    pub column: &'static str,
    pub label: &'static str,
}

pub const fn uses(table: &'static str, column: &'static str, label: &'static str) -> Use {
    Use {
        table,
        column,
        label,
    }
}

pub async fn count(
    conn: &impl ConnectionTrait,
    table: &str,
    column: &str,
    code: &str,
) -> Result<i64> {
    let stmt = Query::select()
        .expr(Expr::col(Alias::new(column)).count())
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new(column)).eq(code))
        .to_owned();
    let row = conn.query_one(&stmt).await?;
    match row {
        Some(row) => Ok(row.try_get_by_index::<i64>(0)?),
        None => Ok(0),
    }
}

/// Rejects with 409 and the counts when anything refers to `code` (CT-7 and its kin).
pub async fn ensure_unused(
    conn: &impl ConnectionTrait,
    what: &str,
    code: &str,
    uses: &[Use],
) -> Result<()> {
    let mut found = Vec::new();
    for u in uses {
        let n = count(conn, u.table, u.column, code).await?;
        if n > 0 {
            found.push(format!("{n} {}", u.label));
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(Error::conflict(format!(
            "{what} {code} is in use ({}) and cannot be deleted",
            found.join(", ")
        )))
    }
}
