//! The binary: migrate, create-tenant, create-api-key, then serve on port 0.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_trustcap-verifier");

fn run(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env("TRUSTCAP_DATABASE_URL", format!("sqlite://{}", dir.join("cli.db").display()))
        .env("TRUSTCAP_SECRET_FILE", dir.join("secret.key"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn migrate_create_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["migrate"]);
    run(dir.path(), &["migrate"]);
    let tenant = run(dir.path(), &["create-tenant", "--name", "Acme Corp"]);
    assert!(tenant.starts_with("ten_") && tenant.len() == 30, "{tenant}");
    let api_key = run(dir.path(), &["create-api-key", "--tenant", &tenant]);
    assert!(api_key.starts_with("tck_") && api_key.len() == 56, "{api_key}");

    let bad = Command::new(BIN)
        .args(["create-api-key", "--tenant", "ten_aaaaaaaaaaaaaaaaaaaaaaaaaa"])
        .env("TRUSTCAP_DATABASE_URL", format!("sqlite://{}", dir.path().join("cli.db").display()))
        .env("TRUSTCAP_SECRET_FILE", dir.path().join("secret.key"))
        .output()
        .unwrap();
    assert!(!bad.status.success());

    // Flags instead of the environment for serve.
    let mut child = tokio::process::Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--token-ttl-secs", "60"])
        .arg("--database")
        .arg(format!("sqlite://{}", dir.path().join("cli.db").display()))
        .arg("--secret-file")
        .arg(dir.path().join("secret.key"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap().unwrap();
    let base = line.strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected line {line:?}")).to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let client = reqwest::Client::new();
    let health: Value = client.get(format!("{base}/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health, json!({"status": "ok"}));
    let resp = client.post(format!("{base}/v1/sessions")).bearer_auth(&api_key).json(&json!({})).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 201);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("secret.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    child.kill().await.unwrap();
}

#[test]
fn configuration_file_sets_defaults_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("verifier.conf");
    std::fs::write(
        &config,
        format!(
            "# TrustCap verifier\nTRUSTCAP_DATABASE_URL = sqlite://{}\nTRUSTCAP_SECRET_FILE = {}\n",
            dir.path().join("from-file.db").display(),
            dir.path().join("secret.key").display()
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--config"])
        .arg(&config)
        .arg("migrate")
        .env_remove("TRUSTCAP_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("from-file.db").exists());
    std::fs::write(&config, "TRUSTCAP_NOT_AN_OPTION = 1\n").unwrap();
    let out = Command::new(BIN).env("TRUSTCAP_CONFIG", &config).arg("migrate").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TRUSTCAP_NOT_AN_OPTION"));
}

#[test]
fn update_lists_records_a_new_list_set() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["migrate"]);
    let lists = dir.path().join("lists");
    std::fs::create_dir_all(lists.join("ftm_entities")).unwrap();
    let entity = json!({"id": "NK-1", "schema": "Person", "properties": {"name": ["Ivan Sidorov"]}});
    std::fs::write(lists.join("ftm_entities").join("entities.json"), format!("{entity}\n")).unwrap();
    let out = run(dir.path(), &["update-lists", "--dir", lists.to_str().unwrap()]);
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((summary["generation"].as_i64(), summary["entities"].as_i64()), (Some(1), Some(1)), "{summary}");
    assert_eq!(summary["cases_opened"], 0);
    // A folder without any list is refused, so a typo cannot empty the screening.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(BIN)
        .args(["update-lists", "--dir"])
        .arg(&empty)
        .env("TRUSTCAP_DATABASE_URL", format!("sqlite://{}", dir.path().join("cli.db").display()))
        .env("TRUSTCAP_SECRET_FILE", dir.path().join("secret.key"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no list found"));
}
