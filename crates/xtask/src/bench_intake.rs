//! `cargo xtask bench intake`: verifier intake under load (500 concurrent sessions), SQLite and PostgreSQL.

/// Runs the benchmark; the last line printed is one JSON object with the headline figures.
pub fn run(_args: &[String]) -> Result<(), String> {
    Err("bench intake is not built yet (issue 6)".into())
}
