//! Selfie guidance: is this camera frame a good selfie, and if not, what should the user do first?
//!
//! [`SelfieAnalyzer::analyze`] takes one frame and the faces a detector found in it (BlazeFace through
//! [`crate::face`], or any detector that gives a box and the six BlazeFace keypoints, as
//! [`FaceLandmarks`]). It runs no model, so it compiles to wasm32 without the `face` feature; per frame it
//! checks, in this order of importance:
//!
//! | code | when |
//! |---|---|
//! | `more_light` / `too_bright` | the face (or, without a face, the frame) is too dark / overexposed |
//! | `no_face` | no face was detected |
//! | `multiple_faces` | more than one face of comparable size |
//! | `center_face` | the face centre is too far from the oval's centre |
//! | `too_close` / `too_far` | the face is too wide / too narrow for the oval |
//! | `turn_left` / `turn_right` | yaw beyond the limit ([`pose`]) |
//! | `look_up` / `look_down` | pitch beyond the limit |
//! | `tilt_left` / `tilt_right` | roll beyond the limit |
//! | `low_contrast` | the face is flat (fog, dirty lens) |
//! | `too_blurry` | the face is out of focus or shaken ([`crate::sharpness`] on the face region) |
//! | `hold_still` | the face moved since the previous frame |
//!
//! Every failing check goes into [`SelfieGuidanceList`], most important first; the first is the primary
//! [`SelfieGuidance`]; `ready` when nothing fails. [`SelfieAutoCapture`] fires after N consecutive
//! acceptable frames and tracks the sharpest, like the document [`crate::AutoCapture`].
//!
//! Directions (`turn_left`, `tilt_right`, ...) are the subject's own, computed on the unmirrored camera
//! image. The oval is given in normalised frame coordinates (0..1 on both axes), as the SDK draws it.
//! Sharpness and exposure are measured on the face box resampled so the face is about
//! [`FACE_DETAIL_WIDTH`] pixels wide, so the same face gets the same figures at any camera resolution.

pub mod pose;

use serde::Serialize;

use crate::exposure::{self, ExposureReport};
use crate::frame::Frame;
use crate::luma::{WORKING_MAX_SIDE, WorkingImage, downscale_factor};
use crate::sharpness::{self, SharpnessReport};
pub use pose::{HeadPose, PoseFault, PoseLimits};

/// Sharpness and exposure are measured with the face about this many pixels wide (or at the camera's
/// resolution when the face is smaller).
pub const FACE_DETAIL_WIDTH: u32 = 160;

/// Most faces considered per frame (more are counted but not looked at).
pub const MAX_FACES: usize = 16;

/// One detected face in frame pixels: score, box and the six BlazeFace keypoints (right eye, left eye,
/// nose tip, mouth, right ear, left ear; "right" is the subject's right, on the image's left).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct FaceLandmarks {
    /// Detector score in `[0, 1]`.
    pub score: f32,
    /// Left edge of the box.
    pub x_min: f32,
    /// Top edge.
    pub y_min: f32,
    /// Right edge.
    pub x_max: f32,
    /// Bottom edge.
    pub y_max: f32,
    /// Keypoints `(x, y)` in BlazeFace order.
    pub keypoints: [(f32, f32); 6],
}

impl FaceLandmarks {
    /// Box width (0 when degenerate or not finite).
    pub fn width(&self) -> f32 {
        let w = self.x_max - self.x_min;
        if w.is_finite() { w.max(0.0) } else { 0.0 }
    }

    /// Box height (0 when degenerate or not finite).
    pub fn height(&self) -> f32 {
        let h = self.y_max - self.y_min;
        if h.is_finite() { h.max(0.0) } else { 0.0 }
    }

    /// Box centre.
    pub fn centre(&self) -> (f32, f32) {
        (0.5 * (self.x_min + self.x_max), 0.5 * (self.y_min + self.y_max))
    }

    /// The box as a liveness [`FaceBox`](crate::liveness::FaceBox).
    pub fn face_box(&self) -> crate::liveness::FaceBox {
        crate::liveness::FaceBox {
            x: f64::from(self.x_min),
            y: f64::from(self.y_min),
            width: f64::from(self.width()),
            height: f64::from(self.height()),
        }
    }
}

