//! Property tests of the capture protocol: a valid payload always verifies, and every
//! kind of fault is refused with its own stable code.

use std::collections::BTreeMap;

use proptest::prelude::*;
use trustcap_protocol::envelope::HEADER_LEN;
use trustcap_protocol::verify::verify_and_consume;
use trustcap_protocol::{
    CaptureSigningKey, DeviceInfo, ErrorCode, Expectations, ImagePart, ManifestDraft, MemoryNonceLedger, SdkInfo, Step,
    TokenClaims, TokenKey, seal, verify_capture,
};

const SESSION: &str = "ses_aaaaaaaaaaaaaaaa";
const NOW_MS: u64 = 1_800_000_000_000;

fn draft(session: &str, nonce: &str, step: Step, sharpness: f64) -> ManifestDraft {
    ManifestDraft {
        session_id: session.into(),
        nonce: nonce.into(),
        step,
        captured_at_ms: NOW_MS - 1000,
        sdk: SdkInfo { name: "trustcap-web".into(), version: "0.1.0".into() },
        device: DeviceInfo { user_agent: "proptest".into(), camera_label: "fake".into(), frames_analyzed: 9 },
        quality: BTreeMap::from([("sharpness".into(), sharpness), ("glare".into(), 0.01)]),
    }
}

/// A sealed payload with one or two images, plus the byte range of each region.
struct Fixture {
    bytes: Vec<u8>,
    manifest: std::ops::Range<usize>,
    signature: std::ops::Range<usize>,
    images: Vec<std::ops::Range<usize>>,
}

fn fixture(key: &CaptureSigningKey, images: &[Vec<u8>], sharpness: f64) -> Fixture {
    let parts: Vec<ImagePart<'_>> = images
        .iter()
        .enumerate()
        .map(|(i, bytes)| ImagePart {
            name: if i == 0 { "document_front" } else { trustcap_protocol::document::ORIGINAL_PART },
            content_type: "image/jpeg",
            width: 64,
            height: 48,
            bytes,
        })
        .collect();
    let bytes = seal(draft(SESSION, "nonce_0123456789abcdef", Step::DocumentFront, sharpness), &parts, key).unwrap();
    let manifest_len = u32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let mut offset = HEADER_LEN + manifest_len;
    let mut ranges = Vec::new();
    for image in images {
        ranges.push(offset + 4..offset + 4 + image.len());
        offset += 4 + image.len();
    }
    Fixture { manifest: HEADER_LEN..HEADER_LEN + manifest_len, signature: 12..HEADER_LEN, images: ranges, bytes }
}

fn ledger() -> MemoryNonceLedger {
    let mut ledger = MemoryNonceLedger::default();
    ledger.issue(SESSION, "nonce_0123456789abcdef", NOW_MS + 60_000);
    ledger
}

