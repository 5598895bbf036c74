//! Proof of address with the real PP-OCR models on `fixtures/synthetic_bill.jpg` (a made-up
//! utility bill rendered by `fixtures/make_bill.py`: Mrs Jane Tester, Flat 4, 12 Acacia Avenue,
//! Springfield SP1 2AB, statement date 12 Nov 2026).
#![cfg(all(feature = "ocr", feature = "address"))]

use trustcap_document::address::{AddressPolicy, DeclaredAddress, verify_image};
use trustcap_document::mrz::Date;
use trustcap_document::ocr::{OcrEngine, decode_image};

fn declared(address: &str) -> DeclaredAddress {
    DeclaredAddress { given_names: "Jane Marie".into(), family_name: "Tester".into(), address: address.into() }
}

#[test]
fn reads_a_bill_and_checks_address_name_and_date() {
    let dir = trustcap_vision::model_cache::default_model_dir();
    let mut engine = OcrEngine::from_dir(&dir).expect("PP-OCR models (run `cargo xtask models`)");
    let img = decode_image(include_bytes!("fixtures/synthetic_bill.jpg")).expect("fixture decodes");
    let policy = AddressPolicy::default();
    let today = Date::new(2026, 11, 26).expect("date");

    // The declared address, spelled differently: passes.
    let rep = verify_image(&mut engine, &img, &declared("12 Acacia Ave, Apt 4, Springfield, SP12AB"), &policy, today)
        .expect("ocr runs");
    assert!(rep.passed(), "{rep:#?}");
    assert_eq!(rep.statement_date, Date::new(2026, 11, 12));

    // Another address: address.mismatch (name and date still fine).
    let rep = verify_image(&mut engine, &img, &declared("48 Oak Road, Shelbyville SH9 9ZZ"), &policy, today)
        .expect("ocr runs");
    assert_eq!(rep.problems(), ["address.mismatch"], "{rep:#?}");

    // Seven months later the same bill is stale.
    let later = Date::new(2027, 6, 1).expect("date");
    let rep =
        verify_image(&mut engine, &img, &declared("Flat 4, 12 Acacia Avenue, Springfield SP1 2AB"), &policy, later)
            .expect("ocr runs");
    assert_eq!(rep.problems(), ["address.stale"], "{rep:#?}");
}
