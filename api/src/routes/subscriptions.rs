//! Subscriptions (S-1..S-8) and their bulk import (S-9).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use service::column_map::ColumnMap;
use service::subscriptions::{self as svc, input};

use crate::auth::{Caller, Member, Staff};
use crate::csv_export;
use crate::dto::JsonObject;
use crate::dto::subscriptions::{
    ImportQuery, ImportReportDto, ImportRequestDto, NewSubscriptionDto, SubscriptionDto,
    SubscriptionList, SubscriptionPatchDto, SubscriptionQuery, XlsxUpload,
};
use crate::extract::{Body, IfMatch, Upload};
use crate::import_upload::{self, RowParser};
use crate::problem::ApiResult;
use crate::respond::{created, versioned};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// A page of subscriptions, or with `Accept: text/csv` every matching one, streamed: the file
/// imports back through `/subscriptions/import` with `action=upsert` (MG-4).
async fn list_page(
    state: web::Data<AppState>,
    q: &SubscriptionQuery,
    req: &HttpRequest,
) -> ApiResult<HttpResponse> {
    if csv_export::wanted(req) {
        let filter = q.filter();
        return csv_export::pages("subscriptions", q.page(), move |page| {
            let (state, filter) = (state.clone(), filter.clone());
            async move {
                let p = svc::list(&state.db.conn, &filter, &page).await?;
                Ok(p.map(SubscriptionDto::from))
            }
        })
        .await;
    }
    let page = svc::list(&state.db.conn, &q.filter(), &q.page()).await?;
    Ok(HttpResponse::Ok().json(SubscriptionList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// List subscriptions with filters and keyset pagination (staff), or export every match as
/// CSV with `Accept: text/csv` (it imports back through `/subscriptions/import`).
#[utoipa::path(tag = "subscriptions", operation_id = "listSubscriptions", params(SubscriptionQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = SubscriptionList)))]
#[get("/subscriptions")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<SubscriptionQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    list_page(state, &q, &req).await
}

/// Create a subscription (S-1..S-8). Unknown contacts and products are named in the error.
#[utoipa::path(tag = "subscriptions", operation_id = "createSubscription", request_body = NewSubscriptionDto,
    security(("bearer" = ["staff"])),
    responses((status = 201, body = SubscriptionDto, headers(("ETag" = String), ("Location" = String)))))]
#[post("/subscriptions")]
pub async fn create(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<JsonObject>,
) -> ApiResult<HttpResponse> {
    let row = input::parse_row(&body.0.0)?;
    let view = svc::create(&state.db, row).await?;
    let dto = SubscriptionDto::from(view);
    Ok(created(
        format!("/api/v1/subscriptions/{}", dto.id),
        dto.version,
        &dto,
    ))
}

/// Import subscriptions (S-9) from JSON (`{action, mode, rows, map?}`), `text/csv` or an XLSX
/// workbook (its first worksheet), both with a header row of field names and
/// `?action=&mode=&map=`. A column mapping (MG-1) renames another system's columns:
/// `"map": {"Member ID": "external_ref"}`, or `?map=Member%20ID:external_ref,...`. Every row is checked before anything is written; the
/// report gives each row's outcome or its exact error. All-or-nothing (the default) writes
/// nothing when a row fails; row-by-row writes the rows that pass.
#[utoipa::path(tag = "subscriptions", operation_id = "importSubscriptions", params(ImportQuery),
    request_body(content(
        (ImportRequestDto = "application/json"),
        (String = "text/csv", example = "contact_id,product,begin_date,paid_through,status,source_code\n1001,CHAPT/EAST,2026-01-01,2026-12-31,Y,idms\n"),
        (XlsxUpload = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )),
    security(("bearer" = ["staff"])), responses((status = 200, body = ImportReportDto)))]
