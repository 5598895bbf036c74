//! Exposure statistics from a 256-bin luma histogram.
//!
//! Mean, standard deviation ("contrast"), the shares of crushed shadows and blown highlights, and 5th/95th
//! percentiles. The histogram lives on the stack; sums are exact integers converted to floats at the end.

use serde::Serialize;

use crate::luma::WorkingImage;
use crate::region::RowSpans;

/// Luma below this value counts as crushed shadow.
pub const DARK_LEVEL: u8 = 16;
/// Luma above this value counts as blown highlight.
pub const BRIGHT_LEVEL: u8 = 240;

/// Exposure statistics of a working image.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ExposureReport {
    /// Mean luma, 0..=255.
    pub mean: f32,
    /// Standard deviation of luma (global contrast), 0..=127.5.
    pub contrast: f32,
    /// Share of pixels with luma < [`DARK_LEVEL`], 0..=1.
    pub dark_share: f32,
    /// Share of pixels with luma > [`BRIGHT_LEVEL`], 0..=1.
    pub bright_share: f32,
    /// 5th percentile of luma (smallest level with at least 5% of pixels at or below it).
    pub p05: u8,
    /// 95th percentile of luma.
    pub p95: u8,
}

/// 256-bin luma histogram.
pub fn histogram(luma: &[u8]) -> [u32; 256] {
    let mut hist = [0u32; 256];
    for &l in luma {
        hist[l as usize] += 1;
    }
    hist
}

/// Exposure statistics of `img` (all zeros for an empty image).
pub fn measure(img: &WorkingImage) -> ExposureReport {
    from_histogram(&histogram(img.luma()))
}

/// Exposure statistics of the pixels of `img` inside `region` (the histogram lives on the stack).
pub fn measure_region(img: &WorkingImage, region: &RowSpans) -> ExposureReport {
    let mut hist = [0u32; 256];
    let (w, luma) = (img.width() as usize, img.luma());
    for y in 0..img.height() as usize {
        let (x0, x1) = region.row(y);
        for &l in &luma[y * w + x0.min(w)..y * w + x1.min(w)] {
            hist[l as usize] += 1;
        }
    }
    from_histogram(&hist)
}

/// Exposure statistics from a histogram.
pub fn from_histogram(hist: &[u32; 256]) -> ExposureReport {
    let mut n = 0u64;
    let mut sum = 0u64;
    let mut sum_sq = 0u64;
    for (level, &count) in hist.iter().enumerate() {
        let c = u64::from(count);
        let l = level as u64;
        n += c;
        sum += c * l;
        sum_sq += c * l * l;
    }
    if n == 0 {
        return ExposureReport::default();
    }
    let dark: u64 = hist[..DARK_LEVEL as usize].iter().map(|&c| u64::from(c)).sum();
    let bright: u64 = hist[BRIGHT_LEVEL as usize + 1..].iter().map(|&c| u64::from(c)).sum();
    // n^2 * variance, exact in u128 (n <= 2^32, sums <= 2^48).
    let n2_var = u128::from(n) * u128::from(sum_sq) - u128::from(sum) * u128::from(sum);
    let nf = n as f64;
    let variance = n2_var as f64 / (nf * nf);
    ExposureReport {
        mean: (sum as f64 / nf) as f32,
        contrast: variance.sqrt() as f32,
        dark_share: (dark as f64 / nf) as f32,
        bright_share: (bright as f64 / nf) as f32,
        p05: percentile(hist, n, 5),
        p95: percentile(hist, n, 95),
    }
}

/// Smallest level `l` such that at least `pct`% of the `n` pixels are `<= l`.
fn percentile(hist: &[u32; 256], n: u64, pct: u64) -> u8 {
    let target = (n * pct).div_ceil(100).max(1);
    let mut cum = 0u64;
    for (level, &count) in hist.iter().enumerate() {
        cum += u64::from(count);
        if cum >= target {
            return level as u8;
        }
    }
    255
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(luma: Vec<u8>) -> WorkingImage {
        let n = luma.len() as u32;
        WorkingImage::from_luma(n, 1, luma).unwrap()
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(measure(&WorkingImage::new()), ExposureReport::default());
    }

    #[test]
    fn flat_image() {
        let r = measure(&img(vec![100; 50]));
        assert_eq!(r.mean, 100.0);
        assert_eq!(r.contrast, 0.0);
        assert_eq!((r.dark_share, r.bright_share), (0.0, 0.0));
        assert_eq!((r.p05, r.p95), (100, 100));
    }

    #[test]
    fn two_levels() {
        let mut v = vec![0u8; 50];
        v.extend(std::iter::repeat_n(255u8, 50));
        let r = measure(&img(v));
        assert_eq!(r.mean, 127.5);
        assert_eq!(r.contrast, 127.5);
        assert_eq!((r.dark_share, r.bright_share), (0.5, 0.5));
        assert_eq!((r.p05, r.p95), (0, 255));
    }

    #[test]
    fn thresholds_are_exclusive() {
        let r = measure(&img(vec![DARK_LEVEL, BRIGHT_LEVEL]));
        assert_eq!((r.dark_share, r.bright_share), (0.0, 0.0));
    }
}