fn image_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 1..3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any payload sealed by the session key verifies, and yields exactly its images.
    #[test]
    fn valid_payload_always_verifies(seed in any::<[u8; 32]>(), images in image_strategy(), sharpness in 0.0f64..1.0) {
        let key = CaptureSigningKey::from_seed(seed);
        let public = key.public_key();
        let fx = fixture(&key, &images, sharpness);
        let expect = Expectations { session_id: SESSION, allowed_steps: &Step::ALL, public_key: &public };
        let verified = verify_and_consume(&fx.bytes, &expect, &mut ledger(), NOW_MS).unwrap();
        prop_assert_eq!(verified.images.len(), images.len());
        for (got, want) in verified.images.iter().zip(&images) {
            prop_assert_eq!(*got, want.as_slice());
        }
        prop_assert_eq!(verified.manifest.quality["sharpness"], sharpness);
    }

    /// Any single changed byte anywhere is refused; in the manifest, signature and images
    /// with the code of that region.
    #[test]
    fn any_single_changed_byte_is_rejected(seed in any::<[u8; 32]>(), images in image_strategy(), pos in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let key = CaptureSigningKey::from_seed(seed);
        let public = key.public_key();
        let fx = fixture(&key, &images, 0.5);
        let i = pos.index(fx.bytes.len());
        let mut forged = fx.bytes.clone();
        forged[i] ^= flip;
        let expect = Expectations { session_id: SESSION, allowed_steps: &Step::ALL, public_key: &public };
        let code = verify_capture(&forged, &expect).unwrap_err().code;
        if fx.images.iter().any(|r| r.contains(&i)) {
            prop_assert_eq!(code, ErrorCode::PayloadTampered);
        } else if fx.signature.contains(&i) {
            prop_assert_eq!(code, ErrorCode::SignatureInvalid);
        } else if fx.manifest.contains(&i) {
            prop_assert!(matches!(code,
                ErrorCode::SignatureInvalid | ErrorCode::ManifestInvalid | ErrorCode::UnsupportedVersion
                | ErrorCode::SessionMismatch | ErrorCode::KeyMismatch), "manifest byte {} gave {}", i, code);
        } else {
            // Framing bytes: magic, version, algorithm, counts and lengths.
            prop_assert!(matches!(code,
                ErrorCode::EnvelopeMalformed | ErrorCode::UnsupportedVersion | ErrorCode::ManifestInvalid
                | ErrorCode::PartMissing | ErrorCode::PartUnexpected | ErrorCode::SignatureInvalid), "framing byte {} gave {}", i, code);
        }
    }

    /// Truncation or extension of a valid payload never verifies and never panics.
    #[test]
    fn truncated_or_extended_is_rejected(seed in any::<[u8; 32]>(), images in image_strategy(), cut in any::<prop::sample::Index>(), extra in prop::collection::vec(any::<u8>(), 1..8)) {
        let key = CaptureSigningKey::from_seed(seed);
        let public = key.public_key();
        let fx = fixture(&key, &images, 0.5);
        let expect = Expectations { session_id: SESSION, allowed_steps: &Step::ALL, public_key: &public };
        let n = cut.index(fx.bytes.len());
        prop_assert_eq!(verify_capture(&fx.bytes[..n], &expect).unwrap_err().code, ErrorCode::EnvelopeMalformed);
        let mut longer = fx.bytes.clone();
        longer.extend_from_slice(&extra);
        prop_assert_eq!(verify_capture(&longer, &expect).unwrap_err().code, ErrorCode::EnvelopeMalformed);
    }

    /// Arbitrary bytes never panic the verifier.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let public = CaptureSigningKey::from_seed([5; 32]).public_key();
        let expect = Expectations { session_id: SESSION, allowed_steps: &Step::ALL, public_key: &public };
        prop_assert!(verify_capture(&bytes, &expect).is_err());
    }

    /// A replayed nonce is refused the second time, whatever the payload.
    #[test]
    fn replayed_nonce_is_rejected(seed in any::<[u8; 32]>(), images in image_strategy()) {
        let key = CaptureSigningKey::from_seed(seed);
        let public = key.public_key();
        let fx = fixture(&key, &images, 0.5);
        let expect = Expectations { session_id: SESSION, allowed_steps: &Step::ALL, public_key: &public };
        let mut ledger = ledger();
        verify_and_consume(&fx.bytes, &expect, &mut ledger, NOW_MS).unwrap();
        let err = verify_and_consume(&fx.bytes, &expect, &mut ledger, NOW_MS).unwrap_err();
        prop_assert_eq!(err.code, ErrorCode::NonceReplayed);
        // A re-sealed payload with the same nonce is a replay too.
        let again = fixture(&key, &images, 0.25);
        let err = verify_and_consume(&again.bytes, &expect, &mut ledger, NOW_MS).unwrap_err();
        prop_assert_eq!(err.code, ErrorCode::NonceReplayed);
    }

    /// A token is refused once expired, accepted before, and refused under another key.
    #[test]
    fn expired_token_is_rejected(secret in any::<[u8; 32]>(), iat in 0u64..1_000_000_000, ttl in 1u64..100_000, probe in 0u64..200_000) {
        let key = TokenKey::new(secret);
        let claims = TokenClaims { sid: SESSION.into(), tid: "ten_1".into(), steps: vec![Step::Selfie], iat, exp: iat + ttl, jti: "tok_1".into() };
        let token = key.issue(&claims).unwrap();
        let now = iat + probe;
        match key.verify(&token, now) {
            Ok(got) => { prop_assert!(now < iat + ttl); prop_assert_eq!(got, claims); }
            Err(e) => { prop_assert!(now >= iat + ttl); prop_assert_eq!(e.code, ErrorCode::TokenExpired); }
        }
        let mut other = secret;
        other[0] ^= 1;
        prop_assert_eq!(TokenKey::new(other).verify(&token, iat).unwrap_err().code, ErrorCode::TokenInvalid);
    }

    /// A payload addressed to another session is refused with `session_mismatch`,
    /// even when it is correctly signed.
    #[test]
    fn other_session_is_rejected(seed in any::<[u8; 32]>(), other in "ses_[a-z0-9]{16}") {
        prop_assume!(other != SESSION);
        let key = CaptureSigningKey::from_seed(seed);
        let public = key.public_key();
        let image = vec![1u8, 2, 3];
        let part = ImagePart { name: "document_front", content_type: "image/jpeg", width: 4, height: 4, bytes: &image };
        let bytes = seal(draft(&other, "nonce_x", Step::DocumentFront, 0.5), &[part], &key).unwrap();
        let expect = Expectations { session_id: SESSION, allowed_steps: &Step::ALL, public_key: &public };
        prop_assert_eq!(verify_capture(&bytes, &expect).unwrap_err().code, ErrorCode::SessionMismatch);
    }
}

