//! Crash safety: the verifier process is killed with SIGKILL while pipeline jobs and
//! webhook deliveries are in flight; after a restart every job completes and every event
//! is delivered, never with different content for the same event id.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::Duration;

use common::receiver::{self, Receiver};
use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use trustcap_protocol::Step;
use trustcap_verifier::{db, load_or_create_secret};

const BIN: &str = env!("CARGO_BIN_EXE_trustcap-verifier");
const SESSIONS: usize = 12;

async fn start(dir: &std::path::Path, url: &str) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--poll-ms",
            "20",
            "--job-lease-secs",
            "2",
            "--webhook-timeout-secs",
            "2",
            // The capture checks only: this test is about the queue, not the model checks.
            "--checks",
            "capture_quality,capture_integrity",
        ])
        .env("TRUSTCAP_DATABASE_URL", url)
        .env("TRUSTCAP_SECRET_FILE", dir.join("secret.key"))
        .env("TRUSTCAP_WEBHOOKS_ALLOW_HTTP", "true")
        .env("TRUSTCAP_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await.unwrap().unwrap().unwrap();
    let base = line.strip_prefix("listening on ").unwrap().to_owned();
    (child, base)
}

async fn crash_and_recover(kind: DbKind) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(kind, dir.path()).await;
    let secret = load_or_create_secret(&dir.path().join("secret.key")).unwrap();
    let pool = db::connect(&url).await.unwrap().with_audit_key(secret.audit_key());
    db::migrate(&pool).await.unwrap();
    let tenant = db::create_tenant(&pool, "crash", 1).await.unwrap();
    let api_key = db::create_api_key(&pool, &tenant, 1).await.unwrap().expose_secret().to_owned();

    let receiver = Receiver::start().await;
    // Slow answers keep deliveries in flight when the process dies.
    receiver.set_mode(receiver::OK);
    let (mut child, base) = start(dir.path(), &url).await;
    let http = reqwest::Client::new();
    let resp = http
        .put(format!("{base}/v1/webhook"))
        .bearer_auth(&api_key)
        .json(&serde_json::json!({"url": receiver.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let key = signing_key(31);
    let image = good_document();
    // Watch for a job held by a worker (in flight) from the start: the capture checks are quick, so
    // on a fast machine every job could finish between two uploads and a check after the uploads would
    // never see one in flight.
    let in_flight = {
        let pool = pool.clone();
        tokio::spawn(async move {
            loop {
                let leased: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND lease_until IS NOT NULL")
                        .fetch_one(pool.pool())
                        .await
                        .unwrap();
                if leased > 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let mut ids = Vec::new();
    for _ in 0..SESSIONS {
        if in_flight.is_finished() {
            break; // kill now, below, while that job is held
        }
        let created: Value = http
            .post(format!("{base}/v1/sessions"))
            .bearer_auth(&api_key)
            .json(&serde_json::json!({"steps": ["document_front"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = Session {
            id: created["session_id"].as_str().unwrap().to_owned(),
            token: created["client_token"].as_str().unwrap().to_owned(),
        };
        let resp = http
            .post(format!("{base}/v1/client/key"))
            .bearer_auth(&session.token)
            .json(&serde_json::json!({"public_key": key.public_key().to_base64()}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let nonce: Value = http
            .post(format!("{base}/v1/client/nonce"))
            .bearer_auth(&session.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let part = trustcap_protocol::ImagePart {
            name: "document_front",
            content_type: "image/jpeg",
            width: WIDTH,
            height: HEIGHT,
            bytes: &image,
        };
        let payload = trustcap_protocol::seal(
            draft(&session.id, nonce["nonce"].as_str().unwrap(), Step::DocumentFront),
            &[part],
            &key,
        )
        .unwrap();
        let resp = http
            .post(format!("{base}/v1/client/captures"))
            .bearer_auth(&session.token)
            .header("content-type", trustcap_protocol::CONTENT_TYPE)
            .body(payload)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        ids.push(session.id);
    }

    // Kill as soon as a job is held by a worker (in flight).
    tokio::time::timeout(Duration::from_secs(60), in_flight).await.expect("no job was ever in flight").unwrap();
    child.start_kill().unwrap(); // SIGKILL
    child.wait().await.unwrap();
    let unfinished: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'queued'").fetch_one(pool.pool()).await.unwrap();
    assert!(unfinished > 0, "the kill must interrupt work");

    let (mut child, base) = start(dir.path(), &url).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'queued'")
            .fetch_one(pool.pool())
            .await
            .unwrap();
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered'")
            .fetch_one(pool.pool())
            .await
            .unwrap();
        if queued == 0 && pending == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{queued} jobs and {pending} deliveries left");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for id in &ids {
        let view: Value = http
            .get(format!("{base}/v1/sessions/{id}"))
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(view["state"], "approved", "{view}");
    }
    // Every stored event reached the receiver; one body per event id.
    let events: Vec<String> = sqlx::query_scalar("SELECT id FROM events").fetch_all(pool.pool()).await.unwrap();
    assert_eq!(events.len(), ids.len() * 3);
    let mut bodies: BTreeMap<String, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for r in receiver.accepted() {
        bodies.entry(r.json()["id"].as_str().unwrap().to_owned()).or_default().insert(r.body.clone());
    }
    for id in &events {
        let seen = bodies.get(id).unwrap_or_else(|| panic!("event {id} never delivered"));
        assert_eq!(seen.len(), 1, "event {id} was delivered with different contents");
    }
    // In order per session.
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for r in receiver.accepted() {
        let v = r.json();
        let seq = v["sequence"].as_i64().unwrap();
        let prev = last.insert(v["session_id"].as_str().unwrap().to_owned(), seq).unwrap_or(0);
        assert!(seq == prev + 1 || seq <= prev, "out of order: {seq} after {prev}");
    }
    // The kill left no half-written audit entry: every chain is intact, and each session's
    // three state changes are recorded once.
    let report = trustcap_verifier::audit::verify(&pool, &secret.audit_key(), None).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let transitions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'session.transition'")
        .fetch_one(pool.pool())
        .await
        .unwrap();
    assert_eq!(transitions, (ids.len() * 3) as i64);
    child.start_kill().unwrap();
    let _ = child.wait().await;
}

#[tokio::test]
async fn sigkill_with_jobs_in_flight_sqlite() {
    crash_and_recover(DbKind::Sqlite).await;
}

#[tokio::test]
async fn sigkill_with_jobs_in_flight_postgres() {
    if postgres_base_url().is_none() {
        eprintln!("SKIPPED sigkill_with_jobs_in_flight_postgres: TRUSTCAP_TEST_POSTGRES_URL is not set");
        return;
    }
    crash_and_recover(DbKind::Postgres).await;
}
