//! Reviewer passwords: Argon2id hashes in PHC string form.
//!
//! Parameters follow OWASP's Argon2id recommendation (19 MiB, 2 passes, 1 lane). Hashing and
//! verifying are CPU- and memory-heavy, so callers run them on a blocking thread. A login for
//! an unknown account verifies against a fixed dummy hash, so the response time does not tell
//! whether the account exists.

use std::fmt;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::random_bytes;

/// Shortest accepted password, in characters.
pub const MIN_CHARS: usize = 12;
/// Longest accepted password, in bytes (bounds the hashing work per request).
pub const MAX_BYTES: usize = 256;

/// Why a password or hash was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short, too long, or with control characters.
    #[error("a password must be {MIN_CHARS} to {MAX_BYTES} bytes long without control characters")]
    Policy,
    /// The hashing library failed (never expected with valid parameters).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// A password that meets the policy. `Debug` never prints it.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    /// Parses a new password (account creation): 12-256 bytes, no control characters.
    pub fn parse_new(text: &str) -> Result<Self, PasswordError> {
        let ok = text.chars().count() >= MIN_CHARS && text.len() <= MAX_BYTES && !text.chars().any(char::is_control);
        if ok { Ok(Self(text.to_owned())) } else { Err(PasswordError::Policy) }
    }

    /// A login attempt's password; only the length is bounded (the policy may have changed).
    pub fn parse_attempt(text: &str) -> Option<Self> {
        (!text.is_empty() && text.len() <= MAX_BYTES).then(|| Self(text.to_owned()))
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

fn hasher() -> Argon2<'static> {
    // 19 MiB, t = 2, p = 1: valid constants, so `new` cannot fail; fall back to the defaults anyway.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with a fresh random salt; the PHC string (`$argon2id$v=19$...`).
pub fn hash(password: &Password) -> Result<String, PasswordError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    hasher()
        .hash_password(password.bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// True if `password` matches the stored PHC string (the comparison is constant-time).
/// A malformed stored hash never matches.
pub fn verify(password: &Password, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    hasher().verify_password(password.bytes(), &parsed).is_ok()
}

/// Does the work of [`verify`] against a dummy hash and returns false: for unknown accounts.
pub fn verify_dummy(password: &Password) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| {
        let random = Password(hex::encode(random_bytes::<16>()));
        hash(&random).unwrap_or_default()
    });
    let _ = verify(password, stored);
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let pw = Password::parse_new("correct horse battery").unwrap();
        let a = hash(&pw).unwrap();
        let b = hash(&pw).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "fresh salt per hash");
        assert!(verify(&pw, &a));
        assert!(!verify(&Password::parse_attempt("correct horse battery!").unwrap(), &a));
        assert!(!verify(&pw, "not a hash"));
        assert!(!verify_dummy(&pw));
        assert!(!format!("{pw:?}").contains("horse"));
    }

    #[test]
    fn policy() {
        assert_eq!(Password::parse_new("short").unwrap_err(), PasswordError::Policy);
        assert!(Password::parse_new(&"x".repeat(257)).is_err());
        assert!(Password::parse_new("twelve chars\u{7}").is_err());
        assert!(Password::parse_new("twelve chars").is_ok());
        assert!(Password::parse_attempt("").is_none());
        assert!(Password::parse_attempt(&"x".repeat(300)).is_none());
    }
}
