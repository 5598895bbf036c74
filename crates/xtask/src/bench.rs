//! `cargo xtask bench <area>`: benchmarks. Each prints a readable report and, as its very
//! last line, one JSON object with the headline figures.
//!
//! - `quality`: per-frame cost of the document-capture checks on a 1280×720 frame, each check and
//!   the whole bundle, natively (criterion) and as wasm inside headless Chromium, side by side with
//!   OpenCV.js computing the same metrics the usual way in the same page; plus the SDK's size.
//! - `size`: the SDK package's files, raw and gzipped, and the size budgets ([`crate::sdk_budget`]).
//! - `first-guidance`: time from page load to the first guidance on screen in Chromium
//!   ([`crate::bench_first_guidance`]).
//! - `facewasm`: BlazeFace-128 per frame in the face module (SIMD and not) against onnxruntime-web
//!   in Chromium; `facewasm-size`: what each size setting of the face module saves
//!   ([`crate::bench_facewasm`]).

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use trustcap_vision::{DocumentFormat, synth};

use crate::util::{self, exec, output, step};

/// Dispatches `cargo xtask bench <area>`.
pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("quality") => quality(),
        Some("size") => size(),
        Some("document") => crate::bench_document::run(&args[1..]),
        Some("faces") => crate::bench_faces::run(&args[1..]),
        Some("facewasm") => crate::bench_facewasm::run(&args[1..]),
        Some("first-guidance") => crate::bench_first_guidance::run(&args[1..]),
        Some("facewasm-size") => crate::bench_facewasm::size_steps(&args[1..]),
        Some("intake") => crate::bench_intake::run(&args[1..]),
        Some("screening") => crate::bench_screening::run(&args[1..]),
        _ => Err("usage: cargo xtask bench \
                 <quality|size|document|faces|facewasm|facewasm-size|first-guidance|intake|screening>"
            .into()),
    }
}

fn size() -> Result<(), String> {
    let pkg = crate::sdk::build()?;
    let (lazy, core): (Vec<_>, Vec<_>) =
        crate::sdk::sizes(&pkg)?.into_iter().partition(|s| crate::sdk::is_lazy(&s.path));
    let total_gzip: u64 = core.iter().map(|s| s.gzip).sum();
    let total_raw: u64 = core.iter().map(|s| s.raw).sum();
    let face_gzip: u64 = lazy.iter().filter(|s| s.path.starts_with("wasm-face-simd/")).map(|s| s.gzip).sum();
    println!("\nSDK package (JS + wasm), {} files: {total_raw} bytes raw, {total_gzip} bytes gzipped", core.len());
    println!(
        "  plus, loaded only for the selfie step: the face module (SIMD build {face_gzip} bytes gzipped) and models"
    );
    println!("\nSize budgets (what a page downloads, gzipped):");
    let budgets = crate::sdk_budget::measure(&pkg)?;
    budgets.print();
    println!(
        "{}",
        json!({
            "sdk_raw_bytes": total_raw,
            "sdk_gzip_bytes": total_gzip,
            "face_simd_gzip_bytes": face_gzip,
            "core_sdk_gzip_bytes": budgets.core_gzip(),
            "core_sdk_budget_bytes": crate::sdk_budget::CORE_BUDGET,
            "full_flow_gzip_bytes": budgets.full_flow_gzip(),
            "full_flow_budget_bytes": crate::sdk_budget::FULL_FLOW_BUDGET,
        })
    );
    budgets.check()
}

