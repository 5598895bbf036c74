//! # trustcap-wasm
//!
//! The WebAssembly core of the `@trustcap/web` browser SDK. This crate only translates
//! between JavaScript and the Rust crates that hold the logic:
//!
//! * [`FrameAnalyzer`], [`rectify_document`], [`document_metrics`] and [`quality_metrics`] wrap
//!   `trustcap-vision` (document boundary, frame quality, guidance, auto-capture, rectification);
//! * [`SelfieAnalyzer`] wraps `trustcap-vision`'s selfie guidance (faces from the lazily loaded face
//!   module, which runs the detector);
//! * [`CaptureKey`] wraps `trustcap-protocol` (the per-session Ed25519 capture key and the
//!   sealing of a signed upload envelope).
//!
//! No algorithm lives here, and none is duplicated in the JavaScript package: hashing, the
//! manifest and the signature are all produced by `trustcap-protocol`.
//!
//! Errors cross the boundary as JavaScript `Error`s whose message starts with a stable code
//! followed by `": "` and a detail, e.g. `"manifest_invalid: unknown capture step"`.

#![warn(missing_docs)]

#[cfg(feature = "bench")]
pub mod bench;
pub mod selfie;

pub use selfie::SelfieAnalyzer;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use trustcap_protocol::{CaptureSigningKey, DeviceInfo, ImagePart, ManifestDraft, SdkInfo, Step, seal};
use trustcap_vision::document::{DocumentAnalyzer, DocumentConfig, DocumentReport};
use trustcap_vision::geometry::{Point, Quad};
use trustcap_vision::rectify::{self, RectifiedImage};
use trustcap_vision::{AutoCapture, AutoCaptureConfig, DocumentFormat, Frame, QualityAnalyzer, QualityReport};
use wasm_bindgen::prelude::*;

/// The SDK name written into every manifest.
pub const SDK_NAME: &str = "trustcap-web";

/// Longest device text (user agent, camera label) a manifest accepts, in bytes.
const MAX_DEVICE_TEXT: usize = 512;

/// Installs the panic hook so that a Rust panic shows up in the browser console with its
/// message instead of an opaque `unreachable` trap. Runs once when the module is
/// instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The version of this crate (and of the `@trustcap/web` package built from it).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// A JavaScript error whose message is `"<code>: <detail>"`.
fn js_error(code: &str, detail: impl std::fmt::Display) -> JsError {
    JsError::new(&format!("{code}: {detail}"))
}

/// Plain objects for JS (`{}` rather than `Map` for maps).
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
        .map_err(|e| js_error("internal", e))
}

fn frame<'a>(data: &'a [u8], width: u32, height: u32, stride: u32) -> Result<Frame<'a>, JsError> {
    Frame::new(data, width, height, stride as usize).map_err(|e| js_error(e.code(), e))
}

fn metrics_of(report: &QualityReport) -> BTreeMap<&'static str, f64> {
    report.metrics().into_iter().collect()
}

/// The document found in a frame, as JavaScript sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentResult {
    /// Corners `[x0, y0, x1, y1, x2, y2, x3, y3]` in frame pixels: top-left, top-right, bottom-right,
    /// bottom-left.
    corners: [f64; 8],
    confidence: f64,
    format: &'static str,
    portrait: bool,
    fill: f64,
    tilt: f64,
}

/// What [`FrameAnalyzer::analyze`] returns to JavaScript.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FrameResult {
    guidance: &'static str,
    message: &'static str,
    reasons: Vec<&'static str>,
    acceptable: bool,
    is_new_best: bool,
    capture: bool,
    steady_count: u32,
    best_score: f64,
    frames_analyzed: u32,
    document: Option<DocumentResult>,
    metrics: BTreeMap<&'static str, f64>,
}

enum Analyzer {
    Document(Box<DocumentAnalyzer>),
    Frame(Box<QualityAnalyzer>),
}

/// Analyses camera frames one after another and decides when to capture.
///
/// JavaScript: `new FrameAnalyzer("document")` (boundary, in-document quality and framing guidance;
/// `"document:id1"` or `"document:id3"` fixes the format) or `new FrameAnalyzer("frame")` (whole-frame
/// quality only; selfies use [`SelfieAnalyzer`]), then `analyze(imageData.data, width, height,
/// width * 4)` for every frame.
#[wasm_bindgen]
pub struct FrameAnalyzer {
    analyzer: Analyzer,
    auto: AutoCapture,
    frames: u32,
}

impl Default for FrameAnalyzer {
    fn default() -> Self {
        Self::from_kind("document").unwrap_or_else(|_| unreachable!("document is a known kind"))
    }
}

