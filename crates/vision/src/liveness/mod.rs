//! Passive liveness: is the face in front of the camera a live person, from a short burst of frames?
//!
//! The user only holds still for one to two seconds: no gestures, no flashing screen. Each frame of the burst
//! goes into a [`LivenessAnalyzer`] with the face box from the detector and a timestamp; [`LivenessAnalyzer::report`]
//! then gives independent signals, each an attack likelihood with an explanation, and a combined score:
//!
//! | signal | module | what it sees |
//! |---|---|---|
//! | `planar_motion` | [`planar`] | points of a photo or screen move by one homography; a head does not |
//! | `screen_or_print_pattern` | [`spectrum`] | moiré, a screen's pixel grid or a halftone screen as spectral peaks |
//! | `flicker` | here | a screen's refresh beating with the camera: the face's brightness jumps frame to frame |
//! | `colour` | [`colour`] | a grey or washed-out copy of a face |
//! | `injection` | [`injection`] | copied frames, impossible timing, virtual-camera software |
//!
//! The combined liveness score is `1 − max(attack likelihoods)`: one strong sign of an attack is enough, and
//! the report says which. Signals that had nothing to judge (a burst without motion says nothing about
//! planarity) are reported as such, with no weight. Every signal is computed from pixels and timestamps
//! only, so the verifier recomputes the same figures from the uploaded burst.
//!
//! The analyser keeps a fixed working region (the first frame's face, enlarged 1.5×, resampled so the face
//! is [`FACE_WORK_WIDTH`] pixels wide) for the whole burst, so motion is measured in one coordinate frame.

pub mod colour;
pub mod fft;
pub mod injection;
pub mod known_image;
pub mod planar;
pub mod simulate;
pub mod spectrum;

use crate::frame::Frame;
use colour::ChromaReport;
use injection::InjectionReport;
use planar::{MotionTracker, PlanarReport, Rect};
use spectrum::PeakReport;

/// Width of the face in the working region, pixels.
pub const FACE_WORK_WIDTH: f64 = 128.0;
/// Most frames a burst may have (about 4 s at 30 fps); later frames are refused.
pub const MAX_FRAMES: usize = 120;

/// The face's box in frame pixels, as the detector gives it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FaceBox {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LivenessError {
    /// The face box is not finite, has no area, or lies outside the frame.
    #[error("the face box is empty, not finite or outside the frame")]
    BadFaceBox,
    /// The frame size differs from the burst's first frame.
    #[error("the frame size changed during the burst")]
    SizeChanged,
    /// The burst already has [`MAX_FRAMES`] frames.
    #[error("the burst is full")]
    TooManyFrames,
    /// A timestamp is not finite.
    #[error("the timestamp is not finite")]
    BadTimestamp,
}

impl LivenessError {
    /// Stable code.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::BadFaceBox => "bad_face_box",
            Self::SizeChanged => "frame_size_changed",
            Self::TooManyFrames => "too_many_frames",
            Self::BadTimestamp => "bad_timestamp",
        }
    }
}

/// Settings of the combined decision.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LivenessConfig {
    /// Liveness score at or above which the burst passes.
    pub threshold: f64,
    /// Fewest frames for a verdict.
    pub min_frames: usize,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        LivenessConfig { threshold: 0.5, min_frames: 8 }
    }
}

/// One signal of the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Signal {
    /// Stable name (`planar_motion`, `screen_or_print_pattern`, `flicker`, `colour`, `injection`).
    pub name: &'static str,
    /// Likelihood of an attack in `[0, 1]`.
    pub attack: f64,
    /// Whether the burst gave this signal anything to judge.
    pub judged: bool,
    /// What was seen, in words.
    pub explanation: String,
}

/// The liveness verdict of a burst.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LivenessReport {
    /// Frames analysed.
    pub frames: usize,
    /// `1 − max(attack)` over the judged signals, in `[0, 1]`.
    pub score: f64,
    /// Enough frames and `score ≥ threshold`.
    pub passed: bool,
    /// The signal that decided (the strongest attack sign), if any was judged.
    pub decisive: Option<&'static str>,
    /// Every signal.
    pub signals: Vec<Signal>,
    /// Planar-motion measurements.
    pub planar: PlanarReport,
    /// Median spectral peak over the frames.
    pub pattern: PeakReport,
    /// Frame-to-frame brightness jumps of the face, relative to its brightness.
    pub flicker: f64,
    /// Chroma of the face (median frame).
    pub chroma: ChromaReport,
    /// Injection evidence.
    pub injection: InjectionReport,
}

