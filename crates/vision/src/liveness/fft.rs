//! A small radix-2 fast Fourier transform, in one and two dimensions.
//!
//! Only what the liveness spectrum needs: power-of-two sizes, in place, `f64`. Twiddle factors come from
//! [`crate::geometry::sin_cos`] (basic operations only), so wasm32 and native builds give the same bits.

use crate::geometry::{PI, sin_cos};

/// A complex spectrum of `size × size` bins, row-major, real and imaginary parts kept apart.
#[derive(Debug, Clone, Default)]
pub struct Spectrum2d {
    /// Side length (a power of two).
    pub size: usize,
    /// Real parts.
    pub re: Vec<f64>,
    /// Imaginary parts.
    pub im: Vec<f64>,
}

impl Spectrum2d {
    /// Power `|F(u, v)|²` at bin `(u, v)`, with negative frequencies wrapped (`u` in `-size/2..size/2`).
    pub fn power(&self, u: i64, v: i64) -> f64 {
        let n = self.size as i64;
        let (x, y) = (u.rem_euclid(n) as usize, v.rem_euclid(n) as usize);
        let i = y * self.size + x;
        self.re[i] * self.re[i] + self.im[i] * self.im[i]
    }
}

/// Twiddle factors `(cos, -sin)(2πk/n)` for `k < n/2`.
fn twiddles(n: usize) -> Vec<(f64, f64)> {
    (0..n / 2)
        .map(|k| {
            let (s, c) = sin_cos(2.0 * PI * k as f64 / n as f64);
            (c, -s)
        })
        .collect()
}

/// In-place forward transform of one sequence (`re.len()` must be a power of two; other lengths are left
/// untouched and reported as `false`).
pub fn fft_in_place(re: &mut [f64], im: &mut [f64], tw: &[(f64, f64)]) -> bool {
    let n = re.len();
    if !n.is_power_of_two() || im.len() != n || tw.len() != n / 2 {
        return false;
    }
    // Bit reversal.
    let mut j = 0usize;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let step = n / len;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let (wr, wi) = tw[k * step];
                let (a, b) = (start + k, start + k + len / 2);
                let (xr, xi) = (re[b] * wr - im[b] * wi, re[b] * wi + im[b] * wr);
                re[b] = re[a] - xr;
                im[b] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
            }
        }
        len <<= 1;
    }
    true
}

/// Forward 2-D transform of a `size × size` real image (row-major). `None` when `size` is not a power of two
/// or the slice has the wrong length.
pub fn fft2d(values: &[f64], size: usize) -> Option<Spectrum2d> {
    if !size.is_power_of_two() || values.len() != size * size {
        return None;
    }
    let tw = twiddles(size);
    let mut re = values.to_vec();
    let mut im = vec![0.0; size * size];
    for row in 0..size {
        let span = row * size..(row + 1) * size;
        fft_in_place(&mut re[span.clone()], &mut im[span], &tw);
    }
    let (mut cr, mut ci) = (vec![0.0; size], vec![0.0; size]);
    for col in 0..size {
        for row in 0..size {
            cr[row] = re[row * size + col];
            ci[row] = im[row * size + col];
        }
        fft_in_place(&mut cr, &mut ci, &tw);
        for row in 0..size {
            re[row * size + col] = cr[row];
            im[row * size + col] = ci[row];
        }
    }
    Some(Spectrum2d { size, re, im })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive DFT, for comparison.
    fn dft(x: &[f64]) -> Vec<(f64, f64)> {
        let n = x.len();
        (0..n)
            .map(|k| {
                x.iter().enumerate().fold((0.0, 0.0), |(r, i), (t, &v)| {
                    let a = -2.0 * std::f64::consts::PI * (k * t) as f64 / n as f64;
                    (r + v * a.cos(), i + v * a.sin())
                })
            })
            .collect()
    }

    #[test]
    fn matches_the_naive_dft() {
        let x: Vec<f64> = (0..32).map(|i| ((i * 7919) % 23) as f64 - 11.0).collect();
        let (mut re, mut im) = (x.clone(), vec![0.0; 32]);
        assert!(fft_in_place(&mut re, &mut im, &twiddles(32)));
        for (k, (r, i)) in dft(&x).into_iter().enumerate() {
            assert!((re[k] - r).abs() < 1e-9 && (im[k] - i).abs() < 1e-9, "bin {k}");
        }
    }

    #[test]
    fn a_plane_wave_lands_in_one_bin() {
        let n = 64;
        let img: Vec<f64> =
            (0..n * n).map(|i| (2.0 * PI * (5.0 * (i % n) as f64 + 3.0 * (i / n) as f64) / n as f64).cos()).collect();
        let s = fft2d(&img, n).unwrap();
        let peak = s.power(5, 3);
        assert!(peak > 1e6);
        assert!(s.power(4, 3) < peak * 1e-9 && s.power(0, 0) < peak * 1e-9);
        assert!((s.power(-5, -3) - peak).abs() < peak * 1e-9);
    }

    #[test]
    fn rejects_bad_sizes() {
        assert!(fft2d(&[0.0; 9], 3).is_none());
        assert!(fft2d(&[0.0; 15], 4).is_none());
        let (mut re, mut im) = (vec![0.0; 6], vec![0.0; 6]);
        assert!(!fft_in_place(&mut re, &mut im, &twiddles(6)));
    }
}
