//! TrustCap capture-quality core.
//!
//! Runs on every camera frame in the browser (wasm32) and natively on the server to re-check uploads.
//! Pixels arrive as borrowed RGBA8 ([`Frame`]); [`QualityAnalyzer`] reduces them to a luma *working image*
//! (longer side ≤ 640 px), measures sharpness, glare, exposure and inter-frame motion, and derives one
//! [`Guidance`] message. [`AutoCapture`] adds hysteresis and best-frame tracking on top.
//!
//! # Determinism
//! Every metric uses integer accumulation and only IEEE basic operations (`+ - * /`, `sqrt`) in a fixed
//! order, with no transcendental functions, fused multiply-add or parallelism, so wasm32 and native builds
//! give bit-identical reports for the same pixels.
//!
//! ```
//! use trustcap_vision::{Frame, Guidance, QualityAnalyzer, synth};
//! let rgba = synth::document_scene(640, 360, 7);
//! let frame = Frame::packed(&rgba, 640, 360).unwrap();
//! let report = QualityAnalyzer::new().analyze(&frame);
//! assert_eq!(report.guidance, Guidance::Ready);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod boundary;
pub mod document;
pub mod exposure;
pub mod frame;
pub mod geometry;
pub mod glare;
pub mod guidance;
pub mod liveness;
pub mod luma;
pub mod model_cache;
pub mod motion;
pub mod quality;
pub mod rectify;
pub mod region;
pub mod selfie;
pub mod sharpness;
pub mod synth;

#[cfg(feature = "face")]
pub mod face;

#[cfg(feature = "face")]
pub mod antispoof;

pub use boundary::{BoundaryDetector, DocumentBoundary, DocumentFormat};
pub use exposure::ExposureReport;
pub use frame::{Frame, FrameError};
pub use glare::GlareReport;
pub use guidance::{AutoCapture, AutoCaptureConfig, CaptureStep, Guidance};
pub use luma::WorkingImage;
pub use quality::{METRIC_COUNT, QualityAnalyzer, QualityReport, QualityThresholds};
pub use sharpness::SharpnessReport;
pub use synth::Y4mError;
