//! Checking a presentation: the issuer's signature, the header, validity dates, and each
//! shown disclosure against the signed digests. Sizes are bounded before any parsing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::disclosure::Disclosure;
use crate::key::IssuerPublicKey;
use crate::{CredentialError, SD_ALG, TYP, unb64};

/// Longest presentation accepted, in bytes.
pub const MAX_PRESENTATION: usize = 64 * 1024;
/// Most disclosures accepted in one presentation.
pub const MAX_DISCLOSURES: usize = 64;
/// Allowed clock skew for `iat`, in seconds.
const SKEW: i64 = 300;

/// What a valid presentation states.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// `iss`.
    pub issuer: String,
    /// `vct`.
    pub vct: String,
    /// `sub`, if any.
    pub subject: Option<String>,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`.
    pub expires_at: i64,
    /// The disclosed claims (only those the holder chose to show).
    pub claims: BTreeMap<String, Value>,
}

/// Verifies `presentation` (`JWT~d1~…~`) with the issuer's key at time `now` (Unix seconds).
pub fn verify(presentation: &str, key: &IssuerPublicKey, now: i64) -> Result<Verified, CredentialError> {
    if presentation.len() > MAX_PRESENTATION {
        return Err(CredentialError::Malformed("too long"));
    }
    let mut parts: Vec<&str> = presentation.split('~').collect();
    if parts.len() < 2 || parts.pop() != Some("") {
        return Err(CredentialError::Malformed("must be JWT~ followed by disclosures each ending in ~"));
    }
    let jwt = parts.remove(0);
    if parts.len() > MAX_DISCLOSURES {
        return Err(CredentialError::Malformed("too many disclosures"));
    }

    let segments: Vec<&str> = jwt.split('.').collect();
    let [header, payload, signature] = segments[..] else {
        return Err(CredentialError::Malformed("the JWT must have three segments"));
    };
    let header: Value = decode_json(header)?;
    if header.get("alg").and_then(Value::as_str) != Some("EdDSA") {
        return Err(CredentialError::UnsupportedHeader("alg must be EdDSA"));
    }
    if !matches!(header.get("typ").and_then(Value::as_str), Some(TYP) | Some("vc+sd-jwt")) {
        return Err(CredentialError::UnsupportedHeader("typ must be dc+sd-jwt"));
    }
    if header.get("kid").and_then(Value::as_str).is_some_and(|kid| kid != key.kid()) {
        return Err(CredentialError::UnsupportedHeader("kid names another key"));
    }
    let signature = unb64(signature).ok_or(CredentialError::Malformed("signature is not base64url"))?;
    let signing_input_len = jwt.len() - jwt.rsplit('.').next().map_or(0, str::len) - 1;
    key.verify(&jwt.as_bytes()[..signing_input_len], &signature)?;

    let payload: Value = decode_json(payload)?;
    let Value::Object(payload) = payload else {
        return Err(CredentialError::Malformed("the payload is not a JSON object"));
    };
    if payload.get("_sd_alg").and_then(Value::as_str) != Some(SD_ALG) {
        return Err(CredentialError::UnsupportedHeader("_sd_alg must be sha-256"));
    }
    let digests: BTreeSet<&str> = payload
        .get("_sd")
        .and_then(Value::as_array)
        .ok_or(CredentialError::Malformed("no _sd array"))?
        .iter()
        .map(|d| d.as_str().ok_or(CredentialError::Malformed("_sd entries must be strings")))
        .collect::<Result<_, _>>()?;
    let number = |name: &'static str| payload.get(name).and_then(Value::as_i64).ok_or(CredentialError::Malformed(name));
    let text = |name: &'static str| {
        payload.get(name).and_then(Value::as_str).map(str::to_owned).ok_or(CredentialError::Malformed(name))
    };
    let (issued_at, expires_at) = (number("iat")?, number("exp")?);
    if now >= expires_at || issued_at > now.saturating_add(SKEW) {
        return Err(CredentialError::Expired);
    }

    let mut claims = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for encoded in parts {
        let disclosure = Disclosure::parse(encoded)?;
        let digest = disclosure.digest();
        if !digests.contains(digest.as_str()) {
            return Err(CredentialError::UnknownDisclosure);
        }
        if !seen.insert(digest) || payload.contains_key(&disclosure.name) || claims.contains_key(&disclosure.name) {
            return Err(CredentialError::Duplicate);
        }
        claims.insert(disclosure.name, disclosure.value);
    }
    Ok(Verified {
        issuer: text("iss")?,
        vct: text("vct")?,
        subject: payload.get("sub").and_then(Value::as_str).map(str::to_owned),
        issued_at,
        expires_at,
        claims,
    })
}

fn decode_json(segment: &str) -> Result<Value, CredentialError> {
    let bytes = unb64(segment).ok_or(CredentialError::Malformed("JWT segment is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| CredentialError::Malformed("JWT segment is not JSON"))
}
