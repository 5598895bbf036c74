//! Webhook signing secrets: generated, shown to the tenant once, and stored encrypted
//! (ChaCha20-Poly1305 under a key derived from the service secret file, a fresh random
//! nonce per secret, the tenant id as associated data so a ciphertext cannot be moved to
//! another tenant's row).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::domain::random_bytes;

/// The prefix of every webhook secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A fresh webhook secret: `whsec_` and 32 random bytes in base64url.
pub fn generate() -> String {
    format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// Why a stored secret could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a stored webhook secret cannot be decrypted (wrong service secret or corrupted row)")]
pub struct SecretError;

/// Encrypts and decrypts webhook secrets at rest.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// A box with this 32-byte key.
    pub fn new(key: [u8; 32]) -> Self {
        Self { cipher: ChaCha20Poly1305::new(Key::from_slice(&key)) }
    }

    /// `base64url(nonce ‖ ciphertext)` of `secret`, bound to `tenant`.
    pub fn seal(&self, tenant: &str, secret: &str) -> String {
        let nonce: [u8; 12] = random_bytes();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret.as_bytes(), aad: tenant.as_bytes() })
            .unwrap_or_default(); // Encryption of a short message cannot fail.
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The secret sealed by [`SecretBox::seal`] for `tenant`.
    pub fn open(&self, tenant: &str, sealed: &str) -> Result<String, SecretError> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| SecretError)?;
        if bytes.len() < 12 + 16 {
            return Err(SecretError);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: tenant.as_bytes() })
            .map_err(|_| SecretError)?;
        String::from_utf8(plain).map_err(|_| SecretError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let sb = SecretBox::new([7; 32]);
        let secret = generate();
        assert!(secret.starts_with(SECRET_PREFIX));
        let sealed = sb.seal("ten_a", &secret);
        assert!(!sealed.contains(&secret[6..]));
        assert_eq!(sb.open("ten_a", &sealed).unwrap(), secret);
        assert_eq!(sb.open("ten_b", &sealed), Err(SecretError));
        assert_eq!(SecretBox::new([8; 32]).open("ten_a", &sealed), Err(SecretError));
        assert_eq!(sb.open("ten_a", "short"), Err(SecretError));
        assert_ne!(sb.seal("ten_a", &secret), sealed, "fresh nonce each time");
    }
}
