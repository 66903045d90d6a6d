//! Webhook endpoints: where events are delivered, which types, and the log of deliveries.
//! A new endpoint receives the events that happen after it is created.

pub mod delivery;
pub mod signature;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use entity::event as e;
use entity::webhook_attempt as a;
use entity::webhook_delivery as d;
use entity::webhook_endpoint as w;

use crate::error::{Error, Errors, Result, check_version};
use crate::outbound::Policy;
use crate::page::{self, Page, PageRequest};
use crate::{clock, db::Db, events};

pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Default)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub model: w::Model,
    pub event_types: Vec<String>,
}

impl From<w::Model> for Endpoint {
    fn from(model: w::Model) -> Self {
        Endpoint {
            event_types: types_of(&model),
            model,
        }
    }
}

fn types_of(m: &w::Model) -> Vec<String> {
    serde_json::from_str(&m.event_types).unwrap_or_default()
}

/// Checks an endpoint's fields; the URL against the outgoing-request policy (SEC-7).
async fn check(input: &EndpointInput, policy: &Policy, errors: &mut Errors) {
    if let Some(url) = &input.url {
        if url.len() > 2000 {
            errors.add("url", "must be at most 2,000 characters");
        } else if let Err(m) = crate::outbound::check_url(url.trim(), policy).await {
            errors.add("url", m);
        }
    }
    if let Some(Some(desc)) = &input.description
        && desc.chars().count() > 200
    {
        errors.add("description", "must be at most 200 characters");
    }
    if let Some(why) = input.event_types.as_deref().and_then(events::unknown_type) {
        errors.add("event_types", why);
    }
}

fn types_json(types: &[String]) -> String {
    let mut sorted = types.to_vec();
    sorted.sort();
    sorted.dedup();
    serde_json::Value::from(sorted).to_string()
}

