//! Billing categories (BC-1, BC-2) and contact statuses (CS-1..CS-3): code-and-name lists
//! sharing one implementation.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use service::lookup::LookupTable;

use crate::auth::{Caller, Staff};
use crate::csv_export;
use crate::dto::CodeListQuery;
use crate::dto::reference::{LookupDto, LookupList, LookupPatch, NewLookup};
use crate::dto::subscriptions::{ImportQuery, ImportReportDto, ImportRequestDto, XlsxUpload};
use crate::extract::{Body, IfMatch, Upload};
use crate::problem::ApiResult;
use crate::reference_import::{self, Collection};
use crate::respond::{created, versioned};
use crate::state::AppState;
use service::db::{Connection as DatabaseConnection, Transaction as DatabaseTransaction};
use utoipa_actix_web::service_config::ServiceConfig;

const CATEGORIES: &LookupTable = &service::billing_categories::TABLE;
const STATUSES: &LookupTable = &service::contact_statuses::TABLE;

/// Billing categories as reference data that exports and imports back (MG-4).
pub struct Categories;

impl Collection for Categories {
    const NAME: &'static str = "billing categories";
    const KEY: &'static str = "code";
    const NEW: &'static str = "NewLookup";
    const PATCH: &'static str = "LookupPatch";
    type New = NewLookup;
    type Patch = LookupPatch;
    type Item = LookupDto;

    async fn all(conn: &DatabaseConnection) -> service::Result<Vec<LookupDto>> {
        let all =
            reference_import::all_pages(|req| async move { CATEGORIES.list(conn, &req).await })
                .await?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    async fn create(txn: &DatabaseTransaction, d: NewLookup) -> service::Result<Option<i64>> {
        CATEGORIES.create_in(txn, &d.code, &d.name).await?;
        Ok(None)
    }

    async fn update(txn: &DatabaseTransaction, code: &str, d: LookupPatch) -> service::Result<()> {
        CATEGORIES.rename_in(txn, code, &d.name, None).await?;
        Ok(())
    }
}

/// A page of a code list, or with `Accept: text/csv` every row of it.
async fn list_of(
    table: &'static LookupTable,
    state: web::Data<AppState>,
    q: &CodeListQuery,
    http: &HttpRequest,
) -> ApiResult<HttpResponse> {
    if csv_export::wanted(http) {
        return csv_export::pages(table.table, q.page(), move |page| {
            let state = state.clone();
            async move {
                let p = table.list(&state.db.conn, &page).await?;
                Ok(p.map(LookupDto::from))
            }
        })
        .await;
    }
    let page = table.list(&state.db.conn, &q.page()).await?;
    Ok(HttpResponse::Ok().json(LookupList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

async fn get_of(table: &LookupTable, state: &AppState, code: &str) -> ApiResult<HttpResponse> {
    let row = table.get(&state.db.conn, code).await?;
    let v = row.version;
    Ok(versioned(StatusCode::OK, v, &LookupDto::from(row)))
}

async fn create_of(
    table: &LookupTable,
    state: &AppState,
    base: &str,
    body: NewLookup,
) -> ApiResult<HttpResponse> {
    let row = table.create(&state.db, &body.code, &body.name).await?;
    let v = row.version;
    Ok(created(
        format!("/api/v1/{base}/{}", row.code),
        v,
        &LookupDto::from(row),
    ))
}

async fn update_of(
    table: &LookupTable,
    state: &AppState,
    code: &str,
    if_match: IfMatch,
    body: LookupPatch,
) -> ApiResult<HttpResponse> {
    let row = table
        .rename(&state.db, code, &body.name, if_match.0)
        .await?;
    let v = row.version;
    Ok(versioned(StatusCode::OK, v, &LookupDto::from(row)))
}

async fn delete_of(
    table: &LookupTable,
    state: &AppState,
    code: &str,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    table.delete(&state.db, code, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List billing categories (BC-1), or export them as CSV with `Accept: text/csv` (the file
/// imports back through `/billing-categories/import`).
#[utoipa::path(tag = "billing-categories", operation_id = "listBillingCategories", params(CodeListQuery),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = LookupList)))]
#[get("/billing-categories")]
pub async fn list_categories(
    _c: Caller,
    state: web::Data<AppState>,
    q: web::Query<CodeListQuery>,
    http: HttpRequest,
) -> ApiResult<HttpResponse> {
    list_of(CATEGORIES, state, &q, &http).await
}

/// Create a billing category (BC-1).
#[utoipa::path(tag = "billing-categories", operation_id = "createBillingCategory", request_body = NewLookup,
    security(("bearer" = ["staff"])), responses((status = 201, body = LookupDto)))]
#[post("/billing-categories")]
pub async fn create_category(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<NewLookup>,
) -> ApiResult<HttpResponse> {
    create_of(CATEGORIES, &state, "billing-categories", body.0).await
}

/// Get a billing category.
#[utoipa::path(tag = "billing-categories", operation_id = "getBillingCategory", params(("code" = String, Path)),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = LookupDto, headers(("ETag" = String)))))]
#[get("/billing-categories/{code}")]
pub async fn get_category(
    _c: Caller,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    get_of(CATEGORIES, &state, &code).await
}

/// Rename a billing category.
#[utoipa::path(tag = "billing-categories", operation_id = "updateBillingCategory", request_body = LookupPatch,
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = LookupDto)))]
#[patch("/billing-categories/{code}")]
pub async fn update_category(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    if_match: IfMatch,
    body: Body<LookupPatch>,
) -> ApiResult<HttpResponse> {
    update_of(CATEGORIES, &state, &code, if_match, body.0).await
}

/// Delete an unused billing category (409 when in use).
#[utoipa::path(tag = "billing-categories", operation_id = "deleteBillingCategory",
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/billing-categories/{code}")]
pub async fn delete_category(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    delete_of(CATEGORIES, &state, &code, if_match).await
}

/// List contact statuses (CS-1, CS-2).
#[utoipa::path(tag = "contact-statuses", operation_id = "listContactStatuses", params(CodeListQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = LookupList)))]
#[get("/contact-statuses")]
pub async fn list_statuses(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<CodeListQuery>,
    http: HttpRequest,
) -> ApiResult<HttpResponse> {
    list_of(STATUSES, state, &q, &http).await
}

/// Create a contact status; the code begins with A, I, S or D (CS-1).
#[utoipa::path(tag = "contact-statuses", operation_id = "createContactStatus", request_body = NewLookup,
    security(("bearer" = ["staff"])), responses((status = 201, body = LookupDto)))]
