//! The dlib reader and the architecture check on files written by the tests (no real model):
//! a fake model with the real architecture and random weights parses, passes the check and
//! compiles in tract; altered files are rejected.

mod common;

use common::{Rng, fake_dlib_resnet};
use trustcap_face::architecture::{LAYER_COUNT, dlib_resnet};
use trustcap_face::dlib::model::{DlibModel, InputLayer, Layer, Wrapper, write};
use trustcap_face::embed::FaceEmbedder;

fn input() -> InputLayer {
    InputLayer { mean: [122.782, 117.001, 104.298], rows: 150, cols: 150 }
}

#[test]
fn fake_full_model_parses_and_matches_the_architecture() {
    let (layers, wrappers) = fake_dlib_resnet(&mut Rng(42));
    assert_eq!(layers.len(), LAYER_COUNT);
    let bytes = write::network(&input(), &wrappers, &layers);
    let model = DlibModel::parse(&bytes).unwrap();
    assert_eq!(model.layers, layers);
    assert_eq!(model.structure.len(), 129);
    assert_eq!(model.structure.iter().filter(|w| **w == Wrapper::TagOrSkip).count(), 22);
    let network = dlib_resnet(&model).unwrap();
    let shapes = network.shapes().unwrap();
    assert_eq!(shapes[4], [32, 35, 35]);
    assert_eq!(*shapes.last().unwrap(), [128, 1, 1]);
    // The 5,614,592 parameters of the real model.
    assert_eq!(model.parameter_count(), 5_614_592);
}

#[test]
fn fake_model_compiles_and_embeds() {
    let (layers, wrappers) = fake_dlib_resnet(&mut Rng(9));
    let bytes = write::network(&input(), &wrappers, &layers);
    let embedder = FaceEmbedder::from_bytes(&bytes).unwrap();
    assert!(embedder.version().starts_with("dlib_face_recognition_resnet_model_v1@sha256:"));
    let chip =
        image::RgbImage::from_fn(150, 150, |x, y| image::Rgb([(x * 3) as u8, (y * 5) as u8, ((x + y) * 2) as u8]));
    let a = embedder.embed(&chip).unwrap();
    let b = embedder.embed(&chip).unwrap();
    assert_eq!(a, b);
    assert!(a.0.iter().all(|v| v.is_finite()) && a.norm() > 0.0);
    assert!(embedder.embed(&image::RgbImage::new(100, 150)).is_err());
}

#[test]
fn wrong_architectures_are_rejected() {
    let (layers, wrappers) = fake_dlib_resnet(&mut Rng(1));
    // A residual block's convolution with the wrong stride.
    let mut bad = layers.clone();
    if let Layer::Conv(c) = &mut bad[4] {
        c.stride = [2, 2];
    }
    let model = DlibModel::parse(&write::network(&input(), &wrappers, &bad)).unwrap();
    let err = dlib_resnet(&model).unwrap_err();
    assert_eq!(err.index, 4, "{err}");

    // One layer missing (the file is then also one wrapper short).
    let mut short = layers.clone();
    short.remove(10);
    let model = DlibModel::parse(&write::network(&input(), &wrappers[1..], &short)).unwrap();
    assert!(dlib_resnet(&model).is_err());

    // The right layers but a tag in the wrong place.
    let mut moved = wrappers.clone();
    let tag = moved.iter().position(|w| *w == Wrapper::TagOrSkip).unwrap();
    assert_eq!(moved[tag - 1], Wrapper::Layer);
    moved.swap(tag, tag - 1);
    let model = DlibModel::parse(&write::network(&input(), &moved, &layers)).unwrap();
    assert!(dlib_resnet(&model).is_err());
}

/// The seed corpus of the `dlib_reader` fuzz target: the small files parse (so the fuzzer
/// starts from valid structure), every proper prefix of them is an error, and the prefix of the
/// real model stops at its first truncated tensor.
#[test]
fn fuzz_seeds_parse_and_their_prefixes_do_not() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/dlib_reader");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let kinds = |bytes: &[u8]| -> Vec<&'static str> {
        DlibModel::parse(bytes).unwrap().layers.iter().map(Layer::kind).collect()
    };
    let small = read("small_network");
    assert_eq!(kinds(&small), ["conv", "affine", "relu", "max_pool", "add_prev", "avg_pool", "fc", "fc"]);
    let block = read("residual_block");
    assert_eq!(kinds(&block), ["conv", "affine", "relu", "conv", "affine", "add_prev", "relu", "avg_pool", "fc"]);
    for bytes in [&small, &block] {
        for len in 0..bytes.len() {
            assert!(DlibModel::parse(&bytes[..len]).is_err(), "a prefix of {len} bytes parsed");
        }
        // Neither is the face network.
        assert!(dlib_resnet(&DlibModel::parse(bytes).unwrap()).is_err());
    }
    let prefix = read("real_model_prefix");
    assert!(prefix.len() <= 1024, "seed files stay tiny");
    assert!(DlibModel::parse(&prefix).is_err());
}
