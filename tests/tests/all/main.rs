//! Every integration test as a module of one binary, linked once rather than once per file.
//! A test that needs the process to itself (its peak memory) runs alone in a child process,
//! see `tests::alone`.

mod access_matrix;
mod audit;
mod auth;
mod autopay;
mod backup;
mod billing;
mod billing_cycles;
mod cli_expire;
mod committees;
mod concurrency;
mod contact_import;
mod contacts;
mod conventions;
mod demo;
mod documents;
mod events;
mod exports;
mod faults;
mod jobs;
mod join_date_pricing;
mod json_logs;
mod killed_run;
mod lifecycle;
mod mailing_lists;
mod migrations;
mod money;
mod notices;
mod online;
mod online_refunds;
mod openapi;
mod payment_import;
mod previews;
mod pricing;
mod reference_data;
mod renewals;
mod reports;
mod schedules;
mod security;
mod segments;
mod smoke;
mod subscription_import;
mod subscriptions;
