use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, put, web};

use crate::auth::Staff;
use crate::dto::reference::SettingsDto;
use crate::extract::{Body, IfMatch};
use crate::problem::ApiResult;
use crate::respond::versioned;
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Membership settings (T-1).
#[utoipa::path(tag = "settings", operation_id = "getMembershipSettings", security(("bearer" = ["staff"])),
    responses((status = 200, body = SettingsDto, headers(("ETag" = String)))))]
#[get("/settings/membership")]
pub async fn get_settings(_s: Staff, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let s = service::settings::get(&state.db.conn).await?;
    let v = s.version;
    Ok(versioned(StatusCode::OK, v, &SettingsDto::from(s)))
}

/// Replace the membership settings (T-1). Honours `If-Match`.
#[utoipa::path(tag = "settings", operation_id = "putMembershipSettings", request_body = SettingsDto,
    params(("If-Match" = Option<String>, Header, description = "ETag from the last read")),
    security(("bearer" = ["staff"])), responses((status = 200, body = SettingsDto, headers(("ETag" = String)))))]
#[put("/settings/membership")]
pub async fn put_settings(
    _s: Staff,
    state: web::Data<AppState>,
    if_match: IfMatch,
    body: Body<SettingsDto>,
) -> ApiResult<HttpResponse> {
    let s = service::settings::put(&state.db, body.0.into_settings(), if_match.0).await?;
    let v = s.version;
    Ok(versioned(StatusCode::OK, v, &SettingsDto::from(s)))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_settings).service(put_settings);
}