impl FrameAnalyzer {
    fn from_kind(kind: &str) -> Result<FrameAnalyzer, String> {
        let analyzer = match kind {
            "document" => Analyzer::Document(Box::default()),
            "document:id1" | "document:id3" => {
                let format = if kind.ends_with("id1") { DocumentFormat::Id1 } else { DocumentFormat::Id3 };
                Analyzer::Document(Box::new(DocumentAnalyzer::with_config(DocumentConfig {
                    format: Some(format),
                    ..DocumentConfig::default()
                })))
            }
            "frame" => Analyzer::Frame(Box::default()),
            other => {
                return Err(format!("unknown analyzer kind {other:?} (document, document:id1, document:id3, frame)"));
            }
        };
        Ok(FrameAnalyzer { analyzer, auto: AutoCapture::new(AutoCaptureConfig::default()), frames: 0 })
    }
}

fn document_result(report: &DocumentReport) -> Option<DocumentResult> {
    report.boundary.map(|b| {
        let c = b.quad.corners;
        DocumentResult {
            corners: [c[0].x, c[0].y, c[1].x, c[1].y, c[2].x, c[2].y, c[3].x, c[3].y],
            confidence: f64::from(b.confidence),
            format: b.format.as_str(),
            portrait: b.portrait,
            fill: f64::from(b.fill),
            tilt: f64::from(b.tilt),
        }
    })
}

#[wasm_bindgen]
impl FrameAnalyzer {
    /// A fresh analyzer of the given kind (default `"document"`) with the default auto-capture
    /// settings. Throws `"invalid_argument: ..."` for an unknown kind.
    #[wasm_bindgen(constructor)]
    pub fn new(kind: Option<String>) -> Result<FrameAnalyzer, JsError> {
        FrameAnalyzer::from_kind(kind.as_deref().unwrap_or("document")).map_err(|e| js_error("invalid_argument", e))
    }

    /// Analyses one RGBA8 frame (as in canvas `ImageData`, `stride` bytes per row) and
    /// returns `{ guidance, message, reasons, acceptable, isNewBest, capture, steadyCount,
    /// bestScore, framesAnalyzed, document, metrics }`. `guidance` is a stable code such as
    /// `"too_blurry"` or `"ready"`, `message` its English text, `reasons` every failing check
    /// in priority order; `document` is `null` or `{ corners, confidence, format, portrait,
    /// fill, tilt }`; `isNewBest` says this frame is the best of the steady run so far (keep
    /// its pixels and `document.corners`), `capture` that the best frame should now be taken.
    /// Throws `"<frame error code>: ..."` for a malformed frame.
    pub fn analyze(&mut self, data: &[u8], width: u32, height: u32, stride: u32) -> Result<JsValue, JsError> {
        let frame = frame(data, width, height, stride)?;
        let (acceptable, guidance, reasons, score, document, metrics) = match &mut self.analyzer {
            Analyzer::Document(a) => {
                let r = a.analyze(&frame);
                let reasons: Vec<&'static str> = r.reasons.iter().map(|g| g.as_str()).collect();
                (r.acceptable, r.guidance, reasons, r.capture_score(), document_result(&r), r.metrics().collect())
            }
            Analyzer::Frame(a) => {
                let r = a.analyze(&frame);
                let reasons = if r.acceptable { Vec::new() } else { vec![r.guidance.as_str()] };
                (r.acceptable, r.guidance, reasons, r.sharpness.score, None, metrics_of(&r))
            }
        };
        let step = self.auto.step(acceptable, guidance, score);
        self.frames = self.frames.saturating_add(1);
        to_js(&FrameResult {
            guidance: step.guidance.as_str(),
            message: step.guidance.message_en(),
            reasons,
            acceptable,
            is_new_best: step.is_new_best,
            capture: step.capture,
            steady_count: step.steady_count,
            best_score: f64::from(step.best_score),
            frames_analyzed: self.frames,
            document,
            metrics,
        })
    }

    /// Forgets every frame seen so far (motion history, best frame, steady count).
    pub fn reset(&mut self) {
        match &mut self.analyzer {
            Analyzer::Document(a) => a.reset(),
            Analyzer::Frame(a) => a.reset(),
        }
        self.auto.reset();
        self.frames = 0;
    }

    /// How many frames were analysed since creation or the last [`FrameAnalyzer::reset`].
    #[wasm_bindgen(getter, js_name = framesAnalyzed)]
    pub fn frames_analyzed(&self) -> u32 {
        self.frames
    }
}

/// A rectified document image: `width`, `height` and the RGBA pixels (taken once).
#[wasm_bindgen]
pub struct RectifiedDocument {
    image: RectifiedImage,
}

