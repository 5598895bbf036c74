//! Passive liveness on bursts simulated from a face drawn in code: the live presentation passes, and each
//! kind of attack is rejected for the right reason.

use trustcap_vision::Frame;
use trustcap_vision::liveness::simulate::{BurstSpec, Presentation, Source, burst};
use trustcap_vision::liveness::{FaceBox, LivenessAnalyzer, LivenessConfig, LivenessError, LivenessReport, MAX_FRAMES};

const W: u32 = 360;
const H: u32 = 440;

/// A drawn head-and-shoulders portrait: textured wall, hair, a skin-toned face with eyes, brows, nose shadow
/// and mouth, all with fine texture (like skin pores and sensor grain) so points can be followed.
fn portrait() -> (Vec<u8>, FaceBox) {
    let mut state = 0x1234_5678_9abc_def1u64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 1000) as f64 / 1000.0 - 0.5
    };
    let face = FaceBox { x: 110.0, y: 120.0, width: 140.0, height: 170.0 };
    let (cx, cy) = (180.0, 205.0);
    let mut rgba = Vec::with_capacity((W * H * 4) as usize);
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (f64::from(x), f64::from(y));
            let (u, v) = ((fx - cx) / 72.0, (fy - cy) / 92.0);
            let r2 = u * u + v * v;
            let wall = 170.0 + 20.0 * (fx / 90.0).sin() * (fy / 70.0).cos();
            let mut rgb = [wall * 0.9, wall * 0.95, wall];
            if r2 < 1.9 && fy < cy - 10.0 || (r2 < 1.6 && (fx - cx).abs() > 55.0) {
                let streak = 15.0 * (fx / 2.3 + (fy / 9.0).sin()).sin();
                rgb = [60.0 + streak, 42.0 + streak, 30.0 + streak];
            }
            if r2 < 1.0 {
                let shade = 1.0 - 0.25 * r2;
                rgb = [205.0 * shade, 150.0 * shade, 120.0 * shade];
                let eye = |ex: f64| ((fx - ex) / 13.0).powi(2) + ((fy - 185.0) / 6.0).powi(2) < 1.0;
                if eye(152.0) || eye(208.0) {
                    rgb = [50.0, 40.0, 35.0];
                }
                let brow = |ex: f64| ((fx - ex) / 16.0).powi(2) + ((fy - 170.0) / 3.0).powi(2) < 1.0;
                if brow(152.0) || brow(208.0) {
                    rgb = [70.0, 50.0, 40.0];
                }
                if ((fx - cx) / 8.0).powi(2) + ((fy - 222.0) / 14.0).powi(2) < 1.0 {
                    rgb = rgb.map(|c| c * 0.8);
                }
                if ((fx - cx) / 24.0).powi(2) + ((fy - 255.0) / 6.0).powi(2) < 1.0 {
                    rgb = [170.0, 80.0, 80.0];
                }
            }
            let grain = 14.0 * noise();
            rgba.extend(rgb.map(|c| (c + grain).clamp(0.0, 255.0) as u8));
            rgba.push(255);
        }
    }
    (rgba, face)
}

fn judge(presentation: Presentation, seed: u64) -> LivenessReport {
    let (rgba, face) = portrait();
    let src = Source { rgba: &rgba, width: W, height: H, face };
    let spec = BurstSpec { width: 480, height: 360, frames: 12, face_share: Some(0.4), seed };
    let b = burst(&src, presentation, spec);
    let mut an = LivenessAnalyzer::new(LivenessConfig::default());
    for ((f, face), t) in b.frames.iter().zip(&b.faces).zip(&b.timestamps_ms) {
        an.push(&Frame::packed(f, b.width, b.height).unwrap(), *face, *t).unwrap();
    }
    an.report()
}

fn signal(r: &LivenessReport, name: &str) -> f64 {
    r.signals.iter().find(|s| s.name == name).map(|s| s.attack).unwrap()
}

#[test]
fn a_live_head_passes() {
    for seed in 1..=3 {
        let r = judge(Presentation::BonaFide, seed);
        assert!(r.passed, "seed {seed}: {r:#?}");
        assert!(r.planar.residual_ratio.is_some(), "the head moved enough to judge: {r:#?}");
        assert_eq!(r.frames, 12);
    }
}

#[test]
fn a_photo_moved_as_a_plane_is_rejected_by_its_motion() {
    for seed in 1..=3 {
        let r = judge(Presentation::FlatPhoto, seed);
        assert!(!r.passed, "seed {seed}: {r:#?}");
        assert_eq!(r.decisive, Some("planar_motion"), "{r:#?}");
    }
}

#[test]
fn a_screen_replay_is_rejected() {
    for seed in 1..=3 {
        let r = judge(Presentation::Replay, seed);
        assert!(!r.passed, "seed {seed}: {r:#?}");
        assert!(signal(&r, "screen_or_print_pattern") > 0.5 || signal(&r, "planar_motion") > 0.5, "{r:#?}");
    }
}

#[test]
fn a_print_is_rejected() {
    for seed in 1..=3 {
        let r = judge(Presentation::Print, seed);
        assert!(!r.passed, "seed {seed}: {r:#?}");
    }
}

#[test]
fn a_repeated_still_frame_is_rejected_as_injection() {
    let r = judge(Presentation::StillFrame, 1);
    assert!(!r.passed);
    assert_eq!(r.decisive, Some("injection"));
    assert_eq!(r.injection.duplicate_pairs, 11);
}

#[test]
fn too_few_frames_do_not_pass() {
    let (rgba, face) = portrait();
    let frame = Frame::packed(&rgba, W, H).unwrap();
    let mut an = LivenessAnalyzer::new(LivenessConfig::default());
    an.push(&frame, face, 0.0).unwrap();
    assert!(!an.report().passed);
}

#[test]
fn bad_input_gets_typed_errors() {
    let (rgba, face) = portrait();
    let frame = Frame::packed(&rgba, W, H).unwrap();
    let mut an = LivenessAnalyzer::new(LivenessConfig::default());
    let bad = [
        FaceBox { width: f64::NAN, ..face },
        FaceBox { width: 0.0, ..face },
        FaceBox { x: 5000.0, ..face },
        FaceBox { x: -1e9, ..face },
    ];
    for b in bad {
        assert_eq!(an.push(&frame, b, 0.0), Err(LivenessError::BadFaceBox), "{b:?}");
    }
    assert_eq!(an.push(&frame, face, f64::INFINITY), Err(LivenessError::BadTimestamp));
    an.push(&frame, face, 0.0).unwrap();
    let small = vec![0u8; 64 * 64 * 4];
    let other = Frame::packed(&small, 64, 64).unwrap();
    assert_eq!(
        an.push(&other, FaceBox { x: 0.0, y: 0.0, width: 32.0, height: 32.0 }, 1.0),
        Err(LivenessError::SizeChanged)
    );
    for k in 1..MAX_FRAMES {
        an.push(&frame, face, k as f64 * 33.0).unwrap();
    }
    assert_eq!(an.push(&frame, face, 1e6), Err(LivenessError::TooManyFrames));
    assert_eq!(LivenessError::TooManyFrames.code(), "too_many_frames");
}
