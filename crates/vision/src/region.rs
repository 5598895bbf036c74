//! A region of a working image as one horizontal span per row: the inside of a convex quadrilateral.
//!
//! The quality measures take an optional [`RowSpans`] so that sharpness, glare and exposure describe the
//! document, not the table around it. Spans are computed once per frame from the detected boundary
//! (in working-image pixels) and reused; the buffer grows once to the image height.

use crate::geometry::Quad;

/// Per-row half-open pixel spans `[x0, x1)` of a region (empty rows have `x0 == x1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowSpans {
    spans: Vec<(u32, u32)>,
    pixels: u64,
}

impl RowSpans {
    /// An empty region (no allocation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Fills the spans of the pixels whose centres lie inside `quad` (working-image coordinates), for an
    /// image `width × height`.
    pub fn fill_from_quad(&mut self, quad: &Quad, width: u32, height: u32) {
        self.spans.clear();
        self.pixels = 0;
        for y in 0..height {
            let span = quad.row_span(f64::from(y) + 0.5).map_or((0, 0), |(lo, hi)| {
                // Pixel x is inside when its centre x + 0.5 lies in [lo, hi].
                let x0 = (lo - 0.5).ceil().clamp(0.0, f64::from(width)) as u32;
                let x1 = ((hi - 0.5).floor() + 1.0).clamp(0.0, f64::from(width)) as u32;
                if x1 > x0 { (x0, x1) } else { (0, 0) }
            });
            self.pixels += u64::from(span.1 - span.0);
            self.spans.push(span);
        }
    }

    /// Fills the spans of the whole `width × height` image.
    pub fn fill_full(&mut self, width: u32, height: u32) {
        self.spans.clear();
        self.spans.resize(height as usize, (0, width));
        self.pixels = u64::from(width) * u64::from(height);
    }

    /// The span of row `y` (`(0, 0)` outside the region or past the last row).
    pub fn row(&self, y: usize) -> (usize, usize) {
        self.spans.get(y).map_or((0, 0), |&(a, b)| (a as usize, b as usize))
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.spans.len()
    }

    /// Number of pixels in the region.
    pub fn pixels(&self) -> u64 {
        self.pixels
    }

    /// Capacity of the span buffer (for allocation tests).
    pub fn capacity(&self) -> usize {
        self.spans.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Point;

    #[test]
    fn spans_of_a_rectangle_and_a_full_image() {
        let q =
            Quad::from_cyclic([Point::new(2.0, 1.0), Point::new(8.0, 1.0), Point::new(8.0, 4.0), Point::new(2.0, 4.0)]);
        let mut r = RowSpans::new();
        r.fill_from_quad(&q, 10, 6);
        assert_eq!(r.row(0), (0, 0));
        assert_eq!(r.row(1), (2, 8));
        assert_eq!(r.row(3), (2, 8));
        assert_eq!(r.row(4), (0, 0));
        assert_eq!(r.pixels(), 18);
        r.fill_full(10, 6);
        assert_eq!((r.row(5), r.pixels(), r.rows()), ((0, 10), 60, 6));
        assert_eq!(r.row(99), (0, 0));
    }
}
