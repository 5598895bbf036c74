//! BlazeFace decoding with the real models (fetched by `cargo xtask models`) on images drawn
//! by the test: a simple frontal face. Checks that `detect` finds it, that its box and
//! keypoints land where the face was drawn (through letterboxing, for both variants and for
//! wide, tall and small frames), and that face-free images give no detection.

use trustcap_vision::Frame;
use trustcap_vision::face::{BlazeFace, BlazeFaceVariant, Detection, Keypoint, default_model_dir};

fn model(variant: BlazeFaceVariant) -> BlazeFace {
    let dir = default_model_dir();
    BlazeFace::from_dir(&dir, variant).unwrap_or_else(|e| {
        panic!("{e}\nThe models are fetched by `cargo xtask models` (or `cargo xtask test`) into {}", dir.display())
    })
}

/// Where the drawn face's features are: centre, eye centres, mouth centre, face half-width.
#[derive(Debug, Clone, Copy)]
struct Drawn {
    cx: f32,
    cy: f32,
    r: f32,
}

impl Drawn {
    fn right_eye(&self) -> (f32, f32) {
        (self.cx - 0.38 * self.r, self.cy - 0.22 * self.r)
    }
    fn left_eye(&self) -> (f32, f32) {
        (self.cx + 0.38 * self.r, self.cy - 0.22 * self.r)
    }
    fn mouth(&self) -> (f32, f32) {
        (self.cx, self.cy + 0.5 * self.r)
    }
}

fn inside(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> bool {
    let (dx, dy) = ((x - cx) / rx, (y - cy) / ry);
    dx * dx + dy * dy <= 1.0
}

/// Draws a frontal cartoon face of half-width `r` centred at (cx, cy) on a textured background.
fn draw_face(w: u32, h: u32, face: Drawn) -> Vec<u8> {
    let mut rgba = vec![0u8; (w * h * 4) as usize];
    let Drawn { cx, cy, r } = face;
    let (re, le, m) = (face.right_eye(), face.left_eye(), face.mouth());
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            // Background: soft blue-grey gradient.
            let mut c = [70.0 + 40.0 * fy / h as f32, 90.0, 110.0 + 30.0 * fx / w as f32];
            let skin = [224.0, 172.0, 140.0];
            if inside(fx, fy, cx, cy - 0.35 * r, 1.08 * r, 1.05 * r) && fy < cy - 0.2 * r {
                c = [60.0, 40.0, 30.0]; // hair
            }
            if inside(fx, fy, cx, cy, r, 1.3 * r) {
                // Skin with shading towards the edges.
                let d = ((fx - cx) / r).powi(2);
                c = skin.map(|v| v * (1.0 - 0.25 * d));
                if inside(fx, fy, cx, cy - 1.0 * r, 1.1 * r, 0.55 * r) {
                    c = [60.0, 40.0, 30.0]; // fringe
                }
            }
            for (ex, ey) in [re, le] {
                if inside(fx, fy, ex, ey - 0.18 * r, 0.2 * r, 0.05 * r) {
                    c = [50.0, 35.0, 25.0]; // eyebrow
                }
                if inside(fx, fy, ex, ey, 0.17 * r, 0.08 * r) {
                    c = [240.0, 240.0, 240.0];
                }
                if inside(fx, fy, ex, ey, 0.07 * r, 0.07 * r) {
                    c = [40.0, 30.0, 25.0];
                }
            }
            if inside(fx, fy, cx, cy + 0.12 * r, 0.08 * r, 0.05 * r) {
                c = [180.0, 120.0, 100.0]; // nostrils
            }
            if inside(fx, fy, m.0, m.1, 0.3 * r, 0.07 * r) {
                c = [170.0, 60.0, 60.0];
            }
            let i = ((y * w + x) * 4) as usize;
            for k in 0..3 {
                rgba[i + k] = c[k].clamp(0.0, 255.0) as u8;
            }
            rgba[i + 3] = 255;
        }
    }
    rgba
}