/// The fixed working region of a burst.
#[derive(Debug, Clone, Copy)]
struct Region {
    x0: f64,
    y0: f64,
    /// Frame pixels per working pixel.
    step: f64,
    side: usize,
    face: Rect,
    frame_size: (u32, u32),
}

/// Accumulates a burst and judges it.
#[derive(Debug, Clone, Default)]
pub struct LivenessAnalyzer {
    config: LivenessConfig,
    region: Option<Region>,
    work: Vec<f32>,
    prev: Vec<f32>,
    tracker: Option<MotionTracker>,
    timestamps: Vec<f64>,
    diffs: Vec<f64>,
    peaks: Vec<PeakReport>,
    chroma: Vec<ChromaReport>,
    face_means: Vec<f64>,
    patch: Vec<f64>,
    scratch: ResampleScratch,
    camera_label: Option<String>,
}

impl LivenessAnalyzer {
    /// An empty burst with these settings.
    pub fn new(config: LivenessConfig) -> Self {
        LivenessAnalyzer { config, ..Default::default() }
    }

    /// Records the camera's track label (for the virtual-camera check).
    pub fn set_camera_label(&mut self, label: &str) {
        self.camera_label = Some(label.chars().take(200).collect());
    }

    /// Frames pushed so far.
    pub fn frames(&self) -> usize {
        self.timestamps.len()
    }

    /// Adds one frame with the detector's face box and its timestamp in milliseconds.
    pub fn push(&mut self, frame: &Frame<'_>, face: FaceBox, timestamp_ms: f64) -> Result<(), LivenessError> {
        if !timestamp_ms.is_finite() {
            return Err(LivenessError::BadTimestamp);
        }
        if self.timestamps.len() >= MAX_FRAMES {
            return Err(LivenessError::TooManyFrames);
        }
        let (fw, fh) = (f64::from(frame.width()), f64::from(frame.height()));
        let valid = [face.x, face.y, face.width, face.height].iter().all(|v| v.is_finite())
            && face.width >= 8.0
            && face.height >= 8.0
            && face.x + face.width > 0.0
            && face.y + face.height > 0.0
            && face.x < fw
            && face.y < fh;
        if !valid {
            return Err(LivenessError::BadFaceBox);
        }
        let region = match self.region {
            Some(r) if r.frame_size != (frame.width(), frame.height()) => return Err(LivenessError::SizeChanged),
            Some(r) => r,
            None => {
                let side_frame = 1.5 * face.width.max(face.height);
                let step = face.width / FACE_WORK_WIDTH;
                let side = (side_frame / step).round().clamp(32.0, 256.0) as usize;
                let (cx, cy) = (face.x + face.width / 2.0, face.y + face.height / 2.0);
                let half = side as f64 * step / 2.0;
                let r = Region {
                    x0: cx - half,
                    y0: cy - half,
                    step,
                    side,
                    face: Rect {
                        x: (face.x - (cx - half)) / step,
                        y: (face.y - (cy - half)) / step,
                        w: face.width / step,
                        h: face.height / step,
                    },
                    frame_size: (frame.width(), frame.height()),
                };
                self.region = Some(r);
                r
            }
        };
        resample_luma(frame, &region, &mut self.work, &mut self.scratch);

        // Motion.
        match &mut self.tracker {
            None => self.tracker = MotionTracker::new(&self.work, region.side, region.side, region.face),
            Some(t) => {
                t.track(&self.work);
            }
        }
        // Copies and brightness.
        if !self.prev.is_empty() {
            let d = self.work.iter().zip(&self.prev).map(|(a, b)| f64::from((a - b).abs())).sum::<f64>();
            self.diffs.push(d / self.work.len() as f64);
        }
        self.face_means.push(face_mean(&self.work, region.side, region.face));
        std::mem::swap(&mut self.prev, &mut self.work);

        // Periodic patterns at the frame's own resolution, in the middle of the face.
        let size = pow2_at_most(0.6 * face.width.min(face.height));
        if size >= 32 {
            let (cx, cy) = (face.x + face.width / 2.0, face.y + face.height / 2.0);
            let (px, py) = ((cx - size as f64 / 2.0).round(), (cy - size as f64 / 2.0).round());
            if px >= 0.0 && py >= 0.0 && px + size as f64 <= fw && py + size as f64 <= fh {
                native_luma_patch(frame, px as u32, py as u32, size, &mut self.patch);
                if let Some(p) = spectrum::periodic_peak(&self.patch, size) {
                    self.peaks.push(p);
                }
            }
        }
        // Colour, on a few frames (it changes slowly).
        if self.timestamps.len().is_multiple_of(4) {
            let (x, y) = (face.x.max(0.0) as u32, face.y.max(0.0) as u32);
            self.chroma.push(colour::chroma(frame, x, y, face.width as u32, face.height as u32));
        }
        self.timestamps.push(timestamp_ms);
        Ok(())
    }

