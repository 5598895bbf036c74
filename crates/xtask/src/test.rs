//! `cargo xtask test`: sets everything up and runs every test, in order of cost:
//! formatting and lints, unit and integration tests (native, with the real models),
//! wasm-tests in headless Chromium, a short fuzzing run of every cargo-fuzz target, the
//! accuracy evaluations (only when `../shared/data` exists), the demo smoke check (which
//! builds the SDK), the SDK's size budgets ([`crate::sdk_budget`]), the face module's loader and
//! detection in Chromium, and the end-to-end browser suite (which includes the Vite app built from
//! the packed SDK and the TypeScript types check).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use trustcap_vision::{DocumentFormat, synth};

/// Seed of the angled-card clip (wood-grain background, tilted about 10°, with perspective).
const ANGLED_CARD_SEED: u64 = 50;

use crate::setup::{self, Needs};
use crate::util::{self, Counts, exec, run_tests, step};

/// Runs every test. `--skip-lint` skips rustfmt and clippy (for quick local loops).
pub fn run(args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let skip_lint = args.iter().any(|a| a == "--skip-lint");
    if let Some(other) = args.iter().find(|a| a.as_str() != "--skip-lint") {
        return Err(format!("unknown test option `{other}`"));
    }
    setup::run(Needs::all())?;
    let model_dir = crate::models::model_dir();
    let mut counts = Counts::default();

    if !skip_lint {
        step("lint: rustfmt");
        exec(util::cargo().args(["fmt", "--all", "--", "--check"]))?;
        step("lint: clippy (native, all targets and features)");
        exec(util::cargo().args(["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"]))?;
        step("lint: clippy (wasm32 with simd128: trustcap-conv's browser kernels)");
        exec(
            util::cargo()
                .args(["clippy", "--package", "trustcap-conv", "--target", "wasm32-unknown-unknown", "--target-dir"])
                .arg(util::target_dir().join("wasm-simd-tests"))
                .args(["--", "-D", "warnings"])
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", "-C target-feature=+simd128"),
        )?;
        step("lint: clippy (wasm32)");
        exec(util::cargo().args([
            "clippy",
            "--package",
            "trustcap-wasm",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]))?;
    }

    step("unit and integration tests (native, with the real models)");
    // The verifier's PostgreSQL tests run against a throwaway local cluster.
    let postgres_url = setup::postgres()?;
    counts += run_tests(
        util::cargo()
            .args(["test", "--workspace", "--all-features"])
            .env("TRUSTCAP_MODEL_DIR", &model_dir)
            .env("TRUSTCAP_TEST_POSTGRES_URL", &postgres_url),
    )?;

    step("wasm-tests in headless Chromium");
    counts += run_tests(
        util::cargo()
            .args(["test", "--package", "trustcap-wasm-tests", "--target", "wasm32-unknown-unknown", "--release"])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
            .env("CHROMEDRIVER", "/usr/bin/chromedriver")
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
    )?;
    step("wasm-tests: the convolution kernels again, built with simd128 (what the face module runs)");
    counts += run_tests(
        util::cargo()
            .args(["test", "--package", "trustcap-wasm-tests", "--target", "wasm32-unknown-unknown", "--release"])
            .args(["--test", "conv_kernels", "--target-dir"])
            .arg(util::target_dir().join("wasm-simd-tests"))
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", "-C target-feature=+simd128")
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
            .env("CHROMEDRIVER", "/usr/bin/chromedriver")
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
    )?;

    step("fuzz smoke: every cargo-fuzz target for 8 s from the committed corpus");
    crate::fuzz::run(&["all".to_owned(), "--seconds".to_owned(), "8".to_owned()])?;

    let data = crate::eval::default_data_dir();
    if data.is_dir() {
        for area in crate::eval::AREAS.iter().filter(|a| a.ready) {
            crate::eval::run_area(area, &data, crate::eval::Build::Test)?;
        }
    } else {
        step(&format!("evaluations: skipped ({} not present; they need real data)", data.display()));
    }

    step("demo smoke check (`cargo xtask demo --check`)");
    crate::demo::run(&["--check".to_owned()])?;

    let pkg = crate::sdk::package_dir();
    step("SDK size budgets (gzipped): core SDK <= 400 kB, document + selfie flow <= 3 MB");
    crate::sdk_budget::check(&pkg)?;
    let verifier = crate::demo::build_verifier()?;
    let assets = util::target_dir().join("e2e");
    write_e2e_assets(Some(&assets.to_string_lossy()))?;
    step("face module in headless Chromium (lazy loading; detection with the real models)");
    counts += run_tests(
        Command::new("node")
            .args(["--test", "--test-reporter=tap", "--test-concurrency=1"])
            .arg(util::root().join("wasm-tests/face"))
            .env("TRUSTCAP_SDK_DIR", &pkg)
            .env("TRUSTCAP_MODEL_DIR", &model_dir),
    )?;

    step("end-to-end browser suite (Playwright + Debian Chromium, fake camera)");
    counts += run_e2e(&pkg, &verifier, &assets, &[])?;

    util::step_report();
    println!("\nxtask test: every step passed in {:.0?}", started.elapsed());
    println!("{} passed, {} failed, {} skipped", counts.passed, counts.failed, counts.ignored);
    Ok(())
}

