//! The two tamper signals on a 1000×700-pixel document-like photo (one core): screen re-capture (spectral
//! peaks over up to 64 FFT tiles, luma and chroma) and JPEG regions (per-block DCT and grid profiles, per-cell
//! step estimation).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

#[cfg(feature = "ocr")]
fn photo() -> image::RgbImage {
    // Gradient card, smooth blotches and dark "text" bars, with grain: textured enough for both signals.
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % 1000) as f64 / 1000.0
    };
    image::RgbImage::from_fn(1000, 700, |x, y| {
        let text = (y / 24) % 2 == 0 && (x / 9 + y / 24) % 5 != 0 && x > 350 && (y % 24) > 8;
        let base = if text { 40.0 } else { 210.0 - 0.03 * f64::from(x) - 0.02 * f64::from(y) };
        let v = (base + 8.0 * rnd()).clamp(0.0, 255.0) as u8;
        image::Rgb([v, v.saturating_sub(6), v.saturating_sub(14)])
    })
}

#[cfg(feature = "ocr")]
fn tamper(c: &mut Criterion) {
    use trustcap_document::signals::{jpeg_regions, recapture};
    let img = photo();
    let mut g = c.benchmark_group("tamper");
    g.sample_size(20);
    g.bench_function("screen_recapture_1000px", |b| b.iter(|| recapture::measure(black_box(&img))));
    g.bench_function("jpeg_regions_1000px", |b| b.iter(|| jpeg_regions::measure_pixels(black_box(&img))));
    g.finish();
}

#[cfg(not(feature = "ocr"))]
fn tamper(_: &mut Criterion) {}

criterion_group!(benches, tamper);
criterion_main!(benches);
