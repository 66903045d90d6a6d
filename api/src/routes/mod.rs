//! Handlers, one module per resource. Handlers only extract, call the service and map.

pub mod auth;
pub mod billing_cycles;
pub mod contacts;
pub mod customer_types;
pub mod events;
pub mod health;
pub mod invoices;
pub mod lifecycle;
pub mod lookups;
pub mod me;
pub mod pricing;
pub mod products;
pub mod renewals;
pub mod reports;
pub mod segments;
pub mod settings;
pub mod subscriptions;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use serde::Serialize;

use crate::extract::etag;

pub const API_PREFIX: &str = "/api/v1";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(auth::token)
        .service(auth::register)
        .service(auth::create_user)
        .service(settings::get_settings)
        .service(settings::put_settings)
        .service(customer_types::list)
        .service(customer_types::create)
        .service(customer_types::get)
        .service(customer_types::update)
        .service(customer_types::delete)
        .service(lookups::list_categories)
        .service(lookups::create_category)
        .service(lookups::get_category)
        .service(lookups::update_category)
        .service(lookups::delete_category)
        .service(lookups::list_statuses)
        .service(lookups::create_status)
        .service(lookups::get_status)
        .service(lookups::update_status)
        .service(lookups::delete_status)
        .service(products::list)
        .service(products::create)
        // `/products/{code}/price` before `/products/{code}`, so a reader sees both at once.
        .service(pricing::product_price)
        .service(products::get)
        .service(products::update)
        .service(products::delete)
        .service(pricing::list_rules)
        .service(pricing::create_rule)
        .service(pricing::get_rule)
        .service(pricing::update_rule)
        .service(pricing::delete_rule)
        .service(pricing::list_groups)
        .service(pricing::create_group)
        .service(pricing::get_group)
        .service(pricing::update_group)
        .service(pricing::delete_group)
        .service(pricing::list_members)
        .service(pricing::add_members)
        .service(pricing::remove_member)
        .service(contacts::list)
        .service(contacts::create)
        .service(lifecycle::mass_change)
        .service(lifecycle::purge_contacts)
        .service(contacts::get)
        .service(contacts::update)
        .service(contacts::history)
        .service(me::get_me)
        .service(me::patch_me)
        .service(me::my_history)
        .service(billing_cycles::list)
        .service(billing_cycles::create)
        .service(billing_cycles::get)
        .service(billing_cycles::update)
        .service(billing_cycles::delete)
        .service(renewals::create)
        .service(renewals::list)
        .service(renewals::get)
        .service(renewals::renew_months)
        .service(renewals::renew_in_advance)
        .service(renewals::my_renewal)
        .service(renewals::itemize_my_renewal)
        .service(renewals::reminders)
        .service(invoices::list)
        .service(invoices::get)
        .service(invoices::for_contact)
        .service(invoices::mine)
        .service(invoices::join_contact)
        .service(invoices::join_me)
        .service(invoices::pay)
        .service(invoices::void)
        .service(invoices::cancel)
        .service(invoices::adjust_invoice)
        .service(invoices::adjustments)
        .service(invoices::get_batch)
        .service(invoices::post_batch)
        .service(invoices::delete_batch)
        .service(subscriptions::list)
        .service(subscriptions::create)
        .service(subscriptions::import_rows)
        .service(subscriptions::get)
        .service(subscriptions::update)
        .service(subscriptions::delete)
        .service(subscriptions::for_contact)
        .service(subscriptions::mine)
        .service(lifecycle::expire_members)
        .service(lifecycle::audit_events)
        // The fixed segments before `/segments/{id}`.
        .service(segments::previous_members)
        .service(segments::prospects)
        .service(segments::create)
        .service(segments::list)
        .service(segments::get)
        .service(segments::update)
        .service(segments::delete)
        .service(segments::contacts)
        .service(reports::membership_mix)
        .service(reports::membership_counts)
        .service(reports::billing_report)
        .service(events::list)
        .service(events::get)
        .service(events::create_webhook)
        .service(events::list_webhooks)
        .service(events::get_webhook)
        .service(events::update_webhook)
        .service(events::delete_webhook)
        .service(events::deliveries)
        .service(events::redeliver)
        .service(events::reveal_secret);
}

/// A single resource with its `ETag`.
pub fn versioned<T: Serialize>(status: StatusCode, version: i32, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// 201 with `Location` and `ETag`.
pub fn created<T: Serialize>(location: String, version: i32, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// Percent-encodes a code for use in a `Location` path segment (`CHAPT/EAST` -> `CHAPT%2FEAST`).
pub fn path_segment(code: &str) -> String {
    code.replace('%', "%25").replace('/', "%2F")
}
