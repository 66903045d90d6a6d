//! The HTTP API: actix-web handlers, DTOs, authentication and the OpenAPI document.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod csv_export;
pub mod dto;
pub mod extract;
pub mod login_limit;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod routes;

pub use app::{AppState, build_state, spec};
