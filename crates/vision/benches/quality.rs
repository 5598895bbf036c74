//! Per-frame cost of the capture checks on a 1280x720 frame: each check on its own and the whole
//! document bundle ([`DocumentAnalyzer::analyze`]), plus the older whole-frame quality bundle.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use trustcap_vision::document::DocumentAnalyzer;
use trustcap_vision::geometry::{Homography, Point};
use trustcap_vision::luma::{WORKING_MAX_SIDE, WorkingImage, downscale_factor};
use trustcap_vision::region::RowSpans;
use trustcap_vision::{BoundaryDetector, DocumentFormat, Frame, QualityAnalyzer, exposure, glare, synth};

fn bench_quality(c: &mut Criterion) {
    let (w, h) = (1280u32, 720u32);
    // An ID-1 card tilted by about 10° with perspective on a wood-grain table (the e2e card).
    let scene = synth::card_scene(w, h, 50, DocumentFormat::Id1, false);
    let frame = Frame::packed(&scene.rgba, w, h).expect("valid frame");
    let factor = downscale_factor(w, h, WORKING_MAX_SIDE);
    let mut work = WorkingImage::new();
    work.fill_from_frame(&frame, factor);
    let boundary = BoundaryDetector::new().detect(&work).expect("the card is found");
    let working_quad = boundary.quad.scaled(1.0 / f64::from(factor));
    let mut region = RowSpans::new();
    region.fill_from_quad(&working_quad, work.width(), work.height());
    let unit = [Point::new(0.0, 0.0), Point::new(1.0, 0.0), Point::new(1.0, 1.0), Point::new(0.0, 1.0)];
    let to_doc = Homography::from_points(&working_quad.corners, &unit);

    let mut group = c.benchmark_group("quality/1280x720");
    group.bench_function("luma_downscale", |b| {
        let mut img = WorkingImage::new();
        b.iter(|| img.fill_from_frame(black_box(&frame), factor));
    });
    group.bench_function("boundary", |b| {
        let mut detector = BoundaryDetector::new();
        b.iter(|| detector.detect(black_box(&work)));
    });
    group.bench_function("sharpness", |b| {
        let mut analyzer = DocumentAnalyzer::new();
        b.iter(|| analyzer.document_sharpness(black_box(&frame), &boundary.quad));
    });
    group.bench_function("glare", |b| {
        let mut scratch = glare::GlareScratch::new();
        b.iter(|| glare::measure_region(black_box(&work), &region, to_doc.as_ref(), &mut scratch));
    });
    group.bench_function("exposure", |b| b.iter(|| exposure::measure(black_box(&work))));
    group.bench_function("document_analyze", |b| {
        let mut analyzer = DocumentAnalyzer::new();
        b.iter(|| analyzer.analyze(black_box(&frame)));
    });
    group.bench_function("analyze", |b| {
        let mut analyzer = QualityAnalyzer::new();
        b.iter(|| analyzer.analyze(black_box(&frame)));
    });
    group.finish();
}

criterion_group!(benches, bench_quality);
criterion_main!(benches);
