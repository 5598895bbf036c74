//! `cargo xtask build-sdk`: the browser SDK as an npm package.
//!
//! Builds `crates/wasm` for wasm32 (profile `wasm-release`), generates the JS bindings
//! with the wasm-bindgen CLI pinned to Cargo.lock, optimises with binaryen's `wasm-opt`
//! from npm (Debian's binaryen produces modules Chromium refuses), and assembles the
//! package from `pkg-template/` in `target/sdk/package`. The lazily loaded face module is
//! built by [`crate::sdk_face`].

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup::{self, Needs};
use crate::util::{self, exec, step};

/// Size of one package file, raw and gzipped.
#[derive(Debug, Clone)]
pub struct FileSize {
    /// Path relative to the package.
    pub path: String,
    /// Bytes on disk.
    pub raw: u64,
    /// Bytes after gzip -9.
    pub gzip: u64,
}

/// Where the package is assembled.
pub fn package_dir() -> PathBuf {
    util::target_dir().join("sdk/package")
}

/// Builds the package and returns its folder.
pub fn build() -> Result<PathBuf, String> {
    build_into(&package_dir(), false)
}

/// Builds a variant of the package with the wasm crate's `bench` feature (per-check entry
/// points for the browser benchmark harness) into `target/bench/sdk`. Never published.
pub fn build_bench_variant() -> Result<PathBuf, String> {
    build_into(&util::target_dir().join("bench/sdk"), true)
}

/// Builds the package as published, face module included, into `target/bench/facewasm-sdk` for
/// `cargo xtask bench facewasm` (so a benchmark never rewrites the package other tasks use).
pub fn build_face_bench_copy() -> Result<PathBuf, String> {
    build_into(&util::target_dir().join("bench/facewasm-sdk"), false)
}

fn build_into(pkg: &Path, bench: bool) -> Result<PathBuf, String> {
    setup::run(Needs { wasm: true, browser: false, node: true, models: false })?;
    step("build-sdk: wasm32 release build of crates/wasm");
    let features: &[&str] = if bench { &["--features", "bench"] } else { &[] };
    exec(
        util::cargo()
            .args([
                "build",
                "--package",
                "trustcap-wasm",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "wasm-release",
            ])
            .args(features),
    )?;
    let wasm = util::target_dir().join("wasm32-unknown-unknown/wasm-release/trustcap_wasm.wasm");
    if pkg.exists() {
        std::fs::remove_dir_all(pkg).map_err(|e| format!("cannot clean {}: {e}", pkg.display()))?;
    }
    let wasm_out = pkg.join("wasm");
    step("build-sdk: wasm-bindgen");
    exec(Command::new("wasm-bindgen").args(["--target", "web", "--out-dir"]).arg(&wasm_out).arg(&wasm))?;

    step("build-sdk: wasm-opt -O3 (binaryen from npm)");
    let bg = wasm_out.join("trustcap_wasm_bg.wasm");
    crate::sdk_face::wasm_opt(&bg, &bg, "-O3", false)?;

    if !bench {
        crate::sdk_face::check_core_has_no_tract()?;
        crate::sdk_face::build_into(pkg)?;
    }

    step("build-sdk: assembling the npm package from pkg-template/");
    copy_tree(&util::root().join("pkg-template"), pkg)?;
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        std::fs::copy(util::root().join(licence), pkg.join(licence)).map_err(|e| format!("{licence}: {e}"))?;
    }
    set_package_version(&pkg.join("package.json"))?;
    set_js_version(&pkg.join("index.js"))?;
    for size in sizes(pkg)? {
        println!("  {:<40} {:>9} bytes  {:>8} gzipped", size.path, size.raw, size.gzip);
    }
    println!("  package: {}", pkg.display());
    Ok(pkg.to_path_buf())
}

fn set_package_version(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    json["version"] = env!("CARGO_PKG_VERSION").into();
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n";
    std::fs::write(path, text).map_err(|e| e.to_string())
}

/// Writes the crate version into `export const VERSION = '…';` of the JS shell.
fn set_js_version(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let prefix = "export const VERSION = '";
    let start = text.find(prefix).ok_or_else(|| format!("{} has no `{prefix}...';` line", path.display()))?;
    let value_start = start + prefix.len();
    let value_end = value_start + text[value_start..].find('\'').ok_or("unterminated VERSION string")?;
    let text = format!("{}{}{}", &text[..value_start], env!("CARGO_PKG_VERSION"), &text[value_end..]);
    std::fs::write(path, text).map_err(|e| e.to_string())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(|e| e.to_string())?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Bytes of `data` after gzip at the highest level.
pub fn gzip_len(data: &[u8]) -> u64 {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory").len() as u64
}

/// Whether a package file (path relative to the package) is part of the face module, which the
/// page downloads only when the selfie step nears: its builds, its loader and the models.
pub fn is_lazy(path: &str) -> bool {
    path.starts_with("wasm-face") || path.starts_with("models")
}

/// Raw and gzipped sizes of the package's shipped files (JS, wasm and the face models).
pub fn sizes(pkg: &Path) -> Result<Vec<FileSize>, String> {
    let mut out = Vec::new();
    let mut stack = vec![pkg.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("js" | "wasm" | "onnx")) {
                let data = std::fs::read(&path).map_err(|e| e.to_string())?;
                let rel = path.strip_prefix(pkg).unwrap_or(&path).display().to_string();
                out.push(FileSize { path: rel, raw: data.len() as u64, gzip: gzip_len(&data) });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