#[cfg(feature = "face")]
impl From<&crate::face::Detection> for FaceLandmarks {
    fn from(d: &crate::face::Detection) -> Self {
        FaceLandmarks {
            score: d.score,
            x_min: d.bbox.x_min,
            y_min: d.bbox.y_min,
            x_max: d.bbox.x_max,
            y_max: d.bbox.y_max,
            keypoints: d.keypoints.map(|p| (p.x, p.y)),
        }
    }
}

/// The face oval drawn over the preview, in normalised frame coordinates (`0..1` of width and height).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Oval {
    /// Centre, share of the frame width.
    pub cx: f32,
    /// Centre, share of the frame height.
    pub cy: f32,
    /// Horizontal half-axis, share of the frame width.
    pub rx: f32,
    /// Vertical half-axis, share of the frame height.
    pub ry: f32,
}

impl Default for Oval {
    /// Centred, 0.25 of the width either side and 0.35 of the height (a portrait oval on a 4:3 frame).
    fn default() -> Self {
        Oval { cx: 0.5, cy: 0.5, rx: 0.25, ry: 0.35 }
    }
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelfieConfigError {
    /// A value is not finite or out of its range.
    #[error("selfie config: {0} is out of range")]
    OutOfRange(&'static str),
}

/// Limits of an acceptable selfie frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct SelfieConfig {
    /// Where the face should be.
    pub oval: Oval,
    /// Lowest detector score that counts as a face.
    pub min_score: f32,
    /// A second face counts when its box is at least this share of the main face's width.
    pub other_face_share: f32,
    /// Largest distance of the face centre from the oval centre, in oval radii.
    pub max_centre_offset: f32,
    /// Face box width as a share of the oval width: below, `too_far`.
    pub min_face_size: f32,
    /// Above, `too_close`.
    pub max_face_size: f32,
    /// Pose limits, degrees.
    pub pose: PoseLimits,
    /// Lowest face sharpness score (see [`crate::sharpness`]).
    pub min_sharpness: f32,
    /// Lowest mean luma of the face.
    pub min_mean: f32,
    /// Highest mean luma of the face.
    pub max_mean: f32,
    /// Largest share of blown-out face pixels.
    pub max_bright_share: f32,
    /// Lowest luma standard deviation of the face.
    pub min_contrast: f32,
    /// Largest face-centre movement between consecutive frames, in face widths.
    pub max_motion: f32,
}

impl Default for SelfieConfig {
    fn default() -> Self {
        SelfieConfig {
            oval: Oval::default(),
            min_score: 0.5,
            other_face_share: 0.3,
            max_centre_offset: 0.3,
            min_face_size: 0.5,
            max_face_size: 1.0,
            pose: PoseLimits::default(),
            min_sharpness: 0.3,
            min_mean: 60.0,
            max_mean: 215.0,
            max_bright_share: 0.15,
            min_contrast: 10.0,
            max_motion: 0.04,
        }
    }
}

impl SelfieConfig {
    /// Checks every value (finite, in range, minimums below maximums).
    pub fn validate(&self) -> Result<(), SelfieConfigError> {
        let unit = |v: f32| v.is_finite() && (0.0..=1.0).contains(&v);
        let positive = |v: f32| v.is_finite() && v > 0.0;
        let o = &self.oval;
        let checks: [(&'static str, bool); 12] = [
            ("oval centre", unit(o.cx) && unit(o.cy)),
            ("oval radii", positive(o.rx) && positive(o.ry) && o.rx <= 1.0 && o.ry <= 1.0),
            ("min_score", unit(self.min_score)),
            ("other_face_share", unit(self.other_face_share)),
            ("max_centre_offset", positive(self.max_centre_offset)),
            ("face size range", positive(self.min_face_size) && self.min_face_size < self.max_face_size),
            ("max_face_size", self.max_face_size.is_finite()),
            ("pose limits", [self.pose.max_yaw, self.pose.max_pitch, self.pose.max_roll].iter().all(|&v| positive(v))),
            ("pose.pitch_neutral", unit(self.pose.pitch_neutral)),
            ("min_sharpness", unit(self.min_sharpness) && unit(self.max_bright_share)),
            ("exposure range", (0.0..=255.0).contains(&self.min_mean) && self.min_mean < self.max_mean),
            ("min_contrast/max_motion", self.min_contrast >= 0.0 && positive(self.max_motion)),
        ];
        match checks.iter().find(|(_, ok)| !ok) {
            Some((name, _)) => Err(SelfieConfigError::OutOfRange(name)),
            None => Ok(()),
        }
    }
}

/// The instruction for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfieGuidance {
    /// The face (or the frame) is too dark.
    MoreLight,
    /// The face (or the frame) is overexposed.
    TooBright,
    /// No face in the frame.
    NoFace,
    /// More than one face.
    MultipleFaces,
    /// The face is not in the oval.
    CenterFace,
    /// The face is too large: move the phone away.
    TooClose,
    /// The face is too small: bring the phone closer.
    TooFar,
    /// Turn the head to the (subject's) left.
    TurnLeft,
    /// Turn the head to the right.
    TurnRight,
    /// Raise the chin.
    LookUp,
    /// Lower the chin.
    LookDown,
    /// Straighten the head by tilting it to the left.
    TiltLeft,
    /// Straighten the head by tilting it to the right.
    TiltRight,
    /// The face has no contrast.
    LowContrast,
    /// The face is blurred.
    TooBlurry,
    /// The face is moving.
    HoldStill,
    /// Every check passes.
    Ready,
}

impl SelfieGuidance {
    /// Every code, in priority order (`ready` last).
    pub const ALL: [SelfieGuidance; 17] = [
        Self::MoreLight,
        Self::TooBright,
        Self::NoFace,
        Self::MultipleFaces,
        Self::CenterFace,
        Self::TooClose,
        Self::TooFar,
        Self::TurnLeft,
        Self::TurnRight,
        Self::LookUp,
        Self::LookDown,
        Self::TiltLeft,
        Self::TiltRight,
        Self::LowContrast,
        Self::TooBlurry,
        Self::HoldStill,
        Self::Ready,
    ];

