//! Building a signed upload (the SDK side).

use std::collections::BTreeMap;

use crate::PAYLOAD_VERSION;
use crate::digest::sha256_hex;
use crate::envelope::Envelope;
use crate::error::ProtocolError;
use crate::manifest::{DeviceInfo, ImageEntry, Manifest, SdkInfo, Step};
use crate::signing::CaptureSigningKey;

/// Everything in a manifest except what is derived from the images and the key.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestDraft {
    /// The session id from the client token.
    pub session_id: String,
    /// A fresh nonce from the verifier.
    pub nonce: String,
    /// The captured step.
    pub step: Step,
    /// Capture time in milliseconds since the Unix epoch.
    pub captured_at_ms: u64,
    /// The SDK's name and version.
    pub sdk: SdkInfo,
    /// Device facts.
    pub device: DeviceInfo,
    /// On-device quality results.
    pub quality: BTreeMap<String, f64>,
}

/// One image to upload.
#[derive(Debug, Clone, Copy)]
pub struct ImagePart<'a> {
    /// Part name, e.g. `document_front`.
    pub name: &'a str,
    /// `image/jpeg` or `image/png`.
    pub content_type: &'a str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The encoded image.
    pub bytes: &'a [u8],
}

/// Builds the manifest (with the digest of every image), signs it and frames the envelope.
/// Returns the envelope bytes, ready to upload with [`crate::CONTENT_TYPE`].
pub fn seal(draft: ManifestDraft, images: &[ImagePart<'_>], key: &CaptureSigningKey) -> Result<Vec<u8>, ProtocolError> {
    let manifest = Manifest {
        v: PAYLOAD_VERSION,
        session_id: draft.session_id,
        nonce: draft.nonce,
        key_id: key.public_key().key_id(),
        step: draft.step,
        captured_at_ms: draft.captured_at_ms,
        sdk: draft.sdk,
        device: draft.device,
        quality: draft.quality,
        images: images
            .iter()
            .map(|img| ImageEntry {
                name: img.name.to_owned(),
                content_type: img.content_type.to_owned(),
                width: img.width,
                height: img.height,
                byte_len: img.bytes.len() as u64,
                sha256: sha256_hex(img.bytes),
            })
            .collect(),
    };
    let manifest_bytes = manifest.to_canonical_bytes()?;
    let signature = key.sign_manifest(&manifest_bytes);
    Envelope { manifest: &manifest_bytes, signature, parts: images.iter().map(|img| img.bytes).collect() }.encode()
}
