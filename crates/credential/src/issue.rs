//! Issuing a credential: each claim becomes a salted disclosure, the signed payload lists
//! their digests (sorted, with decoys so the number of claims does not show), and the
//! holder later presents the issuer-signed JWT with the disclosures it chooses.

use serde_json::{Map, Value, json};

use crate::disclosure::{Disclosure, digest};
use crate::key::IssuerKey;
use crate::{CredentialError, SD_ALG, TYP, b64};

/// Decoy digests added to `_sd`.
const DECOYS: usize = 2;

/// At most this many claims per credential.
pub const MAX_CLAIMS: usize = 32;

/// What to state, for whom, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialRequest {
    /// The issuer (`iss`), e.g. the verifier's public URL.
    pub issuer: String,
    /// The credential type (`vct`), e.g. `https://trustcap.dev/vct/kyc/v1`.
    pub vct: String,
    /// A pseudonymous subject id (`sub`), never a name; `None` to leave it out.
    pub subject: Option<String>,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
    /// The selectively disclosable claims, e.g. `("age_over_18", true)`.
    pub claims: Vec<(String, Value)>,
}

/// An issued credential: the signed JWT and every disclosure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The issuer-signed JWT (compact JWS).
    pub jwt: String,
    /// One disclosure per claim.
    pub disclosures: Vec<Disclosure>,
}

impl Credential {
    /// Issues a credential with random salts.
    pub fn issue(key: &IssuerKey, request: &CredentialRequest) -> Result<Self, CredentialError> {
        Self::issue_with(key, request, &mut || {
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt).expect("the operating system's random number generator failed");
            salt
        })
    }

    /// Issues a credential with salts (and decoys) from `salt`; tests pass a fixed sequence.
    pub fn issue_with(
        key: &IssuerKey,
        request: &CredentialRequest,
        salt: &mut dyn FnMut() -> [u8; 16],
    ) -> Result<Self, CredentialError> {
        if request.claims.len() > MAX_CLAIMS {
            return Err(CredentialError::InvalidClaim("too many claims"));
        }
        let mut disclosures = Vec::with_capacity(request.claims.len());
        for (name, value) in &request.claims {
            if disclosures.iter().any(|d: &Disclosure| &d.name == name) {
                return Err(CredentialError::Duplicate);
            }
            disclosures.push(Disclosure::new(salt(), name, value.clone())?);
        }
        let mut digests: Vec<String> = disclosures.iter().map(Disclosure::digest).collect();
        digests.extend((0..DECOYS).map(|_| digest(&b64(&salt()))));
        digests.sort();

        let mut payload = Map::new();
        payload.insert("iss".into(), json!(request.issuer));
        payload.insert("iat".into(), json!(request.issued_at));
        payload.insert("exp".into(), json!(request.expires_at));
        payload.insert("vct".into(), json!(request.vct));
        if let Some(sub) = &request.subject {
            payload.insert("sub".into(), json!(sub));
        }
        payload.insert("_sd".into(), json!(digests));
        payload.insert("_sd_alg".into(), json!(SD_ALG));
        let header = json!({"alg": "EdDSA", "typ": TYP, "kid": key.public_key().kid()});
        let signing_input =
            format!("{}.{}", b64(header.to_string().as_bytes()), b64(Value::Object(payload).to_string().as_bytes()));
        let signature = key.sign(signing_input.as_bytes());
        Ok(Self { jwt: format!("{signing_input}.{}", b64(&signature)), disclosures })
    }

    /// The whole SD-JWT (`JWT~d1~…~dn~`): everything disclosed.
    pub fn to_sd_jwt(&self) -> String {
        self.present(&self.disclosures.iter().map(|d| d.name.as_str()).collect::<Vec<_>>())
    }

    /// A presentation that discloses only the claims named in `reveal`.
    pub fn present(&self, reveal: &[&str]) -> String {
        let mut out = self.jwt.clone();
        out.push('~');
        for d in self.disclosures.iter().filter(|d| reveal.contains(&d.name.as_str())) {
            out.push_str(&d.encoded);
            out.push('~');
        }
        out
    }
}
