//! Selfie guidance for the browser: [`SelfieAnalyzer`] wraps `trustcap_vision::selfie` (face count, oval,
//! distance, pose, face sharpness and exposure, stability) and its auto-capture state machine.
//!
//! It runs no model: the faces come from the lazily loaded face module (`FaceDetector.detect()` in
//! `@trustcap/web/face.js`), so the core module stays free of tract. JavaScript passes each frame together
//! with the detections of that frame, exactly as the detector returned them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use trustcap_vision::selfie::{
    self, FaceLandmarks, Oval, SelfieAnalyzer as Analyzer, SelfieAutoCapture, SelfieCaptureConfig, SelfieConfig,
};
use wasm_bindgen::prelude::*;

use crate::{frame, js_error, to_js};

/// A point as the face module returns it.
#[derive(Debug, Clone, Copy, Deserialize)]
struct PointInput {
    x: f32,
    y: f32,
}

/// A box as the face module returns it.
#[derive(Debug, Clone, Copy, Deserialize)]
struct BoxInput {
    x: f32,
    y: f32,
    width: f32,
    height: f32,
}

/// The six keypoints as the face module returns them.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeypointsInput {
    right_eye: PointInput,
    left_eye: PointInput,
    nose_tip: PointInput,
    mouth: PointInput,
    right_ear: PointInput,
    left_ear: PointInput,
}

/// One detection as `FaceDetector.detect()` returns it.
#[derive(Debug, Clone, Copy, Deserialize)]
struct FaceInput {
    score: f32,
    #[serde(rename = "box")]
    rect: BoxInput,
    keypoints: KeypointsInput,
}

impl From<FaceInput> for FaceLandmarks {
    fn from(f: FaceInput) -> Self {
        let k = f.keypoints;
        let p = |p: PointInput| (p.x, p.y);
        FaceLandmarks {
            score: f.score,
            x_min: f.rect.x,
            y_min: f.rect.y,
            x_max: f.rect.x + f.rect.width,
            y_max: f.rect.y + f.rect.height,
            keypoints: [p(k.right_eye), p(k.left_eye), p(k.nose_tip), p(k.mouth), p(k.right_ear), p(k.left_ear)],
        }
    }
}

/// The main face of a frame, as JavaScript receives it.
#[derive(Serialize)]
struct FaceResult {
    score: f32,
    #[serde(rename = "box")]
    rect: BTreeMap<&'static str, f32>,
    yaw: f32,
    pitch: f32,
    roll: f32,
}

/// What [`SelfieAnalyzer::analyze`] returns (the same fields as the document analyser's result, with
/// `face` in place of `document`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SelfieResult {
    guidance: &'static str,
    message: &'static str,
    reasons: Vec<&'static str>,
    acceptable: bool,
    is_new_best: bool,
    capture: bool,
    steady_count: u32,
    best_score: f64,
    frames_analyzed: u32,
    faces: usize,
    face: Option<FaceResult>,
    metrics: BTreeMap<&'static str, f64>,
}

/// Parses the detections JavaScript passes (`undefined`/`null` = none); at most [`selfie::MAX_FACES`] are
/// kept.
fn parse_faces(faces: JsValue) -> Result<Vec<FaceLandmarks>, JsError> {
    if faces.is_undefined() || faces.is_null() {
        return Ok(Vec::new());
    }
    let list: Vec<FaceInput> = serde_wasm_bindgen::from_value(faces).map_err(|e| {
        js_error("invalid_argument", format!("faces must be the detector's [{{ score, box, keypoints }}] ({e})"))
    })?;
    Ok(list.into_iter().take(selfie::MAX_FACES).map(FaceLandmarks::from).collect())
}

/// Analyses selfie frames one after another and decides when the face is ready for the liveness burst.
///
/// JavaScript: `new SelfieAnalyzer()`, then for every frame `analyze(imageData.data, width, height,
/// width * 4, faces)` with `faces` from the face module's `detect()` on the same frame.
#[wasm_bindgen]
pub struct SelfieAnalyzer {
    analyzer: Analyzer,
    auto: SelfieAutoCapture,
    frames: u32,
}

impl Default for SelfieAnalyzer {
    fn default() -> Self {
        SelfieAnalyzer {
            analyzer: Analyzer::default(),
            auto: SelfieAutoCapture::new(SelfieCaptureConfig::default()),
            frames: 0,
        }
    }
}

