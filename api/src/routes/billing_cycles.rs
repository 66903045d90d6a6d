//! Billing cycles (B-1..B-13). Staff only (SEC-1: members never see cycles).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use service::billing_cycles as svc;

use crate::auth::Staff;
use crate::csv_export;
use crate::dto::ListQuery;
use crate::dto::billing::{CycleDto, CycleList, CyclePatchDto, NewCycleDto};
use crate::dto::subscriptions::{ImportQuery, ImportReportDto, ImportRequestDto, XlsxUpload};
use crate::extract::{Body, IfMatch, Upload};
use crate::problem::ApiResult;
use crate::reference_import::{self, Collection};
use crate::respond::{created, versioned};
use crate::state::AppState;
use service::db::{Connection as DatabaseConnection, Transaction as DatabaseTransaction};
use utoipa_actix_web::service_config::ServiceConfig;

/// Billing cycles as reference data that exports and imports back (MG-4).
pub struct Cycles;

impl Collection for Cycles {
    const NAME: &'static str = "billing cycles";
    const KEY: &'static str = "id";
    const NEW: &'static str = "NewCycleDto";
    const PATCH: &'static str = "CyclePatchDto";
    type New = NewCycleDto;
    type Patch = CyclePatchDto;
    type Item = CycleDto;

    async fn all(conn: &DatabaseConnection) -> service::Result<Vec<CycleDto>> {
        let all =
            reference_import::all_pages(|req| async move { svc::list(conn, &req).await }).await?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    async fn create(txn: &DatabaseTransaction, d: NewCycleDto) -> service::Result<Option<i64>> {
        Ok(Some(svc::create_in(txn, d.into()).await?.id))
    }

    async fn update(txn: &DatabaseTransaction, id: &str, d: CyclePatchDto) -> service::Result<()> {
        let id = id
            .parse::<i64>()
            .map_err(|_| service::Error::invalid("id", "must be a billing cycle id"))?;
        svc::update_in(txn, id, d.into(), None).await?;
        Ok(())
    }
}

/// List billing cycles, or export them as CSV with `Accept: text/csv` (the file imports back
/// through `/billing-cycles/import`).
#[utoipa::path(tag = "billing", operation_id = "listBillingCycles", params(ListQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = CycleList)))]
#[get("/billing-cycles")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
    http: HttpRequest,
) -> ApiResult<HttpResponse> {
    if csv_export::wanted(&http) {
        return csv_export::pages("billing-cycles", q.page(), move |page| {
            let state = state.clone();
            async move {
                let p = svc::list(&state.db.conn, &page).await?;
                Ok(p.map(CycleDto::from))
            }
        })
        .await;
    }
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

/// Import billing cycles (MG-4) from their CSV export (or JSON rows, or an XLSX workbook) with
/// `action=insert|update|upsert`: a row as exported is `unchanged`; an edited row is checked
/// and written like `PATCH /billing-cycles/{id}`, a new one (no `id`) like `POST /billing-cycles`.
#[utoipa::path(tag = "billing", operation_id = "importBillingCycles", params(ImportQuery),
    request_body(content(
        (ImportRequestDto = "application/json"),
        (String = "text/csv"),
        (XlsxUpload = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )),
    security(("bearer" = ["staff"])), responses((status = 200, body = ImportReportDto)))]
#[post("/billing-cycles/import")]
pub async fn import_cycles(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ImportQuery>,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    reference_import::run::<Cycles>(&state, &q, upload).await
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(import_cycles)
        .service(get)
        .service(update)
        .service(delete);
}
