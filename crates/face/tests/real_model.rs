//! With the real models (fetched by `cargo xtask models`, which the test command runs first):
//! the dlib file parses and matches the architecture, embeddings are stable, and the public-domain
//! NASA portrait `astronaut.png` (from scikit-image's wheel, fetched into the model cache) is
//! found, aligned and embedded; its mirror image lands near it; bad photos get reason codes.

use std::sync::{Mutex, OnceLock};

use image::RgbImage;
use trustcap_face::dlib::model::DlibModel;
use trustcap_face::embed::MODEL_FILE;
use trustcap_face::matcher::rgba;
use trustcap_face::{Decision, FaceMatcher, MatchConfig, Reason, ReasonCode, Role};
use trustcap_vision::Frame;
use trustcap_vision::face::{Keypoint, default_model_dir};

fn hint() -> String {
    format!(
        "The models are fetched by `cargo xtask models` (or `cargo xtask test`) into {}",
        default_model_dir().display()
    )
}

fn matcher() -> std::sync::MutexGuard<'static, FaceMatcher> {
    static MATCHER: OnceLock<Mutex<FaceMatcher>> = OnceLock::new();
    MATCHER
        .get_or_init(|| {
            Mutex::new(FaceMatcher::from_dir(&default_model_dir()).unwrap_or_else(|e| panic!("{e}\n{}", hint())))
        })
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn astronaut() -> RgbImage {
    let path = default_model_dir().join("astronaut.png");
    image::open(&path).unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), hint())).to_rgb8()
}

fn analyze(image: &RgbImage, role: Role) -> trustcap_face::FaceAnalysis {
    let pixels = rgba(image);
    let frame = Frame::packed(&pixels, image.width(), image.height()).unwrap();
    matcher().analyze(&frame, role).unwrap()
}

#[test]
fn real_dlib_file_parses_to_the_last_byte_and_matches_the_architecture() {
    let bytes = std::fs::read(default_model_dir().join(MODEL_FILE)).unwrap_or_else(|e| panic!("{e}\n{}", hint()));
    let model = DlibModel::parse(&bytes).unwrap();
    assert_eq!(model.layers.len(), trustcap_face::architecture::LAYER_COUNT);
    assert_eq!(model.parameter_count(), 5_614_592);
    assert_eq!((model.input.rows, model.input.cols), (150, 150));
    assert!((model.input.mean[0] - 122.782).abs() < 1e-3);
    assert!((model.distance_threshold - 0.6).abs() < 1e-6);
    trustcap_face::architecture::dlib_resnet(&model).unwrap();
}

#[test]
fn astronaut_is_found_aligned_and_embedded() {
    let image = astronaut();
    let a = analyze(&image, Role::Selfie);
    assert_eq!(a.reasons, vec![], "{a:?}");
    assert_eq!(a.faces, 1);
    let det = a.detection.unwrap();
    assert!(det.score > 0.7, "score {}", det.score);
    // The face is in the upper middle of the 512×512 portrait, eyes level, image-left eye first.
    let (re, le) = (det.keypoint(Keypoint::RightEye), det.keypoint(Keypoint::LeftEye));
    assert!(re.x < le.x && (re.y - le.y).abs() < 15.0, "{re:?} {le:?}");
    assert!((150.0..300.0).contains(&re.x) && (60.0..200.0).contains(&re.y), "{re:?}");
    assert!(a.eye_distance_px > 30.0, "{}", a.eye_distance_px);
    let chip = a.chip.unwrap();
    assert_eq!(chip.dimensions(), (150, 150));
    let e = a.embedding.unwrap();
    assert!((0.8..1.8).contains(&e.norm()), "norm {}", e.norm());
}

