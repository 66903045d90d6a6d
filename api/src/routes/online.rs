//! Paying online: payment intents (G-2) and the provider's events (G-3). Unconfigured, these
//! answer 503 `payments_not_configured` (G-1).

use actix_web::{HttpRequest, HttpResponse, post, web};
use service::access::Actor;
use service::online::{self, events, intents};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Member, Staff};
use crate::dto::online::{PaymentIntentDto, ProviderEventAckDto};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

async fn intent(state: &AppState, actor: Actor, invoice_id: i64) -> ApiResult<HttpResponse> {
    let view = intents::for_invoice(&state.db, state.stripe.as_ref(), actor, invoice_id).await?;
    Ok(HttpResponse::Ok().json(PaymentIntentDto::from(view)))
}

/// Pay an invoice online (G-2): the provider's payment intent for its open balance, in the
/// settings currency. Asking again while the balance is unchanged returns the same intent.
#[utoipa::path(tag = "payments", operation_id = "createPaymentIntent", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])),
    responses((status = 200, body = PaymentIntentDto),
        (status = 502, description = "The payment provider did not accept the request",
            content_type = "application/problem+json", body = Problem),
        (status = 503, description = "Online payments are not configured (`payments_not_configured`)",
            content_type = "application/problem+json", body = Problem)))]
#[post("/invoices/{id}/payment-intent")]
pub async fn for_invoice(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    intent(&state, Actor::Staff, *id).await
}

/// Pay one of my invoices online (G-2); another contact's invoice is 404.
#[utoipa::path(tag = "self-service", operation_id = "createMyPaymentIntent", params(("id" = i64, Path)),
    security(("bearer" = ["member"])),
    responses((status = 200, body = PaymentIntentDto),
        (status = 502, description = "The payment provider did not accept the request",
            content_type = "application/problem+json", body = Problem),
        (status = 503, description = "Online payments are not configured (`payments_not_configured`)",
            content_type = "application/problem+json", body = Problem)))]
#[post("/me/invoices/{id}/payment-intent")]
pub async fn for_my_invoice(
    me: Member,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    intent(&state, me.caller.actor()?, *id).await
}

/// The provider's events (G-3), signed with `Stripe-Signature`; no token. A bad signature or
/// an event older than five minutes is 400 and changes nothing. Each event is handled once; a
/// succeeded payment intent records its payment as a manual payment would, or the payer's
/// credit when the invoice can no longer take it as asked. A succeeded refund of a payment made
/// online (`charge.refunded`, `refund.created`, `refund.updated`, `charge.refund.updated`;
/// asked for here or made at the provider) records its refund once (G-7); one that cannot be
/// recorded is reported as `payment.refund_unrecorded`. Other types are acknowledged.
#[utoipa::path(tag = "payments", operation_id = "receiveStripeEvent", security(()),
    request_body(content = Object, description = "A Stripe event", content_type = "application/json"),
    params(("Stripe-Signature" = String, Header, description = "`t=<unix time>,v1=<hex HMAC-SHA256>`")),
    responses((status = 200, body = ProviderEventAckDto),
        (status = 400, description = "Invalid signature, or an event older than the tolerance (`invalid_signature`)",
            content_type = "application/problem+json", body = Problem),
        (status = 503, description = "Online payments are not configured (`payments_not_configured`)",
            content_type = "application/problem+json", body = Problem)))]
#[post("/payment-provider/stripe/events")]
pub async fn provider_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let stripe = online::require(state.stripe.as_ref())?;
    let header = req
        .headers()
        .get("Stripe-Signature")
        .and_then(|v| v.to_str().ok());
    let outcome = events::receive(&state.db, stripe, header, &body).await?;
    Ok(HttpResponse::Ok().json(ProviderEventAckDto {
        received: true,
        outcome,
    }))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(for_invoice)
        .service(for_my_invoice)
        .service(provider_event);
}
