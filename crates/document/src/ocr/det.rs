//! PP-OCR text detection (DB): image → probability map → text boxes (connected components of
//! the thresholded map, scored by mean probability and expanded by the DB "unclip" distance).

use image::RgbImage;
use image::imageops::FilterType;

/// Longest side the detector sees.
pub const MAX_SIDE: u32 = 960;
/// Probability threshold for text pixels.
const THRESH: f32 = 0.3;
/// Minimum mean probability of a box.
const BOX_THRESH: f32 = 0.5;
/// DB unclip ratio.
const UNCLIP: f32 = 1.6;

/// An axis-aligned text box in image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBox {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
    /// Mean text probability.
    pub score: f32,
}

impl TextBox {
    /// Width.
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    /// Height.
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
}

/// The detector input: BGR, ImageNet-normalised, NCHW, sides multiples of 32 no longer than
/// [`MAX_SIDE`]. Returns the shape, the data and the scale from input to image pixels.
pub fn preprocess(img: &RgbImage) -> ([usize; 4], Vec<f32>, (f32, f32)) {
    preprocess_within(img, MAX_SIDE)
}

/// [`preprocess`] with the longest side bounded by `max_side` (at least 32) instead of [`MAX_SIDE`].
pub fn preprocess_within(img: &RgbImage, max_side: u32) -> ([usize; 4], Vec<f32>, (f32, f32)) {
    let (w, h) = img.dimensions();
    let scale = (max_side.max(32) as f32 / w.max(h).max(1) as f32).min(1.0);
    let round = |v: f32| ((v / 32.0).round().max(1.0) * 32.0) as u32;
    let (tw, th) = (round(w as f32 * scale), round(h as f32 * scale));
    const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
    const STD: [f32; 3] = [0.229, 0.224, 0.225];
    let plane = (tw * th) as usize;
    let mut data = vec![0f32; 3 * plane];
    let mut put = |i: usize, rgb: [f32; 3]| {
        // BGR order, as the models were trained with OpenCV images.
        for c in 0..3 {
            if let Some(slot) = data.get_mut(c * plane + i) {
                *slot = (rgb[2 - c] / 255.0 - MEAN[c]) / STD[c];
            }
        }
    };
    if w >= 2 * tw || h >= 2 * th {
        // Strong reduction: a filtered resize, so thin strokes are not skipped.
        let resized = image::imageops::resize(img, tw, th, FilterType::Triangle);
        for (i, p) in resized.pixels().enumerate() {
            put(i, p.0.map(f32::from));
        }
    } else {
        // Mild scaling: bilinear sampling straight into the input planes (much cheaper).
        let (fx, fy) = (w as f32 / tw as f32, h as f32 / th as f32);
        let raw = img.as_raw();
        let px = |x: u32, y: u32| -> [f32; 3] {
            let i = 3 * (y as usize * w as usize + x as usize);
            match raw.get(i..i + 3) {
                Some(&[r, g, b]) => [f32::from(r), f32::from(g), f32::from(b)],
                _ => [0.0; 3],
            }
        };
        for ty in 0..th {
            let sy = ((ty as f32 + 0.5) * fy - 0.5).clamp(0.0, (h - 1) as f32);
            let (y0, wy) = (sy.floor() as u32, sy.fract());
            let y1 = (y0 + 1).min(h - 1);
            for tx in 0..tw {
                let sx = ((tx as f32 + 0.5) * fx - 0.5).clamp(0.0, (w - 1) as f32);
                let (x0, wx) = (sx.floor() as u32, sx.fract());
                let x1 = (x0 + 1).min(w - 1);
                let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
                let mut rgb = [0f32; 3];
                for (k, v) in rgb.iter_mut().enumerate() {
                    let top = a[k] + (b[k] - a[k]) * wx;
                    let bottom = c[k] + (d[k] - c[k]) * wx;
                    *v = top + (bottom - top) * wy;
                }
                put((ty * tw + tx) as usize, rgb);
            }
        }
    }
    ([1, 3, th as usize, tw as usize], data, (w as f32 / tw as f32, h as f32 / th as f32))
}

/// Text boxes from a probability map of `w`×`h`, in image pixels (`scale` from map to image).
pub fn boxes(prob: &[f32], w: usize, h: usize, scale: (f32, f32)) -> Vec<TextBox> {
    let mut label = vec![0u32; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    let mut next = 0u32;
    for start in 0..w * h {
        if prob.get(start).copied().unwrap_or(0.0) <= THRESH || label.get(start).copied().unwrap_or(1) != 0 {
            continue;
        }
        next += 1;
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0usize, 0usize);
        let (mut sum, mut n) = (0f32, 0usize);
        stack.push(start);
        if let Some(l) = label.get_mut(start) {
            *l = next;
        }
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
            sum += prob.get(i).copied().unwrap_or(0.0);
            n += 1;
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then(|| i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then(|| i + w),
            ];
            for j in neighbours.into_iter().flatten() {
                if prob.get(j).copied().unwrap_or(0.0) > THRESH && label.get(j).copied() == Some(0) {
                    if let Some(l) = label.get_mut(j) {
                        *l = next;
                    }
                    stack.push(j);
                }
            }
        }
        let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        let score = sum / n.max(1) as f32;
        if bw.min(bh) < 3.0 || score < BOX_THRESH {
            continue;
        }
        let d = bw * bh * UNCLIP / (2.0 * (bw + bh));
        out.push(TextBox {
            x0: ((x0 as f32 - d).max(0.0)) * scale.0,
            y0: ((y0 as f32 - d).max(0.0)) * scale.1,
            x1: ((x1 as f32 + 1.0 + d).min(w as f32)) * scale.0,
            y1: ((y1 as f32 + 1.0 + d).min(h as f32)) * scale.1,
            score,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_component_becomes_one_expanded_box() {
        let (w, h) = (40, 20);
        let mut prob = vec![0.0f32; w * h];
        for y in 8..12 {
            for x in 5..35 {
                prob[y * w + x] = 0.9;
            }
        }
        prob[0] = 0.9; // a single noisy pixel is dropped
        let b = boxes(&prob, w, h, (2.0, 2.0));
        assert_eq!(b.len(), 1);
        assert!(b[0].x0 < 10.0 && b[0].x1 > 70.0 && b[0].y0 < 16.0 && b[0].y1 > 24.0, "{:?}", b[0]);
    }

    #[test]
    fn preprocess_rounds_to_multiples_of_32() {
        let img = RgbImage::new(1000, 700);
        let (shape, data, _) = preprocess(&img);
        assert_eq!(shape[2] % 32, 0);
        assert_eq!(shape[3] % 32, 0);
        assert!(shape[3] <= MAX_SIDE as usize);
        assert_eq!(data.len(), 3 * shape[2] * shape[3]);
        // Bilinear path: a flat image stays flat (white → the normalised white of each channel).
        let white = RgbImage::from_pixel(1000, 700, image::Rgb([255, 255, 255]));
        let (_, data, _) = preprocess_within(&white, 640);
        assert!(data.iter().take(10).all(|v| (v - (1.0 - 0.485) / 0.229).abs() < 1e-4), "{:?}", &data[..3]);
        let (shape, _, scale) = preprocess_within(&img, 640);
        assert_eq!(shape, [1, 3, 448, 640]);
        assert!((scale.0 - 1000.0 / 640.0).abs() < 1e-3, "{scale:?}");
    }
}
