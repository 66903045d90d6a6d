//! The HTTP API: actix-web handlers, DTOs, authentication and the OpenAPI document.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod contact_pages;
pub mod csv_export;
pub mod dto;
pub mod extract;
pub mod idempotent;
pub mod import_report;
pub mod import_upload;
pub mod jobs;
pub mod login_limit;
pub mod login_status;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod reference_import;
pub mod respond;
pub mod route_table;
pub mod routes;
pub mod schedules;
pub mod schema_shape;
pub mod state;

pub use app::spec;
pub use state::{AppState, build_state};
