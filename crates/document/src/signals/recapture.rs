//! Screen re-capture: is this a photo of a screen showing the document, rather than of the document?
//!
//! A screen is a regular grid of pixels, each made of red, green and blue stripes. A camera samples that
//! grid with its own grid; the two beat into moiré, and the sub-pixel stripes leave colour fringes. Both
//! are *periodic*, so they show up as isolated peaks in the 2-D power spectrum, far above the smooth
//! fall-off of a photographed card or sheet of paper.
//!
//! [`measure`] spreads up to [`MAX_TILES_PER_SIDE`]² tiles of [`TILE`]×[`TILE`] pixels over the photo (full
//! resolution: down-scaling would itself alias), and runs `trustcap-vision`'s
//! [`periodic_peak`](trustcap_vision::liveness::spectrum::periodic_peak) on each tile's luma and on its
//! chroma (R − B). That function windows the tile (Hann), transforms it with the shared radix-2 FFT and
//! reports the strongest bin over the mean of the ring of bins around it, skipping what every honest photo
//! has: low frequencies, the two axes, and the JPEG 8-px lattice. A tile is *periodic* when the ratio
//! reaches [`RECAPTURE_TILE_PEAK_RATIO`](crate::tamper::RECAPTURE_TILE_PEAK_RATIO); the photo's score is
//! the share of periodic tiles, since moiré covers the whole screen while a stray periodic texture
//! (a guilloche, a barcode) covers a few tiles.
//!
//! Limits: a screen far enough away, or a heavily blurred photo, leaves no grid to see; a document printed
//! with a coarse halftone or a large guilloche area can look periodic.

use image::RgbImage;
use trustcap_vision::liveness::spectrum::periodic_peak;

use crate::tamper::{RECAPTURE_TILE_PEAK_RATIO, RecaptureSignal};

/// Tile side, pixels (a power of two).
pub const TILE: usize = 128;
/// Most tiles along each side of the photo.
pub const MAX_TILES_PER_SIDE: usize = 8;
/// Tiles whose luma standard deviation is below this (grey levels) are flat: nothing to judge.
pub const MIN_TILE_STD: f64 = 1.0;

/// Rec. 601 luma of a pixel, `0..=255`.
fn luma(p: [u8; 3]) -> f64 {
    0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
}

/// Evenly spread tile origins along one side of `len` pixels (empty when the side is shorter than a tile).
fn origins(len: usize) -> Vec<usize> {
    if len < TILE {
        return Vec::new();
    }
    let fit = (len / TILE).clamp(1, MAX_TILES_PER_SIDE);
    let span = len - TILE;
    if fit == 1 {
        return vec![span / 2];
    }
    (0..fit).map(|i| i * span / (fit - 1)).collect()
}

/// One tile's measurement.
#[derive(Debug, Clone, Copy)]
struct Tile {
    ratio: f64,
    chroma_ratio: f64,
    peak: (f64, f64),
}

/// Measures one tile at `(x0, y0)`; `None` when it is flat.
fn tile(img: &RgbImage, x0: u32, y0: u32) -> Option<Tile> {
    let mut l = Vec::with_capacity(TILE * TILE);
    let mut c = Vec::with_capacity(TILE * TILE);
    for y in 0..TILE as u32 {
        for x in 0..TILE as u32 {
            let p = img.get_pixel_checked(x0 + x, y0 + y)?.0;
            l.push(luma(p));
            c.push(f64::from(p[0]) - f64::from(p[2]));
        }
    }
    let n = l.len() as f64;
    let mean = l.iter().sum::<f64>() / n;
    let var = l.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    if var.sqrt() < MIN_TILE_STD {
        return None;
    }
    let lr = periodic_peak(&l, TILE)?;
    let cr = periodic_peak(&c, TILE)?;
    let peak = if cr.ratio > lr.ratio { (cr.fx, cr.fy) } else { (lr.fx, lr.fy) };
    Some(Tile { ratio: lr.ratio, chroma_ratio: cr.ratio, peak })
}

/// Measures screen re-capture on the whole photo.
pub fn measure(img: &RgbImage) -> RecaptureSignal {
    let (xs, ys) = (origins(img.width() as usize), origins(img.height() as usize));
    let tiles: Vec<Tile> = ys
        .iter()
        .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
        .filter_map(|(x, y)| tile(img, u32::try_from(x).ok()?, u32::try_from(y).ok()?))
        .collect();
    summarise(&tiles)
}

