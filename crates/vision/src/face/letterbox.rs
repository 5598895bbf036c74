//! Letterboxing a frame into the square model input.
//!
//! The frame is placed in the top-left corner of a square of side `max(width, height)`; the rest
//! (right or bottom) is black. That square is resampled to the model size: an area average when
//! shrinking, bilinear when enlarging (small document crops). Values are RGB scaled to [-1, 1],
//! NHWC. A normalised model coordinate `u` maps back to frame pixels as `u × side`.

use crate::frame::Frame;

/// The side of the letterbox square of a frame, in frame pixels.
pub fn square_side(frame: &Frame<'_>) -> u32 {
    frame.width().max(frame.height())
}

fn pixel(frame: &Frame<'_>, x: usize, y: usize) -> Option<[f32; 3]> {
    let px = frame.data().get(y * frame.stride() + x * 4..)?.get(..3)?;
    Some([f32::from(px[0]), f32::from(px[1]), f32::from(px[2])])
}

/// Area average of the letterbox square (side `side >= size`) into `out` (already `size × size × 3`).
///
/// Output cell `x` covers source columns `x × side / size` up to the next cell's start (at least
/// one column), likewise for rows; padding counts as black. Sums are integers per channel, one
/// pass over each source row that falls in the frame, so the cost is one add per source byte;
/// the spans are computed once per column and row, not per cell (integer divisions are slow in
/// WebAssembly).
fn area_average(frame: &Frame<'_>, size: usize, side: usize, out: &mut [f32]) {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let span = |i: usize| {
        let start = i * side / size;
        (start, ((i + 1) * side / size).max(start + 1))
    };
    // Each output column: its source columns clipped to the frame (empty in the padding), and
    // how many it covers unclipped (padding counts in the average).
    let columns: Vec<(usize, usize, usize)> = (0..size)
        .map(|x| {
            let (x0, x1) = span(x);
            (x0.min(w), x1.min(w), x1 - x0)
        })
        .collect();
    let mut sums = vec![0u32; size * 3];
    for (y, row_out) in out.chunks_exact_mut(size * 3).enumerate() {
        let (y0, y1) = span(y);
        sums.fill(0);
        for sy in y0..y1.min(h) {
            let Some(row) = frame.row(sy as u32) else { continue };
            for (&(x0, x1, _), sum) in columns.iter().zip(sums.chunks_exact_mut(3)) {
                for px in row.get(x0 * 4..x1 * 4).unwrap_or_default().chunks_exact(4) {
                    sum[0] += u32::from(px[0]);
                    sum[1] += u32::from(px[1]);
                    sum[2] += u32::from(px[2]);
                }
            }
        }
        for ((cell, sum), &(_, _, cols)) in row_out.chunks_exact_mut(3).zip(sums.chunks_exact(3)).zip(&columns) {
            let n = ((y1 - y0) * cols) as f32;
            for (v, &s) in cell.iter_mut().zip(sum) {
                *v = s as f32 / n / 127.5 - 1.0;
            }
        }
    }
}

