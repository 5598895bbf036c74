//! Document verification: MRZ (ICAO 9303) parsing and check digits, OCR of document photos
//! (PP-OCR through tract, feature `ocr`), authenticity and consistency checks, ID-number
//! validators with a registry connector, and proof of address.
//!
//! The [`mrz`] module has no I/O and compiles for `wasm32-unknown-unknown` without default
//! features.
#![warn(missing_docs)]

#[cfg(feature = "address")]
pub mod address;
pub mod checks;
pub mod idnum;
pub mod mrz;
#[cfg(feature = "ocr")]
pub mod ocr;
#[cfg(feature = "ocr")]
pub mod signals;
pub mod tamper;
pub mod viz;
