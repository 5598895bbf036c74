//! `cargo xtask bench screening`: sanctions screening: queries per second, p50/p99, LogicV2 side by side, 1M-entity scale run.
//!
//! 1. criterion (`cargo bench -p trustcap-screening --bench screen`): name preparation, one
//!    comparison, one query against every list.
//! 2. `examples/bench_screening.rs` with every list in the data folder: queries per second on
//!    one thread and p50/p99 latency; it also writes the query/candidate name pairs of the
//!    first 300 queries.
//! 3. nomenklatura's LogicV2 (PyPI, in a virtual environment under the target dir) times the
//!    same pairs; the ratio per query and per comparison is reported. If the environment or
//!    the install fails, that is said plainly and the Rust figures still stand.
//! 4. The scale run: 1,000,000 synthetic entities built from the real names (`--scale N`),
//!    p50/p99 and peak RSS.
//!
//! Options: `--data DIR` (default `../shared/data`; its `screening` folder, or DIR itself),
//! `--scale N` (0 skips the scale run), `--queries N`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::util::{self, exec, output, step};

/// The nomenklatura version whose LogicV2 scores are frozen in the name-pair data.
const NOMENKLATURA: &str = "nomenklatura==4.17.4";

fn last_json(text: &str) -> Result<Value, String> {
    text.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok()).ok_or("no JSON result line".into())
}

fn example(args: &[&str], data: &Path) -> Result<Value, String> {
    let printed = output(
        util::cargo()
            .args([
                "run",
                "--quiet",
                "--release",
                "--package",
                "trustcap-screening",
                "--example",
                "bench_screening",
                "--",
            ])
            .arg("--data")
            .arg(data)
            .args(args),
    )?;
    print!("{printed}");
    last_json(&printed)
}

