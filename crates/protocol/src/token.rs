//! Client tokens: short-lived, stateless capabilities for one session.
//!
//! The verifier issues a token when a customer backend creates a session. The token binds
//! the session, its tenant, the steps the SDK may capture and an expiry, and is
//! authenticated with HMAC-SHA256 under a server secret, so the server can check it
//! without a database read:
//!
//! ```text
//! tct1.<base64url(claims JSON)>.<base64url(HMAC-SHA256(key, "tct1." + claims part))>
//! ```

use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::b64;
use crate::error::{ErrorCode, ProtocolError};
use crate::manifest::{Step, is_identifier};

const PREFIX: &str = "tct1.";
/// Longest token accepted; anything longer is refused before any work.
pub const MAX_TOKEN_LEN: usize = 2048;

/// What a client token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenClaims {
    /// Session id.
    pub sid: String,
    /// Tenant id.
    pub tid: String,
    /// Steps the SDK may capture.
    pub steps: Vec<Step>,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: u64,
    /// Unique token id.
    pub jti: String,
}

/// The server secret that authenticates client tokens.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

fn malformed(detail: &str) -> ProtocolError {
    ProtocolError::new(ErrorCode::TokenMalformed, detail)
}

impl TokenKey {
    /// Wraps 32 secret bytes.
    pub fn new(secret: [u8; 32]) -> Self {
        Self(secret)
    }

    fn tag(&self, signed_part: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(signed_part.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Issues a token for `claims`.
    pub fn issue(&self, claims: &TokenClaims) -> Result<String, ProtocolError> {
        if !is_identifier(&claims.sid, 64) || !is_identifier(&claims.tid, 64) || !is_identifier(&claims.jti, 64) {
            return Err(malformed("token ids must be identifiers"));
        }
        let json = serde_json::to_vec(claims).map_err(|_| malformed("claims cannot be encoded"))?;
        let signed_part = format!("{PREFIX}{}", b64::encode(&json));
        let token = format!("{signed_part}.{}", b64::encode(&self.tag(&signed_part)));
        if token.len() > MAX_TOKEN_LEN {
            return Err(malformed("token too long"));
        }
        Ok(token)
    }

    /// Verifies a token's tag and expiry at `now` (seconds since the Unix epoch).
    pub fn verify(&self, token: &str, now: u64) -> Result<TokenClaims, ProtocolError> {
        if token.len() > MAX_TOKEN_LEN || !token.starts_with(PREFIX) {
            return Err(malformed("not a TrustCap client token"));
        }
        let (signed_part, tag_text) = token.rsplit_once('.').ok_or_else(|| malformed("missing tag"))?;
        let tag = b64::decode(tag_text).ok_or_else(|| malformed("tag is not base64url"))?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(signed_part.as_bytes());
        mac.verify_slice(&tag).map_err(|_| ProtocolError::new(ErrorCode::TokenInvalid, "token tag does not verify"))?;
        let claims_text = signed_part.strip_prefix(PREFIX).ok_or_else(|| malformed("missing claims"))?;
        let json = b64::decode(claims_text).ok_or_else(|| malformed("claims are not base64url"))?;
        let claims: TokenClaims = serde_json::from_slice(&json).map_err(|_| malformed("claims are not valid"))?;
        if now >= claims.exp {
            return Err(ProtocolError::new(ErrorCode::TokenExpired, "client token has expired"));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TokenClaims {
        TokenClaims {
            sid: "ses_1".into(),
            tid: "ten_1".into(),
            steps: vec![Step::DocumentFront, Step::Selfie],
            iat: 1000,
            exp: 2000,
            jti: "tok_1".into(),
        }
    }

    #[test]
    fn issue_and_verify() {
        let key = TokenKey::new([9; 32]);
        let token = key.issue(&claims()).unwrap();
        assert_eq!(key.verify(&token, 1500).unwrap(), claims());
        assert_eq!(key.verify(&token, 2000).unwrap_err().code, ErrorCode::TokenExpired);
        assert_eq!(TokenKey::new([8; 32]).verify(&token, 1500).unwrap_err().code, ErrorCode::TokenInvalid);
    }

    #[test]
    fn tampered_and_garbage_tokens() {
        let key = TokenKey::new([9; 32]);
        let token = key.issue(&claims()).unwrap();
        // Flip each character of the claims part: the tag must catch it.
        for i in 5..token.rfind('.').unwrap() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(bytes).unwrap();
            let code = key.verify(&forged, 1500).unwrap_err().code;
            assert!(matches!(code, ErrorCode::TokenInvalid | ErrorCode::TokenMalformed), "{code}");
        }
        // A tag over the bare prefix is still refused (it once reached an out-of-range slice).
        let bare = format!("tct1.{}", crate::b64::encode(&key.tag("tct1")));
        assert_eq!(key.verify(&bare, 1500).unwrap_err().code, ErrorCode::TokenMalformed);
        for garbage in ["", "tct1.", "tct1..", "Bearer x", "tct1.a.b.c", &"x".repeat(5000)] {
            assert!(key.verify(garbage, 1500).is_err());
        }
    }
}
