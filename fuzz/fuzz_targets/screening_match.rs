//! Fuzzes name preparation and comparison with arbitrary text: never panics, scores stay in
//! 0..1 and are symmetric.
//! `cargo xtask fuzz screening_match`
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_screening::{EntityKind, compare_names};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('|').unwrap_or((&text, "Vladimir Putin"));
    for kind in [EntityKind::Person, EntityKind::Organization, EntityKind::Unknown] {
        let ab = compare_names(a, b, kind).score;
        let ba = compare_names(b, a, kind).score;
        assert!((0.0..=1.0).contains(&ab));
        assert!((ab - ba).abs() < 1e-4);
    }
});
