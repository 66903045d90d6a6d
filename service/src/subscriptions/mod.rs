//! S-1..S-9: subscriptions, one per (contact, product), and their bulk import.
//!
//! Single requests and import rows run through the same planner (`plan`), so each rule lives
//! in one place: parse (`input`), load facts (`context`), check (`plan`), write (`store`).

pub mod context;
pub mod import;
pub mod input;
pub mod plan;
pub mod store;
pub mod words;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use entity::subscription as s;

use crate::access::{self, Actor};
use crate::error::{Error, Result, check_version};
use crate::page::{self, Page, PageRequest};
use crate::{clock, db::Db};

use input::{ContactRef, Fields, Row};
use plan::{Action, Planner};

/// A subscription as read, with `is_company` from its contact's customer type (S-2).
#[derive(Debug, Clone)]
pub struct SubscriptionView {
    pub model: s::Model,
    pub is_company: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub contact_id: Option<i64>,
    pub product: Option<String>,
    pub active: Option<bool>,
    pub bill_to_id: Option<i64>,
    pub is_membership_component: Option<bool>,
    pub updated_since: Option<DateTime<Utc>>,
}

async fn views(conn: &impl ConnectionTrait, rows: Vec<s::Model>) -> Result<Vec<SubscriptionView>> {
    let flags = context::company_flags(conn, rows.iter().map(|r| r.contact_id)).await?;
    Ok(rows
        .into_iter()
        .map(|m| SubscriptionView {
            is_company: flags.get(&m.contact_id).copied().unwrap_or(false),
            model: m,
        })
        .collect())
}

async fn find(conn: &impl ConnectionTrait, id: i64) -> Result<s::Model> {
    s::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("subscription", id))
}

/// SEC-1: members see their own subscriptions; another's is "not found".
pub async fn get(conn: &impl ConnectionTrait, actor: Actor, id: i64) -> Result<SubscriptionView> {
    let m = find(conn, id).await?;
    access::check(actor, "subscription", id, &[m.contact_id])?;
    let mut v = views(conn, vec![m]).await?;
    v.pop().ok_or_else(|| Error::not_found("subscription", id))
}

pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &Filter,
    req: &PageRequest,
) -> Result<Page<SubscriptionView>> {
    let limit = req.limit()?;
    let mut cond = Condition::all();
    if let Some(after) = req.after_id()? {
        cond = cond.add(s::Column::Id.gt(after));
    }
    if let Some(c) = filter.contact_id {
        cond = cond.add(s::Column::ContactId.eq(c));
    }
    if let Some(p) = &filter.product {
        cond = cond.add(s::Column::Product.eq(p.as_str()));
    }
    if let Some(a) = filter.active {
        cond = cond.add(s::Column::Active.eq(a));
    }
    if let Some(b) = filter.bill_to_id {
        cond = cond.add(s::Column::BillToId.eq(b));
    }
    if let Some(m) = filter.is_membership_component {
        cond = cond.add(s::Column::IsMembershipComponent.eq(m));
    }
    if let Some(since) = filter.updated_since {
        cond = cond.add(s::Column::UpdatedAt.gte(since));
    }
    let rows = s::Entity::find()
        .filter(cond)
        .order_by_asc(s::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let page = page::build(rows, limit, |r| r.id.to_string());
    Ok(Page {
        items: views(conn, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

/// Plans and writes one change in one transaction; returns the subscription's id.
async fn apply_one(db: &Db, action: Action, row: Row) -> Result<i64> {
    let txn = db.write().await?;
    let facts = context::load(&txn, std::iter::once(&row)).await?;
    let planned = Planner::new(facts).plan(action, row)?;
    let ids = store::apply(&txn, std::slice::from_ref(&planned), clock::now()).await?;
    txn.commit().await?;
    ids.first()
        .copied()
        .ok_or_else(|| Error::Internal("no subscription id after write".into()))
}

pub async fn create(db: &Db, row: Row) -> Result<SubscriptionView> {
    let id = apply_one(db, Action::Insert, row).await?;
    get(&db.conn, Actor::Staff, id).await
}

fn row_of(m: &s::Model, fields: Fields) -> Row {
    Row {
        contact: Some(ContactRef::Id(m.contact_id)),
        product: Some(m.product.clone()),
        fields,
        shown: Default::default(),
    }
}

pub async fn update(
    db: &Db,
    id: i64,
    fields: Fields,
    expected_version: Option<i32>,
) -> Result<SubscriptionView> {
    let current = find(&db.conn, id).await?;
    check_version(expected_version, current.version)?;
    apply_one(db, Action::Update, row_of(&current, fields)).await?;
    get(&db.conn, Actor::Staff, id).await
}

pub async fn delete(db: &Db, id: i64, expected_version: Option<i32>) -> Result<()> {
    let current = find(&db.conn, id).await?;
    check_version(expected_version, current.version)?;
    apply_one(db, Action::Delete, row_of(&current, Fields::default())).await?;
    Ok(())
}