    /// Stable snake_case code (same as the serde form).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MoreLight => "more_light",
            Self::TooBright => "too_bright",
            Self::NoFace => "no_face",
            Self::MultipleFaces => "multiple_faces",
            Self::CenterFace => "center_face",
            Self::TooClose => "too_close",
            Self::TooFar => "too_far",
            Self::TurnLeft => "turn_left",
            Self::TurnRight => "turn_right",
            Self::LookUp => "look_up",
            Self::LookDown => "look_down",
            Self::TiltLeft => "tilt_left",
            Self::TiltRight => "tilt_right",
            Self::LowContrast => "low_contrast",
            Self::TooBlurry => "too_blurry",
            Self::HoldStill => "hold_still",
            Self::Ready => "ready",
        }
    }

    /// Short English message.
    pub const fn message_en(self) -> &'static str {
        match self {
            Self::MoreLight => "Too dark: find more light",
            Self::TooBright => "Too bright: avoid direct light on your face",
            Self::NoFace => "Place your face in the oval",
            Self::MultipleFaces => "Only one person should be in the picture",
            Self::CenterFace => "Centre your face in the oval",
            Self::TooClose => "Move the camera a little further away",
            Self::TooFar => "Move the camera closer",
            Self::TurnLeft => "Turn your head slightly to your left",
            Self::TurnRight => "Turn your head slightly to your right",
            Self::LookUp => "Raise your chin a little",
            Self::LookDown => "Lower your chin a little",
            Self::TiltLeft => "Straighten your head (tilt it to your left)",
            Self::TiltRight => "Straighten your head (tilt it to your right)",
            Self::LowContrast => "Image is washed out: improve the lighting or clean the lens",
            Self::TooBlurry => "Image is blurry: hold steady",
            Self::HoldStill => "Hold still",
            Self::Ready => "Ready",
        }
    }

    fn of(fault: PoseFault) -> Self {
        match fault {
            PoseFault::TurnLeft => Self::TurnLeft,
            PoseFault::TurnRight => Self::TurnRight,
            PoseFault::LookUp => Self::LookUp,
            PoseFault::LookDown => Self::LookDown,
            PoseFault::TiltLeft => Self::TiltLeft,
            PoseFault::TiltRight => Self::TiltRight,
        }
    }

    fn rank(self) -> usize {
        Self::ALL.iter().position(|g| *g == self).unwrap_or(Self::ALL.len())
    }
}

