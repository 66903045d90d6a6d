//! members, non-members, organizations and staff at a date. A contact's type at the date
//! is the `from` of its first type change after that date, else its type now; contacts created
//! after the date are not counted, except those brought from another system (MG-3) whose
//! imported terms begin by the date: their type then is that of the term covering the date,
//! or when none does, the type a member expires to. Merged contacts (MG-2) are not counted.
//! The counts now, and the changes since.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use entity::user as u;

use crate::error::Result;
use crate::sql::Sql;
use crate::{customer_types, history, users};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeCount {
    pub customer_type: String,
    pub is_member: bool,
    pub is_organization: bool,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipCounts {
    pub as_of: NaiveDate,
    pub members: i64,
    pub non_members: i64,
    pub organizations: i64,
    pub member_organizations: i64,
    pub persons: i64,
    pub member_persons: i64,
    pub staff: i64,
    pub total: i64,
    pub by_customer_type: Vec<TypeCount>,
}

/// the counts at `as_of`. Counts now (an index-only scan), less the contacts created
/// after the date, moved back from their type now to their type then for those whose type
/// changed after it. Only the changes after the date are read row by row.
pub async fn membership_counts(
    conn: &impl ConnectionTrait,
    as_of: NaiveDate,
) -> Result<MembershipCounts> {
    let after = super::end_of(as_of);
    let mut by_type = counts_now(conn).await?;
    less_created_after(conn, after, &mut by_type).await?;
    back_to_type_then(conn, after, &mut by_type).await?;
    less_merged(conn, after, &mut by_type).await?;
    let types = customer_types::all(conn).await?;
    migrated_then(conn, as_of, after, &types, &mut by_type).await?;
    by_type.retain(|_, n| *n != 0);
    let mut out = MembershipCounts {
        as_of,
        members: 0,
        non_members: 0,
        organizations: 0,
        member_organizations: 0,
        persons: 0,
        member_persons: 0,
        staff: 0,
        total: 0,
        by_customer_type: Vec::new(),
    };
    for t in types {
        let count = by_type.remove(&t.code).unwrap_or(0);
        out.add(t.code, t.is_member, t.is_organization, count);
    }
    // A type deleted since the date: counted, with no flags to go by.
    let mut gone: Vec<(String, i64)> = by_type.into_iter().collect();
    gone.sort();
    for (code, count) in gone {
        out.add(code, false, false, count);
    }
    out.staff = staff_at(conn, after).await?;
    Ok(out)
}

impl MembershipCounts {
    fn add(&mut self, code: String, is_member: bool, is_organization: bool, count: i64) {
        self.total += count;
        if is_member {
            self.members += count;
        } else {
            self.non_members += count;
        }
        match (is_organization, is_member) {
            (true, true) => {
                self.organizations += count;
                self.member_organizations += count;
            }
            (true, false) => self.organizations += count,
            (false, true) => {
                self.persons += count;
                self.member_persons += count;
            }
            (false, false) => self.persons += count,
        }
        self.by_customer_type.push(TypeCount {
            customer_type: code,
            is_member,
            is_organization,
            count,
        });
    }
}

/// Contacts per customer type now.
async fn counts_now(conn: &impl ConnectionTrait) -> Result<HashMap<String, i64>> {
    let mut by_type: HashMap<String, i64> = HashMap::new();
    let mut q = Sql::new(conn.get_database_backend());
    q.push("SELECT customer_type, COUNT(*) FROM contacts GROUP BY customer_type");
    for row in conn.query_all_raw(q.build()).await? {
        let t: String = row.try_get_by_index(0)?;
        let n: i64 = row.try_get_by_index(1)?;
        *by_type.entry(t).or_default() += n;
    }
    Ok(by_type)
}

/// Contacts created after the date are not counted.
async fn less_created_after(
    conn: &impl ConnectionTrait,
    after: DateTime<Utc>,
    by_type: &mut HashMap<String, i64>,
) -> Result<()> {
    let mut q = Sql::new(conn.get_database_backend());
    q.push("SELECT customer_type, COUNT(*) FROM contacts WHERE created_at >= ")
        .bind(after)
        .push(" GROUP BY customer_type");
    subtract(conn, q, by_type).await
}

/// Takes the `(customer_type, count)` rows `q` reads off the counts.
async fn subtract(
    conn: &impl ConnectionTrait,
    q: Sql,
    by_type: &mut HashMap<String, i64>,
) -> Result<()> {
    for row in conn.query_all_raw(q.build()).await? {
        let t: String = row.try_get_by_index(0)?;
        let n: i64 = row.try_get_by_index(1)?;
        *by_type.entry(t).or_default() -= n;
    }
    Ok(())
}

/// A contact whose type changed after the date counts as the `from` of its first change.
async fn back_to_type_then(
    conn: &impl ConnectionTrait,
    after: DateTime<Utc>,
    by_type: &mut HashMap<String, i64>,
) -> Result<()> {
    let mut q = Sql::new(conn.get_database_backend());
    q.push(
        "SELECT c.customer_type, h.from_value, COUNT(*) FROM contact_history h \
         JOIN (SELECT contact_id, MIN(id) AS first_id FROM contact_history WHERE kind = ",
    )
    .bind(history::TYPE_CHANGE)
    .push(" AND at >= ")
    .bind(after)
    .push(
        " GROUP BY contact_id) f ON h.id = f.first_id \
         JOIN contacts c ON c.id = h.contact_id WHERE c.merged_into IS NULL AND c.created_at < ",
    )
    .bind(after)
    .push(" GROUP BY c.customer_type, h.from_value");
    for row in conn.query_all_raw(q.build()).await? {
        let now: String = row.try_get_by_index(0)?;
        let then: Option<String> = row.try_get_by_index(1)?;
        let n: i64 = row.try_get_by_index(2)?;
        *by_type.entry(now).or_default() -= n;
        if let Some(then) = then {
            *by_type.entry(then).or_default() += n;
        }
    }
    Ok(())
}

/// Merged contacts that the counts above include (those created before the date).
async fn less_merged(
    conn: &impl ConnectionTrait,
    after: DateTime<Utc>,
    by_type: &mut HashMap<String, i64>,
) -> Result<()> {
    let mut q = Sql::new(conn.get_database_backend());
    q.push(
        "SELECT customer_type, COUNT(*) FROM contacts \
         WHERE merged_into IS NOT NULL AND created_at < ",
    )
    .bind(after)
    .push(" GROUP BY customer_type");
    subtract(conn, q, by_type).await
}

/// MG-3: contacts created after the date that were there by it in the system they came from:
/// a term imported from it begins by the date. Their type then is the
/// covering term's, else (between or after their terms) the type their type expires to.
async fn migrated_then(
    conn: &impl ConnectionTrait,
    as_of: NaiveDate,
    after: DateTime<Utc>,
    types: &[entity::customer_type::Model],
    by_type: &mut HashMap<String, i64>,
) -> Result<()> {
    let mut q = Sql::new(conn.get_database_backend());
    q.push(
        "SELECT c.customer_type, (SELECT MAX(h.customer_type) FROM contact_history h \
         WHERE h.contact_id = c.id AND h.kind = ",
    )
    .bind(history::TERM)
    .push(" AND h.term_begin <= ")
    .bind(as_of)
    .push(" AND h.term_end >= ")
    .bind(as_of)
    .push("), COUNT(*) FROM contacts c WHERE c.created_at >= ")
    .bind(after)
    .push(
        " AND c.merged_into IS NULL AND EXISTS (SELECT 1 FROM contact_history h \
         WHERE h.contact_id = c.id AND h.imported = ",
    )
    .bind(true)
    .push(" AND h.term_begin <= ")
    .bind(as_of)
    .push(") GROUP BY 1, 2");
    let expires_to: HashMap<&str, &str> = types
        .iter()
        .filter(|t| t.is_member)
        .filter_map(|t| Some((t.code.as_str(), t.expires_to.as_deref()?)))
        .collect();
    for row in conn.query_all_raw(q.build()).await? {
        let now: String = row.try_get_by_index(0)?;
        let term_type: Option<String> = row.try_get_by_index(1)?;
        let n: i64 = row.try_get_by_index(2)?;
        let then = term_type.unwrap_or_else(|| {
            expires_to
                .get(now.as_str())
                .map_or_else(|| now.clone(), |t| (*t).to_owned())
        });
        *by_type.entry(then).or_default() += n;
    }
    Ok(())
}

/// Staff logins that existed at the date.
async fn staff_at(conn: &impl ConnectionTrait, after: DateTime<Utc>) -> Result<i64> {
    Ok(i64::try_from(
        u::Entity::find()
            .filter(u::Column::Role.eq(users::Role::Staff))
            .filter(u::Column::CreatedAt.lt(after))
            .count(conn)
            .await?,
    )
    .unwrap_or(i64::MAX))
}
