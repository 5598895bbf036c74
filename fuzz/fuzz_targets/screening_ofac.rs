//! Fuzzes the OFAC legacy CSV importer (main, alt, add and comments files): the input is split
//! at 0xFF bytes into the four files. Any bytes import or fail with a typed error, never panic,
//! and every imported entity has a name.
//! `cargo xtask fuzz screening_ofac`
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_screening::ListSource;
use trustcap_screening::import::{ImportOptions, ofac};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xFF);
    let main = parts.next().unwrap_or_default();
    let files = ofac::OfacFiles { main, alt: parts.next(), add: parts.next(), comments: parts.next() };
    let mut options = ImportOptions::default();
    options.limits.max_input_bytes = 1 << 20;
    if let Ok(report) = ofac::import(ListSource::OfacSdn, files, &options) {
        assert!(report.entities.iter().all(|e| !e.names.is_empty()));
        assert!(report.bad_rows.len() as u64 <= report.bad_row_count);
    }
});
