//! Handlers, one module per resource. Handlers only extract, call the service and map.

pub mod auth;
pub mod autopay;
pub mod billing_cycles;
pub mod committees;
pub mod contacts;
pub mod corrections;
pub mod customer_types;
pub mod events;
pub mod health;
pub mod invoices;
pub mod jobs;
pub mod lifecycle;
pub mod lookups;
pub mod me;
pub mod notices;
pub mod online;
pub mod payments;
pub mod pricing;
pub mod products;
pub mod renewals;
pub mod reports;
pub mod schedules;
pub mod segments;
pub mod settings;
pub mod subscriptions;

use utoipa_actix_web::service_config::ServiceConfig;

pub const API_PREFIX: &str = "/api/v1";

/// Each module registers its own routes; within a module, fixed paths come before the
/// parameterised paths they would otherwise match (`/segments/prospects` before
/// `/segments/{id}`).
pub fn configure(cfg: &mut ServiceConfig) {
    auth::configure(cfg);
    settings::configure(cfg);
    customer_types::configure(cfg);
    lookups::configure(cfg);
    products::configure(cfg);
    pricing::configure(cfg);
    contacts::configure(cfg);
    lifecycle::configure(cfg);
    me::configure(cfg);
    billing_cycles::configure(cfg);
    renewals::configure(cfg);
    jobs::configure(cfg);
    schedules::configure(cfg);
    invoices::configure(cfg);
    payments::configure(cfg);
    corrections::configure(cfg);
    online::configure(cfg);
    autopay::configure(cfg);
    notices::configure(cfg);
    subscriptions::configure(cfg);
    segments::configure(cfg);
    committees::configure(cfg);
    reports::configure(cfg);
    events::configure(cfg);
}
