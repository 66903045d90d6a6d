//! Membership lifecycle actions over many contacts: expiry (L-1), mass change (L-4) and purge
//! (CS-4). Each previews with `dry_run`, writes in set-based statements inside one transaction,
//! records history per contact and one audit event per action.

pub mod expire;
pub mod mass_change;
pub mod purge;
mod retype;

pub use retype::ContactChange;
