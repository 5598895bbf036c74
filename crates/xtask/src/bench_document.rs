//! `cargo xtask bench document`: MRZ read from a document photo and MRZ parsing throughput.

/// Runs the benchmark; the last line printed is one JSON object with the headline figures.
pub fn run(_args: &[String]) -> Result<(), String> {
    Err("bench document is not built yet (issue 8)".into())
}
