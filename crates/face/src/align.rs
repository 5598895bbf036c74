//! Alignment: a least-squares similarity transform from four BlazeFace keypoints (both eyes,
//! nose tip, mouth centre) to dlib's face template, and bilinear extraction of the 150×150 chip.
//!
//! dlib crops chips with padding 0.25 around a template in a unit face box; a template point
//! `p` lands at `(0.25 + p) / 1.5 × 150` in the chip. When the chip samples the source more
//! sparsely than one chip pixel per two source pixels, the source region is first halved
//! (2×2 box average) until it no longer does, so the chip is not aliased.

use image::RgbImage;
use trustcap_vision::Frame;
use trustcap_vision::face::{Detection, Keypoint, Point};

/// Chip side in pixels.
pub const CHIP_SIZE: u32 = 150;

/// Template positions (unit face box, x right, y down) of the image-left eye, image-right eye,
/// nose tip and mouth centre.
pub const TEMPLATE: [Point; 4] = [
    Point { x: 0.2255, y: 0.2160 },
    Point { x: 0.7548, y: 0.2160 },
    Point { x: 0.4901, y: 0.5156 },
    Point { x: 0.4901, y: 0.8049 },
];

/// The BlazeFace keypoints matched to [`TEMPLATE`], in the same order.
pub const KEYPOINTS: [Keypoint; 4] = [Keypoint::RightEye, Keypoint::LeftEye, Keypoint::NoseTip, Keypoint::Mouth];

/// A template point in chip pixels.
pub fn template_in_chip(p: Point) -> Point {
    let s = CHIP_SIZE as f32 / 1.5;
    Point { x: (0.25 + p.x) * s, y: (0.25 + p.y) * s }
}

/// A similarity transform `q = [a -b; b a] p + t` (rotation, uniform scale, translation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// `scale × cos(angle)`.
    pub a: f32,
    /// `scale × sin(angle)`.
    pub b: f32,
    /// Translation x.
    pub tx: f32,
    /// Translation y.
    pub ty: f32,
}

impl Similarity {
    /// Least-squares fit (Umeyama, no reflection) mapping `src[i]` onto `dst[i]`; `None` when the
    /// source points coincide or a value is not finite.
    pub fn fit(src: &[Point], dst: &[Point]) -> Option<Similarity> {
        let n = src.len().min(dst.len());
        if n < 2 {
            return None;
        }
        let mean = |pts: &[Point]| {
            let (sx, sy) = pts[..n].iter().fold((0.0f64, 0.0f64), |(x, y), p| (x + f64::from(p.x), y + f64::from(p.y)));
            (sx / n as f64, sy / n as f64)
        };
        let (mx, my) = mean(src);
        let (ux, uy) = mean(dst);
        let (mut num_a, mut num_b, mut den) = (0.0f64, 0.0f64, 0.0f64);
        for (p, q) in src.iter().zip(dst).take(n) {
            let (x, y) = (f64::from(p.x) - mx, f64::from(p.y) - my);
            let (u, v) = (f64::from(q.x) - ux, f64::from(q.y) - uy);
            num_a += x * u + y * v;
            num_b += x * v - y * u;
            den += x * x + y * y;
        }
        if den.is_nan() || den <= 1e-9 || !num_a.is_finite() || !num_b.is_finite() {
            return None;
        }
        let (a, b) = (num_a / den, num_b / den);
        let tx = ux - (a * mx - b * my);
        let ty = uy - (b * mx + a * my);
        Some(Similarity { a: a as f32, b: b as f32, tx: tx as f32, ty: ty as f32 })
    }

    /// Applies the transform.
    pub fn apply(&self, p: Point) -> Point {
        Point { x: self.a * p.x - self.b * p.y + self.tx, y: self.b * p.x + self.a * p.y + self.ty }
    }

