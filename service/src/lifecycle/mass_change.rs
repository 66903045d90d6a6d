//! L-4: staff change the customer type and/or status of a filtered set of contacts, previewed
//! with `dry_run`, in one audited action. Organizations that change type take their linked
//! persons with them (CT-6).

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use entity::contact as c;

use super::retype::{self, ContactChange};
use crate::audit::{self, Who};
use crate::contact_filter::{self, ContactFilter};
use crate::customer_types::CustomerType;
use crate::error::{Errors, Result};
use crate::events;
use crate::flow_down::FlowDown;
use crate::{clock, contact_statuses, customer_types, db::Db, segments, settings};

pub const AUDIT_ACTION: &str = "contacts.mass_change";

#[derive(Debug, Clone, Default)]
pub struct MassChange {
    pub filter: ContactFilter,
    pub customer_type: Option<String>,
    pub status: Option<String>,
    pub dry_run: bool,
}

#[derive(Debug, Clone)]
pub struct MassChangeResult {
    pub dry_run: bool,
    pub changed: Vec<ContactChange>,
}

pub async fn run(db: &Db, req: MassChange, who: &Who) -> Result<MassChangeResult> {
    if req.dry_run {
        let changed = plan(&db.conn, &req).await?;
        return Ok(MassChangeResult {
            dry_run: true,
            changed,
        });
    }
    let txn = db.write().await?;
    let changed = plan(&txn, &req).await?;
    let now = clock::now();
    retype::apply(&txn, &changed, now).await?;
    let updated = changed.iter().map(|ch| ch.updated_event("mass_change"));
    events::emit(&txn, updated).await?;
    audit::record(
        &txn,
        who,
        AUDIT_ACTION,
        "contacts",
        json!({
            "filter": req.filter,
            "set": {"customer_type": req.customer_type, "status": req.status},
            "changed": changed.len(),
            "followed_organization": changed.iter().filter(|ch| ch.company_id.is_some()).count(),
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(MassChangeResult {
        dry_run: false,
        changed,
    })
}

/// What the change does: the contacts the filter selects whose type or status differs,
/// with the persons linked to organizations that change type (CT-6).
async fn plan(conn: &impl ConnectionTrait, req: &MassChange) -> Result<Vec<ContactChange>> {
    let new_type = check(conn, req).await?;
    let rows = selected(conn, req).await?;
    let st = settings::get(conn).await?;
    let fd = FlowDown::new(customer_types::all(conn).await?, st.default_person_type);
    if let Some(t) = &new_type {
        check_same_kind(&rows, t, &fd)?;
    }
    let changed: Vec<ContactChange> = rows
        .into_iter()
        .map(|(id, ty, status)| ContactChange {
            contact_id: id,
            customer_type: req
                .customer_type
                .as_ref()
                .filter(|t| **t != ty)
                .map(|t| (ty.clone(), t.clone())),
            status: req
                .status
                .as_ref()
                .filter(|s| **s != status)
                .map(|s| (status.clone(), s.clone())),
            company_id: None,
        })
        .collect();
    retype::with_followers(conn, &fd, changed).await
}

/// The request names something to set, a filter, and a type and status that exist; returns
/// the new type.
async fn check(conn: &impl ConnectionTrait, req: &MassChange) -> Result<Option<CustomerType>> {
    let mut errors = Errors::new();
    if req.customer_type.is_none() && req.status.is_none() {
        errors.add("set", "name a customer_type, a status or both");
    }
    if req.filter.is_empty() {
        errors.add(
            "filter",
            "give at least one criterion: a mass change of every contact is refused",
        );
    }
    segments::validate_filter(conn, &req.filter, "filter", &mut errors).await?;
    let new_type = match &req.customer_type {
        Some(code) => {
            let t = customer_types::find(conn, code).await?;
            if t.is_none() {
                errors.add(
                    "set.customer_type",
                    format!("customer type {code} does not exist"),
                );
            }
            t
        }
        None => None,
    };
    if let Some(code) = &req.status
        && contact_statuses::TABLE.find(conn, code).await?.is_none()
    {
        errors.add(
            "set.status",
            format!("contact status {code} does not exist"),
        );
    }
    errors.into_result()?;
    Ok(new_type)
}

/// (id, type, status) of the contacts the filter selects whose type or status would change,
/// by id.
async fn selected(
    conn: &impl ConnectionTrait,
    req: &MassChange,
) -> Result<Vec<(i64, String, String)>> {
    let mut cond = contact_filter::condition(conn, &req.filter).await?;
    let mut differs = Condition::any();
    if let Some(t) = &req.customer_type {
        differs = differs.add(c::Column::CustomerType.ne(t.as_str()));
    }
    if let Some(s) = &req.status {
        differs = differs.add(c::Column::Status.ne(s.as_str()));
    }
    cond = cond.add(differs);
    Ok(c::Entity::find()
        .select_only()
        .column(c::Column::Id)
        .column(c::Column::CustomerType)
        .column(c::Column::Status)
        .filter(cond)
        .order_by_asc(c::Column::Id)
        .into_tuple()
        .all(conn)
        .await?)
}

/// A person's type is given to persons only, an organization's to organizations only.
fn check_same_kind(rows: &[(i64, String, String)], t: &CustomerType, fd: &FlowDown) -> Result<()> {
    let other_kind = rows
        .iter()
        .filter(|(_, ty, _)| *ty != t.code)
        .filter(|(_, ty, _)| fd.is_organization_type(ty) != t.is_organization)
        .count();
    if other_kind == 0 {
        return Ok(());
    }
    let (kind, other) = if t.is_organization {
        ("an organization", "persons")
    } else {
        ("a person", "organizations")
    };
    let mut errors = Errors::new();
    errors.add(
        "set.customer_type",
        format!(
            "{} is {kind} type but {other_kind} of the selected contacts are {other}; narrow the filter (for example with customer_type)",
            t.code
        ),
    );
    errors.into_result()
}
