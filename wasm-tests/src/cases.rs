//! The test frames, shared by `build.rs` (native) and the browser tests (wasm).

use trustcap_vision::{DocumentFormat, synth};

/// A test frame: packed RGBA pixels laid out with `stride` bytes per row.
pub struct CaseFrame {
    /// Short name.
    pub name: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes per row (>= width * 4).
    pub stride: usize,
    /// The pixels.
    pub pixels: Vec<u8>,
    /// Name of a frame to analyse first with the same analyzer (exercises motion), if any.
    pub previous: Option<&'static str>,
}

fn with_stride(rgba: &[u8], width: u32, height: u32, stride: usize) -> Vec<u8> {
    let row = width as usize * 4;
    let mut out = vec![0u8; stride * height as usize];
    for y in 0..height as usize {
        out[y * stride..y * stride + row].copy_from_slice(&rgba[y * row..(y + 1) * row]);
    }
    out
}

/// Renders every case. Deterministic; run natively by `build.rs` only (the browser tests
/// read the exact bytes it wrote, so the comparison is on the same pixels).
pub fn render() -> Vec<CaseFrame> {
    let (w, h) = (640u32, 360u32);
    let packed =
        |name, pixels, previous| CaseFrame { name, width: w, height: h, stride: w as usize * 4, pixels, previous };
    let sharp = synth::document_scene(w, h, 42);
    let mut cases = vec![packed("sharp", sharp.clone(), None)];
    for (name, sigma) in [("blur_sigma_1_5", 1.5f32), ("blur_sigma_4", 4.0)] {
        let mut frame = sharp.clone();
        synth::gaussian_blur_rgba(&mut frame, w, h, sigma);
        cases.push(packed(name, frame, None));
    }
    let mut motion = sharp.clone();
    synth::motion_blur_rgba(&mut motion, w, h, 15);
    cases.push(packed("motion_blur_15", motion, None));
    let mut dark = sharp.clone();
    synth::scale_brightness_rgba(&mut dark, 15, 100);
    cases.push(packed("dark", dark, None));
    let mut glare = sharp.clone();
    synth::add_glare_rgba(&mut glare, w, h, w / 2, h / 2, 70);
    cases.push(packed("glare", glare, None));
    let mut noisy = sharp.clone();
    synth::add_noise_rgba(&mut noisy, 9, 8);
    cases.push(packed("noisy_after_sharp", noisy, Some("sharp")));
    cases.push(CaseFrame {
        name: "sharp_padded_stride",
        width: w,
        height: h,
        stride: w as usize * 4 + 64,
        pixels: with_stride(&sharp, w, h, w as usize * 4 + 64),
        previous: None,
    });
    let (bw, bh) = (1280u32, 720u32);
    cases.push(CaseFrame {
        name: "hd_1280x720",
        width: bw,
        height: bh,
        stride: bw as usize * 4,
        pixels: synth::document_scene(bw, bh, 7),
        previous: None,
    });
    // Cards at an angle on busy backgrounds (checkerboard; clutter with a hand over a corner).
    for (name, seed, format, occlude) in
        [("card_checkerboard", 1u64, DocumentFormat::Id1, false), ("card_clutter_hand", 3, DocumentFormat::Id3, true)]
    {
        let scene = synth::card_scene(bw, bh, seed, format, occlude);
        cases.push(CaseFrame {
            name,
            width: bw,
            height: bh,
            stride: bw as usize * 4,
            pixels: scene.rgba,
            previous: None,
        });
    }
    cases
}
