//! Billing cycles (B-1..B-13). Staff only (SEC-1: members never see cycles).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use service::billing_cycles as svc;

use crate::auth::Staff;
use crate::dto::ListQuery;
use crate::dto::billing::{CycleDto, CycleList, CyclePatchDto, NewCycleDto};
use crate::extract::{Body, IfMatch};
use crate::problem::ApiResult;
use crate::respond::{created, versioned};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// List billing cycles.
#[utoipa::path(tag = "billing", operation_id = "listBillingCycles", params(ListQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = CycleList)))]
#[get("/billing-cycles")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = svc::list(&state.db.conn, &q.page()).await?;
    Ok(HttpResponse::Ok().json(CycleList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a billing cycle. The response carries `warnings` for accepted but questionable
/// options.
#[utoipa::path(tag = "billing", operation_id = "createBillingCycle", request_body = NewCycleDto,
    security(("bearer" = ["staff"])),
    responses((status = 201, body = CycleDto, headers(("ETag" = String), ("Location" = String)))))]
#[post("/billing-cycles")]
pub async fn create(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<NewCycleDto>,
) -> ApiResult<HttpResponse> {
    let cycle = svc::create(&state.db, body.0.into()).await?;
    let dto = CycleDto::from(cycle);
    Ok(created(
        format!("/api/v1/billing-cycles/{}", dto.id),
        dto.version,
        &dto,
    ))
}

/// Get a billing cycle.
#[utoipa::path(tag = "billing", operation_id = "getBillingCycle", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = CycleDto, headers(("ETag" = String)))))]
#[get("/billing-cycles/{id}")]
pub async fn get(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let dto = CycleDto::from(svc::get(&state.db.conn, *id).await?);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Change a billing cycle; the whole cycle is validated again.
#[utoipa::path(tag = "billing", operation_id = "updateBillingCycle", request_body = CyclePatchDto,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = CycleDto, headers(("ETag" = String)))))]
#[patch("/billing-cycles/{id}")]
pub async fn update(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Body<CyclePatchDto>,
) -> ApiResult<HttpResponse> {
    let cycle = svc::update(&state.db, *id, body.0.into(), if_match.0).await?;
    let dto = CycleDto::from(cycle);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Delete a billing cycle.
#[utoipa::path(tag = "billing", operation_id = "deleteBillingCycle",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/billing-cycles/{id}")]
pub async fn delete(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    svc::delete(&state.db, *id, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(delete);
}
