//! Per-frame quality analysis: the working image, all metrics, and the verdict.
//!
//! [`QualityAnalyzer`] owns the reusable buffers (current and previous working image, glare scratch), so
//! analysing a stream of same-sized frames allocates nothing after the first frame. Each call to
//! [`QualityAnalyzer::analyze`] computes sharpness, glare, exposure and motion (against the previous frame)
//! and derives the primary [`Guidance`] from [`QualityThresholds`].

use serde::Serialize;

use crate::exposure::{self, ExposureReport};
use crate::frame::Frame;
use crate::glare::{self, GlareReport, GlareScratch};
use crate::guidance::Guidance;
use crate::luma::{WORKING_MAX_SIDE, WorkingImage, downscale_factor};
use crate::motion;
use crate::sharpness::{self, SharpnessReport};

/// Acceptance thresholds. A frame is acceptable when every check passes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualityThresholds {
    /// Minimum sharpness score (0..1).
    pub min_sharpness: f32,
    /// Maximum glare area share (0..1).
    pub max_glare: f32,
    /// Minimum mean luma; below it: `more_light`.
    pub min_mean: f32,
    /// Maximum mean luma; above it: `too_bright`.
    pub max_mean: f32,
    /// Minimum luma standard deviation; below it: `low_contrast`.
    pub min_contrast: f32,
    /// Maximum mean absolute luma difference to the previous frame; above it: `hold_still`.
    pub max_motion: f32,
}

impl Default for QualityThresholds {
    /// Defaults calibrated on [`synth::document_scene`](crate::synth::document_scene) at 640x360 and
    /// 1280x720 (sharpness score: sharp ≈ 0.75, Gaussian σ = 1 ≈ 0.59, σ = 2 ≈ 0.37, σ = 3 ≈ 0.20,
    /// horizontal motion blur of 9 px ≈ 0.29; scene mean ≈ 145, contrast ≈ 55), with margins for real cameras.
    fn default() -> Self {
        QualityThresholds {
            min_sharpness: 0.35,
            max_glare: 0.02,
            min_mean: 45.0,
            max_mean: 215.0,
            min_contrast: 18.0,
            max_motion: 8.0,
        }
    }
}

impl QualityThresholds {
    /// The primary guidance for these metrics (priority: exposure > contrast > glare > blur > motion).
    pub fn guidance(
        &self,
        sharpness: &SharpnessReport,
        glare: &GlareReport,
        exposure: &ExposureReport,
        motion: f32,
    ) -> Guidance {
        if exposure.mean < self.min_mean {
            Guidance::MoreLight
        } else if exposure.mean > self.max_mean {
            Guidance::TooBright
        } else if exposure.contrast < self.min_contrast {
            Guidance::LowContrast
        } else if glare.area_share > self.max_glare {
            Guidance::ReduceGlare
        } else if sharpness.score < self.min_sharpness {
            Guidance::TooBlurry
        } else if motion > self.max_motion {
            Guidance::HoldStill
        } else {
            Guidance::Ready
        }
    }
}

/// Number of entries returned by [`QualityReport::metrics`].
pub const METRIC_COUNT: usize = 9;

/// Quality of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualityReport {
    /// Focus measure.
    pub sharpness: SharpnessReport,
    /// Specular glare.
    pub glare: GlareReport,
    /// Exposure statistics.
    pub exposure: ExposureReport,
    /// Mean absolute luma difference to the previous frame (0 for the first frame or after a size change).
    pub motion: f32,
    /// The primary guidance for this frame alone.
    pub guidance: Guidance,
    /// All checks pass (`guidance == Ready`).
    pub acceptable: bool,
}

impl Default for QualityReport {
    /// An all-zero report with guidance `no_document`, not acceptable.
    fn default() -> Self {
        QualityReport {
            sharpness: SharpnessReport::default(),
            glare: GlareReport::default(),
            exposure: ExposureReport::default(),
            motion: 0.0,
            guidance: Guidance::NoDocument,
            acceptable: false,
        }
    }
}

impl QualityReport {
    /// Assembles a report and judges it against `thresholds`.
    pub fn from_metrics(
        sharpness: SharpnessReport,
        glare: GlareReport,
        exposure: ExposureReport,
        motion: f32,
        thresholds: &QualityThresholds,
    ) -> Self {
        let guidance = thresholds.guidance(&sharpness, &glare, &exposure, motion);
        QualityReport { sharpness, glare, exposure, motion, guidance, acceptable: guidance == Guidance::Ready }
    }

