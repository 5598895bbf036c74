//! Perspective rectification: the document quadrilateral warped to a flat image of fixed size.
//!
//! The output has the document's physical aspect ratio ([`DocumentFormat::rectified_size`], landscape, or
//! swapped for a document held in portrait). Each output pixel centre is mapped through the homography to
//! the frame and sampled bilinearly; when the document is larger in the frame than the output (a 4K photo),
//! each output pixel averages a 2×2 grid of samples so fine print does not alias.

use crate::boundary::DocumentFormat;
use crate::frame::{BYTES_PER_PIXEL, Frame};
use crate::geometry::{Homography, Point, Quad};

/// Why a quadrilateral cannot be rectified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RectifyError {
    /// The quadrilateral is degenerate (three corners on a line, or not convex).
    #[error("the document quadrilateral is degenerate")]
    DegenerateQuad,
    /// A corner is not a finite number.
    #[error("the document quadrilateral has a non-finite corner")]
    NonFinite,
}

impl RectifyError {
    /// Stable string code.
    pub const fn code(&self) -> &'static str {
        match self {
            RectifyError::DegenerateQuad => "quad_degenerate",
            RectifyError::NonFinite => "quad_non_finite",
        }
    }
}

/// A rectified document image (packed RGBA8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RectifiedImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Packed RGBA8 pixels, `width * height * 4` bytes.
    pub rgba: Vec<u8>,
}

/// The output size for `format`, swapped when the document is in portrait orientation.
pub fn output_size(format: DocumentFormat, portrait: bool) -> (u32, u32) {
    let (w, h) = format.rectified_size();
    if portrait { (h, w) } else { (w, h) }
}

/// Warps the `quad` of `frame` (corners top-left, top-right, bottom-right, bottom-left in frame
/// coordinates) to a flat image of the format's fixed size.
pub fn rectify(
    frame: &Frame<'_>,
    quad: &Quad,
    format: DocumentFormat,
    portrait: bool,
) -> Result<RectifiedImage, RectifyError> {
    let (width, height) = output_size(format, portrait);
    let mut rgba = Vec::new();
    rectify_into(frame, quad, width, height, &mut rgba)?;
    Ok(RectifiedImage { width, height, rgba })
}

/// Like [`rectify`] with an explicit output size, writing into a reusable buffer (resized to fit).
pub fn rectify_into(
    frame: &Frame<'_>,
    quad: &Quad,
    width: u32,
    height: u32,
    out: &mut Vec<u8>,
) -> Result<(), RectifyError> {
    if quad.corners.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
        return Err(RectifyError::NonFinite);
    }
    if !quad.is_convex() {
        return Err(RectifyError::DegenerateQuad);
    }
    let (wf, hf) = (f64::from(width), f64::from(height));
    let rect = [Point::new(0.0, 0.0), Point::new(wf, 0.0), Point::new(wf, hf), Point::new(0.0, hf)];
    let to_frame = Homography::from_points(&rect, &quad.corners).ok_or(RectifyError::DegenerateQuad)?;
    out.clear();
    out.resize(width as usize * height as usize * BYTES_PER_PIXEL, 255);
    // Minification: document pixels per output pixel along the longer side.
    let sides = quad.side_lengths();
    let scale = (sides[0].max(sides[2]) / wf).max(sides[1].max(sides[3]) / hf);
    let offsets: &[(f64, f64)] =
        if scale > 1.5 { &[(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] } else { &[(0.5, 0.5)] };
    for y in 0..height {
        for x in 0..width {
            let mut acc = [0u32; 3];
            for &(dx, dy) in offsets {
                let p = to_frame.apply(Point::new(f64::from(x) + dx, f64::from(y) + dy)).unwrap_or_default();
                let c = sample_bilinear(frame, p.x - 0.5, p.y - 0.5);
                for k in 0..3 {
                    acc[k] += u32::from(c[k]);
                }
            }
            let n = offsets.len() as u32;
            let i = (y as usize * width as usize + x as usize) * BYTES_PER_PIXEL;
            for k in 0..3 {
                out[i + k] = ((acc[k] + n / 2) / n) as u8;
            }
        }
    }
    Ok(())
}

