//! A classical locator of long, horizontal text lines (the MRZ's), without the text detector:
//! on a small grey copy of the photo, a morphological black-hat (closing minus image) keeps dark
//! strokes thinner than a character, its horizontal gradient marks the many vertical stroke edges
//! of printed text, a horizontal closing joins the characters of a line into one bar, Otsu's
//! threshold separates the bars, and each connected bar much wider than high is a candidate line
//! (the recipe of the classic OpenCV MRZ finder, with the lines kept apart instead of joined into
//! one block). The boxes get the margin the detector's boxes have, so the recogniser sees the same
//! kind of crop. Only horizontal lines are found (a photo turned a quarter has none).

use image::RgbImage;

use super::det::TextBox;

/// Longest side of the working grey image (the photo is reduced by area averaging).
pub const WORK_SIDE: u32 = 512;
/// Black-hat structuring element (width, height) at [`WORK_SIDE`]: wider and taller than a
/// stroke of an MRZ character.
const BLACKHAT: (usize, usize) = (13, 5);
/// Width of the horizontal closing that joins the characters of a line (about 1.5 character
/// pitches of a full-width MRZ at [`WORK_SIDE`]).
const JOIN: usize = 15;
/// Height at [`WORK_SIDE`] from which a vertical edge counts as a border, not a character stroke
/// (about twice the height of the largest MRZ characters there).
const VERTICAL_LINE: usize = 31;
/// A candidate line is at least this many times wider than high.
const MIN_ASPECT: f32 = 12.0;
/// A candidate line spans at least this share of the working image's width.
const MIN_WIDTH_SHARE: f32 = 0.25;
/// Share of a candidate's bounding box its bar must fill.
const MIN_FILL: f32 = 0.5;
/// Margin added around a found bar, in bar heights: (horizontal, vertical), like the detector's
/// unclipped boxes.
const MARGIN: (f32, f32) = (0.5, 0.3);

/// A grey image as f32 rows.
struct Grey {
    w: usize,
    h: usize,
    px: Vec<f32>,
}

impl Grey {
    fn at(&self, x: usize, y: usize) -> f32 {
        self.px.get(y * self.w + x).copied().unwrap_or(0.0)
    }
}

/// The photo's luma reduced by area averaging so its longest side is at most [`WORK_SIDE`];
/// also the scale from working to photo pixels.
fn reduce(img: &RgbImage) -> (Grey, f32) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let scale = (w.max(h) as f32 / WORK_SIDE as f32).max(1.0);
    let tw = ((w as f32 / scale).round() as usize).clamp(1, w.max(1));
    let th = ((h as f32 / scale).round() as usize).clamp(1, h.max(1));
    let raw = img.as_raw();
    let luma = |x: usize, y: usize| -> f32 {
        let i = 3 * (y * w + x);
        match raw.get(i..i + 3) {
            Some(&[r, g, b]) => 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b),
            _ => 0.0,
        }
    };
    // Source ranges of each target column and row.
    let ranges = |n: usize, tn: usize| -> Vec<(usize, usize)> {
        (0..tn)
            .map(|t| {
                let a = t * n / tn;
                let b = ((t + 1) * n).div_ceil(tn).clamp(a + 1, n.max(a + 1));
                (a, b)
            })
            .collect()
    };
    let (cols, rows) = (ranges(w, tw), ranges(h, th));
    // Horizontal pass into th-independent column sums per source row, then the vertical pass.
    let mut horiz = vec![0f32; tw * h];
    for y in 0..h {
        for (tx, &(a, b)) in cols.iter().enumerate() {
            let sum: f32 = (a..b.min(w)).map(|x| luma(x, y)).sum();
            if let Some(slot) = horiz.get_mut(y * tw + tx) {
                *slot = sum / (b - a) as f32;
            }
        }
    }
    let mut px = vec![0f32; tw * th];
    for (ty, &(a, b)) in rows.iter().enumerate() {
        for tx in 0..tw {
            let sum: f32 = (a..b.min(h)).map(|y| horiz.get(y * tw + tx).copied().unwrap_or(0.0)).sum();
            if let Some(slot) = px.get_mut(ty * tw + tx) {
                *slot = sum / (b - a) as f32;
            }
        }
    }
    (Grey { w: tw, h: th, px }, scale)
}

