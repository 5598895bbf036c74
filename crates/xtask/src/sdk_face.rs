//! The SDK's face module (`crates/wasm-face`), built twice for wasm32 into the package — with
//! `simd128` into `wasm-face-simd/` and without it into `wasm-face/` (the fallback `face.js` picks
//! at run time where `WebAssembly.validate` refuses SIMD) — plus the BlazeFace models copied from
//! the model cache into `models/` (never committed). The package's `face.js` loads one build lazily.
//!
//! Profiles (root Cargo.toml): `wasm-face` — opt-level "z", fat LTO, one codegen unit, strip
//! (panic=abort is already wasm32-unknown-unknown's default) with opt-level 3 for the crates
//! whose speed matters; `wasm-face-simd` inherits it and is built with
//! `-C target-feature=+simd128`. Both then go through wasm-bindgen and binaryen's `wasm-opt -Oz`.
//!
//! tract-core 0.23.9 enables rustfft's `wasm_simd` feature unconditionally, so even the build
//! without `+simd128` contains SIMD functions (rustfft's butterflies, never run by BlazeFace or
//! liveness): [`crate::wasm_nosimd`] replaces them by traps before `wasm-opt` (run without
//! `--enable-simd`, so it refuses any SIMD left).

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
    /// Built with `-C target-feature=+simd128`; without it, the SIMD functions tract still
    /// contains are stubbed out ([`crate::wasm_nosimd`]) so the module validates without SIMD.
    pub simd: bool,
}

/// The build the package ships.
pub const SHIPPED: Variant = Variant { dir: "wasm-face-simd", profile: "wasm-face-simd", simd: true };

/// The fallback without SIMD, for browsers that lack WebAssembly SIMD.
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
/// with the wasm features every module here uses, and SIMD when `simd` (without it, wasm-opt
/// refuses a module with any SIMD instruction).
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

/// Builds one variant into `pkg/<variant dir>`: cargo, wasm-bindgen, (without simd128) the
/// SIMD stubbing, `wasm-opt -Oz`.
pub fn build_variant(v: Variant, pkg: &Path) -> Result<(), String> {
    step(&format!("build-sdk: face module, profile {} (simd128: {})", v.profile, v.simd));
    let wasm = cargo_build(v.profile, v.simd, &[])?;
    let bg = bindgen(&wasm, &pkg.join(v.dir))?;
    if !v.simd {
        let s = crate::wasm_nosimd::strip_simd(&bg, &bg)?;
        println!(
            "  SIMD-free fallback: {} SIMD function(s) replaced by traps; {} -> {} functions",
            s.stubbed, s.functions.0, s.functions.1
        );
        if !s.names.is_empty() {
            println!("  stubbed (names from the name section): {}", s.names.join(", "));
        }
    }
    wasm_opt(&bg, &bg, "-Oz", v.simd)
}

/// Builds both face modules (SIMD and the fallback) into `pkg` and copies the models next to them.
pub fn build_into(pkg: &Path) -> Result<(), String> {
    build_variant(SHIPPED, pkg)?;
    build_variant(PLAIN, pkg)?;
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
