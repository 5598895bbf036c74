//! The signed manifest: what was captured, for which session, with which nonce.
//!
//! **Canonical encoding.** A manifest has exactly one valid byte form: the compact JSON
//! that `serde_json` writes for [`Manifest`] (fields in declaration order, `quality` keys
//! sorted, floats in shortest round-trip form, no whitespace). The verifier checks the
//! signature over the bytes it received and then requires them to be canonical, so two
//! different byte strings can never carry the same meaning.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::PAYLOAD_VERSION;
use crate::digest::is_sha256_hex;
use crate::envelope::{MAX_MANIFEST_LEN, MAX_PART_LEN, MAX_PARTS};
use crate::error::{ErrorCode, ProtocolError};

/// A capture step of a verification session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The front of an identity document.
    DocumentFront,
    /// The back of an identity document.
    DocumentBack,
    /// A selfie of the applicant.
    Selfie,
    /// A photo of a utility bill or bank statement showing the applicant's name and address
    /// (usually asked for as a step-up).
    ProofOfAddress,
}

impl Step {
    /// Every step, in capture order.
    pub const ALL: [Step; 4] = [Step::DocumentFront, Step::DocumentBack, Step::Selfie, Step::ProofOfAddress];

    /// The stable string form, e.g. `"document_front"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Step::DocumentFront => "document_front",
            Step::DocumentBack => "document_back",
            Step::Selfie => "selfie",
            Step::ProofOfAddress => "proof_of_address",
        }
    }

    /// Parses the string form (`"document_front"`; `"document-front"` is accepted too).
    pub fn parse(text: &str) -> Option<Step> {
        let normalised = text.replace('-', "_");
        Step::ALL.into_iter().find(|s| s.as_str() == normalised)
    }
}

/// The SDK that produced the capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdkInfo {
    /// Package name, e.g. `trustcap-web`.
    pub name: String,
    /// Package version.
    pub version: String,
}

/// Facts about the capturing device. Never contains applicant data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// The browser's user agent string (may be empty).
    pub user_agent: String,
    /// The camera track label (may be empty, e.g. for a file upload).
    pub camera_label: String,
    /// How many frames the SDK analysed before capturing.
    pub frames_analyzed: u32,
}

/// One image of the upload; its bytes travel as a binary part of the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageEntry {
    /// Part name, e.g. `document_front` (lowercase, digits and `_`).
    pub name: String,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Width in pixels as captured.
    pub width: u32,
    /// Height in pixels as captured.
    pub height: u32,
    /// Length of the part in bytes.
    pub byte_len: u64,
    /// SHA-256 of the part, 64 lowercase hex characters.
    pub sha256: String,
}

/// The signed description of one capture upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Payload format version ([`PAYLOAD_VERSION`]).
    pub v: u32,
    /// The session this capture belongs to.
    pub session_id: String,
    /// A single-use nonce issued by the verifier for this session.
    pub nonce: String,
    /// Identifier of the session's registered signing key ([`crate::CapturePublicKey::key_id`]).
    pub key_id: String,
    /// Which step was captured.
    pub step: Step,
    /// Capture time, milliseconds since the Unix epoch, by the device clock.
    pub captured_at_ms: u64,
    /// The SDK that built the payload.
    pub sdk: SdkInfo,
    /// Device facts.
    pub device: DeviceInfo,
    /// On-device quality results by name (e.g. `sharpness`, `glare`); the server re-checks.
    pub quality: BTreeMap<String, f64>,
    /// The images, in the order of the envelope's parts.
    pub images: Vec<ImageEntry>,
}

/// Content types an image part may declare.
pub const IMAGE_CONTENT_TYPES: [&str; 2] = ["image/jpeg", "image/png"];
/// Largest width or height an image may declare (the verifier and `vision` use the same bound).
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Largest pixel count an image may declare.
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;
const MAX_QUALITY_ENTRIES: usize = 64;

fn invalid(detail: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::ManifestInvalid, detail)
}