/// Running maximum (`max = true`) or minimum of `src` over a window of `2r + 1` samples centred
/// on each one (clipped at the ends), into `dst` (same length), by van Herk / Gil–Werman: a
/// prefix and a suffix extremum per block of the window's length, so each output costs three
/// comparisons whatever the window. `scratch` holds three reusable buffers.
fn running_extremum(src: &[f32], dst: &mut [f32], r: usize, max: bool, scratch: &mut [Vec<f32>; 3]) {
    let pick = |a: f32, b: f32| if max { a.max(b) } else { a.min(b) };
    let init = if max { f32::MIN } else { f32::MAX };
    let k = 2 * r + 1;
    let [pad, pre, suf] = scratch;
    // The source with `r` neutral values before and enough after to fill whole blocks.
    let len = (src.len() + 2 * r).div_ceil(k) * k;
    pad.clear();
    pad.resize(r, init);
    pad.extend_from_slice(src);
    pad.resize(len, init);
    pre.clear();
    pre.extend_from_slice(pad);
    suf.clear();
    suf.extend_from_slice(pad);
    for (p, s) in pre.chunks_mut(k).zip(suf.chunks_mut(k)) {
        for i in 1..p.len() {
            p[i] = pick(p[i], p[i - 1]);
        }
        for i in (0..s.len().saturating_sub(1)).rev() {
            s[i] = pick(s[i], s[i + 1]);
        }
    }
    // The window of output i is padded i..=i + 2r: the suffix of i's block and the prefix of
    // the block holding i + 2r cover it exactly.
    for (i, d) in dst.iter_mut().enumerate() {
        *d = match (suf.get(i), pre.get(i + 2 * r)) {
            (Some(&a), Some(&b)) => pick(a, b),
            _ => init,
        };
    }
}

/// Running maximum (`max = true`) or minimum over a `kw`×`kh` window centred on each pixel
/// (separable; the window is clipped at the borders).
fn extremum(g: &Grey, kw: usize, kh: usize, max: bool) -> Grey {
    let (w, h) = (g.w, g.h);
    let mut scratch: [Vec<f32>; 3] = Default::default();
    let mut tmp = vec![0f32; w * h];
    for (src, dst) in g.px.chunks(w.max(1)).zip(tmp.chunks_mut(w.max(1))) {
        running_extremum(src, dst, kw / 2, max, &mut scratch);
    }
    let mut out = vec![0f32; w * h];
    let (mut column, mut result) = (vec![0f32; h], vec![0f32; h]);
    for x in 0..w {
        for (y, c) in column.iter_mut().enumerate() {
            *c = tmp.get(y * w + x).copied().unwrap_or(0.0);
        }
        running_extremum(&column, &mut result, kh / 2, max, &mut scratch);
        for (y, &v) in result.iter().enumerate() {
            if let Some(slot) = out.get_mut(y * w + x) {
                *slot = v;
            }
        }
    }
    Grey { w, h, px: out }
}

/// Grey closing (maximum, then minimum) with a `kw`×`kh` window.
fn closing(g: &Grey, kw: usize, kh: usize) -> Grey {
    extremum(&extremum(g, kw, kh, true), kw, kh, false)
}

/// Otsu's threshold of values in `0..=max` (256 bins): values at or above it are the bright class.
fn otsu(values: &[f32], max: f32) -> f32 {
    if max <= 0.0 {
        return 0.0;
    }
    let mut hist = [0u64; 256];
    for &v in values {
        let bin = ((v / max) * 255.0).clamp(0.0, 255.0) as usize;
        if let Some(c) = hist.get_mut(bin) {
            *c += 1;
        }
    }
    let total = values.len() as f64;
    let sum_all: f64 = hist.iter().enumerate().map(|(i, &c)| i as f64 * c as f64).sum();
    let (mut w0, mut sum0, mut best, mut best_t) = (0f64, 0f64, -1f64, 0usize);
    for (t, &c) in hist.iter().enumerate() {
        w0 += c as f64;
        sum0 += t as f64 * c as f64;
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0, (sum_all - sum0) / w1);
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            best_t = t;
        }
    }
    (best_t as f32 + 1.0) / 255.0 * max
}

