//! User guidance and auto-capture.
//!
//! [`Guidance`] is the single instruction shown to the user for a frame. [`AutoCapture`] turns a stream of
//! [`QualityReport`]s into a capture decision with hysteresis: it fires only after a run of consecutive
//! acceptable frames, and tracks the sharpest frame of that run so the caller can keep its pixels.

use serde::Serialize;

use crate::quality::QualityReport;

/// The primary instruction for the user.
///
/// When several checks fail, the quality analyser reports one message, by priority:
/// `more_light`/`too_bright` > `low_contrast` > `reduce_glare` > `too_blurry` > `hold_still` > `ready`.
/// `no_document`, `move_closer`, `move_away` and `align` are reserved for document-boundary detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Guidance {
    /// No document found in the frame.
    NoDocument,
    /// The document is too small in the frame.
    MoveCloser,
    /// The document is cut off or too large.
    MoveAway,
    /// The document is tilted or off-centre.
    Align,
    /// The frame is too dark.
    MoreLight,
    /// The frame is overexposed.
    TooBright,
    /// The frame is flat (fog, dirty lens, washed-out light).
    LowContrast,
    /// Specular reflections hide part of the document.
    ReduceGlare,
    /// The frame is out of focus or shaken.
    TooBlurry,
    /// The camera is moving between frames.
    HoldStill,
    /// All checks pass.
    Ready,
}

impl Guidance {
    /// All variants, in declaration order.
    pub const ALL: [Guidance; 11] = [
        Guidance::NoDocument,
        Guidance::MoveCloser,
        Guidance::MoveAway,
        Guidance::Align,
        Guidance::MoreLight,
        Guidance::TooBright,
        Guidance::LowContrast,
        Guidance::ReduceGlare,
        Guidance::TooBlurry,
        Guidance::HoldStill,
        Guidance::Ready,
    ];

    /// Stable snake_case code (same as the serde representation).
    pub const fn as_str(self) -> &'static str {
        match self {
            Guidance::NoDocument => "no_document",
            Guidance::MoveCloser => "move_closer",
            Guidance::MoveAway => "move_away",
            Guidance::Align => "align",
            Guidance::MoreLight => "more_light",
            Guidance::TooBright => "too_bright",
            Guidance::LowContrast => "low_contrast",
            Guidance::ReduceGlare => "reduce_glare",
            Guidance::TooBlurry => "too_blurry",
            Guidance::HoldStill => "hold_still",
            Guidance::Ready => "ready",
        }
    }

    /// Short English message for the user.
    pub fn message_en(self) -> &'static str {
        match self {
            Guidance::NoDocument => "Place your ID document in the frame",
            Guidance::MoveCloser => "Move closer to the document",
            Guidance::MoveAway => "Move further away so the whole document is visible",
            Guidance::Align => "Align the document with the frame",
            Guidance::MoreLight => "Too dark: find more light",
            Guidance::TooBright => "Too bright: avoid direct light",
            Guidance::LowContrast => "Image is washed out: improve the lighting or clean the lens",
            Guidance::ReduceGlare => "Glare detected: tilt the document or move away from the light",
            Guidance::TooBlurry => "Image is blurry: hold steady and let the camera focus",
            Guidance::HoldStill => "Hold still",
            Guidance::Ready => "Ready",
        }
    }
}

impl std::fmt::Display for Guidance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Auto-capture settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AutoCaptureConfig {
    /// Consecutive acceptable frames needed before capture fires (0 is treated as 1). Default 6.
    pub steady_frames: u32,
    /// Best-frame search window: the best frame is chosen among at most the last `window_frames` frames of
    /// the current run (values below `steady_frames` are raised to it, so with the defaults the whole run
    /// counts). Default 10.
    pub window_frames: u32,
}

impl Default for AutoCaptureConfig {
    fn default() -> Self {
        AutoCaptureConfig { steady_frames: 6, window_frames: 10 }
    }
}

/// Result of feeding one frame to [`AutoCapture`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CaptureStep {
    /// `ready` once captured, `hold_still` while accumulating the steady run, else the frame's guidance.
    pub guidance: Guidance,
    /// This frame is the best (sharpest) of the current run so far: keep a copy of its pixels.
    pub is_new_best: bool,
    /// True exactly once, on the frame that completes the steady run.
    pub capture: bool,
    /// Consecutive acceptable frames so far (capped at `steady_frames`).
    pub steady_count: u32,
    /// Sharpness score of the best frame of the current run (0 if there is no run).
    pub best_score: f32,
}

/// Auto-capture state machine with hysteresis and best-frame tracking.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoCapture {
    config: AutoCaptureConfig,
    steady_count: u32,
    best_score: f32,
    /// Run position (1-based) of the best frame.
    best_pos: u32,
    fired: bool,
}

impl Default for AutoCapture {
    fn default() -> Self {
        Self::new(AutoCaptureConfig::default())
    }
}

impl AutoCapture {
    /// New state machine; nothing accumulated.
    pub fn new(config: AutoCaptureConfig) -> Self {
        AutoCapture { config, steady_count: 0, best_score: 0.0, best_pos: 0, fired: false }
    }

    /// The configuration in use.
    pub fn config(&self) -> AutoCaptureConfig {
        self.config
    }

    /// True once capture has fired (until [`reset`](Self::reset)).
    pub fn has_fired(&self) -> bool {
        self.fired
    }

    fn steady_target(&self) -> u32 {
        self.config.steady_frames.max(1)
    }

