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
//! Sensor noise is estimated and its expected contribution removed from both the gradient energy and the
//! variance (see [`measure_region`]), so a dark, noisy frame does not pass for a sharp one.
//!
//! The focus value `f` maps to a score in `[0, 1)` with the rational curve `f / (f + FOCUS_HALF)`.
//! Only integer sums, a few divisions and the rational map are used: bit-identical on all targets.

use serde::Serialize;

use crate::luma::WorkingImage;
use crate::region::RowSpans;

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
    /// Estimated sensor-noise standard deviation in luma levels (removed from the focus value).
    pub noise: f32,
}

/// Maps a focus value to a score in `[0, 1)`: `f / (f + FOCUS_HALF)`; non-positive or NaN gives 0.
pub fn score_from_focus(focus: f64) -> f32 {
    if focus.is_nan() || focus <= 0.0 {
        return 0.0;
    }
    (focus / (focus + FOCUS_HALF)) as f32
}

/// Sharpness of the whole of `img`. Images smaller than 3x3 get an all-zero report.
pub fn measure(img: &WorkingImage) -> SharpnessReport {
    let mut region = RowSpans::new();
    region.fill_full(img.width(), img.height());
    measure_region(img, &region, &mut Vec::new())
}

/// Sharpness of the pixels of `img` inside `region`, with the sensor noise removed.
///
/// Noise adds energy to every derivative and so makes a noisy frame look sharper than it is (the classic
/// trap of Laplacian-variance focus measures in low light). The noise level `σ` is estimated with
/// Immerkær's operator (the mask `[1 −2 1; −2 4 −2; 1 −2 1]`, blind to planes and linear ramps) on 8×8
/// blocks, taking a low percentile over blocks so that text and edges do not count as noise. For i.i.d.
/// noise each Sobel derivative gains `12σ²` of energy and the luma variance `σ²`; both are subtracted
/// before the focus ratio. `blocks` is scratch reused between frames.
pub fn measure_region(img: &WorkingImage, region: &RowSpans, blocks: &mut Vec<u32>) -> SharpnessReport {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 3 || h < 3 {
        return SharpnessReport::default();
    }
    let luma = img.luma();

    let mut n = 0u64;
    let mut sum = 0u64;
    let mut sum_sq = 0u64;
    let mut ex = 0u64;
    let mut ey = 0u64;
    let mut inner = 0u64;
    for y in 0..h {
        let (x0, x1) = region.row(y);
        let row = &luma[y * w..(y + 1) * w];
        for &l in &row[x0.min(w)..x1.min(w)] {
            sum += u64::from(l);
            sum_sq += u64::from(l) * u64::from(l);
        }
        n += (x1.min(w) - x0.min(x1.min(w))) as u64;
        // Gradient energy on every other row: a mean over the region, it needs a sample, not every row
        // (each sampled row still uses its full-resolution neighbours, so vertical detail is kept).
        if y == 0 || y + 1 >= h || y % 2 == 0 {
            continue;
        }
        let r0 = &luma[(y - 1) * w..y * w];
        let r1 = row;
        let r2 = &luma[(y + 1) * w..(y + 2) * w];
        let (xa, xb) = (x0.max(1), x1.min(w - 1));
        let mut row_x = 0u64;
        let mut row_y = 0u64;
        if xb > xa {
            // Windows of three pixels centred on xa..xb in the three rows (no bounds checks inside).
            let (w0, w1, w2) = (&r0[xa - 1..xb + 1], &r1[xa - 1..xb + 1], &r2[xa - 1..xb + 1]);
            for ((a, b), c) in w0.windows(3).zip(w1.windows(3)).zip(w2.windows(3)) {
                let p = |v: u8| i32::from(v);
                let left = p(a[0]) + 2 * p(b[0]) + p(c[0]);
                let right = p(a[2]) + 2 * p(b[2]) + p(c[2]);
                let top = p(a[0]) + 2 * p(a[1]) + p(a[2]);
                let bottom = p(c[0]) + 2 * p(c[1]) + p(c[2]);
                let gx = right - left;
                let gy = bottom - top;
                row_x += (gx * gx) as u64;
                row_y += (gy * gy) as u64;
            }
        }
        inner += xb.saturating_sub(xa) as u64;
        ex += row_x;
        ey += row_y;
    }
    if n == 0 || inner == 0 {
        return SharpnessReport::default();
    }
    let noise = noise_sigma(img, region, blocks);

    let nf = n as f64;
    let mean = sum as f64 / nf;
    let noise_var = noise * noise;
    let variance = (sum_sq as f64 / nf - mean * mean - noise_var).max(0.0);
    let energy_x = ex as f64 / inner as f64;
    let energy_y = ey as f64 / inner as f64;
    let clean_x = (energy_x - 12.0 * noise_var).max(0.0);
    let clean_y = (energy_y - 12.0 * noise_var).max(0.0);
    // Sobel gain is 4 per unit step along the derivative and 4 across (smoothing): divide by 16.
    let focus = clean_x.min(clean_y) / 16.0 / (variance + VARIANCE_FLOOR);
    SharpnessReport {
        score: score_from_focus(focus),
        focus: focus as f32,
        energy_x: energy_x as f32,
        energy_y: energy_y as f32,
        noise: noise as f32,
    }
}

/// Block size of the noise estimate.
const NOISE_BLOCK: usize = 8;

/// Sensor-noise standard deviation (luma levels) of the region, from the 10th percentile of per-block
/// mean absolute Immerkær responses: `σ = sqrt(π/2) / 6 · mean|L|`.
pub fn noise_sigma(img: &WorkingImage, region: &RowSpans, blocks: &mut Vec<u32>) -> f64 {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let luma = img.luma();
    blocks.clear();
    let mut by = 1;
    while by + NOISE_BLOCK < h {
        let (ra, rb) = (region.row(by), region.row(by + NOISE_BLOCK - 1));
        let (lo, hi) = (ra.0.max(rb.0).max(1), ra.1.min(rb.1).min(w - 1));
        let mut bx = lo;
        while bx + NOISE_BLOCK <= hi {
            let mut acc = 0u32;
            for y in by..by + NOISE_BLOCK {
                let span = bx - 1..bx + NOISE_BLOCK + 1;
                let (r0, r1, r2) = (
                    &luma[(y - 1) * w..y * w][span.clone()],
                    &luma[y * w..(y + 1) * w][span.clone()],
                    &luma[(y + 1) * w..(y + 2) * w][span],
                );
                for ((a, b), c) in r0.windows(3).zip(r1.windows(3)).zip(r2.windows(3)) {
                    let p = |v: u8| i32::from(v);
                    let v = p(a[0]) - 2 * p(a[1]) + p(a[2]) - 2 * p(b[0]) + 4 * p(b[1]) - 2 * p(b[2]) + p(c[0])
                        - 2 * p(c[1])
                        + p(c[2]);
                    acc += v.unsigned_abs();
                }
            }
            blocks.push(acc);
            // Every other block: the percentile needs a sample, not every block.
            bx += 2 * NOISE_BLOCK;
        }
        by += 2 * NOISE_BLOCK;
    }
    if blocks.is_empty() {
        return 0.0;
    }
    blocks.sort_unstable();
    let Some(&pick) = blocks.get(blocks.len() / 10) else { return 0.0 };
    let mean_abs = f64::from(pick) / (NOISE_BLOCK * NOISE_BLOCK) as f64;
    // sqrt(π / 2) / 6
    mean_abs * 0.208_890_600_784_693_3
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
