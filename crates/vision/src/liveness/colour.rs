//! Colour evidence of a print: a black-and-white or washed-out copy of a face.
//!
//! Skin is strongly chromatic (its Cr channel sits well above neutral) and lips, eyes and hair add
//! variation around it. A grey print has almost no chroma; a cheap colour print or a faded screen keeps
//! much less than a face in front of a camera. The measure is the mean distance of the face's pixels from
//! neutral grey in the Cb/Cr plane (BT.601, 8-bit scale) plus their spread.

use crate::frame::Frame;

/// The chroma of a face region.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct ChromaReport {
    /// Mean distance from neutral in the Cb/Cr plane.
    pub mean_chroma: f64,
    /// Standard deviation of Cb and Cr around their means, combined.
    pub chroma_spread: f64,
    /// Pixels sampled.
    pub samples: usize,
}

/// Measures the chroma inside `(x, y, w, h)` of `frame` (clipped to the frame), sampling every other pixel.
pub fn chroma(frame: &Frame<'_>, x: u32, y: u32, w: u32, h: u32) -> ChromaReport {
    let (x1, y1) = ((x.saturating_add(w)).min(frame.width()), (y.saturating_add(h)).min(frame.height()));
    let (mut n, mut sum_d, mut sb, mut sr, mut sbb, mut srr) = (0usize, 0.0, 0.0, 0.0, 0.0, 0.0);
    for yy in (y..y1).step_by(2) {
        let Some(row) = frame.row(yy) else { continue };
        for xx in (x..x1).step_by(2) {
            let i = xx as usize * 4;
            let (r, g, b) = (f64::from(row[i]), f64::from(row[i + 1]), f64::from(row[i + 2]));
            let cb = -0.168_736 * r - 0.331_264 * g + 0.5 * b;
            let cr = 0.5 * r - 0.418_688 * g - 0.081_312 * b;
            sum_d += (cb * cb + cr * cr).sqrt();
            sb += cb;
            sr += cr;
            sbb += cb * cb;
            srr += cr * cr;
            n += 1;
        }
    }
    if n == 0 {
        return ChromaReport::default();
    }
    let k = n as f64;
    let var = (sbb / k - (sb / k) * (sb / k)).max(0.0) + (srr / k - (sr / k) * (sr / k)).max(0.0);
    ChromaReport { mean_chroma: sum_d / k, chroma_spread: var.sqrt(), samples: n }
}

impl ChromaReport {
    /// Attack likelihood in `[0, 1]`: 1 for a grey face, falling to 0 at a normal skin chroma.
    pub fn attack_score(&self) -> f64 {
        if self.samples == 0 {
            return 0.0;
        }
        // A live face under ordinary light: mean chroma ≥ 8. A grey print: below 2.
        ((8.0 - self.mean_chroma) / 6.0).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(r: u8, g: u8, b: u8) -> Vec<u8> {
        [r, g, b, 255].repeat(32 * 32)
    }

    #[test]
    fn skin_is_chromatic_and_grey_is_not() {
        let skin = solid(200, 150, 120);
        let f = Frame::packed(&skin, 32, 32).unwrap();
        let s = chroma(&f, 0, 0, 32, 32);
        assert!(s.mean_chroma > 20.0 && s.attack_score() == 0.0, "{s:?}");
        let grey = solid(150, 150, 150);
        let f = Frame::packed(&grey, 32, 32).unwrap();
        let g = chroma(&f, 0, 0, 32, 32);
        assert!(g.mean_chroma < 0.01 && g.attack_score() == 1.0, "{g:?}");
        assert_eq!(g.samples, 256);
    }

    #[test]
    fn an_empty_region_says_nothing() {
        let grey = solid(150, 150, 150);
        let f = Frame::packed(&grey, 32, 32).unwrap();
        assert_eq!(chroma(&f, 40, 40, 10, 10).samples, 0);
        assert_eq!(chroma(&f, 40, 40, 10, 10).attack_score(), 0.0);
    }
}
