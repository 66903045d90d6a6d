//! Billing products (P-1, P-2). Codes with `/` are percent-encoded in paths.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use service::db::{Connection as DatabaseConnection, Transaction as DatabaseTransaction};
use service::products::{self as svc, NewProduct, ProductPatch};

use crate::auth::{Caller, Staff};
use crate::csv_export;
use crate::dto::reference::{
    NewProductDto, ProductDto, ProductList, ProductPatchDto, ProductQuery,
};
use crate::dto::subscriptions::{ImportQuery, ImportReportDto, ImportRequestDto, XlsxUpload};
use crate::extract::{Body, IfMatch, Upload};
use crate::problem::ApiResult;
use crate::reference_import::{self, Collection};
use crate::respond::{created, path_segment, versioned};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

fn new_product(d: NewProductDto) -> NewProduct {
    NewProduct {
        code: d.code,
        name: d.name,
        product_type: d.product_type.into(),
        price_cents: d.price.0,
        term_months: d.term_months,
        active: d.active,
    }
}

fn product_patch(d: ProductPatchDto) -> ProductPatch {
    ProductPatch {
        name: d.name,
        product_type: d.product_type.map(Into::into),
        price_cents: d.price.map(|m| m.0),
        term_months: d.term_months,
        active: d.active,
    }
}

/// Products as reference data that exports and imports back (MG-4).
pub struct Products;

impl Collection for Products {
    const NAME: &'static str = "products";
    const KEY: &'static str = "code";
    const NEW: &'static str = "NewProductDto";
    const PATCH: &'static str = "ProductPatchDto";
    type New = NewProductDto;
    type Patch = ProductPatchDto;
    type Item = ProductDto;

    async fn all(conn: &DatabaseConnection) -> service::Result<Vec<ProductDto>> {
        let all =
            reference_import::all_pages(
                |req| async move { svc::list(conn, &req, None, None).await },
            )
            .await?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    async fn create(txn: &DatabaseTransaction, d: NewProductDto) -> service::Result<Option<i64>> {
        svc::create_in(txn, new_product(d)).await?;
        Ok(None)
    }

    async fn update(
        txn: &DatabaseTransaction,
        code: &str,
        d: ProductPatchDto,
    ) -> service::Result<()> {
        svc::update_in(txn, code, product_patch(d), None).await?;
        Ok(())
    }
}

/// List products (members may read), or as staff export them as CSV with
/// `Accept: text/csv` (the file imports back through `/products/import`).
#[utoipa::path(tag = "products", operation_id = "listProducts", params(ProductQuery),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = ProductList)))]
#[get("/products")]
pub async fn list(
    _c: Caller,
    state: web::Data<AppState>,
    q: web::Query<ProductQuery>,
    http: HttpRequest,
) -> ApiResult<HttpResponse> {
    let req = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.as_ref().map(|c| c.0.clone()),
    };
    if csv_export::wanted(&http) {
        let (product_type, active) = (q.product_type.map(Into::into), q.active);
        return csv_export::pages("products", req, move |page| {
            let state = state.clone();
            async move {
                let p = svc::list(&state.db.conn, &page, product_type, active).await?;
                Ok(p.map(ProductDto::from))
            }
        })
        .await;
    }
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
    let p = svc::create(&state.db, new_product(body.0)).await?;
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
    let p = svc::update(&state.db, &code, product_patch(body.0), if_match.0).await?;
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

/// Import products (MG-4) from their CSV export (or JSON rows, or an XLSX workbook) with
/// `action=insert|update|upsert`: a row as exported is `unchanged`; an edited row is checked
/// and written like `PATCH /products/{code}`, a new one like `POST /products`.
#[utoipa::path(tag = "products", operation_id = "importProducts", params(ImportQuery),
    request_body(content(
        (ImportRequestDto = "application/json"),
        (String = "text/csv"),
        (XlsxUpload = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )),
    security(("bearer" = ["staff"])), responses((status = 200, body = ImportReportDto)))]
#[post("/products/import")]
pub async fn import_rows(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ImportQuery>,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    reference_import::run::<Products>(&state, &q, upload).await
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(import_rows)
        .service(get)
        .service(update)
        .service(delete);
}
