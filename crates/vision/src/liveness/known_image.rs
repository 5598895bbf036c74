//! Known-image replay: is this picture a copy of one seen before?
//!
//! A digital replay re-submits a stolen or previously used photo, often mirrored and rescaled so that an
//! exact-duplicate check misses it. Such a copy has no screen or print cue at all: only a comparison with
//! images seen before catches it. [`ImageFingerprint`] is a 256-bit difference hash (dHash) of the face
//! region: the region is turned grey, averaged down to 17 × 16 cells, and each bit says whether a cell is
//! darker than its right-hand neighbour. The hash of the mirrored region is kept beside it, so
//! [`distance`] (the Hamming distance, bits out of [`HASH_BITS`]) is small for the same picture whether or
//! not it was flipped, rescaled or re-compressed, and large for different pictures. [`KnownImages`] is a
//! gallery searched linearly for the nearest fingerprint within a maximum distance.
//!
//! A fingerprint is computed from pixels only (no threads, no clock), so it runs in the browser module too.
//! Low-detail images (a flat wall, a blank frame) hash to nearly all-zero bits and match each other: callers
//! should only insert pictures that show a face.

use super::{FaceBox, LivenessError};
use crate::frame::{BYTES_PER_PIXEL, Frame};

/// Cells across the averaged grid (one more than the bits per row: each bit compares two neighbours).
const GRID_W: usize = 17;
/// Cells down the averaged grid (one row of bits each).
const GRID_H: usize = 16;
/// Bits in a fingerprint.
pub const HASH_BITS: u32 = 256;
/// How much the face box is enlarged (about its centre) to make the hashed region.
pub const FACE_MARGIN: f64 = 1.5;
/// Default largest distance (bits of [`HASH_BITS`]) at which two fingerprints count as the same picture.
///
/// Measured on the single-face photos of the evaluation data's `faces/` folder (face region, see
/// `docs/bench/liveness.md`): a mirrored copy enlarged 1.96× lies 12 bits from its original and a crop of
/// the same portrait 8 bits, while different photos lie 44 or more bits apart. Copies whose face is small
/// (about 30 pixels) come out 29–42 bits apart, because the detector's box shifts by a cell or more: the
/// face-region hash is robust to mirroring, rescaling and re-compression of a well-resolved face, not to
/// tiny faces.
pub const DEFAULT_MAX_DISTANCE: u32 = 16;

/// A 256-bit difference hash of a picture's face region and of its mirror image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImageFingerprint {
    hash: [u64; 4],
    mirrored: [u64; 4],
}

impl ImageFingerprint {
    /// Fingerprint of the face region of `frame`: `face` enlarged [`FACE_MARGIN`]× about its centre and
    /// clipped to the frame, or the whole frame when `face` is `None`.
    ///
    /// Fails with [`LivenessError::BadFaceBox`] when the box is not finite, has no area, or lies outside
    /// the frame. Work is one pass over the region's pixels (at most the frame's [`crate::frame::MAX_PIXELS`]).
    pub fn of(frame: &Frame<'_>, face: Option<FaceBox>) -> Result<Self, LivenessError> {
        let region = match face {
            None => Region { x0: 0, y0: 0, x1: frame.width(), y1: frame.height() },
            Some(b) => face_region(b, frame.width(), frame.height()).ok_or(LivenessError::BadFaceBox)?,
        };
        let grid = average_grid(frame, region);
        let mut mirrored_grid = grid;
        for row in &mut mirrored_grid {
            row.reverse();
        }
        Ok(Self { hash: dhash(&grid), mirrored: dhash(&mirrored_grid) })
    }

    /// The hash of the picture as given (bit `16·row + column` of the 256, four words, lowest bit first).
    pub fn bits(&self) -> [u64; 4] {
        self.hash
    }

    /// The hash of the picture's mirror image.
    pub fn mirrored_bits(&self) -> [u64; 4] {
        self.mirrored
    }
}

