//! Paying online (G-2, G-3), saved cards (G-4), AutoPay charges and dunning (G-5, G-6).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::entity::{charge_attempt, saved_payment_method};
use utoipa::ToSchema;
use validator::Validate;

use service::online::cards::SetupView;
use service::online::charges::RunSummary;
use service::online::intents::IntentView;

use super::{Date, Money};

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

/// G-4: what a front end needs to collect a card with the provider's form (Stripe.js
/// `confirmCardSetup`); the card number goes to the provider, never to this server.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"provider": "stripe", "setup_intent_id": "seti_1N...", "client_secret": "seti_1N..._secret_...",
    "customer_id": "cus_P..."}))]
pub struct SetupIntentDto {
    /// Always `stripe`.
    pub provider: String,
    pub setup_intent_id: String,
    pub client_secret: String,
    pub customer_id: String,
}

impl From<SetupView> for SetupIntentDto {
    fn from(v: SetupView) -> Self {
        SetupIntentDto {
            provider: "stripe".into(),
            setup_intent_id: v.setup_intent_id,
            client_secret: v.client_secret,
            customer_id: v.customer_id,
        }
    }
}

/// G-4: keep the card of a setup intent the provider confirmed.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"setup_intent_id": "seti_1N..."}))]
pub struct SaveCardDto {
    #[validate(length(min = 1, max = 255))]
    pub setup_intent_id: String,
}

/// G-4: a saved card: the provider's id and what its holder recognizes it by.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 3, "provider_id": "pm_1N...", "brand": "visa", "last4": "4242",
    "exp_month": 12, "exp_year": 2031, "is_default": true, "created_at": "2026-12-07T10:00:00Z"}))]
pub struct PaymentMethodDto {
    pub id: i64,
    pub provider_id: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
    /// AutoPay charges the default card.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

impl From<saved_payment_method::Model> for PaymentMethodDto {
    fn from(m: saved_payment_method::Model) -> Self {
        PaymentMethodDto {
            id: m.id,
            provider_id: m.provider_id,
            brand: m.brand,
            last4: m.last4,
            exp_month: m.exp_month,
            exp_year: m.exp_year,
            is_default: m.is_default,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodList {
    pub items: Vec<PaymentMethodDto>,
}

/// Make a saved card the default.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"is_default": true}))]
pub struct PaymentMethodPatchDto {
    /// Only `true`: another card becomes the default by choosing it.
    pub is_default: bool,
}

/// G-4: AutoPay on (with a default saved card) or off.
#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"autopay": true}))]
pub struct AutopayDto {
    pub autopay: bool,
}

/// G-5, G-6: one AutoPay charge attempt.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 9, "invoice_id": 41, "part": 0, "attempt": 2, "payer_id": 17,
    "due_on": "2027-01-04", "status": "failed", "amount": "375.00", "payment_method": "pm_1N...",
    "provider_intent_id": "pi_3N...", "decline_code": "insufficient_funds",
    "message": "Your card has insufficient funds.", "payment_id": null,
    "attempted_at": "2027-01-04T06:00:00Z"}))]
pub struct ChargeAttemptDto {
    pub id: i64,
    pub invoice_id: i64,
    /// The instalment part it charges up to (S-11); 0 for the whole invoice.
    pub part: i32,
    /// 1 for the first charge, then each retry (at most 4).
    pub attempt: i32,
    pub payer_id: i64,
    pub due_on: NaiveDate,
    /// `scheduled`, `processing`, `pending` (the provider is processing it), `succeeded`,
    /// `failed`, `not_needed` (nothing was owed when its day came).
    pub status: String,
    pub amount: Option<Money>,
    pub payment_method: Option<String>,
    pub provider_intent_id: Option<String>,
    /// The provider's decline code (e.g. `insufficient_funds`, `card_declined`), or
    /// `no_payment_method` when the payer had no saved card.
    pub decline_code: Option<String>,
    pub message: Option<String>,
    pub payment_id: Option<i64>,
    pub attempted_at: Option<DateTime<Utc>>,
}

impl From<charge_attempt::Model> for ChargeAttemptDto {
    fn from(a: charge_attempt::Model) -> Self {
        ChargeAttemptDto {
            id: a.id,
            invoice_id: a.invoice_id,
            part: a.part,
            attempt: a.attempt,
            payer_id: a.payer_id,
            due_on: a.due_on,
            status: a.status,
            amount: a.amount_cents.map(Money),
            payment_method: a.payment_method,
            provider_intent_id: a.provider_intent_id,
            decline_code: a.decline_code,
            message: a.message,
            payment_id: a.payment_id,
            attempted_at: a.attempted_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeAttemptList {
    pub items: Vec<ChargeAttemptDto>,
}

/// G-6: the days after the first charge was due on which a failed charge is retried.
#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"retry_days": [3, 5, 7]}))]
pub struct DunningDto {
    /// Up to 3 days, increasing, each 1 to 60: at most 4 attempts in all.
    pub retry_days: Vec<u32>,
}

/// Charge what is due (G-5, G-6) as of a day, today by default.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"as_of": "2027-01-04"}))]
pub struct RunChargesDto {
    pub as_of: Option<Date>,
}

/// What a run of due charges did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunChargesResultDto {
    pub as_of: NaiveDate,
    /// Instalment parts that came due and were scheduled.
    pub scheduled_parts: u64,
    pub attempted: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Accepted by the provider, still processing.
    pub pending: u64,
    pub not_needed: u64,
    /// The provider could not be reached: left for the next run.
    pub deferred: u64,
}

impl RunChargesResultDto {
    pub fn new(as_of: NaiveDate, s: RunSummary) -> Self {
        RunChargesResultDto {
            as_of,
            scheduled_parts: s.scheduled_parts,
            attempted: s.attempted,
            succeeded: s.succeeded,
            failed: s.failed,
            pending: s.pending,
            not_needed: s.not_needed,
            deferred: s.deferred,
        }
    }
}
