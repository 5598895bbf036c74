//! Fuzzes the verifier's intake of image parts (`crates/verifier/src/intake.rs`, compiled
//! here on its own): content sniffing, the header-only size checks, decoding under
//! limits, the truncation check and the server-side quality re-run.
//! Input: one byte choosing the declared content type (even: JPEG, odd: PNG), then the
//! image bytes. `cargo xtask fuzz intake_images`
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_protocol::{ErrorCode, ImageEntry};

#[path = "../../crates/verifier/src/intake.rs"]
#[allow(dead_code)]
mod intake;

/// Decoding is the expensive part; larger images are covered up to the header checks.
const MAX_FUZZ_DECODE_PIXELS: u64 = 4_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else { return };
    let content_type = if kind % 2 == 0 { "image/jpeg" } else { "image/png" };
    // The manifest's dimensions: the header's own, so mutations get past the
    // dimension cross-check into the decoder (a mismatch must be `manifest_invalid`).
    let (width, height) = match intake::sniff(bytes) {
        Some(format) => image::ImageReader::with_format(std::io::Cursor::new(bytes), format)
            .into_dimensions()
            .unwrap_or((1, 1)),
        None => (1, 1),
    };
    let entry = ImageEntry {
        name: "document_front".into(),
        content_type: content_type.into(),
        width,
        height,
        byte_len: bytes.len() as u64,
        sha256: "0".repeat(64),
    };
    let format = match intake::check_header(&entry, bytes) {
        Ok(format) => format,
        Err(e) => {
            assert!(matches!(
                e.code,
                ErrorCode::ImageUnsupported | ErrorCode::ImageTooLarge | ErrorCode::ImageCorrupt | ErrorCode::ManifestInvalid
            ));
            return;
        }
    };
    assert!(u64::from(width) * u64::from(height) <= intake::MAX_PIXELS);
    if u64::from(width) * u64::from(height) > MAX_FUZZ_DECODE_PIXELS {
        return;
    }
    match intake::decode_rgba(&entry, bytes, format) {
        Ok(rgba) => {
            assert_eq!(rgba.dimensions(), (width, height));
            let quality = intake::server_quality(&rgba).expect("a decoded image can be analysed");
            assert!(quality["acceptable"].is_boolean());
        }
        Err(e) => assert!(matches!(e.code, ErrorCode::ImageCorrupt | ErrorCode::ImageTooLarge)),
    }
});
