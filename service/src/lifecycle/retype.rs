//! Changing the customer type or status of many contacts at once, with CT-6 flow-down to the
//! persons linked to organizations that change type, and L-6 history for each change.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;

use entity::contact as c;

use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::flow_down::FlowDown;
use crate::{history, sql};

/// What changes on one contact. `company_id` is set when a person follows the organization it
/// is linked to (CT-6) rather than being selected itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactChange {
    pub contact_id: i64,
    pub customer_type: Option<(String, String)>,
    pub status: Option<(String, String)>,
    pub company_id: Option<i64>,
}

impl ContactChange {
    /// `contact.updated`, naming the action (`expire`, `mass_change`) that made the change.
    pub fn updated_event(&self, via: &str) -> Event {
        let pair = |p: &Option<(String, String)>| {
            p.as_ref().map(|(from, to)| json!({"from": from, "to": to}))
        };
        let changed: Vec<&str> = [
            self.customer_type.as_ref().map(|_| "customer_type"),
            self.status.as_ref().map(|_| "status"),
        ]
        .into_iter()
        .flatten()
        .collect();
        Event::contact(
            events::CONTACT_UPDATED,
            self.contact_id,
            json!({
                "changed": changed,
                "via": via,
                "customer_type": pair(&self.customer_type),
                "status": pair(&self.status),
            }),
        )
    }

    pub fn retype(contact_id: i64, from: &str, to: &str) -> Self {
        ContactChange {
            contact_id,
            customer_type: Some((from.to_owned(), to.to_owned())),
            status: None,
            company_id: None,
        }
    }
}

/// Adds the followers (CT-6) of every organization in `changed` that takes a new type, and
/// sorts the whole by contact id. Persons already in `changed` keep their own change.
pub async fn with_followers(
    conn: &impl ConnectionTrait,
    fd: &FlowDown,
    mut changed: Vec<ContactChange>,
) -> Result<Vec<ContactChange>> {
    let orgs: HashMap<i64, String> = changed
        .iter()
        .filter_map(|ch| {
            let (from, to) = ch.customer_type.as_ref()?;
            fd.is_organization_type(from)
                .then(|| (ch.contact_id, to.clone()))
        })
        .collect();
    let followers = fd.follower_codes();
    if !orgs.is_empty() && !followers.is_empty() {
        let selected: HashSet<i64> = changed.iter().map(|ch| ch.contact_id).collect();
        let ids: Vec<i64> = orgs.keys().copied().collect();
        for chunk in ids.chunks(sql::rows_per_statement(1)) {
            let rows: Vec<(i64, String, Option<i64>)> = c::Entity::find()
                .select_only()
                .column(c::Column::Id)
                .column(c::Column::CustomerType)
                .column(c::Column::CompanyId)
                .filter(sql::in_ids(c::Column::CompanyId, chunk))
                .filter(c::Column::CustomerType.is_in(followers.clone()))
                .into_tuple()
                .all(conn)
                .await?;
            for (id, ty, company) in rows {
                let Some(org) = company else { continue };
                if selected.contains(&id) {
                    continue;
                }
                let Some(target) = fd.person_type_for(orgs.get(&org).map(String::as_str)) else {
                    continue;
                };
                if target != ty {
                    changed.push(ContactChange {
                        company_id: Some(org),
                        ..ContactChange::retype(id, &ty, &target)
                    });
                }
            }
        }
    }
    changed.sort_by_key(|ch| ch.contact_id);
    Ok(changed)
}

/// Writes `changes`: one UPDATE per kind of change (old and new type, old and new status) and
/// chunk of ids, each row written once, and guarded by the old values so that a contact
/// changed meanwhile fails the whole action instead of being overwritten.
pub async fn apply(
    conn: &impl ConnectionTrait,
    changes: &[ContactChange],
    at: DateTime<Utc>,
) -> Result<()> {
    type Pair<'a> = Option<(&'a str, &'a str)>;
    type FromTo = Option<(String, String)>;
    let mut groups: BTreeMap<(FromTo, FromTo), Vec<i64>> = BTreeMap::new();
    for ch in changes {
        groups
            .entry((ch.customer_type.clone(), ch.status.clone()))
            .or_default()
            .push(ch.contact_id);
    }
    for ((ty, st), ids) in &groups {
        let ty: Pair = ty.as_ref().map(|(f, t)| (f.as_str(), t.as_str()));
        let st: Pair = st.as_ref().map(|(f, t)| (f.as_str(), t.as_str()));
        for chunk in ids.chunks(sql::rows_per_statement(1)) {
            let mut update = c::Entity::update_many()
                .col_expr(c::Column::Version, Expr::col(c::Column::Version).add(1))
                .col_expr(c::Column::UpdatedAt, Expr::val(at))
                .filter(sql::in_ids(c::Column::Id, chunk));
            if let Some((from, to)) = ty {
                update = update
                    .col_expr(c::Column::CustomerType, Expr::val(to))
                    .filter(c::Column::CustomerType.eq(from));
            }
            if let Some((from, to)) = st {
                update = update
                    .col_expr(c::Column::Status, Expr::val(to))
                    .filter(c::Column::Status.eq(from));
            }
            let res = update.exec(conn).await?;
            if res.rows_affected != chunk.len() as u64 {
                return Err(Error::conflict(
                    "some of the selected contacts changed while this action ran; nothing was changed, run it again",
                ));
            }
        }
    }
    let of = |f: fn(&ContactChange) -> &Option<(String, String)>| -> Vec<(i64, &str, &str)> {
        changes
            .iter()
            .filter_map(|ch| {
                f(ch)
                    .as_ref()
                    .map(|(from, to)| (ch.contact_id, from.as_str(), to.as_str()))
            })
            .collect()
    };
    let types = of(|ch| &ch.customer_type);
    let statuses = of(|ch| &ch.status);
    history::record_changes(conn, history::TYPE_CHANGE, &types, at).await?;
    history::record_changes(conn, history::STATUS_CHANGE, &statuses, at).await?;
    Ok(())
}
