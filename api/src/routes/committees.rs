//! Committees, their rosters and a contact's committee service (C-8). Staff manage all; a
//! member reads their own service.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use service::access::Actor;
use service::committees as svc;
use service::page::Page;

use crate::auth::{Caller, Member, Staff};
use crate::dto::committees::{
    CommitteeDto, CommitteeList, CommitteePatchDto, CommitteeQuery, MemberDto, MemberList,
    MemberPatchDto, NewCommitteeDto, NewMemberDto, RosterQuery, ServiceQuery,
};
use crate::extract::{Body, IfMatch};
use crate::problem::ApiResult;
use crate::respond::{created, versioned};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

fn today() -> chrono::NaiveDate {
    service::clock::now().date_naive()
}

fn member_list(page: Page<svc::Term>) -> MemberList {
    let today = today();
    MemberList {
        items: page
            .items
            .into_iter()
            .map(|t| MemberDto::new(t, today))
            .collect(),
        next_cursor: page.next_cursor,
    }
}

fn member_location(t: &MemberDto) -> String {
    format!("/api/v1/committees/{}/members/{}", t.committee_id, t.id)
}

/// Create a committee: the board, a committee or a task force. Names are unique regardless
/// of letter case (409).
#[utoipa::path(tag = "committees", operation_id = "createCommittee", request_body = NewCommitteeDto,
    security(("bearer" = ["staff"])), responses((status = 201, body = CommitteeDto, headers(("ETag" = String), ("Location" = String)))))]
#[post("/committees")]
pub async fn create(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<NewCommitteeDto>,
) -> ApiResult<HttpResponse> {
    let dto = CommitteeDto::from(svc::create(&state.db, body.0.into()).await?);
    Ok(created(
        format!("/api/v1/committees/{}", dto.id),
        dto.version,
        &dto,
    ))
}

/// Committees, oldest first; `active` narrows the list.
#[utoipa::path(tag = "committees", operation_id = "listCommittees", params(CommitteeQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = CommitteeList)))]
#[get("/committees")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<CommitteeQuery>,
) -> ApiResult<HttpResponse> {
    let page = svc::list(&state.db.conn, q.active, &q.page()).await?;
    Ok(HttpResponse::Ok().json(CommitteeList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A committee.
#[utoipa::path(tag = "committees", operation_id = "getCommittee", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = CommitteeDto, headers(("ETag" = String)))))]
#[get("/committees/{id}")]
pub async fn get(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let dto = CommitteeDto::from(svc::get(&state.db.conn, *id).await?);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Change a committee's name, kind, description or `active`. Honours `If-Match`.
#[utoipa::path(tag = "committees", operation_id = "updateCommittee", request_body = CommitteePatchDto,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = CommitteeDto, headers(("ETag" = String)))))]
#[patch("/committees/{id}")]
pub async fn update(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Body<CommitteePatchDto>,
) -> ApiResult<HttpResponse> {
    let saved = svc::update(&state.db, *id, body.0.into(), if_match.0).await?;
    let dto = CommitteeDto::from(saved);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Delete a committee that has no member records (409 otherwise: deactivate it to keep its
/// history). Honours `If-Match`.
#[utoipa::path(tag = "committees", operation_id = "deleteCommittee",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/committees/{id}")]
pub async fn delete(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    svc::delete(&state.db, *id, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A committee's roster at a date (`as_of`, default today): the terms begun on or before it
/// and not ended before it; `all=true` lists every term.
#[utoipa::path(tag = "committees", operation_id = "listCommitteeMembers",
    params(("id" = i64, Path), RosterQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = MemberList)))]
#[get("/committees/{id}/members")]
pub async fn roster(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<RosterQuery>,
) -> ApiResult<HttpResponse> {
    let page = svc::roster(&state.db.conn, *id, q.roster()?, &q.page()).await?;
    Ok(HttpResponse::Ok().json(member_list(page)))
}

/// Add a contact's term on a committee in a position. A contact holds one seat on a
/// committee at a time: an overlapping term of theirs is a conflict (409).
#[utoipa::path(tag = "committees", operation_id = "addCommitteeMember", request_body = NewMemberDto,
    params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 201, body = MemberDto, headers(("ETag" = String), ("Location" = String)))))]
#[post("/committees/{id}/members")]
pub async fn add_member(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<NewMemberDto>,
) -> ApiResult<HttpResponse> {
    let term = svc::add_member(&state.db, *id, body.0.into()).await?;
    let dto = MemberDto::new(term, today());
    Ok(created(member_location(&dto), dto.version, &dto))
}

/// One member record of a committee.
#[utoipa::path(tag = "committees", operation_id = "getCommitteeMember",
    params(("id" = i64, Path), ("member_id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = MemberDto, headers(("ETag" = String)))))]
#[get("/committees/{id}/members/{member_id}")]
pub async fn get_member(
    _s: Staff,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (committee, member) = *path;
    let dto = MemberDto::new(
        svc::get_member(&state.db.conn, committee, member).await?,
        today(),
    );
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Change a term's position or dates: set `end` when someone steps down. Honours `If-Match`.
#[utoipa::path(tag = "committees", operation_id = "updateCommitteeMember", request_body = MemberPatchDto,
    params(("id" = i64, Path), ("member_id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = MemberDto, headers(("ETag" = String)))))]
#[patch("/committees/{id}/members/{member_id}")]
pub async fn update_member(
    _s: Staff,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    if_match: IfMatch,
    body: Body<MemberPatchDto>,
) -> ApiResult<HttpResponse> {
    let (committee, member) = *path;
    let term = svc::update_member(&state.db, committee, member, body.0.into(), if_match.0).await?;
    let dto = MemberDto::new(term, today());
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Delete a member record entered by mistake (to record that someone stepped down, set the
/// term's `end` instead). Honours `If-Match`.
#[utoipa::path(tag = "committees", operation_id = "deleteCommitteeMember",
    params(("id" = i64, Path), ("member_id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/committees/{id}/members/{member_id}")]
pub async fn delete_member(
    _s: Staff,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let (committee, member) = *path;
    svc::delete_member(&state.db, committee, member, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn service_page(
    state: &AppState,
    actor: Actor,
    contact_id: i64,
    q: &ServiceQuery,
) -> ApiResult<HttpResponse> {
    let which = q.service(today());
    let page = svc::service_of(&state.db.conn, actor, contact_id, which, &q.page()).await?;
    Ok(HttpResponse::Ok().json(member_list(page)))
}

/// A contact's committee service, current and past (each term says whether it is
/// `current`). Members may read only their own (others: 404).
#[utoipa::path(tag = "committees", operation_id = "listContactCommittees",
    params(("id" = i64, Path), ServiceQuery),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = MemberList)))]
#[get("/contacts/{id}/committees")]
pub async fn contact_service(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<ServiceQuery>,
) -> ApiResult<HttpResponse> {
    service_page(&state, caller.actor()?, *id, &q).await
}

/// My committee service, current and past.
#[utoipa::path(tag = "self-service", operation_id = "getMyCommittees", params(ServiceQuery),
    security(("bearer" = ["member"])), responses((status = 200, body = MemberList)))]
#[get("/me/committees")]
pub async fn my_service(
    me: Member,
    state: web::Data<AppState>,
    q: web::Query<ServiceQuery>,
) -> ApiResult<HttpResponse> {
    let actor = Actor::Member {
        contact_id: me.contact_id,
    };
    service_page(&state, actor, me.contact_id, &q).await
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(delete)
        .service(roster)
        .service(add_member)
        .service(get_member)
        .service(update_member)
        .service(delete_member)
        .service(contact_service)
        .service(my_service);
}
