//! Jobs (JB-1): a long operation started with `Prefer: respond-async`. Staff only.

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Staff;
use crate::dto::jobs::JobDto;
use crate::problem::ApiResult;
use crate::state::AppState;

/// A job's state and progress; its result or error once it ended.
#[utoipa::path(tag = "jobs", operation_id = "getJob", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = JobDto)))]
#[get("/jobs/{id}")]
pub async fn get(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let job = service::jobs::get(&state.db.conn, *id).await?;
    Ok(HttpResponse::Ok().json(JobDto::from(job)))
}

/// Cancels a job: a queued one at once, a running one at its next page boundary (it keeps
/// the whole pages it wrote). A job that ended answers 409.
#[utoipa::path(tag = "jobs", operation_id = "cancelJob", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 202, body = JobDto)))]
#[post("/jobs/{id}/cancel")]
pub async fn cancel(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let job = service::jobs::cancel(&state.db, *id).await?;
    Ok(HttpResponse::Accepted().json(JobDto::from(job)))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get).service(cancel);
}
