//! Writes planned subscription changes with multi-row statements, then keeps each touched
//! contact's paid-through in step (C-7), all in the caller's transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryTrait, Set, Value};

use entity::subscription as s;

use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::paid_through;
use crate::sql::{Sql, in_ids, rows_per_statement};

use super::plan::{Planned, Values};

fn active_model(v: &Values, now: DateTime<Utc>) -> s::ActiveModel {
    s::ActiveModel {
        id: sea_orm::NotSet,
        contact_id: Set(v.contact_id),
        product: Set(v.product.clone()),
        begin_date: Set(v.begin_date),
        paid_through: Set(v.paid_through),
        bill_to_id: Set(v.bill_to_id),
        bill_date: Set(v.bill_date),
        bill_begin: Set(v.bill_begin),
        bill_through: Set(v.bill_through),
        billed_cents: Set(v.billed_cents),
        active: Set(v.active),
        cancellation_date: Set(v.cancellation_date),
        adjustment_reason: Set(v.adjustment_reason.clone()),
        source_code: Set(v.source_code.clone()),
        is_complimentary: Set(v.is_complimentary),
        is_membership_component: Set(v.is_membership_component),
        bill_subscription: Set(v.bill_subscription),
        accounting_method: Set(v.accounting_method),
        billed: Set(v.billed),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The columns an update may change, in the order `update_values` binds them.
const UPDATED: [&str; 15] = [
    "begin_date",
    "paid_through",
    "bill_to_id",
    "bill_date",
    "bill_begin",
    "bill_through",
    "billed_cents",
    "active",
    "cancellation_date",
    "adjustment_reason",
    "source_code",
    "is_complimentary",
    "is_membership_component",
    "bill_subscription",
    "accounting_method",
];

fn update_values(id: i64, version: i32, v: &Values) -> [Value; 17] {
    [
        id.into(),
        version.into(),
        v.begin_date.into(),
        v.paid_through.into(),
        v.bill_to_id.into(),
        v.bill_date.into(),
        v.bill_begin.into(),
        v.bill_through.into(),
        v.billed_cents.into(),
        v.active.into(),
        v.cancellation_date.into(),
        v.adjustment_reason.clone().into(),
        v.source_code.clone().into(),
        v.is_complimentary.into(),
        v.is_membership_component.into(),
        v.bill_subscription.into(),
        v.accounting_method.as_str().into(),
    ]
}

fn stale() -> Error {
    Error::conflict("a subscription changed while this request ran; nothing was written, retry")
}

/// Applies the plan; returns the id of each planned item (the new id for inserts).
pub async fn apply(
    conn: &impl ConnectionTrait,
    planned: &[Planned],
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let new_ids = insert(conn, planned, now).await?;
    update(conn, planned, now).await?;
    delete(conn, planned).await?;
    let touched: Vec<i64> = planned
        .iter()
        .filter_map(Planned::touches_membership)
        .collect();
    paid_through::sync(conn, &touched, now).await?;
    let ids = ids_of(planned, &new_ids);
    emit_events(conn, planned, &ids).await?;
    Ok(ids)
}

/// Inserts the new subscriptions; returns the id of each (contact, product). Only the key
/// comes back: decoding whole subscriptions was a third of the insert.
async fn insert(
    conn: &impl ConnectionTrait,
    planned: &[Planned],
    now: DateTime<Utc>,
) -> Result<HashMap<(i64, String), i64>> {
    let inserts: Vec<&Values> = planned
        .iter()
        .filter_map(|p| match p {
            Planned::Insert(v) => Some(v),
            _ => None,
        })
        .collect();
    let mut new_ids: HashMap<(i64, String), i64> = HashMap::with_capacity(inserts.len());
    for chunk in inserts.chunks(rows_per_statement(22)) {
        let mut stmt =
            s::Entity::insert_many(chunk.iter().map(|v| active_model(v, now))).into_query();
        stmt.returning(Query::returning().columns([
            s::Column::Id,
            s::Column::ContactId,
            s::Column::Product,
        ]));
        for row in conn.query_all(&stmt).await? {
            let id: i64 = row.try_get_by_index(0)?;
            let contact_id: i64 = row.try_get_by_index(1)?;
            let product: String = row.try_get_by_index(2)?;
            new_ids.insert((contact_id, product), id);
        }
    }
    Ok(new_ids)
}

/// Updates what changed, each row only at the version planned against.
async fn update(
    conn: &impl ConnectionTrait,
    planned: &[Planned],
    now: DateTime<Utc>,
) -> Result<()> {
    let updates: Vec<(i64, i32, &Values)> = planned
        .iter()
        .filter_map(|p| match p {
            Planned::Update {
                id,
                version,
                before,
                after,
            } if before != after => Some((*id, *version, after)),
            _ => None,
        })
        .collect();
    for chunk in updates.chunks(rows_per_statement(17)) {
        let res = conn.execute_raw(update_statement(conn, chunk, now)).await?;
        if res.rows_affected() != chunk.len() as u64 {
            return Err(stale());
        }
    }
    Ok(())
}

fn update_statement(
    conn: &impl ConnectionTrait,
    chunk: &[(i64, i32, &Values)],
    now: DateTime<Utc>,
) -> sea_orm::Statement {
    let mut q = Sql::new(conn.get_database_backend());
    q.push("UPDATE subscriptions SET ");
    for (i, col) in UPDATED.iter().enumerate() {
        q.push(&format!("{col} = v.column{}, ", i + 3));
    }
    q.push("version = subscriptions.version + 1, updated_at = ")
        .bind(now)
        .push(" FROM (VALUES ");
    for (i, (id, version, v)) in chunk.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.tuple(update_values(*id, *version, v));
    }
    q.push(") AS v WHERE subscriptions.id = v.column1 AND subscriptions.version = v.column2");
    q.build()
}

async fn delete(conn: &impl ConnectionTrait, planned: &[Planned]) -> Result<()> {
    let deletes: Vec<i64> = planned
        .iter()
        .filter_map(|p| match p {
            Planned::Delete { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    for chunk in deletes.chunks(5_000) {
        let res = s::Entity::delete_many()
            .filter(in_ids(s::Column::Id, chunk))
            .exec(conn)
            .await?;
        if res.rows_affected != chunk.len() as u64 {
            return Err(stale());
        }
    }
    Ok(())
}

/// The id of each planned item, in plan order.
fn ids_of(planned: &[Planned], new_ids: &HashMap<(i64, String), i64>) -> Vec<i64> {
    planned
        .iter()
        .map(|p| match p {
            Planned::Insert(v) => new_ids
                .get(&(v.contact_id, v.product.clone()))
                .copied()
                .unwrap_or_default(),
            Planned::Update { id, .. } | Planned::Delete { id, .. } => *id,
        })
        .collect()
}

/// Events: created, then updated, then deleted subscriptions.
async fn emit_events(conn: &impl ConnectionTrait, planned: &[Planned], ids: &[i64]) -> Result<()> {
    let of = |wanted: fn(&Planned) -> bool| -> Vec<i64> {
        planned
            .iter()
            .zip(ids)
            .filter(|(p, _)| wanted(p))
            .map(|(_, id)| *id)
            .collect()
    };
    let created = of(|p| matches!(p, Planned::Insert(_)));
    let updated = of(|p| matches!(p, Planned::Update { before, after, .. } if before != after));
    events::emit_subscription_changes(conn, "created", &created).await?;
    events::emit_subscription_changes(conn, "updated", &updated).await?;
    let deleted = planned.iter().filter_map(|p| match p {
        Planned::Delete { id, values, .. } => Some(Event::subscription(
            *id,
            values.contact_id,
            &values.product,
            "deleted",
            values.paid_through,
        )),
        _ => None,
    });
    events::emit(conn, deleted).await?;
    Ok(())
}
