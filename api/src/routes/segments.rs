//! Previous members (L-2), prospects (L-3) and saved segments. Staff only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use service::contacts::ContactFilter;
use service::segments as svc;

use crate::auth::Staff;
use crate::contact_pages::contacts_page;
use crate::dto::ListQuery;
use crate::dto::contacts::{ContactList, ContactQuery};
use crate::dto::segments::{SegmentDto, SegmentInputDto, SegmentList};
use crate::extract::{Body, IfMatch, Query};
use crate::problem::ApiResult;
use crate::respond::{created, versioned};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Previous members (L-2): contacts that are not members now and have dues history (a
/// membership subscription or a paid term). Narrow with `joined_from`/`joined_to` (join date)
/// or `lapsed_from`/`lapsed_to` (the last paid-through), and any list filter.
#[utoipa::path(tag = "segments", operation_id = "listPreviousMembers", params(ContactQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = ContactList)))]
#[get("/segments/previous-members")]
pub async fn previous_members(
    _s: Staff,
    state: web::Data<AppState>,
    q: Query<ContactQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let filter = ContactFilter {
        previous_member: Some(true),
        ..q.filter()
    };
    contacts_page(state, filter, &q, &req).await
}

/// Prospects (L-3): non-members who are previous members or carry one of the association's
/// prospect tags (`prospect_tags` in the membership settings; by default `event-attendee` and
/// `interest-form`). Narrow with any list filter, e.g. `tag=event-attendee`.
#[utoipa::path(tag = "segments", operation_id = "listProspects", params(ContactQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = ContactList)))]
#[get("/segments/prospects")]
pub async fn prospects(
    _s: Staff,
    state: web::Data<AppState>,
    q: Query<ContactQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let filter = ContactFilter {
        prospect: Some(true),
        ..q.filter()
    };
    contacts_page(state, filter, &q, &req).await
}

/// Save a contact filter as a named segment.
#[utoipa::path(tag = "segments", operation_id = "createSegment", request_body = SegmentInputDto,
    security(("bearer" = ["staff"])), responses((status = 201, body = SegmentDto, headers(("ETag" = String), ("Location" = String)))))]
#[post("/segments")]
pub async fn create(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<SegmentInputDto>,
) -> ApiResult<HttpResponse> {
    let s = svc::create(&state.db, body.0.into()).await?;
    let dto = SegmentDto::from(s);
    Ok(created(
        format!("/api/v1/segments/{}", dto.id),
        dto.version,
        &dto,
    ))
}

/// Saved segments, oldest first.
#[utoipa::path(tag = "segments", operation_id = "listSegments", params(ListQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = SegmentList)))]
#[get("/segments")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = svc::list(&state.db.conn, &q.page()).await?;
    Ok(HttpResponse::Ok().json(SegmentList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A saved segment.
#[utoipa::path(tag = "segments", operation_id = "getSegment", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = SegmentDto, headers(("ETag" = String)))))]
#[get("/segments/{id}")]
pub async fn get(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let dto = SegmentDto::from(svc::get(&state.db.conn, *id).await?);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Replace a segment's name, description and filter. Honours `If-Match`.
#[utoipa::path(tag = "segments", operation_id = "updateSegment", request_body = SegmentInputDto,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = SegmentDto, headers(("ETag" = String)))))]
#[patch("/segments/{id}")]
pub async fn update(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Body<SegmentInputDto>,
) -> ApiResult<HttpResponse> {
    let dto = SegmentDto::from(svc::update(&state.db, *id, body.0.into(), if_match.0).await?);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Delete a saved segment (contacts are not touched). Honours `If-Match`.
#[utoipa::path(tag = "segments", operation_id = "deleteSegment",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/segments/{id}")]
pub async fn delete(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    svc::delete(&state.db, *id, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The contacts of a saved segment, in the list shape of `GET /contacts`; list filters narrow
/// it further.
#[utoipa::path(tag = "segments", operation_id = "listSegmentContacts",
    params(("id" = i64, Path), ContactQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = ContactList)))]
#[get("/segments/{id}/contacts")]
pub async fn contacts(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: Query<ContactQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    // An unknown segment is a 404 when its filter is loaded.
    let mut filter = q.filter();
    if filter.segment.is_some_and(|other| other != *id) {
        return Err(service::Error::invalid(
            "segment",
            "the path already names the segment; combine segments by saving one filter",
        )
        .into());
    }
    filter.segment = Some(*id);
    contacts_page(state, filter, &q, &req).await
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(previous_members)
        .service(prospects)
        .service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(delete)
        .service(contacts);
}
