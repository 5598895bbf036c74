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

/// The direct engine (`trustcap-conv`) gives tract's outputs and detections on both models:
/// on the astronaut portrait (a face), a synthetic document scene and noise.
#[test]
fn the_direct_engine_matches_tract_on_both_models() {
    use trustcap_vision::face::FaceEngine;
    let dir = default_model_dir();
    let astronaut = image::open(dir.join("astronaut.png")).expect("astronaut.png from `cargo xtask models`").to_rgba8();
    let scene = synth::document_scene(300, 200, 7);
    let mut noise_state = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..200 * 150 * 4)
        .map(|_| {
            noise_state ^= noise_state << 13;
            noise_state ^= noise_state >> 7;
            noise_state ^= noise_state << 17;
            (noise_state >> 56) as u8
        })
        .collect();
    let frames = [
        Frame::packed(astronaut.as_raw(), astronaut.width(), astronaut.height()).unwrap(),
        Frame::packed(&scene, 300, 200).unwrap(),
        Frame::packed(&noise, 200, 150).unwrap(),
    ];
    for variant in [BlazeFaceVariant::Front128, BlazeFaceVariant::Back256] {
        let mut tract = BlazeFace::from_dir_with(&dir, variant, FaceEngine::Tract).unwrap();
        let mut direct = BlazeFace::from_dir_with(&dir, variant, FaceEngine::Direct).unwrap();
        assert_eq!((tract.engine(), direct.engine()), (FaceEngine::Tract, FaceEngine::Direct));
        for (f, frame) in frames.iter().enumerate() {
            let (want, got) = (tract.run(frame).unwrap(), direct.run(frame).unwrap());
            assert_eq!(want.len(), got.len());
            for ((ws, wv), (gs, gv)) in want.iter().zip(&got) {
                assert_eq!(ws, gs, "{variant:?} frame {f}: output shapes");
                let worst = wv.iter().zip(gv).map(|(a, b)| (a - b).abs() / a.abs().max(1.0)).fold(0f32, f32::max);
                // The engines sum in different orders through about 40 layers: f32 rounding
                // (2.3e-4 relative at worst over these frames, in the regressors) and nothing more.
                assert!(worst < 1e-3, "{variant:?} frame {f}: outputs differ by {worst}");
            }
            let (want, got) = (tract.detect(frame).unwrap(), direct.detect(frame).unwrap());
            assert_eq!(want.len(), got.len(), "{variant:?} frame {f}: detections");
            for (a, b) in want.iter().zip(&got) {
                assert!((a.score - b.score).abs() < 1e-4, "{variant:?} frame {f}: {} vs {}", a.score, b.score);
                assert!((a.bbox.centre().x - b.bbox.centre().x).abs() < 0.05);
                assert!((a.bbox.centre().y - b.bbox.centre().y).abs() < 0.05);
            }
        }
    }
    // The astronaut is found by both.
    let mut direct = BlazeFace::from_dir_with(&dir, BlazeFaceVariant::Front128, FaceEngine::Direct).unwrap();
    assert!(direct.best_score(&frames[0]).unwrap() > 0.7);
}
