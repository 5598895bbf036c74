//! The MRZ parser (strict and with OCR repair) on arbitrary text: never panics; a successful
//! parse keeps the format's line shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_document::mrz::{Date, ParseOptions, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let today = Date::new(2026, 11, 26).expect("fixed date");
    for options in [ParseOptions::strict(today), ParseOptions::with_repair(today)] {
        if let Ok(m) = parse(text, options) {
            assert_eq!(m.lines.len(), m.format.line_count());
            assert!(m.lines.iter().all(|l| l.len() == m.format.line_len()));
            let _ = m.field_map();
        }
    }
});
