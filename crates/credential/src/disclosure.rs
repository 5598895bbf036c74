//! One selectively disclosable claim: `base64url(JSON [salt, name, value])`, and the
//! base64url SHA-256 digest of that text which the signed payload lists in `_sd`.

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::{CredentialError, b64, unb64};

/// Claim names a disclosure may not carry: they belong to the JWT or to SD-JWT itself.
const RESERVED: [&str; 9] = ["_sd", "_sd_alg", "...", "iss", "iat", "exp", "nbf", "vct", "cnf"];

/// A salted claim, as issued and as presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// The encoded form that travels in the presentation.
    pub encoded: String,
    /// The claim name.
    pub name: String,
    /// The claim value.
    pub value: Value,
}

impl Disclosure {
    /// Makes a disclosure of `name: value` with a 128-bit `salt`.
    pub fn new(salt: [u8; 16], name: &str, value: Value) -> Result<Self, CredentialError> {
        if RESERVED.contains(&name) || name.is_empty() || name.len() > 64 {
            return Err(CredentialError::InvalidClaim("reserved, empty or over-long claim name"));
        }
        let array = Value::Array(vec![Value::String(b64(&salt)), Value::String(name.to_owned()), value.clone()]);
        let json = serde_json::to_string(&array).map_err(|_| CredentialError::InvalidClaim("value"))?;
        Ok(Self { encoded: b64(json.as_bytes()), name: name.to_owned(), value })
    }

    /// Reads a presented disclosure (any salt, a string name, any value).
    pub fn parse(encoded: &str) -> Result<Self, CredentialError> {
        let json = unb64(encoded).ok_or(CredentialError::Malformed("disclosure is not base64url"))?;
        let array: Vec<Value> =
            serde_json::from_slice(&json).map_err(|_| CredentialError::Malformed("disclosure is not a JSON array"))?;
        let [salt, name, value]: [Value; 3] =
            array.try_into().map_err(|_| CredentialError::Malformed("disclosure must have salt, name and value"))?;
        let (Value::String(_), Value::String(name)) = (salt, name) else {
            return Err(CredentialError::Malformed("disclosure salt and name must be strings"));
        };
        if RESERVED.contains(&name.as_str()) {
            return Err(CredentialError::InvalidClaim("reserved claim name"));
        }
        Ok(Self { encoded: encoded.to_owned(), name, value })
    }

    /// The digest listed in `_sd`.
    pub fn digest(&self) -> String {
        digest(&self.encoded)
    }
}

/// base64url(SHA-256(text)).
pub(crate) fn digest(text: &str) -> String {
    b64(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip() {
        let d = Disclosure::new([1; 16], "age_over_18", json!(true)).unwrap();
        let back = Disclosure::parse(&d.encoded).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.digest(), d.digest());
        // Another salt: another disclosure and digest for the same claim.
        assert_ne!(Disclosure::new([2; 16], "age_over_18", json!(true)).unwrap().digest(), d.digest());
    }

    #[test]
    fn rejects() {
        assert!(Disclosure::new([0; 16], "_sd", json!(1)).is_err());
        assert!(Disclosure::new([0; 16], "iss", json!(1)).is_err());
        for bad in ["", "!!", &b64(b"{}"), &b64(b"[1,2,3]"), &b64(b"[\"s\",\"n\"]"), &b64(b"[\"s\",\"iss\",1]")] {
            assert!(Disclosure::parse(bad).is_err(), "{bad}");
        }
    }
}
