//! Building the application: state, routes, OpenAPI, Swagger UI and middleware.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, UtoipaApp, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::extract;
use crate::openapi::{self, ApiDoc};
use crate::problem::ApiError;
use crate::route_table::{self, RouteTable};
use crate::routes;
use crate::state::{AppState, build_state};

fn with_routes<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(routes::health::health)
        .service(routes::health::ready)
        .service(routes::health::metrics)
        .service(scope::scope(routes::API_PREFIX).configure(routes::configure))
}

/// The OpenAPI document the server serves at `/api-docs/openapi.json`.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, doc) = with_routes(App::new().into_utoipa_app()).split_for_parts();
    openapi::finish(doc)
}

/// The API's document, serialized, and the route table read from it: made once and shared
/// by the workers (a copy of the document in each worker cost megabytes apiece).
#[derive(Clone)]
pub struct Routes {
    doc: web::Data<OpenApiJson>,
    table: web::Data<RouteTable>,
}

/// The document as served at `/api-docs/openapi.json`.
pub struct OpenApiJson(web::Bytes);

impl Routes {
    pub fn new() -> Routes {
        let doc = spec();
        let table = web::Data::new(RouteTable::new(&doc));
        let json = serde_json::to_vec(&doc).unwrap_or_default();
        Routes {
            doc: web::Data::new(OpenApiJson(web::Bytes::from(json))),
            table,
        }
    }
}

async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

/// No handler: 405 with `Allow` when the path exists for other methods, else 404.
async fn not_found(req: HttpRequest) -> HttpResponse {
    let err = route_table::method_not_allowed(&req).unwrap_or_else(|| {
        ApiError::not_found(format!("no route for {} {}", req.method(), req.path()))
    });
    actix_web::ResponseError::error_response(&err)
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600);
    for o in origins {
        cors = if o == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(o)
        };
    }
    cors
}

pub fn build_app(
    state: web::Data<AppState>,
    routes: Routes,
    cors_origins: Vec<String>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Response = ServiceResponse<impl MessageBody>,
        Config = (),
        InitError = (),
        Error = actix_web::Error,
    >,
> {
    let base = App::new()
        .app_data(state)
        .app_data(routes.table)
        .app_data(routes.doc)
        .app_data(web::QueryConfig::default().error_handler(extract::query_error))
        .app_data(web::PathConfig::default().error_handler(extract::path_error))
        .app_data(web::JsonConfig::default().error_handler(extract::json_error));
    let (app, _) = with_routes(base.into_utoipa_app()).split_for_parts();
    let swagger_ui = SwaggerUi::new("/swagger-ui/{_:.*}")
        .config(utoipa_swagger_ui::Config::from("/api-docs/openapi.json"));
    app.service(swagger_ui)
        .route("/api-docs/openapi.json", web::get().to(openapi_json))
        .default_service(web::to(not_found))
        .wrap(from_fn(crate::auth::identify))
        .wrap(from_fn(crate::middleware::audit))
        .wrap(from_fn(crate::middleware::refuse_control_text))
        .wrap(cors(&cors_origins))
        .wrap(from_fn(crate::middleware::request_id))
}

/// Runs the HTTP server until it is stopped: `ams serve`.
pub async fn serve(cfg: Config) -> Result<(), String> {
    // A mail configuration that cannot work stops the server before it changes anything.
    let mailer = service::mail::delivery::check_config(cfg.smtp_url.as_deref(), &cfg.mail_from)?;
    let (state, admin_password) = build_state(&cfg).await.map_err(|e| e.to_string())?;
    if let Some(password) = admin_password {
        println!("Created staff user `admin` with password: {password}");
        println!("(shown once; set AMS_ADMIN_PASSWORD on first start to choose it)");
    }
    if cfg.webhook_poll_ms > 0 {
        let deliverer =
            service::webhooks::delivery::Deliverer::new(state.db.clone(), cfg.webhook_settings()?)
                .map_err(|e| e.to_string())?;
        let every = std::time::Duration::from_millis(cfg.webhook_poll_ms);
        tokio::spawn(deliverer.run(every));
    }
    if cfg.schedule_poll_secs > 0 {
        let webhooks = cfg.webhook_settings().ok();
        let scheduled = crate::schedules::Scheduled::new(&state, mailer.clone(), webhooks);
        let every = std::time::Duration::from_secs(cfg.schedule_poll_secs);
        tokio::spawn(scheduled.run_forever(every));
    }
    if cfg.notice_poll_ms > 0 {
        let deliverer = service::mail::delivery::Deliverer::new(
            state.db.clone(),
            mailer,
            service::mail::delivery::Settings {
                pays_online: state.stripe.is_some(),
                ..Default::default()
            },
        );
        tokio::spawn(deliverer.run(std::time::Duration::from_millis(cfg.notice_poll_ms)));
    }
    if let (Some(stripe), true) = (state.stripe.clone(), cfg.autopay_poll_secs > 0) {
        let every = std::time::Duration::from_secs(cfg.autopay_poll_secs);
        tokio::spawn(service::online::charges::run_forever(
            state.db.clone(),
            stripe,
            every,
        ));
    }
    if cfg.job_poll_ms > 0 {
        // JB-1, JB-4: the jobs of servers that died are finished here.
        let runner = crate::jobs::runner(&state);
        tokio::spawn(runner.run_forever(std::time::Duration::from_millis(cfg.job_poll_ms)));
    }
    let state = web::Data::new(state);
    let origins = cfg.cors_origins();
    let routes = Routes::new();
    let mut server =
        HttpServer::new(move || build_app(state.clone(), routes.clone(), origins.clone()));
    if let Some(w) = cfg.workers {
        server = server.workers(w);
    }
    let server = server
        .bind(&cfg.bind)
        .map_err(|e| format!("cannot bind {}: {e}", cfg.bind))?;
    if let Some(address) = &cfg.metrics_bind {
        let metrics = HttpServer::new(|| {
            App::new().route(
                "/metrics",
                web::get().to(|| async { routes::health::exposition() }),
            )
        })
        .workers(1)
        .bind(address)
        .map_err(|e| format!("cannot bind {address} (AMS_METRICS_BIND): {e}"))?;
        println!("Metrics on http://{address}/metrics");
        tokio::spawn(metrics.run());
    }
    println!(
        "AMS listening on http://{}  (Swagger UI: http://{}/swagger-ui/)",
        cfg.bind, cfg.bind
    );
    server.run().await.map_err(|e| e.to_string())
}
