//! G-3: the provider's events. Accepted only with a valid signature; each event id is handled
//! once (a delivery repeated any number of times changes nothing more). A succeeded intent
//! records its payment with every effect of a manual one (I-3); money that cannot be applied
//! as asked (the invoice no longer open, or an amount or currency that is not the intent's)
//! becomes the payer's credit (M-5) and is reported. Other event types are acknowledged.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::Value;

use entity::provider_event as pe;

use crate::clock;
use crate::db::Db;
use crate::error::{Error, Result};

use super::settle::{self, Received};
use super::{Stripe, cards, charges, signature};

#[derive(Debug, Deserialize)]
struct ProviderEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: Value,
}

#[derive(Debug, Deserialize)]
struct SucceededIntent {
    id: String,
    #[serde(default)]
    amount_received: Option<i64>,
    amount: i64,
    currency: String,
}

/// G-3: handles one delivery; returns what it did (for the provider's log and the tests).
pub async fn receive(
    db: &Db,
    stripe: &Stripe,
    signature_header: Option<&str>,
    payload: &[u8],
) -> Result<String> {
    let now = clock::now();
    let header = signature_header
        .ok_or_else(|| Error::InvalidSignature("no Stripe-Signature header".into()))?;
    signature::verify(
        &stripe.config.webhook_secret,
        header,
        payload,
        now.timestamp(),
    )?;
    let event: ProviderEvent = serde_json::from_slice(payload)
        .map_err(|e| Error::invalid("body", format!("not a provider event: {e}")))?;
    // The card's details are read at the provider before the transaction; keeping it twice
    // changes nothing.
    let card = match event.kind.as_str() {
        "setup_intent.succeeded" if !handled_before(&db.conn, &event.id).await? => {
            Some(cards::from_event(db, stripe, &event.data.object).await?)
        }
        _ => None,
    };
    let txn = db.write().await?;
    if !first_delivery(&txn, &event, now).await? {
        txn.commit().await?;
        return Ok("already handled".into());
    }
    let outcome = match event.kind.as_str() {
        "payment_intent.succeeded" => succeeded(&txn, &event.data.object, now).await?,
        "payment_intent.payment_failed" => {
            charges::failed_later(&txn, &event.data.object, now).await?
        }
        "setup_intent.succeeded" => card.unwrap_or_default(),
        "charge.refunded" => super::refunds::charge_refunded(&txn, &event.data.object, now).await?,
        "refund.created" | "refund.updated" | "charge.refund.updated" => {
            super::refunds::refund_changed(&txn, &event.data.object, now).await?
        }
        other => format!("{other}: ignored"),
    };
    pe::Entity::update_many()
        .col_expr(pe::Column::Outcome, Expr::val(outcome.clone()))
        .filter(pe::Column::Id.eq(event.id.as_str()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(outcome)
}

async fn handled_before(conn: &impl ConnectionTrait, id: &str) -> Result<bool> {
    Ok(pe::Entity::find_by_id(id.to_owned())
        .one(conn)
        .await?
        .is_some())
}

/// Claims the event id; false when it was handled before.
async fn first_delivery(
    conn: &impl ConnectionTrait,
    event: &ProviderEvent,
    now: DateTime<Utc>,
) -> Result<bool> {
    let res = pe::Entity::insert(pe::ActiveModel {
        id: Set(event.id.clone()),
        kind: Set(event.kind.chars().take(100).collect()),
        outcome: Set(String::new()),
        received_at: Set(now),
    })
    .on_conflict(OnConflict::column(pe::Column::Id).do_nothing().to_owned())
    .exec_without_returning(conn)
    .await?;
    Ok(res > 0)
}

/// A succeeded intent pays its invoice once; what cannot pay it as asked is credit.
async fn succeeded(
    conn: &impl ConnectionTrait,
    object: &Value,
    now: DateTime<Utc>,
) -> Result<String> {
    let intent: SucceededIntent = serde_json::from_value(object.clone())
        .map_err(|e| Error::invalid("data.object", format!("not a payment intent: {e}")))?;
    let received = Received {
        provider_id: intent.id,
        amount_cents: intent.amount_received.unwrap_or(intent.amount),
        currency: intent.currency,
    };
    let done = settle::received(conn, &received, now).await?;
    if done.recorded {
        charges::settled(conn, &received.provider_id, done.payment_id).await?;
    }
    Ok(done.outcome)
}
