//! Saved cards (G-4), AutoPay charges (G-5) and dunning (G-6). Unconfigured, the calls that
//! need the provider answer 503 `payments_not_configured` (G-1).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use service::online::{cards, charges, dunning};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Member, Staff};
use crate::dto::online::{
    AutopayDto, ChargeAttemptDto, ChargeAttemptList, DunningDto, PaymentMethodDto,
    PaymentMethodList, PaymentMethodPatchDto, RunChargesDto, RunChargesResultDto, SaveCardDto,
    SetupIntentDto,
};
use crate::extract::Body;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// Start saving a card (G-4): the provider's setup intent, whose client secret the front end
/// confirms with the provider's own card form. The card number never reaches this server.
#[utoipa::path(tag = "self-service", operation_id = "createMySetupIntent",
    security(("bearer" = ["member"])),
    responses((status = 200, body = SetupIntentDto),
        (status = 502, description = "The payment provider did not accept the request",
            content_type = "application/problem+json", body = Problem),
        (status = 503, description = "Online payments are not configured (`payments_not_configured`)",
            content_type = "application/problem+json", body = Problem)))]
#[post("/me/payment-methods/setup-intent")]
pub async fn setup_intent(me: Member, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let view = cards::setup_intent(&state.db, state.stripe.as_ref(), me.contact_id).await?;
    Ok(HttpResponse::Ok().json(SetupIntentDto::from(view)))
}

/// Keep the card of a confirmed setup intent (G-4); the provider's `setup_intent.succeeded`
/// event does the same. It becomes the default card, and an AutoPay charge that failed is
/// retried with it at once (G-6).
#[utoipa::path(tag = "self-service", operation_id = "saveMyPaymentMethod", request_body = SaveCardDto,
    security(("bearer" = ["member"])),
    responses((status = 201, body = PaymentMethodDto),
        (status = 409, description = "The setup intent is not confirmed yet",
            content_type = "application/problem+json", body = Problem),
        (status = 502, description = "The payment provider did not accept the request",
            content_type = "application/problem+json", body = Problem),
        (status = 503, description = "Online payments are not configured (`payments_not_configured`)",
            content_type = "application/problem+json", body = Problem)))]
#[post("/me/payment-methods")]
pub async fn save(
    me: Member,
    state: web::Data<AppState>,
    body: Body<SaveCardDto>,
) -> ApiResult<HttpResponse> {
    let stripe = state.stripe.as_ref();
    let saved = cards::save(&state.db, stripe, me.contact_id, &body.0.setup_intent_id).await?;
    if saved.retried > 0
        && let Some(stripe) = stripe
    {
        let today = service::clock::now().date_naive();
        charges::run_due(&state.db, stripe, today, Some(me.contact_id)).await?;
    }
    Ok(HttpResponse::Created().json(PaymentMethodDto::from(saved.method)))
}

/// My saved cards, the default first (G-4).
#[utoipa::path(tag = "self-service", operation_id = "listMyPaymentMethods",
    security(("bearer" = ["member"])), responses((status = 200, body = PaymentMethodList)))]
#[get("/me/payment-methods")]
pub async fn mine(me: Member, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    list(&state, me.contact_id).await
}

/// A contact's saved cards, the default first (G-4).
#[utoipa::path(tag = "payments", operation_id = "listContactPaymentMethods", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = PaymentMethodList)))]
#[get("/contacts/{id}/payment-methods")]
pub async fn of_contact(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    service::contacts::get(&state.db.conn, service::access::Actor::Staff, *id).await?;
    list(&state, *id).await
}

async fn list(state: &AppState, contact_id: i64) -> ApiResult<HttpResponse> {
    let items = cards::list(&state.db.conn, contact_id).await?;
    Ok(HttpResponse::Ok().json(PaymentMethodList {
        items: items.into_iter().map(PaymentMethodDto::from).collect(),
    }))
}

/// Make one of my saved cards the default: AutoPay charges it (G-4).
#[utoipa::path(tag = "self-service", operation_id = "updateMyPaymentMethod", params(("id" = i64, Path)),
    request_body = PaymentMethodPatchDto,
    security(("bearer" = ["member"])), responses((status = 200, body = PaymentMethodDto)))]
#[patch("/me/payment-methods/{id}")]
pub async fn make_default(
    me: Member,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<PaymentMethodPatchDto>,
) -> ApiResult<HttpResponse> {
    if !body.0.is_default {
        return Err(service::Error::invalid(
            "is_default",
            "choose the card to make the default instead",
        )
        .into());
    }
    let method = cards::make_default(&state.db, me.contact_id, *id).await?;
    Ok(HttpResponse::Ok().json(PaymentMethodDto::from(method)))
}

