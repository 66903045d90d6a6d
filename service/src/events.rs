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
use serde::Serialize;
use serde_json::{Value, json};

use entity::event as e;

use crate::clock;
use crate::error::{Error, Result};
use crate::page::PageRequest;
use crate::sql::{Sql, rows_per_statement};

pub const CONTACT_CREATED: &str = "contact.created";
pub const CONTACT_UPDATED: &str = "contact.updated";
pub const CONTACT_DELETED: &str = "contact.deleted";
pub const SUBSCRIPTION_CHANGED: &str = "subscription.changed";
pub const INVOICE_CREATED: &str = "invoice.created";
pub const INVOICE_PAID: &str = "invoice.paid";
pub const INVOICE_VOIDED: &str = "invoice.voided";
pub const INVOICE_CANCELLED: &str = "invoice.cancelled";
pub const INVOICE_DELETED: &str = "invoice.deleted";
pub const INVOICE_ADJUSTED: &str = "invoice.adjusted";
pub const INVOICE_PAYMENT_RECEIVED: &str = "invoice.payment_received";
pub const INVOICE_REOPENED: &str = "invoice.reopened";
pub const INVOICE_CREDITED: &str = "invoice.credited";
pub const INVOICE_WRITTEN_OFF: &str = "invoice.written_off";
pub const INVOICE_INSTALMENTS: &str = "invoice.instalments_planned";
/// G-6: an AutoPay charge failed; `final` when no retry follows.
pub const INVOICE_CHARGE_FAILED: &str = "invoice.charge_failed";
pub const PAYMENT_REFUNDED: &str = "payment.refunded";
pub const PAYMENT_REVERSED: &str = "payment.reversed";
/// MG-4: a payment's reference corrected by the payments import.
pub const PAYMENT_UPDATED: &str = "payment.updated";
pub const PAYMENT_UNAPPLIED: &str = "payment.unapplied";
pub const PAYMENT_REFUND_UNRECORDED: &str = "payment.refund_unrecorded";
pub const BATCH_POSTED: &str = "batch.posted";
pub const MEMBERSHIP_JOINED: &str = "membership.joined";
pub const MEMBERSHIP_RENEWED: &str = "membership.renewed";
pub const MEMBERSHIP_EXPIRED: &str = "membership.expired";
pub const RENEWAL_RUN_COMPLETED: &str = "renewal_run.completed";
pub const COMMITTEE_MEMBER_CHANGED: &str = "committee_member.changed";

/// Every event type, in the order the API documents them.
pub const TYPES: [&str; 27] = [
    CONTACT_CREATED,
    CONTACT_UPDATED,
    CONTACT_DELETED,
    SUBSCRIPTION_CHANGED,
    INVOICE_CREATED,
    INVOICE_PAID,
    INVOICE_VOIDED,
    INVOICE_CANCELLED,
    INVOICE_DELETED,
    INVOICE_ADJUSTED,
    INVOICE_PAYMENT_RECEIVED,
    INVOICE_REOPENED,
    INVOICE_CREDITED,
    INVOICE_WRITTEN_OFF,
    INVOICE_INSTALMENTS,
    INVOICE_CHARGE_FAILED,
    PAYMENT_REFUNDED,
    PAYMENT_REVERSED,
    PAYMENT_UPDATED,
    PAYMENT_UNAPPLIED,
    PAYMENT_REFUND_UNRECORDED,
    MEMBERSHIP_JOINED,
    MEMBERSHIP_RENEWED,
    MEMBERSHIP_EXPIRED,
    RENEWAL_RUN_COMPLETED,
    BATCH_POSTED,
    COMMITTEE_MEMBER_CHANGED,
];

/// "events" in ASCII: the advisory lock that orders event ids on PostgreSQL.
const ORDER_LOCK: i64 = 0x0000_6576_656e_7473;

/// An event about to be written; `data` is its JSON object, already rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: &'static str,
    pub subject: String,
    pub data: String,
}

