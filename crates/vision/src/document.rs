//! Document capture analysis: boundary, in-document quality, stability and ranked guidance for one frame.
//!
//! [`DocumentAnalyzer`] is what the SDK runs on every camera frame of a document step (and the verifier
//! runs again on the uploaded frame). Per frame it
//!
//! 1. reduces the frame to the luma working image (≤ 640 px, see [`crate::luma`]);
//! 2. finds the document quadrilateral ([`BoundaryDetector`]);
//! 3. measures exposure, sharpness (noise-corrected) and glare **inside the document** (the whole frame
//!    when no document is found), glare also per document zone (portrait, text, MRZ);
//! 4. measures stability: the mean luma change against the previous frame and how far the corners moved;
//! 5. ranks every failing check into [`GuidanceList`] by a fixed priority and reports the first as the
//!    primary [`Guidance`].
//!
//! All buffers are owned by the analyser and reused: after the first frame of a given size, analysing
//! allocates nothing.

use serde::Serialize;

use crate::boundary::{BoundaryDetector, DocumentBoundary, DocumentFormat};
use crate::exposure::{self, ExposureReport};
use crate::frame::Frame;
use crate::geometry::{Homography, Point, Quad};
use crate::glare::{self, GlareReport, GlareScratch};
use crate::guidance::Guidance;
use crate::luma::{WORKING_MAX_SIDE, WorkingImage, downscale_factor};
use crate::motion;
use crate::quality::{QualityReport, QualityThresholds};
use crate::region::RowSpans;
use crate::sharpness;

/// Sharpness is measured with the document's longer side at no fewer than this many pixels.
pub const DETAIL_SIDE: u32 = 640;

/// Framing and stability limits of a document capture (quality limits are in [`QualityThresholds`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DocumentConfig {
    /// Quality thresholds (sharpness, glare, exposure, motion).
    pub quality: QualityThresholds,
    /// Minimum boundary confidence for a document to count as found.
    pub min_confidence: f32,
    /// Below this share of the frame: `move_closer`.
    pub min_fill: f32,
    /// Above this share of the frame: `move_away`.
    pub max_fill: f32,
    /// Above this perspective tilt (opposite-side length ratio − 1): `align`.
    pub max_tilt: f32,
    /// Glare above this share of the portrait or MRZ zone: `reduce_glare`, even when the total is small.
    pub max_zone_glare: f32,
    /// Corner movement between frames above this share of the frame diagonal: `hold_still`.
    pub max_corner_motion: f32,
    /// The document format, when the flow knows it (a passport step, an ID-card step); `None` guesses it
    /// from the aspect ratio.
    pub format: Option<DocumentFormat>,
}

impl Default for DocumentConfig {
    fn default() -> Self {
        DocumentConfig {
            quality: QualityThresholds::default(),
            min_confidence: 0.45,
            min_fill: 0.12,
            max_fill: 0.90,
            max_tilt: 0.25,
            max_zone_glare: 0.05,
            max_corner_motion: 0.02,
            format: None,
        }
    }
}

/// Every failing check of a frame, most important first (at most one of each; no allocation).
///
/// The order is fixed: `more_light`, `too_bright`, `no_document`, `move_away`, `move_closer`, `align`,
/// `low_contrast`, `reduce_glare`, `too_blurry`, `hold_still` — with one exception: when no document is
/// found in a frame that is itself too blurred (and not flat), `too_blurry` comes before `no_document`,
/// because a blurred document cannot be found and the user has to fix the focus first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GuidanceList {
    items: [Option<Guidance>; 10],
    len: usize,
}

impl GuidanceList {
    fn push(&mut self, g: Guidance) {
        if self.len < self.items.len() && !self.contains(g) {
            self.items[self.len] = Some(g);
            self.len += 1;
        }
    }

    /// True if `g` is in the list.
    pub fn contains(&self, g: Guidance) -> bool {
        self.items[..self.len].contains(&Some(g))
    }

