//! The SDK's face module (`crates/wasm-face`), built twice for wasm32 into the package: with
//! `simd128` into `wasm-face-simd/`, and without SIMD into `wasm-face/` for browsers without
//! WebAssembly SIMD (the package's `face.js` validates a SIMD probe and loads one of the two,
//! lazily), plus the BlazeFace models copied from the model cache into `models/` (never committed).
//!
//! - [`SHIPPED`], profile `wasm-face-simd` (root Cargo.toml; inherits `wasm-face`): opt-level "z",
//!   fat LTO, one codegen unit, strip (panic=abort is already wasm32-unknown-unknown's default),
//!   with opt-level 3 for tract-linalg and trustcap-vision (what runs per frame), built with
//!   `-C target-feature=+simd128`; then wasm-bindgen and binaryen's `wasm-opt -Oz`.
//! - [`PLAIN`], profile `wasm-face` with ThinLTO and 256 codegen units per crate (given on the
//!   command line, so the `wasm-face` profile of `cargo xtask bench facewasm-size` keeps fat LTO),
//!   linked with its name section; rustfft's SIMD functions replaced by traps
//!   ([`crate::wasm_simd::stub_simd`], which fails the build if any other function uses SIMD);
//!   wasm-bindgen; `wasm-opt -Oz` without SIMD; then checked to validate without SIMD.
//!
//! Why not fat LTO there: tract-core 0.23.9 enables rustfft's `wasm_simd` feature, whose
//! `#[target_feature(enable = "simd128")]` butterflies make LLVM compile the whole LTO module with
//! `simd128` (it unites the features of all functions of a module), so thousands of functions got
//! `v128` copies; with ThinLTO only rustfft's own code units do. See [`crate::wasm_simd`].

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
    /// Extra cargo arguments (profile settings given with `--config`).
    pub cargo_args: &'static [&'static str],
}

/// The build for browsers with WebAssembly SIMD.
pub const SHIPPED: Variant = Variant { dir: "wasm-face-simd", profile: "wasm-face-simd", simd: true, cargo_args: &[] };

/// The build for browsers without WebAssembly SIMD: ThinLTO with many code units, so that
/// rustfft's SIMD functions do not turn on SIMD in other code (see the module docs).
pub const PLAIN: Variant = Variant {
    dir: "wasm-face",
    profile: "wasm-face",
    simd: false,
    cargo_args: &["--config", "profile.wasm-face.lto=\"thin\"", "--config", "profile.wasm-face.codegen-units=256"],
};

/// The cargo target directory of the face module's builds with (`simd`) or without SIMD. The
/// SIMD build has one of its own, so that both builds can run at once ([`build_into`]): cargo
/// locks a target directory for a whole build, and the single-threaded fat-LTO link of the SIMD
/// build leaves a core idle for minutes. Nothing is shared that way: the two builds use other
/// profiles and flags, so they share no artifacts in one directory either.
pub fn target_dir(simd: bool) -> PathBuf {
    if simd { util::target_dir().join("face-simd") } else { util::target_dir() }
}

/// `cargo build` of the face crate for wasm32 with `profile` (plus `extra` cargo arguments);
/// returns the cdylib.
pub fn cargo_build(profile: &str, simd: bool, extra: &[String]) -> Result<PathBuf, String> {
    let mut cmd = util::cargo();
    cmd.args(["build", "--package", CRATE, "--target", "wasm32-unknown-unknown", "--profile", profile]).args(extra);
    cmd.arg("--target-dir").arg(target_dir(simd));
    wasm_face_env(&mut cmd, simd);
    exec(&mut cmd)?;
    Ok(cdylib(simd, profile))
}

/// `cargo rustc` of the face crate's cdylib for `v`, linked with its name section (the profiles
/// strip it); returns the cdylib.
pub fn cargo_build_with_names(v: Variant) -> Result<PathBuf, String> {
    let mut cmd = util::cargo();
    // No `--crate-type cdylib`: with the crate's own types (cdylib and rlib) the dependencies keep
    // the fingerprints of `cargo build`, so this does not rebuild them.
    cmd.args(["rustc", "--package", CRATE, "--lib", "--target", "wasm32-unknown-unknown"])
        .args(["--profile", v.profile])
        .args(v.cargo_args)
        .arg("--target-dir")
        .arg(target_dir(v.simd))
        .args(["--", "-C", "strip=none"]);
    wasm_face_env(&mut cmd, v.simd);
    exec(&mut cmd)?;
    Ok(cdylib(v.simd, v.profile))
}

/// Where cargo writes the face crate's cdylib for a build with (`simd`) or without SIMD in
/// `profile`.
pub fn cdylib(simd: bool, profile: &str) -> PathBuf {
    target_dir(simd).join("wasm32-unknown-unknown").join(profile).join(format!("{STEM}.wasm"))
}

fn wasm_face_env(cmd: &mut Command, simd: bool) {
    if simd {
        // Target-specific, so build scripts and proc macros (host code) are unaffected.
        cmd.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", "-C target-feature=+simd128");
    } else {
        cmd.env_remove("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS");
    }
}

/// wasm-bindgen (web target) of `wasm` into `out`; returns the `_bg.wasm` it wrote.
pub fn bindgen(wasm: &Path, out: &Path) -> Result<PathBuf, String> {
    exec(Command::new("wasm-bindgen").args(["--target", "web", "--out-dir"]).arg(out).arg(wasm))?;
    Ok(out.join(format!("{STEM}_bg.wasm")))
}