#[test]
fn same_photo_twice_is_a_match_at_distance_zero() {
    let image = astronaut();
    let report = matcher().match_images(&image, &image).unwrap();
    let score = report.score.unwrap_or_else(|| panic!("{:?}", report.reasons));
    assert!(score.distance < 1e-6, "{score:?}");
    assert_eq!(score.decision, Decision::Match);
    assert!(score.similarity > 0.95);
    assert!(report.model_version.starts_with("dlib_face_recognition_resnet_model_v1@sha256:"));
    assert!(report.selfie.chip.is_some() && report.document.chip.is_some());

    // Through the same path, the same photo gives exactly the same embedding.
    let a = analyze(&image, Role::Document).embedding.unwrap();
    let b = analyze(&image, Role::Document).embedding.unwrap();
    assert_eq!(a.distance(&b), 0.0);
}

#[test]
fn mirror_image_lands_near_and_a_face_free_image_is_far() {
    let image = astronaut();
    let mirrored = image::imageops::flip_horizontal(&image);
    let report = matcher().match_images(&image, &mirrored).unwrap();
    let score = report.score.unwrap_or_else(|| panic!("{:?}", report.reasons));
    assert!(score.distance < 0.4, "mirror distance {}", score.distance);
    assert_eq!(score.decision, Decision::Match);

    // The embedding of an unrelated chip (a generated pattern) is far from the face.
    let a = analyze(&image, Role::Selfie).embedding.unwrap();
    let pattern =
        RgbImage::from_fn(150, 150, |x, y| image::Rgb([(x * 7 % 256) as u8, (y * 3) as u8, ((x ^ y) * 2) as u8]));
    let other = matcher().embedder().embed(&pattern).unwrap();
    assert!(a.distance(&other) > 0.6, "{}", a.distance(&other));
}

#[test]
fn embedding_of_a_fixed_chip_is_stable() {
    let chip = analyze(&astronaut(), Role::Selfie).chip.unwrap();
    let first = matcher().embedder().embed(&chip).unwrap();
    // A freshly loaded embedder gives the same values.
    let fresh = trustcap_face::FaceEmbedder::from_dir(&default_model_dir()).unwrap();
    let second = fresh.embed(&chip).unwrap();
    assert!(first.distance(&second) < 1e-6);
    // And so does a fixed generated chip across runs: golden values from a first run.
    let fixed = RgbImage::from_fn(150, 150, |x, y| {
        let d = ((x as f32 - 75.0).powi(2) + (y as f32 - 70.0).powi(2)).sqrt();
        let v = (200.0 - d).clamp(0.0, 255.0) as u8;
        image::Rgb([v, (v as u32 * 3 / 4) as u8, (v as u32 / 2) as u8])
    });
    let e = fresh.embed(&fixed).unwrap();
    let golden = GOLDEN;
    for (i, g) in golden.iter().enumerate() {
        assert!((e.0[i] - g).abs() < 1e-4, "dim {i}: {} vs {g} (all: {:?})", e.0[i], &e.0[..8]);
    }
}

#[test]
fn the_direct_engine_and_tract_give_the_same_embeddings() {
    use trustcap_face::{EmbedEngine, FaceEmbedder};
    let dir = default_model_dir();
    let tract = FaceEmbedder::from_dir_with(&dir, EmbedEngine::Tract).unwrap_or_else(|e| panic!("{e}\n{}", hint()));
    let direct = FaceEmbedder::from_dir_with(&dir, EmbedEngine::Direct).unwrap();
    assert_eq!(tract.engine(), EmbedEngine::Tract);
    assert_eq!(direct.engine(), EmbedEngine::Direct);
    let face = analyze(&astronaut(), Role::Selfie).chip.unwrap();
    let mirrored = image::imageops::flip_horizontal(&face);
    let noise = RgbImage::from_fn(150, 150, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).wrapping_mul(2_246_822_519) >> 24;
        image::Rgb([v as u8, (v >> 1) as u8, (255 - v) as u8])
    });
    for chip in [&face, &mirrored, &noise] {
        let (a, b) = (tract.embed(chip).unwrap(), direct.embed(chip).unwrap());
        let worst = a.0.iter().zip(&b.0).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-4, "largest difference {worst}");
        assert!(a.distance(&b) < 1e-4, "{}", a.distance(&b));
    }
    // Different chips still give different embeddings through both engines.
    assert!(direct.embed(&face).unwrap().distance(&direct.embed(&noise).unwrap()) > 0.3);
}

