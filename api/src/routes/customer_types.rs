//! Customer types (CT-1..CT-7).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use service::customer_types::{self as svc, CustomerTypePatch, NewCustomerType};

use crate::auth::{Caller, Staff};
use crate::csv_export;
use crate::dto::reference::{
    CustomerTypeDto, CustomerTypeList, CustomerTypePatchDto, CustomerTypeQuery, NewCustomerTypeDto,
};
use crate::dto::subscriptions::{ImportQuery, ImportReportDto, ImportRequestDto, XlsxUpload};
use crate::extract::{Body, IfMatch, Upload};
use crate::problem::ApiResult;
use crate::reference_import::{self, Collection};
use crate::respond::{created, versioned};
use crate::state::AppState;
use service::db::{Connection as DatabaseConnection, Transaction as DatabaseTransaction};
use utoipa_actix_web::service_config::ServiceConfig;

fn new_type(d: NewCustomerTypeDto) -> NewCustomerType {
    NewCustomerType {
        code: d.code,
        name: d.name,
        is_member: d.is_member,
        is_organization: d.is_organization,
        primary_fee: d.primary_fee.map(Into::into),
        expires_to: d.expires_to,
        renews_as: d.renews_as,
        flow_down_type: d.flow_down_type,
    }
}

fn type_patch(d: CustomerTypePatchDto) -> CustomerTypePatch {
    CustomerTypePatch {
        name: d.name,
        is_member: d.is_member,
        is_organization: d.is_organization,
        primary_fee: d.primary_fee.map(|p| p.map(Into::into)),
        expires_to: d.expires_to,
        renews_as: d.renews_as,
        flow_down_type: d.flow_down_type,
    }
}

/// Customer types as reference data that exports and imports back (MG-4).
pub struct CustomerTypes;

impl Collection for CustomerTypes {
    const NAME: &'static str = "customer types";
    const KEY: &'static str = "code";
    const NEW: &'static str = "NewCustomerTypeDto";
    const PATCH: &'static str = "CustomerTypePatchDto";
    type New = NewCustomerTypeDto;
    type Patch = CustomerTypePatchDto;
    type Item = CustomerTypeDto;

    async fn all(conn: &DatabaseConnection) -> service::Result<Vec<CustomerTypeDto>> {
        let all =
            reference_import::all_pages(
                |req| async move { svc::list(conn, &req, None, None).await },
            )
            .await?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    async fn create(
        txn: &DatabaseTransaction,
        d: NewCustomerTypeDto,
    ) -> service::Result<Option<i64>> {
        svc::create_in(txn, new_type(d)).await?;
        Ok(None)
    }

    async fn update(
        txn: &DatabaseTransaction,
        code: &str,
        d: CustomerTypePatchDto,
    ) -> service::Result<()> {
        svc::update_in(txn, code, type_patch(d), None).await?;
        Ok(())
    }
}

/// List customer types (members may read), or as staff export them as CSV with
/// `Accept: text/csv` (the file imports back through `/customer-types/import`).
#[utoipa::path(tag = "customer-types", operation_id = "listCustomerTypes", params(CustomerTypeQuery),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = CustomerTypeList)))]
#[get("/customer-types")]
pub async fn list(
    _c: Caller,
    state: web::Data<AppState>,
    q: web::Query<CustomerTypeQuery>,
    http: HttpRequest,
) -> ApiResult<HttpResponse> {
    let req = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.as_ref().map(|c| c.0.clone()),
    };
    if csv_export::wanted(&http) {
        let (is_member, is_organization) = (q.is_member, q.is_organization);
        return csv_export::pages("customer-types", req, move |page| {
            let state = state.clone();
            async move {
                let p = svc::list(&state.db.conn, &page, is_member, is_organization).await?;
                Ok(p.map(CustomerTypeDto::from))
            }
        })
        .await;
    }
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
    let t = svc::create(&state.db, new_type(body.0)).await?;
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
    let t = svc::update(&state.db, &code, type_patch(body.0), if_match.0).await?;
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

/// Import customer types (MG-4) from their CSV export (or JSON rows, or an XLSX workbook) with
/// `action=insert|update|upsert`: a row as exported is `unchanged`; an edited row is checked
/// and written like `PATCH /customer-types/{code}`, a new one like `POST /customer-types`.
#[utoipa::path(tag = "customer-types", operation_id = "importCustomerTypes", params(ImportQuery),
    request_body(content(
        (ImportRequestDto = "application/json"),
        (String = "text/csv"),
        (XlsxUpload = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )),
    security(("bearer" = ["staff"])), responses((status = 200, body = ImportReportDto)))]
#[post("/customer-types/import")]
pub async fn import_customertypes(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ImportQuery>,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    reference_import::run::<CustomerTypes>(&state, &q, upload).await
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(import_customertypes)
        .service(get)
        .service(update)
        .service(delete);
}
