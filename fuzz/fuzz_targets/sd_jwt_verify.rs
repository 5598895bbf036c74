//! Fuzzes the credential verifier on untrusted presentations: typed errors, never a panic,
//! and anything it accepts really was issued with the seed corpus's key.
//! `cargo xtask fuzz sd_jwt_verify`
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_credential::{IssuerKey, verify};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let key = IssuerKey::from_seed([9; 32]).public_key();
    if let Ok(v) = verify(text, &key, 1_790_000_000) {
        assert!(v.expires_at > 1_790_000_000);
    }
});
