//! P-3: what pricing needs to know about contacts, read set-based: two queries per chunk of
//! ids (the contacts with their organization's member flag, then their pricing groups), never
//! one per contact.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use entity::contact as c;
use entity::customer_type as ct;
use entity::pricing_group_member as gm;

use super::conditions::Buyer;
use crate::error::Result;
use crate::sql::{in_id_range, in_ids};

/// Ids per query; far below the bind-parameter limits of SQLite and PostgreSQL.
pub const CHUNK: usize = 2_000;

/// The buyers of the given contacts, keyed by contact id. Unknown ids are left out.
/// `company_member` is true for a person linked to an organization whose customer type is a
/// member type; `groups` are the pricing groups the contact belongs to; `join_date` is the
/// contact's recorded join date (P-7).
pub async fn buyers(
    conn: &impl ConnectionTrait,
    contact_ids: &[i64],
) -> Result<HashMap<i64, Buyer>> {
    let mut out: HashMap<i64, Buyer> = HashMap::with_capacity(contact_ids.len());
    for chunk in contact_ids.chunks(CHUNK) {
        let person = Alias::new("person");
        let company = Alias::new("company");
        let company_type = Alias::new("company_type");
        let stmt = Query::select()
            .column((person.clone(), c::Column::Id))
            .column((person.clone(), c::Column::CustomerType))
            .column((person.clone(), c::Column::BillingCategory))
            .column((company_type.clone(), ct::Column::IsMember))
            .column((person.clone(), c::Column::JoinDate))
            .from_as(c::Entity, person.clone())
            .join_as(
                JoinType::LeftJoin,
                c::Entity,
                company.clone(),
                Expr::col((company.clone(), c::Column::Id))
                    .equals((person.clone(), c::Column::CompanyId)),
            )
            .join_as(
                JoinType::LeftJoin,
                ct::Entity,
                company_type.clone(),
                Expr::col((company_type.clone(), ct::Column::Code))
                    .equals((company.clone(), c::Column::CustomerType)),
            )
            .and_where(in_id_range(Expr::col((person, c::Column::Id)), chunk))
            .to_owned();
        for row in conn.query_all(&stmt).await? {
            let id: i64 = row.try_get_by_index(0)?;
            let customer_type: String = row.try_get_by_index(1)?;
            let billing_category: Option<String> = row.try_get_by_index(2)?;
            let company_member: Option<bool> = row.try_get_by_index(3)?;
            let join_date: Option<chrono::NaiveDate> = row.try_get_by_index(4)?;
            out.insert(
                id,
                Buyer {
                    customer_type: Some(customer_type),
                    billing_category,
                    company_member: company_member.unwrap_or(false),
                    groups: Vec::new(),
                    join_date,
                },
            );
        }
        let memberships = gm::Entity::find()
            .select_only()
            .columns([gm::Column::ContactId, gm::Column::GroupCode])
            .filter(in_ids(gm::Column::ContactId, chunk))
            .order_by_asc(gm::Column::ContactId)
            .order_by_asc(gm::Column::GroupCode)
            .into_tuple::<(i64, String)>()
            .all(conn)
            .await?;
        for (contact_id, group) in memberships {
            if let Some(b) = out.get_mut(&contact_id) {
                b.groups.push(group);
            }
        }
    }
    Ok(out)
}
