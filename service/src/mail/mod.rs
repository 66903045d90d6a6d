//! Notices by email (N-2, N-3): each kind's template ([`templates`]), what a template sees and
//! rendering it ([`render`]), sending over SMTP with retries and leases ([`delivery`]), and the
//! delivery log ([`log`]).

pub mod delivery;
pub mod log;
pub mod render;
pub mod templates;
