//! G-2: paying an invoice online. The server asks the provider for a payment intent for the
//! open balance, in the settings currency, with the invoice id in its metadata, and hands its
//! client secret to the front end. Asking again while the balance is unchanged returns the
//! same intent: the provider call carries an idempotency key made of the invoice and the amount,
//! and the intent is kept.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use entity::payment_intent as pi;

use crate::access::Actor;
use crate::billing::invoices::{self, OPEN};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{clock, money, settings};

use super::Stripe;

/// What the front end needs to confirm the payment with the provider.
#[derive(Debug, Clone)]
pub struct IntentView {
    pub provider_id: String,
    pub client_secret: String,
    pub amount_cents: i64,
    pub currency: String,
}

/// G-2: the intent paying `invoice_id`'s open balance (a member's own invoice, or any for
/// staff). Another member's invoice is "not found" whether or not a provider is configured.
pub async fn for_invoice(
    db: &Db,
    provider: Option<&Stripe>,
    actor: Actor,
    invoice_id: i64,
) -> Result<IntentView> {
    let view = invoices::get(&db.conn, actor, invoice_id).await?;
    let stripe = super::require(provider)?;
    let balance = view.balance();
    if view.invoice.status != OPEN || balance <= 0 {
        return Err(Error::conflict(format!(
            "invoice {invoice_id} is {} with a balance of {}; nothing to pay online",
            view.invoice.status,
            money::format_cents(balance)
        )));
    }
    let currency = settings::get(&db.conn).await?.currency;
    if let Some(kept) = kept(&db.conn, invoice_id, balance, &currency).await? {
        return Ok(kept);
    }
    let key = format!("ams-invoice-{invoice_id}-{balance}-{currency}");
    let intent = stripe
        .create_intent(balance, &currency, invoice_id, &key)
        .await?;
    keep(&db.conn, invoice_id, &intent, &currency).await?;
    Ok(IntentView {
        provider_id: intent.id,
        client_secret: intent.client_secret,
        amount_cents: balance,
        currency,
    })
}

/// The unpaid intent already made for this invoice, amount and currency.
async fn kept(
    conn: &impl ConnectionTrait,
    invoice_id: i64,
    amount: i64,
    currency: &str,
) -> Result<Option<IntentView>> {
    Ok(pi::Entity::find()
        .filter(pi::Column::InvoiceId.eq(invoice_id))
        .filter(pi::Column::AmountCents.eq(amount))
        .filter(pi::Column::Currency.eq(currency))
        .filter(pi::Column::PaymentId.is_null())
        // AutoPay's intents are confirmed by the server, never handed to a front end.
        .filter(pi::Column::ClientSecret.ne(""))
        .order_by_desc(pi::Column::Id)
        .one(conn)
        .await?
        .map(|m| IntentView {
            provider_id: m.provider_id,
            client_secret: m.client_secret,
            amount_cents: m.amount_cents,
            currency: m.currency,
        }))
}

/// Keeps the intent; two requests at once made the same one (one idempotency key): once.
async fn keep(
    conn: &impl ConnectionTrait,
    invoice_id: i64,
    intent: &super::Intent,
    currency: &str,
) -> Result<()> {
    let now = clock::now();
    pi::Entity::insert(pi::ActiveModel {
        invoice_id: Set(invoice_id),
        provider_id: Set(intent.id.clone()),
        amount_cents: Set(intent.amount),
        currency: Set(currency.to_owned()),
        client_secret: Set(intent.client_secret.clone()),
        payment_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(pi::Column::ProviderId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