impl std::fmt::Display for SelfieGuidance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every failing check of a frame, most important first (in the order of [`SelfieGuidance::ALL`]; at most
/// one of each; no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SelfieGuidanceList {
    items: [Option<SelfieGuidance>; 16],
    len: usize,
}

impl SelfieGuidanceList {
    /// Adds a failing check at its place in the priority order (`ready` is ignored).
    pub fn push(&mut self, g: SelfieGuidance) {
        if g == SelfieGuidance::Ready || self.contains(g) || self.len >= self.items.len() {
            return;
        }
        let at = self.items[..self.len].iter().flatten().take_while(|x| x.rank() < g.rank()).count();
        self.items.copy_within(at..self.len, at + 1);
        self.items[at] = Some(g);
        self.len += 1;
    }

    /// True if `g` is in the list.
    pub fn contains(&self, g: SelfieGuidance) -> bool {
        self.items[..self.len].contains(&Some(g))
    }

    /// The failing checks, most important first.
    pub fn iter(&self) -> impl Iterator<Item = SelfieGuidance> + '_ {
        self.items[..self.len].iter().flatten().copied()
    }

    /// The first failing check, or `ready`.
    pub fn primary(&self) -> SelfieGuidance {
        self.iter().next().unwrap_or(SelfieGuidance::Ready)
    }

    /// Nothing fails.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Serialize for SelfieGuidanceList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(SelfieGuidance::as_str))
    }
}

/// The analysis of one selfie frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SelfieReport {
    /// Faces that count (score ≥ `min_score` and, beside the largest, at least `other_face_share` of its
    /// width).
    pub faces: usize,
    /// The largest face.
    pub face: Option<FaceLandmarks>,
    /// Its pose.
    pub pose: Option<HeadPose>,
    /// Distance of its centre from the oval centre, in oval radii.
    pub centre_offset: f32,
    /// Its width as a share of the oval width.
    pub face_size: f32,
    /// Sharpness of the face (all zero without a face).
    pub sharpness: SharpnessReport,
    /// Exposure of the face (of the frame without a face).
    pub exposure: ExposureReport,
    /// Face-centre movement since the previous frame, in face widths (0 on the first frame with a face).
    pub motion: f32,
    /// Every failing check, most important first.
    pub reasons: SelfieGuidanceList,
    /// The first of them, or `ready`.
    pub guidance: SelfieGuidance,
    /// Nothing fails.
    pub acceptable: bool,
}

impl SelfieReport {
    /// Score used to pick the best frame of a steady run: face sharpness.
    pub fn capture_score(&self) -> f32 {
        self.sharpness.score
    }

    /// Flat named metrics for the signed manifest (`[a-z0-9_.]` names, stable order).
    pub fn metrics(&self) -> [(&'static str, f64); 12] {
        let pose = self.pose.unwrap_or_default();
        [
            ("selfie.faces", self.faces as f64),
            ("selfie.face_score", f64::from(self.face.map_or(0.0, |f| f.score))),
            ("selfie.centre_offset", f64::from(self.centre_offset)),
            ("selfie.face_size", f64::from(self.face_size)),
            ("selfie.yaw", f64::from(pose.yaw)),
            ("selfie.pitch", f64::from(pose.pitch)),
            ("selfie.roll", f64::from(pose.roll)),
            ("selfie.motion", f64::from(self.motion)),
            ("sharpness", f64::from(self.sharpness.score)),
            ("exposure.mean", f64::from(self.exposure.mean)),
            ("exposure.contrast", f64::from(self.exposure.contrast)),
            ("acceptable", f64::from(u8::from(self.acceptable))),
        ]
        .map(|(k, v)| (k, if v.is_finite() { v } else { 0.0 }))
    }
}

/// Reusable per-stream selfie analyser (buffers reused between frames).
#[derive(Debug, Clone, Default)]
pub struct SelfieAnalyzer {
    config: SelfieConfig,
    work: WorkingImage,
    noise_blocks: Vec<u32>,
    previous_centre: Option<(f32, f32)>,
}

impl SelfieAnalyzer {
    /// An analyser with these limits (checked first).
    pub fn new(config: SelfieConfig) -> Result<Self, SelfieConfigError> {
        config.validate()?;
        Ok(SelfieAnalyzer { config, ..Default::default() })
    }