    /// Flat named metrics for the signed manifest (names match `[a-z0-9_.]+`, order is stable).
    pub fn metrics(&self) -> [(&'static str, f64); METRIC_COUNT] {
        [
            ("sharpness", f64::from(self.sharpness.score)),
            ("sharpness.focus", f64::from(self.sharpness.focus)),
            ("glare", f64::from(self.glare.area_share)),
            ("glare.largest_blob", f64::from(self.glare.largest_blob_share)),
            ("exposure.mean", f64::from(self.exposure.mean)),
            ("exposure.contrast", f64::from(self.exposure.contrast)),
            ("exposure.dark_share", f64::from(self.exposure.dark_share)),
            ("exposure.bright_share", f64::from(self.exposure.bright_share)),
            ("motion", f64::from(self.motion)),
        ]
    }
}

/// Reusable per-stream analyser. Allocates nothing per frame in steady state (same frame size).
#[derive(Debug, Clone)]
pub struct QualityAnalyzer {
    thresholds: QualityThresholds,
    current: WorkingImage,
    previous: WorkingImage,
    has_previous: bool,
    glare_scratch: GlareScratch,
}

impl Default for QualityAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl QualityAnalyzer {
    /// Analyser with [`QualityThresholds::default`].
    pub fn new() -> Self {
        Self::with_thresholds(QualityThresholds::default())
    }

    /// Analyser with custom thresholds.
    pub fn with_thresholds(t: QualityThresholds) -> Self {
        QualityAnalyzer {
            thresholds: t,
            current: WorkingImage::new(),
            previous: WorkingImage::new(),
            has_previous: false,
            glare_scratch: GlareScratch::new(),
        }
    }

    /// The thresholds in use.
    pub fn thresholds(&self) -> &QualityThresholds {
        &self.thresholds
    }

    /// Replaces the thresholds (keeps the previous frame).
    pub fn set_thresholds(&mut self, t: QualityThresholds) {
        self.thresholds = t;
    }

    /// Analyses `frame`; also updates motion against the previous frame.
    pub fn analyze(&mut self, frame: &Frame<'_>) -> QualityReport {
        let factor = downscale_factor(frame.width(), frame.height(), WORKING_MAX_SIDE);
        self.current.fill_from_frame(frame, factor);
        let exposure = exposure::measure(&self.current);
        let sharpness = sharpness::measure(&self.current);
        let glare = glare::measure_with(&self.current, &mut self.glare_scratch);
        let motion = if self.has_previous { motion::mean_abs_diff(&self.current, &self.previous) } else { None };
        std::mem::swap(&mut self.current, &mut self.previous);
        self.has_previous = true;
        QualityReport::from_metrics(sharpness, glare, exposure, motion.unwrap_or(0.0), &self.thresholds)
    }

    /// The working image of the most recently analysed frame (empty before the first frame).
    pub fn last_working_image(&self) -> &WorkingImage {
        &self.previous
    }

    /// Forget the previous frame (the next frame reports motion 0).
    pub fn reset(&mut self) {
        self.has_previous = false;
    }

