//! Building the application: state, routes, OpenAPI, Swagger UI and middleware.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use service::Db;
use service::auth::TokenKeys;
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, UtoipaApp, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::extract;
use crate::openapi::{self, ApiDoc};
use crate::problem::ApiError;
use crate::routes;

pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub logins: crate::login_limit::LoginLimiter,
    /// The logins that tokens name, as last read (SEC-8).
    pub login_status: crate::auth::LoginStatus,
    /// Webhooks may reach private networks (SEC-7).
    pub webhook_allow_private_networks: bool,
    /// The address the server listens on.
    pub bind: String,
    /// `GET /metrics` needs no token.
    pub metrics_public: bool,
}

impl AppState {
    /// Where webhooks saved by this request may point: never at the server, by its listen
    /// address or the `Host` the request came in on.
    pub fn outbound_policy(&self, req: &HttpRequest) -> service::outbound::Policy {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        service::outbound::Policy {
            allow_private_networks: self.webhook_allow_private_networks,
            own_authorities: std::iter::once(self.bind.clone()).chain(host).collect(),
        }
    }
}

/// Connects, migrates, seeds and prepares the signing key. Returns the state and, on a
/// first start without `AMS_ADMIN_PASSWORD`, the generated admin password to show once.
pub async fn build_state(cfg: &Config) -> Result<(AppState, Option<String>), service::Error> {
    let db = Db::connect(&cfg.database_url).await?;
    service::bootstrap::prepare(&db).await?;
    let secret = service::bootstrap::jwt_secret(&db, cfg.jwt_secret.clone()).await?;
    let admin_password = service::bootstrap::ensure_admin(&db, cfg.admin_password.clone()).await?;
    let keys = TokenKeys::new(secret.as_bytes(), cfg.token_ttl_seconds);
    let logins = crate::login_limit::LoginLimiter::new(cfg.login_limits());
    let state = AppState {
        db,
        keys,
        logins,
        login_status: crate::auth::LoginStatus::default(),
        webhook_allow_private_networks: cfg.webhook_allow_private_networks,
        bind: cfg.bind.clone(),
        metrics_public: cfg.metrics_public,
    };
    Ok((state, admin_password))
}

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

/// No handler: 405 with `Allow` when the path exists for other methods, else 404.
async fn not_found(req: HttpRequest) -> HttpResponse {
    let err =
        ApiError::method_not_allowed(req.method().as_str(), req.path()).unwrap_or_else(|| {
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
        .app_data(web::QueryConfig::default().error_handler(extract::query_error))
        .app_data(web::PathConfig::default().error_handler(extract::path_error))
        .app_data(web::JsonConfig::default().error_handler(extract::json_error));
    let (app, doc) = with_routes(base.into_utoipa_app()).split_for_parts();
    let doc = openapi::finish(doc);
    app.service(SwaggerUi::new("/swagger-ui/{_:.*}").url("/api-docs/openapi.json", doc))
        .default_service(web::to(not_found))
        .wrap(from_fn(crate::auth::identify))
        .wrap(from_fn(crate::middleware::audit))
        .wrap(from_fn(crate::middleware::refuse_control_text))
        .wrap(cors(&cors_origins))
        .wrap(from_fn(crate::middleware::request_id))
}

/// Runs the HTTP server until it is stopped: `ams serve`.
pub async fn serve(cfg: Config) -> Result<(), String> {
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
    let state = web::Data::new(state);
    let origins = cfg.cors_origins();
    let mut server = HttpServer::new(move || build_app(state.clone(), origins.clone()));
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
