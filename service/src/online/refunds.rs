//! G-7: refunds of card payments go through the provider. A payment paid online (its payment
//! intent kept here) is refunded by asking the provider, with an idempotency key, for a refund
//! that M-2 has checked it can record. The provider's refund is kept, and recorded as M-2's
//! refund once the provider confirms it: at once when it answers `succeeded`, else when its
//! event says so (G-3). Whichever comes first records it, and each provider refund is recorded
//! once. Refunds made in the provider's dashboard arrive as events and are recorded alike.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde::Deserialize;
use serde_json::{Value, json};

use entity::payment_intent as pi;
use entity::provider_refund as pr;
use entity::refund as r;

use crate::access::Actor;
use crate::billing::invoices;
use crate::billing::payment_list;
use crate::billing::refunds::{self, NewRefund, Returned};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::idempotency::{self, Key, Outcome, Stored};
use crate::{clock, money};

use super::{Refund, Stripe};

const SUCCEEDED: &str = "succeeded";

/// The reason of a refund that staff made at the provider rather than here.
pub const AT_PROVIDER: &str = "Refunded at the payment provider";

/// What asking for a refund came to.
#[derive(Debug)]
pub enum Asked {
    /// Recorded (M-2): a payment not paid online, or a refund the provider confirmed.
    Recorded(Box<Returned>),
    /// The provider has not confirmed it yet; its event records it.
    Pending {
        provider_id: String,
        amount_cents: i64,
    },
}

/// M-2, G-7: refunds `new.amount_cents` of payment `payment_id`; through the provider when it
/// was paid online there, else as before. With `key`, a retry answers the first recorded
/// result and asks the provider for nothing more.
pub async fn refund(
    db: &Db,
    provider: Option<&Stripe>,
    payment_id: i64,
    new: NewRefund,
    key: Option<Key>,
    render: impl FnOnce(&Returned) -> Stored,
) -> Result<Outcome<Asked>> {
    let Some((stripe, intent)) = paid_online(&db.conn, provider, payment_id).await? else {
        return Ok(
            match refunds::refund(db, payment_id, new, key, render).await? {
                Outcome::Done(returned) => Outcome::Done(Asked::Recorded(returned)),
                Outcome::Replayed(stored) => Outcome::Replayed(stored),
            },
        );
    };
    if let Some(k) = &key
        && let Some(stored) = idempotency::replay(&db.conn, k).await?
    {
        return Ok(Outcome::Replayed(stored));
    }
    refunds::rehearse(db, payment_id, &new).await?;
    let made = ask_provider(&db.conn, stripe, &intent, payment_id, &new, key.as_ref()).await?;
    keep_asked(db, payment_id, &made, &new).await?;
    match made.status.as_str() {
        SUCCEEDED => record_confirmed(db, &made.id, key, render).await,
        "pending" | "requires_action" => Ok(Outcome::Done(Asked::Pending {
            provider_id: made.id,
            amount_cents: made.amount,
        })),
        "canceled" => Err(Error::conflict(format!(
            "the payment provider canceled refund {}; nothing was refunded",
            made.id
        ))),
        other => Err(Error::Provider(format!("refund {} is {other}", made.id))),
    }
}

/// The provider and the intent that paid `payment_id`, when it was paid online and a provider
/// is configured.
async fn paid_online<'a>(
    conn: &impl ConnectionTrait,
    provider: Option<&'a Stripe>,
    payment_id: i64,
) -> Result<Option<(&'a Stripe, pi::Model)>> {
    let Some(stripe) = provider else {
        return Ok(None);
    };
    let intent = pi::Entity::find()
        .filter(pi::Column::PaymentId.eq(payment_id))
        .one(conn)
        .await?;
    Ok(intent.map(|i| (stripe, i)))
}