    /// The limits in use.
    pub fn config(&self) -> &SelfieConfig {
        &self.config
    }

    /// Forgets the previous frame (for `hold_still`).
    pub fn reset(&mut self) {
        self.previous_centre = None;
    }

    /// Analyses one frame with the faces detected in it (frame pixels; any order; at most [`MAX_FACES`]
    /// are looked at).
    pub fn analyze(&mut self, frame: &Frame<'_>, detections: &[FaceLandmarks]) -> SelfieReport {
        let cfg = self.config;
        let (fw, fh) = (frame.width() as f32, frame.height() as f32);
        let candidates = detections
            .iter()
            .take(MAX_FACES)
            .filter(|d| d.score >= cfg.min_score && d.width() > 0.0 && d.height() > 0.0);
        let main = candidates.clone().max_by(|a, b| a.width().total_cmp(&b.width())).copied();
        let faces = main.map_or(0, |m| candidates.filter(|d| d.width() >= cfg.other_face_share * m.width()).count());

        let mut reasons = SelfieGuidanceList::default();
        let mut report = SelfieReport {
            faces,
            face: main,
            pose: None,
            centre_offset: 0.0,
            face_size: 0.0,
            sharpness: SharpnessReport::default(),
            exposure: ExposureReport::default(),
            motion: 0.0,
            reasons,
            guidance: SelfieGuidance::Ready,
            acceptable: false,
        };
        let Some(face) = main else {
            let factor = downscale_factor(frame.width(), frame.height(), WORKING_MAX_SIDE);
            self.work.fill_from_frame(frame, factor);
            report.exposure = exposure::measure(&self.work);
            self.exposure_faults(&report.exposure, &mut reasons, false);
            reasons.push(SelfieGuidance::NoFace);
            self.previous_centre = None;
            return finish(report, reasons);
        };
        if faces > 1 {
            reasons.push(SelfieGuidance::MultipleFaces);
        }
        // Framing.
        let (cx, cy) = face.centre();
        let o = cfg.oval;
        let (dx, dy) = ((cx / fw - o.cx) / o.rx, (cy / fh - o.cy) / o.ry);
        report.centre_offset = dx.hypot(dy);
        report.face_size = face.width() / (2.0 * o.rx * fw);
        if exceeds(report.centre_offset, cfg.max_centre_offset) {
            reasons.push(SelfieGuidance::CenterFace);
        }
        if exceeds(report.face_size, cfg.max_face_size) {
            reasons.push(SelfieGuidance::TooClose);
        } else if report.face_size < cfg.min_face_size {
            reasons.push(SelfieGuidance::TooFar);
        }
        // Pose.
        report.pose = pose::estimate(&face, cfg.pose.pitch_neutral);
        match &report.pose {
            Some(p) => cfg.pose.faults(p).for_each(|f| reasons.push(SelfieGuidance::of(f))),
            // Keypoints that give no pose (eyes on one spot): no usable face.
            None => reasons.push(SelfieGuidance::NoFace),
        }
        // Sharpness and exposure of the face.
        let (x0, y0) = (face.x_min.max(0.0), face.y_min.max(0.0));
        let crop = frame.crop(
            x0 as u32,
            y0 as u32,
            (face.x_max.min(fw) - x0).max(0.0) as u32,
            (face.y_max.min(fh) - y0).max(0.0) as u32,
        );
        if let Some(crop) = crop {
            let factor = (crop.width() / FACE_DETAIL_WIDTH).max(1);
            self.work.fill_from_frame(&crop, factor);
            let mut region = crate::region::RowSpans::new();
            region.fill_full(self.work.width(), self.work.height());
            report.sharpness = sharpness::measure_region(&self.work, &region, &mut self.noise_blocks);
            report.exposure = exposure::measure(&self.work);
        }
        self.exposure_faults(&report.exposure, &mut reasons, true);
        if report.sharpness.score.is_nan() || report.sharpness.score < cfg.min_sharpness {
            reasons.push(SelfieGuidance::TooBlurry);
        }
        // Stability.
        if let Some((px, py)) = self.previous_centre {
            report.motion = (cx - px).hypot(cy - py) / face.width();
            if exceeds(report.motion, cfg.max_motion) {
                reasons.push(SelfieGuidance::HoldStill);
            }
        }
        self.previous_centre = Some((cx, cy));
        finish(report, reasons)
    }