fn quality() -> Result<(), String> {
    step("bench quality: native (criterion)");
    exec(util::cargo().args(["bench", "--package", "trustcap-vision", "--bench", "quality", "--", "--noplot"]))?;
    let native = criterion_means(&util::target_dir().join("criterion").join("quality_1280x720"))?;

    let sizes = crate::sdk::sizes(&crate::sdk::build()?)?;
    let sdk_gzip: u64 = sizes.iter().filter(|s| !crate::sdk::is_lazy(&s.path)).map(|s| s.gzip).sum();
    let bench_pkg = crate::sdk::build_bench_variant()?;

    step("bench quality: wasm and OpenCV.js side by side in headless Chromium");
    let dir = util::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let frame_path = dir.join("card_1280x720.rgba");
    // The e2e card: ID-1, tilted about 10° with perspective, on a wood-grain table.
    let scene = synth::card_scene(1280, 720, 50, DocumentFormat::Id1, false);
    std::fs::write(&frame_path, &scene.rgba).map_err(|e| e.to_string())?;
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
    let f = |key: &str| wasm[key].as_f64().unwrap_or(f64::NAN);

    println!("\nPer-frame cost, 1280x720 RGBA frame (synth::card_scene(1280, 720, 50, Id1): a tilted card)");
    println!("  native (criterion mean, one core):");
    for (name, ms) in &native {
        println!("    {name:<44} {ms:>8.3} ms");
    }
    println!("  wasm in headless Chromium, no SIMD (means of batched calls; stages that take the frame include");
    println!("  copying it into wasm memory):");
    for stage in ["luma_downscale", "boundary", "sharpness", "glare", "exposure"] {
        println!("    {stage:<44} {:>8.3} ms", f(&format!("{stage}_ms_mean")));
    }
    println!(
        "    {:<44} {:>8.3} ms (p95 {} ms)",
        "document bundle (FrameAnalyzer.analyze)",
        f("document_ms_mean"),
        wasm["document_ms_p95"]
    );
    println!("    {:<44} {:>8.3} ms", "whole-frame bundle (no boundary)", f("frame_ms_mean"));
    println!("  OpenCV.js {} in the same page (the usual way, Mats reused):", wasm["opencv_version"]);
    for (stage, key) in [
        ("RGBA to grey (incl. copy in)", "opencv_gray_ms_mean"),
        ("Laplacian variance", "opencv_laplacian_ms_mean"),
        ("glare threshold + count", "opencv_glare_ms_mean"),
        ("mean / std-dev", "opencv_exposure_ms_mean"),
        ("resize + blur + Canny + contours + approxPolyDP", "opencv_outline_ms_mean"),
    ] {
        println!("    {stage:<44} {:>8.3} ms", f(key));
    }
    println!("    {:<44} {:>8.3} ms (p95 {} ms)", "bundle", f("opencv_ms_mean"), wasm["opencv_ms_p95"]);
    let speedup = f("opencv_ms_mean") / f("document_ms_mean");
    println!(
        "  document outline found: TrustCap {}, OpenCV.js {}; TrustCap is {speedup:.2}x faster than OpenCV.js",
        wasm["quad_found"], wasm["opencv_quad_found"]
    );
    println!("  SDK package gzipped: {sdk_gzip} bytes");
    let native_of = |n: &str| native.iter().find(|(name, _)| name == n).map(|(_, ms)| *ms);
    let mut figures = json!({
        "native_document_ms": native_of("document_analyze"),
        "native_frame_ms": native_of("analyze"),
        "wasm_document_ms": f("document_ms_mean"),
        "wasm_document_p95_ms": wasm["document_ms_p95"],
        "wasm_frame_ms": f("frame_ms_mean"),
        "opencv_js_ms": f("opencv_ms_mean"),
        "opencv_js_p95_ms": wasm["opencv_ms_p95"],
        "speedup_vs_opencv_js": speedup,
        "quad_found": wasm["quad_found"],
        "opencv_quad_found": wasm["opencv_quad_found"],
        "sdk_gzip_bytes": sdk_gzip,
    });
    for stage in ["luma_downscale", "boundary", "sharpness", "glare", "exposure"] {
        figures[format!("wasm_{stage}_ms")] = json!(f(&format!("{stage}_ms_mean")));
        figures[format!("native_{stage}_ms")] = json!(native_of(stage));
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
