//! Login abuse: the limits are counted in the database by `service::login_limits`, so that
//! several servers on one database count the same attempts (JB-4).

pub use service::login_limits::{Allowed, Limits, LoginLimiter};
