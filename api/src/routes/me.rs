//! Member self-service: the contact is the token's.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, web};
use service::access::Actor;
use service::contacts as svc;

use crate::auth::Member;
use crate::contact_pages::history_page;
use crate::dto::ListQuery;
use crate::dto::contacts::{ContactDto, ContactPatchDto, HistoryList};
use crate::extract::{Body, IfMatch};
use crate::problem::ApiResult;
use crate::respond::versioned;
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// My contact record.
#[utoipa::path(tag = "self-service", operation_id = "getMe", security(("bearer" = ["member"])),
    responses((status = 200, body = ContactDto, headers(("ETag" = String)))))]
#[get("/me")]
pub async fn get_me(me: Member, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let view = svc::get(
        &state.db.conn,
        Actor::Member {
            contact_id: me.contact_id,
        },
        me.contact_id,
    )
    .await?;
    let dto = ContactDto::from(view);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Update my profile: name, addresses, email, phone, communication and ballot preferences (C-6).
#[utoipa::path(tag = "self-service", operation_id = "updateMe", request_body = ContactPatchDto,
    params(("If-Match" = Option<String>, Header)),
    security(("bearer" = ["member"])), responses((status = 200, body = ContactDto, headers(("ETag" = String)))))]
#[patch("/me")]
pub async fn patch_me(
    me: Member,
    state: web::Data<AppState>,
    if_match: IfMatch,
    body: Body<ContactPatchDto>,
) -> ApiResult<HttpResponse> {
    let actor = Actor::Member {
        contact_id: me.contact_id,
    };
    let view = svc::update(&state.db, actor, me.contact_id, body.0.into(), if_match.0).await?;
    let dto = ContactDto::from(view);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// My membership history (L-6).
#[utoipa::path(tag = "self-service", operation_id = "getMyHistory", params(ListQuery), security(("bearer" = ["member"])),
    responses((status = 200, body = HistoryList)))]
#[get("/me/history")]
pub async fn my_history(
    me: Member,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    history_page(&state, me.contact_id, &q).await
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_me).service(patch_me).service(my_history);
}
