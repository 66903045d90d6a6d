//! members, non-members, organizations and staff at a date. A contact's type at the date
//! is the `from` of its first type change after that date, else its type now; contacts created
//! after the date are not counted. One aggregate statement, driven by the history index.

use std::collections::HashMap;

use chrono::NaiveDate;
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

pub async fn membership_counts(
    conn: &impl ConnectionTrait,
    as_of: NaiveDate,
) -> Result<MembershipCounts> {
    let after = super::end_of(as_of);
    let mut q = Sql::new(conn.get_database_backend());
    q.push(
        "SELECT COALESCE(x.from_value, c.customer_type) AS t, COUNT(*) AS n FROM contacts c \
         LEFT JOIN (SELECT h.contact_id, h.from_value FROM contact_history h \
         JOIN (SELECT contact_id, MIN(id) AS first_id FROM contact_history WHERE kind = ",
    )
    .bind(history::TYPE_CHANGE)
    .push(" AND at >= ")
    .bind(after)
    .push(
        " GROUP BY contact_id) f ON h.id = f.first_id) x ON x.contact_id = c.id \
         WHERE c.created_at < ",
    )
    .bind(after)
    .push(" GROUP BY COALESCE(x.from_value, c.customer_type)");
    let mut by_type: HashMap<String, i64> = HashMap::new();
    for row in conn.query_all_raw(q.build()).await? {
        let t: String = row.try_get_by_index(0)?;
        let n: i64 = row.try_get_by_index(1)?;
        *by_type.entry(t).or_default() += n;
    }
    let types = customer_types::all(conn).await?;
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
        out.total += count;
        if t.is_member {
            out.members += count;
        } else {
            out.non_members += count;
        }
        match (t.is_organization, t.is_member) {
            (true, true) => {
                out.organizations += count;
                out.member_organizations += count;
            }
            (true, false) => out.organizations += count,
            (false, true) => {
                out.persons += count;
                out.member_persons += count;
            }
            (false, false) => out.persons += count,
        }
        out.by_customer_type.push(TypeCount {
            customer_type: t.code,
            is_member: t.is_member,
            is_organization: t.is_organization,
            count,
        });
    }
    // A type deleted since the date: counted, with no flags to go by.
    let mut gone: Vec<(String, i64)> = by_type.into_iter().collect();
    gone.sort();
    for (code, count) in gone {
        out.total += count;
        out.non_members += count;
        out.persons += count;
        out.by_customer_type.push(TypeCount {
            customer_type: code,
            is_member: false,
            is_organization: false,
            count,
        });
    }
    out.staff = i64::try_from(
        u::Entity::find()
            .filter(u::Column::Role.eq(users::Role::Staff.as_str()))
            .filter(u::Column::CreatedAt.lt(after))
            .count(conn)
            .await?,
    )
    .unwrap_or(i64::MAX);
    Ok(out)
}
