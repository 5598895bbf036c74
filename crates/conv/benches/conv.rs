//! Criterion benches of the layer shapes of dlib's face ResNet (150×150 input), each backend.
//! `cargo bench -p trustcap-conv` (or `cargo xtask bench faces`, which runs it too).

use criterion::{Criterion, criterion_group, criterion_main};
use trustcap_conv::{Algorithm, Backend, Conv2d, ConvSpec, Tile, Workspace, winograd};

fn layer(c: &mut Criterion, name: &str, spec: ConvSpec, size: [usize; 2]) {
    let weights: Vec<f32> = (0..spec.weight_count().unwrap_or(0)).map(|i| ((i % 17) as f32 - 8.0) / 64.0).collect();
    let bias = vec![0.01; spec.out_channels];
    let input: Vec<f32> = (0..size[0] * size[1] * spec.in_channels).map(|i| ((i % 13) as f32 - 6.0) / 8.0).collect();
    let tiles = [Tile::C64P6, Tile::C32P12, Tile::C16P24];
    let runs = [Backend::Avx512, Backend::Avx2]
        .into_iter()
        .flat_map(|b| tiles.iter().map(move |&t| (b, t)))
        .chain([(Backend::Portable, Tile::for_out_channels(spec.out_channels))]);
    for (backend, tile) in runs {
        if !backend.is_supported() || !spec.out_channels.is_multiple_of(tile.channels()) {
            continue;
        }
        let Ok(conv) = Conv2d::with_tile(spec, &weights, &bias, backend, tile) else { return };
        let mut ws = Workspace::default();
        let mut out = Vec::new();
        c.bench_function(&format!("conv/{name}/{backend:?}_{tile:?}"), |b| {
            b.iter(|| conv.run(std::hint::black_box(&input), size, true, &mut ws, &mut out))
        });
        if backend != Backend::Portable && winograd::applies(&spec) {
            let Ok(conv) = Conv2d::with_algorithm(spec, &weights, &bias, backend, tile, Algorithm::Winograd) else {
                return;
            };
            c.bench_function(&format!("conv/{name}/{backend:?}_{tile:?}_winograd"), |b| {
                b.iter(|| conv.run(std::hint::black_box(&input), size, true, &mut ws, &mut out))
            });
        }
    }
}

/// Ten different 256-channel layers on a 4×4 map run in turn: 23.6 MB of filters, more than
/// L2, so each layer's filters come from the last-level cache or memory, as in a network
/// (the single-layer benches above keep them warm).
fn cold_filters(c: &mut Criterion) {
    let spec = spec(256, 256, 3, 1, 1);
    let n = spec.weight_count().unwrap_or(0);
    let layers: Vec<Conv2d> = (0..10)
        .filter_map(|l| {
            let w: Vec<f32> = (0..n).map(|i| (((i * 7 + l * 13) % 17) as f32 - 8.0) / 64.0).collect();
            Conv2d::for_input(spec, &w, &[0.0; 256], Backend::detect(), [4, 4]).ok()
        })
        .collect();
    let input: Vec<f32> = (0..16 * 256).map(|i| ((i % 13) as f32 - 6.0) / 8.0).collect();
    let mut ws = Workspace::default();
    let mut out = Vec::new();
    c.bench_function("conv/3x3_256_4_cold_filters_x10", |b| {
        b.iter(|| {
            for layer in &layers {
                let _ = layer.run(std::hint::black_box(&input), [4, 4], true, &mut ws, &mut out);
            }
        })
    });
}

fn spec(ci: usize, co: usize, k: usize, s: usize, p: usize) -> ConvSpec {
    ConvSpec { in_channels: ci, out_channels: co, kernel: [k, k], stride: [s, s], padding: [p, p] }
}

fn benches(c: &mut Criterion) {
    layer(c, "stem_7x7s2_3to32_150", spec(3, 32, 7, 2, 0), [150, 150]);
    layer(c, "3x3_32_35", spec(32, 32, 3, 1, 1), [35, 35]);
    layer(c, "3x3_64_17", spec(64, 64, 3, 1, 1), [17, 17]);
    layer(c, "3x3_128_8", spec(128, 128, 3, 1, 1), [8, 8]);
    layer(c, "3x3_256_4", spec(256, 256, 3, 1, 1), [4, 4]);
    layer(c, "3x3s2_128to256_8", spec(128, 256, 3, 2, 0), [8, 8]);
    layer(c, "3x3_256_1", spec(256, 256, 3, 1, 1), [1, 1]);
    cold_filters(c);
}

criterion_group! {
    name = conv;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = benches
}
criterion_main!(conv);
