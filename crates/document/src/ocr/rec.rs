//! PP-OCR text recognition: a crop resized to 48 pixels high, CTC greedy decoding against the
//! character list stored in the model's metadata (class 0 is the CTC blank, the last a space).

use image::RgbImage;
use image::imageops::FilterType;

/// Input height of the recogniser.
pub const HEIGHT: u32 = 48;
/// Input widths: a crop resized to [`HEIGHT`] is padded up to the next of these. Each distinct
/// width costs one optimised plan of the recogniser (250–300 ms to build, once), so few widths
/// keep later reads free of re-planning, and the plan cache holds them all.
pub const WIDTH_BUCKETS: [u32; 8] = [160, 320, 480, 640, 960, 1280, 1600, 1920];
/// Widest input.
pub const MAX_WIDTH: u32 = 1920;
/// Width of a crop resized to [`HEIGHT`] (its aspect kept, within 8..=[`MAX_WIDTH`]), and the
/// bucket it is zero-padded to. (Squeezing a crop a little into the bucket below is cheaper,
/// but 10 % of squeeze lost a read on a 282-px ID card, so the aspect is always kept.)
fn scaled_width(crop: &RgbImage) -> (u32, u32) {
    let (w, h) = crop.dimensions();
    let scaled = ((w as f32 * HEIGHT as f32 / h.max(1) as f32).ceil() as u32).clamp(8, MAX_WIDTH);
    (scaled, bucket(scaled))
}

/// The smallest bucket at least `w` wide.
fn bucket(w: u32) -> u32 {
    WIDTH_BUCKETS.iter().copied().find(|&b| b >= w).unwrap_or(MAX_WIDTH)
}

/// The recogniser input for one crop: shape and data (BGR, scaled to [-1, 1], zero padded).
pub fn preprocess(crop: &RgbImage) -> ([usize; 4], Vec<f32>) {
    preprocess_batch(std::slice::from_ref(crop))
}

/// The recogniser input for several crops in one batch, all padded to the widest one's bucket
/// ([`WIDTH_BUCKETS`]).
pub fn preprocess_batch(crops: &[RgbImage]) -> ([usize; 4], Vec<f32>) {
    let padded = crops.iter().map(|c| scaled_width(c).1).max().unwrap_or(WIDTH_BUCKETS[0]);
    let plane = (padded * HEIGHT) as usize;
    let mut data = vec![0f32; 3 * plane * crops.len()];
    for (n, crop) in crops.iter().enumerate() {
        let resized = image::imageops::resize(crop, scaled_width(crop).0, HEIGHT, FilterType::Triangle);
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
    let aligned = ctc_decode_aligned(scores, classes, charset);
    let conf = aligned.iter().map(|c| c.confidence).sum::<f32>() / aligned.len().max(1) as f32;
    (aligned.iter().map(|c| c.ch).collect(), conf)
}

/// One character of a greedy CTC decoding, with where the recogniser saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignedChar {
    /// The character.
    pub ch: char,
    /// Its first and last time step (each step is a few input pixels wide).
    pub steps: (usize, usize),
    /// Its probability at the first step.
    pub confidence: f32,
}

/// Greedy CTC decoding of `[steps, classes]` scores, keeping each character's time steps.
pub fn ctc_decode_aligned(scores: &[f32], classes: usize, charset: &[char]) -> Vec<AlignedChar> {
    let mut out: Vec<AlignedChar> = Vec::new();
    let mut prev = 0usize;
    for (t, step) in scores.chunks_exact(classes.max(1)).enumerate() {
        let (best, p) = step
            .iter()
            .enumerate()
            .fold((0usize, f32::MIN), |(bi, bp), (i, &p)| if p > bp { (i, p) } else { (bi, bp) });
        if best != 0 && best == prev {
            if let Some(last) = out.last_mut() {
                last.steps.1 = t;
            }
        } else if best != 0 {
            let ch = charset.get(best - 1).copied().unwrap_or(' ');
            out.push(AlignedChar { ch, steps: (t, t), confidence: p });
        }
        prev = best;
    }
    out
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
    fn widths_go_into_few_buckets() {
        // 300x30 → 480 wide at height 48: a bucket exactly.
        assert_eq!(scaled_width(&RgbImage::new(300, 30)), (480, 480));
        // 1440 wide: padded to 1600.
        assert_eq!(scaled_width(&RgbImage::new(900, 30)), (1440, 1600));
        // 1008 wide: padded to 1280, never squeezed into 960.
        assert_eq!(scaled_width(&RgbImage::new(630, 30)), (1008, 1280));
        // Very wide crops are squeezed into the widest bucket; tiny ones padded to the first.
        assert_eq!(scaled_width(&RgbImage::new(3000, 30)), (1920, 1920));
        assert_eq!(scaled_width(&RgbImage::new(3, 30)), (8, 160));
        // Every crop lands in a bucket: at most WIDTH_BUCKETS.len() shapes are ever planned.
        for w in (1..2000).step_by(7) {
            let (resized, padded) = scaled_width(&RgbImage::new(w, 40));
            assert!(WIDTH_BUCKETS.contains(&padded) && resized <= padded, "{w}: {resized} {padded}");
        }
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
        assert_eq!(shape[3], 480);
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