/// Runs the end-to-end browser suite (`tests/e2e`, or only `files`) with Node's test runner.
fn run_e2e(pkg: &Path, verifier: &Path, assets: &Path, files: &[String]) -> Result<Counts, String> {
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-reporter=tap", "--test-concurrency=1"]);
    if files.is_empty() {
        cmd.arg(util::root().join("tests/e2e"));
    } else {
        cmd.args(files.iter().map(|f| util::root().join(f)));
    }
    run_tests(
        cmd.env("TRUSTCAP_VERIFIER_BIN", verifier)
            .env("TRUSTCAP_SDK_DIR", pkg)
            .env("TRUSTCAP_E2E_ASSETS", assets)
            .env("TRUSTCAP_DEMO_SERVER", util::root().join("web-demo/server.mjs")),
    )
}

/// `cargo xtask e2e [FILE...]`: builds the SDK and the verifier, writes the fake-camera
/// clips and runs the end-to-end browser suite, or only the given test files (paths
/// relative to the repository root, e.g. `tests/e2e/capture.test.mjs`). For quick loops;
/// `cargo xtask test` runs the whole suite after everything else.
pub fn e2e(files: &[String]) -> Result<(), String> {
    let started = Instant::now();
    setup::run(Needs { wasm: true, browser: true, node: true, models: true })?;
    let pkg = crate::sdk::build()?;
    let verifier = crate::demo::build_verifier()?;
    let assets = util::target_dir().join("e2e");
    write_e2e_assets(Some(&assets.to_string_lossy()))?;
    step("end-to-end browser suite (Playwright + Debian Chromium, fake camera)");
    let counts = run_e2e(&pkg, &verifier, &assets, files)?;
    println!("\nxtask e2e: passed in {:.0?}", started.elapsed());
    println!("{} passed, {} failed, {} skipped", counts.passed, counts.failed, counts.ignored);
    Ok(())
}

