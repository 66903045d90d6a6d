//! G-3: the provider's events. Accepted only with a valid signature; each event id is handled
//! once (a delivery repeated any number of times changes nothing more). A succeeded intent
//! records its payment with every effect of a manual one (I-3); money that cannot be applied
//! as asked (the invoice no longer open, or an amount or currency that is not the intent's)
//! becomes the payer's credit (M-5) and is reported. Other event types are acknowledged.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::{Value, json};

use entity::payment_intent as pi;
use entity::provider_event as pe;

use crate::access::Actor;
use crate::billing::credit::{self, About};
use crate::billing::invoices::{self, OPEN};
use crate::billing::payments::{self, NewPayment};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::{clock, money, settings};

use super::{Stripe, signature};

/// Credit from online money that could not pay its invoice as asked.
pub const UNAPPLIED: &str = "unapplied";

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
    let txn = db.write().await?;
    if !first_delivery(&txn, &event, now).await? {
        txn.commit().await?;
        return Ok("already handled".into());
    }
    let outcome = match event.kind.as_str() {
        "payment_intent.succeeded" => succeeded(&txn, &event.data.object, now).await?,
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
    let Some(kept) = claim(conn, &intent.id, now).await? else {
        return Ok(format!("{}: unknown or already recorded", intent.id));
    };
    let received = intent.amount_received.unwrap_or(intent.amount);
    let view = invoices::get(conn, Actor::Staff, kept.invoice_id).await?;
    let currency = settings::get(conn).await?.currency;
    let as_asked = received == kept.amount_cents
        && intent.currency.eq_ignore_ascii_case(&kept.currency)
        && kept.currency == currency;
    if !as_asked || view.invoice.status != OPEN || received > view.balance() {
        return unapplied(conn, &view, &intent, received, now).await;
    }
    let new = NewPayment {
        amount_cents: received,
        paid_on: now.date_naive(),
        method: "card".into(),
        reference: Some(intent.id.clone()),
        recorded_by: None,
    };
    let paid = payments::record(conn, kept.invoice_id, new).await?;
    pi::Entity::update_many()
        .col_expr(pi::Column::PaymentId, Expr::val(paid.payment.id))
        .filter(pi::Column::Id.eq(kept.id))
        .exec(conn)
        .await?;
    Ok(format!(
        "{}: payment {} on invoice {}",
        intent.id, paid.payment.id, kept.invoice_id
    ))
}

/// The kept intent, locked and not yet paid; `None` when unknown here or already recorded.
async fn claim(
    conn: &impl ConnectionTrait,
    provider_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<pi::Model>> {
    let res = pi::Entity::update_many()
        .col_expr(pi::Column::UpdatedAt, Expr::val(now))
        .filter(pi::Column::ProviderId.eq(provider_id))
        .filter(pi::Column::PaymentId.is_null())
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Ok(None);
    }
    Ok(pi::Entity::find()
        .filter(pi::Column::ProviderId.eq(provider_id))
        .one(conn)
        .await?)
}

/// M-5: money received that cannot pay the invoice as asked is the payer's credit, reported
/// as `payment.unapplied`.
async fn unapplied(
    conn: &impl ConnectionTrait,
    view: &invoices::InvoiceView,
    intent: &SucceededIntent,
    received: i64,
    now: DateTime<Utc>,
) -> Result<String> {
    let inv = &view.invoice;
    let about = About {
        invoice_id: Some(inv.id),
        ..Default::default()
    };
    credit::add(conn, inv.bill_to_id, received, UNAPPLIED, about, now).await?;
    let event = Event::invoice(
        events::PAYMENT_UNAPPLIED,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({
            "provider_id": intent.id,
            "amount": money::format_cents(received),
            "currency": intent.currency,
            "invoice_status": inv.status,
            "credited_to": inv.bill_to_id,
        }),
    );
    events::emit(conn, vec![event]).await?;
    Ok(format!(
        "{}: {} credited to contact {} (invoice {} is {})",
        intent.id,
        money::format_cents(received),
        inv.bill_to_id,
        inv.id,
        inv.status
    ))
}