    fn exposure_faults(&self, e: &ExposureReport, reasons: &mut SelfieGuidanceList, on_face: bool) {
        let cfg = &self.config;
        if e.mean < cfg.min_mean {
            reasons.push(SelfieGuidance::MoreLight);
        } else if e.mean > cfg.max_mean || (on_face && e.bright_share > cfg.max_bright_share) {
            reasons.push(SelfieGuidance::TooBright);
        } else if on_face && e.contrast < cfg.min_contrast {
            reasons.push(SelfieGuidance::LowContrast);
        }
    }
}

/// `v > max`, or `v` is NaN.
fn exceeds(v: f32, max: f32) -> bool {
    v.is_nan() || v > max
}

fn finish(mut report: SelfieReport, reasons: SelfieGuidanceList) -> SelfieReport {
    report.reasons = reasons;
    report.guidance = reasons.primary();
    report.acceptable = reasons.is_empty();
    report
}

/// Auto-capture settings for selfies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SelfieCaptureConfig {
    /// Consecutive acceptable frames before capture (0 counts as 1). Default 6.
    pub steady_frames: u32,
}

impl Default for SelfieCaptureConfig {
    fn default() -> Self {
        SelfieCaptureConfig { steady_frames: 6 }
    }
}

/// Result of feeding one report to [`SelfieAutoCapture`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SelfieCaptureStep {
    /// `ready` once captured, `hold_still` while the steady run grows, else the frame's guidance.
    pub guidance: SelfieGuidance,
    /// This frame is the sharpest of the current run so far: keep its pixels.
    pub is_new_best: bool,
    /// True exactly once, on the frame that completes the run.
    pub capture: bool,
    /// Consecutive acceptable frames so far.
    pub steady_count: u32,
    /// Capture score of the best frame of the run (0 without a run).
    pub best_score: f32,
}

/// The ready/stable state of a selfie step: fires after `steady_frames` consecutive acceptable frames.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SelfieAutoCapture {
    config: SelfieCaptureConfig,
    steady_count: u32,
    best_score: f32,
    fired: bool,
}

impl SelfieAutoCapture {
    /// A fresh state machine.
    pub fn new(config: SelfieCaptureConfig) -> Self {
        SelfieAutoCapture { config, ..Default::default() }
    }

    /// True once capture has fired (until [`reset`](Self::reset)).
    pub fn has_fired(&self) -> bool {
        self.fired
    }

    /// Feeds one analysed frame. One bad frame resets the run; once fired it stays fired.
    pub fn update(&mut self, report: &SelfieReport) -> SelfieCaptureStep {
        let step = |g, best, capture, s: &Self| SelfieCaptureStep {
            guidance: g,
            is_new_best: best,
            capture,
            steady_count: s.steady_count,
            best_score: s.best_score,
        };
        if self.fired {
            return step(SelfieGuidance::Ready, false, false, self);
        }
        if !report.acceptable {
            self.steady_count = 0;
            self.best_score = 0.0;
            return step(report.guidance, false, false, self);
        }
        self.steady_count += 1;
        let score = report.capture_score();
        let is_new_best = self.steady_count == 1 || score > self.best_score;
        if is_new_best {
            self.best_score = score;
        }
        if self.steady_count >= self.config.steady_frames.max(1) {
            self.fired = true;
            return step(SelfieGuidance::Ready, is_new_best, true, self);
        }
        step(SelfieGuidance::HoldStill, is_new_best, false, self)
    }

    /// Forgets the run and the capture.
    pub fn reset(&mut self) {
        *self = SelfieAutoCapture::new(self.config);
    }
}

#[cfg(test)]
mod tests;
