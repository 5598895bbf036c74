//! The real BlazeFace-128 model, fetched by `cargo xtask models` (the test command runs
//! that first), loads in tract-onnx with the `ConstantOfShape` fix and runs on generated
//! images.

use trustcap_vision::Frame;
use trustcap_vision::face::{BlazeFace, BlazeFaceVariant, default_model_dir};
use trustcap_vision::synth;

fn model(variant: BlazeFaceVariant) -> BlazeFace {
    let dir = default_model_dir();
    BlazeFace::from_dir(&dir, variant).unwrap_or_else(|e| {
        panic!("{e}\nThe models are fetched by `cargo xtask models` (or `cargo xtask test`) into {}", dir.display())
    })
}

#[test]
fn blazeface_128_loads_and_runs_on_a_generated_image() {
    let mut detector = model(BlazeFaceVariant::Front128);
    let (w, h) = (320, 240);
    let scene = synth::document_scene(w, h, 3);
    let frame = Frame::packed(&scene, w, h).unwrap();
    let outputs = detector.run(&frame).unwrap();

    // Two score tensors and two regressor tensors over 896 anchors (512 + 384).
    let anchors: usize = outputs.iter().filter(|(s, _)| s.last() == Some(&1)).map(|(s, _)| s[1]).sum();
    assert_eq!(anchors, 896, "shapes: {:?}", outputs.iter().map(|o| &o.0).collect::<Vec<_>>());
    let regressors: Vec<_> = outputs.iter().filter(|(s, _)| s.last() == Some(&16)).collect();
    assert_eq!(regressors.iter().map(|(s, _)| s[1]).sum::<usize>(), 896);
    assert!(outputs.iter().all(|(_, v)| v.iter().all(|x| x.is_finite())));

    // Uniform grey and pure noise contain no face.
    let grey = vec![128u8; (w * h * 4) as usize];
    let score = detector.best_score(&Frame::packed(&grey, w, h).unwrap()).unwrap();
    assert!(score < 0.5, "a grey image scored {score}");
}

#[test]
fn blazeface_256_loads_too() {
    let mut detector = model(BlazeFaceVariant::Back256);
    let scene = synth::document_scene(256, 256, 5);
    let score = detector.best_score(&Frame::packed(&scene, 256, 256).unwrap()).unwrap();
    assert!((0.0..=1.0).contains(&score));
}