/// Creates the virtual environment and installs nomenklatura when needed; returns its python.
fn logicv2_python(dir: &Path) -> Result<PathBuf, String> {
    let venv = dir.join("venv");
    let python = venv.join("bin").join("python");
    if !python.is_file() {
        exec(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let probe = "import importlib.metadata as m, sys\ntry:\n    ok = m.version('nomenklatura') == '4.17.4'\nexcept Exception:\n    ok = False\nsys.exit(0 if ok else 1)";
    let have = Command::new(&python)
        .args(["-c", probe])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        exec(Command::new(&python).args(["-m", "pip", "install", "--quiet", NOMENKLATURA]))?;
    }
    Ok(python)
}

/// Runs the benchmark; the last line printed is one JSON object with the headline figures.
pub fn run(args: &[String]) -> Result<(), String> {
    let arg = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let base = arg("--data").map_or_else(crate::eval::default_data_dir, PathBuf::from);
    let data = if base.join("screening").is_dir() { base.join("screening") } else { base };
    if !data.is_dir() {
        return Err(format!("data folder {} not found", data.display()));
    }
    let scale = arg("--scale").unwrap_or_else(|| "1000000".into());
    let queries = arg("--queries").unwrap_or_else(|| "5000".into());
    let work = util::target_dir().join("screening-bench");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let pairs = work.join("pairs.jsonl");

    step("bench screening: criterion");
    exec(
        util::cargo()
            .args(["bench", "--package", "trustcap-screening", "--bench", "screen", "--", "--noplot"])
            .env("TRUSTCAP_SCREENING_DATA", &data),
    )?;
    let means = crate::bench::criterion_means(&util::target_dir().join("criterion").join("screening"))?;

    step(&format!("bench screening: every list in {}", data.display()));
    let pairs_arg = pairs.to_string_lossy().to_string();
    let real = example(&["--queries", &queries, "--pairs", &pairs_arg], &data)?;

    step("bench screening: nomenklatura LogicV2 on the same query/candidate pairs");
    let script = util::root().join("crates/screening/bench/logicv2_pairs.py");
    let logic = logicv2_python(&work).and_then(|python| {
        let printed = output(Command::new(python).arg(&script).arg(&pairs))?;
        print!("{printed}");
        last_json(&printed)
    });

    let scaled = if scale != "0" {
        step(&format!("bench screening: scale run with {scale} synthetic entities"));
        Some(example(&["--queries", "3000", "--scale", &scale], &data)?)
    } else {
        None
    };

    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    println!("\nScreening benchmark ({})", data.display());
    println!("  criterion means (one core):");
    for (name, ms) in &means {
        println!("    {name:<32} {:>10.4} ms", ms);
    }
    let (qps, p50, p99) = (f(&real, "qps_per_core"), f(&real, "p50_ms"), f(&real, "p99_ms"));
    println!(
        "  {} entities, {} names: {qps:.0} queries/s on one thread, p50 {p50:.3} ms, p99 {p99:.3} ms (targets: >= 1000/s, p99 <= 5 ms: {})",
        real["entities"],
        real["names"],
        if qps >= 1000.0 && p99 <= 5.0 { "met" } else { "NOT met" }
    );
    println!(
        "    thread CPU time per query p50 {:.3} ms, p99 {:.3} ms (wall-clock tails include time given to other processes: \
         load average {:.1} on {} cores during the run)",
        f(&real, "cpu_p50_ms"),
        f(&real, "cpu_p99_ms"),
        f(&real, "load_average_1m"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let our_query_ms = f(&real, "ms_per_query");
    let per_query_pairs = f(&real, "pairs") / f(&real, "pairs_queries");
    let mut figures = json!({
        "entities": real["entities"],
        "names": real["names"],
        "qps_per_core": qps,
        "p50_ms": p50,
        "p99_ms": p99,
        "cpu_p50_ms": f(&real, "cpu_p50_ms"),
        "cpu_p99_ms": f(&real, "cpu_p99_ms"),
        "load_average_1m": f(&real, "load_average_1m"),
        "ms_per_comparison": f(&real, "ms_per_comparison_from_text"),
    });
    for (name, ms) in &means {
        figures[format!("criterion_{}_ms", name.rsplit('/').next().unwrap_or(name))] = json!(ms);
    }
    match &logic {
        Ok(l) => {
            let lv2_cmp = f(l, "ms_per_comparison");
            let lv2_query = lv2_cmp * per_query_pairs;
            println!(
                "  LogicV2 (nomenklatura {}) on the same {} pairs: {lv2_cmp:.4} ms per comparison, {lv2_query:.2} ms per query \
                 for the same {per_query_pairs:.1} candidates; this crate: {:.4} ms per comparison, {our_query_ms:.3} ms per whole query \
                 (index, scoring, explanations): {:.0}x faster per query, {:.0}x per comparison",
                l["nomenklatura"].as_str().unwrap_or("?"),
                l["pairs"],
                f(&real, "ms_per_comparison_from_text"),
                lv2_query / our_query_ms,
                lv2_cmp / f(&real, "ms_per_comparison_from_text"),
            );
            figures["logicv2_ms_per_comparison"] = json!(lv2_cmp);
            figures["logicv2_ms_per_query"] = json!(lv2_query);
            figures["speedup_per_query"] = json!(lv2_query / our_query_ms);
            figures["speedup_per_comparison"] = json!(lv2_cmp / f(&real, "ms_per_comparison_from_text"));
        }
        Err(e) => {
            println!("  LogicV2 side by side NOT run: {e}");
            figures["logicv2_error"] = json!(e);
        }
    }
    if let Some(s) = &scaled {
        let (sp99, rss) = (f(s, "scale_p99_ms"), f(s, "scale_peak_rss_mb"));
        println!(
            "  scale run: {} entities, {} names: {:.0} queries/s, p50 {:.3} ms, p99 {sp99:.3} ms, peak RSS {rss:.0} MB \
             (targets: p99 <= 25 ms, RSS <= 4096 MB: {})",
            s["scale_entities"],
            s["scale_names"],
            f(s, "scale_qps_per_core"),
            f(s, "scale_p50_ms"),
            if sp99 <= 25.0 && rss <= 4096.0 { "met" } else { "NOT met" }
        );
        for k in [
            "scale_entities",
            "scale_names",
            "scale_qps_per_core",
            "scale_p50_ms",
            "scale_p99_ms",
            "scale_cpu_p99_ms",
            "scale_peak_rss_mb",
            "scale_build_s",
        ] {
            figures[k] = s[k].clone();
        }
    }
    println!("{figures}");
    Ok(())
}
