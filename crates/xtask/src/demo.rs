//! `cargo xtask demo`: the verifier on an embedded SQLite file plus the demo onboarding
//! page and its demo backend (which holds the API key, as a customer backend would).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::setup::{self, Needs};
use crate::util::{self, exec, output, step};

struct Options {
    verifier_port: u16,
    demo_port: u16,
    check: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut opts = Options { verifier_port: 8080, demo_port: 8000, check: false };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut port = |name: &str| -> Result<u16, String> {
            it.next().and_then(|v| v.parse().ok()).ok_or_else(|| format!("{name} needs a port number"))
        };
        match arg.as_str() {
            "--verifier-port" => opts.verifier_port = port("--verifier-port")?,
            "--demo-port" => opts.demo_port = port("--demo-port")?,
            "--check" => opts.check = true,
            other => return Err(format!("unknown demo option `{other}`")),
        }
    }
    Ok(opts)
}

/// Kills a child process when dropped.
struct Service {
    name: &'static str,
    child: Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        println!("  stopped {}", self.name);
    }
}

/// Spawns a service and waits for the line on stdout that starts with `ready_prefix`;
/// returns the rest of that line (its URL). Later output is echoed.
fn spawn(name: &'static str, cmd: &mut Command, ready_prefix: &'static str) -> Result<(Service, String), String> {
    let mut child = cmd.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start {name}: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let service = Service { name, child };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            match line.strip_prefix(ready_prefix) {
                Some(url) if tx.is_some() => {
                    let _ = tx.take().expect("checked").send(url.trim().to_owned());
                }
                _ => println!("  [{name}] {line}"),
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(60)).map_err(|_| format!("{name} did not start within 60 s"))?;
    Ok((service, url))
}

/// The verifier binary built by the dev profile (dependencies optimised).
pub fn build_verifier() -> Result<PathBuf, String> {
    step("building the verifier");
    exec(util::cargo().args(["build", "--package", "trustcap-verifier", "--bin", "trustcap-verifier"]))?;
    Ok(util::target_dir().join("debug/trustcap-verifier"))
}

/// Runs the demo until interrupted (or, with `--check`, starts it, makes one session
/// through the demo backend and stops).
pub fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    setup::run(Needs { wasm: true, browser: false, node: true, models: true })?;
    let pkg = crate::sdk::build()?;
    let verifier = build_verifier()?;

    let data = util::root().join(".trustcap/demo");
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let db = format!("sqlite://{}?mode=rwc", data.join("trustcap.db").display());
    let secret = data.join("secret.key");
    let cli = |args: &[&str]| -> Result<String, String> {
        output(Command::new(&verifier).args(["--database", &db, "--secret-file"]).arg(&secret).args(args))
    };
    step("verifier: migrate, demo tenant, API key");
    cli(&["migrate"])?;
    let tenant_file = data.join("tenant_id");
    let tenant = match std::fs::read_to_string(&tenant_file) {
        Ok(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => {
            let id = last_line(&cli(&["create-tenant", "--name", "Demo tenant"])?);
            std::fs::write(&tenant_file, &id).map_err(|e| e.to_string())?;
            id
        }
    };
    let api_key = last_line(&cli(&["create-api-key", "--tenant", &tenant])?);

    let port = |p: u16| if opts.check { 0 } else { p };
    let (_verifier, verifier_url) = spawn(
        "verifier",
        Command::new(&verifier).args(["--database", &db, "--secret-file"]).arg(&secret).args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{}", port(opts.verifier_port)),
        ]),
        "listening on ",
    )?;
    let (_demo, demo_url) = spawn(
        "demo backend",
        Command::new("node")
            .arg(util::root().join("web-demo/server.mjs"))
            .env("PORT", port(opts.demo_port).to_string())
            .env("TRUSTCAP_VERIFIER_URL", &verifier_url)
            .env("TRUSTCAP_API_KEY", &api_key)
            .env("TRUSTCAP_SDK_DIR", &pkg),
        "demo listening on ",
    )?;
    println!("\n  verifier: {verifier_url}  (SQLite: {})", data.join("trustcap.db").display());
    println!("  demo:     {demo_url}\n");
    if opts.check {
        return check(&demo_url);
    }
    println!("  Open {demo_url} in a browser with a camera and hold an ID card in view. Ctrl-C stops.");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn last_line(text: &str) -> String {
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().trim().to_owned()
}

/// Smoke check: the page is served and the demo backend can create a session.
fn check(demo_url: &str) -> Result<(), String> {
    let page = http(demo_url, "GET", "/", "")?;
    if !page.contains("<html") {
        return Err("the demo page was not served".into());
    }
    let session = http(demo_url, "POST", "/api/session", "{}")?;
    if !session.contains("client_token") {
        return Err(format!("the demo backend did not create a session: {session}"));
    }
    println!("  demo check: page served, session created through the demo backend");
    Ok(())
}

/// A minimal HTTP/1.1 client for loopback checks.
fn http(base: &str, method: &str, path: &str, body: &str) -> Result<String, String> {
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).map_err(|e| format!("{host}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
    if !response.starts_with("HTTP/1.1 2") {
        return Err(format!("{method} {path}: {}", response.lines().next().unwrap_or("no response")));
    }
    Ok(response)
}
