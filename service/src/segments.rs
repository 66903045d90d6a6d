//! Saved contact segments (L-3): named contact filters, reusable in lists, mass changes and
//! reports. Previous members (L-2) and prospects (L-3) are built-in criteria of the filter.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use entity::segment as sg;

use crate::contact_filter::{self, ContactFilter};
use crate::error::{Error, Errors, Result, check_version};
use crate::page::{self, Page, PageRequest};
use crate::{billing_categories, clock, contact_statuses, customer_types, db::Db};

#[derive(Debug, Clone)]
pub struct Segment {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub filter: ContactFilter,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct SegmentInput {
    pub name: String,
    pub description: Option<String>,
    pub filter: ContactFilter,
}

fn from_model(m: sg::Model) -> Result<Segment> {
    let filter = contact_filter::from_stored(m.id, &m.filter)?;
    Ok(Segment {
        id: m.id,
        name: m.name,
        description: m.description,
        filter,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Checks that every code a filter names exists and that its ranges are ordered; `field` is
/// the filter's place in the request (`filter`, or empty for query parameters).
pub async fn validate_filter(
    conn: &impl ConnectionTrait,
    f: &ContactFilter,
    field: &str,
    errors: &mut Errors,
) -> Result<()> {
    let name = |f2: &str| {
        if field.is_empty() {
            f2.to_owned()
        } else {
            format!("{field}.{f2}")
        }
    };
    if let Some(t) = &f.customer_type
        && customer_types::find(conn, t).await?.is_none()
    {
        errors.add(
            name("customer_type"),
            format!("customer type {t} does not exist"),
        );
    }
    if let Some(b) = &f.billing_category
        && billing_categories::TABLE.find(conn, b).await?.is_none()
    {
        errors.add(
            name("billing_category"),
            format!("billing category {b} does not exist"),
        );
    }
    if let Some(s) = &f.status
        && contact_statuses::TABLE.find(conn, s).await?.is_none()
    {
        errors.add(name("status"), format!("contact status {s} does not exist"));
    }
    if let Some(bad) = f
        .any_tags
        .iter()
        .chain(f.tag.iter())
        .map(|t| crate::tags::key(t))
        .find(|t| !crate::tags::is_valid(t))
    {
        errors.add(
            name("any_tags"),
            format!("tag {bad:?} must be 1 to 60 letters, digits, '-', '_', '.' or ':'"),
        );
    }
    if let (Some(a), Some(b)) = (f.joined_from, f.joined_to)
        && a > b
    {
        errors.add(name("joined_to"), "must not be before joined_from");
    }
    if let (Some(a), Some(b)) = (f.paid_through_from, f.paid_through_to)
        && a > b
    {
        errors.add(
            name("paid_through_to"),
            "must not be before paid_through_from",
        );
    }
    if let Some(id) = f.segment
        && sg::Entity::find_by_id(id).one(conn).await?.is_none()
    {
        errors.add(name("segment"), format!("segment {id} does not exist"));
    }
    Ok(())
}

async fn validate(conn: &impl ConnectionTrait, input: &SegmentInput) -> Result<()> {
    let mut errors = Errors::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.add("name", "must be 1 to 100 characters");
    }
    if input
        .description
        .as_deref()
        .is_some_and(|d| d.chars().count() > 500)
    {
        errors.add("description", "must be at most 500 characters");
    }
    if input.filter.segment.is_some() {
        errors.add(
            "filter.segment",
            "a saved segment cannot name another segment; copy its criteria instead",
        );
    }
    validate_filter(conn, &input.filter, "filter", &mut errors).await?;
    errors.into_result()
}

fn filter_json(f: &ContactFilter) -> Result<String> {
    serde_json::to_string(f).map_err(|e| Error::Internal(e.to_string()))
}

pub async fn create(db: &Db, input: SegmentInput) -> Result<Segment> {
    let txn = db.write().await?;
    validate(&txn, &input).await?;
    let now = clock::now();
    let m = sg::ActiveModel {
        name: Set(input.name.trim().to_owned()),
        description: Set(input.description),
        filter: Set(filter_json(&input.filter)?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| name_taken(e, &input.name))?;
    txn.commit().await?;
    from_model(m)
}

fn name_taken(e: sea_orm::DbErr, name: &str) -> Error {
    match Error::from(e) {
        Error::Conflict { .. } => Error::conflict(format!("a segment named {name:?} exists")),
        other => other,
    }
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Segment> {
    let m = sg::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("segment", id))?;
    from_model(m)
}

pub async fn list(conn: &impl ConnectionTrait, req: &PageRequest) -> Result<Page<Segment>> {
    let limit = req.limit()?;
    let mut q = sg::Entity::find()
        .order_by_asc(sg::Column::Id)
        .limit(limit + 1);
    if let Some(after) = req.after_id()? {
        q = q.filter(sg::Column::Id.gt(after));
    }
    let page = page::build(q.all(conn).await?, limit, |r| r.id.to_string());
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(from_model)
            .collect::<Result<_>>()?,
        next_cursor: page.next_cursor,
    })
}

/// Replaces a segment's name, description and filter. `expected_version` from `If-Match`.
pub async fn update(
    db: &Db,
    id: i64,
    input: SegmentInput,
    expected_version: Option<i32>,
) -> Result<Segment> {
    let txn = db.write().await?;
    let current = get(&txn, id).await?;
    validate(&txn, &input).await?;
    check_version(expected_version, current.version)?;
    let res = sg::Entity::update_many()
        .set(sg::ActiveModel {
            name: Set(input.name.trim().to_owned()),
            description: Set(input.description.clone()),
            filter: Set(filter_json(&input.filter)?),
            version: Set(current.version + 1),
            updated_at: Set(clock::now()),
            ..Default::default()
        })
        .filter(sg::Column::Id.eq(id))
        .filter(sg::Column::Version.eq(current.version))
        .exec(&txn)
        .await
        .map_err(|e| name_taken(e, &input.name))?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    let saved = get(&txn, id).await?;
    txn.commit().await?;
    Ok(saved)
}

pub async fn delete(db: &Db, id: i64, expected_version: Option<i32>) -> Result<()> {
    let txn = db.write().await?;
    let current = get(&txn, id).await?;
    check_version(expected_version, current.version)?;
    sg::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}
