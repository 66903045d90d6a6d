//! SEC-8: the logins that bearer tokens name, as last read, so that a token stops working
//! soon after its login is removed or changed without a read on every request.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use service::users::Role;

/// What a login is now (`None`: it no longer exists), as read at most [`FRESH`] ago.
pub type Login = Option<(Role, Option<i64>)>;

/// How long a login read stays good for the tokens that name it.
const FRESH: Duration = Duration::from_secs(1);

/// Entries kept before stale ones are swept, so that tokens naming made-up users cannot grow
/// memory without bound.
const SWEEP_AT: usize = 100_000;

/// The logins that tokens name, as last read. Reading the login on every request halved the
/// throughput of a cheap read; read at most once a second per login, a removed login's tokens
/// stop within a second on every server, and at once on the server that removed it
/// ([`LoginStatus::forget_all`]).
#[derive(Default)]
pub struct LoginStatus {
    seen: Mutex<HashMap<i64, (Login, Instant)>>,
}

impl LoginStatus {
    pub async fn current(&self, db: &service::Db, user_id: i64) -> Result<Login, service::Error> {
        let now = Instant::now();
        let cached = self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user_id)
            .filter(|(_, at)| now.duration_since(*at) < FRESH)
            .map(|(login, _)| *login);
        if let Some(login) = cached {
            return Ok(login);
        }
        let login = service::users::current(&db.conn, user_id).await?;
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= SWEEP_AT {
            seen.retain(|_, (_, at)| now.duration_since(*at) < FRESH);
        }
        seen.insert(user_id, (login, now));
        Ok(login)
    }

    /// Forgets every login read: this server has just removed logins (a purge), and their
    /// tokens stop here at once rather than within [`FRESH`].
    pub fn forget_all(&self) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
