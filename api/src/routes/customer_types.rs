//! Customer types (CT-1..CT-7).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use service::customer_types::{self as svc, CustomerTypePatch, NewCustomerType};

use crate::auth::{Caller, Staff};
use crate::dto::reference::{
    CustomerTypeDto, CustomerTypeList, CustomerTypePatchDto, CustomerTypeQuery, NewCustomerTypeDto,
};
use crate::extract::{Body, IfMatch};
use crate::problem::ApiResult;
use crate::respond::{created, versioned};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// List customer types (members may read).
#[utoipa::path(tag = "customer-types", operation_id = "listCustomerTypes", params(CustomerTypeQuery),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = CustomerTypeList)))]
#[get("/customer-types")]
pub async fn list(
    _c: Caller,
    state: web::Data<AppState>,
    q: web::Query<CustomerTypeQuery>,
) -> ApiResult<HttpResponse> {
    let req = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.as_ref().map(|c| c.0.clone()),
    };
    let page = svc::list(&state.db.conn, &req, q.is_member, q.is_organization).await?;
    Ok(HttpResponse::Ok().json(CustomerTypeList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a customer type.
#[utoipa::path(tag = "customer-types", operation_id = "createCustomerType", request_body = NewCustomerTypeDto,
    security(("bearer" = ["staff"])), responses((status = 201, body = CustomerTypeDto)))]
#[post("/customer-types")]
pub async fn create(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<NewCustomerTypeDto>,
) -> ApiResult<HttpResponse> {
    let d = body.0;
    let t = svc::create(
        &state.db,
        NewCustomerType {
            code: d.code,
            name: d.name,
            is_member: d.is_member,
            is_organization: d.is_organization,
            primary_fee: d.primary_fee.map(Into::into),
            expires_to: d.expires_to,
            renews_as: d.renews_as,
            flow_down_type: d.flow_down_type,
        },
    )
    .await?;
    let v = t.version;
    Ok(created(
        format!("/api/v1/customer-types/{}", t.code),
        v,
        &CustomerTypeDto::from(t),
    ))
}

/// Get a customer type.
#[utoipa::path(tag = "customer-types", operation_id = "getCustomerType", params(("code" = String, Path)),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = CustomerTypeDto, headers(("ETag" = String)))))]
#[get("/customer-types/{code}")]
pub async fn get(
    _c: Caller,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let t = svc::get(&state.db.conn, &code).await?;
    let v = t.version;
    Ok(versioned(StatusCode::OK, v, &CustomerTypeDto::from(t)))
}

/// Change a customer type; the rules of CT-3..CT-6 are checked on the result.
#[utoipa::path(tag = "customer-types", operation_id = "updateCustomerType", request_body = CustomerTypePatchDto,
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = CustomerTypeDto)))]
#[patch("/customer-types/{code}")]
pub async fn update(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    if_match: IfMatch,
    body: Body<CustomerTypePatchDto>,
) -> ApiResult<HttpResponse> {
    let d = body.0;
    let t = svc::update(
        &state.db,
        &code,
        CustomerTypePatch {
            name: d.name,
            is_member: d.is_member,
            is_organization: d.is_organization,
            primary_fee: d.primary_fee.map(|p| p.map(Into::into)),
            expires_to: d.expires_to,
            renews_as: d.renews_as,
            flow_down_type: d.flow_down_type,
        },
        if_match.0,
    )
    .await?;
    let v = t.version;
    Ok(versioned(StatusCode::OK, v, &CustomerTypeDto::from(t)))
}

/// Delete a customer type no contact or type uses (CT-7: 409 with the counts).
#[utoipa::path(tag = "customer-types", operation_id = "deleteCustomerType",
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/customer-types/{code}")]
pub async fn delete(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    svc::delete(&state.db, &code, if_match.0).await?;
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
