//! Periodic-pattern detection in a face window: the trace a screen or a printer leaves.
//!
//! A camera looking at a screen also sees the screen's pixel grid, and the two grids beat into moiré; a
//! printed photo carries its halftone screen. Both are *periodic*, so they show up as isolated peaks in the
//! 2-D power spectrum, far above the smooth fall-off of a natural image. A real face has no such peaks.
//!
//! [`periodic_peak`] windows a square luma patch (Hann), transforms it ([`super::fft`]), and reports the
//! strongest bin relative to the mean of the 16 bins on the square ring two bins away from it. Three kinds
//! of bins are skipped because every honest photo has energy there: low frequencies (the face itself, below
//! [`MIN_RADIUS_SHARE`] of Nyquist), the two axes (edges aligned with the frame and the window's leakage),
//! and the JPEG lattice (multiples of 1/8 cycle per pixel, where 8×8 block edges put peaks).

use super::fft::fft2d;
use crate::geometry::{PI, sin_cos};

/// Bins closer to the centre than this share of the half-size are the face's own structure.
pub const MIN_RADIUS_SHARE: f64 = 0.125;

/// The strongest periodic peak of a patch.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct PeakReport {
    /// Power of the peak bin over the mean power of its surrounding ring (1 = no peak).
    pub ratio: f64,
    /// Horizontal frequency of the peak, cycles per pixel (`-0.5..0.5`).
    pub fx: f64,
    /// Vertical frequency of the peak, cycles per pixel (`0..0.5`).
    pub fy: f64,
    /// Share of the patch's AC power above half of Nyquist (a fine grid raises it; blur lowers it).
    pub high_band_share: f64,
}

/// The Hann window value at `i` of `n`.
fn hann(i: usize, n: usize) -> f64 {
    let (_, c) = sin_cos(2.0 * PI * i as f64 / n as f64);
    0.5 - 0.5 * c
}

/// Analyses a `size × size` luma patch (row-major, any scale). `None` when `size` is not a power of two of at
/// least 16, or the slice has the wrong length.
pub fn periodic_peak(values: &[f64], size: usize) -> Option<PeakReport> {
    if size < 16 || !size.is_power_of_two() || values.len() != size * size {
        return None;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let window: Vec<f64> = (0..size).map(|i| hann(i, size)).collect();
    let windowed: Vec<f64> =
        values.iter().enumerate().map(|(i, v)| (v - mean) * window[i % size] * window[i / size]).collect();
    let spectrum = fft2d(&windowed, size)?;
    let half = (size / 2) as i64;
    let min_r2 = {
        let r = MIN_RADIUS_SHARE * half as f64;
        r * r
    };
    let lattice = (size / 8) as i64;
    let near_lattice = |f: i64| {
        let m = f.rem_euclid(lattice);
        m <= 1 || m >= lattice - 1
    };
    let (mut best, mut best_uv) = (1.0f64, (0i64, 0i64));
    let (mut total, mut high) = (0.0, 0.0);
    for v in 0..half {
        for u in -half + 1..half {
            let r2 = (u * u + v * v) as f64;
            if r2 == 0.0 || (v == 0 && u < 0) {
                continue;
            }
            let p = spectrum.power(u, v);
            total += p;
            if r2 >= (half * half) as f64 / 4.0 {
                high += p;
            }
            if r2 < min_r2 || u.abs() <= 1 || v <= 1 || (near_lattice(u) && near_lattice(v)) {
                continue;
            }
            let mut ring = 0.0;
            for d in -2i64..=2 {
                ring += spectrum.power(u + d, v - 2) + spectrum.power(u + d, v + 2);
            }
            for d in -1i64..=1 {
                ring += spectrum.power(u - 2, v + d) + spectrum.power(u + 2, v + d);
            }
            let ratio = p / (ring / 16.0 + 1e-12);
            if ratio > best {
                best = ratio;
                best_uv = (u, v);
            }
        }
    }
    Some(PeakReport {
        ratio: best,
        fx: best_uv.0 as f64 / size as f64,
        fy: best_uv.1 as f64 / size as f64,
        high_band_share: if total > 0.0 { high / total } else { 0.0 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth "face-like" patch: a blob with gentle shading and deterministic noise.
    fn natural(size: usize, seed: u64) -> Vec<f64> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..size * size)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let (x, y) = ((i % size) as f64 / size as f64 - 0.5, (i / size) as f64 / size as f64 - 0.5);
                150.0 - 200.0 * (x * x + y * y) + 20.0 * x + (state % 1000) as f64 / 250.0
            })
            .collect()
    }

    #[test]
    fn a_natural_patch_has_no_strong_peak() {
        let r = periodic_peak(&natural(128, 3), 128).unwrap();
        assert!(r.ratio < 30.0, "{r:?}");
    }

    #[test]
    fn a_screen_grid_makes_a_strong_peak_at_its_frequency() {
        let size = 128;
        let mut patch = natural(size, 3);
        // A pixel grid of period ≈ 3.3 px, tilted (as a screen seen by a camera).
        for (i, v) in patch.iter_mut().enumerate() {
            let (x, y) = ((i % size) as f64, (i / size) as f64);
            let (s, _) = sin_cos(2.0 * PI * (0.29 * x + 0.07 * y));
            *v += 6.0 * s;
        }
        let r = periodic_peak(&patch, size).unwrap();
        assert!(r.ratio > 100.0, "{r:?}");
        assert!((r.fx - 0.29).abs() < 0.02 && (r.fy - 0.07).abs() < 0.02, "{r:?}");
    }

    #[test]
    fn jpeg_block_lattice_is_ignored() {
        let size = 128;
        let mut patch = natural(size, 5);
        for (i, v) in patch.iter_mut().enumerate() {
            let (x, y) = (i % size, i / size);
            if x % 8 == 0 || y % 8 == 0 {
                *v += 3.0;
            }
        }
        assert!(periodic_peak(&patch, size).unwrap().ratio < 30.0);
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert!(periodic_peak(&[0.0; 64], 8).is_none());
        assert!(periodic_peak(&[0.0; 100], 16).is_none());
    }
}
