//! `cargo xtask setup`: installs what the project needs, idempotently. Each step checks
//! first and does nothing when already done, so running it again is fast.

use std::path::Path;
use std::process::Command;

use crate::util::{self, exec, on_path, output, step};

/// Which parts of the set-up a task needs.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// wasm32 target and the wasm-bindgen CLI.
    pub wasm: bool,
    /// Debian's Chromium and chromedriver.
    pub browser: bool,
    /// Node tools (Playwright, wasm-opt) from tests/e2e/package-lock.json.
    pub node: bool,
    /// The pinned models.
    pub models: bool,
}

impl Needs {
    /// Everything.
    pub fn all() -> Self {
        Self { wasm: true, browser: true, node: true, models: true }
    }
}

/// Runs the set-up steps that `needs` asks for.
pub fn run(needs: Needs) -> Result<(), String> {
    step("setup: checking tools");
    if needs.wasm {
        wasm_target()?;
        wasm_bindgen_cli()?;
    }
    if needs.browser {
        chromium()?;
    }
    if needs.node {
        node_tools()?;
    }
    if needs.models {
        crate::models::fetch_all()?;
    }
    Ok(())
}

fn wasm_target() -> Result<(), String> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        println!("  wasm32-unknown-unknown target: present");
        return Ok(());
    }
    exec(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The exact wasm-bindgen version in Cargo.lock: the CLI must match it byte for byte.
pub fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(util::root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(version) = lines.next().and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn wasm_bindgen_cli() -> Result<(), String> {
    let want = locked_wasm_bindgen_version()?;
    let have =
        Command::new("wasm-bindgen").arg("--version").output().ok().and_then(|o| String::from_utf8(o.stdout).ok());
    if have.as_deref().map(str::trim) == Some(&format!("wasm-bindgen {want}")) {
        println!("  wasm-bindgen-cli {want}: present");
        return Ok(());
    }
    println!("  installing wasm-bindgen-cli {want} (a few minutes, once)");
    // Not `--locked`: the registry mirror lacks one of the CLI's locked dependency versions.
    exec(util::cargo().args(["install", "wasm-bindgen-cli", "--version", &want]))
}

/// Installs Debian packages with apt-get (as root, or through sudo).
fn apt_install(packages: &[&str]) -> Result<(), String> {
    let root = output(Command::new("id").arg("-u")).map(|s| s.trim() == "0").unwrap_or(false);
    let apt = |args: &[&str]| -> Result<(), String> {
        let mut cmd = if root {
            Command::new("apt-get")
        } else if on_path("sudo") {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        } else {
            return Err(format!("installing {} needs root or sudo (apt-get install)", packages.join(" ")));
        };
        exec(cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&["update", "-qq"])?;
    apt(&[&["install", "-y", "-qq"][..], packages].concat())
}

fn chromium() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        println!("  chromium + chromedriver: present");
        return Ok(());
    }
    println!("  installing Debian's chromium and chromium-driver");
    apt_install(&["chromium", "chromium-driver"])
}

fn node_tools() -> Result<(), String> {
    if !on_path("node") || !on_path("npm") {
        println!("  installing Debian's nodejs and npm");
        apt_install(&["nodejs", "npm"])?;
    }
    let dir = util::root().join("tests/e2e");
    let lock_hash = util::sha256_file(&dir.join("package-lock.json"))?;
    let marker = dir.join("node_modules/.trustcap-lock-sha256");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(lock_hash.as_str()) {
        println!("  node tools (tests/e2e): present");
        return Ok(());
    }
    exec(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&dir))?;
    std::fs::write(&marker, lock_hash).map_err(|e| e.to_string())
}

/// A throwaway PostgreSQL for the verifier's integration tests: Debian's `postgresql`
/// (installed if missing), a cluster listening on 127.0.0.1 only, trust authentication.
/// As a normal user the cluster lives in `target/postgres-test`; as root it runs as the
/// `postgres` user and lives in that user's home (`/var/lib/postgresql/trustcap-test`),
/// because the build directory may sit under a home the `postgres` user cannot enter
/// (CI's `/root/.cache`, mode 0700). Idempotent:
/// an initialised cluster is reused and a running server is left running. Returns the
/// URL for `TRUSTCAP_TEST_POSTGRES_URL`.
pub fn postgres() -> Result<String, String> {
    const PORT: &str = "55432";
    let bin_dir = || -> Option<std::path::PathBuf> {
        let mut versions: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .collect();
        versions.sort();
        versions.pop()
    };
    if bin_dir().is_none() {
        println!("  installing Debian's postgresql");
        apt_install(&["postgresql"])?;
    }
    let bin = bin_dir().ok_or("postgresql is installed but initdb was not found")?;
    let root = output(Command::new("id").arg("-u")).map(|s| s.trim() == "0").unwrap_or(false);
    let as_owner = |program: &str| -> Command {
        if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join(program));
            c
        } else {
            Command::new(bin.join(program))
        }
    };
    let data = if root {
        std::path::PathBuf::from("/var/lib/postgresql/trustcap-test")
    } else {
        util::target_dir().join("postgres-test")
    };
    let url = format!("postgres://postgres@127.0.0.1:{PORT}/postgres");
    if !data.join("PG_VERSION").exists() {
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        if root {
            exec(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&data))?;
        }
        exec(as_owner("initdb").args(["-D"]).arg(&data).args(["-U", "postgres", "--auth=trust", "-E", "UTF8"]))?;
    }
    let running = as_owner("pg_ctl").args(["-D"]).arg(&data).arg("status").output().is_ok_and(|o| o.status.success());
    if running {
        println!("  postgresql (test cluster on 127.0.0.1:{PORT}): running");
    } else {
        let options = format!("-p {PORT} -c listen_addresses=127.0.0.1 -k {} -c max_connections=300", data.display());
        exec(
            as_owner("pg_ctl")
                .args(["-D"])
                .arg(&data)
                .args(["-l"])
                .arg(data.join("server.log"))
                .args(["-o", &options, "-w", "-t", "60", "start"]),
        )?;
    }
    Ok(url)
}