#[wasm_bindgen]
impl SelfieAnalyzer {
    /// A fresh analyser with the default limits (oval, face size, pose, sharpness, exposure) and
    /// auto-capture after 6 consecutive good frames.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<SelfieAnalyzer, JsError> {
        let analyzer = Analyzer::new(SelfieConfig::default()).map_err(|e| js_error("invalid_argument", e))?;
        Ok(SelfieAnalyzer { analyzer, ..SelfieAnalyzer::default() })
    }

    /// The face oval in normalised frame coordinates: `{ cx, cy, rx, ry }` (shares of the frame width and
    /// height), as the SDK draws it.
    #[wasm_bindgen(getter)]
    pub fn oval(&self) -> Result<JsValue, JsError> {
        let o: Oval = self.analyzer.config().oval;
        to_js(&BTreeMap::from([("cx", o.cx), ("cy", o.cy), ("rx", o.rx), ("ry", o.ry)]))
    }

    /// Analyses one RGBA8 frame with the faces detected in it and returns `{ guidance, message, reasons,
    /// acceptable, isNewBest, capture, steadyCount, bestScore, framesAnalyzed, faces, face, metrics }`.
    /// `guidance` is a stable code (`no_face`, `multiple_faces`, `center_face`, `too_close`, `too_far`,
    /// `turn_left`, …, `too_blurry`, `hold_still`, `ready`); `face` is `null` or `{ score, box, yaw,
    /// pitch, roll }`; `capture` says the face has been good and steady long enough to take the burst.
    /// Throws `"<frame error code>: ..."` for a malformed frame and `"invalid_argument: ..."` for
    /// malformed detections.
    pub fn analyze(
        &mut self,
        data: &[u8],
        width: u32,
        height: u32,
        stride: u32,
        faces: JsValue,
    ) -> Result<JsValue, JsError> {
        let frame = frame(data, width, height, stride)?;
        let faces = parse_faces(faces)?;
        let report = self.analyzer.analyze(&frame, &faces);
        let step = self.auto.update(&report);
        self.frames = self.frames.saturating_add(1);
        let face = report.face.map(|f| {
            let pose = report.pose.unwrap_or_default();
            FaceResult {
                score: f.score,
                rect: BTreeMap::from([("x", f.x_min), ("y", f.y_min), ("width", f.width()), ("height", f.height())]),
                yaw: pose.yaw,
                pitch: pose.pitch,
                roll: pose.roll,
            }
        });
        to_js(&SelfieResult {
            guidance: step.guidance.as_str(),
            message: step.guidance.message_en(),
            reasons: report.reasons.iter().map(|g| g.as_str()).collect(),
            acceptable: report.acceptable,
            is_new_best: step.is_new_best,
            capture: step.capture,
            steady_count: step.steady_count,
            best_score: f64::from(step.best_score),
            frames_analyzed: self.frames,
            faces: report.faces,
            face,
            metrics: report.metrics().into_iter().collect(),
        })
    }

    /// Forgets every frame seen so far (motion history, steady run, capture).
    pub fn reset(&mut self) {
        self.analyzer.reset();
        self.auto.reset();
        self.frames = 0;
    }

    /// How many frames were analysed since creation or the last [`SelfieAnalyzer::reset`].
    #[wasm_bindgen(getter, js_name = framesAnalyzed)]
    pub fn frames_analyzed(&self) -> u32 {
        self.frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detections_map_to_landmarks_in_blazeface_order() {
        let pt = |x: f32, y: f32| PointInput { x, y };
        let input = FaceInput {
            score: 0.9,
            rect: BoxInput { x: 10.0, y: 20.0, width: 100.0, height: 120.0 },
            keypoints: KeypointsInput {
                right_eye: pt(40.0, 60.0),
                left_eye: pt(80.0, 60.0),
                nose_tip: pt(60.0, 80.0),
                mouth: pt(60.0, 100.0),
                right_ear: pt(15.0, 70.0),
                left_ear: pt(105.0, 70.0),
            },
        };
        let f = FaceLandmarks::from(input);
        assert_eq!((f.x_min, f.y_min, f.x_max, f.y_max), (10.0, 20.0, 110.0, 140.0));
        assert_eq!(f.keypoints[0], (40.0, 60.0));
        assert_eq!(f.keypoints[3], (60.0, 100.0));
        assert_eq!(f.keypoints[5], (105.0, 70.0));
    }
}