/// The fake-camera clips of the end-to-end suite, rendered here so the suite needs no
/// data files: a sharp, well-lit document-like scene, the same scene blurred, an angled card,
/// and the selfie clips of [`crate::selfie_clips`].
pub fn write_e2e_assets(dir: Option<&str>) -> Result<(), String> {
    let dir = dir.map(PathBuf::from).unwrap_or_else(|| util::target_dir().join("e2e"));
    step(&format!("e2e assets: fake-camera clips in {}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (w, h) = (640, 360);
    let clip = |name: &str, edit: &dyn Fn(&mut Vec<u8>)| -> Result<(), String> {
        let frames: Vec<Vec<u8>> = (0..8)
            .map(|i| {
                let mut frame = synth::document_scene(w, h, 42);
                edit(&mut frame);
                // Mild per-frame sensor noise, as a real camera has.
                synth::add_noise_rgba(&mut frame, 1000 + i, 2);
                frame
            })
            .collect();
        write_atomic(&dir.join(name), &synth::write_y4m(&frames, w, h, 30).map_err(|e| format!("{e:?}"))?)
    };
    clip("document_sharp.y4m", &|_| {})?;
    clip("document_blurred.y4m", &|frame| synth::gaussian_blur_rgba(frame, w, h, 4.0))?;
    println!("  document_sharp.y4m, document_blurred.y4m ({w}x{h}, 8 frames)");

    // An ID-1 card held at an angle, with perspective, on a wood-grain table; and the flat card
    // texture it was rendered from, at the rectified size, for comparing with what gets uploaded.
    let (aw, ah) = (960, 540);
    let scene = synth::card_scene(aw, ah, ANGLED_CARD_SEED, DocumentFormat::Id1, false);
    let frames: Vec<Vec<u8>> = (0..8)
        .map(|i| {
            let mut frame = scene.rgba.clone();
            synth::add_noise_rgba(&mut frame, 2000 + i, 2);
            frame
        })
        .collect();
    write_atomic(
        &dir.join("document_angled.y4m"),
        &synth::write_y4m(&frames, aw, ah, 30).map_err(|e| format!("{e:?}"))?,
    )?;
    let (tw, th) = DocumentFormat::Id1.rectified_size();
    let (texture, _, _) = synth::card_texture(DocumentFormat::Id1, tw, ANGLED_CARD_SEED);
    write_atomic(&dir.join("document_angled_texture.rgba"), &texture)?;
    let corners: Vec<[f64; 2]> = scene.corners.iter().map(|c| [c.x, c.y]).collect();
    let meta = serde_json::json!({ "width": tw, "height": th, "frame": [aw, ah], "corners": corners });
    write_atomic(&dir.join("document_angled.json"), meta.to_string().as_bytes())?;
    println!("  document_angled.y4m ({aw}x{ah}, 8 frames), document_angled_texture.rgba ({tw}x{th})");

    write_runtime_assets(&dir)?;

    // A face photo moved as a flat plane, and one still frame repeated: the selfie step's liveness attacks.
    crate::selfie_clips::write(&dir)
}

/// Stills for the file-input fallback (`Capture#submitFile`): the angled card as a phone photo larger
/// than the analysis size (so the SDK scales it down), and the same photo blurred; and a 1280×720 clip
/// of the card blurred (never captured) for measuring the page's main thread during analysis.
fn write_runtime_assets(dir: &Path) -> Result<(), String> {
    let (w, h) = (1600, 900);
    let scene = synth::card_scene(w, h, ANGLED_CARD_SEED, DocumentFormat::Id1, false);
    let png = |name: &str, rgba: Vec<u8>| write_png(&dir.join(name), w, h, rgba);
    let mut sharp = scene.rgba.clone();
    synth::add_noise_rgba(&mut sharp, 3000, 2);
    png("document_still.png", sharp)?;
    let mut blurred = scene.rgba;
    synth::gaussian_blur_rgba(&mut blurred, w, h, 6.0);
    synth::add_noise_rgba(&mut blurred, 3001, 2);
    png("document_still_blurred.png", blurred)?;
    println!("  document_still.png, document_still_blurred.png ({w}x{h})");

    let (cw, ch) = (1280, 720);
    let mut scene = synth::card_scene(cw, ch, ANGLED_CARD_SEED, DocumentFormat::Id1, false).rgba;
    synth::gaussian_blur_rgba(&mut scene, cw, ch, 4.0);
    let frames: Vec<Vec<u8>> = (0..4)
        .map(|i| {
            let mut frame = scene.clone();
            synth::add_noise_rgba(&mut frame, 4000 + i, 2);
            frame
        })
        .collect();
    write_atomic(
        &dir.join("document_blurred_720p.y4m"),
        &synth::write_y4m(&frames, cw, ch, 30).map_err(|e| format!("{e:?}"))?,
    )?;
    println!("  document_blurred_720p.y4m ({cw}x{ch}, 4 frames)");
    Ok(())
}

/// Writes packed RGBA8 pixels as a PNG file (atomically).
pub(crate) fn write_png(path: &Path, width: u32, height: u32, rgba: Vec<u8>) -> Result<(), String> {
    let img = image::RgbaImage::from_raw(width, height, rgba).ok_or("png: wrong buffer size")?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).map_err(|e| format!("{}: {e}", path.display()))?;
    write_atomic(path, bytes.get_ref())
}

/// Writes `bytes` to `path` through a temporary file, so a reader never sees half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}