    /// The verdict on the frames so far.
    pub fn report(&self) -> LivenessReport {
        let planar = self.tracker.as_ref().map(MotionTracker::report).unwrap_or_default();
        let pattern = median_by(&self.peaks, |p| p.ratio).unwrap_or_default();
        let chroma = median_by(&self.chroma, |c| c.mean_chroma).unwrap_or_default();
        let injection = injection::assess(&self.timestamps, &self.diffs, self.camera_label.as_deref());
        let flicker = flicker(&self.face_means);

        let mut signals = Vec::new();
        signals.push(match planar.residual_ratio {
            Some(ratio) => Signal {
                name: "planar_motion",
                // Flat pictures leave ≤ 5% coherent residual, live heads ≥ 7% (on the simulated bursts).
                attack: ((0.07 - ratio) / 0.03).clamp(0.0, 1.0),
                judged: true,
                explanation: format!(
                    "face points moved up to {:.1} px; one homography leaves {:.1}% of that motion unexplained \
                     (a flat picture leaves almost none)",
                    planar.max_motion,
                    100.0 * ratio
                ),
            },
            None => Signal {
                name: "planar_motion",
                attack: 0.0,
                judged: false,
                explanation: format!("the face moved only {:.2} px: too little to judge planarity", planar.max_motion),
            },
        });
        signals.push(Signal {
            name: "screen_or_print_pattern",
            // Faces stay below 20× (the largest of a few thousand noise bins); screens and prints reach 50–1000×.
            attack: ((pattern.ratio - 25.0) / 25.0).clamp(0.0, 1.0),
            judged: !self.peaks.is_empty(),
            explanation: if self.peaks.is_empty() {
                "the face is too small for a spectrum".to_owned()
            } else {
                format!(
                    "strongest periodic peak {:.0}× its surroundings at ({:+.3}, {:.3}) cycles/px (screens and \
                     halftone prints give isolated peaks; a face does not)",
                    pattern.ratio, pattern.fx, pattern.fy
                )
            },
        });
        signals.push(Signal {
            name: "flicker",
            attack: ((flicker - 0.006) / 0.02).clamp(0.0, 1.0),
            judged: self.face_means.len() >= 3,
            explanation: format!("frame-to-frame brightness jumps of {:.2}% of the face's brightness", 100.0 * flicker),
        });
        signals.push(Signal {
            name: "colour",
            attack: chroma.attack_score(),
            judged: chroma.samples > 0,
            explanation: format!("mean chroma {:.1} (a live face under ordinary light is above 8)", chroma.mean_chroma),
        });
        let (attack, why) = injection.attack_score();
        signals.push(Signal { name: "injection", attack, judged: !self.diffs.is_empty(), explanation: why.to_owned() });

        let decisive = signals.iter().filter(|s| s.judged).max_by(|a, b| a.attack.total_cmp(&b.attack));
        let worst = decisive.map_or(0.0, |s| s.attack);
        let score = 1.0 - worst;
        LivenessReport {
            frames: self.timestamps.len(),
            score,
            passed: self.timestamps.len() >= self.config.min_frames && score >= self.config.threshold,
            decisive: decisive.filter(|s| s.attack > 0.0).map(|s| s.name),
            signals,
            planar,
            pattern,
            flicker,
            chroma,
            injection,
        }
    }
}

/// The largest power of two not above `v`, or 0.
fn pow2_at_most(v: f64) -> usize {
    if v.is_nan() || v < 1.0 {
        return 0;
    }
    let mut p = 1usize;
    while (p * 2) as f64 <= v && p < 256 {
        p *= 2;
    }
    p
}

/// Luma of an RGBA pixel ([`crate::luma::rec601_luma`]).
fn luma(px: &[u8]) -> f32 {
    f32::from(crate::luma::rec601_luma(px[0], px[1], px[2]))
}

