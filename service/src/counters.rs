//! Numbering sequences (M-1 receipt numbers). Taking a number increments the sequence's row in
//! the caller's transaction: the row stays locked until that transaction ends, so servers
//! sharing one PostgreSQL hand out increasing numbers in commit order, and a transaction that
//! rolls back gives its number back (no gap that would look like a missing receipt).

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query};

use entity::counter as k;

use crate::error::{Error, Result};

/// Payment receipts.
pub const RECEIPT: &str = "receipt";

/// The next number of sequence `name`.
pub async fn next(conn: &impl ConnectionTrait, name: &str) -> Result<i64> {
    let stmt = Query::update()
        .table(k::Entity)
        .value(k::Column::Value, Expr::col(k::Column::Value).add(1))
        .and_where(Expr::col(k::Column::Name).eq(name))
        .returning_col(k::Column::Value)
        .to_owned();
    let row = conn
        .query_one(&stmt)
        .await?
        .ok_or_else(|| Error::Internal(format!("no sequence {name}")))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}
