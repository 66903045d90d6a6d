//! Paying online (G-1..G-3): the provider is Stripe, reached through its REST API at a
//! configured base URL (Stripe's own by default, or a Stripe-compatible server such as
//! localstripe). Unconfigured, the online operations answer `payments_not_configured` and
//! everything else works as before.

pub mod cards;
pub mod charges;
pub mod dunning;
pub mod events;
pub mod intents;
pub mod refunds;
pub mod settle;
pub mod signature;
mod stripe;

pub use stripe::{
    CardDetails, ChargeIntent, Charged, Intent, OffSession, PaymentMethod, Refund, SetupIntent,
    Stripe, StripeConfig,
};

use crate::error::{Error, Result};

/// The provider, when configured (G-1).
pub fn require(provider: Option<&Stripe>) -> Result<&Stripe> {
    provider.ok_or(Error::PaymentsNotConfigured)
}