/// How two fingerprints compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// Bits that differ (of [`HASH_BITS`]), the smaller of the direct and the mirrored comparison.
    pub distance: u32,
    /// Whether the smaller distance is the mirrored comparison (the copy is flipped left to right).
    pub mirrored: bool,
}

/// Compares `a` with `b` and with `b`'s mirror image; the direct comparison wins ties.
pub fn compare(a: &ImageFingerprint, b: &ImageFingerprint) -> Match {
    let direct = hamming(&a.hash, &b.hash);
    let flipped = hamming(&a.hash, &b.mirrored);
    if flipped < direct {
        Match { distance: flipped, mirrored: true }
    } else {
        Match { distance: direct, mirrored: false }
    }
}

/// Bits that differ between `a` and `b` or `b`'s mirror image, whichever is fewer (0..=[`HASH_BITS`]).
pub fn distance(a: &ImageFingerprint, b: &ImageFingerprint) -> u32 {
    compare(a, b).distance
}

/// A gallery of fingerprints of pictures seen before, each with the caller's identifier.
#[derive(Debug, Clone, Default)]
pub struct KnownImages<T> {
    entries: Vec<(T, ImageFingerprint)>,
}

impl<T> KnownImages<T> {
    /// An empty gallery.
    pub fn new() -> Self {
        Self { entries: Vec::new() }
    }

    /// Adds a picture's fingerprint under `id` (identifiers need not be unique).
    pub fn insert(&mut self, id: T, fingerprint: ImageFingerprint) {
        self.entries.push((id, fingerprint));
    }

    /// Pictures in the gallery.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the gallery is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The nearest known picture within `max_distance` bits, with how it matched; the earliest inserted
    /// wins ties. `None` when no picture is that close.
    pub fn find(&self, fingerprint: &ImageFingerprint, max_distance: u32) -> Option<(&T, Match)> {
        self.nearest(fingerprint).filter(|(_, m)| m.distance <= max_distance)
    }

    /// The nearest known picture at any distance (`None` only for an empty gallery).
    pub fn nearest(&self, fingerprint: &ImageFingerprint) -> Option<(&T, Match)> {
        let mut best: Option<(&T, Match)> = None;
        for (id, known) in &self.entries {
            let m = compare(fingerprint, known);
            if best.is_none_or(|(_, b)| m.distance < b.distance) {
                best = Some((id, m));
            }
        }
        best
    }

    /// Every picture with its identifier, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&T, &ImageFingerprint)> {
        self.entries.iter().map(|(id, fp)| (id, fp))
    }
}

