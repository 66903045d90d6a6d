//! Stripe's REST API, the calls this server makes: form-encoded requests authenticated by the
//! secret key, each with an `Idempotency-Key` so that a retried request never acts twice.

use serde::Deserialize;

use crate::error::{Error, Result};

/// G-1: how to reach the provider.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// `https://api.stripe.com` unless a compatible server is named.
    pub api_base: String,
    pub secret_key: String,
    /// Verifies the provider's event signatures (G-3).
    pub webhook_secret: String,
}

#[derive(Debug, Clone)]
pub struct Stripe {
    pub config: StripeConfig,
    client: reqwest::Client,
}

/// A payment intent as the provider reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Intent {
    pub id: String,
    pub client_secret: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
}

impl Stripe {
    pub fn new(config: StripeConfig) -> Self {
        let client = crate::http::client_builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap_or_default();
        Stripe { config, client }
    }

    /// G-2: a payment intent for `amount_cents` in `currency`, the invoice in its metadata.
    pub async fn create_intent(
        &self,
        amount_cents: i64,
        currency: &str,
        invoice_id: i64,
        idempotency_key: &str,
    ) -> Result<Intent> {
        let form = [
            ("amount", amount_cents.to_string()),
            ("currency", currency.to_lowercase()),
            ("metadata[invoice_id]", invoice_id.to_string()),
        ];
        self.post("/v1/payment_intents", &form, idempotency_key)
            .await
    }

    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<T> {
        let url = format!("{}{path}", self.config.api_base.trim_end_matches('/'));
        let res = self
            .client
            .post(&url)
            .basic_auth(&self.config.secret_key, Some(""))
            .header("Idempotency-Key", idempotency_key)
            .form(form)
            .send()
            .await
            .map_err(|e| Error::Provider(format!("{path}: {e}")))?;
        let status = res.status();
        let body = res
            .text()
            .await
            .map_err(|e| Error::Provider(format!("{path}: {e}")))?;
        if !status.is_success() {
            return Err(Error::Provider(format!("{path}: {status}: {body}")));
        }
        serde_json::from_str(&body).map_err(|e| Error::Provider(format!("{path}: {e}")))
    }
}