/// `subscription.changed`'s data, rendered without building a JSON tree: imports write one
/// per row.
#[derive(Serialize)]
struct SubscriptionChange<'a> {
    subscription_id: i64,
    contact_id: i64,
    product: &'a str,
    change: &'a str,
    paid_through: Option<NaiveDate>,
}

/// `invoice.*`'s data.
#[derive(Serialize)]
struct InvoiceChange<'a> {
    invoice_id: i64,
    contact_id: i64,
    total: String,
    #[serde(flatten)]
    extra: &'a Value,
}

impl Event {
    pub fn new(kind: &'static str, collection: &str, id: i64, data: &impl Serialize) -> Self {
        Event {
            kind,
            subject: format!("{collection}/{id}"),
            data: serde_json::to_string(data).unwrap_or_else(|_| "{}".into()),
        }
    }

    pub fn contact(kind: &'static str, contact_id: i64, mut data: Value) -> Self {
        data["contact_id"] = contact_id.into();
        Event::new(kind, "contacts", contact_id, &data)
    }

    /// `extra`: an object of further fields (`kind`, `reason`, ...).
    pub fn invoice(
        kind: &'static str,
        invoice_id: i64,
        contact_id: i64,
        total_cents: i64,
        extra: Value,
    ) -> Self {
        let data = InvoiceChange {
            invoice_id,
            contact_id,
            total: crate::money::format_cents(total_cents),
            extra: &extra,
        };
        Event::new(kind, "invoices", invoice_id, &data)
    }

    /// `change` is `created`, `updated`, `deleted` or `paid`.
    pub fn subscription(
        subscription_id: i64,
        contact_id: i64,
        product: &str,
        change: &str,
        paid_through: Option<NaiveDate>,
    ) -> Self {
        let data = SubscriptionChange {
            subscription_id,
            contact_id,
            product,
            change,
            paid_through,
        };
        Event::new(
            SUBSCRIPTION_CHANGED,
            "subscriptions",
            subscription_id,
            &data,
        )
    }
}

