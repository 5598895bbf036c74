//! `cargo xtask bench <area>`: benchmarks. Each prints a readable report and, as its very
//! last line, one JSON object with the headline figures.
//!
//! - `quality`: per-frame cost of the capture-quality checks on a 1280×720 frame, natively
//!   (criterion) and as wasm inside headless Chromium (a small browser harness), plus the
//!   size of the SDK package.
//! - `size`: the SDK package's files, raw and gzipped.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use trustcap_vision::synth;

use crate::util::{self, exec, output, step};

/// Dispatches `cargo xtask bench <area>`.
pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("quality") => quality(),
        Some("size") => size(),
        Some("document") => crate::bench_document::run(&args[1..]),
        Some("faces") => crate::bench_faces::run(&args[1..]),
        Some("intake") => crate::bench_intake::run(&args[1..]),
        Some("screening") => crate::bench_screening::run(&args[1..]),
        _ => Err("usage: cargo xtask bench <quality|size|document|faces|intake|screening>".into()),
    }
}

fn size() -> Result<(), String> {
    let pkg = crate::sdk::build()?;
    let sizes = crate::sdk::sizes(&pkg)?;
    let total_gzip: u64 = sizes.iter().map(|s| s.gzip).sum();
    let total_raw: u64 = sizes.iter().map(|s| s.raw).sum();
    println!("\nSDK package (JS + wasm), {} files: {total_raw} bytes raw, {total_gzip} bytes gzipped", sizes.len());
    println!("{}", json!({ "sdk_raw_bytes": total_raw, "sdk_gzip_bytes": total_gzip }));
    Ok(())
}

fn quality() -> Result<(), String> {
    step("bench quality: native (criterion)");
    exec(util::cargo().args(["bench", "--package", "trustcap-vision", "--bench", "quality", "--", "--noplot"]))?;
    let native = criterion_means(&util::target_dir().join("criterion"))?;

    let sizes = crate::sdk::sizes(&crate::sdk::build()?)?;
    let sdk_gzip: u64 = sizes.iter().map(|s| s.gzip).sum();
    let bench_pkg = crate::sdk::build_bench_variant()?;

    step("bench quality: wasm in headless Chromium");
    let dir = util::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let frame_path = dir.join("frame_1280x720.rgba");
    std::fs::write(&frame_path, synth::document_scene(1280, 720, 7)).map_err(|e| e.to_string())?;
    let printed = output(
        Command::new("node")
            .arg(util::root().join("wasm-tests/bench/quality.mjs"))
            .env("TRUSTCAP_SDK_DIR", &bench_pkg)
            .env("TRUSTCAP_BENCH_FRAME", &frame_path),
    )?;
    let wasm: Value = printed
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or("the browser harness printed no JSON result")?;

    println!("\nPer-frame cost, 1280x720 RGBA frame (synth::document_scene(1280, 720, 7))");
    println!("  native (criterion mean, one core):");
    for (name, ms) in &native {
        println!("    {name:<44} {ms:>8.3} ms");
    }
    let wasm_ms = wasm["analyze_ms_mean"].as_f64().unwrap_or(f64::NAN);
    println!("  wasm in headless Chromium (mean of 300 calls; each includes copying the frame into wasm memory");
    println!("  where it takes one):");
    for stage in ["luma_downscale", "sharpness", "glare", "exposure"] {
        println!("    {stage:<44} {:>8.3} ms", wasm[format!("{stage}_ms_mean")].as_f64().unwrap_or(f64::NAN));
    }
    println!("    {:<44} {wasm_ms:>8.3} ms (p95 {} ms)", "analyze (whole bundle)", wasm["analyze_ms_p95"]);
    println!("  SDK package gzipped: {sdk_gzip} bytes");
    let analyze = native.iter().find(|(n, _)| n.ends_with("analyze")).map(|(_, ms)| *ms);
    let mut figures = json!({
        "native_analyze_ms": analyze,
        "wasm_analyze_ms": wasm_ms,
        "wasm_analyze_p95_ms": wasm["analyze_ms_p95"],
        "wasm_luma_downscale_ms": wasm["luma_downscale_ms_mean"],
        "wasm_sharpness_ms": wasm["sharpness_ms_mean"],
        "wasm_glare_ms": wasm["glare_ms_mean"],
        "wasm_exposure_ms": wasm["exposure_ms_mean"],
        "sdk_gzip_bytes": sdk_gzip,
    });
    for (name, ms) in &native {
        let key = format!("native_{}_ms", name.rsplit('/').next().unwrap_or(name).replace(['-', ' '], "_"));
        figures[key] = json!(ms);
    }
    println!("{figures}");
    Ok(())
}

/// Criterion's mean estimate of every benchmark under `dir`, in milliseconds.
pub(crate) fn criterion_means(dir: &Path) -> Result<Vec<(String, f64)>, String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "new") {
                    let estimates = path.join("estimates.json");
                    if let Ok(text) = std::fs::read_to_string(&estimates) {
                        let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                        let ns = value["mean"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
                        let name = current.strip_prefix(dir).unwrap_or(&current).display().to_string();
                        found.push((name, ns / 1e6));
                    }
                } else {
                    stack.push(path);
                }
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    if found.is_empty() {
        return Err(format!("no criterion results under {}", dir.display()));
    }
    Ok(found)
}