    /// The failing checks, most important first.
    pub fn iter(&self) -> impl Iterator<Item = Guidance> + '_ {
        self.items[..self.len].iter().flatten().copied()
    }

    /// The primary guidance: the first failing check, or `ready`.
    pub fn primary(&self) -> Guidance {
        self.iter().next().unwrap_or(Guidance::Ready)
    }

    /// True when nothing fails.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Serialize for GuidanceList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Guidance::as_str))
    }
}

/// Analysis of one document frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DocumentReport {
    /// Sharpness, exposure and motion inside the document (the whole frame when none was found), with the
    /// verdict of the quality thresholds alone.
    pub quality: QualityReport,
    /// The document boundary, if found with enough confidence.
    pub boundary: Option<DocumentBoundary>,
    /// Glare inside the document, with blob centroids in document coordinates and per-zone coverage.
    pub glare: GlareReport,
    /// Largest corner movement since the previous frame, as a share of the frame diagonal (0 when either
    /// frame has no document).
    pub corner_motion: f32,
    /// Every failing check, highest priority first.
    pub reasons: GuidanceList,
    /// The primary guidance.
    pub guidance: Guidance,
    /// All checks pass.
    pub acceptable: bool,
}

impl DocumentReport {
    /// Score used to pick the best frame of a steady run: in-document sharpness, lowered by glare.
    pub fn capture_score(&self) -> f32 {
        self.quality.sharpness.score * (1.0 - self.glare.area_share).max(0.0)
    }

    /// Flat named metrics for the signed manifest (names match `[a-z0-9_.]+`, stable order): the quality
    /// metrics followed by the document metrics.
    pub fn metrics(&self) -> impl Iterator<Item = (&'static str, f64)> {
        let b = self.boundary;
        let corners = b.map(|b| b.quad.corners).unwrap_or_default();
        let doc: [(&'static str, f64); 19] = [
            ("document.found", f64::from(u8::from(b.is_some()))),
            ("document.confidence", b.map_or(0.0, |b| f64::from(b.confidence))),
            ("document.fill", b.map_or(0.0, |b| f64::from(b.fill))),
            ("document.tilt", b.map_or(0.0, |b| f64::from(b.tilt))),
            ("document.aspect", b.map_or(0.0, |b| f64::from(b.aspect))),
            ("document.corner_motion", f64::from(self.corner_motion)),
            ("document.tl_x", corners[0].x),
            ("document.tl_y", corners[0].y),
            ("document.tr_x", corners[1].x),
            ("document.tr_y", corners[1].y),
            ("document.br_x", corners[2].x),
            ("document.br_y", corners[2].y),
            ("document.bl_x", corners[3].x),
            ("document.bl_y", corners[3].y),
            ("glare.zone.portrait", f64::from(self.glare.zones.portrait)),
            ("glare.zone.text", f64::from(self.glare.zones.text)),
            ("glare.zone.mrz", f64::from(self.glare.zones.mrz)),
            ("sharpness.noise", f64::from(self.quality.sharpness.noise)),
            ("capture_score", f64::from(self.capture_score())),
        ];
        self.quality.metrics().into_iter().chain(doc)
    }
}

/// Reusable per-stream document analyser (see the module documentation).
#[derive(Debug, Clone)]
pub struct DocumentAnalyzer {
    config: DocumentConfig,
    current: WorkingImage,
    previous: WorkingImage,
    has_previous: bool,
    previous_quad: Option<Quad>,
    detector: BoundaryDetector,
    region: RowSpans,
    detail: WorkingImage,
    detail_region: RowSpans,
    glare_scratch: GlareScratch,
    noise_blocks: Vec<u32>,
}

impl Default for DocumentAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl DocumentAnalyzer {
    /// Analyser with [`DocumentConfig::default`].
    pub fn new() -> Self {
        Self::with_config(DocumentConfig::default())
    }

