//! Login rate limiting: failures are counted per account and per client address; after too
//! many failures within a window the key is locked out for a while and logins answer 429
//! with `Retry-After`. Time comes from the service clock, so tests move it forward.
//!
//! The table lives in memory (one process) and holds at most [`MAX_KEYS`] keys; when full,
//! expired entries are dropped first, then the oldest unlocked one.

use std::collections::HashMap;
use std::sync::Mutex;

/// Most keys tracked at once (bounded memory under a spray of addresses or names).
pub const MAX_KEYS: usize = 100_000;

/// Failures counted, and lockout, for one key kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures within `window_secs` that lock the key.
    pub max_failures: u32,
    /// How long failures are remembered, in seconds.
    pub window_secs: i64,
    /// How long a locked key stays locked, in seconds.
    pub lockout_secs: i64,
}

/// Per account: 5 failures in 15 minutes lock the account for 15 minutes.
pub const ACCOUNT: Policy = Policy { max_failures: 5, window_secs: 900, lockout_secs: 900 };
/// Per client address: 20 failures in 15 minutes lock the address for 15 minutes.
pub const ADDRESS: Policy = Policy { max_failures: 20, window_secs: 900, lockout_secs: 900 };

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    first_at: i64,
    locked_until: i64,
}

/// The failure counters of every key.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self::default()
    }

    /// `Err(seconds to wait)` if any of `keys` is locked at `now`.
    pub fn check(&self, keys: &[&str], now: i64) -> Result<(), i64> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let wait = keys.iter().filter_map(|k| entries.get(*k)).map(|e| e.locked_until - now).max().unwrap_or(0);
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    /// Counts a failure for `key`; `Some(seconds)` if it is now locked.
    pub fn failure(&self, key: &str, policy: Policy, now: i64) -> Option<i64> {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !entries.contains_key(key) && entries.len() >= MAX_KEYS {
            entries.retain(|_, e| e.locked_until > now || now - e.first_at < policy.window_secs);
            if entries.len() >= MAX_KEYS {
                let oldest = entries
                    .iter()
                    .filter(|(_, e)| e.locked_until <= now)
                    .min_by_key(|(_, e)| e.first_at)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => {
                        entries.remove(&k);
                    }
                    None => return None,
                }
            }
        }
        let entry = entries.entry(key.to_owned()).or_insert(Entry { failures: 0, first_at: now, locked_until: 0 });
        if now - entry.first_at >= policy.window_secs || (entry.locked_until != 0 && entry.locked_until <= now) {
            *entry = Entry { failures: 0, first_at: now, locked_until: 0 };
        }
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures >= policy.max_failures {
            entry.locked_until = now + policy.lockout_secs;
            return Some(policy.lockout_secs);
        }
        None
    }

    /// Forgets the failures of `key` (after a successful login).
    pub fn success(&self, key: &str) {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_and_unlocks_after_the_lockout() {
        let limiter = LoginLimiter::new();
        let now = 1_000;
        for i in 0..4 {
            assert_eq!(limiter.failure("a", ACCOUNT, now + i), None);
            assert!(limiter.check(&["a"], now + i).is_ok());
        }
        assert_eq!(limiter.failure("a", ACCOUNT, now + 4), Some(900));
        assert_eq!(limiter.check(&["b", "a"], now + 5), Err(899));
        assert!(limiter.check(&["b"], now + 5).is_ok());
        assert!(limiter.check(&["a"], now + 904).is_ok());
        // After the lockout the count starts again.
        assert_eq!(limiter.failure("a", ACCOUNT, now + 905), None);
    }

    #[test]
    fn old_failures_expire_and_success_resets() {
        let limiter = LoginLimiter::new();
        for i in 0..4 {
            limiter.failure("a", ACCOUNT, i);
        }
        assert_eq!(limiter.failure("a", ACCOUNT, 2_000), None, "the window had passed");
        for i in 0..3 {
            limiter.failure("b", ACCOUNT, i);
        }
        limiter.success("b");
        for i in 0..4 {
            assert_eq!(limiter.failure("b", ACCOUNT, 10 + i), None);
        }
    }

    #[test]
    fn memory_is_bounded() {
        let limiter = LoginLimiter::new();
        for i in 0..(MAX_KEYS + 50) {
            limiter.failure(&format!("k{i}"), ADDRESS, 0);
        }
        assert!(limiter.entries.lock().unwrap().len() <= MAX_KEYS);
    }
}
