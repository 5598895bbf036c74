//! `cargo xtask bench faces`: face embedding and full match.

/// Runs the benchmark; the last line printed is one JSON object with the headline figures.
pub fn run(_args: &[String]) -> Result<(), String> {
    Err("bench faces is not built yet (issue 9)".into())
}
