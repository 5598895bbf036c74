//! RGBA → luma working image with resolution normalisation.
//!
//! Every metric runs on a *working image*: the frame reduced by an integer area-average factor so that its
//! longer side is at most [`WORKING_MAX_SIDE`] pixels (1280x720 → 640x360, 1920x1080 → 640x360, 640x480
//! unchanged). This makes the metrics comparable across camera resolutions and bounds the per-frame cost.
//!
//! Luma uses integer Rec.601 weights: `(77 R + 150 G + 29 B) >> 8`. For a downscale block the weighted sums
//! of all block pixels are divided once (truncating), which equals the `>> 8` formula for factor 1.
//! Alongside luma the working image stores a *chroma spread* plane: `max(R, G, B) - min(R, G, B)` of the
//! block-average colour, used by glare detection to tell white specular highlights from bright colours
//! (computed only for pixels bright enough to be glare, [`SPREAD_MIN_LUMA`]; 0 elsewhere).
//! All arithmetic is integer, so results are bit-identical on every target.

use crate::frame::{BYTES_PER_PIXEL, Frame};

/// The chroma spread is computed only for pixels at least this bright (0 elsewhere): its one use is
/// telling white specular glare (luma ≥ [`GLARE_LUMA`](crate::glare::GLARE_LUMA)) from bright colours,
/// and skipping it for the other pixels saves three divisions each.
pub const SPREAD_MIN_LUMA: u8 = crate::glare::GLARE_LUMA;

/// Longest side of the working image.
pub const WORKING_MAX_SIDE: u32 = 640;

/// Integer Rec.601 luma of one pixel: `(77 R + 150 G + 29 B) >> 8`.
#[inline]
pub const fn rec601_luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * r as u32 + 150 * g as u32 + 29 * b as u32) >> 8) as u8
}

/// Integer area-downscale factor that brings the longer side to at most `max_side` (at least 1).
pub fn downscale_factor(width: u32, height: u32, max_side: u32) -> u32 {
    let longest = width.max(height);
    let max_side = max_side.max(1);
    longest.div_ceil(max_side).max(1)
}

/// Exact unsigned division by a fixed divisor via multiply-and-shift (a plain `/` is several times slower
/// and runs once per working pixel and channel).
///
/// With `m = ceil(2^40 / d)` and `e = m d - 2^40 < d`, `x m / 2^40 = x / d + x e / (d 2^40)`, which has the
/// same floor as `x / d` whenever `x e < 2^40`; `x d <= 2^40` suffices. For larger operands it falls back to
/// `/`. Either way the result is the exact integer quotient, so it is identical on every target.
#[derive(Debug, Clone, Copy)]
struct ExactDiv {
    d: u32,
    m: u64,
    fast: bool,
}

impl ExactDiv {
    /// Divider by `d` (>= 1) for dividends up to `max_x`.
    fn new(d: u32, max_x: u32) -> Self {
        let d = d.max(1);
        let fast = u64::from(max_x) * u64::from(d) <= 1 << 40;
        ExactDiv { d, m: (1u64 << 40).div_ceil(u64::from(d)), fast }
    }

    #[inline]
    fn div(self, x: u32) -> u32 {
        if self.fast { ((u64::from(x) * self.m) >> 40) as u32 } else { x / self.d }
    }
}

/// Adds the R, G, B sums of consecutive `N`-pixel blocks of `row` to `acc` (3 sums per block).
#[inline]
/// `FIRST`: the first source row of an output row stores its sums (no clearing pass needed); later rows add.
fn accumulate_row<const N: usize, const FIRST: bool>(acc: &mut [u32], row: &[u8]) {
    for (a, block) in acc.chunks_exact_mut(3).zip(row.chunks_exact(N * BYTES_PER_PIXEL)) {
        let (mut r, mut g, mut b) = (0u32, 0u32, 0u32);
        for k in 0..N {
            r += u32::from(block[k * 4]);
            g += u32::from(block[k * 4 + 1]);
            b += u32::from(block[k * 4 + 2]);
        }
        if FIRST {
            a.copy_from_slice(&[r, g, b]);
        } else {
            a[0] += r;
            a[1] += g;
            a[2] += b;
        }
    }
}

