//! SeaORM entities, one module per table. No logic lives here.

pub mod billing_category;
pub mod billing_cycle;
pub mod billing_cycle_category;
pub mod billing_cycle_customer_type;
pub mod billing_cycle_product;
pub mod contact;
pub mod contact_history;
pub mod contact_status;
pub mod contact_tag;
pub mod customer_type;
pub mod customer_type_product;
pub mod idempotency_key;
pub mod invoice;
pub mod invoice_adjustment;
pub mod invoice_line;
pub mod membership_settings;
pub mod payment;
pub mod pricing_group;
pub mod pricing_group_member;
pub mod pricing_rule;
pub mod product;
pub mod renewal_run;
pub mod renewal_run_skip;
pub mod server_secret;
pub mod subscription;
pub mod user;