/// One bilinear sample position along an axis: the two clamped neighbour indices (relative to the
/// luma window's origin) and the weight of the second.
#[derive(Debug, Clone, Copy, Default)]
struct Tap {
    i0: usize,
    i1: usize,
    a: f32,
}

/// Reusable buffers of [`resample_luma`].
#[derive(Debug, Clone, Default)]
struct ResampleScratch {
    xs: Vec<Tap>,
    ys: Vec<Tap>,
    /// Luma of the frame window the taps touch, row-major, `window_width` wide.
    luma: Vec<f32>,
}

/// The taps along one axis: for each working pixel `w` and sub-sample `s` (of `k`), the frame
/// index coordinate `origin + w·step + (s + ½)·sub − ½`, split into its floor and fraction, both
/// neighbours clamped into `0..len` (pixels outside the frame repeat the border). Returns the
/// lowest and highest index used.
fn taps(origin: f64, step: f64, side: usize, k: usize, len: i64, out: &mut Vec<Tap>) -> (usize, usize) {
    let sub = step / k as f64;
    out.clear();
    let (mut lo, mut hi) = (usize::MAX, 0usize);
    for w in 0..side {
        for s in 0..k {
            let f = origin + w as f64 * step + (s as f64 + 0.5) * sub - 0.5;
            let (i, a) = (f.floor() as i64, (f - f.floor()) as f32);
            let (i0, i1) = (i.clamp(0, len - 1) as usize, (i + 1).clamp(0, len - 1) as usize);
            lo = lo.min(i0);
            hi = hi.max(i1);
            out.push(Tap { i0, i1, a });
        }
    }
    (lo, hi)
}

/// Fills `out` with the working region: each working pixel is the mean of `k × k` bilinear samples spread
/// evenly over its footprint in the frame (`k` = the footprint's size rounded up), so the region moves
/// smoothly with the content at any scale (pixels outside the frame repeat the border).
///
/// The sample positions depend only on the column (row), so they are computed once per column (row), and
/// the luma of each frame pixel the samples touch once per frame; the sums are formed in the same order as
/// sample by sample, so the result is the same to the bit.
fn resample_luma(frame: &Frame<'_>, r: &Region, out: &mut Vec<f32>, scratch: &mut ResampleScratch) {
    out.clear();
    out.resize(r.side * r.side, 0.0);
    let k = (r.step.ceil() as usize).clamp(1, 8);
    let (w, h) = (i64::from(frame.width()), i64::from(frame.height()));
    let (x_lo, x_hi) = taps(r.x0, r.step, r.side, k, w, &mut scratch.xs);
    let (y_lo, y_hi) = taps(r.y0, r.step, r.side, k, h, &mut scratch.ys);
    if scratch.xs.is_empty() || scratch.ys.is_empty() {
        return;
    }
    let window_width = x_hi - x_lo + 1;
    scratch.luma.clear();
    for y in y_lo..=y_hi {
        let row = frame.row(y as u32).unwrap_or_default();
        let pixels = row.get(x_lo * 4..(x_hi + 1) * 4).unwrap_or_default();
        scratch.luma.extend(pixels.chunks_exact(4).map(luma));
    }
    // A frame row shorter than its width cannot happen (Frame checks its buffer); stay total anyway.
    scratch.luma.resize(window_width * (y_hi - y_lo + 1), 0.0);
    let l = &scratch.luma;
    let at = |x: usize, y: usize| l[(y - y_lo) * window_width + (x - x_lo)];
    for (wy, ys) in scratch.ys.chunks_exact(k).enumerate() {
        let out_row = &mut out[wy * r.side..(wy + 1) * r.side];
        for (o, xs) in out_row.iter_mut().zip(scratch.xs.chunks_exact(k)) {
            let mut sum = 0.0f32;
            for ty in ys {
                for tx in xs {
                    let top = at(tx.i0, ty.i0) * (1.0 - tx.a) + at(tx.i1, ty.i0) * tx.a;
                    let bottom = at(tx.i0, ty.i1) * (1.0 - tx.a) + at(tx.i1, ty.i1) * tx.a;
                    sum += top * (1.0 - ty.a) + bottom * ty.a;
                }
            }
            *o = sum / (k * k) as f32;
        }
    }
}

/// Luma of a `size × size` patch at the frame's resolution.
fn native_luma_patch(frame: &Frame<'_>, x: u32, y: u32, size: usize, out: &mut Vec<f64>) {
    out.clear();
    for yy in y..y + size as u32 {
        if let Some(row) = frame.row(yy) {
            out.extend((x as usize..x as usize + size).map(|xx| f64::from(luma(&row[xx * 4..xx * 4 + 4]))));
        }
    }
}