/// The text-bar mask of a working image: black-hat, horizontal gradient, horizontal closing,
/// Otsu threshold.
fn bar_mask(g: &Grey) -> Vec<bool> {
    let closed = closing(g, BLACKHAT.0, BLACKHAT.1);
    let blackhat = Grey { w: g.w, h: g.h, px: closed.px.iter().zip(&g.px).map(|(c, v)| (c - v).max(0.0)).collect() };
    // |Scharr x| of the black-hat.
    let (w, h) = (g.w, g.h);
    let mut grad = vec![0f32; w * h];
    for y in 0..h {
        let (ya, yb) = (y.saturating_sub(1), (y + 1).min(h.saturating_sub(1)));
        for x in 0..w {
            let (xa, xb) = (x.saturating_sub(1), (x + 1).min(w.saturating_sub(1)));
            let d = |yy: usize| blackhat.at(xb, yy) - blackhat.at(xa, yy);
            if let Some(slot) = grad.get_mut(y * w + x) {
                *slot = (3.0 * d(ya) + 10.0 * d(y) + 3.0 * d(yb)).abs();
            }
        }
    }
    // Long vertical edges (a card's border, a photo's frame) are not text: a vertical opening
    // keeps only them, and they are taken out, so a line is not joined to a border it is close to.
    let grad = Grey { w, h, px: grad };
    let tall = extremum(&extremum(&grad, 1, VERTICAL_LINE, false), 1, VERTICAL_LINE, true);
    let grad = Grey { w, h, px: grad.px.iter().zip(&tall.px).map(|(g, t)| (g - t).max(0.0)).collect() };
    let joined = closing(&grad, JOIN, 1);
    let max = joined.px.iter().copied().fold(0.0f32, f32::max);
    let t = otsu(&joined.px, max);
    joined.px.iter().map(|&v| max > 0.0 && v >= t).collect()
}

/// Bounding boxes `(x0, y0, x1, y1)` (exclusive ends) and pixel counts of the 4-connected
/// components of a mask.
fn components(mask: &[bool], w: usize, h: usize) -> Vec<((usize, usize, usize, usize), usize)> {
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !mask.get(start).copied().unwrap_or(false) || seen.get(start).copied().unwrap_or(true) {
            continue;
        }
        let (mut x0, mut y0, mut x1, mut y1, mut n) = (usize::MAX, usize::MAX, 0usize, 0usize, 0usize);
        if let Some(s) = seen.get_mut(start) {
            *s = true;
        }
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
            n += 1;
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then(|| i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then(|| i + w),
            ];
            for j in neighbours.into_iter().flatten() {
                if mask.get(j).copied().unwrap_or(false) && !seen.get(j).copied().unwrap_or(true) {
                    if let Some(s) = seen.get_mut(j) {
                        *s = true;
                    }
                    stack.push(j);
                }
            }
        }
        out.push(((x0, y0, x1, y1), n));
    }
    out
}

