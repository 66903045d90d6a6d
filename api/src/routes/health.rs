use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Staff;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct HealthDto {
    pub status: String,
}

/// The process is up.
#[utoipa::path(tag = "health", operation_id = "health", security(()),
    responses((status = 200, body = HealthDto)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthDto {
        status: "ok".into(),
    })
}

/// The database is reachable.
#[utoipa::path(tag = "health", operation_id = "ready", security(()), responses(
    (status = 200, body = HealthDto),
    (status = 503, body = crate::problem::Problem, content_type = "application/problem+json")
))]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(HealthDto {
            status: "ready".into(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            let err = crate::problem::ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "Service unavailable",
                "the database is not reachable",
            );
            actix_web::ResponseError::error_response(&err)
        }
    }
}

/// Prometheus metrics: requests by route, method and status with latency histograms, and the
/// duration of renewal runs and imports (text exposition format). Staff only, unless the
/// server makes them public (`AMS_METRICS_PUBLIC=true`); `AMS_METRICS_BIND` serves them
/// without a token on a separate address, for a scraper on an internal network.
#[utoipa::path(tag = "health", operation_id = "metrics", security(("bearer" = ["staff"])), responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)
))]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    staff: Result<Staff, crate::problem::ApiError>,
) -> Result<HttpResponse, crate::problem::ApiError> {
    if !state.metrics_public {
        staff?;
    }
    Ok(exposition())
}

/// The metrics as Prometheus reads them.
pub fn exposition() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(crate::metrics::render())
}
