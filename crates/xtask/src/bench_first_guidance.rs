//! `cargo xtask bench first-guidance [--runs N]`: time from page load to the first guidance on
//! screen, in headless Chromium with the fake camera, on the demo page served with the built
//! package (`tests/e2e/first_guidance_bench.mjs` does the measuring; see its header). Reports the
//! median and p90 over N fresh browser contexts (cold caches) and over a second load in each
//! (warm), the page's phases, and the CPU time of the whole run (Chromium, Node, the verifier and
//! the demo backend: the children's user + system time) per page load, beside the load average.
//! The goal is 1 s on localhost.

use std::process::Command;

use serde_json::Value;

use crate::setup::{self, Needs};
use crate::util::{self, step};

/// Runs the benchmark.
pub fn run(args: &[String]) -> Result<(), String> {
    let runs = parse_runs(args)?;
    setup::run(Needs { wasm: true, browser: true, node: true, models: true })?;
    let pkg = crate::sdk::build()?;
    let verifier = crate::demo::build_verifier()?;
    let assets = util::target_dir().join("e2e");
    crate::test::write_e2e_assets(Some(&assets.to_string_lossy()))?;

    step(&format!("bench first-guidance: the demo page in headless Chromium, {runs} runs"));
    let load_before = load_average();
    let cpu_before = children_cpu_seconds()?;
    let printed = util::output(
        Command::new("node")
            .arg(util::root().join("tests/e2e/first_guidance_bench.mjs"))
            .env("TRUSTCAP_BENCH_RUNS", runs.to_string())
            .env("TRUSTCAP_VERIFIER_BIN", &verifier)
            .env("TRUSTCAP_SDK_DIR", &pkg)
            .env("TRUSTCAP_E2E_ASSETS", &assets)
            .env("TRUSTCAP_DEMO_SERVER", util::root().join("web-demo/server.mjs")),
    )?;
    let cpu = children_cpu_seconds()? - cpu_before;
    let load_after = load_average();
    let mut lines: Vec<&str> = printed.lines().collect();
    let json_line = lines.pop().ok_or("the browser harness printed nothing")?;
    let mut figures: Value = serde_json::from_str(json_line)
        .map_err(|e| format!("the harness's last line is not JSON ({e}): {json_line}"))?;
    for line in lines {
        println!("{line}");
    }
    // Every measured run loads the page twice, plus one unmeasured warm-up load.
    let loads = 2 * runs + 1;
    let cpu_ms_per_load = cpu * 1000.0 / loads as f64;
    println!(
        "\n  CPU time (Chromium + Node + verifier + demo backend, user + system): {cpu:.1} s for {loads} page loads, \
         {cpu_ms_per_load:.0} ms per load"
    );
    println!(
        "  load average (1 min) before / after: {load_before} / {load_after} (2 cores; other builds share the machine)"
    );
    let median = figures["first_guidance_ms_median"].as_f64().unwrap_or(f64::NAN);
    println!(
        "  first guidance on screen, cold: median {median:.0} ms, p90 {} ms (goal <= 1000 ms: {})",
        figures["first_guidance_ms_p90"],
        if median <= 1000.0 { "met" } else { "not met" }
    );
    figures["cpu_ms_per_load"] = Value::from((cpu_ms_per_load * 10.0).round() / 10.0);
    figures["load_average_1m"] = Value::from(load_after);
    println!("{figures}");
    Ok(())
}

fn parse_runs(args: &[String]) -> Result<usize, String> {
    match args {
        [] => Ok(15),
        [flag, n] if flag == "--runs" => match n.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => Ok(n),
            _ => Err(format!("--runs takes a number from 1 to 200, got {n}")),
        },
        _ => Err("usage: cargo xtask bench first-guidance [--runs N]".into()),
    }
}

/// The 1-minute load average (`/proc/loadavg`), or NaN where unavailable.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// User + system CPU seconds of this process's waited-for children (and theirs): `cutime` and
/// `cstime` of `/proc/self/stat`, in clock ticks of 100 Hz (Linux's `USER_HZ`).
fn children_cpu_seconds() -> Result<f64, String> {
    let stat = std::fs::read_to_string("/proc/self/stat").map_err(|e| format!("/proc/self/stat: {e}"))?;
    parse_children_ticks(&stat).map(|ticks| ticks as f64 / 100.0)
}

fn parse_children_ticks(stat: &str) -> Result<u64, String> {
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or("malformed /proc/self/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); cutime and cstime are fields 16 and 17.
    let field = |n: usize| -> Result<u64, String> {
        fields.get(n - 3).and_then(|v| v.parse().ok()).ok_or_else(|| format!("no field {n} in /proc/self/stat"))
    };
    Ok(field(16)? + field(17)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_default_to_15_and_are_bounded() {
        assert_eq!(parse_runs(&[]).ok(), Some(15));
        assert_eq!(parse_runs(&["--runs".into(), "3".into()]).ok(), Some(3));
        assert!(parse_runs(&["--runs".into(), "0".into()]).is_err());
        assert!(parse_runs(&["--runs".into(), "x".into()]).is_err());
        assert!(parse_runs(&["--fast".into()]).is_err());
    }

    #[test]
    fn children_ticks_are_fields_16_and_17() {
        let stat = "1234 (node (x) y) S 1 2 3 4 5 6 7 8 9 10 11 12 250 50 20 0 1 0 100";
        assert_eq!(parse_children_ticks(stat).ok(), Some(300));
        assert!(parse_children_ticks("garbage").is_err());
        // The real file parses.
        assert!(children_cpu_seconds().is_ok());
    }
}
