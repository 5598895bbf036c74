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
    // Thread CPU time of the same read, written by the bench (wall-clock is inflated on a shared machine).
    let cpu: Option<serde_json::Value> = std::fs::read_to_string(root.join("mrz_read").join("thread_cpu.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let cpu_ms = cpu.as_ref().and_then(|c| c["cpu_ms_mean"].as_f64());
    let load = cpu.as_ref().and_then(|c| c["load_avg"].as_str().map(String::from));
    match read_ms {
        Some(ms) => println!(
            "MRZ read from a 1000-px-wide photo: {ms:.1} ms wall (criterion mean), {} ms thread CPU per read; load average {}",
            cpu_ms.map_or("?".into(), |c| format!("{c:.1}")),
            load.as_deref().unwrap_or("?")
        ),
        None => println!("MRZ read: skipped (no photo: set TRUSTCAP_BENCH_PHOTO or provide ../shared/data)"),
    }
    println!(
        "{}",
        json!({
            "mrz_parse_lines_per_s": lines_per_s, "mrz_read_1000px_ms": read_ms,
            "mrz_read_1000px_cpu_ms": cpu_ms.filter(|_| read_ms.is_some()), "load_avg": load,
        })
    );
    Ok(())
}