/// Remove one of my saved cards, at the provider too (G-4). The newest other card becomes the
/// default; removing the last turns AutoPay off.
#[utoipa::path(tag = "self-service", operation_id = "deleteMyPaymentMethod", params(("id" = i64, Path)),
    security(("bearer" = ["member"])),
    responses((status = 204, description = "Removed"),
        (status = 502, description = "The payment provider did not accept the request",
            content_type = "application/problem+json", body = Problem),
        (status = 503, description = "Online payments are not configured (`payments_not_configured`)",
            content_type = "application/problem+json", body = Problem)))]
#[delete("/me/payment-methods/{id}")]
pub async fn remove(
    me: Member,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    cards::remove(&state.db, state.stripe.as_ref(), me.contact_id, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Turn my AutoPay on or off (G-4). On needs a default saved card (409 without one).
#[utoipa::path(tag = "self-service", operation_id = "setMyAutopay", request_body = AutopayDto,
    security(("bearer" = ["member"])),
    responses((status = 200, body = AutopayDto),
        (status = 409, description = "No saved card to charge",
            content_type = "application/problem+json", body = Problem)))]
#[put("/me/autopay")]
pub async fn set_autopay(
    me: Member,
    state: web::Data<AppState>,
    body: Body<AutopayDto>,
) -> ApiResult<HttpResponse> {
    let autopay = cards::set_autopay(&state.db, me.contact_id, body.0.autopay).await?;
    Ok(HttpResponse::Ok().json(AutopayDto { autopay }))
}

/// The AutoPay charge attempts of an invoice, each with the provider's decline code (G-5, G-6).
#[utoipa::path(tag = "invoices", operation_id = "listInvoiceCharges", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = ChargeAttemptList)))]
#[get("/invoices/{id}/charges")]
pub async fn invoice_charges(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let items = charges::of_invoice(&state.db.conn, *id).await?;
    Ok(HttpResponse::Ok().json(ChargeAttemptList {
        items: items.into_iter().map(ChargeAttemptDto::from).collect(),
    }))
}

/// Charge what is due (G-5, G-6): instalment parts of AutoPay payers that came due, and every
/// scheduled charge and retry due by `as_of` (today by default). The server also does this on
/// its own every `AMS_AUTOPAY_POLL_SECS`; a charge another server is making is left to it.
#[utoipa::path(tag = "invoices", operation_id = "runDueCharges", request_body = RunChargesDto,
    security(("bearer" = ["staff"])),
    responses((status = 200, body = RunChargesResultDto),
        (status = 503, description = "Online payments are not configured (`payments_not_configured`)",
            content_type = "application/problem+json", body = Problem)))]
#[post("/autopay/charges/run")]
pub async fn run_charges(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<RunChargesDto>,
) -> ApiResult<HttpResponse> {
    let stripe = service::online::require(state.stripe.as_ref())?;
    let as_of = body
        .0
        .as_of
        .map_or_else(|| service::clock::now().date_naive(), Into::into);
    let summary = charges::run_due(&state.db, stripe, as_of, None).await?;
    Ok(HttpResponse::Ok().json(RunChargesResultDto::new(as_of, summary)))
}

/// The dunning schedule (G-6): days after the first charge was due on which a failed AutoPay
/// charge is retried.
#[utoipa::path(tag = "settings", operation_id = "getDunning",
    security(("bearer" = ["staff"])), responses((status = 200, body = DunningDto)))]
#[get("/settings/dunning")]
pub async fn get_dunning(_s: Staff, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let retry_days = dunning::retry_days(&state.db.conn).await?;
    Ok(HttpResponse::Ok().json(DunningDto { retry_days }))
}

/// Replace the dunning schedule (G-6): up to three retries, increasing, each 1 to 60 days.
#[utoipa::path(tag = "settings", operation_id = "putDunning", request_body = DunningDto,
    security(("bearer" = ["staff"])), responses((status = 200, body = DunningDto)))]
#[put("/settings/dunning")]
pub async fn put_dunning(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<DunningDto>,
) -> ApiResult<HttpResponse> {
    let retry_days = dunning::put(&state.db, body.0.retry_days).await?;
    Ok(HttpResponse::build(StatusCode::OK).json(DunningDto { retry_days }))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(setup_intent)
        .service(save)
        .service(mine)
        .service(of_contact)
        .service(make_default)
        .service(remove)
        .service(set_autopay)
        .service(invoice_charges)
        .service(run_charges)
        .service(get_dunning)
        .service(put_dunning);
}
