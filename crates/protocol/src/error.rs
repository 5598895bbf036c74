//! Stable error codes shared by the SDK and the verifier.
//!
//! The string form of every [`ErrorCode`] is part of the public API: SDKs, customer
//! backends and dashboards match on it. Never rename a code; add new ones instead.

use std::fmt;

/// Why a token, nonce or capture payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The binary envelope is not well formed (bad magic, truncated, bad lengths, trailing bytes).
    EnvelopeMalformed,
    /// The envelope or manifest declares a version this build does not understand.
    UnsupportedVersion,
    /// The manifest is not valid JSON for the schema, or a field breaks its rules.
    ManifestInvalid,
    /// The manifest is valid but not in canonical encoding.
    ManifestNotCanonical,
    /// The manifest lists an image that has no binary part.
    PartMissing,
    /// The envelope carries a binary part that the manifest does not list.
    PartUnexpected,
    /// An image part does not match the digest or length that the signed manifest states.
    PayloadTampered,
    /// The signature does not verify with the session's registered key.
    SignatureInvalid,
    /// The manifest names a signing key other than the one registered for the session.
    KeyMismatch,
    /// A public key is not a valid Ed25519 public key in base64url.
    KeyMalformed,
    /// No capture key has been registered for the session yet.
    KeyNotRegistered,
    /// A capture key is already registered for the session (a second one is refused).
    KeyAlreadyRegistered,
    /// The manifest is addressed to another session.
    SessionMismatch,
    /// The capture step is not one the session's token allows.
    StepNotAllowed,
    /// The nonce was already used by an accepted upload.
    NonceReplayed,
    /// The nonce was never issued for this session.
    NonceUnknown,
    /// The nonce was issued but has expired.
    NonceExpired,
    /// The client token cannot be parsed.
    TokenMalformed,
    /// The client token's authentication tag is wrong.
    TokenInvalid,
    /// The client token has expired.
    TokenExpired,
    /// The request body is larger than the limit.
    PayloadTooLarge,
    /// The request has the wrong `Content-Type`.
    UnsupportedMediaType,
    /// An image's format is not accepted, or its bytes are not the format it claims.
    ImageUnsupported,
    /// An image cannot be decoded (truncated or corrupt).
    ImageCorrupt,
    /// An image's dimensions or pixel count exceed the limits.
    ImageTooLarge,
}

impl ErrorCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: &'static [ErrorCode] = &[
        Self::EnvelopeMalformed,
        Self::UnsupportedVersion,
        Self::ManifestInvalid,
        Self::ManifestNotCanonical,
        Self::PartMissing,
        Self::PartUnexpected,
        Self::PayloadTampered,
        Self::SignatureInvalid,
        Self::KeyMismatch,
        Self::KeyMalformed,
        Self::KeyNotRegistered,
        Self::KeyAlreadyRegistered,
        Self::SessionMismatch,
        Self::StepNotAllowed,
        Self::NonceReplayed,
        Self::NonceUnknown,
        Self::NonceExpired,
        Self::TokenMalformed,
        Self::TokenInvalid,
        Self::TokenExpired,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::ImageUnsupported,
        Self::ImageCorrupt,
        Self::ImageTooLarge,
    ];

    /// The stable string form, e.g. `"payload_tampered"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EnvelopeMalformed => "envelope_malformed",
            Self::UnsupportedVersion => "unsupported_version",
            Self::ManifestInvalid => "manifest_invalid",
            Self::ManifestNotCanonical => "manifest_not_canonical",
            Self::PartMissing => "part_missing",
            Self::PartUnexpected => "part_unexpected",
            Self::PayloadTampered => "payload_tampered",
            Self::SignatureInvalid => "signature_invalid",
            Self::KeyMismatch => "key_mismatch",
            Self::KeyMalformed => "key_malformed",
            Self::KeyNotRegistered => "key_not_registered",
            Self::KeyAlreadyRegistered => "key_already_registered",
            Self::SessionMismatch => "session_mismatch",
            Self::StepNotAllowed => "step_not_allowed",
            Self::NonceReplayed => "nonce_replayed",
            Self::NonceUnknown => "nonce_unknown",
            Self::NonceExpired => "nonce_expired",
            Self::TokenMalformed => "token_malformed",
            Self::TokenInvalid => "token_invalid",
            Self::TokenExpired => "token_expired",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::ImageUnsupported => "image_unsupported",
            Self::ImageCorrupt => "image_corrupt",
            Self::ImageTooLarge => "image_too_large",
        }
    }

    /// Parses the string form back; `None` for unknown codes.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// The HTTP status the verifier answers with for this code (always 4xx).
    pub const fn http_status(self) -> u16 {
        match self {
            Self::TokenMalformed | Self::TokenInvalid | Self::TokenExpired => 401,
            Self::SessionMismatch | Self::StepNotAllowed | Self::KeyMismatch => 403,
            Self::NonceReplayed | Self::KeyAlreadyRegistered | Self::KeyNotRegistered => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::ImageUnsupported | Self::ImageCorrupt | Self::ImageTooLarge => 422,
            Self::EnvelopeMalformed
            | Self::UnsupportedVersion
            | Self::ManifestInvalid
            | Self::ManifestNotCanonical
            | Self::PartMissing
            | Self::PartUnexpected
            | Self::PayloadTampered
            | Self::SignatureInvalid
            | Self::KeyMalformed
            | Self::NonceUnknown
            | Self::NonceExpired => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: a stable [`ErrorCode`] and a human-readable detail that never contains
/// applicant data (it is safe to log and to return to the client).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct ProtocolError {
    /// The stable, machine-readable reason.
    pub code: ErrorCode,
    /// A short explanation for developers.
    pub detail: String,
}

impl ProtocolError {
    /// Creates an error with a detail message.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_round_trip_and_4xx() {
        let mut seen = HashSet::new();
        for &code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert!((400..500).contains(&code.http_status()));
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }
}
