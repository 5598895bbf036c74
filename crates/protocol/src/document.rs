//! The parts of a document capture: the rectified document and, optionally, the original photo.
//!
//! A `document_front` or `document_back` capture lists one or two images:
//!
//! 1. the document itself (any name but [`ORIGINAL_PART`], conventionally the step's name): the SDK
//!    rectifies it to its format's fixed size when it found the outline, otherwise it is the whole
//!    camera frame. Every check that reads the document (MRZ and OCR, the face-match portrait) uses
//!    this first image;
//! 2. optionally [`ORIGINAL_PART`]: the whole camera frame the document was cut from, so a reviewer can
//!    compare the two. At most [`MAX_ORIGINAL_LEN`] bytes and [`MAX_ORIGINAL_SIDE`] pixels a side.
//!
//! [`DocumentParts::from_manifest`] reads and checks this; [`crate::Manifest::validate`] calls it, so
//! any other layout is refused at intake (`manifest_invalid`). Other steps may not carry an
//! [`ORIGINAL_PART`]. A document capture of one image (an older SDK, or no outline found) stays valid.

use crate::error::{ErrorCode, ProtocolError};
use crate::manifest::{Manifest, Step};

/// The part name of the original camera photo of a document capture.
pub const ORIGINAL_PART: &str = "document_original";
/// Most images a document capture may list (the document and its original photo).
pub const MAX_DOCUMENT_PARTS: usize = 2;
/// Largest original photo, bytes.
pub const MAX_ORIGINAL_LEN: u64 = 8 * 1024 * 1024;
/// Largest side of the original photo, pixels.
pub const MAX_ORIGINAL_SIDE: u32 = 4096;

/// Where a document capture's images are in its manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentParts {
    /// Index of the document image (always `0`): what the checks read.
    pub document: usize,
    /// Index of the original photo, if the capture carries one.
    pub original: Option<usize>,
}

fn invalid(detail: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::ManifestInvalid, detail)
}

/// Whether `step` is a document step (its captures follow this module's layout).
pub fn is_document_step(step: Step) -> bool {
    matches!(step, Step::DocumentFront | Step::DocumentBack)
}

impl DocumentParts {
    /// The document layout of `manifest`: `Ok(None)` for a capture of another step (which may not
    /// carry an [`ORIGINAL_PART`]), an error for a document capture that breaks the layout.
    pub fn from_manifest(manifest: &Manifest) -> Result<Option<Self>, ProtocolError> {
        let original = manifest.images.iter().position(|i| i.name == ORIGINAL_PART);
        if !is_document_step(manifest.step) {
            return match original {
                Some(_) => Err(invalid(format!("only document captures may carry {ORIGINAL_PART}"))),
                None => Ok(None),
            };
        }
        let n = manifest.images.len();
        if n == 0 || n > MAX_DOCUMENT_PARTS {
            return Err(invalid(format!("a document capture lists 1 to {MAX_DOCUMENT_PARTS} images")));
        }
        match original {
            None if n == 1 => Ok(Some(Self { document: 0, original: None })),
            None => Err(invalid(format!("the second image of a document capture must be {ORIGINAL_PART}"))),
            Some(0) => {
                Err(invalid(format!("the first image of a document capture is the document, not {ORIGINAL_PART}")))
            }
            Some(i) => {
                let entry = manifest.images.get(i).ok_or_else(|| invalid("original photo out of range"))?;
                if entry.byte_len > MAX_ORIGINAL_LEN {
                    return Err(invalid(format!("{ORIGINAL_PART} is larger than {MAX_ORIGINAL_LEN} bytes")));
                }
                if entry.width > MAX_ORIGINAL_SIDE || entry.height > MAX_ORIGINAL_SIDE {
                    return Err(invalid(format!("{ORIGINAL_PART} is larger than {MAX_ORIGINAL_SIDE} pixels a side")));
                }
                Ok(Some(Self { document: 0, original: Some(i) }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{DeviceInfo, ImageEntry, SdkInfo};

    fn entry(name: &str, width: u32, byte_len: u64) -> ImageEntry {
        ImageEntry {
            name: name.into(),
            content_type: "image/jpeg".into(),
            width,
            height: 720,
            byte_len,
            sha256: "a".repeat(64),
        }
    }

    fn manifest(step: Step, images: Vec<ImageEntry>) -> Manifest {
        Manifest {
            v: crate::PAYLOAD_VERSION,
            session_id: "ses_1".into(),
            nonce: "n_1".into(),
            key_id: "k_1".into(),
            step,
            captured_at_ms: 1,
            sdk: SdkInfo { name: "trustcap-web".into(), version: "0.1.0".into() },
            device: DeviceInfo { user_agent: "ua".into(), camera_label: String::new(), frames_analyzed: 1 },
            quality: Default::default(),
            images,
        }
    }

    #[test]
    fn one_image_and_document_plus_original_are_valid() {
        let one = manifest(Step::DocumentFront, vec![entry("document_front", 856, 1000)]);
        assert_eq!(DocumentParts::from_manifest(&one).unwrap(), Some(DocumentParts { document: 0, original: None }));
        assert!(one.validate().is_ok());
        let two =
            manifest(Step::DocumentBack, vec![entry("document_back", 856, 1000), entry(ORIGINAL_PART, 1280, 9000)]);
        assert_eq!(DocumentParts::from_manifest(&two).unwrap(), Some(DocumentParts { document: 0, original: Some(1) }));
        assert!(two.validate().is_ok());
    }

    #[test]
    fn other_layouts_are_refused() {
        let doc = || entry("document_front", 856, 1000);
        let orig = || entry(ORIGINAL_PART, 1280, 9000);
        let bad = [
            manifest(Step::DocumentFront, vec![orig()]),
            manifest(Step::DocumentFront, vec![orig(), doc()]),
            manifest(Step::DocumentFront, vec![doc(), entry("other", 10, 10)]),
            manifest(Step::DocumentFront, vec![doc(), orig(), entry("third", 10, 10)]),
            manifest(Step::DocumentFront, vec![doc(), entry(ORIGINAL_PART, MAX_ORIGINAL_SIDE + 1, 9000)]),
            manifest(Step::DocumentFront, vec![doc(), entry(ORIGINAL_PART, 1280, MAX_ORIGINAL_LEN + 1)]),
            manifest(Step::Selfie, vec![entry("selfie", 640, 100), orig()]),
            manifest(Step::ProofOfAddress, vec![entry("proof_of_address", 640, 100), orig()]),
        ];
        for m in &bad {
            let err = DocumentParts::from_manifest(m).unwrap_err();
            assert_eq!(err.code, ErrorCode::ManifestInvalid, "{m:?}");
            assert_eq!(m.validate().unwrap_err().code, ErrorCode::ManifestInvalid);
        }
    }

    #[test]
    fn other_steps_have_no_document_layout() {
        let selfie = manifest(Step::Selfie, vec![entry("selfie", 640, 100)]);
        assert_eq!(DocumentParts::from_manifest(&selfie).unwrap(), None);
    }
}