    /// Uniform scale factor.
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    /// The inverse transform (`None` for a zero scale).
    pub fn inverse(&self) -> Option<Similarity> {
        let d = self.a * self.a + self.b * self.b;
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        let (a, b) = (self.a / d, -self.b / d);
        Some(Similarity { a, b, tx: -(a * self.tx - b * self.ty), ty: -(b * self.tx + a * self.ty) })
    }
}

/// The transform from frame pixels to chip pixels for a detection.
pub fn chip_transform(detection: &Detection) -> Option<Similarity> {
    let src = KEYPOINTS.map(|k| detection.keypoint(k));
    let dst = TEMPLATE.map(template_in_chip);
    Similarity::fit(&src, &dst)
}

/// Largest box-filter block: sums stay below 2^24 (exact in f32), and no real chip needs more
/// (a face 128 times larger than the chip is far beyond any photo's size).
const MAX_BLOCK: usize = 1 << 7;

/// An RGB float image (interleaved) of a frame region, possibly reduced by a box filter.
struct Region {
    width: usize,
    height: usize,
    rgb: Vec<f32>,
}

impl Region {
    fn get(&self, x: usize, y: usize) -> [f32; 3] {
        let i = (y * self.width + x) * 3;
        match self.rgb.get(i..i + 3) {
            Some(p) => [p[0], p[1], p[2]],
            None => [0.0; 3],
        }
    }

    /// The frame rectangle `[x0, x0 + block × width) × [y0, y0 + block × height)` averaged over
    /// `block × block` pixel blocks (`block` a power of two). Equals halving the full-resolution
    /// region `log2(block)` times (2×2 box average, odd last row/column dropped), exactly: the
    /// sums are integers below 2^24 and the division is by a power of two. `None` when a row
    /// is outside the frame.
    fn boxed(frame: &Frame<'_>, x0: usize, y0: usize, width: usize, height: usize, block: usize) -> Option<Region> {
        let mut sums = vec![0u32; width * 3];
        let mut rgb = Vec::with_capacity(width * height * 3);
        let scale = 1.0 / (block * block) as f32;
        for ry in 0..height {
            sums.fill(0);
            for y in y0 + ry * block..y0 + (ry + 1) * block {
                let row = frame.row(u32::try_from(y).ok()?)?.get(x0 * 4..(x0 + width * block) * 4)?;
                for (sum, pixels) in sums.chunks_exact_mut(3).zip(row.chunks_exact(4 * block)) {
                    for px in pixels.chunks_exact(4) {
                        sum[0] += u32::from(px[0]);
                        sum[1] += u32::from(px[1]);
                        sum[2] += u32::from(px[2]);
                    }
                }
            }
            rgb.extend(sums.iter().map(|&s| s as f32 * scale));
        }
        Some(Region { width, height, rgb })
    }
}

