//! Unit tests of selfie guidance with hand-built detections on a drawn face.

use super::*;

const W: u32 = 640;
const H: u32 = 480;

/// A frame with a textured, skin-toned face ellipse at `(cx, cy)` of width `fw`, with luma `level` and
/// optional box blur of `blur` pixels.
fn frame_with_face(cx: f32, cy: f32, fw: f32, level: f32, blur: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 1000) as f32 / 1000.0 - 0.5
    };
    let mut luma = vec![0f32; (W * H) as usize];
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (x as f32, y as f32);
            let (u, v) = ((fx - cx) / (0.5 * fw), (fy - cy) / (0.65 * fw));
            let base = if u * u + v * v < 1.0 {
                // Skin with features: dark eyes, mouth and pores.
                let eye =
                    |ex: f32| ((fx - ex) / (0.08 * fw)).powi(2) + ((fy - (cy - 0.1 * fw)) / (0.03 * fw)).powi(2) < 1.0;
                let mouth = ((fx - cx) / (0.15 * fw)).powi(2) + ((fy - (cy + 0.35 * fw)) / (0.03 * fw)).powi(2) < 1.0;
                if eye(cx - 0.2 * fw) || eye(cx + 0.2 * fw) || mouth {
                    0.3
                } else {
                    1.0 + 0.15 * ((fx / 3.0).sin() * (fy / 2.0).cos())
                }
            } else {
                0.8 + 0.1 * (fx / 25.0).sin()
            };
            luma[(y * W + x) as usize] = level * base + 12.0 * noise();
        }
    }
    if blur > 0 {
        for _ in 0..3 {
            let src = luma.clone();
            for y in 0..H as usize {
                for x in 0..W as usize {
                    let (mut s, mut n) = (0.0, 0.0);
                    for yy in y.saturating_sub(blur)..(y + blur + 1).min(H as usize) {
                        for xx in x.saturating_sub(blur)..(x + blur + 1).min(W as usize) {
                            s += src[yy * W as usize + xx];
                            n += 1.0;
                        }
                    }
                    luma[y * W as usize + x] = s / n;
                }
            }
        }
    }
    luma.iter()
        .flat_map(|&l| {
            let l = l.clamp(0.0, 255.0);
            [(l * 1.05).min(255.0) as u8, (l * 0.95) as u8, (l * 0.85) as u8, 255]
        })
        .collect()
}

/// A frontal face of width `w` centred at `(cx, cy)`, then yawed (nose shift in eye distances), pitched
/// (nose shift along the eye–mouth line, in eye–mouth distances) and rolled (degrees about the centre).
fn face(cx: f32, cy: f32, w: f32, nose_dx: f32, nose_dt: f32, roll_deg: f32) -> FaceLandmarks {
    let eye_dist = 0.4 * w;
    let eye_y = cy - 0.1 * w;
    let mouth_y = cy + 0.35 * w;
    let t = 0.55 + nose_dt;
    let pts = [
        (cx - 0.2 * w, eye_y),
        (cx + 0.2 * w, eye_y),
        (cx + nose_dx * eye_dist, eye_y + t * (mouth_y - eye_y)),
        (cx, mouth_y),
        (cx - 0.5 * w, eye_y + 0.05 * w),
        (cx + 0.5 * w, eye_y + 0.05 * w),
    ];
    let (s, c) = roll_deg.to_radians().sin_cos();
    let keypoints = pts.map(|(x, y)| {
        let (dx, dy) = (x - cx, y - cy);
        (cx + c * dx - s * dy, cy + s * dx + c * dy)
    });
    FaceLandmarks {
        score: 0.9,
        x_min: cx - 0.5 * w,
        y_min: cy - 0.6 * w,
        x_max: cx + 0.5 * w,
        y_max: cy + 0.6 * w,
        keypoints,
    }
}

