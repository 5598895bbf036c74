//! Per-session Ed25519 capture keys.
//!
//! The SDK generates a key pair in the page when a session starts and registers the public
//! key with the verifier, using its client token. Only the holder of the private key, which
//! never leaves the page, can then sign uploads for the session: a token that leaks after
//! registration cannot be used to forge captures.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::b64;
use crate::digest::sha256;
use crate::error::{ErrorCode, ProtocolError};

/// Domain separation: what a capture signature covers is this string followed by the
/// manifest bytes, so a capture signature can never be mistaken for anything else.
pub const SIGNING_CONTEXT: &[u8] = b"trustcap/capture/v1\0";

/// The private half of a capture key. Lives only in the SDK.
pub struct CaptureSigningKey(SigningKey);

impl std::fmt::Debug for CaptureSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CaptureSigningKey").field(&self.public_key().key_id()).finish()
    }
}

impl CaptureSigningKey {
    /// Builds a key from 32 secret random bytes (from `getrandom` in the SDK).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// The public half, to register with the verifier.
    pub fn public_key(&self) -> CapturePublicKey {
        CapturePublicKey(self.0.verifying_key())
    }

    /// Signs manifest bytes (the context prefix is added here).
    pub fn sign_manifest(&self, manifest: &[u8]) -> [u8; 64] {
        let mut message = Vec::with_capacity(SIGNING_CONTEXT.len() + manifest.len());
        message.extend_from_slice(SIGNING_CONTEXT);
        message.extend_from_slice(manifest);
        self.0.sign(&message).to_bytes()
    }
}

/// The public half of a capture key, as registered with the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapturePublicKey(VerifyingKey);

impl CapturePublicKey {
    /// Parses 32 raw bytes; rejects points that are not valid Ed25519 public keys.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let raw: [u8; 32] =
            bytes.try_into().map_err(|_| ProtocolError::new(ErrorCode::KeyMalformed, "a public key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&raw)
            .map_err(|_| ProtocolError::new(ErrorCode::KeyMalformed, "not a valid Ed25519 public key"))?;
        if key.is_weak() {
            return Err(ProtocolError::new(ErrorCode::KeyMalformed, "weak Ed25519 public key"));
        }
        Ok(Self(key))
    }

    /// Parses the base64url form used on the wire.
    pub fn from_base64(text: &str) -> Result<Self, ProtocolError> {
        let bytes = b64::decode(text)
            .ok_or_else(|| ProtocolError::new(ErrorCode::KeyMalformed, "public key is not base64url"))?;
        Self::from_bytes(&bytes)
    }

    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The base64url form used on the wire.
    pub fn to_base64(&self) -> String {
        b64::encode(self.0.as_bytes())
    }

    /// A short, stable identifier: `k_` and the first 16 hex digits of SHA-256(key).
    pub fn key_id(&self) -> String {
        format!("k_{}", &hex::encode(sha256(self.0.as_bytes()))[..16])
    }

    /// Verifies a signature over manifest bytes (strict Ed25519 verification).
    pub fn verify_manifest(&self, manifest: &[u8], signature: &[u8; 64]) -> Result<(), ProtocolError> {
        let mut message = Vec::with_capacity(SIGNING_CONTEXT.len() + manifest.len());
        message.extend_from_slice(SIGNING_CONTEXT);
        message.extend_from_slice(manifest);
        self.0.verify_strict(&message, &Signature::from_bytes(signature)).map_err(|_| {
            ProtocolError::new(ErrorCode::SignatureInvalid, "signature does not verify with the session key")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_reject() {
        let key = CaptureSigningKey::from_seed([1; 32]);
        let public = key.public_key();
        let sig = key.sign_manifest(b"{\"a\":1}");
        public.verify_manifest(b"{\"a\":1}", &sig).unwrap();
        assert_eq!(public.verify_manifest(b"{\"a\":2}", &sig).unwrap_err().code, ErrorCode::SignatureInvalid);
        let other = CaptureSigningKey::from_seed([2; 32]).public_key();
        assert_eq!(other.verify_manifest(b"{\"a\":1}", &sig).unwrap_err().code, ErrorCode::SignatureInvalid);
    }

    #[test]
    fn wire_forms() {
        let public = CaptureSigningKey::from_seed([3; 32]).public_key();
        assert_eq!(CapturePublicKey::from_base64(&public.to_base64()).unwrap(), public);
        assert!(public.key_id().starts_with("k_") && public.key_id().len() == 18);
        assert!(CapturePublicKey::from_base64("!!").is_err());
        assert!(CapturePublicKey::from_bytes(&[0; 31]).is_err());
        // The identity point is a weak key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(CapturePublicKey::from_bytes(&identity).is_err());
    }
}
