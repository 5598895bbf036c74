//! Face-match benchmarks (need the models in the model cache: `cargo xtask models`).
//!
//! - `faces/embed`: one dlib embedding of a 150×150 chip through the default engine (the direct
//!   convolution where the CPU has AVX-512 or AVX2 with FMA; target ≤ 8 ms on one core).
//! - `faces/embed_tract`: the same through tract, the peer it is compared with.
//! - `faces/match_512`: a full match of two 512×512 photos (detect, refine, align, embed twice;
//!   target ≤ 80 ms).
//! - `faces/match_1280x960`: the same with the face in a larger photo.
//! - `faces/detect_front128`, `faces/detect_back256`: one BlazeFace detection on a 512×512 photo.

use criterion::{Criterion, criterion_group, criterion_main};
use image::RgbImage;
use trustcap_face::matcher::rgba;
use trustcap_face::{EmbedEngine, FaceEmbedder, FaceMatcher, Role};
use trustcap_vision::Frame;
use trustcap_vision::face::{BlazeFace, BlazeFaceVariant, FaceEngine, default_model_dir};

fn bench(c: &mut Criterion) {
    let dir = default_model_dir();
    let mut matcher = FaceMatcher::from_dir(&dir).expect("models (cargo xtask models)");
    let astronaut = image::open(dir.join("astronaut.png")).expect("astronaut.png (cargo xtask models)").to_rgb8();
    let mirrored = image::imageops::flip_horizontal(&astronaut);
    let pixels = rgba(&astronaut);
    let frame = Frame::packed(&pixels, 512, 512).expect("frame");
    let chip = matcher.analyze(&frame, Role::Selfie).expect("analysis").chip.expect("a face in astronaut.png");

    let mut group = c.benchmark_group("faces");
    group.sample_size(30);
    group.bench_function("embed", |b| b.iter(|| matcher.embedder().embed(std::hint::black_box(&chip)).expect("embed")));
    let tract = FaceEmbedder::from_dir_with(&dir, EmbedEngine::Tract).expect("dlib model (cargo xtask models)");
    group.bench_function("embed_tract", |b| b.iter(|| tract.embed(std::hint::black_box(&chip)).expect("embed")));
    group.bench_function("match_512", |b| b.iter(|| matcher.match_images(&astronaut, &mirrored).expect("match")));
    let mut large = RgbImage::from_pixel(1280, 960, image::Rgb([90, 100, 110]));
    image::imageops::replace(&mut large, &astronaut, 600, 200);
    group.bench_function("match_1280x960", |b| b.iter(|| matcher.match_images(&large, &astronaut).expect("match")));
    // The detector as the matcher loads it (FaceEngine::Auto), then on tract, the peer.
    for variant in [BlazeFaceVariant::Front128, BlazeFaceVariant::Back256] {
        let name = format!("detect_{}", if variant == BlazeFaceVariant::Front128 { "front128" } else { "back256" });
        let mut detector = BlazeFace::from_dir(&dir, variant).expect("blazeface");
        group.bench_function(&name, |b| b.iter(|| detector.detect(&frame).expect("detect")));
        let mut tract = BlazeFace::from_dir_with(&dir, variant, FaceEngine::Tract).expect("blazeface");
        group.bench_function(format!("{name}_tract"), |b| b.iter(|| tract.detect(&frame).expect("detect")));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