/// Extracts the 150×150 chip for a frame-to-chip transform. Outside the frame is black.
pub fn extract_chip(frame: &Frame<'_>, to_chip: &Similarity) -> Option<RgbImage> {
    let from_chip = to_chip.inverse()?;
    // Source region covered by the chip (plus a pixel for bilinear sampling), clamped to the frame.
    let side = CHIP_SIZE as f32;
    let corners = [(0.0, 0.0), (side, 0.0), (0.0, side), (side, side)].map(|(x, y)| from_chip.apply(Point { x, y }));
    let (fw, fh) = (frame.width() as f32, frame.height() as f32);
    let min_x = corners.iter().map(|p| p.x).fold(f32::INFINITY, f32::min).floor() - 1.0;
    let min_y = corners.iter().map(|p| p.y).fold(f32::INFINITY, f32::min).floor() - 1.0;
    let max_x = corners.iter().map(|p| p.x).fold(f32::NEG_INFINITY, f32::max).ceil() + 1.0;
    let max_y = corners.iter().map(|p| p.y).fold(f32::NEG_INFINITY, f32::max).ceil() + 1.0;
    if ![min_x, min_y, max_x, max_y].iter().all(|v| v.is_finite()) {
        return None;
    }
    let (x0, y0) = (min_x.clamp(0.0, fw) as usize, min_y.clamp(0.0, fh) as usize);
    let (x1, y1) = (max_x.clamp(0.0, fw) as usize, max_y.clamp(0.0, fh) as usize);
    let mut chip = RgbImage::new(CHIP_SIZE, CHIP_SIZE);
    if x1 <= x0 || y1 <= y0 {
        return Some(chip);
    }
    // Halve the region (2×2 box average) while the chip samples it more sparsely than one chip
    // pixel per two region pixels; the halvings are done at once by a box filter.
    let (mut width, mut height, mut block) = (x1 - x0, y1 - y0, 1usize);
    while from_chip.scale() / block as f32 > 2.0 && width >= 2 && height >= 2 && block < MAX_BLOCK {
        (width, height, block) = (width / 2, height / 2, block * 2);
    }
    let region = Region::boxed(frame, x0, y0, width, height, block)?;
    // Chip pixel -> region pixel: from_chip, then shift by the region origin, then / block.
    let factor = block as f32;
    for (cx, cy, out) in chip.enumerate_pixels_mut() {
        let p = from_chip.apply(Point { x: cx as f32 + 0.5, y: cy as f32 + 0.5 });
        // Pixel centres: source pixel i covers [i, i + 1).
        let rx = (p.x - x0 as f32) / factor - 0.5;
        let ry = (p.y - y0 as f32) / factor - 0.5;
        let inside = (0.0..fw).contains(&p.x) && (0.0..fh).contains(&p.y);
        if !inside || rx <= -1.0 || ry <= -1.0 || rx.is_nan() || ry.is_nan() {
            continue;
        }
        let (rx, ry) = (rx.max(0.0), ry.max(0.0));
        let (ix, iy) = (rx.floor() as usize, ry.floor() as usize);
        if ix >= region.width || iy >= region.height {
            continue;
        }
        let (tx, ty) = (rx - ix as f32, ry - iy as f32);
        let (ix1, iy1) = ((ix + 1).min(region.width - 1), (iy + 1).min(region.height - 1));
        let (a, b, c, d) = (region.get(ix, iy), region.get(ix1, iy), region.get(ix, iy1), region.get(ix1, iy1));
        for ch in 0..3 {
            let top = a[ch] + (b[ch] - a[ch]) * tx;
            let bottom = c[ch] + (d[ch] - c[ch]) * tx;
            out.0[ch] = (top + (bottom - top) * ty).round().clamp(0.0, 255.0) as u8;
        }
    }
    Some(chip)
}

