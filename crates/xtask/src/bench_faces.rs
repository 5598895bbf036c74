//! `cargo xtask bench faces`: face embedding and full match (criterion, natively), plus a
//! per-stage profile in wall time and per-thread CPU time.
//!
//! Runs `cargo bench -p trustcap-face --bench face` with the model cache (fetched first) and
//! reads criterion's means, then `cargo run --release -p trustcap-face --example profile_faces`,
//! whose thread-CPU times are far less inflated than wall time on a loaded machine, and
//! `--example profile_embed` (the embedding's thread CPU time per tract operator, and both
//! engines, direct convolution (AVX-512 or AVX2) and tract, timed in turn). Targets:
//! embedding ≤ 8 ms per face on one core; a full match of two photos (detect, align, embed
//! twice) ≤ 80 ms. tract runs single-threaded here.

use serde_json::{Value, json};

use crate::util::{self, exec, output, step};

/// Runs the benchmark; the last line printed is one JSON object with the headline figures.
pub fn run(_args: &[String]) -> Result<(), String> {
    let models = crate::models::fetch_all()?;
    step("bench faces: native (criterion)");
    exec(
        util::cargo()
            .args(["bench", "--package", "trustcap-face", "--bench", "face", "--", "--noplot"])
            .env("TRUSTCAP_MODEL_DIR", &models),
    )?;
    let means = crate::bench::criterion_means(&util::target_dir().join("criterion").join("faces"))?;
    step("bench faces: per-stage profile (wall and per-thread CPU time)");
    let printed = output(
        util::cargo()
            .args(["run", "--release", "--package", "trustcap-face", "--example", "profile_faces"])
            .env("TRUSTCAP_MODEL_DIR", &models),
    )?;
    print!("{printed}");
    let profile: Value = printed
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or("profile_faces printed no JSON result")?;
    let cpu = |stage: &str| profile["stages"][stage]["cpu_ms"].as_f64().unwrap_or(f64::NAN);
    step("bench faces: embedding per operator (per-thread CPU time)");
    let printed = output(
        util::cargo()
            .args(["run", "--release", "--package", "trustcap-face", "--example", "profile_embed"])
            .env("TRUSTCAP_MODEL_DIR", &models),
    )?;
    print!("{printed}");
    let per_op: Value = printed
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or("profile_embed printed no JSON result")?;
    let op_ms = |op: &str| per_op["ops"][op]["cpu_ms"].as_f64().unwrap_or(0.0);
    let op_total: f64 =
        per_op["ops"].as_object().map_or(0.0, |ops| ops.values().filter_map(|v| v["cpu_ms"].as_f64()).sum());
    let matmul_share = op_ms("OptMatMul") / op_total;

    let get = |name: &str| means.iter().find(|(n, _)| n == name).map(|(_, ms)| *ms).unwrap_or(f64::NAN);
    println!("\nFace match, criterion means (one core; photos: scikit-image astronaut.png, 512x512)");
    for (name, ms) in &means {
        println!("  {name:<24} {ms:>8.2} ms");
    }
    let (embed, full, large) = (get("embed"), get("match_512"), get("match_1280x960"));
    let (embed_cpu, full_cpu, large_cpu) = (cpu("embed"), cpu("match_512"), cpu("match_1280x960"));
    println!(
        "Per-thread CPU time of the same work (profile_faces): embed {embed_cpu:.2} ms, match_512 {full_cpu:.2} ms, match_1280x960 {large_cpu:.2} ms"
    );
    println!(
        "tract plan, fastest of 30 runs in thread CPU: {:.2} ms; matrix products {:.1} % of the per-node time, padding {:.1} %",
        per_op["plan_cpu_min_ms"].as_f64().unwrap_or(f64::NAN),
        100.0 * matmul_share,
        100.0 * op_ms("Pad") / op_total,
    );
    let tract_embed = get("embed_tract");
    println!(
        "Embedding engine {}: criterion {embed:.2} ms vs tract {tract_embed:.2} ms ({:.2}x); thread CPU fastest {:.2} vs {:.2} ms ({:.2}x)",
        per_op["embed_engine"].as_str().unwrap_or("?"),
        tract_embed / embed,
        per_op["embed_cpu_min_ms"].as_f64().unwrap_or(f64::NAN),
        per_op["tract_embed_cpu_min_ms"].as_f64().unwrap_or(f64::NAN),
        per_op["speedup_vs_tract"].as_f64().unwrap_or(f64::NAN),
    );
    println!("  load average: {}", profile["load_average"].as_str().unwrap_or("?"));
    println!("  embedding target <= 8 ms: {}", if embed <= 8.0 { "met" } else { "NOT met" });
    println!("  full match target <= 80 ms: {}", if full <= 80.0 && large <= 80.0 { "met" } else { "NOT met" });
    println!(
        "{}",
        json!({
            "embed_ms": embed,
            "embed_engine": per_op["embed_engine"],
            "embed_tract_ms": tract_embed,
            "embed_speedup_vs_tract": tract_embed / embed,
            "match_ms": full,
            "match_1280x960_ms": large,
            "detect_front128_ms": get("detect_front128"),
            "detect_back256_ms": get("detect_back256"),
            "detect_front128_tract_ms": get("detect_front128_tract"),
            "detect_back256_tract_ms": get("detect_back256_tract"),
            "detect_back256_speedup_vs_tract": get("detect_back256_tract") / get("detect_back256"),
            "embed_cpu_ms": embed_cpu,
            "match_cpu_ms": full_cpu,
            "match_1280x960_cpu_ms": large_cpu,
            "embed_cpu_min_ms": per_op["embed_cpu_min_ms"],
            "tract_embed_cpu_min_ms": per_op["tract_embed_cpu_min_ms"],
            "embed_matmul_share": matmul_share,
            "runs_per_match_512": profile["runs_per_match_512"],
            "load_average": profile["load_average"],
            "embed_target_met": embed <= 8.0,
            "match_target_met": full <= 80.0 && large <= 80.0,
        })
    );
    Ok(())
}
