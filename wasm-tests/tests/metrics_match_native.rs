//! The quality metrics computed in wasm inside Chromium equal the native results on the
//! same pixels, bit for bit (the native side ran in `build.rs`).

#![cfg(target_arch = "wasm32")]

use trustcap_vision::document::DocumentAnalyzer;
use trustcap_vision::{Frame, QualityAnalyzer};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// One frame and what the native build computed for it.
pub struct NativeCase {
    name: &'static str,
    pixels: &'static [u8],
    width: u32,
    height: u32,
    stride: usize,
    previous: Option<&'static str>,
    guidance: &'static str,
    metrics: &'static [(&'static str, u64)],
    document_guidance: &'static str,
    document_metrics: &'static [(&'static str, u64)],
}

include!(concat!(env!("OUT_DIR"), "/native_metrics.rs"));

fn frame(case: &NativeCase) -> Frame<'static> {
    Frame::new(case.pixels, case.width, case.height, case.stride).expect("valid frame")
}

#[wasm_bindgen_test]
fn quality_metrics_in_wasm_equal_native() {
    assert!(CASES.len() >= 8);
    for case in CASES {
        let mut analyzer = QualityAnalyzer::new();
        if let Some(previous) = case.previous {
            let prev = CASES.iter().find(|c| c.name == previous).expect("previous case exists");
            analyzer.analyze(&frame(prev));
        }
        let report = analyzer.analyze(&frame(case));
        let wasm: Vec<(&str, u64)> = report.metrics().iter().map(|(n, v)| (*n, v.to_bits())).collect();
        assert_eq!(wasm.len(), case.metrics.len(), "{}: metric count", case.name);
        for ((name, bits), (native_name, native_bits)) in wasm.iter().zip(case.metrics) {
            assert_eq!(name, native_name, "{}: metric order", case.name);
            assert_eq!(
                bits,
                native_bits,
                "{}: {name} wasm {} != native {}",
                case.name,
                f64::from_bits(*bits),
                f64::from_bits(*native_bits)
            );
        }
        assert_eq!(report.guidance.as_str(), case.guidance, "{}: guidance", case.name);
    }
}

/// Compares metric lists bit for bit.
fn assert_same_bits(case: &str, wasm: &[(&str, u64)], native: &[(&'static str, u64)]) {
    assert_eq!(wasm.len(), native.len(), "{case}: metric count");
    for ((name, bits), (native_name, native_bits)) in wasm.iter().zip(native) {
        assert_eq!(name, native_name, "{case}: metric order");
        assert_eq!(
            bits,
            native_bits,
            "{case}: {name} wasm {} != native {}",
            f64::from_bits(*bits),
            f64::from_bits(*native_bits)
        );
    }
}

#[wasm_bindgen_test]
fn document_analysis_in_wasm_equals_native() {
    for case in CASES {
        let mut analyzer = DocumentAnalyzer::new();
        if let Some(previous) = case.previous {
            let prev = CASES.iter().find(|c| c.name == previous).expect("previous case exists");
            analyzer.analyze(&frame(prev));
        }
        let report = analyzer.analyze(&frame(case));
        let wasm: Vec<(&str, u64)> = report.metrics().map(|(n, v)| (n, v.to_bits())).collect();
        assert_same_bits(case.name, &wasm, case.document_metrics);
        assert_eq!(report.guidance.as_str(), case.document_guidance, "{}: document guidance", case.name);
    }
}

#[wasm_bindgen_test]
fn the_cases_cover_distinct_guidance() {
    let find = |name: &str| CASES.iter().find(|c| c.name == name).expect(name).guidance;
    assert_eq!(find("sharp"), "ready");
    assert_eq!(find("blur_sigma_4"), "too_blurry");
    assert_eq!(find("dark"), "more_light");
    assert_eq!(find("glare"), "reduce_glare");
    let document = |name: &str| CASES.iter().find(|c| c.name == name).expect(name).document_guidance;
    assert_eq!(document("sharp"), "ready");
    assert_eq!(document("card_checkerboard"), "ready");
    assert_eq!(document("blur_sigma_4"), "too_blurry");
    let found = |name: &str| {
        let case = CASES.iter().find(|c| c.name == name).expect(name);
        case.document_metrics.iter().find(|(n, _)| *n == "document.found").map(|(_, b)| f64::from_bits(*b))
    };
    assert_eq!(found("card_checkerboard"), Some(1.0));
    assert_eq!(found("card_clutter_hand"), Some(1.0));
}
