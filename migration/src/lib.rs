//! Schema migrations. One change per file; every file runs on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_reference_data;
mod m20261122_000002_contacts;
mod m20261122_000003_users;
mod m20261122_000004_pricing;
mod m20261122_000005_subscriptions;
mod m20261122_000006_billing_cycles;
mod m20261122_000007_invoices;
mod m20261122_000008_invoice_adjustments;
mod m20261122_000009_renewal_runs;
mod m20261122_000010_batches;
mod m20261122_000011_lifecycle;
mod m20261122_000012_lean_indexes;
mod m20261122_000013_events;
mod m20261123_000014_unfiltered_index;
mod m20261207_000015_usernames_any_case;
mod m20261207_000016_cycle_options_default_is_null;
mod m20261207_000017_committees;
mod m20261207_000018_mailing_and_join_date_pricing;
mod m20261207_000019_run_autopay_option;
mod m20261207_000020_cycle_proration_rules;
mod m20261207_000021_money_corrections;
mod m20261207_000022_credit_and_write_offs;
mod m20261207_000023_instalments;
mod m20261207_000024_online_payments;
mod m20261207_000025_saved_cards_and_charges;
mod m20261207_000026_notices;
mod m20261207_000027_duplicate_keys;
mod m20261207_000028_audit_subject_text;
mod m20261207_000029_merge_and_imported_history;
mod m20261207_000030_jobs;
mod m20261207_000031_login_counters;
mod m20261207_000032_renewal_previews;
mod m20261207_000033_schedules;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_reference_data::Migration),
            Box::new(m20261122_000002_contacts::Migration),
            Box::new(m20261122_000003_users::Migration),
            Box::new(m20261122_000004_pricing::Migration),
            Box::new(m20261122_000005_subscriptions::Migration),
            Box::new(m20261122_000006_billing_cycles::Migration),
            Box::new(m20261122_000007_invoices::Migration),
            Box::new(m20261122_000008_invoice_adjustments::Migration),
            Box::new(m20261122_000009_renewal_runs::Migration),
            Box::new(m20261122_000010_batches::Migration),
            Box::new(m20261122_000011_lifecycle::Migration),
            Box::new(m20261122_000012_lean_indexes::Migration),
            Box::new(m20261122_000013_events::Migration),
            Box::new(m20261123_000014_unfiltered_index::Migration),
            Box::new(m20261207_000015_usernames_any_case::Migration),
            Box::new(m20261207_000016_cycle_options_default_is_null::Migration),
            Box::new(m20261207_000017_committees::Migration),
            Box::new(m20261207_000018_mailing_and_join_date_pricing::Migration),
            Box::new(m20261207_000019_run_autopay_option::Migration),
            Box::new(m20261207_000020_cycle_proration_rules::Migration),
            Box::new(m20261207_000021_money_corrections::Migration),
            Box::new(m20261207_000022_credit_and_write_offs::Migration),
            Box::new(m20261207_000023_instalments::Migration),
            Box::new(m20261207_000024_online_payments::Migration),
            Box::new(m20261207_000025_saved_cards_and_charges::Migration),
            Box::new(m20261207_000026_notices::Migration),
            Box::new(m20261207_000027_duplicate_keys::Migration),
            Box::new(m20261207_000028_audit_subject_text::Migration),
            Box::new(m20261207_000029_merge_and_imported_history::Migration),
            Box::new(m20261207_000030_jobs::Migration),
            Box::new(m20261207_000031_login_counters::Migration),
            Box::new(m20261207_000032_renewal_previews::Migration),
            Box::new(m20261207_000033_schedules::Migration),
        ]
    }
}
