//! Notices to members (N-1, N-3). A notice is written in the transaction of the change that
//! causes it, as events are, naming its kind, the contact it goes to, and the invoice or
//! payment it is about; the address is taken then, and a contact without one gets the notice
//! recorded as `skipped`. Rendering and sending it afterwards is [`crate::mail`]'s; a failed
//! delivery is retried there and never undoes the change.

mod write;

pub use write::{Recipient, for_contacts, for_invoices, for_payment};

/// N-1: a renewal invoice was issued.
pub const RENEWAL_NOTICE: &str = "renewal_notice";
/// I-7: a renewal invoice is still open.
pub const REMINDER: &str = "reminder";
/// A payment was recorded.
pub const RECEIPT: &str = "receipt";
/// G-6: AutoPay's last attempt failed.
pub const PAYMENT_FAILED: &str = "payment_failed";
/// A join was paid.
pub const WELCOME: &str = "welcome";
/// L-1: the membership expired.
pub const EXPIRY: &str = "expiry";
/// AC-2: a link to choose a new password.
pub const PASSWORD_RESET: &str = "password_reset";

pub const KINDS: [&str; 7] = [
    RENEWAL_NOTICE,
    REMINDER,
    RECEIPT,
    PAYMENT_FAILED,
    WELCOME,
    EXPIRY,
    PASSWORD_RESET,
];

/// Waiting to be sent (or retried).
pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
/// Every attempt failed.
pub const FAILED: &str = "failed";
/// The contact has no email address.
pub const SKIPPED: &str = "skipped";
/// No mail server is configured: recorded, not sent.
pub const NOT_SENT: &str = "not_sent";

pub const STATUSES: [&str; 5] = [PENDING, SENT, FAILED, SKIPPED, NOT_SENT];

/// `kind`, when it is one of [`KINDS`].
pub fn kind(kind: &str) -> crate::Result<&'static str> {
    KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .ok_or_else(|| crate::Error::not_found("notice kind", kind))
}
