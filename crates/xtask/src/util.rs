//! Small helpers: paths, running commands, hashing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The workspace root (the folder with the root Cargo.toml).
///
/// `cargo xtask` (`cargo run`) sets `CARGO_MANIFEST_DIR` at run time; that value wins over the
/// one compiled in, because cargo may reuse an xtask binary built in a clone at another path
/// (the sources' timestamps decide, not their folder).
pub fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("../../Cargo.toml").is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.ancestors().nth(2).expect("crates/xtask is two levels deep").to_path_buf()
}

/// Cargo's target directory (honours CARGO_TARGET_DIR).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { root().join(dir) }
        }
        _ => root().join("target"),
    }
}

/// The cargo binary that runs this task.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The steps printed so far, with the time each began (for [`step_report`]).
static STEPS: std::sync::Mutex<Vec<(String, Instant)>> = std::sync::Mutex::new(Vec::new());

/// Prints a step header and starts timing the step.
pub fn step(title: &str) {
    println!("\n==> {title}");
    if let Ok(mut steps) = STEPS.lock() {
        steps.push((title.to_owned(), Instant::now()));
    }
}

/// Prints how long each step took (until the next one began, the last one until now), longest
/// first: where the time of a long run went.
pub fn step_report() {
    let Ok(steps) = STEPS.lock() else { return };
    let now = Instant::now();
    let mut timed: Vec<(std::time::Duration, &str)> = steps
        .iter()
        .enumerate()
        .map(|(i, (title, began))| (steps.get(i + 1).map_or(now, |next| next.1) - *began, title.as_str()))
        .collect();
    timed.sort_by_key(|t| std::cmp::Reverse(t.0));
    println!("\nTime by step (wall clock, longest first):");
    for (took, title) in timed {
        let title: String = title.chars().take(90).collect();
        println!("  {:>7.1} s  {title}", took.as_secs_f64());
    }
}

/// Runs a command to completion, failing on a non-zero exit.
pub fn exec(cmd: &mut Command) -> Result<(), String> {
    let started = Instant::now();
    let shown = describe(cmd);
    let status = cmd.status().map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if !status.success() {
        return Err(format!("`{shown}` failed ({status}) after {:.0?}", started.elapsed()));
    }
    Ok(())
}

/// Runs a command and returns its stdout (stderr passes through).
pub fn output(cmd: &mut Command) -> Result<String, String> {
    let shown = describe(cmd);
    let out = cmd.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{shown}` failed ({})", out.status));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("`{shown}` printed invalid UTF-8"))
}

/// Test counts read from a runner's output.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }
}

/// Runs a test command, echoing its output, and counts results from cargo's
/// `test result:` lines and node's `# pass` / `# fail` lines.
pub fn run_tests(cmd: &mut Command) -> Result<Counts, String> {
    let shown = describe(cmd);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    let mut counts = Counts::default();
    let stdout = child.stdout.take().expect("piped stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        counts += parse_counts(&line);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("`{shown}` failed ({status})"));
    }
    Ok(counts)
}

fn number_before(text: &str, word: &str) -> u64 {
    text.split(';')
        .filter_map(|part| part.trim().strip_suffix(word))
        .filter_map(|n| n.trim().rsplit(' ').next()?.parse().ok())
        .next()
        .unwrap_or(0)
}

fn parse_counts(line: &str) -> Counts {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("test result: ") {
        return Counts {
            passed: number_before(rest, "passed"),
            failed: number_before(rest, "failed"),
            ignored: number_before(rest, "ignored"),
        };
    }
    let node = |prefix: &str| line.strip_prefix(prefix).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
    Counts { passed: node("# pass "), failed: node("# fail "), ignored: node("# skipped ") }
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// SHA-256 of a file as lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String, String> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// True when a program can be found on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_runner_lines() {
        let c = parse_counts("test result: ok. 15 passed; 2 failed; 3 ignored; 0 measured; 0 filtered out");
        assert_eq!((c.passed, c.failed, c.ignored), (15, 2, 3));
        let c = parse_counts("# pass 4");
        assert_eq!(c.passed, 4);
        let c = parse_counts("# fail 1");
        assert_eq!(c.failed, 1);
        assert_eq!(parse_counts("running 3 tests").passed, 0);
    }
}