/// Long horizontal text lines of a photo, top to bottom, in photo pixels (boxes with the
/// detector's kind of margin, clamped to the photo): candidates for the lines of an MRZ band.
pub fn long_lines(img: &RgbImage) -> Vec<TextBox> {
    if img.width() < 8 || img.height() < 8 {
        return Vec::new();
    }
    let (g, scale) = reduce(img);
    let mask = bar_mask(&g);
    let (iw, ih) = (img.width() as f32, img.height() as f32);
    let mut out: Vec<TextBox> = components(&mask, g.w, g.h)
        .into_iter()
        .filter_map(|((x0, y0, x1, y1), n)| {
            let (bw, bh) = ((x1 - x0) as f32, (y1 - y0) as f32);
            let fill = n as f32 / (bw * bh).max(1.0);
            let keep = bh >= 3.0 && bw >= MIN_ASPECT * bh && bw >= MIN_WIDTH_SHARE * g.w as f32 && fill >= MIN_FILL;
            keep.then(|| {
                let (mx, my) = (MARGIN.0 * bh, MARGIN.1 * bh);
                TextBox {
                    x0: ((x0 as f32 - mx) * scale).max(0.0),
                    y0: ((y0 as f32 - my) * scale).max(0.0),
                    x1: ((x1 as f32 + mx) * scale).min(iw),
                    y1: ((y1 as f32 + my) * scale).min(ih),
                    score: fill,
                }
            })
        })
        .collect();
    out.sort_by(|a, b| a.y0.total_cmp(&b.y0));
    out
}