#[test]
fn step_outside_the_token_is_rejected() {
    let key = CaptureSigningKey::from_seed([7; 32]);
    let public = key.public_key();
    let image = vec![9u8; 10];
    let part = ImagePart { name: "selfie", content_type: "image/jpeg", width: 4, height: 4, bytes: &image };
    let bytes = seal(draft(SESSION, "nonce_y", Step::Selfie, 0.5), &[part], &key).unwrap();
    let expect = Expectations { session_id: SESSION, allowed_steps: &[Step::DocumentFront], public_key: &public };
    assert_eq!(verify_capture(&bytes, &expect).unwrap_err().code, ErrorCode::StepNotAllowed);
}

#[test]
fn another_sessions_key_is_rejected() {
    let key = CaptureSigningKey::from_seed([7; 32]);
    let registered = CaptureSigningKey::from_seed([8; 32]).public_key();
    let image = vec![9u8; 10];
    let part = ImagePart { name: "document_front", content_type: "image/jpeg", width: 4, height: 4, bytes: &image };
    let bytes = seal(draft(SESSION, "nonce_z", Step::DocumentFront, 0.5), &[part], &key).unwrap();
    let expect = Expectations { session_id: SESSION, allowed_steps: &Step::ALL, public_key: &registered };
    assert_eq!(verify_capture(&bytes, &expect).unwrap_err().code, ErrorCode::KeyMismatch);
}

#[test]
fn unknown_and_expired_nonces() {
    use trustcap_protocol::NonceLedger;
    let mut ledger = MemoryNonceLedger::default();
    ledger.issue(SESSION, "n1", 100);
    ledger.issue("ses_other", "n2", 100);
    assert_eq!(ledger.consume(SESSION, "n0", 50).unwrap_err().code, ErrorCode::NonceUnknown);
    assert_eq!(ledger.consume(SESSION, "n2", 50).unwrap_err().code, ErrorCode::NonceUnknown);
    assert_eq!(ledger.consume(SESSION, "n1", 100).unwrap_err().code, ErrorCode::NonceExpired);
}