fn analyze(pixels: &[u8], faces: &[FaceLandmarks]) -> SelfieReport {
    let frame = Frame::packed(pixels, W, H).unwrap();
    SelfieAnalyzer::new(SelfieConfig::default()).unwrap().analyze(&frame, faces)
}

fn centred() -> (Vec<u8>, FaceLandmarks) {
    // The default oval is 320 px wide on a 640 px frame: a 240 px face fills 75% of it.
    (frame_with_face(320.0, 240.0, 240.0, 150.0, 0), face(320.0, 240.0, 240.0, 0.0, 0.0, 0.0))
}

#[test]
fn codes_are_stable_and_match_serde() {
    let codes: Vec<&str> = SelfieGuidance::ALL.iter().map(|g| g.as_str()).collect();
    assert_eq!(
        codes,
        [
            "more_light",
            "too_bright",
            "no_face",
            "multiple_faces",
            "center_face",
            "too_close",
            "too_far",
            "turn_left",
            "turn_right",
            "look_up",
            "look_down",
            "tilt_left",
            "tilt_right",
            "low_contrast",
            "too_blurry",
            "hold_still",
            "ready"
        ]
    );
    for g in SelfieGuidance::ALL {
        assert_eq!(serde_json::to_value(g).unwrap(), g.as_str());
        assert!(!g.message_en().is_empty());
    }
}

