//! The domain: DOMAIN.md's rules as plain functions and database operations.
//! No web framework here; every operation takes the dates it needs as inputs.

pub mod access;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod billing;
pub mod billing_categories;
pub mod billing_cycles;
pub mod bootstrap;
pub mod clock;
pub mod codes;
pub mod column_map;
pub mod committees;
pub mod contact_filter;
pub mod contact_statuses;
pub mod contacts;
pub mod counters;
pub mod customer_types;
pub mod dates;
pub mod db;
pub mod demo;
pub mod documents;
pub mod duplicates;
pub mod error;
pub mod events;
pub mod flow_down;
pub mod history;
pub mod history_import;
pub mod http;
pub mod idempotency;
pub mod import;
pub mod jobs;
pub mod lifecycle;
pub mod login_limits;
pub mod lookup;
pub mod mail;
pub mod membership;
pub mod money;
pub mod notices;
pub mod online;
pub mod outbound;
pub mod page;
pub mod paid_through;
pub mod pricing;
pub mod products;
pub mod renewals;
pub mod reports;
pub mod row_batches;
pub mod row_reader;
pub mod schedules;
pub mod segments;
pub mod settings;
pub mod spreadsheet;
pub mod sql;
pub mod subscriptions;
pub mod tags;
pub mod terms;
pub mod text;
pub mod usage;
pub mod users;
pub mod webhooks;

pub use db::Db;
/// The stored rows that some results carry, for the layers above (which depend on this crate
/// alone).
pub use entity;
pub use error::{Error, FieldError, Result};