/// Writes `events` in the caller's transaction; call it as the transaction's last write. They
/// are built and written a statement's worth at a time, so that an import of 100,000 rows
/// never holds 100,000 events.
pub async fn emit(
    conn: &impl ConnectionTrait,
    events: impl IntoIterator<Item = Event>,
) -> Result<()> {
    let mut events = events.into_iter().peekable();
    if events.peek().is_none() {
        return Ok(());
    }
    take_order_lock(conn).await?;
    let now = clock::now();
    let per_statement = rows_per_statement(4);
    loop {
        let rows: Vec<e::ActiveModel> = events
            .by_ref()
            .take(per_statement)
            .map(|ev| e::ActiveModel {
                occurred_at: Set(now),
                kind: Set(ev.kind.to_owned()),
                subject: Set(ev.subject),
                data: Set(ev.data),
                ..Default::default()
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        e::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
}

async fn take_order_lock(conn: &impl ConnectionTrait) -> Result<()> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [ORDER_LOCK.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Events that the database renders from rows, one per row of `table` named in `ids`, in id
/// order: for the writes that make thousands at once (a renewal page, an import), where
/// sending each event's fields cost more than the rows themselves.
pub struct FromRows<'a> {
    pub kind: &'static str,
    pub table: &'a str,
    /// The subject's collection: `invoices` gives `invoices/{id}`.
    pub collection: &'a str,
    /// The data's fields: a JSON key and an SQL expression over the row.
    pub fields: Vec<(&'a str, String)>,
}

pub async fn emit_from_rows(
    conn: &impl ConnectionTrait,
    rows: &FromRows<'_>,
    ids: &[i64],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    take_order_lock(conn).await?;
    let backend = conn.get_database_backend();
    let pairs = rows
        .fields
        .iter()
        .map(|(key, expr)| format!("'{key}', {expr}"))
        .collect::<Vec<_>>()
        .join(", ");
    let data = match backend {
        DatabaseBackend::Postgres => format!("json_build_object({pairs})::text"),
        _ => format!("json_object({pairs})"),
    };
    let now = clock::now();
    for chunk in ids.chunks(rows_per_statement(1)) {
        let keys: Vec<[i64; 1]> = chunk.iter().map(|id| [*id]).collect();
        let mut q = Sql::new(backend);
        q.push("INSERT INTO events (occurred_at, type, subject, data) SELECT ")
            .bind(now)
            .push(", ")
            .bind(rows.kind)
            .push(&format!(
                ", '{}/' || id, {data} FROM {} WHERE id IN (SELECT k.id FROM ",
                rows.collection, rows.table
            ))
            .json_rows(&keys, &[("id", "bigint")])?
            .push(" AS k) ORDER BY id");
        conn.execute_raw(q.build()).await?;
    }
    Ok(())
}

/// An amount column in cents as the API writes amounts (`"500.00"`), in SQL.
pub fn money_sql(backend: DatabaseBackend, cents_column: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => {
            format!("to_char({cents_column} / 100.0, 'FM999999999999990.00')")
        }
        _ => format!("printf('%.2f', {cents_column} / 100.0)"),
    }
}

/// `invoice.created` for a renewal page's invoices: the data of [`Event::invoice`] with
/// `kind` and `renewal_run_id`.
pub async fn emit_renewal_invoices(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<()> {
    let rows = FromRows {
        kind: INVOICE_CREATED,
        table: "invoices",
        collection: "invoices",
        fields: vec![
            ("invoice_id", "id".into()),
            ("contact_id", "contact_id".into()),
            (
                "total",
                money_sql(conn.get_database_backend(), "total_cents"),
            ),
            ("kind", "kind".into()),
            ("renewal_run_id", "renewal_run_id".into()),
        ],
    };
    emit_from_rows(conn, &rows, ids).await
}

/// `subscription.changed` for subscriptions created or updated (`change`) by a bulk write: the
/// data of [`Event::subscription`].
pub async fn emit_subscription_changes(
    conn: &impl ConnectionTrait,
    change: &str,
    ids: &[i64],
) -> Result<()> {
    let rows = FromRows {
        kind: SUBSCRIPTION_CHANGED,
        table: "subscriptions",
        collection: "subscriptions",
        fields: vec![
            ("subscription_id", "id".into()),
            ("contact_id", "contact_id".into()),
            ("product", "product".into()),
            ("change", format!("'{change}'")),
            ("paid_through", "paid_through".into()),
        ],
    };
    emit_from_rows(conn, &rows, ids).await
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

/// Why `types` are refused: the first that is not a known event type.
pub fn unknown_type(types: &[String]) -> Option<String> {
    types
        .iter()
        .find(|t| !TYPES.contains(&t.as_str()))
        .map(|t| format!("unknown event type `{t}`; known: {}", TYPES.join(", ")))
}

/// Events after the cursor, oldest first, optionally of some types only.
pub async fn feed(
    conn: &impl ConnectionTrait,
    types: &[String],
    req: &PageRequest,
) -> Result<Feed> {
    if let Some(why) = unknown_type(types) {
        return Err(Error::bad_parameter("type", why));
    }
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
        assert!(unknown_type(&["invoice.paid".into()]).is_none());
        let err = unknown_type(&["invoice.paid".into(), "invoice.eaten".into()]).unwrap();
        assert!(err.contains("invoice.eaten"), "{err}");
    }

    #[test]
    fn subjects_name_the_collection_and_id() {
        let ev = Event::contact(CONTACT_CREATED, 7, json!({}));
        assert_eq!(ev.subject, "contacts/7");
        assert_eq!(ev.data, r#"{"contact_id":7}"#);
        let inv = Event::invoice(INVOICE_PAID, 3, 7, 1250, json!({"kind": "join"}));
        assert_eq!(
            inv.data,
            r#"{"invoice_id":3,"contact_id":7,"total":"12.50","kind":"join"}"#
        );
    }
}
