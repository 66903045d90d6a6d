//! I-5: the AutoPay invoices of a renewal run form a batch. Posting makes them receivables;
//! deleting removes them from the run and resets what billing changed, as if never billed.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;

use entity::batch as b;
use entity::invoice as i;
use entity::invoice_line as l;
use entity::renewal_run as r;
use entity::subscription as s;

use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::sql::in_ids;
use crate::{clock, db::Db, paid_through};

use super::invoices::{DRAFT, OPEN};

pub const OPEN_BATCH: &str = "open";
pub const POSTED: &str = "posted";

#[derive(Debug, Clone)]
pub struct BatchView {
    pub batch: b::Model,
    pub invoice_ids: Vec<i64>,
    pub total_cents: i64,
}

/// The batch of a run, created with its first AutoPay invoice. Pages written side by side may
/// both open it: the second waits for the first's row and takes it.
pub async fn for_run(conn: &impl ConnectionTrait, run_id: i64, now: DateTime<Utc>) -> Result<i64> {
    let existing = || {
        b::Entity::find()
            .select_only()
            .column(b::Column::Id)
            .filter(b::Column::RunId.eq(run_id))
            .into_tuple::<i64>()
            .one(conn)
    };
    if let Some(id) = existing().await? {
        return Ok(id);
    }
    b::Entity::insert(b::ActiveModel {
        run_id: Set(run_id),
        status: Set(OPEN_BATCH.into()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([b::Column::RunId])
    .exec_without_returning(conn)
    .await?;
    existing()
        .await?
        .ok_or_else(|| Error::Internal(format!("no batch for renewal run {run_id}")))
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<BatchView> {
    let batch = b::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("batch", id))?;
    let rows: Vec<(i64, i64)> = i::Entity::find()
        .select_only()
        .column(i::Column::Id)
        .column(i::Column::TotalCents)
        .filter(i::Column::BatchId.eq(id))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(BatchView {
        batch,
        total_cents: crate::money::checked_sum(rows.iter().map(|(_, t)| *t))?,
        invoice_ids: rows.into_iter().map(|(id, _)| id).collect(),
    })
}

async fn open_batch(conn: &impl ConnectionTrait, id: i64) -> Result<BatchView> {
    let view = get(conn, id).await?;
    if view.batch.status != OPEN_BATCH {
        return Err(Error::conflict(format!(
            "batch {id} is already posted; its invoices are receivables now"
        )));
    }
    Ok(view)
}

/// Posts the batch: its invoices become open receivables.
pub async fn post(db: &Db, id: i64) -> Result<BatchView> {
    let txn = db.write().await?;
    let view = post_in(&txn, id, clock::now()).await?;
    txn.commit().await?;
    Ok(view)
}

/// Posts the batch in the caller's transaction. Two posts at once: one posts, the other is
/// told the batch is posted.
pub async fn post_in(
    conn: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<BatchView> {
    open_batch(conn, id).await?;
    let res = b::Entity::update_many()
        .col_expr(b::Column::Status, Expr::val(POSTED))
        .col_expr(b::Column::PostedAt, Expr::val(now))
        .filter(b::Column::Id.eq(id))
        .filter(b::Column::Status.eq(OPEN_BATCH))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::conflict(format!(
            "batch {id} is already posted; its invoices are receivables now"
        )));
    }
    i::Entity::update_many()
        .col_expr(i::Column::Status, Expr::val(OPEN))
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(now))
        .filter(i::Column::BatchId.eq(id))
        .filter(i::Column::Status.eq(DRAFT))
        .exec(conn)
        .await?;
    let view = get(conn, id).await?;
    let event = Event::new(
        events::BATCH_POSTED,
        "batches",
        id,
        &json!({
            "batch_id": id,
            "renewal_run": view.batch.run_id,
            "invoices": view.invoice_ids.len(),
            "total": crate::money::format_cents(view.total_cents),
        }),
    );
    events::emit(conn, vec![event]).await?;
    Ok(view)
}

/// Deletes an unposted batch: its invoices leave the run, and the subscriptions they billed
/// are as if never billed (complimentary paid-through moved back, subscriptions created for
/// the billing removed).
pub async fn delete(db: &Db, id: i64) -> Result<()> {
    let txn = db.write().await?;
    let view = open_batch(&txn, id).await?;
    let now = clock::now();
    let lines = l::Entity::find()
        .filter(in_ids(l::Column::InvoiceId, &view.invoice_ids))
        .all(&txn)
        .await?;
    let sub_ids: Vec<i64> = lines.iter().filter_map(|l| l.subscription_id).collect();
    let subs = s::Entity::find()
        .filter(in_ids(s::Column::Id, &sub_ids))
        .all(&txn)
        .await?;
    l::Entity::delete_many()
        .filter(in_ids(l::Column::InvoiceId, &view.invoice_ids))
        .exec(&txn)
        .await?;
    i::Entity::delete_many()
        .filter(i::Column::BatchId.eq(id))
        .exec(&txn)
        .await?;
    let mut contacts = Vec::new();
    for sub in &subs {
        let Some(line) = lines.iter().find(|l| l.subscription_id == Some(sub.id)) else {
            continue;
        };
        contacts.push(sub.contact_id);
        // Created by this run's billing (never active, never paid): it goes with it.
        if super::billed::opened_by(sub, view.batch.created_at) {
            s::Entity::delete_by_id(sub.id).exec(&txn).await?;
            continue;
        }
        let mut am: s::ActiveModel = sub.clone().into();
        am.billed = Set(false);
        am.bill_begin = Set(None);
        am.bill_through = Set(None);
        if line.amount_cents == 0 && sub.paid_through == Some(line.term_end) {
            am.paid_through = Set(line.term_begin.pred_opt());
        }
        am.version = Set(sub.version + 1);
        am.updated_at = Set(now);
        am.update(&txn).await?;
    }
    paid_through::sync(&txn, &contacts, now).await?;
    r::Entity::update_many()
        .col_expr(
            r::Column::Billed,
            Expr::col(r::Column::Billed).sub(view.invoice_ids.len() as i64),
        )
        .col_expr(
            r::Column::TotalCents,
            Expr::col(r::Column::TotalCents).sub(view.total_cents),
        )
        .filter(r::Column::Id.eq(view.batch.run_id))
        .exec(&txn)
        .await?;
    b::Entity::delete_by_id(id).exec(&txn).await?;
    let deleted = view.invoice_ids.iter().map(|invoice_id| {
        Event::new(
            events::INVOICE_DELETED,
            "invoices",
            *invoice_id,
            &json!({"invoice_id": invoice_id, "batch_id": id, "via": "batch_delete"}),
        )
    });
    events::emit(&txn, deleted).await?;
    txn.commit().await?;
    Ok(())
}

/// The batch of a run, if it has one.
pub async fn of_run(conn: &impl ConnectionTrait, run_id: i64) -> Result<Option<i64>> {
    Ok(b::Entity::find()
        .filter(b::Column::RunId.eq(run_id))
        .one(conn)
        .await?
        .map(|m| m.id))
}
