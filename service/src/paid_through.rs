//! C-7: a contact's membership paid-through is that of its primary dues subscription (the
//! membership component). Whatever writes subscriptions calls `sync` in the same transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use entity::subscription as s;

use crate::error::Result;
use crate::sql::{Sql, in_ids, rows_per_statement};

const IDS_PER_QUERY: usize = 10_000;

/// The rule: the latest paid-through among the membership-component subscriptions; none
/// (or none paid) leaves the contact without a paid-through.
pub fn derive(
    subscriptions: impl IntoIterator<Item = (bool, Option<NaiveDate>)>,
) -> Option<NaiveDate> {
    subscriptions
        .into_iter()
        .filter(|(component, _)| *component)
        .filter_map(|(_, paid_through)| paid_through)
        .max()
}

/// Recomputes the paid-through of these contacts from their subscriptions and writes the ones
/// that changed: one read and one write per few thousand contacts, never one per contact. The
/// values are computed here rather than by a correlated subquery, whose plan on a freshly
/// filled table can degrade to a scan per contact.
pub async fn sync(
    conn: &impl ConnectionTrait,
    contact_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    let mut ids = contact_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut values: Vec<(i64, Option<NaiveDate>)> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(i64, bool, Option<NaiveDate>)> = s::Entity::find()
            .select_only()
            .column(s::Column::ContactId)
            .column(s::Column::IsMembershipComponent)
            .column(s::Column::PaidThrough)
            .filter(in_ids(s::Column::ContactId, chunk))
            .filter(s::Column::IsMembershipComponent.eq(true))
            .into_tuple()
            .all(conn)
            .await?;
        let mut by_contact: HashMap<i64, Vec<(bool, Option<NaiveDate>)>> = HashMap::new();
        for (id, component, paid) in rows {
            by_contact.entry(id).or_default().push((component, paid));
        }
        values.extend(
            chunk
                .iter()
                .map(|id| (*id, derive(by_contact.remove(id).unwrap_or_default()))),
        );
    }
    for chunk in values.chunks(rows_per_statement(2)) {
        let mut q = Sql::new(conn.get_database_backend());
        q.push("UPDATE contacts SET paid_through = v.column2, version = contacts.version + 1, updated_at = ")
            .bind(now)
            .push(" FROM (VALUES ");
        for (i, (id, paid)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.tuple([(*id).into(), (*paid).into()]);
        }
        q.push(") AS v WHERE contacts.id = v.column1 AND contacts.paid_through IS DISTINCT FROM v.column2");
        conn.execute_raw(q.build()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c7_latest_paid_through_of_the_membership_components() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(
            derive([
                (true, d(2025, 12, 31)),
                (false, d(2030, 1, 1)),
                (true, d(2026, 12, 31)),
                (true, None)
            ]),
            d(2026, 12, 31)
        );
        assert_eq!(derive([(false, d(2030, 1, 1))]), None);
        assert_eq!(derive([]), None);
    }
}
