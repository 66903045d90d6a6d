//! counts of contacts per (customer type, billing category), each combination's share of
//! all counted records, combinations above 20 % flagged; optionally only records changed or
//! with activity in the last N years.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use entity::contact as c;
use entity::contact_history as h;
use entity::invoice as i;

use crate::contact_filter::{self, ContactFilter};
use crate::error::{Error, Result};
use crate::terms;

/// A-1's threshold: a combination holding more than a fifth of the records is flagged.
pub const FLAG_ABOVE_PERCENT: i64 = 20;
pub const DEFAULT_ACTIVE_YEARS: u32 = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct MixRow {
    pub customer_type: String,
    pub billing_category: Option<String>,
    pub count: i64,
    pub total: i64,
    pub flagged: bool,
}

impl MixRow {
    /// The share of all counted records, 0..=1, to 4 places.
    pub fn share(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let basis_points = (self.count * 10_000 + self.total / 2) / self.total;
        basis_points as f64 / 10_000.0
    }
}

/// A-1's flag, in integers: `count / total > 20 %`.
pub fn flagged(count: i64, total: i64) -> bool {
    count * 100 > total * FLAG_ABOVE_PERCENT
}

#[derive(Debug, Clone, Default)]
pub struct MixRequest {
    pub filter: ContactFilter,
    /// Only records changed, invoiced or with history in this many years before `as_of`.
    pub active_within_years: Option<u32>,
    pub as_of: Option<NaiveDate>,
}

fn activity_since(since: chrono::DateTime<chrono::Utc>) -> Condition {
    let invoiced = Query::select()
        .column(i::Column::ContactId)
        .from(i::Entity)
        .and_where(Expr::col(i::Column::CreatedAt).gte(since))
        .to_owned();
    let recorded = Query::select()
        .column(h::Column::ContactId)
        .from(h::Entity)
        .and_where(Expr::col(h::Column::At).gte(since))
        .to_owned();
    Condition::any()
        .add(c::Column::UpdatedAt.gte(since))
        .add(c::Column::Id.in_subquery(invoiced))
        .add(c::Column::Id.in_subquery(recorded))
}

pub async fn membership_mix(
    conn: &impl ConnectionTrait,
    req: &MixRequest,
    today: NaiveDate,
) -> Result<Vec<MixRow>> {
    let mut cond = contact_filter::condition(conn, &req.filter).await?;
    if let Some(years) = req.active_within_years {
        if !(1..=100).contains(&years) {
            return Err(Error::bad_parameter(
                "active_within_years",
                "must be between 1 and 100",
            ));
        }
        let as_of = req.as_of.unwrap_or(today);
        let since = terms::add_months(as_of, -12 * years as i32);
        cond = cond.add(activity_since(super::start_of(since)));
    }
    let rows: Vec<(String, Option<String>, i64)> = c::Entity::find()
        .select_only()
        .column(c::Column::CustomerType)
        .column(c::Column::BillingCategory)
        .column_as(c::Column::Id.count(), "n")
        .filter(cond)
        .group_by(c::Column::CustomerType)
        .group_by(c::Column::BillingCategory)
        .into_tuple()
        .all(conn)
        .await?;
    let total: i64 = rows.iter().map(|r| r.2).sum();
    let mut out: Vec<MixRow> = rows
        .into_iter()
        .map(|(customer_type, billing_category, count)| MixRow {
            customer_type,
            billing_category,
            count,
            total,
            flagged: flagged(count, total),
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.customer_type.cmp(&b.customer_type))
            .then_with(|| a.billing_category.cmp(&b.billing_category))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_flags_combinations_above_a_fifth_only() {
        assert!(!flagged(20, 100));
        assert!(flagged(21, 100));
        assert!(flagged(1, 4));
        assert!(!flagged(1, 5));
    }

    #[test]
    fn a1_share_is_rounded_to_four_places() {
        let row = MixRow {
            customer_type: "M".into(),
            billing_category: None,
            count: 1,
            total: 3,
            flagged: true,
        };
        assert_eq!(row.share(), 0.3333);
    }
}
