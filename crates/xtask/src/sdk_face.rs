//! The SDK's face module (`crates/wasm-face`): built for wasm32 with `simd128` into
//! `wasm-face-simd/` of the package, plus the BlazeFace models copied from the model cache
//! into `models/` (never committed). The package's `face.js` loads it lazily.
//!
//! Profile `wasm-face-simd` (root Cargo.toml; inherits `wasm-face`): opt-level "z", fat LTO,
//! one codegen unit, strip (panic=abort is already wasm32-unknown-unknown's default), with
//! opt-level 3 for tract-linalg, tract-core, tract-data and trustcap-vision (what runs per frame),
//! built with `-C target-feature=+simd128`; then wasm-bindgen and binaryen's `wasm-opt -Oz`.
//!
//! There is no SIMD-free build to fall back on: tract-core 0.23.9 enables rustfft's `wasm_simd`
//! feature unconditionally, so even a build without `+simd128` contains SIMD instructions
//! (rustfft's butterflies) and does not validate in a browser without WebAssembly SIMD. The
//! build without `+simd128` (profile `wasm-face`) is made only for the benchmark, to show what the
//! SIMD kernels gain; the loader reports `face_module_unsupported` where SIMD is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, exec, output, step};

/// The crate's package name.
pub const CRATE: &str = "trustcap-wasm-face";
/// File stem of the generated bindings (`trustcap_wasm_face.js`, `trustcap_wasm_face_bg.wasm`).
pub const STEM: &str = "trustcap_wasm_face";
/// The model files the package serves, from the model cache.
pub const MODELS: [&str; 2] = ["blazeface_front_128.onnx", "blazeface_back_256.onnx"];

/// One build of the face module.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// Folder in the package.
    pub dir: &'static str,
    /// Cargo profile.
    pub profile: &'static str,
    /// Built with `-C target-feature=+simd128`.
    pub simd: bool,
}

/// The build the package ships.
pub const SHIPPED: Variant = Variant { dir: "wasm-face-simd", profile: "wasm-face-simd", simd: true };

/// The build without `+simd128`, for the benchmark only.
pub const PLAIN: Variant = Variant { dir: "wasm-face", profile: "wasm-face", simd: false };

/// `cargo build` of the face crate for wasm32 with `profile` (plus `extra` cargo arguments);
/// returns the cdylib.
pub fn cargo_build(profile: &str, simd: bool, extra: &[String]) -> Result<PathBuf, String> {
    let mut cmd = util::cargo();
    cmd.args(["build", "--package", CRATE, "--target", "wasm32-unknown-unknown", "--profile", profile]).args(extra);
    if simd {
        // Target-specific, so build scripts and proc macros (host code) are unaffected.
        cmd.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", "-C target-feature=+simd128");
    } else {
        cmd.env_remove("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS");
    }
    exec(&mut cmd)?;
    Ok(util::target_dir().join("wasm32-unknown-unknown").join(profile).join(format!("{STEM}.wasm")))
}

/// wasm-bindgen (web target) of `wasm` into `out`; returns the `_bg.wasm` it wrote.
pub fn bindgen(wasm: &Path, out: &Path) -> Result<PathBuf, String> {
    exec(Command::new("wasm-bindgen").args(["--target", "web", "--out-dir"]).arg(out).arg(wasm))?;
    Ok(out.join(format!("{STEM}_bg.wasm")))
}

/// binaryen's `wasm-opt` (from npm: Debian's breaks externref tables) at `level` (`-Oz`, `-O3`),
/// with the wasm features every module here uses, and SIMD when `simd` (the face module always
/// needs it: every tract build contains rustfft's SIMD code, see the module docs).
pub fn wasm_opt(wasm: &Path, out: &Path, level: &str, simd: bool) -> Result<(), String> {
    let tool = util::root().join("tests/e2e/node_modules/.bin/wasm-opt");
    let mut command = Command::new(tool);
    command.arg(level).args([
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
        "--enable-sign-ext",
        "--enable-mutable-globals",
        "--enable-reference-types",
        "--enable-multivalue",
    ]);
    if simd {
        command.arg("--enable-simd");
    }
    exec(command.arg(wasm).arg("-o").arg(out))
}

/// Builds one variant into `pkg/<variant dir>`: cargo, wasm-bindgen, `wasm-opt -Oz`.
pub fn build_variant(v: Variant, pkg: &Path) -> Result<(), String> {
    step(&format!("build-sdk: face module, profile {} (simd128: {})", v.profile, v.simd));
    let wasm = cargo_build(v.profile, v.simd, &[])?;
    let bg = bindgen(&wasm, &pkg.join(v.dir))?;
    wasm_opt(&bg, &bg, "-Oz", true)
}

/// Builds the shipped face module into `pkg` and copies the models next to it.
pub fn build_into(pkg: &Path) -> Result<(), String> {
    build_variant(SHIPPED, pkg)?;
    step("build-sdk: BlazeFace models from the model cache into models/");
    let cache = crate::models::fetch_all()?;
    let models = pkg.join("models");
    std::fs::create_dir_all(&models).map_err(|e| e.to_string())?;
    for name in MODELS {
        std::fs::copy(cache.join(name), models.join(name)).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

/// Fails if the core SDK module (`trustcap-wasm`) depends on tract for wasm32: the document
/// step must not pay for face detection.
pub fn check_core_has_no_tract() -> Result<(), String> {
    let tree = output(util::cargo().args([
        "tree",
        "--package",
        "trustcap-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--edges",
        "normal",
        "--prefix",
        "none",
    ]))?;
    let tract: Vec<&str> = tree.lines().filter(|l| l.starts_with("tract")).collect();
    if !tract.is_empty() {
        return Err(format!("the core wasm module must not depend on tract, but it pulls {}", tract.join(", ")));
    }
    println!("  core module (trustcap-wasm): no tract in its wasm32 dependency tree");
    Ok(())
}
