//! Notices to members: their templates (N-2) and the delivery log (N-3). Staff only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use service::mail::{log, templates};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Staff;
use crate::csv_export;
use crate::dto::notices::{
    NoticeDto, NoticeList, NoticeQuery, NoticeTemplateDto, NoticeTemplateInputDto,
    NoticeTemplateList, PreviewDto, RenderedDto,
};
use crate::extract::{Body, IfMatch};
use crate::problem::ApiResult;
use crate::respond::versioned;
use crate::state::AppState;

/// Every kind's template in force (N-2).
#[utoipa::path(tag = "notices", operation_id = "listNoticeTemplates",
    security(("bearer" = ["staff"])), responses((status = 200, body = NoticeTemplateList)))]
#[get("/notice-templates")]
pub async fn list_templates(_s: Staff, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut items = Vec::with_capacity(service::notices::KINDS.len());
    for kind in service::notices::KINDS {
        items.push(NoticeTemplateDto::from(
            templates::get(&state.db.conn, kind).await?,
        ));
    }
    Ok(HttpResponse::Ok().json(NoticeTemplateList { items }))
}

/// A kind's template in force: staff's, or the default (N-2).
#[utoipa::path(tag = "notices", operation_id = "getNoticeTemplate", params(("kind" = String, Path)),
    security(("bearer" = ["staff"])),
    responses((status = 200, body = NoticeTemplateDto, headers(("ETag" = String)))))]
#[get("/notice-templates/{kind}")]
pub async fn get_template(
    _s: Staff,
    state: web::Data<AppState>,
    kind: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let view = templates::get(&state.db.conn, &kind).await?;
    let version = view.version;
    Ok(versioned(
        StatusCode::OK,
        version,
        &NoticeTemplateDto::from(view),
    ))
}

/// Save a kind's template (N-2). A part that does not compile, or names a variable the kind
/// does not have, is 422 naming the part and the line. Honours `If-Match`.
#[utoipa::path(tag = "notices", operation_id = "putNoticeTemplate", params(("kind" = String, Path),
        ("If-Match" = Option<String>, Header, description = "ETag from the last read")),
    request_body = NoticeTemplateInputDto, security(("bearer" = ["staff"])),
    responses((status = 200, body = NoticeTemplateDto, headers(("ETag" = String)))))]
#[put("/notice-templates/{kind}")]
pub async fn put_template(
    _s: Staff,
    state: web::Data<AppState>,
    kind: web::Path<String>,
    if_match: IfMatch,
    body: Body<NoticeTemplateInputDto>,
) -> ApiResult<HttpResponse> {
    let view = templates::put(&state.db, &kind, body.0.into(), if_match.0).await?;
    let version = view.version;
    Ok(versioned(
        StatusCode::OK,
        version,
        &NoticeTemplateDto::from(view),
    ))
}

/// Back to the default template of a kind (N-2).
#[utoipa::path(tag = "notices", operation_id = "resetNoticeTemplate", params(("kind" = String, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = NoticeTemplateDto)))]
#[delete("/notice-templates/{kind}")]
pub async fn reset_template(
    _s: Staff,
    state: web::Data<AppState>,
    kind: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let view = templates::reset(&state.db, &kind).await?;
    Ok(HttpResponse::Ok().json(NoticeTemplateDto::from(view)))
}

/// The template in force rendered for a contact and, optionally, an invoice (N-2). A receipt
/// or a failed charge without one to show uses the example's payment or charge.
#[utoipa::path(tag = "notices", operation_id = "previewNoticeTemplate", params(("kind" = String, Path)),
    request_body = PreviewDto, security(("bearer" = ["staff"])),
    responses((status = 200, body = RenderedDto)))]
#[post("/notice-templates/{kind}/preview")]
pub async fn preview(
    _s: Staff,
    state: web::Data<AppState>,
    kind: web::Path<String>,
    body: Body<PreviewDto>,
) -> ApiResult<HttpResponse> {
    let rendered =
        templates::preview(&state.db.conn, &kind, body.0.contact_id, body.0.invoice_id).await?;
    Ok(HttpResponse::Ok().json(RenderedDto::from(rendered)))
}

/// The notice delivery log (N-3), oldest first, or CSV with `Accept: text/csv`.
#[utoipa::path(tag = "notices", operation_id = "listNotices", params(NoticeQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = NoticeList)))]
#[get("/notices")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let filter = log::Filter {
        kind: q.kind.clone(),
        contact_id: q.contact_id,
        invoice_id: q.invoice_id,
        status: q.status.clone(),
    };
    let page = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.as_ref().map(|c| c.0.clone()),
    };
    if csv_export::wanted(&req) {
        return csv_export::pages("notices", page, move |page| {
            let (state, filter) = (state.clone(), filter.clone());
            async move {
                let p = log::list(&state.db.conn, &filter, &page).await?;
                Ok(p.map(NoticeDto::from))
            }
        })
        .await;
    }
    let page = log::list(&state.db.conn, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(NoticeList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One notice and its delivery (N-3).
#[utoipa::path(tag = "notices", operation_id = "getNotice", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = NoticeDto)))]
#[get("/notices/{id}")]
pub async fn get(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let notice = log::get(&state.db.conn, *id).await?;
    Ok(HttpResponse::Ok().json(NoticeDto::from(notice)))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_templates)
        .service(get_template)
        .service(put_template)
        .service(reset_template)
        .service(preview)
        .service(list)
        .service(get);
}
