//! Fuzzes the document analyser and rectification on arbitrary frames: the verifier runs them on
//! every uploaded image, so no pixel content, size or stride may panic or loop.
//! `cargo xtask fuzz document_frame`
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_vision::document::DocumentAnalyzer;
use trustcap_vision::rectify::rectify_into;
use trustcap_vision::Frame;

fuzz_target!(|data: &[u8]| {
    // Header: width, height (1..=96 each) and extra stride bytes; the rest are pixels, repeated to fill.
    let [w, h, pad, rest @ ..] = data else { return };
    let (width, height) = (u32::from(*w % 96) + 1, u32::from(*h % 96) + 1);
    let stride = width as usize * 4 + usize::from(*pad % 8);
    let mut pixels = vec![0u8; stride * height as usize];
    if !rest.is_empty() {
        for (i, p) in pixels.iter_mut().enumerate() {
            *p = rest[i % rest.len()];
        }
    }
    let Ok(frame) = Frame::new(&pixels, width, height, stride) else { return };
    let mut analyzer = DocumentAnalyzer::new();
    let first = analyzer.analyze(&frame);
    let second = analyzer.analyze(&frame);
    // Same pixels, same answer (motion aside).
    assert_eq!(first.boundary, second.boundary);
    if let Some(b) = second.boundary {
        let mut out = Vec::new();
        let _ = rectify_into(&frame, &b.quad, 64, 40, &mut out);
    }
});