/// Bilinear sample at pixel-index coordinates (pixel centres at integers), clamped to the frame.
fn sample_bilinear(frame: &Frame<'_>, x: f64, y: f64) -> [u8; 3] {
    let (w, h) = (frame.width() as f64, frame.height() as f64);
    let x = if x.is_finite() { x.clamp(0.0, w - 1.0) } else { 0.0 };
    let y = if y.is_finite() { y.clamp(0.0, h - 1.0) } else { 0.0 };
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as u32, y0 as u32);
    let (x1, y1) = ((x0 + 1).min(frame.width() - 1), (y0 + 1).min(frame.height() - 1));
    let px = |xx: u32, yy: u32| -> [f64; 3] {
        let row = frame.row(yy).unwrap_or(&[]);
        let i = xx as usize * BYTES_PER_PIXEL;
        match row.get(i..i + 3) {
            Some(p) => [f64::from(p[0]), f64::from(p[1]), f64::from(p[2])],
            None => [0.0; 3],
        }
    };
    let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
    let mut out = [0u8; 3];
    for k in 0..3 {
        let top = a[k] + (b[k] - a[k]) * fx;
        let bottom = c[k] + (d[k] - c[k]) * fx;
        out[k] = (top + (bottom - top) * fy + 0.5).clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    #[test]
    fn rectified_card_matches_its_texture() {
        let (w, h) = (1280, 720);
        let scene = synth::card_scene(w, h, 11, DocumentFormat::Id1, false);
        let frame = Frame::packed(&scene.rgba, w, h).unwrap();
        let quad = Quad { corners: scene.corners };
        let out = rectify(&frame, &quad, DocumentFormat::Id1, false).unwrap();
        assert_eq!((out.width, out.height), DocumentFormat::Id1.rectified_size());
        // Compare with the flat texture the scene was rendered from, away from the rounded corners.
        let (tex, tw, th) = synth::card_texture(DocumentFormat::Id1, out.width, 11);
        assert_eq!((tw, th), (out.width, out.height));
        let (mut diff, mut n) = (0u64, 0u64);
        for y in th / 10..th * 9 / 10 {
            for x in tw / 10..tw * 9 / 10 {
                let i = ((y * tw + x) * 4) as usize;
                for k in 0..3 {
                    diff += u64::from(out.rgba[i + k].abs_diff(tex[i + k]));
                    n += 1;
                }
            }
        }
        let mean = diff as f64 / n as f64;
        assert!(mean < 12.0, "mean absolute difference {mean}");
    }

    #[test]
    fn portrait_swaps_the_size_and_bad_quads_are_refused() {
        let rgba = vec![128u8; 64 * 64 * 4];
        let frame = Frame::packed(&rgba, 64, 64).unwrap();
        let quad = Quad::from_cyclic([
            Point::new(4.0, 4.0),
            Point::new(40.0, 4.0),
            Point::new(40.0, 60.0),
            Point::new(4.0, 60.0),
        ]);
        let out = rectify(&frame, &quad, DocumentFormat::Id3, true).unwrap();
        assert_eq!((out.width, out.height), (845, 1200));
        assert!(out.rgba.chunks_exact(4).all(|p| p == [128, 128, 128, 255]));
        let line =
            Quad { corners: [Point::new(0.0, 0.0), Point::new(1.0, 1.0), Point::new(2.0, 2.0), Point::new(3.0, 3.0)] };
        assert_eq!(rectify(&frame, &line, DocumentFormat::Id1, false), Err(RectifyError::DegenerateQuad));
        let nan = Quad { corners: [Point::new(f64::NAN, 0.0); 4] };
        assert_eq!(rectify(&frame, &nan, DocumentFormat::Id1, false), Err(RectifyError::NonFinite));
    }
}
