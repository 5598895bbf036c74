//! A reusable KYC credential: an SD-JWT VC (IETF SD-JWT and SD-JWT-based Verifiable
//! Credentials) signed with Ed25519.
//!
//! After an approval the verifier can hand the applicant a credential that states what was
//! verified ("over 18", "document verified", "not on sanctions lists at date"), each claim
//! as a salted *disclosure* whose SHA-256 digest is in the signed payload. The holder shows
//! a relying party only the disclosures it chooses; the relying party checks the issuer's
//! signature with the published key ([`IssuerPublicKey::to_jwk`]) and each shown disclosure
//! against the signed digests ([`verify`]).
//!
//! - [`key`]: the issuer's Ed25519 key and its JWK form.
//! - [`disclosure`]: one salted claim and its digest.
//! - [`issue`]: building and signing a credential; choosing what to present.
//! - [`verify()`]: checking a presentation (bounded sizes, typed errors, never a panic).
//!
//! Not included: key binding (a holder key and a KB-JWT per presentation) and status lists
//! for revocation; a presentation is a bearer token, so relying parties should ask for a
//! fresh one and check `exp`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod disclosure;
pub mod issue;
pub mod key;
pub mod verify;

pub use disclosure::Disclosure;
pub use issue::{Credential, CredentialRequest};
pub use key::{IssuerKey, IssuerPublicKey};
pub use verify::{Verified, verify};

/// The JOSE `typ` of an SD-JWT VC.
pub const TYP: &str = "dc+sd-jwt";

/// The digest algorithm named in `_sd_alg`.
pub const SD_ALG: &str = "sha-256";

/// Why a credential could not be made or did not verify. Each has a stable [`code`](Self::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The presentation is not `JWT~disclosure~...~` or exceeds the size limits.
    #[error("malformed presentation: {0}")]
    Malformed(&'static str),
    /// The header names another algorithm, type or key.
    #[error("unsupported header: {0}")]
    UnsupportedHeader(&'static str),
    /// The signature does not verify with the issuer's key.
    #[error("the signature does not verify")]
    BadSignature,
    /// A disclosure's digest is not among the signed ones (changed or foreign claim).
    #[error("a disclosure is not part of the signed credential")]
    UnknownDisclosure,
    /// The same disclosure or claim name appears twice.
    #[error("a disclosure or claim appears twice")]
    Duplicate,
    /// The credential has expired (or is not valid yet).
    #[error("the credential is expired or not yet valid")]
    Expired,
    /// A JWK that is not an Ed25519 public key.
    #[error("not an Ed25519 JWK: {0}")]
    BadKey(&'static str),
    /// A claim that cannot be disclosed (reserved name, or the request is too large).
    #[error("invalid claim: {0}")]
    InvalidClaim(&'static str),
}

impl CredentialError {
    /// The stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "credential_malformed",
            Self::UnsupportedHeader(_) => "credential_unsupported",
            Self::BadSignature => "credential_bad_signature",
            Self::UnknownDisclosure => "credential_unknown_disclosure",
            Self::Duplicate => "credential_duplicate",
            Self::Expired => "credential_expired",
            Self::BadKey(_) => "credential_bad_key",
            Self::InvalidClaim(_) => "credential_invalid_claim",
        }
    }
}

/// Base64url without padding, as JOSE uses it.
pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding.
pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()
}
