//! Code-and-name lookup tables (contact statuses, billing categories): one implementation,
//! configured per table.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::error::{Error, Errors, Result, check_version};
use crate::page::{self, Page, PageRequest};
use crate::usage::{self, Use};
use crate::{clock, db::Db};

#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct LookupRow {
    pub code: String,
    pub name: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct LookupTable {
    pub table: &'static str,
    pub what: &'static str,
    pub check_code: fn(&str) -> std::result::Result<(), String>,
    pub uses: &'static [Use],
    /// Codes the product relies on and that may not be deleted.
    pub protected: &'static [&'static str],
}

fn tbl(t: &LookupTable) -> Alias {
    Alias::new(t.table)
}

fn check_name(errors: &mut Errors, name: &str) {
    if name.trim().is_empty() || name.chars().count() > 200 {
        errors.add("name", "must be 1 to 200 characters");
    }
}

impl LookupTable {
    pub async fn find(&self, conn: &impl ConnectionTrait, code: &str) -> Result<Option<LookupRow>> {
        let stmt = Query::select()
            .columns(["code", "name", "version", "created_at", "updated_at"].map(Alias::new))
            .from(tbl(self))
            .and_where(Expr::col(Alias::new("code")).eq(code))
            .to_owned();
        let row = conn.query_one(&stmt).await?;
        Ok(row
            .map(|r| LookupRow::from_query_result(&r, ""))
            .transpose()?)
    }

    /// Which of `codes` exist, in one query.
    pub async fn existing(
        &self,
        conn: &impl ConnectionTrait,
        codes: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        if codes.is_empty() {
            return Ok(Default::default());
        }
        let stmt = Query::select()
            .column(Alias::new("code"))
            .from(tbl(self))
            .and_where(Expr::col(Alias::new("code")).is_in(codes.iter().cloned()))
            .to_owned();
        let mut out = std::collections::HashSet::new();
        for row in conn.query_all(&stmt).await? {
            out.insert(row.try_get_by_index::<String>(0)?);
        }
        Ok(out)
    }

    pub async fn get(&self, conn: &impl ConnectionTrait, code: &str) -> Result<LookupRow> {
        self.find(conn, code)
            .await?
            .ok_or_else(|| Error::not_found(self.what, code))
    }

    pub async fn list(
        &self,
        conn: &impl ConnectionTrait,
        req: &PageRequest,
    ) -> Result<Page<LookupRow>> {
        let limit = req.limit()?;
        let mut q = Query::select()
            .columns(["code", "name", "version", "created_at", "updated_at"].map(Alias::new))
            .from(tbl(self))
            .order_by(Alias::new("code"), Order::Asc)
            .limit(limit + 1)
            .to_owned();
        if let Some(after) = req.after_text()? {
            q.and_where(Expr::col(Alias::new("code")).gt(after));
        }
        let rows = conn
            .query_all(&q)
            .await?
            .iter()
            .map(|r| LookupRow::from_query_result(r, ""))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(page::build(rows, limit, |r| r.code.clone()))
    }

    pub async fn create(&self, db: &Db, code: &str, name: &str) -> Result<LookupRow> {
        let txn = db.write().await?;
        let out = self.create_in(&txn, code, name).await?;
        txn.commit().await?;
        Ok(out)
    }

    /// The same, inside the caller's transaction (an import writes many in one).
    pub async fn create_in(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        code: &str,
        name: &str,
    ) -> Result<LookupRow> {
        let mut errors = Errors::new();
        if let Err(m) = (self.check_code)(code) {
            errors.add("code", m);
        }
        check_name(&mut errors, name);
        errors.into_result()?;
        if self.find(txn, code).await?.is_some() {
            return Err(Error::conflict(format!(
                "{} {code} already exists",
                self.what
            )));
        }
        let now = clock::now();
        let stmt = Query::insert()
            .into_table(tbl(self))
            .columns(["code", "name", "version", "created_at", "updated_at"].map(Alias::new))
            .values_panic([
                code.into(),
                name.trim().into(),
                1.into(),
                now.into(),
                now.into(),
            ])
            .to_owned();
        txn.execute(&stmt).await?;
        let row = self.get(txn, code).await?;
        Ok(row)
    }

    pub async fn rename(
        &self,
        db: &Db,
        code: &str,
        name: &str,
        expected_version: Option<i32>,
    ) -> Result<LookupRow> {
        let txn = db.write().await?;
        let out = self.rename_in(&txn, code, name, expected_version).await?;
        txn.commit().await?;
        Ok(out)
    }

    /// The same, inside the caller's transaction (an import writes many in one).
    pub async fn rename_in(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        code: &str,
        name: &str,
        expected_version: Option<i32>,
    ) -> Result<LookupRow> {
        let mut errors = Errors::new();
        check_name(&mut errors, name);
        errors.into_result()?;
        let current = self.get(txn, code).await?;
        check_version(expected_version, current.version)?;
        let stmt = Query::update()
            .table(tbl(self))
            .value(Alias::new("name"), name.trim())
            .value(Alias::new("version"), current.version + 1)
            .value(Alias::new("updated_at"), clock::now())
            .and_where(Expr::col(Alias::new("code")).eq(code))
            .and_where(Expr::col(Alias::new("version")).eq(current.version))
            .to_owned();
        if txn.execute(&stmt).await?.rows_affected() == 0 {
            return Err(Error::PreconditionFailed);
        }
        let row = self.get(txn, code).await?;
        Ok(row)
    }

    pub async fn delete(&self, db: &Db, code: &str, expected_version: Option<i32>) -> Result<()> {
        let txn = db.write().await?;
        let current = self.get(&txn, code).await?;
        check_version(expected_version, current.version)?;
        if self.protected.contains(&code) {
            return Err(Error::conflict(format!(
                "{} {code} is built in and cannot be deleted",
                self.what
            )));
        }
        usage::ensure_unused(&txn, self.what, code, self.uses).await?;
        let stmt = Query::delete()
            .from_table(tbl(self))
            .and_where(Expr::col(Alias::new("code")).eq(code))
            .to_owned();
        txn.execute(&stmt).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Seeds a row if absent (used for built-in rows such as CS-2's statuses).
    pub async fn ensure(&self, conn: &impl ConnectionTrait, code: &str, name: &str) -> Result<()> {
        if self.find(conn, code).await?.is_none() {
            let now = clock::now();
            let stmt = Query::insert()
                .into_table(tbl(self))
                .columns(["code", "name", "version", "created_at", "updated_at"].map(Alias::new))
                .values_panic([code.into(), name.into(), 1.into(), now.into(), now.into()])
                .to_owned();
            conn.execute(&stmt).await?;
        }
        Ok(())
    }
}