/// Writes the letterboxed, resized frame into `out` (`size × size × 3` values, NHWC).
///
/// # Panics
/// Never: `out` is resized to the right length first.
pub fn letterbox_into(frame: &Frame<'_>, size: usize, out: &mut Vec<f32>) {
    out.clear();
    out.resize(size * size * 3, -1.0);
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let side = square_side(frame) as usize;
    if side >= size {
        area_average(frame, size, side, out);
    } else {
        // Bilinear enlargement of the frame; output cells whose centre falls in the padding stay black.
        let scale = side as f32 / size as f32;
        for y in 0..size {
            let fy = (y as f32 + 0.5) * scale - 0.5;
            if fy + 0.5 >= h as f32 {
                continue;
            }
            let fy = fy.max(0.0);
            let (y0, ty) = (fy.floor() as usize, fy - fy.floor());
            let y1 = (y0 + 1).min(h - 1);
            for x in 0..size {
                let fx = (x as f32 + 0.5) * scale - 0.5;
                if fx + 0.5 >= w as f32 {
                    continue;
                }
                let fx = fx.max(0.0);
                let (x0, tx) = (fx.floor() as usize, fx - fx.floor());
                let x1 = (x0 + 1).min(w - 1);
                let (Some(a), Some(b), Some(c), Some(d)) =
                    (pixel(frame, x0, y0), pixel(frame, x1, y0), pixel(frame, x0, y1), pixel(frame, x1, y1))
                else {
                    continue;
                };
                let cell = &mut out[(y * size + x) * 3..][..3];
                for ch in 0..3 {
                    let top = a[ch] + (b[ch] - a[ch]) * tx;
                    let bottom = c[ch] + (d[ch] - c[ch]) * tx;
                    cell[ch] = (top + (bottom - top) * ty) / 127.5 - 1.0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(out: &[f32], size: usize, x: usize, y: usize) -> [f32; 3] {
        let c = &out[(y * size + x) * 3..][..3];
        [c[0], c[1], c[2]]
    }

    #[test]
    fn wide_frame_is_padded_at_the_bottom() {
        // 8×4 white frame into a 4×4 input: top half white, bottom half black.
        let rgba = vec![255u8; 8 * 4 * 4];
        let frame = Frame::packed(&rgba, 8, 4).unwrap();
        let mut out = Vec::new();
        letterbox_into(&frame, 4, &mut out);
        assert_eq!(out.len(), 48);
        assert_eq!(at(&out, 4, 3, 1), [1.0; 3]);
        assert_eq!(at(&out, 4, 0, 2), [-1.0; 3]);
        assert_eq!(square_side(&frame), 8);
    }

    #[test]
    fn tall_frame_is_padded_on_the_right_and_averaged() {
        // 2×4 frame, left column red, right column blue, into 2×2: each cell averages a 2×2 block.
        let mut rgba = vec![0u8; 2 * 4 * 4];
        for y in 0..4 {
            rgba[y * 8] = 255;
            rgba[y * 8 + 6] = 255;
        }
        let frame = Frame::packed(&rgba, 2, 4).unwrap();
        let mut out = Vec::new();
        letterbox_into(&frame, 2, &mut out);
        // Left cell covers both columns: half red, half blue.
        assert_eq!(at(&out, 2, 0, 0), [0.0, -1.0, 0.0]);
        assert_eq!(at(&out, 2, 1, 1), [-1.0; 3]);
    }

    /// The area average as a plain per-cell loop over source pixels (the definition).
    fn reference_area_average(frame: &Frame<'_>, size: usize) -> Vec<f32> {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let side = square_side(frame) as usize;
        let mut out = vec![0.0; size * size * 3];
        for y in 0..size {
            let (y0, y1) = (y * side / size, ((y + 1) * side / size).max(y * side / size + 1));
            for x in 0..size {
                let (x0, x1) = (x * side / size, ((x + 1) * side / size).max(x * side / size + 1));
                let mut sum = [0.0f32; 3];
                for sy in y0..y1.min(h) {
                    for sx in x0..x1.min(w) {
                        let p = pixel(frame, sx, sy).unwrap();
                        for ch in 0..3 {
                            sum[ch] += p[ch];
                        }
                    }
                }
                let n = ((y1 - y0) * (x1 - x0)) as f32;
                for ch in 0..3 {
                    out[(y * size + x) * 3 + ch] = sum[ch] / n / 127.5 - 1.0;
                }
            }
        }
        out
    }

    proptest::proptest! {
        /// The row-sum implementation gives exactly the per-cell definition, on any frame shape
        /// and row stride.
        #[test]
        fn area_average_equals_the_definition(w in 1u32..90, h in 1u32..90, pad in 0usize..3, size in 1usize..40, seed in 0u32..1000) {
            let stride = w as usize * 4 + pad * 4;
            let data: Vec<u8> = (0..stride * h as usize).map(|i| (i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed).rotate_right(13) as u8).collect();
            let frame = Frame::new(&data, w, h, stride).unwrap();
            let mut out = Vec::new();
            letterbox_into(&frame, size, &mut out);
            if square_side(&frame) as usize >= size {
                proptest::prop_assert_eq!(out, reference_area_average(&frame, size));
            } else {
                proptest::prop_assert_eq!(out.len(), size * size * 3);
            }
        }
    }

    #[test]
    fn small_frame_is_enlarged_bilinearly() {
        // 2×1 frame (black, white) into 4×4: a horizontal ramp on the top half, black below.
        let rgba = vec![0, 0, 0, 255, 255, 255, 255, 255];
        let frame = Frame::packed(&rgba, 2, 1).unwrap();
        let mut out = Vec::new();
        letterbox_into(&frame, 4, &mut out);
        let row: Vec<f32> = (0..4).map(|x| at(&out, 4, x, 0)[0]).collect();
        assert_eq!(row[0], -1.0);
        assert_eq!(row[3], 1.0);
        assert!(row[1] < row[2] && row[1] > -1.0 && row[2] < 1.0, "{row:?}");
        assert_eq!(at(&out, 4, 1, 3), [-1.0; 3]);
    }
}
