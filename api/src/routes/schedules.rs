//! Schedules (JB-3). Staff only.

use actix_web::{HttpResponse, get, put, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Staff;
use crate::dto::schedules::{ScheduleDto, ScheduleInputDto, ScheduleList};
use crate::extract::Body;
use crate::problem::ApiResult;
use crate::state::AppState;

/// Every schedule: the server's, then each billing cycle's renewal run and reminders.
#[utoipa::path(tag = "jobs", operation_id = "listSchedules",
    security(("bearer" = ["staff"])), responses((status = 200, body = ScheduleList)))]
#[get("/schedules")]
pub async fn list(_s: Staff, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let items = service::schedules::list(&state.db.conn).await?;
    Ok(HttpResponse::Ok().json(ScheduleList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// A schedule by name.
#[utoipa::path(tag = "jobs", operation_id = "getSchedule", params(("name" = String, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = ScheduleDto)))]
#[get("/schedules/{name}")]
pub async fn get(
    _s: Staff,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let s = service::schedules::get(&state.db.conn, &name).await?;
    Ok(HttpResponse::Ok().json(ScheduleDto::from(s)))
}

/// Sets a schedule: what it runs is then done in the name of the staff user who set it. A
/// cron expression that does not parse or a day of the month outside 1 to 28 is 422.
#[utoipa::path(tag = "jobs", operation_id = "putSchedule", params(("name" = String, Path)),
    request_body = ScheduleInputDto,
    security(("bearer" = ["staff"])), responses((status = 200, body = ScheduleDto)))]
#[put("/schedules/{name}")]
pub async fn put(
    staff: Staff,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: Body<ScheduleInputDto>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let setting = service::schedules::Setting {
        enabled: b.enabled,
        cron: b.cron,
        day_of_month: b.day_of_month,
    };
    let s = service::schedules::set(
        &state.db,
        &name,
        setting,
        staff.0.user_id,
        service::clock::now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(ScheduleDto::from(s)))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(get).service(put);
}
