//! Configuration from the environment (`AMS_*`), with defaults that run out of the box.

use clap::Args;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://ams.db?mode=rwc";

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://file.db?mode=rwc` or `postgres://user:pass@host/db`.
    #[arg(long, env = "AMS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
    /// Address to listen on.
    #[arg(
        long,
        env = "AMS_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,
    /// Secret for signing tokens; generated once and kept in the database when absent.
    #[arg(long, env = "AMS_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// Password of the first staff user `admin`; random and printed once when absent.
    #[arg(
        long,
        env = "AMS_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<String>,
    /// Log filter, e.g. `info` or `api=debug,info`.
    #[arg(long, env = "AMS_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Log format: `text` or `json`.
    #[arg(long, env = "AMS_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
    /// Comma-separated origins allowed by CORS (`*` for any).
    #[arg(long, env = "AMS_CORS_ORIGINS", default_value = "", global = true)]
    pub cors_origins: String,
    /// Lifetime of access tokens in seconds.
    #[arg(
        long,
        env = "AMS_TOKEN_TTL_SECONDS",
        default_value_t = 3600,
        global = true
    )]
    pub token_ttl_seconds: i64,
    /// Failed logins per client address and username before `/auth/token` answers 429.
    #[arg(
        long,
        env = "AMS_LOGIN_MAX_FAILURES",
        default_value_t = 5,
        global = true
    )]
    pub login_max_failures: u32,
    /// How long those failures count, and the lockout after them, in seconds.
    #[arg(
        long,
        env = "AMS_LOGIN_LOCKOUT_SECONDS",
        default_value_t = 900,
        global = true
    )]
    pub login_lockout_seconds: u64,
    /// Login attempts per client address per minute.
    #[arg(
        long,
        env = "AMS_LOGIN_ATTEMPTS_PER_MINUTE",
        default_value_t = 60,
        global = true
    )]
    pub login_attempts_per_minute: u32,
    /// Self-registrations (`POST /auth/register`) per client address per hour.
    #[arg(
        long,
        env = "AMS_REGISTRATIONS_PER_HOUR",
        default_value_t = 20,
        global = true
    )]
    pub registrations_per_hour: u32,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "AMS_WORKERS", global = true)]
    pub workers: Option<usize>,
    /// Seconds before each webhook retry, comma-separated; one attempt more than delays.
    #[arg(
        long,
        env = "AMS_WEBHOOK_RETRY_SECONDS",
        default_value = "5,300,1800,7200,18000,36000,36000",
        global = true
    )]
    pub webhook_retry_seconds: String,
    /// How long a webhook receiver may take to answer, in seconds.
    #[arg(
        long,
        env = "AMS_WEBHOOK_TIMEOUT_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub webhook_timeout_seconds: u64,
    /// How often the server looks for events to deliver, in milliseconds (0: never; another
    /// server on the same database delivers).
    #[arg(
        long,
        env = "AMS_WEBHOOK_POLL_MS",
        default_value_t = 1000,
        global = true
    )]
    pub webhook_poll_ms: u64,
    /// Let webhooks reach loopback, private and link-local addresses (development and tests;
    /// never in production, SEC-7).
    #[arg(
        long,
        env = "AMS_WEBHOOK_ALLOW_PRIVATE_NETWORKS",
        default_value_t = false,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub webhook_allow_private_networks: bool,
    /// Serve `GET /metrics` without a token on the main address.
    #[arg(
        long,
        env = "AMS_METRICS_PUBLIC",
        default_value_t = false,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub metrics_public: bool,
    /// A separate address that serves only `GET /metrics`, without a token (for a scraper on
    /// an internal network).
    #[arg(long, env = "AMS_METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,
    /// G-1: the payment provider's API (Stripe's own, or a compatible server).
    #[arg(
        long,
        env = "AMS_STRIPE_API_BASE",
        default_value = "https://api.stripe.com",
        global = true
    )]
    pub stripe_api_base: String,
    /// G-1: the provider's secret key; without it online payments answer 503.
    #[arg(
        long,
        env = "AMS_STRIPE_SECRET_KEY",
        hide_env_values = true,
        global = true
    )]
    pub stripe_secret_key: Option<String>,
    /// G-3: the secret that signs the provider's events.
    #[arg(
        long,
        env = "AMS_STRIPE_WEBHOOK_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub stripe_webhook_secret: Option<String>,
    /// G-5, G-6: how often the server charges what is due (AutoPay retries, instalment parts);
    /// 0 leaves it to `POST /autopay/charges/run`. Several servers may all run it.
    #[arg(
        long,
        env = "AMS_AUTOPAY_POLL_SECS",
        default_value_t = 300,
        global = true
    )]
    pub autopay_poll_secs: u64,
    /// N-3: the mail server notices go through (`smtp://host:port`, `smtps://user:pass@host`,
    /// `smtp://host?tls=required`); without it notices are recorded, not sent.
    #[arg(long, env = "AMS_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,
    /// N-3: the sender of notices.
    #[arg(
        long,
        env = "AMS_MAIL_FROM",
        default_value = "AMS <noreply@localhost>",
        global = true
    )]
    pub mail_from: String,
    /// N-3: how often the server delivers notices; 0 leaves delivery to another server.
    #[arg(
        long,
        env = "AMS_NOTICE_POLL_MS",
        default_value_t = 1000,
        global = true
    )]
    pub notice_poll_ms: u64,
    /// The addresses of load balancers in front of this server (comma-separated): a request
    /// from one of them is counted against the client it names in `X-Forwarded-For` (login
    /// limits), the nearest address that is not a listed proxy. Others cannot claim an address.
    #[arg(long, env = "AMS_TRUSTED_PROXIES", default_value = "", global = true)]
    pub trusted_proxies: String,
    /// JB-1: how long a running job stays its server's without a heartbeat; after that another
    /// server takes it over. Every server on one database should use the same value.
    #[arg(long, env = "AMS_JOB_LEASE_SECS", default_value_t = 30, global = true)]
    pub job_lease_secs: u64,
    /// JB-1, JB-4: how often the server looks for jobs to take over (their server died);
    /// 0 leaves that to another server.
    #[arg(long, env = "AMS_JOB_POLL_MS", default_value_t = 1000, global = true)]
    pub job_poll_ms: u64,
    /// JB-3: how often the server looks for scheduled work that is due (0: never; another
    /// server on the same database runs it).
    #[arg(
        long,
        env = "AMS_SCHEDULE_POLL_SECS",
        default_value_t = 30,
        global = true
    )]
    pub schedule_poll_secs: u64,
}

