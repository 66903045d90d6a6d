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

/// A customer at the provider (G-4).
#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    pub id: String,
}

/// A setup intent: how a member saves a card with the provider (G-4).
#[derive(Debug, Clone, Deserialize)]
pub struct SetupIntent {
    pub id: String,
    pub client_secret: String,
    pub status: String,
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub payment_method: Option<String>,
}

/// A saved payment method; of a card, only what identifies it to its holder.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub card: Option<CardDetails>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CardDetails {
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
}

/// What an off-session charge came to (G-5): a decline is an answer, not an error.
#[derive(Debug, Clone)]
pub enum Charged {
    /// `succeeded`, or `processing` (the provider's event tells how it ends).
    Accepted(ChargeIntent),
    Declined {
        intent_id: Option<String>,
        /// The provider's decline code, else its error code.
        code: String,
        message: String,
    },
}

/// A payment intent made and confirmed by the server for a saved method.
#[derive(Debug, Clone, Deserialize)]
pub struct ChargeIntent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
}

/// A refund at the provider (G-7).
#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub status: String,
    #[serde(default)]
    pub payment_intent: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ProviderError,
}

#[derive(Debug, Deserialize)]
struct ProviderError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    payment_intent: Option<IntentRef>,
}

#[derive(Debug, Deserialize)]
struct IntentRef {
    id: String,
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

    /// G-4: the customer under which a contact's cards are saved.
    pub async fn create_customer(
        &self,
        contact_id: i64,
        email: Option<&str>,
        idempotency_key: &str,
    ) -> Result<Customer> {
        let mut form = vec![("metadata[contact_id]", contact_id.to_string())];
        if let Some(email) = email {
            form.push(("email", email.to_owned()));
        }
        self.post("/v1/customers", &form, idempotency_key).await
    }

    /// G-4: a setup intent saving a card for off-session charges under `customer`.
    pub async fn create_setup_intent(
        &self,
        customer: &str,
        contact_id: i64,
        idempotency_key: &str,
    ) -> Result<SetupIntent> {
        let form = [
            ("customer", customer.to_owned()),
            ("usage", "off_session".to_owned()),
            ("metadata[contact_id]", contact_id.to_string()),
        ];
        self.post("/v1/setup_intents", &form, idempotency_key).await
    }

    pub async fn setup_intent(&self, id: &str) -> Result<SetupIntent> {
        self.get(&format!("/v1/setup_intents/{}", path_id(id)?))
            .await
    }

    pub async fn payment_method(&self, id: &str) -> Result<PaymentMethod> {
        self.get(&format!("/v1/payment_methods/{}", path_id(id)?))
            .await
    }

    /// Attaches a saved method to the customer (a setup intent confirmed at Stripe already has).
    pub async fn attach_payment_method(
        &self,
        id: &str,
        customer: &str,
        idempotency_key: &str,
    ) -> Result<PaymentMethod> {
        let form = [("customer", customer.to_owned())];
        let path = format!("/v1/payment_methods/{}/attach", path_id(id)?);
        self.post(&path, &form, idempotency_key).await
    }

    pub async fn detach_payment_method(&self, id: &str, idempotency_key: &str) -> Result<()> {
        let path = format!("/v1/payment_methods/{}/detach", path_id(id)?);
        let _: PaymentMethod = self.post(&path, &[], idempotency_key).await?;
        Ok(())
    }

    /// G-5: charges a saved method off-session, confirmed at once. The idempotency key names
    /// the invoice and the attempt, so a repeated call never charges twice.
    pub async fn charge_saved(&self, charge: &OffSession<'_>) -> Result<Charged> {
        let form = [
            ("amount", charge.amount_cents.to_string()),
            ("currency", charge.currency.to_lowercase()),
            ("customer", charge.customer.to_owned()),
            ("payment_method", charge.payment_method.to_owned()),
            ("confirm", "true".to_owned()),
            ("off_session", "true".to_owned()),
            ("metadata[invoice_id]", charge.invoice_id.to_string()),
            ("metadata[attempt]", charge.attempt.to_string()),
        ];
        let res = self
            .send("/v1/payment_intents", &form, charge.idempotency_key)
            .await?;
        match res {
            (status, body) if status.is_success() => {
                Ok(Charged::Accepted(parse("/v1/payment_intents", &body)?))
            }
            (status, body) if status.as_u16() == 402 => {
                let err: ErrorBody = parse("/v1/payment_intents", &body)?;
                let e = err.error;
                Ok(Charged::Declined {
                    intent_id: e.payment_intent.map(|p| p.id),
                    code: e
                        .decline_code
                        .or(e.code)
                        .unwrap_or_else(|| "declined".into()),
                    message: e.message.unwrap_or_default(),
                })
            }
            (status, body) => Err(Error::Provider(format!(
                "/v1/payment_intents: {status}: {body}"
            ))),
        }
    }

    /// G-7: refunds `amount_cents` of a payment intent.
    pub async fn create_refund(
        &self,
        payment_intent: &str,
        amount_cents: i64,
        payment_id: i64,
        idempotency_key: &str,
    ) -> Result<Refund> {
        let form = [
            ("payment_intent", payment_intent.to_owned()),
            ("amount", amount_cents.to_string()),
            ("metadata[payment_id]", payment_id.to_string()),
        ];
        self.post("/v1/refunds", &form, idempotency_key).await
    }

    async fn get<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T> {
        let url = format!("{}{path}", self.config.api_base.trim_end_matches('/'));
        let res = self
            .client
            .get(&url)
            .basic_auth(&self.config.secret_key, Some(""))
            .send()
            .await
            .map_err(|e| Error::Provider(format!("{path}: {e}")))?;
        read(path, res).await
    }

    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<T> {
        let (status, body) = self.send(path, form, idempotency_key).await?;
        if !status.is_success() {
            return Err(Error::Provider(format!("{path}: {status}: {body}")));
        }
        parse(path, &body)
    }

    async fn send(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<(reqwest::StatusCode, String)> {
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
        Ok((status, body))
    }
}

/// An off-session charge of a saved method (G-5).
#[derive(Debug, Clone)]
pub struct OffSession<'a> {
    pub customer: &'a str,
    pub payment_method: &'a str,
    pub amount_cents: i64,
    pub currency: &'a str,
    pub invoice_id: i64,
    pub attempt: i32,
    pub idempotency_key: &'a str,
}

async fn read<T: for<'de> Deserialize<'de>>(path: &str, res: reqwest::Response) -> Result<T> {
    let status = res.status();
    let body = res
        .text()
        .await
        .map_err(|e| Error::Provider(format!("{path}: {e}")))?;
    // An id the provider does not know is the caller's mistake, not the provider's failure.
    if status == reqwest::StatusCode::NOT_FOUND {
        let id = path.rsplit('/').next().unwrap_or_default();
        return Err(Error::not_found("provider record", id));
    }
    if !status.is_success() {
        return Err(Error::Provider(format!("{path}: {status}: {body}")));
    }
    parse(path, &body)
}

fn parse<T: for<'de> Deserialize<'de>>(path: &str, body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| Error::Provider(format!("{path}: {e}")))
}

/// A provider id put in a path: letters, digits and `_` only.
fn path_id(id: &str) -> Result<&str> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(id)
    } else {
        Err(Error::invalid("id", "not a provider id"))
    }
}
