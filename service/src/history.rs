//! L-6 (in part): a contact's history of terms and of type and status changes, oldest first.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
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

/// L-6, MG-3, R-10: a term entering the ledger without a payment of this system: brought from
/// another system (`imported`, with the amount paid there), or a complimentary term moved at
/// billing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTerm {
    pub contact_id: i64,
    pub begin: NaiveDate,
    pub end: NaiveDate,
    pub customer_type: Option<String>,
    pub product: Option<String>,
    pub invoice_id: Option<i64>,
    pub amount_cents: Option<i64>,
    pub imported: bool,
}

/// Records `terms` in multi-row statements; returns their ids, in order.
pub async fn record_terms(
    conn: &impl ConnectionTrait,
    terms: &[NewTerm],
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(terms.len());
    for chunk in terms.chunks(crate::sql::rows_per_statement(10)) {
        let mut stmt = h::Entity::insert_many(chunk.iter().map(|t| h::ActiveModel {
            contact_id: Set(t.contact_id),
            kind: Set(TERM.to_owned()),
            at: Set(at),
            term_begin: Set(Some(t.begin)),
            term_end: Set(Some(t.end)),
            customer_type: Set(t.customer_type.clone()),
            product: Set(t.product.clone()),
            invoice_id: Set(t.invoice_id),
            imported: Set(t.imported),
            amount_cents: Set(t.amount_cents),
            ..Default::default()
        }))
        .into_query();
        stmt.returning_col(h::Column::Id);
        let mut new_ids = Vec::with_capacity(chunk.len());
        for row in conn.query_all(&stmt).await? {
            new_ids.push(row.try_get_by_index::<i64>(0)?);
        }
        // Ids are drawn in the order of the VALUES rows; RETURNING need not keep that order.
        new_ids.sort_unstable();
        ids.extend(new_ids);
    }
    Ok(ids)
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

/// `(id, begin, end)` of every term of a contact: a contact has tens, not thousands.
async fn term_spans(
    conn: &impl ConnectionTrait,
    contact_id: i64,
) -> Result<Vec<(i64, NaiveDate, NaiveDate)>> {
    let rows: Vec<(i64, Option<NaiveDate>, Option<NaiveDate>)> = h::Entity::find()
        .select_only()
        .columns([h::Column::Id, h::Column::TermBegin, h::Column::TermEnd])
        .filter(h::Column::ContactId.eq(contact_id))
        .filter(h::Column::Kind.eq(TERM))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, b, e)| Some((id, b?, e?)))
        .collect())
}

/// The gap before the term `id` beginning `begin`: after the latest end among the terms that
/// begin before it (or on the same day, recorded earlier), whatever order they were recorded
/// in: terms brought from another system (MG-3) are recorded after newer ones.
pub fn gap_before(
    terms: &[(i64, NaiveDate, NaiveDate)],
    id: i64,
    begin: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let previous_end = terms
        .iter()
        .filter(|(other, b, _)| (*b, *other) < (begin, id))
        .map(|(_, _, e)| *e)
        .max()?;
    gap(previous_end, begin)
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
    let terms = term_spans(conn, contact_id).await?;
    let items = page
        .items
        .into_iter()
        .map(|row| {
            let gap_before = match (row.kind.as_str(), row.term_begin) {
                (TERM, Some(begin)) => gap_before(&terms, row.id, begin),
                _ => None,
            };
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
    fn mg3_gaps_follow_the_terms_dates_not_the_order_they_were_recorded_in() {
        // Recorded: 2024 (id 1), then imported 2019 and 2021 (ids 2 and 3).
        let terms = [
            (1, d("2024-01-01"), d("2024-12-31")),
            (2, d("2019-01-01"), d("2019-12-31")),
            (3, d("2021-01-01"), d("2022-12-31")),
        ];
        assert_eq!(gap_before(&terms, 2, d("2019-01-01")), None);
        assert_eq!(
            gap_before(&terms, 3, d("2021-01-01")),
            Some((d("2020-01-01"), d("2020-12-31")))
        );
        assert_eq!(
            gap_before(&terms, 1, d("2024-01-01")),
            Some((d("2023-01-01"), d("2023-12-31")))
        );
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