    /// Analyser with a custom configuration.
    pub fn with_config(config: DocumentConfig) -> Self {
        DocumentAnalyzer {
            config,
            current: WorkingImage::new(),
            previous: WorkingImage::new(),
            has_previous: false,
            previous_quad: None,
            detector: BoundaryDetector::new(),
            region: RowSpans::new(),
            detail: WorkingImage::new(),
            detail_region: RowSpans::new(),
            glare_scratch: GlareScratch::new(),
            noise_blocks: Vec::new(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &DocumentConfig {
        &self.config
    }

    /// Replaces the configuration (keeps the previous frame).
    pub fn set_config(&mut self, config: DocumentConfig) {
        self.config = config;
    }

    /// Forget the previous frame (the next frame reports no motion).
    pub fn reset(&mut self) {
        self.has_previous = false;
        self.previous_quad = None;
    }

    /// Analyses one frame.
    pub fn analyze(&mut self, frame: &Frame<'_>) -> DocumentReport {
        let factor = downscale_factor(frame.width(), frame.height(), WORKING_MAX_SIDE);
        self.current.fill_from_frame(frame, factor);
        let (ww, wh) = (self.current.width(), self.current.height());
        let cfg = self.config;

        let boundary =
            self.detector.detect(&self.current).filter(|b| b.confidence >= cfg.min_confidence).map(|mut b| {
                if let Some(format) = cfg.format {
                    b.format = format;
                }
                b
            });

        // The measured region: the document shrunk by 4% towards its centre (its own border edge and the
        // background just outside it do not count), or the whole frame.
        let mut to_document = None;
        match &boundary {
            Some(b) => {
                let working_quad = b.quad.scaled(1.0 / f64::from(self.current.factor()));
                self.region.fill_from_quad(&inset(&working_quad, 0.04), ww, wh);
                let unit = [Point::new(0.0, 0.0), Point::new(1.0, 0.0), Point::new(1.0, 1.0), Point::new(0.0, 1.0)];
                to_document = Homography::from_points(&working_quad.corners, &unit);
            }
            None => self.region.fill_full(ww, wh),
        }
        if self.region.pixels() == 0 {
            self.region.fill_full(ww, wh);
        }

        let exposure: ExposureReport = exposure::measure_region(&self.current, &self.region);
        let sharp = match &boundary {
            Some(b) => self.document_sharpness(frame, &b.quad),
            None => sharpness::measure_region(&self.current, &self.region, &mut self.noise_blocks),
        };
        let glare = glare::measure_region(&self.current, &self.region, to_document.as_ref(), &mut self.glare_scratch);
        let motion = if self.has_previous { motion::mean_abs_diff(&self.current, &self.previous) } else { None };
        let diag = f64::from(frame.width()).hypot(f64::from(frame.height()));
        let corner_motion = match (&boundary, &self.previous_quad) {
            (Some(b), Some(prev)) => (b.quad.max_corner_distance(prev) / diag) as f32,
            _ => 0.0,
        };
        std::mem::swap(&mut self.current, &mut self.previous);
        self.has_previous = true;
        self.previous_quad = boundary.map(|b| b.quad);

        let quality = QualityReport::from_metrics(sharp, glare, exposure, motion.unwrap_or(0.0), &cfg.quality);
        let t = &cfg.quality;
        let dark = exposure.mean < t.min_mean;
        let bright = exposure.mean > t.max_mean;
        let flat = exposure.contrast < t.min_contrast;
        let blurry = sharp.score < t.min_sharpness;
        let zones = glare.zones;
        let glary =
            glare.area_share > t.max_glare || zones.portrait > cfg.max_zone_glare || zones.mrz > cfg.max_zone_glare;
        let moving = motion.unwrap_or(0.0) > t.max_motion || corner_motion > cfg.max_corner_motion;
        let mut reasons = GuidanceList::default();
        if dark {
            reasons.push(Guidance::MoreLight);
        }
        if bright {
            reasons.push(Guidance::TooBright);
        }
        match &boundary {
            None => {
                if blurry && !flat {
                    reasons.push(Guidance::TooBlurry);
                }
                reasons.push(Guidance::NoDocument);
            }
            Some(b) => {
                if b.touches_border || b.fill > cfg.max_fill {
                    reasons.push(Guidance::MoveAway);
                }
                if b.fill < cfg.min_fill {
                    reasons.push(Guidance::MoveCloser);
                }
                if b.tilt > cfg.max_tilt {
                    reasons.push(Guidance::Align);
                }
            }
        }
        if flat {
            reasons.push(Guidance::LowContrast);
        }
        if glary {
            reasons.push(Guidance::ReduceGlare);
        }
        if blurry {
            reasons.push(Guidance::TooBlurry);
        }
        if moving {
            reasons.push(Guidance::HoldStill);
        }
        let guidance = reasons.primary();
        DocumentReport { quality, boundary, glare, corner_motion, reasons, guidance, acceptable: reasons.is_empty() }
    }

    /// Sharpness of the document at a resolution tied to the document, not the frame: the document's
    /// bounding box is cropped from the full-resolution frame and averaged down by the largest whole
    /// factor that keeps its longer side at least [`DETAIL_SIDE`] pixels. A card filling a 720p frame and
    /// the same card in a 4K photo are then judged on the same detail, and fine blur (σ ≈ 1 px) that the
    /// 640-pixel working image would average away is still seen.
    pub fn document_sharpness(&mut self, frame: &Frame<'_>, quad: &Quad) -> sharpness::SharpnessReport {
        let (fw, fh) = (f64::from(frame.width()), f64::from(frame.height()));
        let x0 = quad.corners.iter().map(|c| c.x).fold(f64::INFINITY, f64::min).floor().clamp(0.0, fw) as u32;
        let y0 = quad.corners.iter().map(|c| c.y).fold(f64::INFINITY, f64::min).floor().clamp(0.0, fh) as u32;
        let x1 = quad.corners.iter().map(|c| c.x).fold(f64::NEG_INFINITY, f64::max).ceil().clamp(0.0, fw) as u32;
        let y1 = quad.corners.iter().map(|c| c.y).fold(f64::NEG_INFINITY, f64::max).ceil().clamp(0.0, fh) as u32;
        let Some(crop) = frame.crop(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0)) else {
            return sharpness::SharpnessReport::default();
        };
        let sides = quad.side_lengths();
        let longest = sides.iter().copied().fold(0.0, f64::max);
        let factor = ((longest / f64::from(DETAIL_SIDE)).floor() as u32).max(1);
        if factor == 1 {
            self.detail.fill_luma_full_resolution(&crop);
        } else {
            self.detail.fill_from_frame(&crop, factor);
        }
        let k = 1.0 / f64::from(factor);
        let local =
            Quad { corners: quad.corners.map(|c| Point::new((c.x - f64::from(x0)) * k, (c.y - f64::from(y0)) * k)) };
        self.detail_region.fill_from_quad(&inset(&local, 0.04), self.detail.width(), self.detail.height());
        sharpness::measure_region(&self.detail, &self.detail_region, &mut self.noise_blocks)
    }

    /// Capacities of every internal buffer (for allocation tests).
    pub fn capacities(&self) -> Vec<usize> {
        let mut v = self.current.capacities().to_vec();
        v.extend(self.previous.capacities());
        v.extend(self.detector.capacities());
        v.push(self.region.capacity());
        v.extend(self.detail.capacities());
        v.push(self.detail_region.capacity());
        v.extend(self.glare_scratch.capacities());
        v.extend(self.glare_scratch.sum_capacities());
        v.push(self.noise_blocks.capacity());
        v
    }
}

/// `quad` moved towards its centroid by `fraction` of each corner's distance.
fn inset(quad: &Quad, fraction: f64) -> Quad {
    let c = quad.centroid();
    Quad { corners: quad.corners.map(|p| Point::new(p.x + (c.x - p.x) * fraction, p.y + (c.y - p.y) * fraction)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    fn analyze(rgba: &[u8], w: u32, h: u32) -> DocumentReport {
        DocumentAnalyzer::new().analyze(&Frame::packed(rgba, w, h).unwrap())
    }

    #[test]
    fn clean_card_is_ready_and_blank_frame_has_no_document() {
        let (w, h) = (1280, 720);
        let r = analyze(&synth::document_scene(w, h, 4), w, h);
        assert_eq!(r.guidance, Guidance::Ready, "{:?}", r.reasons.iter().collect::<Vec<_>>());
        assert!(r.acceptable);
        let blank = vec![128u8; (w * h * 4) as usize];
        let r = analyze(&blank, w, h);
        assert_eq!(r.guidance, Guidance::NoDocument);
        assert!(r.reasons.contains(Guidance::LowContrast));
        assert!(!r.acceptable);
    }

    #[test]
    fn reasons_are_ranked_and_darkness_comes_first() {
        let (w, h) = (1280, 720);
        let mut img = synth::document_scene(w, h, 4);
        synth::gaussian_blur_rgba(&mut img, w, h, 8.0);
        synth::scale_brightness_rgba(&mut img, 1, 5);
        let r = analyze(&img, w, h);
        let reasons: Vec<Guidance> = r.reasons.iter().collect();
        assert_eq!(reasons.first(), Some(&Guidance::MoreLight));
        assert!(reasons.contains(&Guidance::TooBlurry), "{reasons:?}");
        assert_eq!(r.guidance, Guidance::MoreLight);
        assert_eq!(serde_json::to_value(r.reasons).unwrap()[0], "more_light");
    }

    #[test]
    fn framing_guidance() {
        // A small card far away: move closer.
        let (w, h) = (1280, 720);
        let table = |w: u32, h: u32| -> Vec<u8> { [110u8, 96, 84, 255].repeat((w * h) as usize) };
        let rect = |x0: f64, y0: f64, x1: f64, y1: f64| {
            [Point::new(x0, y0), Point::new(x1, y0), Point::new(x1, y1), Point::new(x0, y1)]
        };
        let mut small = table(w, h);
        synth::place_card(&mut small, w, h, DocumentFormat::Id1, &rect(480.0, 260.0, 800.0, 462.0), 4);
        let r = analyze(&small, w, h);
        assert!(r.boundary.is_some());
        assert_eq!(r.guidance, Guidance::MoveCloser, "{:?}", r.reasons.iter().collect::<Vec<_>>());
        // A card whose corner reaches the frame border: move away.
        let mut edge = table(w, h);
        synth::place_card(&mut edge, w, h, DocumentFormat::Id1, &rect(120.0, 14.0, 1100.0, 632.0), 4);
        let r = analyze(&edge, w, h);
        assert!(r.boundary.is_some_and(|b| b.touches_border), "{:?}", r.boundary);
        assert_eq!(r.guidance, Guidance::MoveAway);
        // A strongly foreshortened card: align.
        let mut tilted = table(w, h);
        let trapezoid =
            [Point::new(480.0, 200.0), Point::new(800.0, 200.0), Point::new(1000.0, 560.0), Point::new(280.0, 560.0)];
        synth::place_card(&mut tilted, w, h, DocumentFormat::Id1, &trapezoid, 4);
        let r = analyze(&tilted, w, h);
        assert!(r.reasons.contains(Guidance::Align), "{:?}", r.reasons.iter().collect::<Vec<_>>());
    }

    #[test]
    fn glare_on_the_portrait_is_reported_by_zone() {
        let (w, h) = (1280, 720);
        let mut img = synth::document_scene(w, h, 4);
        let corners = synth::document_scene_corners(w, h);
        // Centre of the portrait zone: 19% across, 47% down the card.
        let px = corners[0].x + 0.19 * (corners[1].x - corners[0].x);
        let py = corners[0].y + 0.47 * (corners[3].y - corners[0].y);
        synth::add_glare_rgba(&mut img, w, h, px as u32, py as u32, 40);
        let r = analyze(&img, w, h);
        assert!(r.glare.zones.portrait > 0.05, "{:?}", r.glare.zones);
        assert!(r.glare.zones.mrz < 0.01 && r.glare.zones.text < 0.01, "{:?}", r.glare.zones);
        assert!(r.reasons.contains(Guidance::ReduceGlare));
        let blob = r.glare.blobs[0];
        assert!((blob.x - 0.19).abs() < 0.05 && (blob.y - 0.47).abs() < 0.05, "{blob:?}");
    }

    #[test]
    fn glare_area_in_the_document_matches_the_truth() {
        let (w, h) = (1280, 720);
        let mut img = synth::document_scene(w, h, 6);
        let c = synth::document_scene_corners(w, h);
        let truth = synth::add_glare_rgba(&mut img, w, h, 700, 330, 60);
        let r = analyze(&img, w, h);
        let b = r.boundary.expect("card found");
        // Truth share of the measured region (the document inset by 4%: area × 0.96²).
        let doc_area = (c[1].x - c[0].x) * (c[3].y - c[0].y);
        let truth_share = f64::from(truth) / (doc_area * 0.96 * 0.96);
        let got = f64::from(r.glare.area_share);
        assert!((got - truth_share).abs() <= 0.1 * truth_share, "{got} vs {truth_share} ({b:?})");
    }

    #[test]
    fn sharpness_ordering_across_blur_strengths_and_noise_trap() {
        let (w, h) = (1280, 720);
        let scene = synth::card_scene(w, h, 5, DocumentFormat::Id1, false);
        let mut last = f32::INFINITY;
        for sigma in [0.0f32, 1.0, 1.5, 2.0, 3.0, 4.0] {
            let mut img = scene.rgba.clone();
            synth::gaussian_blur_rgba(&mut img, w, h, sigma);
            let s = analyze(&img, w, h).quality.sharpness.score;
            assert!(s < last, "σ {sigma}: {s} not below {last}");
            last = s;
        }
        let mut last = f32::INFINITY;
        for length in [1u32, 9, 17, 33] {
            let mut img = scene.rgba.clone();
            synth::motion_blur_rgba(&mut img, w, h, length);
            let s = analyze(&img, w, h).quality.sharpness.score;
            assert!(s < last, "motion {length}: {s} not below {last}");
            last = s;
        }
        // Low light: darkened with strong noise must not look sharper than the clean frame.
        let clean = analyze(&scene.rgba, w, h).quality.sharpness.score;
        let mut dark = scene.rgba.clone();
        synth::scale_brightness_rgba(&mut dark, 1, 2);
        synth::add_noise_rgba(&mut dark, 3, 12);
        let noisy = analyze(&dark, w, h);
        assert!(noisy.quality.sharpness.score <= clean, "{} vs {clean}", noisy.quality.sharpness.score);
        assert!(noisy.quality.sharpness.noise > 2.0);
    }

    #[test]
    fn a_blurred_frame_without_a_document_asks_for_focus_first() {
        let (w, h) = (640, 360);
        let mut img = synth::document_scene(w, h, 42);
        synth::gaussian_blur_rgba(&mut img, w, h, 6.0);
        let r = analyze(&img, w, h);
        if r.boundary.is_none() {
            let reasons: Vec<Guidance> = r.reasons.iter().collect();
            assert_eq!(reasons[..2], [Guidance::TooBlurry, Guidance::NoDocument]);
        }
        assert_eq!(r.guidance, Guidance::TooBlurry);
    }

    #[test]
    fn steady_state_allocates_nothing() {
        let (w, h) = (1280, 720);
        let scene = synth::card_scene(w, h, 7, DocumentFormat::Id1, false);
        let frame = Frame::packed(&scene.rgba, w, h).unwrap();
        let mut a = DocumentAnalyzer::new();
        a.analyze(&frame);
        a.analyze(&frame);
        let caps = a.capacities();
        for _ in 0..3 {
            a.analyze(&frame);
        }
        assert_eq!(a.capacities(), caps);
    }

    #[test]
    fn corner_motion_and_configured_format() {
        let (w, h) = (1280, 720);
        let a = synth::card_scene(w, h, 5, DocumentFormat::Id1, false);
        let b = synth::card_scene(w, h, 15, DocumentFormat::Id1, false);
        let mut analyzer =
            DocumentAnalyzer::with_config(DocumentConfig { format: Some(DocumentFormat::Id3), ..Default::default() });
        let first = analyzer.analyze(&Frame::packed(&a.rgba, w, h).unwrap());
        assert_eq!(first.corner_motion, 0.0);
        assert_eq!(first.boundary.map(|b| b.format), Some(DocumentFormat::Id3));
        let second = analyzer.analyze(&Frame::packed(&b.rgba, w, h).unwrap());
        assert!(second.corner_motion > 0.02);
        assert!(second.reasons.contains(Guidance::HoldStill));
    }
}
