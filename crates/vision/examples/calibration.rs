//! Prints the calibration table behind the default quality thresholds: every metric and
//! the guidance for synthetic document scenes under known blur, noise, exposure and glare.
//!
//! `cargo run -p trustcap-vision --release --example calibration`

use trustcap_vision::{Frame, QualityAnalyzer, synth};

fn main() {
    for (w, h) in [(640u32, 360u32), (1280, 720)] {
        for seed in [1u64, 7, 11] {
            let sharp = synth::document_scene(w, h, seed);
            let mut rows: Vec<(String, Vec<u8>)> = vec![("sharp".into(), sharp.clone())];
            for sigma in [1.0f32, 1.5, 2.0, 2.5, 3.0, 4.0, 8.0] {
                let mut img = sharp.clone();
                synth::gaussian_blur_rgba(&mut img, w, h, sigma * w as f32 / 640.0);
                rows.push((format!("gauss {sigma}"), img));
            }
            for len in [5u32, 7, 9, 13] {
                let mut img = sharp.clone();
                synth::motion_blur_rgba(&mut img, w, h, len * w / 640);
                rows.push((format!("motion {len}"), img));
            }
            let mut img = sharp.clone();
            synth::add_noise_rgba(&mut img, 5, 6);
            rows.push(("noise 6".into(), img));
            let mut img = sharp.clone();
            synth::scale_brightness_rgba(&mut img, 15, 100);
            rows.push(("dark x0.15".into(), img));
            let mut img = sharp.clone();
            synth::scale_brightness_rgba(&mut img, 2, 1);
            rows.push(("bright x2".into(), img));
            let mut img = sharp.clone();
            let n = synth::add_glare_rgba(&mut img, w, h, w / 2, h / 2, 80 * w / 640);
            rows.push((format!("glare {:.3}", f64::from(n) / f64::from(w * h)), img));
            for (name, img) in rows {
                let r = QualityAnalyzer::new().analyze(&Frame::packed(&img, w, h).expect("valid frame"));
                println!(
                    "{w}x{h} seed {seed} {name:12} sharp {:.4} focus {:.4} glare {:.4} mean {:6.2} contrast {:5.2} -> {}",
                    r.sharpness.score,
                    r.sharpness.focus,
                    r.glare.area_share,
                    r.exposure.mean,
                    r.exposure.contrast,
                    r.guidance
                );
            }
        }
    }
}