/// True for `[A-Za-z0-9_-]{1,max}`: session ids, nonces and key ids.
pub fn is_identifier(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_name(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
}

fn check_text(field: &str, text: &str, max: usize) -> Result<(), ProtocolError> {
    if text.len() > max || text.chars().any(char::is_control) {
        return Err(invalid(format!("{field} is too long or has control characters")));
    }
    Ok(())
}

#[derive(Deserialize)]
struct VersionProbe {
    v: u32,
}

impl Manifest {
    /// Parses and validates a manifest from untrusted bytes. Does not check canonical form
    /// (see [`Manifest::check_canonical`]). Error details never echo field contents.
    pub fn parse(bytes: &[u8]) -> Result<Self, ProtocolError> {
        if bytes.len() > MAX_MANIFEST_LEN {
            return Err(invalid("manifest too large"));
        }
        let probe: VersionProbe = serde_json::from_slice(bytes)
            .map_err(|e| invalid(format!("not a manifest ({:?} error at column {})", e.classify(), e.column())))?;
        if probe.v != PAYLOAD_VERSION {
            return Err(ProtocolError::new(
                ErrorCode::UnsupportedVersion,
                format!("payload version {} is not supported (expected {PAYLOAD_VERSION})", probe.v),
            ));
        }
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| invalid(format!("schema error ({:?} error at column {})", e.classify(), e.column())))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Checks every field against its rules.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        if self.v != PAYLOAD_VERSION {
            return Err(ProtocolError::new(ErrorCode::UnsupportedVersion, "unsupported payload version"));
        }
        if !is_identifier(&self.session_id, 64) {
            return Err(invalid("session_id must be 1-64 characters of [A-Za-z0-9_-]"));
        }
        if !is_identifier(&self.nonce, 128) {
            return Err(invalid("nonce must be 1-128 characters of [A-Za-z0-9_-]"));
        }
        if !is_identifier(&self.key_id, 64) {
            return Err(invalid("key_id must be 1-64 characters of [A-Za-z0-9_-]"));
        }
        check_text("sdk.name", &self.sdk.name, 64)?;
        check_text("sdk.version", &self.sdk.version, 64)?;
        check_text("device.user_agent", &self.device.user_agent, 512)?;
        check_text("device.camera_label", &self.device.camera_label, 512)?;
        if self.quality.len() > MAX_QUALITY_ENTRIES {
            return Err(invalid("too many quality entries"));
        }
        for (key, value) in &self.quality {
            if !is_name(key, 64) || !value.is_finite() {
                return Err(invalid("quality entries need [a-z0-9_.] names and finite values"));
            }
        }
        if self.images.is_empty() || self.images.len() > MAX_PARTS {
            return Err(invalid(format!("a manifest lists 1 to {MAX_PARTS} images")));
        }
        for (i, image) in self.images.iter().enumerate() {
            if !is_name(&image.name, 32) {
                return Err(invalid(format!("image {i}: name must be 1-32 characters of [a-z0-9_.]")));
            }
            if self.images[..i].iter().any(|other| other.name == image.name) {
                return Err(invalid(format!("image {i}: duplicate name")));
            }
            if !IMAGE_CONTENT_TYPES.contains(&image.content_type.as_str()) {
                return Err(invalid(format!("image {i}: content_type must be image/jpeg or image/png")));
            }
            if image.width == 0
                || image.height == 0
                || image.width > MAX_IMAGE_SIDE
                || image.height > MAX_IMAGE_SIDE
                || u64::from(image.width) * u64::from(image.height) > MAX_IMAGE_PIXELS
            {
                return Err(invalid(format!("image {i}: dimensions out of range")));
            }
            if image.byte_len == 0 || image.byte_len > MAX_PART_LEN as u64 {
                return Err(invalid(format!("image {i}: byte_len out of range")));
            }
            if !is_sha256_hex(&image.sha256) {
                return Err(invalid(format!("image {i}: sha256 must be 64 lowercase hex characters")));
            }
        }
        crate::burst::SelfieBurst::from_manifest(self)?;
        crate::document::DocumentParts::from_manifest(self)?;
        Ok(())
    }

    /// The canonical byte form (validates first).
    pub fn to_canonical_bytes(&self) -> Result<Vec<u8>, ProtocolError> {
        self.validate()?;
        let bytes = serde_json::to_vec(self).map_err(|_| invalid("manifest cannot be encoded"))?;
        if bytes.len() > MAX_MANIFEST_LEN {
            return Err(invalid("manifest too large"));
        }
        Ok(bytes)
    }

    /// Checks that `bytes` are exactly the canonical form of `self`.
    pub fn check_canonical(&self, bytes: &[u8]) -> Result<(), ProtocolError> {
        match serde_json::to_vec(self) {
            Ok(canonical) if canonical == bytes => Ok(()),
            _ => Err(ProtocolError::new(ErrorCode::ManifestNotCanonical, "manifest is not in canonical encoding")),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        Manifest {
            v: PAYLOAD_VERSION,
            session_id: "ses_0123456789abcdef".into(),
            nonce: "n_abcdefghijklmnop".into(),
            key_id: "k_0011223344556677".into(),
            step: Step::DocumentFront,
            captured_at_ms: 1_700_000_000_000,
            sdk: SdkInfo { name: "trustcap-web".into(), version: "0.1.0".into() },
            device: DeviceInfo { user_agent: "test".into(), camera_label: "fake".into(), frames_analyzed: 12 },
            quality: BTreeMap::from([("sharpness".into(), 0.83), ("glare".into(), 0.0)]),
            images: vec![ImageEntry {
                name: "document_front".into(),
                content_type: "image/jpeg".into(),
                width: 1280,
                height: 720,
                byte_len: 3,
                sha256: crate::digest::sha256_hex(b"abc"),
            }],
        }
    }

    #[test]
    fn canonical_round_trip() {
        let m = sample();
        let bytes = m.to_canonical_bytes().unwrap();
        let parsed = Manifest::parse(&bytes).unwrap();
        assert_eq!(parsed, m);
        parsed.check_canonical(&bytes).unwrap();
    }

    #[test]
    fn whitespace_is_not_canonical() {
        let m = sample();
        let pretty = serde_json::to_vec_pretty(&m).unwrap();
        let parsed = Manifest::parse(&pretty).unwrap();
        assert_eq!(parsed.check_canonical(&pretty).unwrap_err().code, ErrorCode::ManifestNotCanonical);
    }

    #[test]
    fn unknown_version_and_fields() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["v"] = 2.into();
        value["future_field"] = true.into();
        let bytes = serde_json::to_vec(&value).unwrap();
        assert_eq!(Manifest::parse(&bytes).unwrap_err().code, ErrorCode::UnsupportedVersion);

        let mut value = serde_json::to_value(sample()).unwrap();
        value["extra"] = 1.into();
        let bytes = serde_json::to_vec(&value).unwrap();
        assert_eq!(Manifest::parse(&bytes).unwrap_err().code, ErrorCode::ManifestInvalid);
    }

    #[test]
    fn invalid_json_and_bad_fields() {
        assert_eq!(Manifest::parse(b"{not json").unwrap_err().code, ErrorCode::ManifestInvalid);
        assert_eq!(Manifest::parse(&[0xff, 0xfe]).unwrap_err().code, ErrorCode::ManifestInvalid);
        let mut m = sample();
        m.images[0].sha256 = "xyz".into();
        assert_eq!(m.to_canonical_bytes().unwrap_err().code, ErrorCode::ManifestInvalid);
        let mut m = sample();
        m.session_id = "has space".into();
        assert_eq!(m.validate().unwrap_err().code, ErrorCode::ManifestInvalid);
        let mut m = sample();
        m.images.push(m.images[0].clone());
        assert_eq!(m.validate().unwrap_err().code, ErrorCode::ManifestInvalid);
        let mut m = sample();
        m.quality.insert("nan".into(), f64::NAN);
        assert_eq!(m.validate().unwrap_err().code, ErrorCode::ManifestInvalid);
    }

    #[test]
    fn step_strings() {
        for step in Step::ALL {
            assert_eq!(Step::parse(step.as_str()), Some(step));
            let json = serde_json::to_string(&step).unwrap();
            assert_eq!(json, format!("\"{}\"", step.as_str()));
        }
        assert_eq!(Step::parse("document-front"), Some(Step::DocumentFront));
        assert_eq!(Step::parse("proof_of_address"), Some(Step::ProofOfAddress));
        assert_eq!(Step::parse("proof-of-address"), Some(Step::ProofOfAddress));
        assert_eq!(Step::parse("passport"), None);
    }
}