#[wasm_bindgen]
impl RectifiedDocument {
    /// Width in pixels.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.image.width
    }

    /// Height in pixels.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.image.height
    }

    /// The packed RGBA pixels (a `Uint8Array`, `width * height * 4` bytes); empty after the first call.
    #[wasm_bindgen(js_name = takeRgba)]
    pub fn take_rgba(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.image.rgba)
    }
}

/// Warps the document quadrilateral of an RGBA8 frame to a flat image of the format's fixed size
/// (`"id1"`: 1012×638, `"id3"`: 1200×845; swapped when `portrait`). `corners` is the `document.corners`
/// array [`FrameAnalyzer::analyze`] returned for this frame. Throws `"invalid_argument: ..."` or
/// `"quad_degenerate: ..."`.
#[wasm_bindgen(js_name = rectifyDocument)]
pub fn rectify_document(
    data: &[u8],
    width: u32,
    height: u32,
    stride: u32,
    corners: &[f64],
    format: &str,
    portrait: bool,
) -> Result<RectifiedDocument, JsError> {
    let frame = frame(data, width, height, stride)?;
    let c: [f64; 8] = corners.try_into().map_err(|_| js_error("invalid_argument", "corners must have 8 numbers"))?;
    let format = match format {
        "id1" => DocumentFormat::Id1,
        "id3" => DocumentFormat::Id3,
        other => return Err(js_error("invalid_argument", format!("unknown document format {other:?}"))),
    };
    let quad = Quad {
        corners: [Point::new(c[0], c[1]), Point::new(c[2], c[3]), Point::new(c[4], c[5]), Point::new(c[6], c[7])],
    };
    let image = rectify::rectify(&frame, &quad, format, portrait).map_err(|e| js_error(e.code(), e))?;
    Ok(RectifiedDocument { image })
}

/// One-shot document analysis of a single RGBA8 frame with a fresh analyzer: the metrics object, the
/// same numbers the native `DocumentReport::metrics` gives for the frame.
#[wasm_bindgen(js_name = documentMetrics)]
pub fn document_metrics(data: &[u8], width: u32, height: u32, stride: u32) -> Result<JsValue, JsError> {
    let frame = frame(data, width, height, stride)?;
    let report = DocumentAnalyzer::new().analyze(&frame);
    to_js(&report.metrics().collect::<BTreeMap<_, _>>())
}

/// One-shot quality analysis of a single RGBA8 frame with a fresh analyzer. Returns the
/// metrics object (`{ sharpness, glare, "exposure.mean", ... }`), the same numbers the
/// native `QualityReport::metrics` gives for the frame.
#[wasm_bindgen(js_name = qualityMetrics)]
pub fn quality_metrics(data: &[u8], width: u32, height: u32, stride: u32) -> Result<JsValue, JsError> {
    let frame = frame(data, width, height, stride)?;
    to_js(&metrics_of(&QualityAnalyzer::new().analyze(&frame)))
}

/// The manifest fields JavaScript supplies to [`CaptureKey::seal`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DraftInput {
    session_id: String,
    nonce: String,
    step: String,
    captured_at_ms: u64,
    #[serde(default)]
    sdk_version: Option<String>,
    #[serde(default)]
    user_agent: String,
    #[serde(default)]
    camera_label: String,
    #[serde(default)]
    frames_analyzed: u32,
    #[serde(default)]
    quality: BTreeMap<String, f64>,
}

/// Device text as the manifest accepts it: control characters removed, cut to the length
/// limit on a character boundary.
fn device_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_DEVICE_TEXT));
    for c in text.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > MAX_DEVICE_TEXT {
            break;
        }
        out.push(c);
    }
    out
}

/// The per-session Ed25519 capture key. The private half never leaves this object.
///
/// JavaScript: `const key = CaptureKey.generate()`, register `key.publicKey()` with the
/// verifier, then `key.seal(draft, jpegBytes, "image/jpeg", width, height)` for each
/// capture.
#[wasm_bindgen]
pub struct CaptureKey {
    key: CaptureSigningKey,
}

