//! # trustcap-wasm-face
//!
//! The face module of the `@trustcap/web` browser SDK: BlazeFace detection and passive
//! liveness, in a WebAssembly module of its own. BlazeFace runs on the direct engine
//! (`trustcap_vision::face::direct`, `trustcap-conv`'s simd128 kernels) in the SIMD build and on
//! tract-onnx in the build without SIMD; tract (which also loads a deployment's anti-spoofing
//! model) makes the module several times the size
//! of the core module, so the package loads it lazily (`loadFaceModule()`, prefetched in idle
//! time as the selfie step nears) and the document step never downloads it.
//!
//! Like the core module, this crate only translates between JavaScript and
//! `trustcap-vision`: [`FaceDetector`] wraps [`trustcap_vision::face`] ([`detector`]),
//! [`LivenessAnalyzer`] wraps [`trustcap_vision::liveness`] ([`liveness`]). Errors cross the
//! boundary as JavaScript `Error`s whose message is `"<code>: <detail>"` ([`error`]).
//!
//! Built twice by `cargo xtask build-sdk` (profile `wasm-face`): with and without
//! `-C target-feature=+simd128`; the loader picks the SIMD build when the browser validates
//! SIMD code. [`simd`] says which one is running.

#![warn(missing_docs)]

pub mod detector;
pub mod error;
pub mod liveness;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use error::FaceError;

/// Installs the panic hook (a panic shows its message in the console before the module
/// traps). Runs once when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The version of this crate (equal to the core module's and the package's).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Whether this build uses WebAssembly SIMD (`simd128`).
#[wasm_bindgen]
pub fn simd() -> bool {
    cfg!(target_feature = "simd128")
}

fn js_error(e: FaceError) -> JsError {
    JsError::new(&e.message())
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
        .map_err(|e| JsError::new(&format!("internal: {e}")))
}

/// BlazeFace face detector.
///
/// JavaScript: `new FaceDetector(modelBytes, "front128")` (selfies) or `"back256"` (small faces,
/// e.g. a document portrait), then `detect(imageData.data, width, height, width * 4)`, which
/// returns the faces best first: `{ score, box: { x, y, width, height }, keypoints: { rightEye,
/// leftEye, noseTip, mouth, rightEar, leftEar } }` in frame pixels.
#[wasm_bindgen]
pub struct FaceDetector {
    inner: detector::Detector,
}

#[wasm_bindgen]
impl FaceDetector {
    /// Loads a BlazeFace ONNX model from its bytes. Throws `unknown_model_variant`,
    /// `model_too_large` or `model_invalid`.
    #[wasm_bindgen(constructor)]
    pub fn new(model: &[u8], variant: &str) -> Result<FaceDetector, JsError> {
        Ok(FaceDetector { inner: detector::Detector::load(model, variant).map_err(js_error)? })
    }

    /// `front128` or `back256`.
    #[wasm_bindgen(getter)]
    pub fn variant(&self) -> String {
        self.inner.variant().to_owned()
    }

    /// The model's input side in pixels (128 or 256).
    #[wasm_bindgen(getter, js_name = inputSize)]
    pub fn input_size(&self) -> u32 {
        self.inner.input_size() as u32
    }

    /// Minimum score of a reported face (default 0.5).
    #[wasm_bindgen(getter, js_name = minScore)]
    pub fn min_score(&self) -> f32 {
        self.inner.min_score()
    }

    /// Sets the minimum score (clamped to [0, 1]; NaN throws `invalid_options`).
    #[wasm_bindgen(setter, js_name = minScore)]
    pub fn set_min_score(&mut self, min_score: f32) -> Result<(), JsError> {
        self.inner.set_min_score(min_score).map_err(js_error)
    }

    /// Runs the model alone on a prepared input tensor (`inputSize × inputSize × 3` RGB values in
    /// [-1, 1], row-major; no resampling, decoding or NMS) and returns the best face score: what
    /// another engine's `run` does, for side-by-side benchmarks. Throws `inference_failed` for a
    /// tensor of the wrong length.
    #[wasm_bindgen(js_name = bestScoreOfTensor)]
    pub fn best_score_of_tensor(&mut self, input: &[f32]) -> Result<f32, JsError> {
        self.inner.best_score_of_tensor(input).map_err(js_error)
    }

    /// Detects faces in an RGBA frame (`stride` bytes per row). Throws a `frame_*` code for an
    /// inconsistent frame, `inference_failed` if the model fails.
    pub fn detect(&mut self, data: &[u8], width: u32, height: u32, stride: u32) -> Result<JsValue, JsError> {
        to_js(&self.inner.detect(data, width, height, stride).map_err(js_error)?)
    }
}

/// Passive liveness on a burst of frames (1–2 s; the user only holds still).
///
/// JavaScript: `new LivenessAnalyzer({ threshold, minFrames })` (both optional), then for every
/// frame `push(data, width, height, stride, face.box, timestampMs)`, then `report()` (an object)
/// or `reportJson()` (the same as JSON text).
#[wasm_bindgen]
pub struct LivenessAnalyzer {
    inner: liveness::Burst,
}

#[wasm_bindgen]
impl LivenessAnalyzer {
    /// An empty burst. Throws `invalid_options` for unknown or out-of-range options.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<LivenessAnalyzer, JsError> {
        let options: liveness::BurstOptions = if options.is_undefined() || options.is_null() {
            liveness::BurstOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options).map_err(|e| js_error(FaceError::Options(e.to_string())))?
        };
        Ok(LivenessAnalyzer { inner: liveness::Burst::new(options).map_err(js_error)? })
    }

    /// Records the camera track's label (for the virtual-camera check).
    #[wasm_bindgen(js_name = setCameraLabel)]
    pub fn set_camera_label(&mut self, label: &str) {
        self.inner.set_camera_label(label);
    }

    /// Frames accepted so far.
    #[wasm_bindgen(getter)]
    pub fn frames(&self) -> u32 {
        self.inner.frames() as u32
    }

    /// Adds a frame with the face's box (`{ x, y, width, height }` in frame pixels) and its
    /// timestamp in milliseconds. Throws `bad_face_box`, `bad_timestamp`, `frame_size_changed`,
    /// `too_many_frames` or a `frame_*` code.
    pub fn push(
        &mut self,
        data: &[u8],
        width: u32,
        height: u32,
        stride: u32,
        face: JsValue,
        #[wasm_bindgen(js_name = timestampMs)] timestamp_ms: f64,
    ) -> Result<(), JsError> {
        let face: liveness::BoxInput = serde_wasm_bindgen::from_value(face).map_err(|e| {
            JsError::new(&format!("bad_face_box: the face box must be {{ x, y, width, height }} in numbers ({e})"))
        })?;
        self.inner.push(data, width, height, stride, face, timestamp_ms).map_err(js_error)
    }

    /// The verdict on the frames so far: `{ frames, score, passed, decisive, signals: [{ name,
    /// attack, judged, explanation }], planar, pattern, flicker, chroma, injection }`.
    pub fn report(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.report())
    }

    /// [`LivenessAnalyzer::report`] as JSON text.
    #[wasm_bindgen(js_name = reportJson)]
    pub fn report_json(&self) -> Result<String, JsError> {
        self.inner.report_json().map_err(js_error)
    }
}