/// First eight values of the embedding of the fixed generated chip above.
const GOLDEN: [f32; 8] =
    [-0.035541512, 0.09690559, 0.060418747, -0.03417144, -0.083245955, -0.052798, -0.05712641, -0.035243224];

#[test]
fn placement_in_a_larger_canvas_moves_the_keypoints_with_it() {
    let image = astronaut();
    let base = analyze(&image, Role::Document).detection.unwrap();
    let mut canvas = RgbImage::from_pixel(1200, 800, image::Rgb([40, 60, 80]));
    image::imageops::replace(&mut canvas, &image, 500, 200);
    let moved = analyze(&canvas, Role::Document).detection.unwrap();
    for k in [Keypoint::RightEye, Keypoint::LeftEye, Keypoint::NoseTip, Keypoint::Mouth] {
        let (a, b) = (base.keypoint(k), moved.keypoint(k));
        assert!((b.x - a.x - 500.0).abs() < 6.0 && (b.y - a.y - 200.0).abs() < 6.0, "{k:?}: {a:?} -> {b:?}");
    }
}

#[test]
fn quality_gates_give_reason_codes_instead_of_a_score() {
    let image = astronaut();
    let grey = RgbImage::from_pixel(400, 300, image::Rgb([128, 128, 128]));
    let report = matcher().match_images(&grey, &image).unwrap();
    assert!(report.score.is_none());
    assert_eq!(report.reasons, vec![ReasonCode { role: Role::Selfie, reason: Reason::NoFace }]);
    assert_eq!(report.reasons[0].code(), "selfie_no_face");

    let small = image::imageops::resize(&image, 96, 96, image::imageops::FilterType::Triangle);
    let a = analyze(&small, Role::Document);
    assert!(a.reasons.contains(&Reason::FaceTooSmall), "{:?} eye distance {}", a.reasons, a.eye_distance_px);

    let blurred = image::imageops::blur(&image, 3.0);
    let a = analyze(&blurred, Role::Selfie);
    assert!(a.reasons.contains(&Reason::FaceTooBlurred), "{:?} sharpness {}", a.reasons, a.sharpness);

    let mut pair = RgbImage::from_pixel(1024, 512, image::Rgb([0, 0, 0]));
    image::imageops::replace(&mut pair, &image, 0, 0);
    image::imageops::replace(&mut pair, &image::imageops::flip_horizontal(&image), 512, 0);
    let a = analyze(&pair, Role::Selfie);
    assert!(a.faces >= 2 && a.reasons.contains(&Reason::MultipleFaces), "{a:?}");
}

/// The detection policy: the 256 model runs only when the 128 model finds no face wide enough,
/// and the keypoints are refined on a crop only for faces narrower than `refine_below`.
#[test]
fn detector_runs_follow_the_policy() {
    let image = astronaut();
    let pixels = rgba(&image);
    let frame = Frame::packed(&pixels, image.width(), image.height()).unwrap();
    let runs = |config: MatchConfig| {
        let mut m = FaceMatcher::with_config(&default_model_dir(), config).unwrap();
        let a = m.analyze(&frame, Role::Selfie).unwrap();
        assert!(a.embedding.is_some() && a.reasons.is_empty(), "{config:?}: {a:?}");
        let r = m.detector_runs();
        (r.front128, r.back256)
    };
    let base = MatchConfig::default();
    // Always the full-range model and a refinement; never either.
    assert_eq!(runs(MatchConfig { full_range_below: 2.0, refine_below: 2.0, ..base }), (2, 1));
    assert_eq!(runs(MatchConfig { full_range_below: 0.0, refine_below: 0.0, ..base }), (1, 0));
    // The astronaut's face (about a fifth of the photo) under the defaults: 128 model on the
    // photo and on the crop around the face, no 256 model.
    assert_eq!(runs(base), (2, 0));
}
