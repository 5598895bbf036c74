//! Browser tests for TrustCap's wasm build (see `tests/`).
//!
//! `build.rs` renders test frames and computes their quality metrics **natively** (build
//! scripts run on the host). The tests compile for `wasm32-unknown-unknown`, run inside
//! headless Chromium through `wasm-bindgen-test-runner`, compute the same metrics on the
//! same pixels, and require bit-for-bit equality with the native results.
//!
//! Run with `cargo xtask test`, or directly:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test -p trustcap-wasm-tests --target wasm32-unknown-unknown --release`

#![forbid(unsafe_code)]

pub mod cases;