/// Aligns a detected face: the chip and the frame-to-chip transform.
pub fn align(frame: &Frame<'_>, detection: &Detection) -> Option<(RgbImage, Similarity)> {
    let transform = chip_transform(detection)?;
    Some((extract_chip(frame, &transform)?, transform))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_known_similarity_and_inverts() {
        let truth = Similarity { a: 0.8, b: 0.6, tx: 10.0, ty: -4.0 };
        let src =
            [Point { x: 1.0, y: 2.0 }, Point { x: 5.0, y: -1.0 }, Point { x: -3.0, y: 4.0 }, Point { x: 0.0, y: 0.0 }];
        let dst = src.map(|p| truth.apply(p));
        let fit = Similarity::fit(&src, &dst).unwrap();
        for (x, y) in [(fit.a, 0.8), (fit.b, 0.6), (fit.tx, 10.0), (fit.ty, -4.0)] {
            assert!((x - y).abs() < 1e-5, "{fit:?}");
        }
        assert!((fit.scale() - 1.0).abs() < 1e-5);
        let back = fit.inverse().unwrap().apply(fit.apply(Point { x: 3.0, y: 7.0 }));
        assert!((back.x - 3.0).abs() < 1e-4 && (back.y - 7.0).abs() < 1e-4);
        assert!(Similarity::fit(&[src[0]; 4], &dst).is_none());
    }

    #[test]
    fn template_matches_dlib_chip_positions() {
        let eye = template_in_chip(TEMPLATE[0]);
        assert!((eye.x - 47.55).abs() < 1e-3 && (eye.y - 46.6).abs() < 1e-3);
    }

    #[test]
    fn chip_of_an_upright_face_maps_keypoints_onto_the_template() {
        // A synthetic frame with four coloured dots at keypoint positions scaled 2x from the template.
        let (w, h) = (400u32, 400u32);
        let mut rgba = vec![0u8; (w * h * 4) as usize];
        let to_frame = Similarity { a: 2.0, b: 0.0, tx: 30.0, ty: 20.0 };
        let colours: [[u8; 3]; 4] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]];
        let mut keypoints = [Point::default(); 6];
        for (k, (t, colour)) in TEMPLATE.iter().zip(colours).enumerate() {
            let p = to_frame.apply(template_in_chip(*t));
            keypoints[KEYPOINTS[k] as usize] = p;
            for dy in -3i32..=3 {
                for dx in -3i32..=3 {
                    let (x, y) = ((p.x as i32 + dx) as u32, (p.y as i32 + dy) as u32);
                    let i = ((y * w + x) * 4) as usize;
                    rgba[i..i + 3].copy_from_slice(&colour);
                }
            }
        }
        let frame = Frame::packed(&rgba, w, h).unwrap();
        let det = Detection { score: 1.0, bbox: Default::default(), keypoints };
        let (chip, transform) = align(&frame, &det).unwrap();
        assert!((transform.scale() - 0.5).abs() < 1e-4);
        for (t, colour) in TEMPLATE.iter().zip(colours) {
            let c = template_in_chip(*t);
            let px = chip.get_pixel(c.x as u32, c.y as u32).0;
            for ch in 0..3 {
                assert!((i32::from(px[ch]) - i32::from(colour[ch])).abs() < 60, "{px:?} vs {colour:?} at {c:?}");
            }
        }
        // Far corner of the chip lies inside the frame but on black background.
        assert_eq!(chip.get_pixel(0, 0).0, [0, 0, 0]);
    }

    /// The chip as first written: the full-resolution float region, halved one level at a time.
    fn reference_chip(frame: &Frame<'_>, to_chip: &Similarity) -> RgbImage {
        let from_chip = to_chip.inverse().unwrap();
        let side = CHIP_SIZE as f32;
        let corners =
            [(0.0, 0.0), (side, 0.0), (0.0, side), (side, side)].map(|(x, y)| from_chip.apply(Point { x, y }));
        let (fw, fh) = (frame.width() as f32, frame.height() as f32);
        let fold = |f: fn(&Point) -> f32, max: bool| {
            let v = corners.iter().map(f).fold(if max { f32::NEG_INFINITY } else { f32::INFINITY }, |a, b| {
                if max { a.max(b) } else { a.min(b) }
            });
            if max { v.ceil() + 1.0 } else { v.floor() - 1.0 }
        };
        let (x0, y0) = (fold(|p| p.x, false).clamp(0.0, fw) as usize, fold(|p| p.y, false).clamp(0.0, fh) as usize);
        let (x1, y1) = (fold(|p| p.x, true).clamp(0.0, fw) as usize, fold(|p| p.y, true).clamp(0.0, fh) as usize);
        let mut chip = RgbImage::new(CHIP_SIZE, CHIP_SIZE);
        let (mut w, mut h) = (x1 - x0, y1 - y0);
        let mut rgb: Vec<f32> = Vec::new();
        for y in y0..y1 {
            for px in frame.row(y as u32).unwrap()[x0 * 4..x1 * 4].chunks_exact(4) {
                rgb.extend([f32::from(px[0]), f32::from(px[1]), f32::from(px[2])]);
            }
        }
        let mut factor = 1.0f32;
        while from_chip.scale() / factor > 2.0 && w >= 2 && h >= 2 {
            let (hw, hh) = (w / 2, h / 2);
            let mut half = Vec::with_capacity(hw * hh * 3);
            for y in 0..hh {
                for x in 0..hw {
                    for ch in 0..3 {
                        let at = |xx: usize, yy: usize| rgb[(yy * w + xx) * 3 + ch];
                        half.push(
                            0.25 * (at(2 * x, 2 * y)
                                + at(2 * x + 1, 2 * y)
                                + at(2 * x, 2 * y + 1)
                                + at(2 * x + 1, 2 * y + 1)),
                        );
                    }
                }
            }
            (rgb, w, h, factor) = (half, hw, hh, factor * 2.0);
        }
        for (cx, cy, out) in chip.enumerate_pixels_mut() {
            let p = from_chip.apply(Point { x: cx as f32 + 0.5, y: cy as f32 + 0.5 });
            let rx = (p.x - x0 as f32) / factor - 0.5;
            let ry = (p.y - y0 as f32) / factor - 0.5;
            if !((0.0..fw).contains(&p.x) && (0.0..fh).contains(&p.y)) || rx <= -1.0 || ry <= -1.0 {
                continue;
            }
            let (rx, ry) = (rx.max(0.0), ry.max(0.0));
            let (ix, iy) = (rx.floor() as usize, ry.floor() as usize);
            if ix >= w || iy >= h {
                continue;
            }
            let (tx, ty) = (rx - ix as f32, ry - iy as f32);
            let (ix1, iy1) = ((ix + 1).min(w - 1), (iy + 1).min(h - 1));
            let at = |xx: usize, yy: usize, ch: usize| rgb[(yy * w + xx) * 3 + ch];
            for ch in 0..3 {
                let top = at(ix, iy, ch) + (at(ix1, iy, ch) - at(ix, iy, ch)) * tx;
                let bottom = at(ix, iy1, ch) + (at(ix1, iy1, ch) - at(ix, iy1, ch)) * tx;
                out.0[ch] = (top + (bottom - top) * ty).round().clamp(0.0, 255.0) as u8;
            }
        }
        chip
    }

    proptest::proptest! {
        /// The one-pass box filter gives the same chip as halving level by level, for faces from
        /// larger than the chip to many times larger, rotated, partly outside the frame.
        #[test]
        fn box_filtered_chip_equals_repeated_halving(
            scale in 0.05f32..1.2, angle in -0.6f32..0.6, tx in -60.0f32..60.0, ty in -60.0f32..60.0,
            w in 40u32..700, h in 40u32..700,
        ) {
            let rgba: Vec<u8> = (0..w * h * 4).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
            let frame = Frame::packed(&rgba, w, h).unwrap();
            let to_chip = Similarity { a: scale * angle.cos(), b: scale * angle.sin(), tx, ty };
            proptest::prop_assert_eq!(extract_chip(&frame, &to_chip).unwrap(), reference_chip(&frame, &to_chip));
        }
    }

    #[test]
    fn chip_outside_the_frame_is_black_and_never_panics() {
        let rgba = vec![200u8; 16 * 16 * 4];
        let frame = Frame::packed(&rgba, 16, 16).unwrap();
        let far = Similarity { a: 1.0, b: 0.0, tx: -5000.0, ty: -5000.0 };
        let chip = extract_chip(&frame, &far).unwrap();
        assert!(chip.pixels().all(|p| p.0 == [0, 0, 0]));
        let huge = Similarity { a: 1e-6, b: 0.0, tx: 0.0, ty: 0.0 };
        assert!(extract_chip(&frame, &huge).is_some());
        let nan = Similarity { a: f32::NAN, b: 0.0, tx: 0.0, ty: 0.0 };
        assert!(extract_chip(&frame, &nan).is_none());
    }
}
