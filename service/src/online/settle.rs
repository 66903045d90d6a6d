//! G-3, G-5: money the provider took for an intent made here is recorded once, whichever way
//! the news arrives (the provider's event, or the answer to an AutoPay charge): as a payment
//! with every effect of a manual one (I-3), or as the payer's credit (M-5) when the invoice can
//! no longer take it as asked (no longer open, or an amount or currency not the intent's).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use entity::payment_intent as pi;

use crate::access::Actor;
use crate::billing::credit::{self, About};
use crate::billing::invoices::{self, OPEN};
use crate::billing::payments::{self, NewPayment};
use crate::error::Result;
use crate::events::{self, Event};
use crate::{money, settings};

/// Credit from online money that could not pay its invoice as asked.
pub const UNAPPLIED: &str = "unapplied";

/// What the provider says it received for an intent.
#[derive(Debug, Clone)]
pub struct Received {
    pub provider_id: String,
    pub amount_cents: i64,
    pub currency: String,
}

/// What recording the money did.
#[derive(Debug, Clone)]
pub struct Settled {
    /// For the provider's log and the tests.
    pub outcome: String,
    /// Recorded now (not before), as a payment or as credit.
    pub recorded: bool,
    pub payment_id: Option<i64>,
}

/// Records `received` once.
pub async fn received(
    conn: &impl ConnectionTrait,
    received: &Received,
    now: DateTime<Utc>,
) -> Result<Settled> {
    let Some(kept) = claim(conn, &received.provider_id, now).await? else {
        return Ok(Settled {
            outcome: format!("{}: unknown or already recorded", received.provider_id),
            recorded: false,
            payment_id: None,
        });
    };
    let view = invoices::get(conn, Actor::Staff, kept.invoice_id).await?;
    let currency = settings::get(conn).await?.currency;
    let as_asked = received.amount_cents == kept.amount_cents
        && received.currency.eq_ignore_ascii_case(&kept.currency)
        && kept.currency == currency;
    if !as_asked || view.invoice.status != OPEN || received.amount_cents > view.balance() {
        let outcome = unapplied(conn, &view, received, now).await?;
        return Ok(Settled {
            outcome,
            recorded: true,
            payment_id: None,
        });
    }
    let new = NewPayment {
        amount_cents: received.amount_cents,
        paid_on: now.date_naive(),
        method: "card".into(),
        reference: Some(received.provider_id.clone()),
        recorded_by: None,
    };
    let paid = payments::record(conn, kept.invoice_id, new).await?;
    pi::Entity::update_many()
        .col_expr(pi::Column::PaymentId, Expr::val(paid.payment.id))
        .filter(pi::Column::Id.eq(kept.id))
        .exec(conn)
        .await?;
    Ok(Settled {
        outcome: format!(
            "{}: payment {} on invoice {}",
            received.provider_id, paid.payment.id, kept.invoice_id
        ),
        recorded: true,
        payment_id: Some(paid.payment.id),
    })
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
    received: &Received,
    now: DateTime<Utc>,
) -> Result<String> {
    let inv = &view.invoice;
    let about = About {
        invoice_id: Some(inv.id),
        ..Default::default()
    };
    let amount = received.amount_cents;
    credit::add(conn, inv.bill_to_id, amount, UNAPPLIED, about, now).await?;
    let event = Event::invoice(
        events::PAYMENT_UNAPPLIED,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({
            "provider_id": received.provider_id,
            "amount": money::format_cents(amount),
            "currency": received.currency,
            "invoice_status": inv.status,
            "credited_to": inv.bill_to_id,
        }),
    );
    events::emit(conn, vec![event]).await?;
    Ok(format!(
        "{}: {} credited to contact {} (invoice {} is {})",
        received.provider_id,
        money::format_cents(amount),
        inv.bill_to_id,
        inv.id,
        inv.status
    ))
}
