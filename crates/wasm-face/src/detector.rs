//! Face detection: BlazeFace loaded from model bytes, run on RGBA frames.
//!
//! The model bytes come from JavaScript (the package serves `blazeface_front_128.onnx` and
//! `blazeface_back_256.onnx` as assets, copied from the model cache by the build step). This
//! module only checks sizes, picks the variant and shapes results for JavaScript; loading,
//! letterboxing, decoding and weighted NMS are `trustcap_vision::face`'s.

use serde::Serialize;
use trustcap_vision::Frame;
use trustcap_vision::face::{self, BlazeFace, BlazeFaceVariant, Detection, Keypoint, Point};

use crate::error::FaceError;

/// Largest model accepted, in bytes (the BlazeFace files are 0.4 and 0.6 MB).
pub const MAX_MODEL_BYTES: usize = 16 << 20;

/// Parses a variant name as JavaScript passes it: `front128` or `back256`.
pub fn parse_variant(name: &str) -> Result<BlazeFaceVariant, FaceError> {
    match name {
        "front128" => Ok(BlazeFaceVariant::Front128),
        "back256" => Ok(BlazeFaceVariant::Back256),
        other => Err(FaceError::UnknownVariant(other.chars().take(40).collect())),
    }
}

/// The name [`parse_variant`] accepts for a variant.
pub const fn variant_name(variant: BlazeFaceVariant) -> &'static str {
    match variant {
        BlazeFaceVariant::Front128 => "front128",
        BlazeFaceVariant::Back256 => "back256",
    }
}

/// A face box in frame pixels, in the shape the liveness analyser takes it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaceRect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

/// The six keypoints by name.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Keypoints {
    /// The subject's right eye (image left on a frontal face).
    pub right_eye: Point,
    /// The subject's left eye (image right).
    pub left_eye: Point,
    /// Nose tip.
    pub nose_tip: Point,
    /// Mouth centre.
    pub mouth: Point,
    /// Right ear tragion (image left).
    pub right_ear: Point,
    /// Left ear tragion (image right).
    pub left_ear: Point,
}

/// One detected face as JavaScript receives it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Face {
    /// Face probability in [0, 1].
    pub score: f32,
    /// The face box in frame pixels.
    #[serde(rename = "box")]
    pub rect: FaceRect,
    /// Keypoints in frame pixels.
    pub keypoints: Keypoints,
}

impl From<&Detection> for Face {
    fn from(d: &Detection) -> Self {
        let b = d.bbox;
        Face {
            score: d.score,
            rect: FaceRect { x: b.x_min, y: b.y_min, width: b.width(), height: b.height() },
            keypoints: Keypoints {
                right_eye: d.keypoint(Keypoint::RightEye),
                left_eye: d.keypoint(Keypoint::LeftEye),
                nose_tip: d.keypoint(Keypoint::NoseTip),
                mouth: d.keypoint(Keypoint::Mouth),
                right_ear: d.keypoint(Keypoint::RightEar),
                left_ear: d.keypoint(Keypoint::LeftEar),
            },
        }
    }
}

/// A loaded detector.
#[derive(Debug)]
pub struct Detector {
    model: BlazeFace,
}

impl Detector {
    /// Loads a BlazeFace model of the named variant from its ONNX bytes.
    pub fn load(bytes: &[u8], variant: &str) -> Result<Detector, FaceError> {
        let variant = parse_variant(variant)?;
        if bytes.len() > MAX_MODEL_BYTES {
            return Err(FaceError::ModelTooLarge(bytes.len()));
        }
        if bytes.is_empty() {
            return Err(FaceError::ModelInvalid("the model is empty".into()));
        }
        let model = face::load_model(bytes, variant).map_err(|e| FaceError::ModelInvalid(e.to_string()))?;
        Ok(Detector { model })
    }

    /// The variant's name (`front128` or `back256`).
    pub fn variant(&self) -> &'static str {
        variant_name(self.model.variant())
    }

    /// The model's input side in pixels.
    pub fn input_size(&self) -> usize {
        self.model.variant().size()
    }

    /// Minimum score of a reported face.
    pub fn min_score(&self) -> f32 {
        self.model.min_score()
    }

    /// Sets the minimum score (clamped to [0, 1]; NaN is refused).
    pub fn set_min_score(&mut self, min_score: f32) -> Result<(), FaceError> {
        if min_score.is_nan() {
            return Err(FaceError::Options("minScore must be a number".into()));
        }
        self.model.set_min_score(min_score);
        Ok(())
    }

    /// The model alone on a prepared input tensor (`size × size × 3` RGB values in [-1, 1]):
    /// the best face score. For benchmarks against another inference engine's `run`.
    pub fn best_score_of_tensor(&mut self, input: &[f32]) -> Result<f32, FaceError> {
        self.model.best_score_of_tensor(input).map_err(|e| FaceError::Inference(e.to_string()))
    }

    /// Faces in an RGBA frame (`stride` bytes per row), best first.
    pub fn detect(&mut self, data: &[u8], width: u32, height: u32, stride: u32) -> Result<Vec<Face>, FaceError> {
        let frame = Frame::new(data, width, height, stride as usize)?;
        let detections = self.model.detect(&frame).map_err(|e| FaceError::Inference(e.to_string()))?;
        Ok(detections.iter().map(Face::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_round_trip_and_unknown_names_are_refused() {
        for v in [BlazeFaceVariant::Front128, BlazeFaceVariant::Back256] {
            assert_eq!(parse_variant(variant_name(v)).unwrap(), v);
        }
        let e = parse_variant("front64").unwrap_err();
        assert_eq!(e.code(), "unknown_model_variant");
        let long = "x".repeat(10_000);
        assert!(parse_variant(&long).unwrap_err().to_string().len() < 120);
    }

    #[test]
    fn bad_model_bytes_are_typed_errors() {
        assert_eq!(Detector::load(&[], "front128").unwrap_err().code(), "model_invalid");
        assert_eq!(Detector::load(b"not a model at all", "front128").unwrap_err().code(), "model_invalid");
        assert_eq!(Detector::load(&[0xff; 64], "back256").unwrap_err().code(), "model_invalid");
        assert_eq!(Detector::load(&vec![0; MAX_MODEL_BYTES + 1], "front128").unwrap_err().code(), "model_too_large");
        assert_eq!(Detector::load(b"x", "nope").unwrap_err().code(), "unknown_model_variant");
    }

    #[test]
    fn detections_map_to_named_keypoints_and_a_box() {
        let d = Detection {
            score: 0.9,
            bbox: face::BoundingBox { x_min: 10.0, y_min: 20.0, x_max: 50.0, y_max: 80.0 },
            keypoints: std::array::from_fn(|i| Point { x: i as f32, y: 10.0 * i as f32 }),
        };
        let f = Face::from(&d);
        assert_eq!(f.rect, FaceRect { x: 10.0, y: 20.0, width: 40.0, height: 60.0 });
        assert_eq!(f.keypoints.right_eye, Point { x: 0.0, y: 0.0 });
        assert_eq!(f.keypoints.mouth, Point { x: 3.0, y: 30.0 });
        assert_eq!(f.keypoints.left_ear, Point { x: 5.0, y: 50.0 });
        let json = serde_json::to_value(f).unwrap();
        assert_eq!(json["box"]["width"], 40.0);
        assert_eq!(json["keypoints"]["noseTip"]["x"], 2.0);
    }
}