    #[cfg(test)]
    fn capacities(&self) -> Vec<usize> {
        let mut v = self.current.capacities().to_vec();
        v.extend(self.previous.capacities());
        v.extend(self.glare_scratch.capacities());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    fn analyze_once(rgba: &[u8], w: u32, h: u32) -> QualityReport {
        QualityAnalyzer::new().analyze(&Frame::packed(rgba, w, h).unwrap())
    }

    /// Full-range BT.601 YUV 4:2:0 → RGBA, the inverse of `synth::write_y4m`'s conversion (test helper).
    fn y4m_round_trip(rgba: &[u8], w: u32, h: u32, limited_range: bool) -> Vec<u8> {
        let file = synth::write_y4m(&[rgba.to_vec()], w, h, 30).unwrap();
        let header_end = file.iter().position(|&b| b == b'\n').unwrap() + 1;
        let data = &file[header_end + b"FRAME\n".len()..];
        let (w, h) = (w as usize, h as usize);
        let (y_plane, rest) = data.split_at(w * h);
        let (u_plane, v_plane) = rest.split_at(w * h / 4);
        let mut out = vec![255u8; w * h * 4];
        for y in 0..h {
            for x in 0..w {
                let mut luma = f64::from(y_plane[y * w + x]);
                let mut cb = f64::from(u_plane[(y / 2) * (w / 2) + x / 2]) - 128.0;
                let mut cr = f64::from(v_plane[(y / 2) * (w / 2) + x / 2]) - 128.0;
                if limited_range {
                    // What a player assuming studio swing would show.
                    luma = (luma - 16.0) * 255.0 / 219.0;
                    cb *= 255.0 / 224.0;
                    cr *= 255.0 / 224.0;
                }
                let r = luma + 1.402 * cr;
                let g = luma - 0.344136 * cb - 0.714136 * cr;
                let b = luma + 1.772 * cb;
                let i = (y * w + x) * 4;
                out[i] = r.round().clamp(0.0, 255.0) as u8;
                out[i + 1] = g.round().clamp(0.0, 255.0) as u8;
                out[i + 2] = b.round().clamp(0.0, 255.0) as u8;
            }
        }
        out
    }

    #[test]
    fn sharp_scene_is_ready() {
        for (w, h) in [(640, 360), (1280, 720), (640, 480), (1920, 1080)] {
            let img = synth::document_scene(w, h, 11);
            let r = analyze_once(&img, w, h);
            assert_eq!(r.guidance, Guidance::Ready, "{w}x{h}: {r:?}");
            assert!(r.acceptable);
            assert_eq!(r.motion, 0.0);
        }
    }

    #[test]
    fn sharp_scene_is_ready_after_y4m_round_trip() {
        for (w, h) in [(640, 360), (1280, 720)] {
            let img = synth::document_scene(w, h, 12);
            for limited in [false, true] {
                let back = y4m_round_trip(&img, w, h, limited);
                let r = analyze_once(&back, w, h);
                assert_eq!(r.guidance, Guidance::Ready, "{w}x{h} limited={limited}: {r:?}");
            }
        }
    }

    #[test]
    fn y4m_round_trip_error_is_small() {
        let (w, h) = (640, 360);
        let img = synth::document_scene(w, h, 21);
        let back = y4m_round_trip(&img, w, h, false);
        let mut sum = 0u64;
        for (a, b) in img.chunks_exact(4).zip(back.chunks_exact(4)) {
            for c in 0..3 {
                sum += u64::from(a[c].abs_diff(b[c]));
            }
        }
        let mean_err = sum as f64 / (3 * w * h) as f64;
        assert!(mean_err < 4.0, "mean abs RGB error {mean_err}");
        // Luma survives almost exactly.
        let (a, b) = (analyze_once(&img, w, h), analyze_once(&back, w, h));
        assert!((a.exposure.mean - b.exposure.mean).abs() < 1.0);
        assert!((a.sharpness.score - b.sharpness.score).abs() < 0.02);
    }

    #[test]
    fn blurred_scene_is_too_blurry() {
        let (w, h) = (640, 360);
        let sharp = synth::document_scene(w, h, 13);
        for sigma in [3.0, 4.0, 8.0] {
            let mut img = sharp.clone();
            synth::gaussian_blur_rgba(&mut img, w, h, sigma);
            assert_eq!(analyze_once(&img, w, h).guidance, Guidance::TooBlurry, "sigma {sigma}");
            let back = y4m_round_trip(&img, w, h, false);
            assert_eq!(analyze_once(&back, w, h).guidance, Guidance::TooBlurry, "sigma {sigma} y4m");
        }
    }

    #[test]
    fn motion_blur_is_too_blurry() {
        let (w, h) = (640, 360);
        let mut img = synth::document_scene(w, h, 14);
        synth::motion_blur_rgba(&mut img, w, h, 9);
        assert_eq!(analyze_once(&img, w, h).guidance, Guidance::TooBlurry);
    }

    #[test]
    fn noise_does_not_fail_sharp_scene() {
        let (w, h) = (640, 360);
        let mut img = synth::document_scene(w, h, 15);
        synth::add_noise_rgba(&mut img, 99, 6);
        assert_eq!(analyze_once(&img, w, h).guidance, Guidance::Ready);
    }

    #[test]
    fn exposure_guidance() {
        let (w, h) = (640, 360);
        let sharp = synth::document_scene(w, h, 16);

        let mut dark = sharp.clone();
        synth::scale_brightness_rgba(&mut dark, 15, 100);
        assert_eq!(analyze_once(&dark, w, h).guidance, Guidance::MoreLight);

        let mut bright = sharp.clone();
        synth::scale_brightness_rgba(&mut bright, 2, 1);
        assert_eq!(analyze_once(&bright, w, h).guidance, Guidance::TooBright);

        // Fog: compress towards mid grey (v' = 128 + (v - 128) / 5).
        let mut flat = sharp.clone();
        for (i, v) in flat.iter_mut().enumerate() {
            if i % 4 != 3 {
                *v = (128 + (i32::from(*v) - 128) / 5) as u8;
            }
        }
        assert_eq!(analyze_once(&flat, w, h).guidance, Guidance::LowContrast);
    }

    #[test]
    fn big_glare_blob_is_reduce_glare() {
        for (w, h, radius) in [(640u32, 360u32, 80u32), (1280, 720, 160)] {
            let mut img = synth::document_scene(w, h, 17);
            let n = synth::add_glare_rgba(&mut img, w, h, w / 2, h / 2, radius);
            assert!(n as f64 >= 0.08 * f64::from(w * h), "{n}");
            assert_eq!(analyze_once(&img, w, h).guidance, Guidance::ReduceGlare, "{w}x{h}");
        }
    }

    #[test]
    fn motion_between_frames_and_reset() {
        let (w, h) = (640, 360);
        let a = synth::document_scene(w, h, 18);
        let b = synth::document_scene(w, h, 19); // different texture/text: big difference
        let mut an = QualityAnalyzer::new();
        assert_eq!(an.analyze(&Frame::packed(&a, w, h).unwrap()).motion, 0.0);
        assert_eq!(an.analyze(&Frame::packed(&a, w, h).unwrap()).motion, 0.0);
        let r = an.analyze(&Frame::packed(&b, w, h).unwrap());
        assert!(r.motion > 8.0, "{}", r.motion);
        assert_eq!(r.guidance, Guidance::HoldStill);
        an.reset();
        assert_eq!(an.analyze(&Frame::packed(&a, w, h).unwrap()).motion, 0.0);
        // Size change: motion is 0, no panic.
        let small = synth::document_scene(320, 180, 1);
        assert_eq!(an.analyze(&Frame::packed(&small, 320, 180).unwrap()).motion, 0.0);
    }

    #[test]
    fn no_allocation_in_steady_state_and_deterministic() {
        let (w, h) = (1280, 720);
        let frames: Vec<Vec<u8>> = (0..4).map(|s| synth::document_scene(w, h, 20 + s)).collect();
        let mut a = QualityAnalyzer::new();
        let mut b = QualityAnalyzer::new();
        let mut caps = None;
        for (i, f) in frames.iter().enumerate() {
            let frame = Frame::packed(f, w, h).unwrap();
            let ra = a.analyze(&frame);
            let rb = b.analyze(&frame);
            assert_eq!(ra, rb);
            assert_eq!(ra.metrics().map(|m| m.1.to_bits()), rb.metrics().map(|m| m.1.to_bits()));
            if i == 1 {
                caps = Some(a.capacities());
            } else if i > 1 {
                assert_eq!(caps.as_ref(), Some(&a.capacities()));
            }
        }
    }

    #[test]
    fn metric_names_are_valid() {
        let r = analyze_once(&synth::document_scene(64, 36, 1), 64, 36);
        let metrics = r.metrics();
        for (name, value) in metrics {
            assert!(
                !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
            );
            assert!(value.is_finite());
        }
        let names: std::collections::BTreeSet<_> = metrics.iter().map(|m| m.0).collect();
        assert_eq!(names.len(), METRIC_COUNT);
        for required in ["sharpness", "glare", "exposure.mean", "exposure.contrast", "motion"] {
            assert!(names.contains(required));
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_frames_do_not_panic(w in 1u32..48, h in 1u32..48, pad in 0usize..7, seed in proptest::prelude::any::<u64>()) {
            let stride = w as usize * 4 + pad;
            let mut data = vec![0u8; stride * h as usize];
            synth::add_noise_rgba(&mut data, seed, 255);
            let frame = Frame::new(&data, w, h, stride).unwrap();
            let mut an = QualityAnalyzer::new();
            let r1 = an.analyze(&frame);
            let r2 = an.analyze(&frame);
            proptest::prop_assert_eq!(r2.motion, 0.0);
            proptest::prop_assert_eq!(r1.guidance, r2.guidance);
            for (_, v) in r1.metrics() {
                proptest::prop_assert!(v.is_finite());
            }
            proptest::prop_assert!((0.0..=1.0).contains(&r1.sharpness.score));
            proptest::prop_assert!((0.0..=1.0).contains(&r1.glare.area_share));
        }
    }

    #[test]
    fn tiny_frames_do_not_panic() {
        for (w, h) in [(1, 1), (2, 1), (1, 8192), (8192, 1), (3, 3)] {
            let data = vec![128u8; (w * h * 4) as usize];
            let r = analyze_once(&data, w, h);
            assert!(!r.acceptable);
        }
    }
}
