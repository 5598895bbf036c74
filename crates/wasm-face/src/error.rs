//! Errors of the face module, each with a stable code.
//!
//! They cross into JavaScript as `Error`s whose message is `"<code>: <detail>"` (the same
//! convention as the core module), which the package's loader turns into `TrustCapError`s
//! with a `code` property.

use trustcap_vision::FrameError;
use trustcap_vision::liveness::LivenessError;

/// Why a face-module call failed.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    /// The model variant name is not one this module knows.
    #[error("unknown model variant {0:?} (front128, back256)")]
    UnknownVariant(String),
    /// The model bytes exceed [`crate::detector::MAX_MODEL_BYTES`].
    #[error("the model is {0} bytes, more than the {max} accepted", max = crate::detector::MAX_MODEL_BYTES)]
    ModelTooLarge(usize),
    /// tract could not read the model, or its outputs are not BlazeFace's.
    #[error("{0}")]
    ModelInvalid(String),
    /// The frame's size, stride or buffer is inconsistent.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Running the model failed.
    #[error("{0}")]
    Inference(String),
    /// A liveness frame was refused.
    #[error(transparent)]
    Liveness(#[from] LivenessError),
    /// Options passed from JavaScript are malformed or out of range.
    #[error("{0}")]
    Options(String),
}

impl FaceError {
    /// Stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            FaceError::UnknownVariant(_) => "unknown_model_variant",
            FaceError::ModelTooLarge(_) => "model_too_large",
            FaceError::ModelInvalid(_) => "model_invalid",
            FaceError::Frame(e) => e.code(),
            FaceError::Inference(_) => "inference_failed",
            FaceError::Liveness(e) => e.code(),
            FaceError::Options(_) => "invalid_options",
        }
    }

    /// `"<code>: <detail>"`, the message JavaScript sees.
    pub fn message(&self) -> String {
        format!("{}: {self}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_start_with_their_code() {
        let cases = [
            FaceError::UnknownVariant("x".into()),
            FaceError::ModelTooLarge(1 << 30),
            FaceError::ModelInvalid("bad".into()),
            FaceError::Frame(FrameError::ZeroSize),
            FaceError::Inference("oops".into()),
            FaceError::Liveness(LivenessError::BadTimestamp),
            FaceError::Options("threshold".into()),
        ];
        let codes: Vec<_> = cases.iter().map(FaceError::code).collect();
        assert_eq!(
            codes,
            [
                "unknown_model_variant",
                "model_too_large",
                "model_invalid",
                "frame_zero_size",
                "inference_failed",
                "bad_timestamp",
                "invalid_options"
            ]
        );
        for e in &cases {
            let m = e.message();
            let (code, detail) = m.split_once(": ").expect("code: detail");
            assert_eq!(code, e.code());
            assert!(!detail.is_empty(), "{m}");
            assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{m}");
        }
    }
}
