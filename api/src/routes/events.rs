//! Events for integrators: the outbox feed and webhook endpoints. Staff only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use service::{events as svc, webhooks};

use crate::auth::Staff;
use crate::dto::ListQuery;
use crate::dto::events::{
    DeliveryDto, DeliveryList, DeliveryQuery, EventDto, EventFeed, EventQuery, WebhookDto,
    WebhookInputDto, WebhookList, WebhookSecretDto,
};
use crate::extract::{Body, IfMatch};
use crate::problem::ApiResult;
use crate::respond::{created, versioned};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Business events, oldest first, after `cursor`. Every change that matters to an integrator
/// is written here in the same transaction as the change, so an event exists exactly when its
/// change does. Poll with the `next_cursor` of the previous answer (always set); `has_more`
/// says to poll again at once. Filter with `type`.
#[utoipa::path(tag = "events", operation_id = "listEvents", params(EventQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = EventFeed)))]
#[get("/events")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<EventQuery>,
) -> ApiResult<HttpResponse> {
    let feed = svc::feed(&state.db.conn, &q.types(), &q.page()).await?;
    Ok(HttpResponse::Ok().json(EventFeed {
        items: feed.items.into_iter().map(EventDto::from).collect(),
        next_cursor: feed.next_cursor,
        has_more: feed.has_more,
    }))
}

/// One event.
#[utoipa::path(tag = "events", operation_id = "getEvent", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = EventDto)))]
#[get("/events/{id}")]
pub async fn get(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(EventDto::from(svc::get(&state.db.conn, *id).await?)))
}

/// Register a webhook endpoint. It receives the events that happen from now on, each POSTed
/// as the event object with Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`, signed with the returned `secret`, which only this answer carries). A
/// 2xx answer is a success; other answers and timeouts are retried after 5 s, 5 min, 30 min,
/// 2 h, 5 h, 10 h and 10 h. The URL must be a public address (loopback, private and link-local
/// addresses are refused unless the server allows private networks), without credentials, and
/// not this server.
#[utoipa::path(tag = "events", operation_id = "createWebhook", request_body = WebhookInputDto,
    security(("bearer" = ["staff"])), responses((status = 201, body = WebhookDto, headers(("ETag" = String), ("Location" = String)))))]
#[post("/webhooks")]
pub async fn create_webhook(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<WebhookInputDto>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let policy = state.outbound_policy(&req);
    let dto = WebhookDto::with_secret(webhooks::create(&state.db, body.0.into(), &policy).await?);
    Ok(created(
        format!("/api/v1/webhooks/{}", dto.id),
        dto.version,
        &dto,
    ))
}

/// Webhook endpoints, oldest first.
#[utoipa::path(tag = "events", operation_id = "listWebhooks", params(ListQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = WebhookList)))]
#[get("/webhooks")]
pub async fn list_webhooks(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = webhooks::list(&state.db.conn, &q.page()).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A webhook endpoint (its signing secret is shown only at creation and by `revealWebhookSecret`).
#[utoipa::path(tag = "events", operation_id = "getWebhook", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = WebhookDto, headers(("ETag" = String)))))]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let dto = WebhookDto::from(webhooks::get(&state.db.conn, *id).await?);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Change an endpoint's URL, description, event types or `enabled`. Honours `If-Match`.
#[utoipa::path(tag = "events", operation_id = "updateWebhook", request_body = WebhookInputDto,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = WebhookDto, headers(("ETag" = String)))))]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Body<WebhookInputDto>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let policy = state.outbound_policy(&req);
    let endpoint = webhooks::update(&state.db, *id, body.0.into(), if_match.0, &policy).await?;
    let dto = WebhookDto::from(endpoint);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Show an endpoint's signing secret again (the request is recorded in the audit trail).
#[utoipa::path(tag = "events", operation_id = "revealWebhookSecret", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = WebhookSecretDto)))]
#[post("/webhooks/{id}/reveal-secret")]
pub async fn reveal_secret(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let secret = webhooks::reveal_secret(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(WebhookSecretDto { secret }))
}

/// Delete an endpoint and its delivery log. Honours `If-Match`.
#[utoipa::path(tag = "events", operation_id = "deleteWebhook",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    webhooks::delete(&state.db, *id, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The delivery log of an endpoint, newest first: each delivery's status and every attempt
/// with the receiver's status code or the error.
#[utoipa::path(tag = "events", operation_id = "listWebhookDeliveries",
    params(("id" = i64, Path), DeliveryQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = DeliveryList)))]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<DeliveryQuery>,
) -> ApiResult<HttpResponse> {
    let page = webhooks::deliveries(&state.db.conn, *id, q.status.as_deref(), &q.page()).await?;
    Ok(HttpResponse::Ok().json(DeliveryList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Send a delivery again (a failed one, or a succeeded one the receiver lost), with a fresh
/// retry schedule.
#[utoipa::path(tag = "events", operation_id = "redeliverWebhook",
    params(("id" = i64, Path), ("delivery_id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = DeliveryDto)))]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    _s: Staff,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, delivery_id) = path.into_inner();
    let view = webhooks::redeliver(&state.db, id, delivery_id).await?;
    Ok(HttpResponse::Ok().json(DeliveryDto::from(view)))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get)
        .service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(deliveries)
        .service(redeliver)
        .service(reveal_secret);
}
