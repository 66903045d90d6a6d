//! Billing: lines (I-1, P-5, T-4), joins (J-1..J-5), invoices (I-2, I-6) and payments
//! (I-3, I-4), and what a payment in full does (J-5, L-6, C-7).

pub mod adjust;
pub mod batches;
pub mod billed;
pub mod complete;
pub mod credit;
pub mod credit_notes;
pub mod effects;
pub mod instalments;
pub mod invoices;
pub mod join;
pub mod lines;
pub mod one_off;
pub mod payment_import;
pub mod payment_list;
pub mod payments;
pub mod refunds;
pub mod reminders;
pub mod write_off;