#[post("/subscriptions/import")]
pub async fn import_rows(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ImportQuery>,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    let (action, mode, rows) = import_upload::read::<SubscriptionRows>(upload, &q, None).await?;
    let started = std::time::Instant::now();
    let report = svc::import::run(&state.db, action.into(), mode.into(), rows).await?;
    crate::metrics::observe_operation("subscription_import", started.elapsed());
    Ok(crate::import_report::respond(report, Vec::new()))
}

/// Subscription rows (S-9) in each shape an import takes.
struct SubscriptionRows;

impl RowParser for SubscriptionRows {
    type Rows = service::row_reader::Source;
    fn json(rows: Vec<serde_json::Value>, map: &ColumnMap) -> service::Result<Self::Rows> {
        input::parse_json_rows(rows, map)
    }
    fn csv(bytes: Vec<u8>, map: &ColumnMap) -> service::Result<Self::Rows> {
        input::parse_csv(bytes, map)
    }
    fn xlsx(bytes: &[u8], map: &ColumnMap) -> service::Result<Self::Rows> {
        input::parse_xlsx(bytes, map)
    }
}

/// Get a subscription. Members may read only their own (others: 404).
#[utoipa::path(tag = "subscriptions", operation_id = "getSubscription", params(("id" = i64, Path)),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = SubscriptionDto, headers(("ETag" = String)))))]
#[get("/subscriptions/{id}")]
pub async fn get(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let view = svc::get(&state.db.conn, caller.actor()?, *id).await?;
    let dto = SubscriptionDto::from(view);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Change a subscription (staff). After accrual billing the dates are locked (S-4).
#[utoipa::path(tag = "subscriptions", operation_id = "updateSubscription", request_body = SubscriptionPatchDto,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = SubscriptionDto, headers(("ETag" = String)))))]
#[patch("/subscriptions/{id}")]
pub async fn update(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Body<JsonObject>,
) -> ApiResult<HttpResponse> {
    let map = body.0.0;
    let fixed: Vec<service::FieldError> = ["contact_id", "product", "email", "external_ref"]
        .into_iter()
        .filter(|k| map.contains_key(*k))
        .map(|k| {
            service::FieldError::new(
                k,
                "identifies the subscription and cannot change; create a new subscription instead",
            )
        })
        .collect();
    if !fixed.is_empty() {
        return Err(service::Error::Validation(fixed).into());
    }
    let row = input::parse_row(&map)?;
    let view = svc::update(&state.db, *id, row.fields, if_match.0).await?;
    let dto = SubscriptionDto::from(view);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Delete a cash subscription (S-5); accrual subscriptions are made inactive instead.
#[utoipa::path(tag = "subscriptions", operation_id = "deleteSubscription",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/subscriptions/{id}")]
pub async fn delete(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    svc::delete(&state.db, *id, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A contact's subscriptions. Members may list only their own (others: 404).
#[utoipa::path(tag = "contacts", operation_id = "listContactSubscriptions",
    params(("id" = i64, Path), SubscriptionQuery),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = SubscriptionList)))]
#[get("/contacts/{id}/subscriptions")]
pub async fn for_contact(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<SubscriptionQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let contact = service::contacts::get(&state.db.conn, caller.actor()?, *id).await?;
    let mut q = q.into_inner();
    q.contact_id = Some(contact.contact.id);
    list_page(state, &q, &req).await
}

/// My subscriptions.
#[utoipa::path(tag = "self-service", operation_id = "listMySubscriptions", params(SubscriptionQuery),
    security(("bearer" = ["member"])), responses((status = 200, body = SubscriptionList)))]
#[get("/me/subscriptions")]
pub async fn mine(
    me: Member,
    state: web::Data<AppState>,
    q: web::Query<SubscriptionQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let mut q = q.into_inner();
    q.contact_id = Some(me.contact_id);
    list_page(state, &q, &req).await
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(import_rows)
        .service(get)
        .service(update)
        .service(delete)
        .service(for_contact)
        .service(mine);
}
