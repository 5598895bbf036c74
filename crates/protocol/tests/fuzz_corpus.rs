//! Replays the committed fuzz corpus (`fuzz/corpus/`) through the same checks as the
//! cargo-fuzz targets, so every test run re-checks what the fuzzer found or was seeded
//! with, without needing the fuzzer. Also keeps the seed inputs current: a valid sealed
//! upload and a valid token for the keys the fuzz targets use.
//!
//! Regenerate the seeds after a protocol change:
//! `TRUSTCAP_WRITE_SEEDS=1 cargo test -p trustcap-protocol --test fuzz_corpus`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use trustcap_protocol::{
    CaptureSigningKey, DeviceInfo, Envelope, Expectations, ImagePart, Manifest, ManifestDraft, SdkInfo, Step,
    TokenClaims, TokenKey, seal, verify_capture,
};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target)
}

fn seed_envelope() -> Vec<u8> {
    let key = CaptureSigningKey::from_seed([7; 32]);
    let draft = ManifestDraft {
        session_id: "ses_fuzzseed".into(),
        nonce: "nonce_fuzzseed".into(),
        step: Step::DocumentFront,
        captured_at_ms: 1_764_000_000_000,
        sdk: SdkInfo { name: "trustcap-web".into(), version: "0.1.0".into() },
        device: DeviceInfo { user_agent: "fuzz".into(), camera_label: "seed".into(), frames_analyzed: 6 },
        quality: BTreeMap::from([("sharpness".into(), 0.75), ("glare".into(), 0.0)]),
    };
    let jpeg = [0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F', 0, 0xff, 0xd9];
    let part = ImagePart { name: "document_front", content_type: "image/jpeg", width: 2, height: 2, bytes: &jpeg };
    seal(draft, &[part], &key).expect("seed seals")
}

fn seed_token() -> String {
    let claims = TokenClaims {
        sid: "ses_fuzzseed".into(),
        tid: "ten_fuzzseed".into(),
        steps: vec![Step::DocumentFront, Step::Selfie],
        iat: 0,
        exp: 4_000_000_000,
        jti: "tok_fuzzseed".into(),
    };
    TokenKey::new([3; 32]).issue(&claims).expect("seed issues")
}

fn check_seed(target: &str, name: &str, bytes: &[u8]) {
    let path = corpus(target).join(name);
    if std::env::var_os("TRUSTCAP_WRITE_SEEDS").is_some() {
        std::fs::create_dir_all(corpus(target)).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == bytes,
        "{} is stale: TRUSTCAP_WRITE_SEEDS=1 cargo test -p trustcap-protocol --test fuzz_corpus",
        path.display()
    );
}

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(corpus(target))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn seeds_are_current() {
    check_seed("capture_envelope", "valid_upload", &seed_envelope());
    check_seed("client_token", "valid_token", seed_token().as_bytes());
}

#[test]
fn capture_envelope_corpus() {
    let key = CaptureSigningKey::from_seed([7; 32]).public_key();
    let expect = Expectations { session_id: "ses_fuzzseed", allowed_steps: &Step::ALL, public_key: &key };
    let files = inputs("capture_envelope");
    assert!(!files.is_empty());
    let mut verified = 0;
    for (path, data) in &files {
        if let Ok(envelope) = Envelope::parse(data) {
            assert_eq!(&envelope.encode().unwrap(), data, "{}", path.display());
            let _ = Manifest::parse(envelope.manifest);
        }
        let _ = Manifest::parse(data);
        if verify_capture(data, &expect).is_ok() {
            verified += 1;
        }
    }
    assert!(verified >= 1, "the valid seed verifies");
}

#[test]
fn client_token_corpus() {
    let key = TokenKey::new([3; 32]);
    let files = inputs("client_token");
    assert!(!files.is_empty());
    for (path, data) in &files {
        if let Ok(text) = std::str::from_utf8(data)
            && let Ok(claims) = key.verify(text, 0)
        {
            assert_eq!(key.issue(&claims).unwrap(), text, "{}", path.display());
        }
    }
}