pub async fn create(db: &Db, input: EndpointInput, policy: &Policy) -> Result<Endpoint> {
    let mut errors = Errors::new();
    if input.url.is_none() {
        errors.add("url", "is required");
    }
    check(&input, policy, &mut errors).await;
    errors.into_result()?;
    let txn = db.write().await?;
    let now = clock::now();
    let m = w::ActiveModel {
        url: Set(input.url.unwrap_or_default().trim().to_owned()),
        description: Set(input.description.flatten()),
        secret: Set(signature::new_secret()),
        event_types: Set(types_json(&input.event_types.unwrap_or_default())),
        enabled: Set(input.enabled.unwrap_or(true)),
        last_event_id: Set(events::last_id(&txn).await?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(m.into())
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Endpoint> {
    find(conn, id).await.map(Endpoint::from)
}

async fn find(conn: &impl ConnectionTrait, id: i64) -> Result<w::Model> {
    w::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("webhook endpoint", id))
}

pub async fn list(conn: &impl ConnectionTrait, req: &PageRequest) -> Result<Page<Endpoint>> {
    let limit = req.limit()?;
    let mut q = w::Entity::find()
        .order_by_asc(w::Column::Id)
        .limit(limit + 1);
    if let Some(after) = req.after_id()? {
        q = q.filter(w::Column::Id.gt(after));
    }
    let page = page::build(q.all(conn).await?, limit, |m| m.id.to_string());
    Ok(Page {
        items: page.items.into_iter().map(Endpoint::from).collect(),
        next_cursor: page.next_cursor,
    })
}

pub async fn update(
    db: &Db,
    id: i64,
    input: EndpointInput,
    expected_version: Option<i32>,
    policy: &Policy,
) -> Result<Endpoint> {
    let mut errors = Errors::new();
    check(&input, policy, &mut errors).await;
    errors.into_result()?;
    let txn = db.write().await?;
    let current = find(&txn, id).await?;
    check_version(expected_version, current.version)?;
    let mut am: w::ActiveModel = current.clone().into();
    if let Some(url) = input.url {
        am.url = Set(url.trim().to_owned());
    }
    if let Some(desc) = input.description {
        am.description = Set(desc);
    }
    if let Some(types) = input.event_types {
        am.event_types = Set(types_json(&types));
    }
    if let Some(enabled) = input.enabled {
        am.enabled = Set(enabled);
    }
    am.version = Set(current.version + 1);
    am.updated_at = Set(clock::now());
    let m = am.update(&txn).await?;
    txn.commit().await?;
    Ok(m.into())
}

/// An endpoint's signing secret, shown on an explicit request only. The request is a write
/// (POST), so the audit trail records who asked; the secret itself is never in it.
pub async fn reveal_secret(db: &Db, id: i64) -> Result<String> {
    let txn = db.write().await?;
    let secret = find(&txn, id).await?.secret;
    txn.commit().await?;
    Ok(secret)
}

/// Deletes the endpoint and its delivery log.
pub async fn delete(db: &Db, id: i64, expected_version: Option<i32>) -> Result<()> {
    let txn = db.write().await?;
    let current = find(&txn, id).await?;
    check_version(expected_version, current.version)?;
    let deliveries = d::Entity::find()
        .select_only()
        .column(d::Column::Id)
        .filter(d::Column::EndpointId.eq(id));
    a::Entity::delete_many()
        .filter(a::Column::DeliveryId.in_subquery(sea_orm::QueryTrait::into_query(deliveries)))
        .exec(&txn)
        .await?;
    d::Entity::delete_many()
        .filter(d::Column::EndpointId.eq(id))
        .exec(&txn)
        .await?;
    w::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// A delivery with its event's type and every attempt, oldest first.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub delivery: d::Model,
    pub event_type: String,
    pub attempts: Vec<a::Model>,
}

/// The delivery log of an endpoint, newest first, optionally of one status.
pub async fn deliveries(
    conn: &impl ConnectionTrait,
    endpoint_id: i64,
    status: Option<&str>,
    req: &PageRequest,
) -> Result<Page<DeliveryView>> {
    find(conn, endpoint_id).await?;
    if let Some(s) = status
        && ![PENDING, SUCCEEDED, FAILED].contains(&s)
    {
        return Err(Error::bad_parameter(
            "status",
            "must be pending, succeeded or failed",
        ));
    }
    let limit = req.limit()?;
    let mut q = d::Entity::find()
        .filter(d::Column::EndpointId.eq(endpoint_id))
        .order_by_desc(d::Column::Id)
        .limit(limit + 1);
    if let Some(s) = status {
        q = q.filter(d::Column::Status.eq(s));
    }
    if let Some(before) = req.after_id()? {
        q = q.filter(d::Column::Id.lt(before));
    }
    let page = page::build(q.all(conn).await?, limit, |m| m.id.to_string());
    let items = with_details(conn, page.items).await?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

async fn with_details(
    conn: &impl ConnectionTrait,
    rows: Vec<d::Model>,
) -> Result<Vec<DeliveryView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let event_ids: Vec<i64> = rows.iter().map(|r| r.event_id).collect();
    let types: HashMap<i64, String> = e::Entity::find()
        .select_only()
        .column(e::Column::Id)
        .column(e::Column::Kind)
        .filter(e::Column::Id.is_in(event_ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut attempts: HashMap<i64, Vec<a::Model>> = HashMap::new();
    for at in a::Entity::find()
        .filter(a::Column::DeliveryId.is_in(ids))
        .order_by_asc(a::Column::Id)
        .all(conn)
        .await?
    {
        attempts.entry(at.delivery_id).or_default().push(at);
    }
    Ok(rows
        .into_iter()
        .map(|r| DeliveryView {
            event_type: types.get(&r.event_id).cloned().unwrap_or_default(),
            attempts: attempts.remove(&r.id).unwrap_or_default(),
            delivery: r,
        })
        .collect())
}

/// Sends a delivery again at the next tick, whatever its status; its attempts so far stay
/// in the log and count towards the retry schedule afresh.
pub async fn redeliver(db: &Db, endpoint_id: i64, delivery_id: i64) -> Result<DeliveryView> {
    let txn = db.write().await?;
    let row = d::Entity::find_by_id(delivery_id)
        .filter(d::Column::EndpointId.eq(endpoint_id))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("webhook delivery", delivery_id))?;
    let now: DateTime<Utc> = clock::now();
    d::Entity::update_many()
        .col_expr(d::Column::Status, Expr::val(PENDING))
        .col_expr(d::Column::Attempts, Expr::val(0))
        .col_expr(d::Column::NextAttemptAt, Expr::val(now))
        .col_expr(d::Column::UpdatedAt, Expr::val(now))
        .filter(d::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    let after = d::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("webhook delivery", delivery_id))?;
    let view = with_details(&txn, vec![after]).await?;
    txn.commit().await?;
    view.into_iter()
        .next()
        .ok_or_else(|| Error::not_found("webhook delivery", delivery_id))
}