/// Turns per-tile peaks into the photo's signal.
fn summarise(tiles: &[Tile]) -> RecaptureSignal {
    let best = |t: &Tile| t.ratio.max(t.chroma_ratio);
    let periodic = tiles.iter().filter(|t| best(t) >= RECAPTURE_TILE_PEAK_RATIO).count();
    let chroma = tiles.iter().filter(|t| t.chroma_ratio >= RECAPTURE_TILE_PEAK_RATIO).count();
    let mut ratios: Vec<f64> = tiles.iter().map(best).collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios.get(ratios.len() / 2).copied().unwrap_or(1.0);
    let strongest = tiles.iter().max_by(|a, b| best(a).total_cmp(&best(b)));
    let score = if tiles.is_empty() { 0.0 } else { periodic as f64 / tiles.len() as f64 };
    let explanation = match strongest {
        None => "the photo is too small or too flat for a spectral analysis".to_owned(),
        Some(s) => format!(
            "{periodic} of {} tiles show a periodic spectral peak ({chroma} in colour); median peak {:.0}× \
             the local spectrum, strongest {:.0}× at ({:.3}, {:.3}) cycles/px",
            tiles.len(),
            median,
            best(s),
            s.peak.0,
            s.peak.1
        ),
    };
    RecaptureSignal {
        tiles: u32::try_from(tiles.len()).unwrap_or(u32::MAX),
        periodic_tiles: u32::try_from(periodic).unwrap_or(u32::MAX),
        chroma_tiles: u32::try_from(chroma).unwrap_or(u32::MAX),
        score,
        median_peak_ratio: median,
        strongest_peak: strongest.map_or((0.0, 0.0), |s| s.peak),
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random numbers in `0..1`.
    fn rng(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 10_000) as f64 / 10_000.0
        }
    }

    fn paper(w: u32, h: u32, seed: u64) -> RgbImage {
        let mut r = rng(seed);
        RgbImage::from_fn(w, h, |x, y| {
            let v = 200.0 - 0.05 * f64::from(x) - 0.03 * f64::from(y);
            // Sensor noise, independent per channel.
            image::Rgb([0.0, -5.0, -12.0].map(|o| (v + o + 6.0 * r()).round().clamp(0.0, 255.0) as u8))
        })
    }

    #[test]
    fn tile_layout() {
        assert!(origins(100).is_empty());
        assert_eq!(origins(128), vec![0]);
        assert_eq!(origins(300), vec![0, 172]);
        let o = origins(5000);
        assert_eq!(o.len(), MAX_TILES_PER_SIDE);
        assert_eq!(o.last(), Some(&(5000 - TILE)));
    }

    #[test]
    fn plain_paper_is_not_periodic() {
        let s = measure(&paper(640, 480, 1));
        assert!(s.tiles >= 12, "{s:?}");
        assert_eq!(s.periodic_tiles, 0, "{s:?}");
        assert!(!s.is_recapture());
    }

    #[test]
    fn a_pixel_grid_over_the_whole_photo_is() {
        let mut img = paper(640, 480, 1);
        for (x, y, p) in img.enumerate_pixels_mut() {
            let phase = 2.0 * std::f64::consts::PI * (0.23 * f64::from(x) + 0.05 * f64::from(y));
            let d = 8.0 * phase.sin();
            // Red and blue stripes out of phase: the colour fringes of a sub-pixel grid.
            for (c, shift) in p.0.iter_mut().zip([d, 0.5 * d, -d]) {
                *c = (f64::from(*c) + shift).round().clamp(0.0, 255.0) as u8;
            }
        }
        let s = measure(&img);
        assert!(s.is_recapture(), "{s:?}");
        assert!(s.chroma_tiles > 0, "{s:?}");
        assert!((s.strongest_peak.0.abs() - 0.23).abs() < 0.02, "{s:?}");
    }

    #[test]
    fn tiny_and_flat_photos_are_not_applicable() {
        assert_eq!(measure(&RgbImage::new(100, 100)).tiles, 0);
        let flat = measure(&RgbImage::from_pixel(512, 512, image::Rgb([128, 128, 128])));
        assert_eq!(flat.tiles, 0);
        assert!(!flat.applicable());
    }
}
