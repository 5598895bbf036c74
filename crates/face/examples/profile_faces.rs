//! Per-stage timing of a face match, in wall time and in CPU time of the running thread
//! (`CLOCK_THREAD_CPUTIME_ID`, which a loaded machine inflates far less than wall time).
//!
//! `cargo run --release -p trustcap-face --example profile_faces [-- --iterations N]`
//! (models from `cargo xtask models`). Photos: scikit-image's `astronaut.png` (512×512), its
//! mirror image, and the astronaut pasted into a 1280×960 grey frame, as in the criterion bench.
//! Prints one line per stage and, last, one JSON object with every stage's means.

use std::hint::black_box;
use std::time::Instant;

use image::RgbImage;
use trustcap_cputime::{load_average_text, thread_cpu_ms};
use trustcap_face::align::{align, chip_transform, extract_chip};
use trustcap_face::matcher::rgba;
use trustcap_face::{FaceMatcher, Role};
use trustcap_vision::Frame;
use trustcap_vision::face::letterbox::letterbox_into;
use trustcap_vision::face::{BlazeFace, BlazeFaceVariant, default_model_dir};

/// Mean wall and thread-CPU milliseconds of `f` over `n` runs (after two warm-up runs).
fn measure(n: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    f();
    let (wall, cpu) = (Instant::now(), thread_cpu_ms());
    for _ in 0..n {
        f();
    }
    (wall.elapsed().as_secs_f64() * 1e3 / n as f64, (thread_cpu_ms() - cpu) / n as f64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut iterations = 20usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iterations" => iterations = args.next().ok_or("--iterations needs a value")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = default_model_dir();
    let mut matcher = FaceMatcher::from_dir(&dir)?;
    let astronaut = image::open(dir.join("astronaut.png"))?.to_rgb8();
    let mirrored = image::imageops::flip_horizontal(&astronaut);
    let mut large = RgbImage::from_pixel(1280, 960, image::Rgb([90, 100, 110]));
    image::imageops::replace(&mut large, &astronaut, 600, 200);
    let (small_px, large_px) = (rgba(&astronaut), rgba(&large));
    let small = Frame::packed(&small_px, 512, 512)?;
    let big = Frame::packed(&large_px, 1280, 960)?;
    let mut front = BlazeFace::from_dir(&dir, BlazeFaceVariant::Front128)?;
    let mut back = BlazeFace::from_dir(&dir, BlazeFaceVariant::Back256)?;

    let analysis = matcher.analyze(&small, Role::Selfie)?;
    let face = analysis.detection.ok_or("no face in astronaut.png")?;
    let chip = analysis.chip.ok_or("no chip")?;
    let to_chip = chip_transform(&face).ok_or("no transform")?;
    let big_face = matcher.analyze(&big, Role::Selfie)?.detection.ok_or("no face in the large photo")?;
    let big_to_chip = chip_transform(&big_face).ok_or("no transform")?;
    let side = 2.0 * face.bbox.width().max(face.bbox.height());
    let c = face.bbox.centre();
    let (cx0, cy0) = ((c.x - side / 2.0).max(0.0) as u32, (c.y - side / 2.0).max(0.0) as u32);
    let crop_side = (side as u32).min(512 - cx0).min(512 - cy0);
    let crop = small.crop(cx0, cy0, crop_side, crop_side).ok_or("crop")?;

    let mut buffer = Vec::new();
    let mut rows: Vec<(String, f64, f64)> = Vec::new();
    let mut add = |name: &str, (wall, cpu): (f64, f64)| {
        println!("  {name:<34} wall {wall:>8.2} ms   thread CPU {cpu:>8.2} ms");
        rows.push((name.to_string(), wall, cpu));
    };
    println!("Face match stages ({iterations} runs each; load average {})", load_average_text());
    let n = iterations;
    add("letterbox_128_of_512", measure(n * 5, || letterbox_into(&small, 128, &mut buffer)));
    add("letterbox_256_of_512", measure(n * 5, || letterbox_into(&small, 256, &mut buffer)));
    add("letterbox_128_of_1280x960", measure(n * 5, || letterbox_into(&big, 128, &mut buffer)));
    add("letterbox_256_of_1280x960", measure(n * 5, || letterbox_into(&big, 256, &mut buffer)));
    add("detect_front128_512", measure(n, || drop(black_box(front.detect(&small)))));
    add("detect_back256_512", measure(n, || drop(black_box(back.detect(&small)))));
    add("detect_front128_1280x960", measure(n, || drop(black_box(front.detect(&big)))));
    add("detect_front128_face_crop", measure(n, || drop(black_box(front.detect(&crop)))));
    add("align_chip_512", measure(n * 5, || drop(black_box(extract_chip(&small, &to_chip)))));
    add("align_chip_1280x960", measure(n * 5, || drop(black_box(extract_chip(&big, &big_to_chip)))));
    add("align_with_fit_512", measure(n * 5, || drop(black_box(align(&small, &face)))));
    let embedder = matcher.embedder();
    add("chip_input", measure(n * 5, || drop(black_box(embedder.chip_input(&chip)))));
    add("embed", measure(n, || drop(black_box(embedder.embed(&chip)))));
    add("analyze_512", measure(n, || drop(black_box(matcher.analyze(&small, Role::Selfie)))));
    let before = matcher.detector_runs();
    add("match_512", measure(n, || drop(black_box(matcher.match_images(&astronaut, &mirrored)))));
    let after = matcher.detector_runs();
    let per_match = |a: u64, b: u64| (a - b) as f64 / (n + 2) as f64;
    let runs_512 = (per_match(after.front128, before.front128), per_match(after.back256, before.back256));
    add("match_1280x960", measure(n, || drop(black_box(matcher.match_images(&large, &astronaut)))));
    let last = matcher.detector_runs();
    let runs_large = (per_match(last.front128, after.front128), per_match(last.back256, after.back256));
    println!("  detector runs per match_512: front128 {:.1}, back256 {:.1}", runs_512.0, runs_512.1);
    println!("  detector runs per match_1280x960: front128 {:.1}, back256 {:.1}", runs_large.0, runs_large.1);
    println!("  load average after: {}", load_average_text());
    let stages: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .map(|(name, wall, cpu)| (name.clone(), serde_json::json!({ "wall_ms": wall, "cpu_ms": cpu })))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "stages": stages,
            "runs_per_match_512": { "front128": runs_512.0, "back256": runs_512.1 },
            "runs_per_match_1280x960": { "front128": runs_large.0, "back256": runs_large.1 },
            "load_average": load_average_text(),
        })
    );
    Ok(())
}