/// The provider's refund. Its idempotency key is the client's when there is one; otherwise
/// what was already returned of the payment and the amount, so that a request repeated before
/// anything changed asks for the same refund.
async fn ask_provider(
    conn: &impl ConnectionTrait,
    stripe: &Stripe,
    intent: &pi::Model,
    payment_id: i64,
    new: &NewRefund,
    key: Option<&Key>,
) -> Result<Refund> {
    let idempotency_key = match key {
        Some(k) => format!("ams-refund-{payment_id}-{}", k.key),
        None => {
            let paid = payment_list::get(conn, Actor::Staff, payment_id).await?;
            let returned = paid.payment.refunded_cents;
            format!("ams-refund-{payment_id}-{returned}-{}", new.amount_cents)
        }
    };
    stripe
        .create_refund(
            &intent.provider_id,
            new.amount_cents,
            payment_id,
            &idempotency_key,
        )
        .await
}

/// Keeps the refund the provider made at staff's request, whatever it answered: the money
/// may have moved there even when it cannot be recorded here.
async fn keep_asked(db: &Db, payment_id: i64, made: &Refund, new: &NewRefund) -> Result<()> {
    let txn = db.write().await?;
    let asked = Asking {
        payment_id,
        reason: new.reason.trim(),
        recorded_by: new.recorded_by,
    };
    keep(&txn, made, &asked, clock::now()).await?;
    txn.commit().await?;
    Ok(())
}

/// Records the refund the provider has just confirmed, unless its event recorded it first; a
/// retry with `key` answers the first result.
async fn record_confirmed(
    db: &Db,
    provider_id: &str,
    key: Option<Key>,
    render: impl FnOnce(&Returned) -> Stored,
) -> Result<Outcome<Asked>> {
    let txn = db.write().await?;
    if let Some(k) = &key
        && let Some(stored) = idempotency::begin(&txn, k).await?
    {
        return Ok(Outcome::Replayed(stored));
    }
    let kept = kept(&txn, provider_id).await?;
    let recorded = record_once(&txn, &kept, clock::now())
        .await
        .map_err(|e| not_recorded(&kept, e))?;
    let returned = match recorded {
        Some(returned) => returned,
        None => recorded_before(&txn, provider_id).await?,
    };
    if let Some(k) = &key {
        idempotency::finish(&txn, k, &render(&returned)).await?;
    }
    txn.commit().await?;
    Ok(Outcome::Done(Asked::Recorded(Box::new(returned))))
}

/// Something changed between the check and the provider's answer: the money went back at the
/// provider, which staff must know to correct it by hand.
fn not_recorded(kept: &pr::Model, e: Error) -> Error {
    match e {
        Error::Conflict { .. } | Error::Validation(_) => Error::conflict(format!(
            "the payment provider refunded {} ({}) but it cannot be recorded here: {e}",
            money::format_cents(kept.amount_cents),
            kept.provider_id
        )),
        other => other,
    }
}

/// Who asked for a provider refund, and why.
struct Asking<'a> {
    payment_id: i64,
    reason: &'a str,
    recorded_by: Option<i64>,
}

