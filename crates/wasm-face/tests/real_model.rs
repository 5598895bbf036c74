//! The face module's Rust side with the real BlazeFace models (fetched by `cargo xtask models`,
//! which the test command runs first) on the public-domain NASA portrait `astronaut.png` from the
//! model cache: one face, where the browser test (`wasm-tests/face/face_module.test.mjs`)
//! expects it too.

use trustcap_vision::model_cache::default_model_dir;
use trustcap_wasm_face::detector::{Detector, Face};

/// Where the face of `astronaut.png` (512×512) is: box centre and width bounds, in pixels.
/// The browser test checks the wasm builds against the same bounds.
const CENTRE_X: (f32, f32) = (200.0, 270.0);
const CENTRE_Y: (f32, f32) = (100.0, 180.0);
const WIDTH: (f32, f32) = (70.0, 160.0);

fn read(name: &str) -> Vec<u8> {
    let path = default_model_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!("{}: {e}\nThe models are fetched by `cargo xtask models` (or `cargo xtask test`)", path.display())
    })
}

fn astronaut() -> (Vec<u8>, u32, u32) {
    let image = image::load_from_memory(&read("astronaut.png")).expect("astronaut.png decodes").to_rgba8();
    let (w, h) = image.dimensions();
    (image.into_raw(), w, h)
}

fn check_astronaut(faces: &[Face], variant: &str) {
    assert_eq!(faces.len(), 1, "{variant}: {faces:?}");
    let f = faces[0];
    assert!(f.score > 0.75, "{variant}: score {}", f.score);
    let (cx, cy) = (f.rect.x + f.rect.width / 2.0, f.rect.y + f.rect.height / 2.0);
    assert!((CENTRE_X.0..CENTRE_X.1).contains(&cx), "{variant}: centre x {cx} ({f:?})");
    assert!((CENTRE_Y.0..CENTRE_Y.1).contains(&cy), "{variant}: centre y {cy} ({f:?})");
    assert!((WIDTH.0..WIDTH.1).contains(&f.rect.width), "{variant}: width {} ({f:?})", f.rect.width);
    let k = f.keypoints;
    assert!(k.right_eye.x < k.left_eye.x, "{variant}: eyes {k:?}");
    assert!(k.right_eye.y < k.mouth.y && k.left_eye.y < k.mouth.y, "{variant}: eyes above the mouth {k:?}");
}

#[test]
fn both_variants_find_the_astronaut() {
    let (rgba, w, h) = astronaut();
    for (variant, file) in [("front128", "blazeface_front_128.onnx"), ("back256", "blazeface_back_256.onnx")] {
        let mut detector = Detector::load(&read(file), variant).unwrap();
        assert_eq!(detector.variant(), variant);
        let faces = detector.detect(&rgba, w, h, w * 4).unwrap();
        println!("{variant}: {faces:?}");
        check_astronaut(&faces, variant);
    }
}

#[test]
fn a_model_of_the_wrong_variant_or_truncated_is_refused() {
    let front = read("blazeface_front_128.onnx");
    // The 128 model's input does not take 256×256 images.
    assert_eq!(Detector::load(&front, "back256").unwrap_err().code(), "model_invalid");
    assert_eq!(Detector::load(&front[..front.len() / 2], "front128").unwrap_err().code(), "model_invalid");
}

#[test]
fn frames_without_a_face_or_malformed_give_no_face_or_a_typed_error() {
    let mut detector = Detector::load(&read("blazeface_front_128.onnx"), "front128").unwrap();
    let grey = vec![128u8; 320 * 240 * 4];
    assert!(detector.detect(&grey, 320, 240, 1280).unwrap().is_empty());
    assert_eq!(detector.detect(&grey, 320, 240, 100).unwrap_err().code(), "frame_stride_too_small");
    assert_eq!(detector.detect(&grey, 321, 240, 1284).unwrap_err().code(), "frame_buffer_too_short");
    assert_eq!(detector.detect(&grey, 0, 240, 1280).unwrap_err().code(), "frame_zero_size");
    assert_eq!(detector.set_min_score(f32::NAN).unwrap_err().code(), "invalid_options");
    detector.set_min_score(2.0).unwrap();
    assert_eq!(detector.min_score(), 1.0);
}

#[test]
fn the_model_alone_on_the_prepared_tensor_scores_what_detect_finds() {
    // A 128×128 frame is the model's input as is: detect's tensor is the pixels mapped to [-1, 1].
    let image = image::load_from_memory(&read("astronaut.png")).expect("astronaut.png decodes").to_rgba8();
    let small = image::imageops::resize(&image, 128, 128, image::imageops::FilterType::Triangle);
    let rgba = small.into_raw();
    let mut detector = Detector::load(&read("blazeface_front_128.onnx"), "front128").unwrap();
    let faces = detector.detect(&rgba, 128, 128, 128 * 4).unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
    let tensor: Vec<f32> =
        rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).map(|v| f32::from(v) / 127.5 - 1.0).collect();
    let score = detector.best_score_of_tensor(&tensor).unwrap();
    assert!((score - faces[0].score).abs() < 1e-3, "tensor {score} vs detect {}", faces[0].score);
    // A tensor of the wrong length is a typed error, not a panic.
    assert_eq!(detector.best_score_of_tensor(&tensor[1..]).unwrap_err().code(), "inference_failed");
    assert_eq!(detector.best_score_of_tensor(&[]).unwrap_err().code(), "inference_failed");
}
