//! Small helpers for the few statements that SeaORM's builders do not express (multi-row
//! `UPDATE ... FROM (VALUES ...)`), written once for both databases.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, ValueTuple};
use sea_orm::{ColumnTrait, DatabaseBackend, Statement, Value};

use crate::error::{Error, Result};

/// Keys per `IN (...)` list: well under both databases' bind-parameter limits.
pub const IN_CHUNK: usize = 10_000;

/// Rows per multi-row statement, from the number of parameters each row binds: keeps every
/// statement well under SQLite's 32,766 and PostgreSQL's 65,535 bind parameters. At most 200
/// rows: each connection keeps its prepared statements, and SQLite's program for a
/// 1,000-row insert weighs about 400 KB (an import held 21 MB of them); 200 rows already
/// write as fast.
pub fn rows_per_statement(params_per_row: usize) -> usize {
    (30_000 / params_per_row.max(1)).clamp(1, 200)
}

/// Rows per multi-row statement for a renewal run's pages of 1,000 bills: one statement a
/// page. A run's few statements are worth their memory (with 200-row statements a
/// 100,000-member run measured slower, within the spread between runs).
pub fn rows_per_page_statement(params_per_row: usize) -> usize {
    (30_000 / params_per_row.max(1)).clamp(1, 1_000)
}

/// Builds a statement whose `{}` markers become the backend's numbered placeholders.
pub struct Sql {
    backend: DatabaseBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DatabaseBackend) -> Self {
        Sql {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.values.len().to_string());
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends `(v1, v2, ...)`.
    pub fn tuple(&mut self, values: impl IntoIterator<Item = Value>) -> &mut Self {
        self.text.push('(');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v);
        }
        self.text.push(')');
        self
    }

    /// Appends `(SELECT .. )`, a table of `rows` (a list of equally long lists) bound as one
    /// JSON parameter; `columns` names each position and its PostgreSQL type. The statement's
    /// text is the same however many rows there are, so it is prepared once, and no row counts
    /// against the bind-parameter limits.
    pub fn json_rows(
        &mut self,
        rows: &impl serde::Serialize,
        columns: &[(&str, &str)],
    ) -> Result<&mut Self> {
        let json =
            serde_json::to_string(rows).map_err(|e| Error::Internal(format!("JSON rows: {e}")))?;
        let postgres = self.backend == DatabaseBackend::Postgres;
        self.push("(SELECT ");
        for (i, (name, pg_type)) in columns.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            if postgres {
                self.push(&format!("(value ->> {i})::{pg_type} AS {name}"));
            } else {
                self.push(&format!("value ->> {i} AS {name}"));
            }
        }
        if postgres {
            self.push(" FROM json_array_elements(CAST(")
                .bind(json)
                .push(" AS json)))");
        } else {
            self.push(" FROM json_each(").bind(json).push("))");
        }
        Ok(self)
    }

    pub fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// `column IN (SELECT column1 FROM (VALUES (..), ..))`: a semi-join that the planner hashes or
/// drives through an index. A long `IN ($1, .., $n)` list can instead be searched linearly for
/// every row of a scan under PostgreSQL's generic plans, turning a 10,000-key lookup into
/// seconds.
pub fn in_values<C, V>(column: C, values: impl IntoIterator<Item = V>) -> Expr
where
    C: ColumnTrait,
    V: Into<Value>,
{
    column.in_subquery(keys(values))
}

/// `column BETWEEN min AND max AND column IN (VALUES ..)` for id lists. For a thousand keys
/// PostgreSQL's planner prefers hash-joining the whole table to probing an index, even with
/// fresh statistics; the bounds let it walk the index over the ids' range instead (30 ms to
/// 2 ms for a renewal page). SQLite still probes the index once per key.
pub fn in_ids(column: impl ColumnTrait, ids: &[i64]) -> Expr {
    in_id_range(Expr::col(column.as_column_ref()), ids)
}

/// [`in_ids`] on an aliased or joined column.
pub fn in_id_range(column: Expr, ids: &[i64]) -> Expr {
    match (ids.iter().min(), ids.iter().max()) {
        (Some(min), Some(max)) => column
            .clone()
            .between(*min, *max)
            .and(column.in_subquery(keys(ids.iter().copied()))),
        _ => Expr::val(false),
    }
}

/// `SELECT column1 FROM (VALUES (..), ..)`, for `in_subquery` on joined or aliased columns.
pub fn keys<V: Into<Value>>(values: impl IntoIterator<Item = V>) -> SelectStatement {
    Query::select()
        .expr(Expr::col(Alias::new("column1")))
        .from_values(
            values.into_iter().map(|v| ValueTuple::One(v.into())),
            Alias::new("keys"),
        )
        .to_owned()
}