/// Keeps a provider refund, or brings a kept one up to the provider's status until it is
/// recorded. Returns it, and whether it was known as succeeded before.
async fn keep(
    conn: &impl ConnectionTrait,
    refund: &Refund,
    asking: &Asking<'_>,
    now: DateTime<Utc>,
) -> Result<(pr::Model, bool)> {
    let before = pr::Entity::find()
        .filter(pr::Column::ProviderId.eq(refund.id.as_str()))
        .one(conn)
        .await?;
    pr::Entity::insert(pr::ActiveModel {
        provider_id: Set(refund.id.clone()),
        payment_id: Set(asking.payment_id),
        amount_cents: Set(refund.amount),
        status: Set(status_of(refund)),
        reason: Set(asking.reason.chars().take(500).collect()),
        recorded_by: Set(asking.recorded_by),
        refund_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(pr::Column::ProviderId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    pr::Entity::update_many()
        .col_expr(pr::Column::Status, Expr::val(status_of(refund)))
        .col_expr(pr::Column::AmountCents, Expr::val(refund.amount))
        .col_expr(pr::Column::UpdatedAt, Expr::val(now))
        .filter(pr::Column::ProviderId.eq(refund.id.as_str()))
        .filter(pr::Column::RefundId.is_null())
        .exec(conn)
        .await?;
    let was_succeeded = before.is_some_and(|b| b.status == SUCCEEDED);
    Ok((kept(conn, &refund.id).await?, was_succeeded))
}

fn status_of(refund: &Refund) -> String {
    refund.status.chars().take(20).collect()
}

async fn kept(conn: &impl ConnectionTrait, provider_id: &str) -> Result<pr::Model> {
    pr::Entity::find()
        .filter(pr::Column::ProviderId.eq(provider_id))
        .one(conn)
        .await?
        .ok_or_else(|| Error::Internal(format!("provider refund {provider_id} is not kept")))
}

/// G-3: records a confirmed provider refund as M-2's refund, once: the kept row is claimed
/// (locked) while it has no refund, and marked with the refund in the same transaction.
/// `None` when it was recorded before.
async fn record_once(
    conn: &impl ConnectionTrait,
    kept: &pr::Model,
    now: DateTime<Utc>,
) -> Result<Option<Returned>> {
    if !claim(conn, kept.id, now).await? {
        return Ok(None);
    }
    let new = NewRefund {
        amount_cents: kept.amount_cents,
        reason: kept.reason.clone(),
        method: None,
        recorded_by: kept.recorded_by,
    };
    let returned = refunds::record(conn, kept.payment_id, &new, &kept.provider_id).await?;
    mark(conn, kept.id, returned.refund.id).await?;
    Ok(Some(returned))
}

/// True when the kept refund has no refund recorded yet; its row is locked until commit.
async fn claim(conn: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let res = pr::Entity::update_many()
        .col_expr(pr::Column::UpdatedAt, Expr::val(now))
        .filter(pr::Column::Id.eq(id))
        .filter(pr::Column::RefundId.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

async fn mark(conn: &impl ConnectionTrait, id: i64, refund_id: i64) -> Result<()> {
    let res = pr::Entity::update_many()
        .col_expr(pr::Column::RefundId, Expr::val(refund_id))
        .filter(pr::Column::Id.eq(id))
        .filter(pr::Column::RefundId.is_null())
        .exec(conn)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::conflict(format!(
            "provider refund {id} was recorded meanwhile"
        )));
    }
    Ok(())
}

/// The refund recorded for a provider refund, with its payment and invoice as they are now.
async fn recorded_before(conn: &impl ConnectionTrait, provider_id: &str) -> Result<Returned> {
    let refund_id = kept(conn, provider_id)
        .await?
        .refund_id
        .ok_or_else(|| Error::Internal(format!("provider refund {provider_id} is not recorded")))?;
    let refund = r::Entity::find_by_id(refund_id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("refund", refund_id))?;
    Ok(Returned {
        payment: payment_list::get(conn, Actor::Staff, refund.payment_id).await?,
        invoice: invoices::get(conn, Actor::Staff, refund.invoice_id).await?,
        refund,
    })
}

/// `charge.refunded`: a charge with its refunds.
#[derive(Debug, Deserialize)]
struct RefundedCharge {
    id: String,
    #[serde(default)]
    payment_intent: Option<String>,
    #[serde(default)]
    refunds: Option<RefundList>,
}

#[derive(Debug, Deserialize)]
struct RefundList {
    data: Vec<Refund>,
}

/// G-3: `charge.refunded`: each refund of the charge, as its own event would.
pub async fn charge_refunded(
    txn: &DatabaseTransaction,
    object: &Value,
    now: DateTime<Utc>,
) -> Result<String> {
    let charge: RefundedCharge = serde_json::from_value(object.clone())
        .map_err(|e| Error::invalid("data.object", format!("not a charge: {e}")))?;
    let listed = charge.refunds.map(|l| l.data).unwrap_or_default();
    if listed.is_empty() {
        return Ok(format!("{}: no refunds listed", charge.id));
    }
    let mut outcomes = Vec::with_capacity(listed.len());
    for mut refund in listed {
        refund.payment_intent = refund.payment_intent.or(charge.payment_intent.clone());
        outcomes.push(confirmed(txn, &refund, now).await?);
    }
    Ok(outcomes.join("; "))
}

/// G-3: `refund.created`, `refund.updated`, `charge.refund.updated`: one refund.
pub async fn refund_changed(
    txn: &DatabaseTransaction,
    object: &Value,
    now: DateTime<Utc>,
) -> Result<String> {
    let refund: Refund = serde_json::from_value(object.clone())
        .map_err(|e| Error::invalid("data.object", format!("not a refund: {e}")))?;
    confirmed(txn, &refund, now).await
}

/// A refund as the provider reports it: kept; recorded once when it has succeeded. One that
/// cannot be recorded (more than is left of the payment, say) changes nothing else and is
/// reported, as `payment.refund_unrecorded` the first time the provider confirms it (a refund
/// asked for here that the provider confirmed at once was reported in the answer to staff).
async fn confirmed(
    txn: &DatabaseTransaction,
    refund: &Refund,
    now: DateTime<Utc>,
) -> Result<String> {
    let Some(intent) = refund.payment_intent.as_deref() else {
        return Ok(format!("{}: no payment intent; ignored", refund.id));
    };
    let Some(payment_id) = payment_of(txn, intent).await? else {
        return Ok(format!(
            "{}: payment intent {intent} has no payment here; ignored",
            refund.id
        ));
    };
    let asking = Asking {
        payment_id,
        reason: AT_PROVIDER,
        recorded_by: None,
    };
    let (kept, reported_before) = keep(txn, refund, &asking, now).await?;
    if kept.status != SUCCEEDED {
        return Ok(format!(
            "{}: {}; nothing recorded yet",
            refund.id, kept.status
        ));
    }
    // A refund that cannot be recorded must leave none of its steps behind, while the event
    // itself is still marked handled.
    let attempt = txn.begin().await?;
    match record_once(&attempt, &kept, now).await {
        Ok(Some(returned)) => {
            attempt.commit().await?;
            Ok(format!(
                "{}: refund {} of payment {}",
                refund.id, returned.refund.id, payment_id
            ))
        }
        Ok(None) => {
            attempt.rollback().await?;
            Ok(format!("{}: already recorded", refund.id))
        }
        Err(e @ (Error::Conflict { .. } | Error::Validation(_))) => {
            attempt.rollback().await?;
            unrecorded(txn, &kept, &e, reported_before).await
        }
        Err(e) => Err(e),
    }
}

/// The payment an intent paid here.
async fn payment_of(conn: &impl ConnectionTrait, intent: &str) -> Result<Option<i64>> {
    Ok(pi::Entity::find()
        .filter(pi::Column::ProviderId.eq(intent))
        .one(conn)
        .await?
        .and_then(|i| i.payment_id))
}

/// A refund the provider made that cannot be recorded here: `payment.refund_unrecorded`, for
/// staff to correct by hand.
async fn unrecorded(
    conn: &impl ConnectionTrait,
    kept: &pr::Model,
    why: &Error,
    reported_before: bool,
) -> Result<String> {
    let outcome = format!(
        "{}: {} not recorded: {why}",
        kept.provider_id,
        money::format_cents(kept.amount_cents)
    );
    if reported_before {
        return Ok(outcome);
    }
    let paid = payment_list::get(conn, Actor::Staff, kept.payment_id).await?;
    let inv = invoices::get(conn, Actor::Staff, paid.payment.invoice_id)
        .await?
        .invoice;
    let event = Event::invoice(
        events::PAYMENT_REFUND_UNRECORDED,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({
            "payment_id": kept.payment_id,
            "provider_refund_id": kept.provider_id,
            "amount": money::format_cents(kept.amount_cents),
            "refunded_before": money::format_cents(paid.payment.refunded_cents),
            "why": why.to_string(),
        }),
    );
    events::emit(conn, vec![event]).await?;
    Ok(outcome)
}
