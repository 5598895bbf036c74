//! Specular glare: near-saturated, colourless pixels.
//!
//! A working-image pixel is *glare* when its luma is at least [`GLARE_LUMA`] and its chroma spread
//! (`max - min` of the average R, G, B) is at most [`GLARE_MAX_SPREAD`]: reflections of a light source
//! on a laminated card clip all three channels, whereas bright but coloured print does not.
//! The report gives the glare share of the working image and the largest 4-connected glare blob.
//!
//! Because the working image is an area average, a glare region is measured at working resolution: blocks
//! straddling the blob edge are partly white and usually fall below the luma level, so for downscaled
//! frames the share slightly under-counts (by about the blob perimeter in blocks).

use serde::Serialize;

use crate::geometry::{Homography, Point, Quad};
use crate::luma::WorkingImage;
use crate::region::RowSpans;

/// Minimum luma of a glare pixel.
pub const GLARE_LUMA: u8 = 250;
/// Maximum chroma spread of a glare pixel.
pub const GLARE_MAX_SPREAD: u8 = 24;

/// Glare statistics of a working image.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GlareReport {
    /// Share of working-image pixels that are glare, in `[0, 1]`.
    pub area_share: f32,
    /// Number of glare pixels in the working image.
    pub pixels: u32,
    /// Share of the working image covered by the largest 4-connected glare blob, in `[0, 1]`.
    pub largest_blob_share: f32,
    /// The largest blobs (up to three, largest first; unused entries have `share == 0`).
    pub blobs: [GlareBlob; 3],
    /// Share of each document zone covered by glare (all zero when no document geometry was given).
    pub zones: GlareZones,
}

/// One glare blob.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GlareBlob {
    /// Blob area as a share of the measured region.
    pub share: f32,
    /// Centroid, x: in document coordinates (0 = left edge, 1 = right edge) when document geometry was
    /// given, else in working-image pixels.
    pub x: f32,
    /// Centroid, y: in document coordinates (0 = top, 1 = bottom) or working-image pixels.
    pub y: f32,
}

/// Glare coverage of the zones of an identity document (ICAO 9303 layouts: the portrait on the left,
/// the data fields to its right, the machine-readable zone along the bottom).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GlareZones {
    /// Share of the portrait zone (x 0.02–0.36, y 0.15–0.80 of the document) covered by glare.
    pub portrait: f32,
    /// Share of the text zone (x 0.36–0.98, y 0.12–0.70) covered by glare.
    pub text: f32,
    /// Share of the machine-readable zone (y 0.70–0.98) covered by glare.
    pub mrz: f32,
}

impl GlareZones {
    /// Zone rectangles in document coordinates: `(x0, y0, x1, y1)` for portrait, text, MRZ.
    pub const RECTS: [(f64, f64, f64, f64); 3] =
        [(0.02, 0.15, 0.36, 0.80), (0.36, 0.12, 0.98, 0.70), (0.02, 0.70, 0.98, 0.98)];
}

/// True if a working-image pixel with this luma and chroma spread counts as glare.
#[inline]
pub const fn is_glare(luma: u8, spread: u8) -> bool {
    luma >= GLARE_LUMA && spread <= GLARE_MAX_SPREAD
}

/// Reusable scratch for glare blob labelling (row-run union-find; grows to the image size once).
#[derive(Debug, Clone, Default)]
pub struct GlareScratch {
    /// Per pixel: run label + 1 of the previous row (0 = not glare).
    prev_labels: Vec<u32>,
    cur_labels: Vec<u32>,
    parent: Vec<u32>,
    size: Vec<u32>,
    sum_x: Vec<u64>,
    sum_y: Vec<u64>,
}

impl GlareScratch {
    /// Empty scratch (no allocation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Capacities of the internal buffers (for allocation tests).
    pub fn capacities(&self) -> [usize; 4] {
        [self.prev_labels.capacity(), self.cur_labels.capacity(), self.parent.capacity(), self.size.capacity()]
    }

    /// Capacities of the centroid accumulators (for allocation tests).
    pub fn sum_capacities(&self) -> [usize; 2] {
        [self.sum_x.capacity(), self.sum_y.capacity()]
    }

