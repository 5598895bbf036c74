//! Face match: the dlib ResNet face-embedding model read in Rust and run through tract,
//! alignment to 150×150 chips, and a calibrated selfie-to-portrait match.
//!
//! - [`dlib`]: reads `dlib_face_recognition_resnet_model_v1.dat` (dlib's serialize format).
//! - [`architecture`]: checks the parsed layers against the known ResNet and builds a [`network::Network`].
//! - [`graph`]: turns the network into an ONNX graph in memory and loads it in tract
//!   (optimised); [`reference`] is the plain forward pass it is tested against.
//! - [`direct`]: the same network on `trustcap-conv`'s direct convolution, the engine
//!   [`FaceEmbedder`] picks on CPUs with AVX-512 (about twice as fast as tract there) or AVX2 and
//!   FMA (about 1.35× as fast).
//! - [`align`]: similarity alignment of four BlazeFace keypoints to dlib's template; chips.
//! - [`embed`]: [`FaceEmbedder`], chip → 128-D [`Embedding`].
//! - [`quality`]: chip sharpness; [`calibration`]: distance → score, threshold at an FMR.
//! - [`matcher`]: [`FaceMatcher`], detection (BlazeFace from `trustcap-vision`), quality gating
//!   with [`ReasonCode`]s, score and [`Decision`] in a [`MatchReport`] with both chips.
//!
//! Everything that runs the model (tract, BlazeFace, alignment, the matcher) is behind the default
//! `runtime` feature; without it the crate is only the reader, the architecture check, the plain
//! reference pass and the calibration (the fuzz targets build it that way).
//!
//! ```no_run
//! use trustcap_face::{FaceMatcher, matcher::chip_png};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut matcher = FaceMatcher::from_dir(&trustcap_vision::model_cache::default_model_dir())?;
//! let selfie = image::open("selfie.jpg")?.to_rgb8();
//! let document = image::open("document.jpg")?.to_rgb8();
//! let report = matcher.match_images(&selfie, &document)?;
//! match report.score {
//!     Some(score) => println!("{:?} similarity {:.3} ({})", score.decision, score.similarity, report.model_version),
//!     None => println!("rejected: {:?}", report.reasons.iter().map(|r| r.code()).collect::<Vec<_>>()),
//! }
//! if let Some(chip) = &report.selfie.chip {
//!     let _png = chip_png(chip)?; // stored encrypted for reviewers
//! }
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "runtime")]
pub mod align;
pub mod architecture;
pub mod calibration;
#[cfg(feature = "runtime")]
pub mod direct;
pub mod dlib;
#[cfg(feature = "runtime")]
pub mod embed;
#[cfg(feature = "runtime")]
pub mod graph;
#[cfg(feature = "runtime")]
pub mod matcher;
pub mod network;
#[cfg(feature = "runtime")]
pub mod quality;
pub mod reference;

#[cfg(feature = "runtime")]
pub use align::CHIP_SIZE;
pub use calibration::{Calibration, Fmr};
#[cfg(feature = "runtime")]
pub use embed::{EmbedEngine, Embedding, FaceEmbedder};
#[cfg(feature = "runtime")]
pub use matcher::{
    Decision, DetectorRuns, FaceAnalysis, FaceError, FaceMatcher, MatchConfig, MatchReport, Reason, ReasonCode, Role,
    Score,
};
