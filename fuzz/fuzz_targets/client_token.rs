//! Fuzzes client-token verification, which runs on every SDK request's bearer token.
//! `cargo xtask fuzz client_token`
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_protocol::TokenKey;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let key = TokenKey::new([3; 32]);
        if let Ok(claims) = key.verify(text, 0) {
            // Only a token this key issued can verify; issuing its claims again gives it back.
            assert_eq!(key.issue(&claims).expect("verified claims re-issue"), text);
        }
    }
});
