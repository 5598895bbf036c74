//! Passive liveness over a burst: a thin wrapper of `trustcap_vision::liveness` that checks
//! what JavaScript passes (options, face box, timestamps) and reports as JSON.

use serde::Deserialize;
use trustcap_vision::Frame;
use trustcap_vision::liveness::{FaceBox, LivenessAnalyzer, LivenessConfig, LivenessReport, MAX_FRAMES};

use crate::error::FaceError;

/// Options of a burst as JavaScript passes them (every field optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BurstOptions {
    /// Liveness score at or above which the burst passes, in [0, 1].
    pub threshold: Option<f64>,
    /// Fewest frames for a verdict, 1 to [`MAX_FRAMES`].
    pub min_frames: Option<u32>,
}

impl BurstOptions {
    /// The analyser settings, or why the options are out of range.
    pub fn config(self) -> Result<LivenessConfig, FaceError> {
        let mut config = LivenessConfig::default();
        if let Some(t) = self.threshold {
            if !(0.0..=1.0).contains(&t) {
                return Err(FaceError::Options(format!("threshold must be in [0, 1], not {t}")));
            }
            config.threshold = t;
        }
        if let Some(n) = self.min_frames {
            if n == 0 || n as usize > MAX_FRAMES {
                return Err(FaceError::Options(format!("minFrames must be 1 to {MAX_FRAMES}, not {n}")));
            }
            config.min_frames = n as usize;
        }
        Ok(config)
    }
}

/// A face box as JavaScript passes it (a detection's `box`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct BoxInput {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// One burst being analysed.
#[derive(Debug, Clone)]
pub struct Burst {
    analyzer: LivenessAnalyzer,
}

impl Burst {
    /// An empty burst.
    pub fn new(options: BurstOptions) -> Result<Burst, FaceError> {
        Ok(Burst { analyzer: LivenessAnalyzer::new(options.config()?) })
    }

    /// Records the camera track's label (for the virtual-camera check).
    pub fn set_camera_label(&mut self, label: &str) {
        self.analyzer.set_camera_label(label);
    }

    /// Frames accepted so far.
    pub fn frames(&self) -> usize {
        self.analyzer.frames()
    }

    /// Adds an RGBA frame with the face's box and the frame's timestamp in milliseconds.
    pub fn push(
        &mut self,
        data: &[u8],
        width: u32,
        height: u32,
        stride: u32,
        face: BoxInput,
        timestamp_ms: f64,
    ) -> Result<(), FaceError> {
        let frame = Frame::new(data, width, height, stride as usize)?;
        let face = FaceBox { x: face.x, y: face.y, width: face.width, height: face.height };
        self.analyzer.push(&frame, face, timestamp_ms)?;
        Ok(())
    }

    /// The verdict on the frames so far.
    pub fn report(&self) -> LivenessReport {
        self.analyzer.report()
    }

    /// The verdict as JSON text (what goes into the signed payload).
    pub fn report_json(&self) -> Result<String, FaceError> {
        serde_json::to_string(&self.report()).map_err(|e| FaceError::Inference(format!("report: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_with_square(w: u32, h: u32, shift: u32) -> Vec<u8> {
        let mut rgba = vec![0u8; (w * h * 4) as usize];
        for y in 0..h {
            for x in 0..w {
                let i = ((y * w + x) * 4) as usize;
                let inside = (60 + shift..140 + shift).contains(&x) && (40..140).contains(&y);
                let v = if inside { 180 + ((x * 7 + y * 3) % 40) as u8 } else { ((x ^ y) % 64) as u8 + 40 };
                rgba[i..i + 4].copy_from_slice(&[v, v.saturating_sub(20), v.saturating_sub(40), 255]);
            }
        }
        rgba
    }

    #[test]
    fn options_are_checked() {
        assert_eq!(BurstOptions::default().config().unwrap(), LivenessConfig::default());
        let ok = BurstOptions { threshold: Some(0.7), min_frames: Some(12) }.config().unwrap();
        assert_eq!((ok.threshold, ok.min_frames), (0.7, 12));
        for bad in [
            BurstOptions { threshold: Some(1.5), ..Default::default() },
            BurstOptions { threshold: Some(f64::NAN), ..Default::default() },
            BurstOptions { min_frames: Some(0), ..Default::default() },
            BurstOptions { min_frames: Some(MAX_FRAMES as u32 + 1), ..Default::default() },
        ] {
            assert_eq!(bad.config().unwrap_err().code(), "invalid_options", "{bad:?}");
        }
        let unknown: Result<BurstOptions, _> = serde_json::from_str(r#"{"treshold":0.5}"#);
        assert!(unknown.is_err());
    }

    #[test]
    fn bad_frames_boxes_and_timestamps_are_typed_errors() {
        let mut burst = Burst::new(BurstOptions::default()).unwrap();
        let face = BoxInput { x: 60.0, y: 40.0, width: 80.0, height: 100.0 };
        let short = vec![0u8; 100];
        assert_eq!(burst.push(&short, 200, 180, 800, face, 0.0).unwrap_err().code(), "frame_buffer_too_short");
        let pixels = frame_with_square(200, 180, 0);
        assert_eq!(burst.push(&pixels, 200, 180, 800, face, f64::NAN).unwrap_err().code(), "bad_timestamp");
        let outside = BoxInput { x: 500.0, ..face };
        assert_eq!(burst.push(&pixels, 200, 180, 800, outside, 0.0).unwrap_err().code(), "bad_face_box");
        let nan = BoxInput { width: f64::NAN, ..face };
        assert_eq!(burst.push(&pixels, 200, 180, 800, nan, 0.0).unwrap_err().code(), "bad_face_box");
        assert_eq!(burst.frames(), 0);
        burst.push(&pixels, 200, 180, 800, face, 0.0).unwrap();
        let other = frame_with_square(100, 180, 0);
        assert_eq!(burst.push(&other, 100, 180, 400, face, 33.0).unwrap_err().code(), "frame_size_changed");
        assert_eq!(burst.frames(), 1);
    }

    #[test]
    fn a_repeated_still_frame_does_not_pass_and_the_json_names_every_signal() {
        let mut burst = Burst::new(BurstOptions::default()).unwrap();
        burst.set_camera_label("FaceTime HD Camera");
        let pixels = frame_with_square(200, 180, 0);
        let face = BoxInput { x: 60.0, y: 40.0, width: 80.0, height: 100.0 };
        for i in 0..16 {
            burst.push(&pixels, 200, 180, 800, face, f64::from(i) * 33.3).unwrap();
        }
        let report = burst.report();
        assert_eq!(report.frames, 16);
        assert!(!report.passed, "an identical frame repeated must not pass: {report:?}");
        let json: serde_json::Value = serde_json::from_str(&burst.report_json().unwrap()).unwrap();
        assert_eq!(json["frames"], 16);
        assert_eq!(json["passed"], false);
        let names: Vec<_> = json["signals"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        for name in ["planar_motion", "screen_or_print_pattern", "flicker", "colour", "injection"] {
            assert!(names.contains(&name), "{names:?}");
        }
    }
}
