//! Business events for integrators: an outbox written in the transaction that makes the
//! change, so an event exists exactly when its change does. Integrators poll it by id
//! (`GET /events?cursor=`) or receive it by webhook.
//!
//! A poller resumes after the last id it saw, so ids must become visible in increasing order.
//! SQLite has one writer at a time, so they do. On PostgreSQL two transactions could take ids
//! 5 and 6 and commit 6 first; a poller reading 6 would then never see 5. Each transaction
//! that writes events therefore takes one advisory lock before it takes its ids and holds it
//! to its end. Writers emit their events last, so the lock is held only for the commit.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};
use serde_json::{Value, json};

use entity::event as e;

use crate::clock;
use crate::error::{Error, Result};
use crate::page::PageRequest;
use crate::sql::rows_per_statement;

pub const CONTACT_CREATED: &str = "contact.created";
pub const CONTACT_UPDATED: &str = "contact.updated";
pub const CONTACT_DELETED: &str = "contact.deleted";
pub const SUBSCRIPTION_CHANGED: &str = "subscription.changed";
pub const INVOICE_CREATED: &str = "invoice.created";
pub const INVOICE_PAID: &str = "invoice.paid";
pub const INVOICE_VOIDED: &str = "invoice.voided";
pub const INVOICE_CANCELLED: &str = "invoice.cancelled";
pub const INVOICE_DELETED: &str = "invoice.deleted";
pub const MEMBERSHIP_JOINED: &str = "membership.joined";
pub const MEMBERSHIP_RENEWED: &str = "membership.renewed";
pub const MEMBERSHIP_EXPIRED: &str = "membership.expired";
pub const RENEWAL_RUN_COMPLETED: &str = "renewal_run.completed";

/// Every event type, in the order the API documents them.
pub const TYPES: [&str; 13] = [
    CONTACT_CREATED,
    CONTACT_UPDATED,
    CONTACT_DELETED,
    SUBSCRIPTION_CHANGED,
    INVOICE_CREATED,
    INVOICE_PAID,
    INVOICE_VOIDED,
    INVOICE_CANCELLED,
    INVOICE_DELETED,
    MEMBERSHIP_JOINED,
    MEMBERSHIP_RENEWED,
    MEMBERSHIP_EXPIRED,
    RENEWAL_RUN_COMPLETED,
];

/// "events" in ASCII: the advisory lock that orders event ids on PostgreSQL.
const ORDER_LOCK: i64 = 0x0000_6576_656e_7473;

/// An event about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: &'static str,
    pub subject: String,
    pub data: Value,
}

impl Event {
    pub fn new(kind: &'static str, collection: &str, id: i64, data: Value) -> Self {
        Event {
            kind,
            subject: format!("{collection}/{id}"),
            data,
        }
    }

    pub fn contact(kind: &'static str, contact_id: i64, mut data: Value) -> Self {
        data["contact_id"] = contact_id.into();
        Event::new(kind, "contacts", contact_id, data)
    }

    pub fn invoice(kind: &'static str, invoice_id: i64, contact_id: i64, total_cents: i64) -> Self {
        Event::new(
            kind,
            "invoices",
            invoice_id,
            json!({
                "invoice_id": invoice_id,
                "contact_id": contact_id,
                "total": crate::money::format_cents(total_cents),
            }),
        )
    }

    /// `change` is `created`, `updated`, `deleted` or `paid`.
    pub fn subscription(
        subscription_id: i64,
        contact_id: i64,
        product: &str,
        change: &str,
        paid_through: Option<NaiveDate>,
    ) -> Self {
        Event::new(
            SUBSCRIPTION_CHANGED,
            "subscriptions",
            subscription_id,
            json!({
                "subscription_id": subscription_id,
                "contact_id": contact_id,
                "product": product,
                "change": change,
                "paid_through": paid_through,
            }),
        )
    }
}

/// Writes `events` in the caller's transaction; call it as the transaction's last write.
pub async fn emit(conn: &impl ConnectionTrait, events: Vec<Event>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [ORDER_LOCK.into()],
        ))
        .await?;
    }
    let now = clock::now();
    let rows: Vec<e::ActiveModel> = events
        .into_iter()
        .map(|ev| e::ActiveModel {
            occurred_at: Set(now),
            kind: Set(ev.kind.to_owned()),
            subject: Set(ev.subject),
            data: Set(ev.data.to_string()),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(rows_per_statement(4)) {
        e::Entity::insert_many(chunk.to_vec()).exec(conn).await?;
    }
    Ok(())
}

/// One event as integrators see it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventView {
    pub id: i64,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub subject: String,
    pub data: Value,
}

impl EventView {
    /// The event as the feed lists it and as webhooks carry it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "occurred_at": self.occurred_at,
            "subject": self.subject,
            "data": self.data,
        })
    }
}

impl From<e::Model> for EventView {
    fn from(m: e::Model) -> Self {
        EventView {
            id: m.id,
            data: serde_json::from_str(&m.data).unwrap_or(Value::Null),
            kind: m.kind,
            occurred_at: m.occurred_at,
            subject: m.subject,
        }
    }
}

/// A page of the feed. The cursor is always given, so that a poller can resume from it even
/// when the page is empty; `has_more` says whether to ask again at once.
#[derive(Debug, Clone)]
pub struct Feed {
    pub items: Vec<EventView>,
    pub next_cursor: String,
    pub has_more: bool,
}

/// Checks type names against the known ones.
pub fn check_types(field: &str, types: &[String]) -> Result<()> {
    match types.iter().find(|t| !TYPES.contains(&t.as_str())) {
        Some(t) => Err(Error::bad_parameter(
            field,
            format!("unknown event type `{t}`; known: {}", TYPES.join(", ")),
        )),
        None => Ok(()),
    }
}

/// Events after the cursor, oldest first, optionally of some types only.
pub async fn feed(
    conn: &impl ConnectionTrait,
    types: &[String],
    req: &PageRequest,
) -> Result<Feed> {
    check_types("type", types)?;
    let limit = req.limit()?;
    let after = req.after_id()?.unwrap_or(0);
    let mut q = e::Entity::find()
        .filter(e::Column::Id.gt(after))
        .order_by_asc(e::Column::Id)
        .limit(limit + 1);
    if !types.is_empty() {
        q = q.filter(e::Column::Kind.is_in(types.iter().cloned()));
    }
    let mut rows = q.all(conn).await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = rows.last().map_or(after, |r| r.id).to_string();
    Ok(Feed {
        items: rows.into_iter().map(EventView::from).collect(),
        next_cursor,
        has_more,
    })
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<EventView> {
    e::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(EventView::from)
        .ok_or_else(|| Error::not_found("event", id))
}

/// The newest event id: where a new webhook endpoint starts.
pub async fn last_id(conn: &impl ConnectionTrait) -> Result<i64> {
    Ok(e::Entity::find()
        .select_only()
        .column_as(e::Column::Id.max(), "m")
        .into_tuple::<Option<i64>>()
        .one(conn)
        .await?
        .flatten()
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_are_refused_and_named() {
        assert!(check_types("type", &["invoice.paid".into()]).is_ok());
        let err = check_types("type", &["invoice.paid".into(), "invoice.eaten".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("invoice.eaten"), "{err}");
    }

    #[test]
    fn subjects_name_the_collection_and_id() {
        let ev = Event::contact(CONTACT_CREATED, 7, json!({}));
        assert_eq!(ev.subject, "contacts/7");
        assert_eq!(ev.data["contact_id"], 7);
    }
}
