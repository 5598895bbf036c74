//! Per-frame cost of the quality pipeline on a 1280x720 synthetic document frame.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use trustcap_vision::luma::{WORKING_MAX_SIDE, WorkingImage, downscale_factor};
use trustcap_vision::{Frame, QualityAnalyzer, exposure, glare, sharpness, synth};

fn bench_quality(c: &mut Criterion) {
    let (w, h) = (1280u32, 720u32);
    let rgba = synth::document_scene(w, h, 7);
    let frame = Frame::packed(&rgba, w, h).expect("valid frame");
    let factor = downscale_factor(w, h, WORKING_MAX_SIDE);
    let mut work = WorkingImage::new();
    work.fill_from_frame(&frame, factor);

    let mut group = c.benchmark_group("quality/1280x720");
    group.bench_function("luma_downscale", |b| {
        let mut img = WorkingImage::new();
        b.iter(|| img.fill_from_frame(black_box(&frame), factor));
    });
    group.bench_function("sharpness", |b| b.iter(|| sharpness::measure(black_box(&work))));
    group.bench_function("glare", |b| {
        let mut scratch = glare::GlareScratch::new();
        b.iter(|| glare::measure_with(black_box(&work), &mut scratch));
    });
    group.bench_function("exposure", |b| b.iter(|| exposure::measure(black_box(&work))));
    group.bench_function("analyze", |b| {
        let mut analyzer = QualityAnalyzer::new();
        b.iter(|| analyzer.analyze(black_box(&frame)));
    });
    group.finish();
}

criterion_group!(benches, bench_quality);
criterion_main!(benches);