/// A pixel rectangle `[x0, x1) × [y0, y1)`, non-empty and inside the frame.
#[derive(Debug, Clone, Copy)]
struct Region {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

/// The face box enlarged [`FACE_MARGIN`]× about its centre and clipped to a `width × height` frame.
fn face_region(b: FaceBox, width: u32, height: u32) -> Option<Region> {
    let finite = [b.x, b.y, b.width, b.height].iter().all(|v| v.is_finite());
    if !finite || b.width <= 0.0 || b.height <= 0.0 {
        return None;
    }
    let (cx, cy) = (b.x + b.width / 2.0, b.y + b.height / 2.0);
    let (hw, hh) = (b.width * FACE_MARGIN / 2.0, b.height * FACE_MARGIN / 2.0);
    let (w, h) = (f64::from(width), f64::from(height));
    // Clamped to the frame first, so the casts below are exact and in range.
    let x0 = (cx - hw).floor().clamp(0.0, w) as u32;
    let x1 = (cx + hw).ceil().clamp(0.0, w) as u32;
    let y0 = (cy - hh).floor().clamp(0.0, h) as u32;
    let y1 = (cy + hh).ceil().clamp(0.0, h) as u32;
    (x1 > x0 && y1 > y0).then_some(Region { x0, y0, x1, y1 })
}

/// The pixels overlapping cell `i` of `n` equal cells over `[lo, hi)`, each with the length of its overlap.
///
/// Cells have fractional edges, so the grid of a mirrored region is exactly the mirrored grid.
fn cell_weights(lo: u32, hi: u32, i: usize, n: usize) -> impl Iterator<Item = (u32, f64)> {
    let len = f64::from(hi - lo);
    let start = f64::from(lo) + len * i as f64 / n as f64;
    let end = f64::from(lo) + len * (i + 1) as f64 / n as f64;
    // Both lie within [lo, hi], so the casts are exact and in range.
    let first = start.floor() as u32;
    let last = (end.ceil() as u32).min(hi);
    (first..last).filter_map(move |p| {
        let w = (end.min(f64::from(p) + 1.0) - start.max(f64::from(p))).max(0.0);
        (w > 0.0).then_some((p, w))
    })
}

/// Mean grey (BT.601 luma, 0..255) of each of the 17 × 16 cells of `region` (area averaging).
fn average_grid(frame: &Frame<'_>, region: Region) -> [[f32; GRID_W]; GRID_H] {
    let mut grid = [[0f32; GRID_W]; GRID_H];
    let mut luma = Vec::with_capacity((region.x1 - region.x0) as usize);
    for (r, out_row) in grid.iter_mut().enumerate() {
        let mut sums = [0f64; GRID_W];
        let mut row_weight = 0.0;
        for (y, wy) in cell_weights(region.y0, region.y1, r, GRID_H) {
            let Some(row) = frame.row(y) else { continue };
            let span = row.get(region.x0 as usize * BYTES_PER_PIXEL..region.x1 as usize * BYTES_PER_PIXEL);
            luma.clear();
            luma.extend(
                span.unwrap_or(&[])
                    .chunks_exact(BYTES_PER_PIXEL)
                    .map(|p| (77.0 * f64::from(p[0]) + 150.0 * f64::from(p[1]) + 29.0 * f64::from(p[2])) / 256.0),
            );
            for (c, sum) in sums.iter_mut().enumerate() {
                let line: f64 = cell_weights(region.x0, region.x1, c, GRID_W)
                    .map(|(x, wx)| wx * luma.get((x - region.x0) as usize).copied().unwrap_or(0.0))
                    .sum();
                *sum += wy * line;
            }
            row_weight += wy;
        }
        let cell_width = f64::from(region.x1 - region.x0) / GRID_W as f64;
        for (cell, sum) in out_row.iter_mut().zip(sums) {
            *cell = (sum / (row_weight * cell_width).max(f64::MIN_POSITIVE)) as f32;
        }
    }
    grid
}

/// Bit `16·row + column` is set when cell `column` is darker than cell `column + 1`.
fn dhash(grid: &[[f32; GRID_W]; GRID_H]) -> [u64; 4] {
    let mut words = [0u64; 4];
    for (r, row) in grid.iter().enumerate() {
        for (c, pair) in row.windows(2).enumerate() {
            if pair[0] < pair[1] {
                let bit = r * (GRID_W - 1) + c;
                if let Some(w) = words.get_mut(bit / 64) {
                    *w |= 1 << (bit % 64);
                }
            }
        }
    }
    words
}

fn hamming(a: &[u64; 4], b: &[u64; 4]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A `w × h` RGBA picture of a few soft blobs and stripes placed by `seed`.
    fn picture(seed: u64, w: u32, h: u32) -> Vec<u8> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut rnd = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as f64) / f64::from(1u32 << 31)
        };
        let blobs: Vec<[f64; 4]> = (0..6).map(|_| [rnd(), rnd(), 0.05 + 0.2 * rnd(), rnd() * 2.0 - 1.0]).collect();
        let (fx, fy, ph) = (1.0 + 4.0 * rnd(), 1.0 + 4.0 * rnd(), 6.0 * rnd());
        let mut out = Vec::with_capacity((w * h * 4) as usize);
        for y in 0..h {
            for x in 0..w {
                let (u, v) = (f64::from(x) / f64::from(w), f64::from(y) / f64::from(h));
                let mut g = 128.0 + 30.0 * (fx * u * std::f64::consts::TAU + fy * v * 3.0 + ph).sin();
                for b in &blobs {
                    let d2 = (u - b[0]).powi(2) + (v - b[1]).powi(2);
                    g += 90.0 * b[3] * (-d2 / (b[2] * b[2])).exp();
                }
                let g = g.clamp(0.0, 255.0) as u8;
                out.extend_from_slice(&[g, g.saturating_add(10), g.saturating_sub(10), 255]);
            }
        }
        out
    }

    fn fingerprint(rgba: &[u8], w: u32, h: u32) -> ImageFingerprint {
        ImageFingerprint::of(&Frame::packed(rgba, w, h).unwrap(), None).unwrap()
    }

    fn mirror(rgba: &[u8], w: u32) -> Vec<u8> {
        rgba.chunks_exact(w as usize * 4).flat_map(|row| row.chunks_exact(4).rev().flatten().copied()).collect()
    }

    /// Bilinear resampling to `nw × nh`.
    fn resize(rgba: &[u8], w: u32, h: u32, nw: u32, nh: u32) -> Vec<u8> {
        let at = |x: u32, y: u32, c: usize| f64::from(rgba[((y * w + x) * 4) as usize + c]);
        let mut out = Vec::new();
        for y in 0..nh {
            for x in 0..nw {
                let sx = ((f64::from(x) + 0.5) * f64::from(w) / f64::from(nw) - 0.5).clamp(0.0, f64::from(w - 1));
                let sy = ((f64::from(y) + 0.5) * f64::from(h) / f64::from(nh) - 0.5).clamp(0.0, f64::from(h - 1));
                let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
                let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
                let (fx, fy) = (sx - f64::from(x0), sy - f64::from(y0));
                for c in 0..4 {
                    let top = at(x0, y0, c) * (1.0 - fx) + at(x1, y0, c) * fx;
                    let bottom = at(x0, y1, c) * (1.0 - fx) + at(x1, y1, c) * fx;
                    out.push((top * (1.0 - fy) + bottom * fy).round() as u8);
                }
            }
        }
        out
    }

    #[test]
    fn copies_match_and_different_pictures_do_not() {
        let (w, h) = (160, 120);
        let original = picture(1, w, h);
        let fp = fingerprint(&original, w, h);

        let mirrored = mirror(&original, w);
        let m = compare(&fp, &fingerprint(&mirrored, w, h));
        assert!(m.mirrored && m.distance <= 4, "mirror: {m:?}");
        assert_ne!(fp, fingerprint(&mirrored, w, h), "the mirror hashes differently until compared mirrored");

        let (bw, bh) = (314, 235); // enlarged 1.96×
        let enlarged = resize(&mirrored, w, h, bw, bh);
        assert!(distance(&fp, &fingerprint(&enlarged, bw, bh)) <= 8);
        let reduced = resize(&original, w, h, 83, 61);
        assert!(distance(&fp, &fingerprint(&reduced, 83, 61)) <= 8);

        // Re-compression: small deterministic errors of up to ±3 grey levels.
        let noisy: Vec<u8> = original
            .iter()
            .enumerate()
            .map(|(i, &v)| if i % 4 == 3 { v } else { v.saturating_add_signed(((i * 7919) % 7) as i8 - 3) })
            .collect();
        assert!(distance(&fp, &fingerprint(&noisy, w, h)) <= 8);

        let mut gallery = KnownImages::new();
        gallery.insert("original", fp);
        for seed in 2..12 {
            let other = fingerprint(&picture(seed, w, h), w, h);
            assert!(distance(&fp, &other) > 2 * DEFAULT_MAX_DISTANCE, "seed {seed}: {}", distance(&fp, &other));
            assert!(gallery.find(&other, DEFAULT_MAX_DISTANCE).is_none());
            gallery.insert("other", other);
        }
        let (id, m) = gallery.find(&fingerprint(&enlarged, bw, bh), DEFAULT_MAX_DISTANCE).unwrap();
        assert_eq!(*id, "original");
        assert!(m.mirrored);
        assert_eq!(gallery.len(), 11);
    }

    #[test]
    fn the_face_region_is_hashed() {
        // The same picture pasted at different places of different backgrounds matches through its face box.
        let (w, h) = (60, 60);
        let face = picture(5, w, h);
        let paste = |bg_seed: u64, ox: u32, oy: u32| {
            let (bw, bh) = (200u32, 160u32);
            let mut canvas = picture(bg_seed, bw, bh);
            for y in 0..h {
                let src = &face[(y * w * 4) as usize..((y + 1) * w * 4) as usize];
                let at = (((oy + y) * bw + ox) * 4) as usize;
                canvas[at..at + src.len()].copy_from_slice(src);
            }
            let frame_box = FaceBox { x: f64::from(ox + 10), y: f64::from(oy + 10), width: 40.0, height: 40.0 };
            let frame = Frame::packed(&canvas, bw, bh).unwrap();
            (ImageFingerprint::of(&frame, Some(frame_box)).unwrap(), ImageFingerprint::of(&frame, None).unwrap())
        };
        let (a_face, a_whole) = paste(20, 10, 20);
        let (b_face, b_whole) = paste(21, 120, 70);
        assert_eq!(distance(&a_face, &b_face), 0);
        assert!(distance(&a_whole, &b_whole) > DEFAULT_MAX_DISTANCE);
    }

    #[test]
    fn bad_boxes_are_refused() {
        let px = picture(3, 20, 10);
        let frame = Frame::packed(&px, 20, 10).unwrap();
        for b in [
            FaceBox { x: f64::NAN, y: 0.0, width: 5.0, height: 5.0 },
            FaceBox { x: 0.0, y: 0.0, width: 0.0, height: 5.0 },
            FaceBox { x: 0.0, y: 0.0, width: 5.0, height: -1.0 },
            FaceBox { x: 100.0, y: 0.0, width: 5.0, height: 5.0 },
            FaceBox { x: 0.0, y: -50.0, width: 5.0, height: 5.0 },
            FaceBox { x: 0.0, y: 0.0, width: f64::INFINITY, height: 5.0 },
        ] {
            assert_eq!(ImageFingerprint::of(&frame, Some(b)), Err(LivenessError::BadFaceBox), "{b:?}");
        }
        // A box larger than the frame is clipped to it.
        let huge = FaceBox { x: -1e9, y: -1e9, width: 2e9, height: 2e9 };
        assert_eq!(ImageFingerprint::of(&frame, Some(huge)).unwrap(), ImageFingerprint::of(&frame, None).unwrap());
    }

    #[test]
    fn flat_pictures_hash_to_zero_and_the_empty_gallery_finds_nothing() {
        let px = vec![90u8; 30 * 30 * 4];
        let fp = fingerprint(&px, 30, 30);
        assert_eq!(fp.bits(), [0; 4]);
        assert_eq!(fp.mirrored_bits(), [0; 4]);
        let gallery: KnownImages<u32> = KnownImages::new();
        assert!(gallery.is_empty() && gallery.nearest(&fp).is_none() && gallery.find(&fp, HASH_BITS).is_none());
    }

    proptest! {
        #[test]
        fn any_frame_and_box_is_handled(
            w in 1u32..40, h in 1u32..40, seed in any::<u64>(),
            x in -100.0f64..100.0, y in -100.0f64..100.0, bw in -5.0f64..80.0, bh in -5.0f64..80.0,
        ) {
            let px = picture(seed, w, h);
            let frame = Frame::packed(&px, w, h).unwrap();
            let whole = ImageFingerprint::of(&frame, None).unwrap();
            prop_assert!(distance(&whole, &whole) == 0);
            if let Ok(fp) = ImageFingerprint::of(&frame, Some(FaceBox { x, y, width: bw, height: bh })) {
                prop_assert!(distance(&fp, &whole) <= HASH_BITS);
            }
        }
    }
}
