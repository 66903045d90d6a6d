//! What every request can reach: the database, the signing keys, the login limits and the
//! settings that shape requests; made once at start.

use actix_web::HttpRequest;
use actix_web::http::header;
use service::Db;
use service::auth::TokenKeys;

use crate::config::Config;
use crate::login_limit::LoginLimiter;
use crate::login_status::LoginStatus;

pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub logins: LoginLimiter,
    /// The logins that tokens name, as last read (SEC-8).
    pub login_status: LoginStatus,
    /// Webhooks may reach private networks (SEC-7).
    pub webhook_allow_private_networks: bool,
    /// The address the server listens on.
    pub bind: String,
    /// `GET /metrics` needs no token.
    pub metrics_public: bool,
    /// G-1: the payment provider, when configured.
    pub stripe: Option<service::online::Stripe>,
    /// JB-1: this server among those on one database (a job's owner).
    pub server_id: String,
    /// Load balancers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub job_timing: service::jobs::runner::Timing,
}

impl AppState {
    /// The client's address: the peer's, or behind a trusted load balancer the nearest
    /// address in `X-Forwarded-For` that is not one of them.
    pub fn client_address(&self, req: &HttpRequest) -> std::net::IpAddr {
        let peer = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let forwarded: Vec<std::net::IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        forwarded
            .into_iter()
            .rev()
            .find(|a| !self.trusted_proxies.contains(a))
            .unwrap_or(peer)
    }

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
    let logins = LoginLimiter::new(db.clone(), cfg.login_limits());
    let state = AppState {
        db,
        keys,
        logins,
        login_status: LoginStatus::default(),
        webhook_allow_private_networks: cfg.webhook_allow_private_networks,
        bind: cfg.bind.clone(),
        metrics_public: cfg.metrics_public,
        stripe: cfg.stripe(),
        server_id: crate::jobs::server_id(),
        trusted_proxies: cfg
            .trusted_proxies()
            .map_err(|e| service::Error::invalid("AMS_TRUSTED_PROXIES", e))?,
        job_timing: cfg.job_timing(),
    };
    Ok((state, admin_password))
}