/// [`accumulate_row`] for a block width only known at run time.
fn accumulate_row_dyn(acc: &mut [u32], row: &[u8], bw: usize) {
    for (a, block) in acc.chunks_exact_mut(3).zip(row.chunks_exact(bw * BYTES_PER_PIXEL)) {
        for px in block.chunks_exact(BYTES_PER_PIXEL) {
            a[0] += u32::from(px[0]);
            a[1] += u32::from(px[1]);
            a[2] += u32::from(px[2]);
        }
    }
}

/// A reusable single-channel working image (luma plus chroma spread), row-major, no padding.
///
/// Buffers are only grown, never shrunk, so re-filling it with frames of the same size allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct WorkingImage {
    width: u32,
    height: u32,
    factor: u32,
    luma: Vec<u8>,
    spread: Vec<u8>,
    /// Per-output-column R, G, B sums while downscaling.
    acc: Vec<u32>,
}

impl WorkingImage {
    /// An empty (0x0) image without allocation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds an image from a luma plane (spread set to 0). Returns `None` if `luma.len() != width * height`.
    pub fn from_luma(width: u32, height: u32, luma: Vec<u8>) -> Option<Self> {
        if luma.len() != (width as usize).checked_mul(height as usize)? {
            return None;
        }
        let spread = vec![0; luma.len()];
        Some(WorkingImage { width, height, factor: 1, luma, spread, acc: Vec::new() })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Downscale factor used to produce this image from its frame (1 = full resolution).
    pub fn factor(&self) -> u32 {
        self.factor
    }

    /// Number of pixels (`width * height`).
    pub fn len(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// True if the image has no pixels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Luma plane, `width * height` bytes, row-major.
    pub fn luma(&self) -> &[u8] {
        &self.luma[..self.len()]
    }

    /// Chroma-spread plane (`max - min` of the average R, G, B where luma ≥ [`SPREAD_MIN_LUMA`], else 0),
    /// same layout as [`luma`](Self::luma);
    /// empty after [`fill_luma_full_resolution`](Self::fill_luma_full_resolution).
    pub fn spread(&self) -> &[u8] {
        self.spread.get(..self.len()).unwrap_or(&[])
    }

    /// Capacities of the internal buffers (for allocation tests).
    pub fn capacities(&self) -> [usize; 3] {
        [self.luma.capacity(), self.spread.capacity(), self.acc.capacity()]
    }

    /// Fills this image from `frame`, area-averaging `factor x factor` blocks (`factor` 0 is treated as 1).
    ///
    /// The output is `max(1, width / factor) x max(1, height / factor)`; trailing source pixels that do not
    /// fill a whole block are dropped (at most `factor - 1` columns/rows), except that a side shorter than
    /// `factor` becomes one partial block.
    pub fn fill_from_frame(&mut self, frame: &Frame<'_>, factor: u32) {
        let factor = factor.max(1);
        let (w, h) = (frame.width(), frame.height());
        let out_w = (w / factor).max(1);
        let out_h = (h / factor).max(1);
        self.width = out_w;
        self.height = out_h;
        self.factor = factor;
        let n = out_w as usize * out_h as usize;
        self.luma.resize(n, 0);
        self.spread.resize(n, 0);

        if factor == 1 {
            self.fill_full_resolution(frame);
            return;
        }

        // Per output row: accumulate R, G, B sums per output column over the block's source rows, then
        // divide once per output pixel.
        let f = factor as usize;
        let ow = out_w as usize;
        let bw = f.min(w as usize); // block width in source pixels
        let bh = f.min(h as usize);
        let count = (bw * bh) as u32;
        let luma_div = ExactDiv::new(count << 8, 65_280 * count);
        let chan_div = ExactDiv::new(count, 255 * count);
        self.acc.clear();
        self.acc.resize(ow * 3, 0);
        for oy in 0..out_h as usize {
            for y in oy * f..oy * f + bh {
                let first = y == oy * f;
                // Rows always exist (y < height), so the first row always stores.
                let Some(row) = frame.row(y as u32) else { continue };
                match (bw, first) {
                    (2, true) => accumulate_row::<2, true>(&mut self.acc, row),
                    (2, false) => accumulate_row::<2, false>(&mut self.acc, row),
                    (3, true) => accumulate_row::<3, true>(&mut self.acc, row),
                    (3, false) => accumulate_row::<3, false>(&mut self.acc, row),
                    (4, true) => accumulate_row::<4, true>(&mut self.acc, row),
                    (4, false) => accumulate_row::<4, false>(&mut self.acc, row),
                    (_, first) => {
                        if first {
                            self.acc.fill(0);
                        }
                        accumulate_row_dyn(&mut self.acc, row, bw)
                    }
                }
            }
            let luma = &mut self.luma[oy * ow..(oy + 1) * ow];
            let spread = &mut self.spread[oy * ow..(oy + 1) * ow];
            for ((a, l), s) in self.acc.chunks_exact(3).zip(luma).zip(spread) {
                let y = luma_div.div(77 * a[0] + 150 * a[1] + 29 * a[2]) as u8;
                *l = y;
                *s = if y >= SPREAD_MIN_LUMA {
                    let (r, g, b) = (chan_div.div(a[0]), chan_div.div(a[1]), chan_div.div(a[2]));
                    (r.max(g).max(b) - r.min(g).min(b)) as u8
                } else {
                    0
                };
            }
        }
    }

    /// Fills only the luma plane from `frame` at full resolution (factor 1); the spread plane is left
    /// empty. For measures that need luma alone (document sharpness), at half the cost of a full fill.
    pub fn fill_luma_full_resolution(&mut self, frame: &Frame<'_>) {
        let (w, h) = (frame.width(), frame.height());
        self.width = w;
        self.height = h;
        self.factor = 1;
        self.luma.resize(w as usize * h as usize, 0);
        self.spread.clear();
        for y in 0..h {
            let Some(row) = frame.row(y) else { continue };
            let start = y as usize * w as usize;
            for (px, l) in row.chunks_exact(BYTES_PER_PIXEL).zip(&mut self.luma[start..start + w as usize]) {
                *l = rec601_luma(px[0], px[1], px[2]);
            }
        }
    }

    fn fill_full_resolution(&mut self, frame: &Frame<'_>) {
        let w = self.width as usize;
        for y in 0..self.height {
            let Some(row) = frame.row(y) else { continue };
            let start = y as usize * w;
            let luma = &mut self.luma[start..start + w];
            let spread = &mut self.spread[start..start + w];
            for ((px, l), s) in row.chunks_exact(BYTES_PER_PIXEL).zip(luma).zip(spread) {
                let (r, g, b) = (px[0], px[1], px[2]);
                *l = rec601_luma(r, g, b);
                *s = if *l >= SPREAD_MIN_LUMA { r.max(g).max(b) - r.min(g).min(b) } else { 0 };
            }
        }
    }
}

impl PartialEq for WorkingImage {
    /// Images are equal when size, factor and pixel planes are equal (scratch buffers are ignored).
    fn eq(&self, other: &Self) -> bool {
        (self.width, self.height, self.factor) == (other.width, other.height, other.factor)
            && self.luma() == other.luma()
            && self.spread() == other.spread()
    }
}

impl Eq for WorkingImage {}

/// Convenience: the working image of `frame` at the standard normalised resolution.
pub fn working_image(frame: &Frame<'_>) -> WorkingImage {
    let mut img = WorkingImage::new();
    let factor = downscale_factor(frame.width(), frame.height(), WORKING_MAX_SIDE);
    img.fill_from_frame(frame, factor);
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn luma_weights() {
        assert_eq!(rec601_luma(255, 255, 255), 255);
        assert_eq!(rec601_luma(0, 0, 0), 0);
        assert_eq!(rec601_luma(255, 0, 0), 76);
        assert_eq!(rec601_luma(0, 255, 0), 149);
        assert_eq!(rec601_luma(0, 0, 255), 28);
    }

    #[test]
    fn exact_div_matches_division() {
        for count in 1u32..=300 {
            for (d, max_x) in [(count << 8, 65_280 * count), (count, 255 * count)] {
                let div = ExactDiv::new(d, max_x);
                for k in 0..=255u32 {
                    for x in [k * d, (k * d).saturating_sub(1), k * d + d / 2] {
                        if x <= max_x {
                            assert_eq!(div.div(x), x / d, "x={x} d={d}");
                        }
                    }
                }
                assert_eq!(div.div(max_x), max_x / d);
            }
        }
    }

    #[test]
    fn factors() {
        assert_eq!(downscale_factor(1280, 720, 640), 2);
        assert_eq!(downscale_factor(1920, 1080, 640), 3);
        assert_eq!(downscale_factor(640, 480, 640), 1);
        assert_eq!(downscale_factor(641, 480, 640), 2);
        assert_eq!(downscale_factor(1, 1, 0), 1);
    }

    #[test]
    fn downscale_averages_blocks() {
        // 4x2 frame, factor 2: left block white, right block half black/half white.
        let mut data = vec![255u8; 4 * 2 * 4];
        for y in 0..2 {
            for c in 0..3 {
                data[y * 16 + 2 * 4 + c] = 0;
            }
        }
        let frame = Frame::packed(&data, 4, 2).unwrap();
        let mut img = WorkingImage::new();
        img.fill_from_frame(&frame, 2);
        assert_eq!((img.width(), img.height()), (2, 1));
        assert_eq!(img.luma(), &[255, 127]);
        assert_eq!(img.spread(), &[0, 0]);
    }

    #[test]
    fn padded_stride_and_spread() {
        // 2x2 frame with 3 bytes of padding per row.
        let stride = 11;
        let mut data = vec![99u8; stride + 8];
        data[..8].copy_from_slice(&[200, 100, 50, 255, 255, 255, 230, 255]);
        data[stride..stride + 8].copy_from_slice(&[0, 0, 0, 255, 255, 255, 255, 255]);
        let frame = Frame::new(&data, 2, 2, stride).unwrap();
        let img = working_image(&frame);
        assert_eq!(img.luma(), &[rec601_luma(200, 100, 50), rec601_luma(255, 255, 230), 0, 255]);
        // Spread where the pixel is bright enough to be glare (the cream pixel: 255 - 230), 0 elsewhere.
        assert!(rec601_luma(255, 255, 230) >= SPREAD_MIN_LUMA && rec601_luma(200, 100, 50) < SPREAD_MIN_LUMA);
        assert_eq!(img.spread(), &[0, 25, 0, 0]);
    }

    #[test]
    fn reuse_does_not_reallocate() {
        let data = vec![128u8; 1280 * 720 * 4];
        let frame = Frame::packed(&data, 1280, 720).unwrap();
        let mut img = WorkingImage::new();
        img.fill_from_frame(&frame, 2);
        let caps = img.capacities();
        img.fill_from_frame(&frame, 2);
        assert_eq!(caps, img.capacities());
        assert_eq!((img.width(), img.height()), (640, 360));
    }

    proptest! {
        #[test]
        fn any_shape_no_panic(w in 1u32..40, h in 1u32..40, pad in 0usize..5, factor in 0u32..50, v in any::<u8>()) {
            let stride = w as usize * 4 + pad;
            let data = vec![v; stride * h as usize];
            let frame = Frame::new(&data, w, h, stride).unwrap();
            let mut img = WorkingImage::new();
            img.fill_from_frame(&frame, factor);
            prop_assert!(img.width() >= 1 && img.height() >= 1);
            let expected = rec601_luma(v, v, v);
            prop_assert!(img.luma().iter().all(|&l| l == expected));
        }
    }
}