    /// Feed every analysed frame.
    ///
    /// Hysteresis: capture fires only after `steady_frames` consecutive acceptable frames; a single bad
    /// frame resets the run; once fired it stays fired (later frames change nothing and report `ready`)
    /// until [`reset`](Self::reset). Among the acceptable frames of the current run it tracks the best one
    /// (highest sharpness score, ties → earlier) and reports `is_new_best`.
    pub fn update(&mut self, report: &QualityReport) -> CaptureStep {
        self.step(report.acceptable, report.guidance, report.sharpness.score)
    }

    /// Feed one analysed frame given as its verdict, its guidance and its capture score (higher is
    /// better; for documents [`DocumentReport::capture_score`](crate::document::DocumentReport::capture_score)).
    /// Same rules as [`update`](Self::update).
    pub fn step(&mut self, acceptable: bool, guidance: Guidance, score: f32) -> CaptureStep {
        if self.fired {
            return self.result(Guidance::Ready, false, false);
        }
        if !acceptable {
            self.steady_count = 0;
            self.best_score = 0.0;
            self.best_pos = 0;
            return self.result(guidance, false, false);
        }
        self.steady_count += 1;
        let window = self.config.window_frames.max(self.steady_target());
        let best_expired = self.best_pos == 0 || self.steady_count - self.best_pos >= window;
        let is_new_best = best_expired || score > self.best_score;
        if is_new_best {
            self.best_score = score;
            self.best_pos = self.steady_count;
        }
        if self.steady_count >= self.steady_target() {
            self.fired = true;
            return self.result(Guidance::Ready, is_new_best, true);
        }
        self.result(Guidance::HoldStill, is_new_best, false)
    }

    fn result(&self, guidance: Guidance, is_new_best: bool, capture: bool) -> CaptureStep {
        CaptureStep { guidance, is_new_best, capture, steady_count: self.steady_count, best_score: self.best_score }
    }

    /// Forget the run and the capture; the next acceptable frame starts a new run.
    pub fn reset(&mut self) {
        *self = AutoCapture::new(self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::QualityReport;
    use crate::sharpness::SharpnessReport;

    fn report(score: f32, acceptable: bool) -> QualityReport {
        QualityReport {
            sharpness: SharpnessReport { score, ..SharpnessReport::default() },
            guidance: if acceptable { Guidance::Ready } else { Guidance::TooBlurry },
            acceptable,
            ..QualityReport::default()
        }
    }

    #[test]
    fn strings_are_stable_and_match_serde() {
        let codes: Vec<&str> = Guidance::ALL.iter().map(|g| g.as_str()).collect();
        assert_eq!(
            codes,
            [
                "no_document",
                "move_closer",
                "move_away",
                "align",
                "more_light",
                "too_bright",
                "low_contrast",
                "reduce_glare",
                "too_blurry",
                "hold_still",
                "ready"
            ]
        );
        for g in Guidance::ALL {
            assert!(!g.message_en().is_empty());
            assert_eq!(g.to_string(), g.as_str());
        }
    }

    #[test]
    fn fires_once_after_steady_run() {
        let mut ac = AutoCapture::new(AutoCaptureConfig { steady_frames: 3, window_frames: 10 });
        let steps: Vec<CaptureStep> = (0..6).map(|_| ac.update(&report(0.8, true))).collect();
        assert_eq!(steps.iter().filter(|s| s.capture).count(), 1);
        assert!(steps[2].capture);
        assert_eq!(steps[0].guidance, Guidance::HoldStill);
        assert_eq!(steps[1].guidance, Guidance::HoldStill);
        assert_eq!(steps[2].guidance, Guidance::Ready);
        assert_eq!(steps[3].guidance, Guidance::Ready);
        // Stays fired even after bad frames.
        let s = ac.update(&report(0.1, false));
        assert!(!s.capture && s.guidance == Guidance::Ready);
        assert!(ac.has_fired());
        ac.reset();
        assert!(!ac.has_fired());
        assert_eq!(ac.update(&report(0.8, true)).steady_count, 1);
    }

    #[test]
    fn bad_frame_resets_run() {
        let mut ac = AutoCapture::new(AutoCaptureConfig { steady_frames: 3, window_frames: 10 });
        ac.update(&report(0.8, true));
        ac.update(&report(0.8, true));
        let bad = ac.update(&report(0.1, false));
        assert_eq!((bad.guidance, bad.steady_count, bad.capture, bad.best_score), (Guidance::TooBlurry, 0, false, 0.0));
        assert!(!ac.update(&report(0.8, true)).capture);
        assert!(!ac.update(&report(0.8, true)).capture);
        let s = ac.update(&report(0.8, true));
        assert!(s.capture);
        assert_eq!(s.steady_count, 3);
    }

    #[test]
    fn tracks_best_frame_ties_to_earlier() {
        let mut ac = AutoCapture::new(AutoCaptureConfig { steady_frames: 5, window_frames: 10 });
        let scores = [0.6, 0.7, 0.7, 0.65, 0.9];
        let steps: Vec<CaptureStep> = scores.iter().map(|&s| ac.update(&report(s, true))).collect();
        let new_best: Vec<bool> = steps.iter().map(|s| s.is_new_best).collect();
        assert_eq!(new_best, [true, true, false, false, true]);
        assert_eq!(steps[3].best_score, 0.7);
        assert_eq!(steps[4].best_score, 0.9);
        assert!(steps[4].capture);
    }

    #[test]
    fn zero_steady_frames_fires_on_first_good_frame() {
        let mut ac = AutoCapture::new(AutoCaptureConfig { steady_frames: 0, window_frames: 0 });
        assert!(!ac.update(&report(0.2, false)).capture);
        let s = ac.update(&report(0.8, true));
        assert!(s.capture && s.is_new_best);
    }
}
