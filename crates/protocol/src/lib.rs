//! # trustcap-protocol
//!
//! The contract between the browser capture SDK and the verifier. The same code runs in
//! both places (it compiles to `wasm32-unknown-unknown` and natively), so the two sides
//! can never disagree about what a valid payload is.
//!
//! A capture upload is an [`envelope`]: a tiny binary container holding a JSON
//! [`manifest`] in canonical form, an Ed25519 signature over it, and the image bytes as
//! binary parts. The manifest names the session, a single-use server nonce, the capture
//! step, device facts, the on-device quality results and the SHA-256 digest of every
//! image, so the one signature covers every byte of the upload.
//!
//! The SDK obtains its rights from a short-lived [`token`] (the *client token*) that the
//! verifier issues to the customer's backend when a session is created. With it, the SDK
//! registers a per-session Ed25519 public key ([`signing`]); the private key never leaves
//! the page.
//!
//! [`verify`] checks an upload against what the server knows about the session and
//! returns either the authenticated parts or a [`ProtocolError`] with a stable
//! [`ErrorCode`].
//!
//! Every parser here takes untrusted bytes: limits are checked before allocation, errors
//! are typed, and nothing panics (see the property tests and the fuzz targets).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod b64;
pub mod burst;
pub mod digest;
pub mod document;
pub mod envelope;
pub mod error;
pub mod manifest;
pub mod seal;
pub mod signing;
pub mod token;
pub mod verify;

pub use envelope::Envelope;
pub use error::{ErrorCode, ProtocolError};
pub use manifest::{DeviceInfo, ImageEntry, Manifest, SdkInfo, Step};
pub use seal::{ImagePart, ManifestDraft, seal};
pub use signing::{CapturePublicKey, CaptureSigningKey};
pub use token::{TokenClaims, TokenKey};
pub use verify::{Expectations, MemoryNonceLedger, NonceLedger, NonceStatus, VerifiedCapture, verify_capture};

/// The payload format version this crate writes and accepts.
pub const PAYLOAD_VERSION: u32 = 1;

/// The HTTP `Content-Type` of a capture upload.
pub const CONTENT_TYPE: &str = "application/vnd.trustcap.capture.v1";
