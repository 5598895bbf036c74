//! PP-OCR text recognition: a crop resized to 48 pixels high, CTC greedy decoding against the
//! character list stored in the model's metadata (class 0 is the CTC blank, the last a space).

use image::RgbImage;
use image::imageops::FilterType;

/// Input height of the recogniser.
pub const HEIGHT: u32 = 48;
/// Input widths are padded up to a multiple of this (fewer distinct shapes to optimise).
const WIDTH_STEP: u32 = 160;
/// Widest input.
pub const MAX_WIDTH: u32 = 1920;

/// Width of a crop resized to [`HEIGHT`] (its aspect kept, within 8..=[`MAX_WIDTH`]).
fn scaled_width(crop: &RgbImage) -> u32 {
    let (w, h) = crop.dimensions();
    ((w as f32 * HEIGHT as f32 / h.max(1) as f32).ceil() as u32).clamp(8, MAX_WIDTH)
}

/// The recogniser input for one crop: shape and data (BGR, scaled to [-1, 1], zero padded).
pub fn preprocess(crop: &RgbImage) -> ([usize; 4], Vec<f32>) {
    preprocess_batch(std::slice::from_ref(crop))
}

/// The recogniser input for several crops in one batch, all padded to the widest (rounded up
/// to a multiple of 160 pixels).
pub fn preprocess_batch(crops: &[RgbImage]) -> ([usize; 4], Vec<f32>) {
    let widest = crops.iter().map(scaled_width).max().unwrap_or(8);
    let padded = widest.div_ceil(WIDTH_STEP) * WIDTH_STEP;
    let plane = (padded * HEIGHT) as usize;
    let mut data = vec![0f32; 3 * plane * crops.len()];
    for (n, crop) in crops.iter().enumerate() {
        let resized = image::imageops::resize(crop, scaled_width(crop), HEIGHT, FilterType::Triangle);
        let base = 3 * plane * n;
        for (x, y, p) in resized.enumerate_pixels() {
            let i = (y * padded + x) as usize;
            for c in 0..3 {
                if let Some(slot) = data.get_mut(base + c * plane + i) {
                    *slot = f32::from(p.0[2 - c]) / 127.5 - 1.0;
                }
            }
        }
    }
    ([crops.len(), 3, HEIGHT as usize, padded as usize], data)
}

/// Greedy CTC decoding of `[steps, classes]` scores: text and mean confidence of the kept
/// characters.
pub fn ctc_decode(scores: &[f32], classes: usize, charset: &[char]) -> (String, f32) {
    let mut text = String::new();
    let mut conf = 0f32;
    let mut kept = 0usize;
    let mut prev = 0usize;
    for step in scores.chunks_exact(classes.max(1)) {
        let (best, p) = step
            .iter()
            .enumerate()
            .fold((0usize, f32::MIN), |(bi, bp), (i, &p)| if p > bp { (i, p) } else { (bi, bp) });
        if best != 0 && best != prev {
            let c = charset.get(best - 1).copied().unwrap_or(' ');
            text.push(c);
            conf += p;
            kept += 1;
        }
        prev = best;
    }
    (text, if kept == 0 { 0.0 } else { conf / kept as f32 })
}

/// The character list from the model metadata (newline separated), with the trailing space class.
pub fn charset(metadata: &str) -> Vec<char> {
    let mut chars: Vec<char> = metadata.split('\n').filter_map(|l| l.chars().next()).collect();
    chars.push(' ');
    chars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_collapses_repeats_and_blanks() {
        let charset = vec!['A', 'B', '<'];
        let classes = 4;
        // steps: A A blank A B B < blank
        let seq = [1usize, 1, 0, 1, 2, 2, 3, 0];
        let mut scores = vec![0f32; seq.len() * classes];
        for (t, &c) in seq.iter().enumerate() {
            scores[t * classes + c] = 0.9;
        }
        let (text, conf) = ctc_decode(&scores, classes, &charset);
        assert_eq!(text, "AAB<");
        assert!((conf - 0.9).abs() < 1e-6);
    }

    #[test]
    fn charset_adds_space() {
        assert_eq!(charset("a\nb\n"), vec!['a', 'b', ' ']);
    }

    #[test]
    fn preprocess_pads_width() {
        let crop = RgbImage::new(300, 30);
        let (shape, data) = preprocess(&crop);
        assert_eq!(shape[2], 48);
        assert_eq!(shape[3] % 160, 0);
        assert_eq!(data.len(), 3 * 48 * shape[3]);
        let wide = RgbImage::from_pixel(600, 30, image::Rgb([255, 255, 255]));
        let (shape, data) = preprocess_batch(&[crop, wide]);
        assert_eq!(shape, [2, 3, 48, 960]);
        // The first crop (black, 480 px at height 48) is padded with zeros; the second (white)
        // fills its row.
        assert_eq!(data[479], -1.0);
        assert_eq!(data[480], 0.0);
        assert_eq!(data[3 * 48 * 960 + 959], 1.0);
    }
}
