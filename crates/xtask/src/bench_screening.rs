//! `cargo xtask bench screening`: sanctions screening: queries per second, p50/p99, LogicV2 side by side, 1M-entity scale run.

/// Runs the benchmark; the last line printed is one JSON object with the headline figures.
pub fn run(_args: &[String]) -> Result<(), String> {
    Err("bench screening is not built yet (issue 10)".into())
}
