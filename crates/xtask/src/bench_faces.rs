//! `cargo xtask bench faces`: face embedding and full match (criterion, natively).
//!
//! Runs `cargo bench -p trustcap-face --bench face` with the model cache (fetched first),
//! then reads criterion's means. Targets: embedding ≤ 8 ms per face on one core; a full match
//! of two photos (detect, align, embed twice) ≤ 80 ms. tract runs single-threaded here.

use serde_json::json;

use crate::util::{self, exec, step};

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
    let get = |name: &str| means.iter().find(|(n, _)| n == name).map(|(_, ms)| *ms).unwrap_or(f64::NAN);
    println!("\nFace match, criterion means (one core; photos: scikit-image astronaut.png, 512x512)");
    for (name, ms) in &means {
        println!("  {name:<24} {ms:>8.2} ms");
    }
    let (embed, full, large) = (get("embed"), get("match_512"), get("match_1280x960"));
    println!("  embedding target <= 8 ms: {}", if embed <= 8.0 { "met" } else { "NOT met" });
    println!("  full match target <= 80 ms: {}", if full <= 80.0 && large <= 80.0 { "met" } else { "NOT met" });
    println!(
        "{}",
        json!({
            "embed_ms": embed,
            "match_ms": full,
            "match_1280x960_ms": large,
            "detect_front128_ms": get("detect_front128"),
            "detect_back256_ms": get("detect_back256"),
            "embed_target_met": embed <= 8.0,
            "match_target_met": full <= 80.0 && large <= 80.0,
        })
    );
    Ok(())
}
