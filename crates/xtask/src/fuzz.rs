//! `cargo xtask fuzz <target> [--seconds N]`: runs a cargo-fuzz target (see `fuzz/`).
//!
//! Installs `cargo-fuzz` if missing. cargo-fuzz needs nightly-only compiler flags
//! (sanitizers); the machines have only stable Rust, so the run sets `RUSTC_BOOTSTRAP=1`,
//! which lets the stable compiler accept them. New interesting inputs go to a scratch
//! corpus under the target directory, so the committed seed corpus in `fuzz/corpus/` stays
//! small; crashes land in `fuzz/artifacts/` (ignored by git) and fail the task.

use std::process::Command;

use crate::util::{self, exec, on_path, step};

/// The fuzz targets: every `[[bin]]` of `fuzz/Cargo.toml`, in file order.
pub fn targets() -> Result<Vec<String>, String> {
    let manifest = util::root().join("fuzz/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut in_bin = false;
    let mut found = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(value) = line.strip_prefix("name") {
            let name = value.trim_start().trim_start_matches('=').trim().trim_matches('"');
            found.push(name.to_owned());
        }
    }
    Ok(found)
}

/// Runs one target (or `all`) for a bounded time.
pub fn run(args: &[String]) -> Result<(), String> {
    let all = targets()?;
    let target =
        args.first().ok_or_else(|| format!("usage: cargo xtask fuzz <{}|all> [--seconds N]", all.join("|")))?;
    let seconds = match args.get(1).map(String::as_str) {
        Some("--seconds") => args.get(2).and_then(|s| s.parse::<u32>().ok()).ok_or("--seconds needs a number")?,
        None => 60,
        Some(other) => return Err(format!("unknown fuzz option `{other}`")),
    };
    let targets: Vec<&str> = if target == "all" {
        all.iter().map(String::as_str).collect()
    } else if all.contains(target) {
        vec![target.as_str()]
    } else {
        return Err(format!("unknown fuzz target `{target}`; targets: {}", all.join(", ")));
    };
    if !on_path("cargo-fuzz") {
        step("installing cargo-fuzz (once)");
        exec(util::cargo().args(["install", "cargo-fuzz"]))?;
    }
    for target in targets {
        step(&format!("fuzz: {target} for {seconds} s"));
        let scratch = util::target_dir().join("fuzz-corpus").join(target);
        std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
        let seeds = util::root().join("fuzz/corpus").join(target);
        exec(
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(util::root().join("fuzz"))
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["fuzz", "run", "--release", target])
                .arg(&scratch)
                .arg(&seeds)
                .arg("--")
                .arg(format!("-max_total_time={seconds}")),
        )?;
    }
    Ok(())
}