#[test]
fn a_centred_frontal_sharp_face_is_ready() {
    let (px, f) = centred();
    let r = analyze(&px, &[f]);
    assert_eq!(r.guidance, SelfieGuidance::Ready, "{r:?}");
    assert!(r.acceptable && r.faces == 1);
    let p = r.pose.unwrap();
    assert!(p.yaw.abs() < 1.0 && p.pitch.abs() < 1.0 && p.roll.abs() < 0.1, "{p:?}");
    assert!(r.centre_offset < 0.01 && (r.face_size - 0.75).abs() < 0.01);
    let json = serde_json::to_value(r).unwrap();
    assert_eq!(json["guidance"], "ready");
    assert_eq!(json["reasons"], serde_json::json!([]));
    assert!(
        r.metrics()
            .iter()
            .all(|(k, v)| v.is_finite() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'))
    );
}

#[test]
fn no_face_and_multiple_faces() {
    let (px, f) = centred();
    let r = analyze(&px, &[]);
    assert_eq!((r.guidance, r.faces), (SelfieGuidance::NoFace, 0));
    // A weak detection does not count.
    let weak = FaceLandmarks { score: 0.2, ..f };
    assert_eq!(analyze(&px, &[weak]).guidance, SelfieGuidance::NoFace);
    // A second face of comparable size does; a tiny one far behind does not.
    let second = face(560.0, 100.0, 100.0, 0.0, 0.0, 0.0);
    let r = analyze(&px, &[second, f]);
    assert_eq!((r.guidance, r.faces), (SelfieGuidance::MultipleFaces, 2));
    assert_eq!(r.face.unwrap(), f, "the largest face is the main one");
    let tiny = face(600.0, 40.0, 30.0, 0.0, 0.0, 0.0);
    assert_eq!(analyze(&px, &[f, tiny]).guidance, SelfieGuidance::Ready);
}

#[test]
fn framing_centre_and_size() {
    let px = frame_with_face(200.0, 240.0, 240.0, 150.0, 0);
    let r = analyze(&px, &[face(200.0, 240.0, 240.0, 0.0, 0.0, 0.0)]);
    assert_eq!(r.guidance, SelfieGuidance::CenterFace, "{r:?}");
    let px = frame_with_face(320.0, 240.0, 120.0, 150.0, 0);
    assert_eq!(analyze(&px, &[face(320.0, 240.0, 120.0, 0.0, 0.0, 0.0)]).guidance, SelfieGuidance::TooFar);
    let px = frame_with_face(320.0, 240.0, 360.0, 150.0, 0);
    assert_eq!(analyze(&px, &[face(320.0, 240.0, 360.0, 0.0, 0.0, 0.0)]).guidance, SelfieGuidance::TooClose);
}

#[test]
fn pose_faults_name_the_way_back() {
    let (px, _) = centred();
    let cases = [
        // Nose towards the image right: the face is turned to the subject's left → turn right.
        (face(320.0, 240.0, 240.0, 0.3, 0.0, 0.0), SelfieGuidance::TurnRight),
        (face(320.0, 240.0, 240.0, -0.3, 0.0, 0.0), SelfieGuidance::TurnLeft),
        // Nose near the eyes: chin up → look down.
        (face(320.0, 240.0, 240.0, 0.0, -0.3, 0.0), SelfieGuidance::LookDown),
        (face(320.0, 240.0, 240.0, 0.0, 0.3, 0.0), SelfieGuidance::LookUp),
        (face(320.0, 240.0, 240.0, 0.0, 0.0, 20.0), SelfieGuidance::TiltRight),
        (face(320.0, 240.0, 240.0, 0.0, 0.0, -20.0), SelfieGuidance::TiltLeft),
    ];
    for (f, want) in cases {
        let r = analyze(&px, &[f]);
        assert_eq!(r.guidance, want, "{:?}", r.pose);
    }
    // Within the limits nothing fires, and roll does not leak into yaw or pitch.
    let p = pose::estimate(&face(320.0, 240.0, 240.0, 0.05, 0.05, 8.0), 0.55).unwrap();
    assert!((p.roll - 8.0).abs() < 0.01 && p.yaw.abs() < 10.0 && p.pitch.abs() < 10.0, "{p:?}");
    let p0 = pose::estimate(&face(320.0, 240.0, 240.0, 0.05, 0.05, 0.0), 0.55).unwrap();
    assert!((p.yaw - p0.yaw).abs() < 0.01 && (p.pitch - p0.pitch).abs() < 0.01);
    // Several faults at once are all listed, yaw first.
    let r = analyze(&px, &[face(320.0, 240.0, 240.0, 0.4, 0.3, 25.0)]);
    let codes: Vec<_> = r.reasons.iter().map(SelfieGuidance::as_str).collect();
    assert_eq!(codes, ["turn_right", "look_up", "tilt_right"]);
}

#[test]
fn ears_agree_with_the_nose_on_yaw() {
    let mut f = face(320.0, 240.0, 240.0, 0.0, 0.0, 0.0);
    // Only the ears say the head is turned (right ear–eye distance larger).
    f.keypoints[4].0 -= 40.0;
    f.keypoints[5].0 -= 40.0;
    assert!(pose::estimate(&f, 0.55).unwrap().yaw > 5.0);
    // Degenerate keypoints give no pose and no usable face.
    let mut g = f;
    g.keypoints[1] = g.keypoints[0];
    assert!(pose::estimate(&g, 0.55).is_none());
    g.keypoints[0].0 = f32::NAN;
    assert!(pose::estimate(&g, 0.55).is_none());
    let (px, _) = centred();
    assert!(analyze(&px, &[g]).reasons.contains(SelfieGuidance::NoFace));
}

#[test]
fn exposure_and_blur_on_the_face() {
    let f = face(320.0, 240.0, 240.0, 0.0, 0.0, 0.0);
    let dark = frame_with_face(320.0, 240.0, 240.0, 35.0, 0);
    assert_eq!(analyze(&dark, &[f]).guidance, SelfieGuidance::MoreLight);
    let bright = frame_with_face(320.0, 240.0, 240.0, 245.0, 0);
    assert_eq!(analyze(&bright, &[f]).guidance, SelfieGuidance::TooBright);
    let blurred = frame_with_face(320.0, 240.0, 240.0, 150.0, 4);
    let r = analyze(&blurred, &[f]);
    assert_eq!(r.guidance, SelfieGuidance::TooBlurry, "{:?}", r.sharpness);
    let (sharp, _) = centred();
    assert!(analyze(&sharp, &[f]).sharpness.score > r.sharpness.score + 0.2);
    // Without a face, exposure is the frame's and comes first.
    assert_eq!(
        analyze(&dark, &[]).reasons.iter().collect::<Vec<_>>(),
        [SelfieGuidance::MoreLight, SelfieGuidance::NoFace]
    );
}

#[test]
fn auto_capture_after_a_steady_run_and_hold_still_on_motion() {
    let (px, f) = centred();
    let frame = Frame::packed(&px, W, H).unwrap();
    let mut an = SelfieAnalyzer::new(SelfieConfig::default()).unwrap();
    let mut ac = SelfieAutoCapture::new(SelfieCaptureConfig { steady_frames: 3 });
    let steps: Vec<_> = (0..4).map(|_| ac.update(&an.analyze(&frame, &[f]))).collect();
    assert_eq!(steps.iter().map(|s| s.capture).collect::<Vec<_>>(), [false, false, true, false]);
    assert_eq!(steps[0].guidance, SelfieGuidance::HoldStill);
    assert_eq!(steps[3].guidance, SelfieGuidance::Ready);
    assert!(ac.has_fired());
    ac.reset();
    // A face jumping 20 px between frames is not steady.
    an.reset();
    an.analyze(&frame, &[f]);
    let moved = face(340.0, 240.0, 240.0, 0.0, 0.0, 0.0);
    let r = an.analyze(&frame, &[moved]);
    assert_eq!(r.guidance, SelfieGuidance::HoldStill);
    assert!((r.motion - 20.0 / 240.0).abs() < 1e-3);
    assert!(!ac.update(&r).capture && ac.update(&r).steady_count == 0);
}

#[test]
fn bad_configs_are_refused_and_boxes_outside_the_frame_do_not_panic() {
    let bad = [
        SelfieConfig { oval: Oval { rx: 0.0, ..Oval::default() }, ..SelfieConfig::default() },
        SelfieConfig { min_face_size: 1.2, max_face_size: 1.0, ..SelfieConfig::default() },
        SelfieConfig { min_sharpness: f32::NAN, ..SelfieConfig::default() },
        SelfieConfig { pose: PoseLimits { max_yaw: -1.0, ..PoseLimits::default() }, ..SelfieConfig::default() },
    ];
    for c in bad {
        assert!(matches!(SelfieAnalyzer::new(c), Err(SelfieConfigError::OutOfRange(_))), "{c:?}");
    }
    let (px, f) = centred();
    let wild = [
        FaceLandmarks { x_min: -5000.0, x_max: 9000.0, ..f },
        FaceLandmarks { x_min: f32::NAN, ..f },
        FaceLandmarks { y_min: 700.0, y_max: 900.0, ..f },
        FaceLandmarks { keypoints: [(f32::INFINITY, 0.0); 6], ..f },
    ];
    for w in wild {
        let r = analyze(&px, &[w]);
        assert!(!r.acceptable || w == f, "{w:?}");
    }
}

#[test]
fn the_list_keeps_priority_order_whatever_the_push_order() {
    let mut l = SelfieGuidanceList::default();
    for g in [SelfieGuidance::HoldStill, SelfieGuidance::NoFace, SelfieGuidance::TooFar, SelfieGuidance::NoFace] {
        l.push(g);
    }
    l.push(SelfieGuidance::Ready);
    assert_eq!(
        l.iter().collect::<Vec<_>>(),
        [SelfieGuidance::NoFace, SelfieGuidance::TooFar, SelfieGuidance::HoldStill]
    );
    let mut all = SelfieGuidanceList::default();
    SelfieGuidance::ALL.iter().rev().for_each(|g| all.push(*g));
    assert_eq!(all.iter().count(), 16);
    assert_eq!(all.primary(), SelfieGuidance::MoreLight);
}
