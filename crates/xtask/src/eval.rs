//! `cargo xtask eval <area> [--data DIR]`: accuracy evaluations on real data.
//!
//! DIR has the layout of `../shared/data` (the default, relative to the workspace root).
//! Each area is an example of the crate that owns the capability, built in release mode
//! and run with the model cache set: `cargo run --release -p <crate> --example eval_<area>
//! -- --data DIR --out target/eval/<area>`. The example prints a readable report and, as
//! its very last line, one JSON object with the headline figures; this task prints nothing
//! after it.
//!
//! The test suite never depends on this data (a user has none); `cargo xtask test` runs
//! the evaluations only when the default folder exists, built with the test profile instead
//! (`dev`, where these crates and every dependency are optimised): the same figures of accuracy
//! (checked equal), without the minutes of a release build's LTO link per example; only the
//! timing fields some reports carry are slower there (debug assertions), so the reference
//! timings are the release ones of `cargo xtask eval`.

use std::path::PathBuf;

use crate::util::{self, exec, step};

/// One evaluation: the area name on the command line, and the crate example that runs it.
pub struct Area {
    /// Name on the command line (`cargo xtask eval <name>`).
    pub name: &'static str,
    /// Package that owns the capability.
    pub package: &'static str,
    /// Cargo features the example needs.
    pub features: &'static str,
    /// Whether the area is implemented (only those run in `cargo xtask test`).
    pub ready: bool,
}

/// Every evaluation area.
pub const AREAS: &[Area] = &[
    Area { name: "docs", package: "trustcap-vision", features: "", ready: true },
    Area { name: "liveness", package: "trustcap-vision", features: "face", ready: true },
    Area { name: "mrz", package: "trustcap-document", features: "", ready: true },
    Area { name: "faces", package: "trustcap-face", features: "", ready: true },
    Area { name: "screening", package: "trustcap-screening", features: "", ready: true },
];

/// The default data folder: `../shared/data` next to the workspace.
pub fn default_data_dir() -> PathBuf {
    util::root().join("../shared/data")
}

/// Dispatches `cargo xtask eval <area> [--data DIR]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let names: Vec<&str> = AREAS.iter().map(|a| a.name).collect();
    let usage = format!("usage: cargo xtask eval <{}> [--data DIR]", names.join("|"));
    let area = args.first().and_then(|n| AREAS.iter().find(|a| a.name == n.as_str())).ok_or(usage.clone())?;
    let data = match (args.get(1).map(String::as_str), args.get(2)) {
        (None, _) => default_data_dir(),
        (Some("--data"), Some(dir)) => PathBuf::from(dir),
        _ => return Err(usage),
    };
    if !data.is_dir() {
        return Err(format!("data folder {} not found (it needs the layout of ../shared/data)", data.display()));
    }
    run_area(area, &data, Build::Release)
}

/// The profile an evaluation is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `--release`: what `cargo xtask eval` uses (reference timings).
    Release,
    /// The test profile, whose artifacts the test run has just built (see the module docs).
    Test,
}

/// Runs one area against a data folder.
pub fn run_area(area: &Area, data: &std::path::Path, build: Build) -> Result<(), String> {
    let model_dir = crate::models::fetch_all()?;
    let out = util::target_dir().join("eval").join(area.name);
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let profile = if build == Build::Release { "release" } else { "test profile" };
    step(&format!("eval {} ({profile}): {} (reports and images in {})", area.name, data.display(), out.display()));
    let mut cmd = util::cargo();
    cmd.args(["run", "--quiet", "--package", area.package, "--example"]).arg(format!("eval_{}", area.name));
    if build == Build::Release {
        cmd.arg("--release");
    }
    if !area.features.is_empty() {
        cmd.args(["--features", area.features]);
    }
    cmd.arg("--").arg("--data").arg(data).arg("--out").arg(&out).env("TRUSTCAP_MODEL_DIR", model_dir);
    exec(&mut cmd)
}