/// binaryen's `wasm-opt` (from npm: Debian's breaks externref tables) at `level` (`-Oz`, `-O3`),
/// with the wasm features every module here uses, and SIMD when `simd` (without it, wasm-opt
/// refuses a module with SIMD code).
///
/// The output is cached under the target directory by the SHA-256 of the input, the arguments
/// and the binaryen version: `-Oz` on the face module takes minutes, and the same input gives
/// the same output, so an unchanged module (e.g. a fresh clone at another path: workspace
/// sources are compiled with relative paths) is not optimised again.
pub fn wasm_opt(wasm: &Path, out: &Path, level: &str, simd: bool) -> Result<(), String> {
    let mut args: Vec<&str> = vec![
        level,
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
        "--enable-sign-ext",
        "--enable-mutable-globals",
        "--enable-reference-types",
        "--enable-multivalue",
    ];
    if simd {
        args.push("--enable-simd");
    }
    let input = std::fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let cached = wasm_opt_cache_dir().join(format!("{}.wasm", wasm_opt_key(&input, &args, &binaryen_version()?)));
    if let Ok(bytes) = std::fs::read(&cached) {
        println!("  wasm-opt {level}: unchanged input, output taken from {}", cached.display());
        return std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()));
    }
    let tool = util::root().join("tests/e2e/node_modules/.bin/wasm-opt");
    exec(Command::new(tool).args(&args).arg(wasm).arg("-o").arg(out))?;
    // Written to a scratch name and renamed, so an interrupted copy is never taken as cached.
    std::fs::create_dir_all(wasm_opt_cache_dir()).map_err(|e| e.to_string())?;
    let scratch = cached.with_extension("partial");
    std::fs::copy(out, &scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    std::fs::rename(&scratch, &cached).map_err(|e| format!("{}: {e}", cached.display()))
}

fn wasm_opt_cache_dir() -> PathBuf {
    util::target_dir().join("wasm-opt-cache")
}

/// The cache key of one wasm-opt run: SHA-256 over the binaryen version, the arguments and the input.
fn wasm_opt_key(input: &[u8], args: &[&str], binaryen: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in std::iter::once(binaryen).chain(args.iter().copied()) {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(input);
    hex::encode(hash.finalize())
}

/// The version of binaryen installed from npm (part of the wasm-opt cache key).
fn binaryen_version() -> Result<String, String> {
    let manifest = util::root().join("tests/e2e/node_modules/binaryen/package.json");
    let text = std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
    json["version"].as_str().map(str::to_owned).ok_or_else(|| format!("{}: no version", manifest.display()))
}

/// Builds one variant into `pkg/<variant dir>`: cargo, wasm-bindgen, `wasm-opt -Oz`; the
/// variant without SIMD has rustfft's SIMD functions stubbed first and is checked to contain no
/// SIMD at the end.
pub fn build_variant(v: Variant, pkg: &Path) -> Result<(), String> {
    step(&format!("build-sdk: face module, profile {} (simd128: {})", v.profile, v.simd));
    if v.simd {
        let wasm = cargo_build(v.profile, v.simd, &[])?;
        let bg = bindgen(&wasm, &pkg.join(v.dir))?;
        return wasm_opt(&bg, &bg, "-Oz", true);
    }
    let wasm = cargo_build_with_names(v)?;
    let bytes = std::fs::read(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let (stubbed, functions) = crate::wasm_simd::stub_simd(&bytes, &crate::wasm_simd::is_rustfft)?;
    let ops: u64 = functions.iter().map(|f| u64::from(f.simd_ops)).sum();
    println!(
        "  {} functions with SIMD ({ops} instructions), all rustfft's or called only by it, replaced by traps",
        functions.len()
    );
    let scratch = util::target_dir().join("tmp").join(format!("{STEM}-nosimd"));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let stubbed_path = scratch.join(format!("{STEM}.wasm"));
    std::fs::write(&stubbed_path, stubbed).map_err(|e| e.to_string())?;
    let bg = bindgen(&stubbed_path, &pkg.join(v.dir))?;
    wasm_opt(&bg, &bg, "-Oz", false)?;
    let out = std::fs::read(&bg).map_err(|e| format!("{}: {e}", bg.display()))?;
    crate::wasm_simd::check_no_simd(&out)?;
    println!("  {}: validates without SIMD", bg.display());
    Ok(())
}

/// Builds both face modules into `pkg`, at the same time (their cargo output interleaves; see
/// [`target_dir`]), and copies the models next to them.
pub fn build_into(pkg: &Path) -> Result<(), String> {
    let (simd, plain) = std::thread::scope(|s| {
        let simd = s.spawn(|| build_variant(SHIPPED, pkg));
        let plain = build_variant(PLAIN, pkg);
        (simd.join().unwrap_or_else(|_| Err("the SIMD face module's build panicked".to_owned())), plain)
    });
    simd?;
    plain?;
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

#[cfg(test)]
mod wasm_opt_cache_tests {
    use super::wasm_opt_key;

    #[test]
    fn the_key_changes_with_the_input_the_arguments_and_the_binaryen_version() {
        let base = wasm_opt_key(b"\0asm", &["-Oz"], "132.0.0");
        assert_eq!(base, wasm_opt_key(b"\0asm", &["-Oz"], "132.0.0"));
        assert_ne!(base, wasm_opt_key(b"\0asm\x01", &["-Oz"], "132.0.0"));
        assert_ne!(base, wasm_opt_key(b"\0asm", &["-O3"], "132.0.0"));
        assert_ne!(base, wasm_opt_key(b"\0asm", &["-Oz", "--enable-simd"], "132.0.0"));
        assert_ne!(base, wasm_opt_key(b"\0asm", &["-Oz"], "133.0.0"));
        // Parts are separated, so moving a byte between them changes the key.
        assert_ne!(wasm_opt_key(b"", &["-Oz"], "1"), wasm_opt_key(b"", &["Oz"], "1-"));
    }
}
