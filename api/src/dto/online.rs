//! Paying online (G-2, G-3).

use serde::Serialize;
use utoipa::ToSchema;

use service::online::intents::IntentView;

use super::Money;

/// G-2: what a front end needs to confirm the payment with the provider (Stripe.js).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"provider": "stripe", "payment_intent_id": "pi_3N...", "client_secret": "pi_3N..._secret_...",
    "amount": "375.00", "currency": "USD"}))]
pub struct PaymentIntentDto {
    /// Always `stripe`.
    pub provider: String,
    pub payment_intent_id: String,
    pub client_secret: String,
    /// The open balance it pays.
    pub amount: Money,
    pub currency: String,
}

impl From<IntentView> for PaymentIntentDto {
    fn from(v: IntentView) -> Self {
        PaymentIntentDto {
            provider: "stripe".into(),
            payment_intent_id: v.provider_id,
            client_secret: v.client_secret,
            amount: Money(v.amount_cents),
            currency: v.currency,
        }
    }
}

/// G-3: the event was received (and, if it was new, handled).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderEventAckDto {
    pub received: bool,
    /// What handling it did, e.g. `pi_...: payment 12 on invoice 7`, or `already handled`.
    pub outcome: String,
}