impl Config {
    pub fn login_limits(&self) -> crate::login_limit::Limits {
        crate::login_limit::Limits {
            max_failures: self.login_max_failures,
            lockout: std::time::Duration::from_secs(self.login_lockout_seconds),
            attempts_per_minute: self.login_attempts_per_minute,
            registrations_per_hour: self.registrations_per_hour,
        }
    }

    pub fn webhook_settings(&self) -> Result<service::webhooks::delivery::Settings, String> {
        let retry_delays = crate::dto::comma_list(Some(&self.webhook_retry_seconds))
            .iter()
            .map(|s| {
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(std::time::Duration::from_secs_f64)
                    .ok_or_else(|| {
                        format!("AMS_WEBHOOK_RETRY_SECONDS: `{s}` is not a number of seconds")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(service::webhooks::delivery::Settings {
            retry_delays,
            timeout: std::time::Duration::from_secs(self.webhook_timeout_seconds.max(1)),
            policy: service::outbound::Policy {
                allow_private_networks: self.webhook_allow_private_networks,
                own_authorities: vec![self.bind.clone()],
            },
            ..Default::default()
        })
    }

    /// G-1: the provider, when both its secret key and its webhook secret are set.
    pub fn stripe(&self) -> Option<service::online::Stripe> {
        let (Some(secret_key), Some(webhook_secret)) =
            (&self.stripe_secret_key, &self.stripe_webhook_secret)
        else {
            return None;
        };
        Some(service::online::Stripe::new(
            service::online::StripeConfig {
                api_base: self.stripe_api_base.clone(),
                secret_key: secret_key.clone(),
                webhook_secret: webhook_secret.clone(),
            },
        ))
    }

    /// JB-1: the lease of a running job, renewed by a heartbeat three times per lease or more.
    pub fn job_timing(&self) -> service::jobs::runner::Timing {
        let lease = std::time::Duration::from_secs(self.job_lease_secs.max(1));
        service::jobs::runner::Timing {
            lease,
            beat: (lease / 4).min(std::time::Duration::from_secs(2)),
        }
    }

    /// The load balancers' addresses; a word that is not an address stops the server.
    pub fn trusted_proxies(&self) -> Result<Vec<std::net::IpAddr>, String> {
        crate::dto::comma_list(Some(&self.trusted_proxies))
            .iter()
            .map(|a| {
                a.parse()
                    .map_err(|_| format!("AMS_TRUSTED_PROXIES: `{a}` is not an IP address"))
            })
            .collect()
    }

    pub fn cors_origins(&self) -> Vec<String> {
        crate::dto::comma_list(Some(&self.cors_origins))
    }

    /// Defaults for tests and embedding: everything but the database URL.
    pub fn for_database(database_url: &str) -> Self {
        Config {
            database_url: database_url.to_owned(),
            bind: "127.0.0.1:0".into(),
            jwt_secret: None,
            admin_password: None,
            log: "warn".into(),
            log_format: "text".into(),
            cors_origins: String::new(),
            token_ttl_seconds: 3600,
            login_max_failures: 5,
            login_lockout_seconds: 900,
            login_attempts_per_minute: 60,
            registrations_per_hour: 20,
            workers: Some(1),
            webhook_retry_seconds: "5,300,1800,7200,18000,36000,36000".into(),
            webhook_timeout_seconds: 10,
            webhook_poll_ms: 0,
            webhook_allow_private_networks: false,
            metrics_public: false,
            metrics_bind: None,
            stripe_api_base: "https://api.stripe.com".into(),
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            autopay_poll_secs: 0,
            smtp_url: None,
            mail_from: "AMS <noreply@localhost>".into(),
            notice_poll_ms: 0,
            trusted_proxies: String::new(),
            job_lease_secs: 30,
            job_poll_ms: 0,
            schedule_poll_secs: 0,
        }
    }
}
