//! Renders the test frames and computes their quality metrics natively, for the browser
//! tests to compare against (see `src/lib.rs`).

use std::fmt::Write as _;

#[path = "src/cases.rs"]
mod cases;

use trustcap_vision::document::DocumentAnalyzer;
use trustcap_vision::{Frame, QualityAnalyzer};

fn main() {
    println!("cargo::rerun-if-changed=src/cases.rs");
    println!("cargo::rerun-if-changed=../crates/vision/src");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let cases = cases::render();
    let mut code = String::from("/// Cases with their native results.\npub const CASES: &[NativeCase] = &[\n");
    for case in &cases {
        std::fs::write(out.join(format!("{}.rgba", case.name)), &case.pixels).expect("write frame");
        let mut analyzer = QualityAnalyzer::new();
        if let Some(previous) = case.previous {
            let prev = cases.iter().find(|c| c.name == previous).expect("previous case exists");
            analyzer.analyze(&Frame::new(&prev.pixels, prev.width, prev.height, prev.stride).expect("valid frame"));
        }
        let frame = Frame::new(&case.pixels, case.width, case.height, case.stride).expect("valid frame");
        let report = analyzer.analyze(&frame);
        let mut metrics = String::new();
        for (name, value) in report.metrics() {
            write!(metrics, "(\"{name}\", {:#018x}), ", value.to_bits()).unwrap();
        }
        // The same frame through the document analyser (boundary, in-document quality, guidance).
        let mut documents = DocumentAnalyzer::new();
        if let Some(previous) = case.previous {
            let prev = cases.iter().find(|c| c.name == previous).expect("previous case exists");
            documents.analyze(&Frame::new(&prev.pixels, prev.width, prev.height, prev.stride).expect("valid frame"));
        }
        let doc = documents.analyze(&frame);
        let mut doc_metrics = String::new();
        for (name, value) in doc.metrics() {
            write!(doc_metrics, "(\"{name}\", {:#018x}), ", value.to_bits()).unwrap();
        }
        writeln!(
            code,
            "    NativeCase {{ name: \"{name}\", pixels: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}.rgba\")), width: {w}, height: {h}, stride: {s}, previous: {prev:?}, guidance: \"{g}\", metrics: &[{metrics}], document_guidance: \"{dg}\", document_metrics: &[{doc_metrics}] }},",
            name = case.name,
            w = case.width,
            h = case.height,
            s = case.stride,
            prev = case.previous,
            g = report.guidance.as_str(),
            dg = doc.guidance.as_str(),
        )
        .unwrap();
    }
    code.push_str("];\n");
    std::fs::write(out.join("native_metrics.rs"), code).expect("write native_metrics.rs");
}
