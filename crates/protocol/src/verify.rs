//! Checking an upload (the verifier side).
//!
//! [`verify_capture`] runs every stateless check in a fixed order, so each kind of fault
//! maps to one code:
//!
//! 1. envelope framing → `envelope_malformed`, `unsupported_version`
//! 2. manifest JSON and version → `manifest_invalid`, `unsupported_version`
//! 3. addressed to this session → `session_mismatch`
//! 4. signed with this session's key → `key_mismatch`, `signature_invalid`
//! 5. canonical encoding → `manifest_not_canonical`
//! 6. step allowed by the token → `step_not_allowed`
//! 7. one part per listed image → `part_missing`, `part_unexpected`
//! 8. every part matches its signed length and SHA-256 → `payload_tampered`
//!
//! The nonce is single-use state, checked last through a [`NonceLedger`] (the verifier
//! consumes it in the same database transaction that stores the capture).

use std::collections::HashMap;

use crate::digest::sha256;
use crate::envelope::Envelope;
use crate::error::{ErrorCode, ProtocolError};
use crate::manifest::{Manifest, Step};
use crate::signing::CapturePublicKey;

/// What the server knows about the session an upload claims to belong to.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    /// The session named by the client token.
    pub session_id: &'a str,
    /// The steps the token allows.
    pub allowed_steps: &'a [Step],
    /// The public key registered for the session.
    pub public_key: &'a CapturePublicKey,
}

/// An upload that passed every stateless check.
#[derive(Debug, Clone)]
pub struct VerifiedCapture<'a> {
    /// The authenticated manifest.
    pub manifest: Manifest,
    /// The raw manifest bytes as signed.
    pub manifest_bytes: &'a [u8],
    /// The signature.
    pub signature: [u8; 64],
    /// The image bytes, in manifest order.
    pub images: Vec<&'a [u8]>,
    /// SHA-256 of the whole envelope (an idempotency key for the upload).
    pub payload_sha256: [u8; 32],
}

/// Runs every stateless check of an upload. See the module documentation for the order.
pub fn verify_capture<'a>(bytes: &'a [u8], expect: &Expectations<'_>) -> Result<VerifiedCapture<'a>, ProtocolError> {
    let envelope = Envelope::parse(bytes)?;
    let manifest = Manifest::parse(envelope.manifest)?;
    if manifest.session_id != expect.session_id {
        return Err(ProtocolError::new(ErrorCode::SessionMismatch, "the payload is addressed to another session"));
    }
    if manifest.key_id != expect.public_key.key_id() {
        return Err(ProtocolError::new(
            ErrorCode::KeyMismatch,
            "the payload names a key not registered for this session",
        ));
    }
    expect.public_key.verify_manifest(envelope.manifest, &envelope.signature)?;
    manifest.check_canonical(envelope.manifest)?;
    if !expect.allowed_steps.contains(&manifest.step) {
        return Err(ProtocolError::new(
            ErrorCode::StepNotAllowed,
            format!("step {} is not allowed for this session", manifest.step.as_str()),
        ));
    }
    if envelope.parts.len() < manifest.images.len() {
        return Err(ProtocolError::new(ErrorCode::PartMissing, "an image listed in the manifest has no part"));
    }
    if envelope.parts.len() > manifest.images.len() {
        return Err(ProtocolError::new(
            ErrorCode::PartUnexpected,
            "the envelope carries a part the manifest does not list",
        ));
    }
    for (entry, part) in manifest.images.iter().zip(&envelope.parts) {
        if part.len() as u64 != entry.byte_len || hex::encode(sha256(part)) != entry.sha256 {
            return Err(ProtocolError::new(
                ErrorCode::PayloadTampered,
                format!("image {} does not match its signed digest", entry.name),
            ));
        }
    }
    Ok(VerifiedCapture {
        manifest,
        manifest_bytes: envelope.manifest,
        signature: envelope.signature,
        images: envelope.parts,
        payload_sha256: sha256(bytes),
    })
}

/// What a nonce store knows about a nonce an upload names. [`NonceStatus::check`] turns
/// it into the one refusal order every [`NonceLedger`] uses: unknown (never issued, or
/// issued for another session), then replayed, then expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceStatus {
    /// The nonce was issued for the session the upload belongs to.
    pub issued_for_session: bool,
    /// An accepted upload already used it.
    pub used: bool,
    /// Its lifetime is over.
    pub expired: bool,
}

impl NonceStatus {
    /// `Ok` when a nonce in this state may be consumed now; `found` is `None` for a nonce
    /// that was never issued.
    pub fn check(found: Option<NonceStatus>) -> Result<(), ProtocolError> {
        match found {
            None => Err(ProtocolError::new(ErrorCode::NonceUnknown, "nonce was never issued")),
            Some(s) if !s.issued_for_session => {
                Err(ProtocolError::new(ErrorCode::NonceUnknown, "nonce was not issued for this session"))
            }
            Some(s) if s.used => Err(ProtocolError::new(ErrorCode::NonceReplayed, "nonce was already used")),
            Some(s) if s.expired => Err(ProtocolError::new(ErrorCode::NonceExpired, "nonce has expired")),
            Some(_) => Ok(()),
        }
    }
}

/// Single-use nonces. The verifier implements this over its database.
pub trait NonceLedger {
    /// Marks `nonce` used for `session_id` at `now_ms`, or says why it cannot be used.
    fn consume(&mut self, session_id: &str, nonce: &str, now_ms: u64) -> Result<(), ProtocolError>;
}

/// An in-memory [`NonceLedger`], for tests and single-process tools.
#[derive(Debug, Default)]
pub struct MemoryNonceLedger {
    nonces: HashMap<String, (String, u64, bool)>,
}

impl MemoryNonceLedger {
    /// Records a nonce issued for `session_id`, valid until `expires_at_ms`.
    pub fn issue(&mut self, session_id: &str, nonce: &str, expires_at_ms: u64) {
        self.nonces.insert(nonce.to_owned(), (session_id.to_owned(), expires_at_ms, false));
    }
}

impl NonceLedger for MemoryNonceLedger {
    fn consume(&mut self, session_id: &str, nonce: &str, now_ms: u64) -> Result<(), ProtocolError> {
        let entry = self.nonces.get_mut(nonce);
        let status = entry.as_ref().map(|(sid, expires, used)| NonceStatus {
            issued_for_session: sid == session_id,
            used: *used,
            expired: now_ms >= *expires,
        });
        NonceStatus::check(status)?;
        if let Some((_, _, used)) = entry {
            *used = true;
        }
        Ok(())
    }
}

/// [`verify_capture`], then the nonce: the full check for callers with a synchronous ledger.
pub fn verify_and_consume<'a>(
    bytes: &'a [u8],
    expect: &Expectations<'_>,
    ledger: &mut dyn NonceLedger,
    now_ms: u64,
) -> Result<VerifiedCapture<'a>, ProtocolError> {
    let capture = verify_capture(bytes, expect)?;
    ledger.consume(expect.session_id, &capture.manifest.nonce, now_ms)?;
    Ok(capture)
}
