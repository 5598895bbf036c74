//! Fuzzes the importer of OpenSanctions FollowTheMoney JSON lines: any bytes import or fail with a typed error,
//! never panic, and every imported entity has a name.
//! `cargo xtask fuzz screening_ftm`
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_screening::import::{ImportOptions, ftm};

fuzz_target!(|data: &[u8]| {
    let mut options = ImportOptions::default();
    options.limits.max_input_bytes = 1 << 20;
    if let Ok(report) = ftm::import(data, &options) {
        assert!(report.entities.iter().all(|e| !e.names.is_empty()));
        assert!(report.bad_rows.len() as u64 <= report.bad_row_count);
    }
});
