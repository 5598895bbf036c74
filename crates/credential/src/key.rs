//! The issuer's Ed25519 key: signing, the public key as a JWK, and its key id.

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::{CredentialError, b64, unb64};

/// The issuer's signing key.
#[derive(Clone)]
pub struct IssuerKey(SigningKey);

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("IssuerKey").field(&self.public_key().kid()).finish()
    }
}

impl IssuerKey {
    /// The key made from 32 secret bytes (for example derived from the service secret).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// The public half.
    pub fn public_key(&self) -> IssuerPublicKey {
        IssuerPublicKey(self.0.verifying_key())
    }

    /// The Ed25519 signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

/// The issuer's public key, as relying parties get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuerPublicKey(VerifyingKey);

impl IssuerPublicKey {
    /// The key id: base64url of the first 16 bytes of SHA-256 over the raw key.
    pub fn kid(&self) -> String {
        b64(&Sha256::digest(self.0.as_bytes())[..16])
    }

    /// The JWK (RFC 8037): `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA","use":"sig"}`.
    pub fn to_jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "x": b64(self.0.as_bytes()), "kid": self.kid(), "alg": "EdDSA", "use": "sig"})
    }

    /// Reads an Ed25519 public JWK.
    pub fn from_jwk(jwk: &Value) -> Result<Self, CredentialError> {
        if jwk.get("kty").and_then(Value::as_str) != Some("OKP") {
            return Err(CredentialError::BadKey("kty must be OKP"));
        }
        if jwk.get("crv").and_then(Value::as_str) != Some("Ed25519") {
            return Err(CredentialError::BadKey("crv must be Ed25519"));
        }
        let x = jwk.get("x").and_then(Value::as_str).ok_or(CredentialError::BadKey("no x"))?;
        let raw: [u8; 32] =
            unb64(x).and_then(|b| b.try_into().ok()).ok_or(CredentialError::BadKey("x is not 32 base64url bytes"))?;
        VerifyingKey::from_bytes(&raw).map(Self).map_err(|_| CredentialError::BadKey("x is not a curve point"))
    }

    /// Checks an Ed25519 signature strictly (no malleable or small-order encodings).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CredentialError> {
        let signature: [u8; 64] = signature.try_into().map_err(|_| CredentialError::BadSignature)?;
        self.0.verify_strict(message, &Signature::from_bytes(&signature)).map_err(|_| CredentialError::BadSignature)?;
        // `verify_strict` implies `verify`; both must hold.
        self.0.verify(message, &Signature::from_bytes(&signature)).map_err(|_| CredentialError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwk_round_trip_and_rejects() {
        let public = IssuerKey::from_seed([5; 32]).public_key();
        let jwk = public.to_jwk();
        assert_eq!(IssuerPublicKey::from_jwk(&jwk), Ok(public));
        assert_eq!(jwk["kid"], public.kid());
        for (field, value) in [("kty", json!("EC")), ("crv", json!("X25519")), ("x", json!("AAAA")), ("x", json!(3))] {
            let mut bad = jwk.clone();
            bad[field] = value;
            assert!(matches!(IssuerPublicKey::from_jwk(&bad), Err(CredentialError::BadKey(_))), "{bad}");
        }
        assert_ne!(IssuerKey::from_seed([6; 32]).public_key().kid(), public.kid());
    }
}
