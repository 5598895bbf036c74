//! Selfie guidance on the real BlazeFace-128 detections of the public-domain NASA portrait `astronaut.png`
//! (fetched into the model cache by `cargo xtask models`, which the test command runs first).

use image::RgbaImage;
use trustcap_vision::Frame;
use trustcap_vision::face::{BlazeFace, BlazeFaceVariant, default_model_dir};
use trustcap_vision::selfie::{FaceLandmarks, Oval, SelfieAnalyzer, SelfieConfig, SelfieGuidance, SelfieReport};

fn hint() -> String {
    format!("fetched by `cargo xtask models` (or `cargo xtask test`) into {}", default_model_dir().display())
}

/// The astronaut cropped to a selfie framing: her face about 40% of the width (as in the oval), so the
/// 128-pixel detector sees it at selfie scale.
fn astronaut() -> RgbaImage {
    let path = default_model_dir().join("astronaut.png");
    let full = image::open(&path).unwrap_or_else(|e| panic!("{}: {e}; {}", path.display(), hint())).to_rgba8();
    image::imageops::crop_imm(&full, 105, 8, 240, 240).to_image()
}

fn detect(detector: &mut BlazeFace, img: &RgbaImage) -> Vec<FaceLandmarks> {
    let frame = Frame::packed(img.as_raw(), img.width(), img.height()).unwrap();
    detector.detect(&frame).unwrap().iter().map(FaceLandmarks::from).collect()
}

/// Analyses with the oval centred on `face` and sized so the face fills 75% of it.
fn analyze(img: &RgbaImage, faces: &[FaceLandmarks], around: &FaceLandmarks) -> SelfieReport {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (cx, cy) = around.centre();
    let oval = Oval { cx: cx / w, cy: cy / h, rx: around.width() / 1.5 / w, ry: 1.3 * around.width() / 1.5 / h };
    let mut an = SelfieAnalyzer::new(SelfieConfig { oval, ..SelfieConfig::default() }).unwrap();
    let frame = Frame::packed(img.as_raw(), img.width(), img.height()).unwrap();
    an.analyze(&frame, faces)
}

#[test]
fn astronaut_guidance_from_real_detections() {
    let mut detector = BlazeFace::from_dir(&default_model_dir(), BlazeFaceVariant::Front128)
        .unwrap_or_else(|e| panic!("{e}; {}", hint()));
    let img = astronaut();
    let faces = detect(&mut detector, &img);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let r = analyze(&img, &faces, &faces[0]);
    let pose = r.pose.unwrap();
    eprintln!("astronaut: {r:?}");
    assert_eq!(r.faces, 1);
    assert!(r.sharpness.score > 0.3, "{:?}", r.sharpness);
    assert!(pose.yaw.abs() < 25.0 && pose.pitch.abs() < 25.0 && pose.roll.abs() < 15.0, "{pose:?}");

    // The mirror image turns the other way and leans the other way (keypoints of the 128 model move by a
    // pixel or two between the two detections: a few degrees).
    let mirrored = image::imageops::flip_horizontal(&img);
    let mfaces = detect(&mut detector, &mirrored);
    assert_eq!(mfaces.len(), 1);
    let mpose = analyze(&mirrored, &mfaces, &mfaces[0]).pose.unwrap();
    eprintln!("mirrored: {mpose:?}");
    assert!((pose.yaw + mpose.yaw).abs() < 6.0, "{pose:?} vs {mpose:?}");
    assert!((pose.roll + mpose.roll).abs() < 6.0, "{pose:?} vs {mpose:?}");
    assert!((pose.pitch - mpose.pitch).abs() < 6.0, "{pose:?} vs {mpose:?}");

    // Rotated by 20° in the plane: the roll follows and the guidance asks to straighten.
    let rotated = rotate(&img, 20.0);
    let rfaces = detect(&mut detector, &rotated);
    assert!(!rfaces.is_empty());
    let rr = analyze(&rotated, &rfaces, &rfaces[0]);
    let rpose = rr.pose.unwrap();
    eprintln!("rotated: {rpose:?} {:?}", rr.reasons);
    assert!((rpose.roll - pose.roll - 20.0).abs() < 6.0, "{pose:?} vs {rpose:?}");
    assert!(rr.reasons.contains(SelfieGuidance::TiltRight), "{:?}", rr.reasons);

    // Heavily blurred, the face is too blurry.
    let blurred = image::imageops::blur(&img, 4.0);
    let bfaces = detect(&mut detector, &blurred);
    if let Some(bf) = bfaces.first() {
        let br = analyze(&blurred, &bfaces, bf);
        assert!(br.reasons.contains(SelfieGuidance::TooBlurry), "{:?}", br.sharpness);
    }

    // Two astronauts side by side: multiple faces.
    let mut pair = RgbaImage::from_pixel(480, 240, image::Rgba([128, 128, 128, 255]));
    image::imageops::replace(&mut pair, &img, 0, 0);
    image::imageops::replace(&mut pair, &mirrored, 240, 0);
    let pfaces = detect(&mut detector, &pair);
    let pr = analyze(&pair, &pfaces, &pfaces[0]);
    assert_eq!((pr.faces, pr.guidance), (2, SelfieGuidance::MultipleFaces), "{pfaces:?}");
}

/// Rotates by `deg` (clockwise on screen, so the subject leans to their left) about the centre, grey outside.
fn rotate(img: &RgbaImage, deg: f32) -> RgbaImage {
    let (w, h) = (img.width(), img.height());
    let (s, c) = deg.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    RgbaImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let (sx, sy) = (c * dx + s * dy + cx, -s * dx + c * dy + cy);
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *img.get_pixel(sx as u32, sy as u32)
        } else {
            image::Rgba([128, 128, 128, 255])
        }
    })
}