/// The crop of a found line the recogniser reads: the box grown vertically (centred, within the
/// photo) so that, resized to the recogniser's height, it fills one of its input widths exactly
/// (`buckets`, ascending) — the narrowest that needs at most `max_growth` times the box's height.
/// The recogniser's cost grows with its input width; a little more margin above and below an MRZ
/// line (whose neighbours are a line pitch away) makes the line narrower at that height, and the
/// input holds (but for a photo too narrow) no zero padding: the box is also widened by the few
/// pixels the rounding leaves. When no narrower width is within reach, the box is returned
/// unchanged (it is zero padded to its width as before). Integer pixel geometry, like
/// [`super::OcrEngine::crop`].
pub fn fit_to_width(b: &TextBox, img_w: u32, img_h: u32, height: u32, buckets: &[u32], max_growth: f32) -> TextBox {
    let x0 = b.x0.max(0.0) as u32;
    let y0 = b.y0.max(0.0) as u32;
    let x1 = (b.x1.ceil().max(0.0) as u32).min(img_w);
    let y1 = (b.y1.ceil().max(0.0) as u32).min(img_h);
    if x1 <= x0 + 2 || y1 <= y0 + 2 {
        return *b;
    }
    let (w, h) = (u64::from(x1 - x0), u64::from(y1 - y0));
    let height = u64::from(height.max(1));
    // The width this crop has at the recogniser's height, as the recogniser's resize rounds it.
    let natural = (w * height).div_ceil(h);
    let limit = (h as f32 * max_growth.max(1.0)).floor() as u64;
    for &bucket in buckets {
        let bucket = u64::from(bucket.max(1));
        if bucket >= natural {
            break;
        }
        // Smallest crop height at which `w` pixels fit into `bucket` at the recogniser's height.
        let need = (w * height).div_ceil(bucket);
        if need > limit || need > u64::from(img_h) {
            continue;
        }
        // Shift down or up when the grown box would leave the photo.
        let top = u64::from(y0).saturating_sub((need - h) / 2).min(u64::from(img_h) - need);
        // Widened by the few pixels the rounding of `need` leaves, so the width is filled exactly.
        let wide = (bucket * need / height).clamp(w, u64::from(img_w));
        let left = u64::from(x0).saturating_sub((wide - w) / 2).min(u64::from(img_w) - wide);
        let f = |v: u64| v as f32;
        return TextBox { x0: f(left), y0: f(top), x1: f(left + wide), y1: f(top + need), score: b.score };
    }
    *b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A light page with dark "characters" (small blocks with a gap) along rows.
    fn page(w: u32, h: u32, rows: &[(u32, u32, u32, u32)]) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let ink = rows.iter().any(|&(rx0, rx1, ry, rh)| {
                (rx0..rx1).contains(&x) && (ry..ry + rh).contains(&y) && {
                    // 12-px pitch characters made of two 2-px vertical strokes.
                    let p = (x - rx0) % 12;
                    p < 2 || (5..7).contains(&p)
                }
            });
            image::Rgb(if ink { [30, 30, 40] } else { [225, 220, 210] })
        })
    }

    #[test]
    fn finds_two_long_lines_and_not_short_ones() {
        // 500x330: a short visual-zone line, then two long MRZ lines near the bottom.
        let img = page(500, 330, &[(40, 140, 80, 12), (20, 480, 250, 14), (20, 478, 280, 14)]);
        let lines = long_lines(&img);
        assert_eq!(lines.len(), 2, "{lines:?}");
        for (l, y) in lines.iter().zip([250.0, 280.0]) {
            assert!(l.x0 <= 20.0 && l.x1 >= 470.0, "{l:?}");
            assert!(l.y0 <= y && l.y1 >= y + 14.0 && l.height() < 28.0, "{l:?}");
        }
        assert!(lines[0].y1 <= lines[1].y0 + 8.0, "{lines:?}");
    }

    #[test]
    fn scales_back_to_photo_pixels() {
        // The same page at twice the size: boxes in the large photo's pixels.
        let img = page(1000, 660, &[(40, 960, 500, 28), (40, 956, 560, 28)]);
        let lines = long_lines(&img);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].x0 <= 40.0 && lines[0].x1 >= 940.0 && lines[0].y0 <= 500.0, "{lines:?}");
        assert!(lines[1].y1 >= 588.0 && lines[1].y1 <= 620.0, "{lines:?}");
    }

    #[test]
    fn blank_tiny_and_noisy_images_give_no_line() {
        assert!(long_lines(&RgbImage::from_pixel(300, 200, image::Rgb([200, 200, 200]))).is_empty());
        assert!(long_lines(&RgbImage::new(4, 4)).is_empty());
        assert!(long_lines(&RgbImage::new(1, 900)).is_empty());
        // Salt-and-pepper noise: no long bar.
        let mut state = 12345u32;
        let noisy = RgbImage::from_fn(400, 300, |_, _| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let v = if (state >> 16).is_multiple_of(7) { 20 } else { 220 };
            image::Rgb([v, v, v])
        });
        assert!(long_lines(&noisy).is_empty(), "{:?}", long_lines(&noisy));
    }

    /// Ink rows of the two MRZ lines of `tests/fixtures/synthetic_td3.jpg` (1000×660, OCR-B-like
    /// monospace, measured on the file): 507..=531 and 567..=591, columns 40..940.
    const FIXTURE_INK: [(u32, u32); 2] = [(507, 531), (567, 591)];

    fn fixture() -> RgbImage {
        crate::ocr::decode_image(include_bytes!("../../tests/fixtures/synthetic_td3.jpg")).expect("fixture decodes")
    }

    #[test]
    fn pins_the_crop_geometry_on_a_synthetic_mrz() {
        let img = fixture();
        let lines = long_lines(&img);
        assert_eq!(lines.len(), 2, "{lines:?}");
        let (buckets, height) = (&crate::ocr::rec::WIDTH_BUCKETS, crate::ocr::rec::HEIGHT);
        for (i, (l, &(top, bottom))) in lines.iter().zip(&FIXTURE_INK).enumerate() {
            // The located box holds the whole line with a margin, and none of its neighbour's ink.
            assert!(l.x0 <= 32.0 && l.x1 >= 948.0, "{l:?}");
            assert!(l.y0 <= top as f32 - 2.0 && l.y1 >= bottom as f32 + 3.0, "{l:?}");
            assert!(l.height() <= 1.8 * (bottom - top + 1) as f32, "{l:?}");
            // The crop the recogniser reads: taller, centred on the line, exactly one input width
            // wide at the recogniser's height, still clear of the neighbouring line's ink.
            let f = fit_to_width(l, img.width(), img.height(), height, buckets, 1.45);
            let (w, h) = (f.width() as u32, f.height() as u32);
            let scaled = (w * height).div_ceil(h);
            assert!(buckets.contains(&scaled), "{i}: {f:?} is {scaled} wide at height {height}");
            assert!(scaled < (l.width() * height as f32 / l.height()).ceil() as u32, "{i}: {f:?} not narrower");
            assert!(f.x0 <= l.x0 && f.x1 >= l.x1 && f.width() <= l.width() + 0.05 * l.width(), "{i}: {f:?}");
            assert!(f.y0 <= l.y0 && f.y1 >= l.y1 && f.height() <= 1.45 * l.height().ceil(), "{i}: {f:?}");
            let centre = |b: &TextBox| (b.y0 + b.y1) / 2.0;
            assert!((centre(&f) - centre(l)).abs() <= 1.0, "{i}: {f:?} {l:?}");
            let neighbour = FIXTURE_INK[1 - i];
            assert!(f.y1 < neighbour.0 as f32 || f.y0 > neighbour.1 as f32, "{i}: {f:?} reaches the other line");
        }
        // Growth 1 leaves the boxes alone.
        for l in &lines {
            assert_eq!(fit_to_width(l, img.width(), img.height(), height, buckets, 1.0), *l);
        }
    }

    #[test]
    fn fitting_stays_inside_the_photo() {
        let buckets = [160, 320, 480, 640, 960, 1280];
        // A 600x40 line at the bottom edge of a 620x50 photo: 720 wide at height 48, grown to
        // 45 px (640 wide) by shifting up rather than leaving the photo.
        let b = TextBox { x0: 10.0, y0: 10.0, x1: 610.0, y1: 50.0, score: 1.0 };
        let f = fit_to_width(&b, 620, 50, 48, &buckets, 1.2);
        assert_eq!(f, TextBox { x0: 10.0, y0: 5.0, x1: 610.0, y1: 50.0, score: 1.0 });
        // 590x40 at height 45 is 630 wide: widened to 600 px (640 at height 48), centred.
        let b2 = TextBox { x1: 600.0, ..b };
        assert_eq!(
            fit_to_width(&b2, 620, 50, 48, &buckets, 1.2),
            TextBox { x0: 5.0, y0: 5.0, x1: 605.0, y1: 50.0, score: 1.0 }
        );
        // Not enough room in the photo, or a growth limit too small: unchanged.
        assert_eq!(fit_to_width(&b, 620, 44, 48, &buckets, 1.2), b);
        assert_eq!(fit_to_width(&b, 620, 50, 48, &buckets, 1.1), b);
        // Degenerate boxes are returned as they are.
        let tiny = TextBox { x0: 5.0, y0: 5.0, x1: 6.0, y1: 6.0, score: 1.0 };
        assert_eq!(fit_to_width(&tiny, 620, 50, 48, &buckets, 1.5), tiny);
    }

    /// The windowed extremum by brute force, to check the van Herk version against.
    fn naive_extremum(src: &[f32], r: usize, max: bool) -> Vec<f32> {
        (0..src.len())
            .map(|i| {
                let w = &src[i.saturating_sub(r)..(i + r + 1).min(src.len())];
                if max {
                    w.iter().copied().fold(f32::MIN, f32::max)
                } else {
                    w.iter().copied().fold(f32::MAX, f32::min)
                }
            })
            .collect()
    }

    #[test]
    fn running_extremum_equals_the_brute_force_window() {
        // A fixed pseudo-random sequence (xorshift), every window size up to longer than the input.
        let mut state = 0x9e37_79b9u32;
        let src: Vec<f32> = (0..97)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state % 1000) as f32
            })
            .collect();
        let mut scratch: [Vec<f32>; 3] = Default::default();
        for n in [0, 1, 2, 5, 31, 97] {
            for r in 0..60 {
                for max in [true, false] {
                    let mut dst = vec![0f32; n];
                    running_extremum(&src[..n], &mut dst, r, max, &mut scratch);
                    assert_eq!(dst, naive_extremum(&src[..n], r, max), "n {n}, r {r}, max {max}");
                }
            }
        }
    }

    #[test]
    fn otsu_splits_two_modes() {
        let values: Vec<f32> = (0..100).map(|i| if i < 70 { 10.0 } else { 200.0 }).collect();
        let t = otsu(&values, 200.0);
        assert!(t > 10.0 && t <= 200.0, "{t}");
        assert_eq!(otsu(&[0.0; 5], 0.0), 0.0);
    }
}