/// Mean luma inside the face rectangle of the working image.
fn face_mean(img: &[f32], side: usize, face: Rect) -> f64 {
    let (x0, x1) = (face.x.max(0.0) as usize, ((face.x + face.w) as usize).min(side));
    let (y0, y1) = (face.y.max(0.0) as usize, ((face.y + face.h) as usize).min(side));
    let (mut sum, mut n) = (0.0, 0usize);
    for y in y0..y1 {
        for v in &img[y * side + x0..y * side + x1] {
            sum += f64::from(*v);
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Root-mean-square second difference of the face's mean brightness, relative to that brightness (slow
/// exposure drift and steady motion cancel; alternating jumps remain).
fn flicker(means: &[f64]) -> f64 {
    if means.len() < 3 {
        return 0.0;
    }
    let avg = means.iter().sum::<f64>() / means.len() as f64;
    if avg <= 1.0 {
        return 0.0;
    }
    let d2: Vec<f64> = means.windows(3).map(|w| w[2] - 2.0 * w[1] + w[0]).collect();
    (d2.iter().map(|d| d * d).sum::<f64>() / d2.len() as f64).sqrt() / avg
}

/// The element with the median key.
fn median_by<T: Copy>(items: &[T], key: impl Fn(&T) -> f64) -> Option<T> {
    let mut v: Vec<T> = items.to_vec();
    v.sort_by(|a, b| key(a).total_cmp(&key(b)));
    v.get(v.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The resampling sample by sample, as first written: the definition [`resample_luma`] must equal.
    fn reference_resample(frame: &Frame<'_>, r: &Region) -> Vec<f32> {
        let mut out = vec![0.0; r.side * r.side];
        let k = (r.step.ceil() as usize).clamp(1, 8);
        let sub = r.step / k as f64;
        let (w, h) = (i64::from(frame.width()), i64::from(frame.height()));
        let at = |x: i64, y: i64| {
            let i = y.clamp(0, h - 1) as usize * frame.stride() + x.clamp(0, w - 1) as usize * 4;
            luma(&frame.data()[i..i + 4])
        };
        for wy in 0..r.side {
            for wx in 0..r.side {
                let mut sum = 0.0f32;
                for sy in 0..k {
                    let fy = r.y0 + wy as f64 * r.step + (sy as f64 + 0.5) * sub - 0.5;
                    let (y0, ay) = (fy.floor() as i64, (fy - fy.floor()) as f32);
                    for sx in 0..k {
                        let fx = r.x0 + wx as f64 * r.step + (sx as f64 + 0.5) * sub - 0.5;
                        let (x0, ax) = (fx.floor() as i64, (fx - fx.floor()) as f32);
                        let top = at(x0, y0) * (1.0 - ax) + at(x0 + 1, y0) * ax;
                        let bottom = at(x0, y0 + 1) * (1.0 - ax) + at(x0 + 1, y0 + 1) * ax;
                        sum += top * (1.0 - ay) + bottom * ay;
                    }
                }
                out[wy * r.side + wx] = sum / (k * k) as f32;
            }
        }
        out
    }

    proptest! {
        /// The row/column-tap resampling gives the per-sample definition to the bit, for regions inside,
        /// across and outside the frame, at any scale, with padded rows.
        #[test]
        fn resampling_equals_the_definition(
            w in 1u32..60, h in 1u32..60, pad in 0usize..3, side in 1usize..40,
            x0 in -80.0f64..80.0, y0 in -80.0f64..80.0, step in 0.2f64..9.0, seed in 0u32..1000,
        ) {
            let stride = w as usize * 4 + pad * 4;
            let data: Vec<u8> =
                (0..stride * h as usize).map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) >> 13) as u8).collect();
            let frame = Frame::new(&data, w, h, stride).unwrap();
            let region = Region {
                x0, y0, step, side,
                face: Rect { x: 0.0, y: 0.0, w: 1.0, h: 1.0 },
                frame_size: (w, h),
            };
            let (mut out, mut scratch) = (Vec::new(), ResampleScratch::default());
            resample_luma(&frame, &region, &mut out, &mut scratch);
            let expected = reference_resample(&frame, &region);
            prop_assert_eq!(out.len(), expected.len());
            for (a, b) in out.iter().zip(&expected) {
                prop_assert_eq!(a.to_bits(), b.to_bits());
            }
        }
    }
}
