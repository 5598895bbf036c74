//! Focus measure: directional Sobel gradient energy normalised by contrast.
//!
//! On the working image we compute the mean squared Sobel response separately for the horizontal (`Gx`)
//! and vertical (`Gy`) derivative. Defocus lowers both; motion blur lowers the one across the motion
//! direction, so the focus value uses the *weaker* direction and horizontal or vertical camera shake is
//! caught even when edges along the motion stay crisp.
//!
//! The energy is divided by the luma variance (plus a small floor), which cancels the global gain: a darker
//! or lower-contrast exposure of the same scene gives nearly the same focus value. The Sobel kernel's
//! `[1, 2, 1]` smoothing across the derivative keeps the measure tolerant of sensor noise.
//!
//! The focus value `f` maps to a score in `[0, 1)` with the rational curve `f / (f + FOCUS_HALF)`.
//! Only integer sums, a few divisions and the rational map are used: bit-identical on all targets.

use serde::Serialize;

use crate::luma::WorkingImage;

/// Focus value at which the score is 0.5.
pub const FOCUS_HALF: f64 = 0.1;

/// Added to the luma variance before normalising, so flat noisy frames do not look infinitely sharp.
pub const VARIANCE_FLOOR: f64 = 25.0;

/// Sharpness of a working image.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct SharpnessReport {
    /// Sharpness score in `[0, 1]`, higher is sharper.
    pub score: f32,
    /// Contrast-normalised focus value (weaker-direction energy / variance) the score is derived from.
    pub focus: f32,
    /// Mean squared horizontal Sobel derivative (responds to vertical edges).
    pub energy_x: f32,
    /// Mean squared vertical Sobel derivative (responds to horizontal edges).
    pub energy_y: f32,
}

/// Maps a focus value to a score in `[0, 1)`: `f / (f + FOCUS_HALF)`; non-positive or NaN gives 0.
pub fn score_from_focus(focus: f64) -> f32 {
    if focus.is_nan() || focus <= 0.0 {
        return 0.0;
    }
    (focus / (focus + FOCUS_HALF)) as f32
}

/// Sharpness of `img`. Images smaller than 3x3 get an all-zero report.
pub fn measure(img: &WorkingImage) -> SharpnessReport {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 3 || h < 3 {
        return SharpnessReport::default();
    }
    let luma = img.luma();

    let mut sum = 0u64;
    let mut sum_sq = 0u64;
    for &l in luma {
        sum += u64::from(l);
        sum_sq += u64::from(l) * u64::from(l);
    }

    let mut ex = 0u64;
    let mut ey = 0u64;
    for y in 1..h - 1 {
        let r0 = &luma[(y - 1) * w..y * w];
        let r1 = &luma[y * w..(y + 1) * w];
        let r2 = &luma[(y + 1) * w..(y + 2) * w];
        let mut row_x = 0u64;
        let mut row_y = 0u64;
        for x in 1..w - 1 {
            let p = |r: &[u8], i: usize| i32::from(r[i]);
            let left = p(r0, x - 1) + 2 * p(r1, x - 1) + p(r2, x - 1);
            let right = p(r0, x + 1) + 2 * p(r1, x + 1) + p(r2, x + 1);
            let top = p(r0, x - 1) + 2 * p(r0, x) + p(r0, x + 1);
            let bottom = p(r2, x - 1) + 2 * p(r2, x) + p(r2, x + 1);
            let gx = right - left;
            let gy = bottom - top;
            row_x += (gx * gx) as u64;
            row_y += (gy * gy) as u64;
        }
        ex += row_x;
        ey += row_y;
    }

    let n = (w * h) as f64;
    let mean = sum as f64 / n;
    let variance = (sum_sq as f64 / n - mean * mean).max(0.0);
    let inner = ((w - 2) * (h - 2)) as f64;
    let energy_x = ex as f64 / inner;
    let energy_y = ey as f64 / inner;
    // Sobel gain is 4 per unit step along the derivative and 4 across (smoothing): divide by 16.
    let focus = energy_x.min(energy_y) / 16.0 / (variance + VARIANCE_FLOOR);
    SharpnessReport {
        score: score_from_focus(focus),
        focus: focus as f32,
        energy_x: energy_x as f32,
        energy_y: energy_y as f32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;
    use crate::luma::working_image;
    use crate::synth;

    fn score_of(rgba: &[u8], w: u32, h: u32) -> f32 {
        measure(&working_image(&Frame::packed(rgba, w, h).unwrap())).score
    }

    #[test]
    fn tiny_and_flat_images() {
        assert_eq!(measure(&WorkingImage::new()), SharpnessReport::default());
        let flat = WorkingImage::from_luma(10, 10, vec![80; 100]).unwrap();
        assert_eq!(measure(&flat).score, 0.0);
    }

    #[test]
    fn score_map() {
        assert_eq!(score_from_focus(0.0), 0.0);
        assert_eq!(score_from_focus(f64::NAN), 0.0);
        assert_eq!(score_from_focus(FOCUS_HALF), 0.5);
        assert!(score_from_focus(1e30) <= 1.0);
    }

    #[test]
    fn strictly_decreasing_with_blur() {
        let (w, h) = (640, 360);
        let sharp = synth::document_scene(w, h, 1);
        let mut last = score_of(&sharp, w, h);
        for sigma in [1.0, 2.0, 4.0, 8.0] {
            let mut img = sharp.clone();
            synth::gaussian_blur_rgba(&mut img, w, h, sigma);
            let s = score_of(&img, w, h);
            assert!(s < last, "sigma {sigma}: {s} !< {last}");
            last = s;
        }
    }

    #[test]
    fn motion_blur_lowers_weaker_direction() {
        let (w, h) = (640, 360);
        let sharp = synth::document_scene(w, h, 2);
        let mut img = sharp.clone();
        synth::motion_blur_rgba(&mut img, w, h, 9);
        let a = measure(&working_image(&Frame::packed(&sharp, w, h).unwrap()));
        let b = measure(&working_image(&Frame::packed(&img, w, h).unwrap()));
        assert!(b.energy_x < a.energy_x / 4.0, "{b:?} vs {a:?}");
        assert!(b.score < a.score / 2.0);
    }

    #[test]
    fn brightness_changes_matter_little() {
        let (w, h) = (640, 360);
        let sharp = synth::document_scene(w, h, 3);
        let mut dim = sharp.clone();
        synth::scale_brightness_rgba(&mut dim, 1, 2);
        let (a, b) = (score_of(&sharp, w, h), score_of(&dim, w, h));
        assert!((a - b).abs() < 0.05, "{a} vs {b}");
    }
}
