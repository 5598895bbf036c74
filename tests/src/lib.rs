//! Cross-crate integration tests of TrustCap live in `tests/tests/`; the end-to-end browser
//! suite (Playwright driving Debian's Chromium with a fake camera) lives in `tests/e2e/`.
//! Both run under `cargo xtask test`.
