//! `cargo xtask bench intake`: verifier intake under load (500 concurrent sessions), SQLite and PostgreSQL.
//!
//! Runs `crates/verifier/examples/load_intake.rs` in release mode: a verifier on loopback
//! and 500 concurrent simulated SDKs (session, key, nonce, one signed 640x360 JPEG
//! upload each). First against SQLite, then against the PostgreSQL test cluster that
//! `cargo xtask setup` starts. Options: `--sessions N`, `--sqlite-only`.

use crate::util::{self, output, step};

fn last_json(text: &str) -> Result<serde_json::Value, String> {
    let line =
        text.lines().rev().find(|l| l.trim_start().starts_with('{')).ok_or("the load generator printed no JSON")?;
    serde_json::from_str(line).map_err(|e| format!("load generator JSON: {e}"))
}

/// Runs the benchmark; the last line printed is one JSON object with the headline figures.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut sessions = "500".to_owned();
    let mut sqlite_only = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sessions" => sessions = it.next().ok_or("--sessions N")?.clone(),
            "--sqlite-only" => sqlite_only = true,
            other => return Err(format!("unknown bench intake option `{other}`")),
        }
    }
    let load = |extra: &[&str]| -> Result<serde_json::Value, String> {
        let text = output(
            util::cargo()
                .args(["run", "--release", "-q", "-p", "trustcap-verifier", "--example", "load_intake", "--"])
                .args(["--sessions", &sessions])
                .args(extra)
                .env("RUST_LOG", "warn"),
        )?;
        print!("{text}");
        last_json(&text)
    };
    step("bench intake: SQLite");
    let sqlite = load(&[])?;
    let postgres = if sqlite_only {
        serde_json::Value::Null
    } else {
        step("bench intake: PostgreSQL");
        let base = crate::setup::postgres()?;
        // A fresh database each run, so runs do not accumulate rows.
        let db = format!("bench_{}", std::process::id());
        let psql = |sql: &str| output(std::process::Command::new("psql").args(["-X", "-q", &base, "-c", sql]));
        psql(&format!("CREATE DATABASE {db}"))?;
        let url = format!("{}/{db}", base.rsplit_once('/').map_or(base.as_str(), |(p, _)| p));
        let result = load(&["--postgres", &url]);
        let _ = psql(&format!("DROP DATABASE {db}"));
        result?
    };
    println!("{}", serde_json::json!({"sqlite": sqlite, "postgres": postgres}));
    Ok(())
}