    fn find(&mut self, mut i: u32) -> u32 {
        while self.parent[i as usize] != i {
            let p = self.parent[i as usize];
            self.parent[i as usize] = self.parent[p as usize];
            i = p;
        }
        i
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        // Union by smaller index keeps the result independent of visiting quirks.
        let (keep, drop) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[drop as usize] = keep;
        self.size[keep as usize] += self.size[drop as usize];
        self.sum_x[keep as usize] += self.sum_x[drop as usize];
        self.sum_y[keep as usize] += self.sum_y[drop as usize];
    }
}

/// Glare statistics of `img` (allocating scratch; see [`measure_with`] for the reusable form).
pub fn measure(img: &WorkingImage) -> GlareReport {
    measure_with(img, &mut GlareScratch::new())
}

/// Glare statistics of the whole of `img`, reusing `scratch` between frames.
pub fn measure_with(img: &WorkingImage, scratch: &mut GlareScratch) -> GlareReport {
    let mut region = RowSpans::new();
    region.fill_full(img.width(), img.height());
    measure_region(img, &region, None, scratch)
}

/// Glare statistics of the pixels of `img` inside `region`. Shares are relative to the region's area.
/// With `to_document` (working-image pixel centres → document coordinates in `[0, 1]²`), blob centroids
/// are reported in document coordinates and the coverage of each document zone is measured.
pub fn measure_region(
    img: &WorkingImage,
    region: &RowSpans,
    to_document: Option<&Homography>,
    scratch: &mut GlareScratch,
) -> GlareReport {
    let n = region.pixels();
    if img.is_empty() || n == 0 {
        return GlareReport::default();
    }
    let w = img.width() as usize;
    let (luma, spread) = (img.luma(), img.spread());
    scratch.prev_labels.clear();
    scratch.prev_labels.resize(w, 0);
    scratch.cur_labels.clear();
    scratch.cur_labels.resize(w, 0);
    scratch.parent.clear();
    scratch.size.clear();
    scratch.sum_x.clear();
    scratch.sum_y.clear();

    // Zone areas in working pixels: each zone rectangle of the document mapped into the image.
    let mut zone_hits = [0u64; 3];
    let mut zone_area = [0.0f64; 3];
    if let Some(to_image) = to_document.and_then(Homography::inverse) {
        for (k, &(zx0, zy0, zx1, zy1)) in GlareZones::RECTS.iter().enumerate() {
            let corners =
                [(zx0, zy0), (zx1, zy0), (zx1, zy1), (zx0, zy1)].map(|(x, y)| to_image.apply(Point::new(x, y)));
            if let [Some(a), Some(b), Some(c), Some(d)] = corners {
                zone_area[k] = Quad { corners: [a, b, c, d] }.area();
            }
        }
    }
    let mut pixels = 0u32;
    for (y, (row_l, row_s)) in luma.chunks_exact(w).zip(spread.chunks_exact(w)).enumerate() {
        let (x0, x1) = region.row(y);
        let (x0, x1) = (x0.min(w), x1.min(w));
        scratch.cur_labels.fill(0);
        for x in x0..x1 {
            if !is_glare(row_l[x], row_s[x]) {
                continue;
            }
            if let Some(p) = to_document.and_then(|h| h.apply(Point::new(x as f64 + 0.5, y as f64 + 0.5))) {
                for (k, &(zx0, zy0, zx1, zy1)) in GlareZones::RECTS.iter().enumerate() {
                    if p.x >= zx0 && p.x < zx1 && p.y >= zy0 && p.y < zy1 {
                        zone_hits[k] += 1;
                    }
                }
            }
            pixels += 1;
            let left = if x > 0 { scratch.cur_labels[x - 1] } else { 0 };
            let up = scratch.prev_labels[x];
            let label = match (left, up) {
                (0, 0) => {
                    let id = scratch.parent.len() as u32;
                    scratch.parent.push(id);
                    scratch.size.push(0);
                    scratch.sum_x.push(0);
                    scratch.sum_y.push(0);
                    id + 1
                }
                (l, 0) => l,
                (0, u) => u,
                (l, u) => {
                    scratch.union(l - 1, u - 1);
                    l
                }
            };
            let root = scratch.find(label - 1) as usize;
            scratch.size[root] += 1;
            scratch.sum_x[root] += x as u64;
            scratch.sum_y[root] += y as u64;
            scratch.cur_labels[x] = label;
        }
        std::mem::swap(&mut scratch.prev_labels, &mut scratch.cur_labels);
    }

    // The three largest blobs (ties: the earlier label).
    let mut top: [(u32, usize); 3] = [(0, 0); 3];
    for i in 0..scratch.parent.len() {
        if scratch.parent[i] == i as u32 {
            let size = scratch.size[i];
            if let Some(slot) = top.iter().position(|&(s, _)| size > s) {
                top[slot..].rotate_right(1);
                top[slot] = (size, i);
            }
        }
    }
    let nf = n as f64;
    let mut blobs = [GlareBlob::default(); 3];
    for (blob, &(size, i)) in blobs.iter_mut().zip(&top) {
        if size == 0 {
            continue;
        }
        let centre = Point::new(
            scratch.sum_x[i] as f64 / f64::from(size) + 0.5,
            scratch.sum_y[i] as f64 / f64::from(size) + 0.5,
        );
        let at = to_document.and_then(|h| h.apply(centre)).unwrap_or(centre);
        *blob = GlareBlob { share: (f64::from(size) / nf) as f32, x: at.x as f32, y: at.y as f32 };
    }
    let zone = |k: usize| if zone_area[k] < 1.0 { 0.0 } else { (zone_hits[k] as f64 / zone_area[k]).min(1.0) as f32 };
    GlareReport {
        area_share: (f64::from(pixels) / nf) as f32,
        pixels,
        largest_blob_share: blobs[0].share,
        blobs,
        zones: GlareZones { portrait: zone(0), text: zone(1), mrz: zone(2) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;
    use crate::luma::working_image;
    use crate::synth;

    fn img_from(rows: &[&str]) -> WorkingImage {
        let w = rows[0].len() as u32;
        let luma = rows.iter().flat_map(|r| r.bytes().map(|b| if b == b'#' { 255 } else { 0 })).collect();
        WorkingImage::from_luma(w, rows.len() as u32, luma).unwrap()
    }

    #[test]
    fn blobs_are_connected_components() {
        let img = img_from(&["#.#..", "#.#.#", "###..", ".....", "....#"]);
        let r = measure(&img);
        assert_eq!(r.pixels, 9);
        // The U-shaped blob's two arms only merge on the third row: 7 pixels.
        assert_eq!(r.largest_blob_share, 7.0 / 25.0);
        assert_eq!(r.area_share, 9.0 / 25.0);
    }

    #[test]
    fn coloured_highlights_are_not_glare() {
        assert!(is_glare(255, 0));
        assert!(!is_glare(255, 40));
        assert!(!is_glare(249, 0));
    }

    #[test]
    fn clean_scene_has_no_glare() {
        let (w, h) = (640, 360);
        let img = synth::document_scene(w, h, 5);
        let r = measure(&working_image(&Frame::packed(&img, w, h).unwrap()));
        assert_eq!(r, GlareReport::default());
    }

    #[test]
    fn area_matches_truth_full_resolution() {
        let (w, h) = (640, 360);
        let mut img = synth::document_scene(w, h, 6);
        let truth = synth::add_glare_rgba(&mut img, w, h, 300, 180, 40);
        let r = measure(&working_image(&Frame::packed(&img, w, h).unwrap()));
        let expected = truth as f32 / (w * h) as f32;
        assert!((r.area_share - expected).abs() <= 0.1 * expected, "{} vs {expected}", r.area_share);
        assert_eq!(r.largest_blob_share, r.area_share);
    }

    #[test]
    fn area_matches_truth_downscaled() {
        // At 1280x720 the working image is 2x smaller: blocks on the blob edge are partly white and fall
        // below the glare level, so compare with the truth share within 10% (observed: 0.8% under).
        let (w, h) = (1280, 720);
        let mut img = synth::document_scene(w, h, 7);
        let truth = synth::add_glare_rgba(&mut img, w, h, 600, 360, 100);
        let r = measure(&working_image(&Frame::packed(&img, w, h).unwrap()));
        let expected = truth as f32 / (w * h) as f32;
        assert!((r.area_share - expected).abs() <= 0.1 * expected, "{} vs {expected}", r.area_share);
        assert!(r.area_share <= expected, "downscaling only under-counts");
    }
}
