//! `cargo xtask bench document`: MRZ read from a document photo and MRZ parsing throughput.

use serde_json::json;

use crate::bench::criterion_means;
use crate::util::{self, exec, step};

/// Runs the benchmark; the last line printed is one JSON object with the headline figures.
pub fn run(_args: &[String]) -> Result<(), String> {
    let model_dir = crate::models::fetch_all()?;
    step("bench document: MRZ parsing and MRZ read from a 1000-px-wide photo (criterion, one core)");
    exec(
        util::cargo()
            .args(["bench", "--package", "trustcap-document", "--bench", "document", "--", "--noplot"])
            .env("TRUSTCAP_MODEL_DIR", &model_dir),
    )?;
    let root = util::target_dir().join("criterion");
    let parse = criterion_means(&root.join("mrz_parse"))?;
    let read = criterion_means(&root.join("mrz_read")).unwrap_or_default();
    println!("\nMRZ parsing (criterion mean):");
    let mut lines_per_s = f64::NAN;
    for (name, ms) in &parse {
        let lines = if name.contains("td1") { 3.0 } else { 2.0 };
        let rate = lines / (ms / 1e3);
        println!("  {name:<24} {:>8.3} µs  {:>12.0} lines/s", ms * 1e3, rate);
        lines_per_s = if lines_per_s.is_nan() { rate } else { lines_per_s.min(rate) };
    }
    let read_ms = read.first().map(|(_, ms)| *ms);
    match read_ms {
        Some(ms) => println!("MRZ read from a 1000-px-wide photo: {ms:.1} ms"),
        None => println!("MRZ read: skipped (no photo: set TRUSTCAP_BENCH_PHOTO or provide ../shared/data)"),
    }
    println!("{}", json!({ "mrz_parse_lines_per_s": lines_per_s, "mrz_read_1000px_ms": read_ms }));
    Ok(())
}
