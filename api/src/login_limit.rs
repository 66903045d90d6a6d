//! Login abuse: failed logins are counted per client address and username, and every login
//! attempt per client address. Past either limit `/auth/token` answers 429 with
//! `Retry-After` until the window ends, even for the right password, so guessing gains
//! nothing. Self-registrations are counted per client address and hour, so that one client
//! cannot mint accounts by the thousand. Counts live in the process: each server process
//! limits on its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Entries kept before expired ones are swept, so that a flood of made-up usernames cannot
/// grow memory without bound.
const SWEEP_AT: usize = 50_000;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failed logins per (address, username) within `lockout`.
    pub max_failures: u32,
    pub lockout: Duration,
    /// Attempts per address within a minute.
    pub attempts_per_minute: u32,
    /// Self-registrations per address within an hour.
    pub registrations_per_hour: u32,
}

struct Window {
    started: Instant,
    count: u32,
}

pub struct LoginLimiter {
    limits: Limits,
    failures: Mutex<HashMap<(IpAddr, String), Window>>,
    attempts: Mutex<HashMap<IpAddr, Window>>,
    registrations: Mutex<HashMap<IpAddr, Window>>,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// Seconds until `window` (of length `span`) ends, if its count has reached `max`.
fn blocked(window: Option<&Window>, span: Duration, max: u32, now: Instant) -> Option<u64> {
    let w = window?;
    let ends = w.started + span;
    (w.count >= max && ends > now).then(|| (ends - now).as_secs().max(1))
}

fn bump<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, Window>,
    key: K,
    span: Duration,
    now: Instant,
) {
    if map.len() >= SWEEP_AT {
        map.retain(|_, w| w.started + span > now);
    }
    let w = map.entry(key).or_insert(Window {
        started: now,
        count: 0,
    });
    if w.started + span <= now {
        *w = Window {
            started: now,
            count: 0,
        };
    }
    w.count += 1;
}

impl LoginLimiter {
    pub fn new(limits: Limits) -> Self {
        LoginLimiter {
            limits,
            failures: Mutex::new(HashMap::new()),
            attempts: Mutex::new(HashMap::new()),
            registrations: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a registration attempt; `Err(seconds)` when the address must wait first.
    pub fn register(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut seen = self
            .registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(wait) = blocked(seen.get(&ip), HOUR, self.limits.registrations_per_hour, now) {
            return Err(wait);
        }
        bump(&mut seen, ip, HOUR, now);
        Ok(())
    }

    fn key(ip: IpAddr, username: &str) -> (IpAddr, String) {
        (ip, username.trim().to_lowercase())
    }

    /// Counts an attempt; `Err(seconds)` when the caller must wait that long first.
    pub fn attempt(&self, ip: IpAddr, username: &str) -> Result<(), u64> {
        let now = Instant::now();
        {
            let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
            let key = Self::key(ip, username);
            if let Some(wait) = blocked(
                failures.get(&key),
                self.limits.lockout,
                self.limits.max_failures,
                now,
            ) {
                return Err(wait);
            }
        }
        let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(wait) = blocked(
            attempts.get(&ip),
            MINUTE,
            self.limits.attempts_per_minute,
            now,
        ) {
            return Err(wait);
        }
        bump(&mut attempts, ip, MINUTE, now);
        Ok(())
    }

    pub fn failed(&self, ip: IpAddr, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        bump(
            &mut failures,
            Self::key(ip, username),
            self.limits.lockout,
            Instant::now(),
        );
    }

    pub fn succeeded(&self, ip: IpAddr, username: &str) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&Self::key(ip, username));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(Limits {
            max_failures: 3,
            lockout: Duration::from_secs(900),
            attempts_per_minute: 5,
            registrations_per_hour: 2,
        })
    }

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn failures_lock_the_username_for_that_address_only() {
        let l = limiter();
        for _ in 0..3 {
            assert!(l.attempt(IP, "Ann").is_ok());
            l.failed(IP, "Ann");
        }
        let wait = l.attempt(IP, " ann ").expect_err("locked");
        assert!((890..=900).contains(&wait), "{wait}");
        assert!(l.attempt(IP, "bob").is_ok());
    }

    #[test]
    fn a_success_clears_the_failures() {
        let l = limiter();
        l.failed(IP, "ann");
        l.failed(IP, "ann");
        l.succeeded(IP, "ann");
        l.failed(IP, "ann");
        assert!(l.attempt(IP, "ann").is_ok());
    }

    #[test]
    fn registrations_per_address_are_limited_per_hour() {
        let l = limiter();
        assert!(l.register(IP).is_ok());
        assert!(l.register(IP).is_ok());
        let wait = l.register(IP).expect_err("too many");
        assert!((3590..=3600).contains(&wait), "{wait}");
        assert!(
            l.register(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)))
                .is_ok()
        );
    }

    #[test]
    fn attempts_per_address_are_limited_per_minute() {
        let l = limiter();
        for i in 0..5 {
            assert!(l.attempt(IP, &format!("user{i}")).is_ok());
        }
        let wait = l.attempt(IP, "other").expect_err("too many");
        assert!((1..=60).contains(&wait), "{wait}");
    }
}