#[post("/contact-statuses")]
pub async fn create_status(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<NewLookup>,
) -> ApiResult<HttpResponse> {
    create_of(STATUSES, &state, "contact-statuses", body.0).await
}

/// Get a contact status.
#[utoipa::path(tag = "contact-statuses", operation_id = "getContactStatus", params(("code" = String, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = LookupDto, headers(("ETag" = String)))))]
#[get("/contact-statuses/{code}")]
pub async fn get_status(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    get_of(STATUSES, &state, &code).await
}

/// Rename a contact status.
#[utoipa::path(tag = "contact-statuses", operation_id = "updateContactStatus", request_body = LookupPatch,
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = LookupDto)))]
#[patch("/contact-statuses/{code}")]
pub async fn update_status(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    if_match: IfMatch,
    body: Body<LookupPatch>,
) -> ApiResult<HttpResponse> {
    update_of(STATUSES, &state, &code, if_match, body.0).await
}

/// Delete an unused contact status (409 when in use; `A` is built in).
#[utoipa::path(tag = "contact-statuses", operation_id = "deleteContactStatus",
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/contact-statuses/{code}")]
pub async fn delete_status(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    delete_of(STATUSES, &state, &code, if_match).await
}

/// Import billing categories (MG-4) from their CSV export (or JSON rows, or an XLSX workbook) with
/// `action=insert|update|upsert`: a row as exported is `unchanged`; an edited row is checked
/// and written like `PATCH /billing-categories/{code}`, a new one like `POST /billing-categories`.
#[utoipa::path(tag = "billing-categories", operation_id = "importBillingCategories", params(ImportQuery),
    request_body(content(
        (ImportRequestDto = "application/json"),
        (String = "text/csv"),
        (XlsxUpload = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )),
    security(("bearer" = ["staff"])), responses((status = 200, body = ImportReportDto)))]
#[post("/billing-categories/import")]
pub async fn import_categories(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ImportQuery>,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    reference_import::run::<Categories>(&state, &q, upload).await
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_categories)
        .service(create_category)
        .service(import_categories)
        .service(get_category)
        .service(update_category)
        .service(delete_category)
        .service(list_statuses)
        .service(create_status)
        .service(get_status)
        .service(update_status)
        .service(delete_status);
}
