//! N-3: the delivery log, a notice per row with its status, attempts and last error.

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use entity::notice as n;

use crate::error::{Error, Result};
use crate::notices;
use crate::page::{self, Page, PageRequest};

/// Which notices to list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<String>,
    pub contact_id: Option<i64>,
    pub invoice_id: Option<i64>,
    pub status: Option<String>,
}

pub async fn list(
    conn: &impl ConnectionTrait,
    f: &Filter,
    req: &PageRequest,
) -> Result<Page<n::Model>> {
    let limit = req.limit()?;
    let mut cond = Condition::all();
    if let Some(after) = req.after_id()? {
        cond = cond.add(n::Column::Id.gt(after));
    }
    if let Some(kind) = &f.kind {
        cond = cond.add(n::Column::Kind.eq(notices::kind(kind).map_err(|_| {
            Error::bad_parameter("kind", format!("one of {}", notices::KINDS.join(", ")))
        })?));
    }
    if let Some(status) = &f.status {
        if !notices::STATUSES.contains(&status.as_str()) {
            return Err(Error::bad_parameter(
                "status",
                format!("one of {}", notices::STATUSES.join(", ")),
            ));
        }
        cond = cond.add(n::Column::Status.eq(status.as_str()));
    }
    if let Some(contact) = f.contact_id {
        cond = cond.add(n::Column::ContactId.eq(contact));
    }
    if let Some(invoice) = f.invoice_id {
        cond = cond.add(n::Column::InvoiceId.eq(invoice));
    }
    let rows = n::Entity::find()
        .filter(cond)
        .order_by_asc(n::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    Ok(page::build(rows, limit, |r| r.id.to_string()))
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<n::Model> {
    n::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("notice", id))
}
