//! Fuzzes everything the verifier runs on an upload body before touching its database:
//! the envelope parser, the manifest parser and the full stateless verification.
//! `cargo xtask fuzz capture_envelope`
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_protocol::{CaptureSigningKey, Envelope, Expectations, Manifest, Step, verify_capture};

fuzz_target!(|data: &[u8]| {
    // Whatever parses as an envelope encodes back to exactly the same bytes.
    if let Ok(envelope) = Envelope::parse(data) {
        assert_eq!(envelope.encode().expect("a parsed envelope is within limits"), data);
        let _ = Manifest::parse(envelope.manifest);
    }
    let _ = Manifest::parse(data);
    // The key and session of the seed corpus, so mutations reach the deep checks.
    let key = CaptureSigningKey::from_seed([7; 32]).public_key();
    let expect = Expectations { session_id: "ses_fuzzseed", allowed_steps: &Step::ALL, public_key: &key };
    if let Ok(verified) = verify_capture(data, &expect) {
        assert_eq!(verified.images.len(), verified.manifest.images.len());
    }
});