fn best(detections: &[Detection]) -> Detection {
    *detections.first().unwrap_or_else(|| panic!("no face detected"))
}

fn assert_near(got: trustcap_vision::face::Point, want: (f32, f32), tol: f32, what: &str) {
    let d = (got.x - want.0).hypot(got.y - want.1);
    assert!(
        d <= tol,
        "{what}: detected ({:.1}, {:.1}), drawn ({:.1}, {:.1}), off by {d:.1} > {tol:.1}",
        got.x,
        got.y,
        want.0,
        want.1
    );
}

fn check(variant: BlazeFaceVariant, w: u32, h: u32, face: Drawn) -> Detection {
    let rgba = draw_face(w, h, face);
    let frame = Frame::packed(&rgba, w, h).unwrap();
    let mut detector = model(variant);
    let found = detector.detect(&frame).unwrap();
    let d = best(&found);
    assert!(d.score >= detector.min_score());
    let c = d.bbox.centre();
    let tol = 0.35 * face.r;
    assert_near(c, (face.cx, face.cy), 0.5 * face.r, "box centre");
    assert!(
        d.bbox.width() > 0.8 * face.r && d.bbox.width() < 3.0 * face.r,
        "box width {} for r {}",
        d.bbox.width(),
        face.r
    );
    assert_near(d.keypoint(Keypoint::RightEye), face.right_eye(), tol, "right eye");
    assert_near(d.keypoint(Keypoint::LeftEye), face.left_eye(), tol, "left eye");
    assert_near(d.keypoint(Keypoint::Mouth), face.mouth(), tol, "mouth");
    d
}

#[test]
fn front_model_finds_a_drawn_face_in_a_wide_frame() {
    check(BlazeFaceVariant::Front128, 640, 480, Drawn { cx: 300.0, cy: 230.0, r: 110.0 });
}

#[test]
fn front_model_maps_coordinates_back_through_the_letterbox_of_a_tall_frame() {
    check(BlazeFaceVariant::Front128, 360, 640, Drawn { cx: 190.0, cy: 260.0, r: 100.0 });
}

#[test]
fn back_model_finds_a_smaller_face_and_an_enlarged_small_frame() {
    check(BlazeFaceVariant::Back256, 800, 600, Drawn { cx: 520.0, cy: 300.0, r: 60.0 });
    // A 120×150 crop is enlarged to the model size (bilinear), coordinates mapped back.
    check(BlazeFaceVariant::Back256, 120, 150, Drawn { cx: 60.0, cy: 75.0, r: 35.0 });
}

#[test]
fn moving_the_face_moves_the_detection() {
    let a = check(BlazeFaceVariant::Front128, 640, 480, Drawn { cx: 260.0, cy: 220.0, r: 100.0 });
    let b = check(BlazeFaceVariant::Front128, 640, 480, Drawn { cx: 380.0, cy: 260.0, r: 100.0 });
    let (ca, cb) = (a.bbox.centre(), b.bbox.centre());
    assert!((cb.x - ca.x - 120.0).abs() < 25.0 && (cb.y - ca.y - 40.0).abs() < 25.0, "{ca:?} -> {cb:?}");
}

#[test]
fn face_free_images_give_no_detection() {
    for variant in [BlazeFaceVariant::Front128, BlazeFaceVariant::Back256] {
        let mut detector = model(variant);
        let grey = vec![128u8; 320 * 240 * 4];
        assert!(detector.detect(&Frame::packed(&grey, 320, 240).unwrap()).unwrap().is_empty());
        let scene = trustcap_vision::synth::document_scene(640, 360, 11);
        let found = detector.detect(&Frame::packed(&scene, 640, 360).unwrap()).unwrap();
        assert!(found.iter().all(|d| d.score < 0.9), "{found:?}");
    }
}
