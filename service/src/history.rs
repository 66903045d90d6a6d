//! L-6 (in part): a contact's history of terms and of type and status changes, oldest first.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use entity::contact as c;
use entity::contact_history as h;

use crate::error::Result;
use crate::page::{self, Page, PageRequest};

pub const TYPE_CHANGE: &str = "type_change";
pub const STATUS_CHANGE: &str = "status_change";
pub const TERM: &str = "term";

pub async fn record_change(
    conn: &impl ConnectionTrait,
    contact_id: i64,
    kind: &str,
    from: &str,
    to: &str,
    at: DateTime<Utc>,
) -> Result<i64> {
    let row = h::ActiveModel {
        contact_id: Set(contact_id),
        kind: Set(kind.to_owned()),
        at: Set(at),
        from_value: Set(Some(from.to_owned())),
        to_value: Set(Some(to.to_owned())),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// Records one change of `kind` per `(contact_id, from, to)`, in multi-row statements.
pub async fn record_changes(
    conn: &impl ConnectionTrait,
    kind: &str,
    changes: &[(i64, &str, &str)],
    at: DateTime<Utc>,
) -> Result<()> {
    for chunk in changes.chunks(crate::sql::rows_per_statement(5)) {
        h::Entity::insert_many(chunk.iter().map(|(id, from, to)| h::ActiveModel {
            contact_id: Set(*id),
            kind: Set(kind.to_owned()),
            at: Set(at),
            from_value: Set(Some((*from).to_owned())),
            to_value: Set(Some((*to).to_owned())),
            ..Default::default()
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// L-6: a paid term (join, renewal or rejoin).
pub struct TermRecord<'a> {
    pub contact_id: i64,
    pub begin: chrono::NaiveDate,
    pub end: chrono::NaiveDate,
    pub customer_type: Option<&'a str>,
    pub product: Option<&'a str>,
    pub invoice_id: i64,
}

/// L-6: records `t`; returns the row's id.
pub async fn record_term(
    conn: &impl ConnectionTrait,
    t: TermRecord<'_>,
    at: DateTime<Utc>,
) -> Result<i64> {
    let row = h::ActiveModel {
        contact_id: Set(t.contact_id),
        kind: Set(TERM.to_owned()),
        at: Set(at),
        term_begin: Set(Some(t.begin)),
        term_end: Set(Some(t.end)),
        customer_type: Set(t.customer_type.map(str::to_owned)),
        product: Set(t.product.map(str::to_owned)),
        invoice_id: Set(Some(t.invoice_id)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// Records a type change for every contact linked to `company_id` whose type is one of
/// `from_types` and differs from `to`: one INSERT ... SELECT, whatever the count. Returns the
/// ids of the rows written.
pub async fn record_linked_type_changes(
    conn: &impl ConnectionTrait,
    company_id: i64,
    from_types: &[String],
    to: &str,
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let select = Query::select()
        .column(c::Column::Id)
        .expr(Expr::val(TYPE_CHANGE))
        .expr(Expr::val(at))
        .column(c::Column::CustomerType)
        .expr(Expr::val(to))
        .from(c::Entity)
        .and_where(Expr::col(c::Column::CompanyId).eq(company_id))
        .and_where(Expr::col(c::Column::CustomerType).is_in(from_types.iter().cloned()))
        .and_where(Expr::col(c::Column::CustomerType).ne(to))
        .to_owned();
    let insert = Query::insert()
        .into_table(h::Entity)
        .columns([
            Alias::new("contact_id"),
            Alias::new("kind"),
            Alias::new("at"),
            Alias::new("from_value"),
            Alias::new("to_value"),
        ])
        .select_from(select)
        .map_err(|e| crate::Error::Internal(e.to_string()))?
        .returning_col(h::Column::Id)
        .to_owned();
    let mut ids = Vec::new();
    for row in conn.query_all(&insert).await? {
        ids.push(row.try_get_by_index::<i64>(0)?);
    }
    Ok(ids)
}

/// A history entry; a term carries the gap before it (L-6): the days between the end of the
/// latest earlier term and its begin, when there are any.
#[derive(Debug, Clone)]
pub struct Entry {
    pub row: h::Model,
    pub gap_before: Option<(NaiveDate, NaiveDate)>,
}

/// The gap between a term ending `previous_end` and one beginning `begin`, if any.
pub fn gap(previous_end: NaiveDate, begin: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let first = previous_end.succ_opt()?;
    let last = begin.pred_opt()?;
    (first <= last).then_some((first, last))
}

pub async fn list(
    conn: &impl ConnectionTrait,
    contact_id: i64,
    req: &PageRequest,
) -> Result<Page<Entry>> {
    let limit = req.limit()?;
    let mut q = h::Entity::find()
        .filter(h::Column::ContactId.eq(contact_id))
        .order_by_asc(h::Column::Id)
        .limit(limit + 1);
    if let Some(after) = req.after_id()? {
        q = q.filter(h::Column::Id.gt(after));
    }
    let rows = q.all(conn).await?;
    let page = page::build(rows, limit, |r| r.id.to_string());
    // The latest end among the terms before this page, for the first gap on it.
    let mut latest_end: Option<NaiveDate> = match page.items.first() {
        Some(first) => h::Entity::find()
            .select_only()
            .column_as(h::Column::TermEnd.max(), "latest")
            .filter(h::Column::ContactId.eq(contact_id))
            .filter(h::Column::Kind.eq(TERM))
            .filter(h::Column::Id.lt(first.id))
            .into_tuple::<Option<NaiveDate>>()
            .one(conn)
            .await?
            .flatten(),
        None => None,
    };
    let items = page
        .items
        .into_iter()
        .map(|row| {
            let mut gap_before = None;
            if let (TERM, Some(begin), Some(end)) =
                (row.kind.as_str(), row.term_begin, row.term_end)
            {
                gap_before = latest_end.and_then(|prev| gap(prev, begin));
                latest_end = Some(latest_end.map_or(end, |prev| Ord::max(prev, end)));
            }
            Entry { row, gap_before }
        })
        .collect();
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn l6_gap_is_the_days_between_terms() {
        assert_eq!(gap(d("2024-12-31"), d("2025-01-01")), None);
        assert_eq!(gap(d("2024-12-31"), d("2024-06-01")), None);
        assert_eq!(
            gap(d("2024-12-31"), d("2025-04-10")),
            Some((d("2025-01-01"), d("2025-04-09")))
        );
        assert_eq!(
            gap(d("2024-02-28"), d("2024-03-01")),
            Some((d("2024-02-29"), d("2024-02-29")))
        );
    }
}
