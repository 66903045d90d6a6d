//! Billing products (P-1, P-2). Codes with `/` are percent-encoded in paths.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use service::products::{self as svc, NewProduct, ProductPatch};

use crate::auth::{Caller, Staff};
use crate::dto::reference::{
    NewProductDto, ProductDto, ProductList, ProductPatchDto, ProductQuery,
};
use crate::extract::{Body, IfMatch};
use crate::problem::ApiResult;
use crate::respond::{created, path_segment, versioned};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// List products (members may read).
#[utoipa::path(tag = "products", operation_id = "listProducts", params(ProductQuery),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = ProductList)))]
#[get("/products")]
pub async fn list(
    _c: Caller,
    state: web::Data<AppState>,
    q: web::Query<ProductQuery>,
) -> ApiResult<HttpResponse> {
    let req = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.as_ref().map(|c| c.0.clone()),
    };
    let page = svc::list(
        &state.db.conn,
        &req,
        q.product_type.map(Into::into),
        q.active,
    )
    .await?;
    Ok(HttpResponse::Ok().json(ProductList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a product.
#[utoipa::path(tag = "products", operation_id = "createProduct", request_body = NewProductDto,
    security(("bearer" = ["staff"])), responses((status = 201, body = ProductDto)))]
#[post("/products")]
pub async fn create(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<NewProductDto>,
) -> ApiResult<HttpResponse> {
    let d = body.0;
    let p = svc::create(
        &state.db,
        NewProduct {
            code: d.code,
            name: d.name,
            product_type: d.product_type.into(),
            price_cents: d.price.0,
            term_months: d.term_months,
            active: d.active,
        },
    )
    .await?;
    let v = p.version;
    Ok(created(
        format!("/api/v1/products/{}", path_segment(&p.code)),
        v,
        &ProductDto::from(p),
    ))
}

/// Get a product; `CHAPT/EAST` is requested as `CHAPT%2FEAST`.
#[utoipa::path(tag = "products", operation_id = "getProduct", params(("code" = String, Path, description = "Product code, percent-encoded")),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = ProductDto, headers(("ETag" = String)))))]
#[get("/products/{code}")]
pub async fn get(
    _c: Caller,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let p = svc::get(&state.db.conn, &code).await?;
    let v = p.version;
    Ok(versioned(StatusCode::OK, v, &ProductDto::from(p)))
}

/// Change a product.
#[utoipa::path(tag = "products", operation_id = "updateProduct", request_body = ProductPatchDto,
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = ProductDto)))]
#[patch("/products/{code}")]
pub async fn update(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    if_match: IfMatch,
    body: Body<ProductPatchDto>,
) -> ApiResult<HttpResponse> {
    let d = body.0;
    let p = svc::update(
        &state.db,
        &code,
        ProductPatch {
            name: d.name,
            product_type: d.product_type.map(Into::into),
            price_cents: d.price.map(|m| m.0),
            term_months: d.term_months,
            active: d.active,
        },
        if_match.0,
    )
    .await?;
    let v = p.version;
    Ok(versioned(StatusCode::OK, v, &ProductDto::from(p)))
}

/// Delete an unused product (409 when in use).
#[utoipa::path(tag = "products", operation_id = "deleteProduct",
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/products/{code}")]
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