#[wasm_bindgen]
impl CaptureKey {
    /// A new key from 32 bytes of the platform's secure randomness
    /// (`crypto.getRandomValues`). Throws `"random_unavailable: ..."` if there is none.
    pub fn generate() -> Result<CaptureKey, JsError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| js_error("random_unavailable", e))?;
        let key = CaptureSigningKey::from_seed(seed);
        seed.fill(0);
        Ok(CaptureKey { key })
    }

    /// The public key in the base64url form the verifier registers.
    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self) -> String {
        self.key.public_key().to_base64()
    }

    /// The key id (`k_` and 16 hex digits) that manifests signed by this key carry.
    #[wasm_bindgen(js_name = keyId)]
    pub fn key_id(&self) -> String {
        self.key.public_key().key_id()
    }

    /// Builds, signs and frames a capture upload for one image.
    ///
    /// `draft` is `{ sessionId, nonce, step, capturedAtMs, sdkVersion?, userAgent?,
    /// cameraLabel?, framesAnalyzed?, quality? }` where `step` is e.g. `"document_front"`
    /// (also the image's part name) and `quality` maps metric names to finite numbers.
    /// Returns the envelope bytes (a `Uint8Array`) to POST with the content type
    /// `application/vnd.trustcap.capture.v1`. Throws `"<protocol error code>: ..."`.
    pub fn seal(
        &self,
        draft: JsValue,
        image: &[u8],
        #[wasm_bindgen(js_name = contentType)] content_type: &str,
        width: u32,
        height: u32,
    ) -> Result<Vec<u8>, JsError> {
        let (step, draft) = manifest_draft(draft)?;
        let part = ImagePart { name: step.as_str(), content_type, width, height, bytes: image };
        seal(draft, &[part], &self.key).map_err(|e| js_error(e.code.as_str(), e.detail))
    }

    /// Builds, signs and frames a capture upload of several images of one content type, e.g. a selfie
    /// and its liveness burst (`names` `["selfie", "selfie_frame_0", …]`, see `trustcap_protocol::burst`), or
    /// a rectified document and its original photo (`["document_front", "document_original"]`, see
    /// `trustcap_protocol::document`).
    ///
    /// `draft` is as for [`CaptureKey::seal`]; `names`, `widths`, `heights` and `images` (an array of
    /// `Uint8Array`s) describe the parts in order and must have the same length. Throws
    /// `"invalid_argument: ..."` for mismatched lists or `"<protocol error code>: ..."` (e.g.
    /// `manifest_invalid` for a malformed burst).
    #[wasm_bindgen(js_name = sealParts)]
    pub fn seal_parts(
        &self,
        draft: JsValue,
        #[wasm_bindgen(js_name = contentType)] content_type: &str,
        names: Vec<String>,
        widths: Vec<u32>,
        heights: Vec<u32>,
        images: js_sys::Array,
    ) -> Result<Vec<u8>, JsError> {
        let n = names.len();
        if widths.len() != n || heights.len() != n || images.length() as usize != n {
            return Err(js_error("invalid_argument", "names, widths, heights and images must have the same length"));
        }
        let mut bytes = Vec::with_capacity(n);
        for value in images.iter() {
            let array = value
                .dyn_into::<js_sys::Uint8Array>()
                .map_err(|_| js_error("invalid_argument", "every image must be a Uint8Array"))?;
            bytes.push(array.to_vec());
        }
        let (_, draft) = manifest_draft(draft)?;
        let parts: Vec<ImagePart<'_>> = names
            .iter()
            .zip(&widths)
            .zip(&heights)
            .zip(&bytes)
            .map(|(((name, &width), &height), b)| ImagePart { name, content_type, width, height, bytes: b })
            .collect();
        seal(draft, &parts, &self.key).map_err(|e| js_error(e.code.as_str(), e.detail))
    }
}

/// The manifest draft of a [`CaptureKey::seal`] call, with its step.
fn manifest_draft(draft: JsValue) -> Result<(Step, ManifestDraft), JsError> {
    let input: DraftInput = serde_wasm_bindgen::from_value(draft).map_err(|e| js_error("manifest_invalid", e))?;
    let step = Step::parse(&input.step)
        .ok_or_else(|| js_error("manifest_invalid", "step must be document_front, document_back or selfie"))?;
    let draft = ManifestDraft {
        session_id: input.session_id,
        nonce: input.nonce,
        step,
        captured_at_ms: input.captured_at_ms,
        sdk: SdkInfo {
            name: SDK_NAME.to_owned(),
            version: input.sdk_version.unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
        },
        device: DeviceInfo {
            user_agent: device_text(&input.user_agent),
            camera_label: device_text(&input.camera_label),
            frames_analyzed: input.frames_analyzed,
        },
        quality: input.quality,
    };
    Ok((step, draft))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_text_is_cleaned_and_bounded() {
        assert_eq!(device_text("Cam\u{7}era\n 1"), "Camera 1");
        let long = "é".repeat(400);
        let cut = device_text(&long);
        assert!(cut.len() <= MAX_DEVICE_TEXT && cut.chars().all(|c| c == 'é'));
        assert_eq!(cut.len(), 512);
    }

    #[test]
    fn version_is_the_crate_version() {
        assert_eq!(version(), env!("CARGO_PKG_VERSION"));
    }
}
