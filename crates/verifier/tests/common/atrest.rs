//! Encryption at rest, erasure, retention and KEK rotation scenarios, run against SQLite and
//! PostgreSQL. The raw-file scan (database file, WAL and image store, byte by byte) needs the
//! SQLite file; on PostgreSQL the same data is checked through SQL.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row as _;
use trustcap_protocol::Step;
use trustcap_verifier::clock::Clock as _;
use trustcap_verifier::domain::SessionId;
use trustcap_verifier::erasure;
use trustcap_verifier::storage::ImageStore;
use trustcap_verifier::vault::{self, KeyRing, Purpose, SessionVault, VaultError, WrappedKey};

use super::checks::write_lists;
use super::receiver::Receiver;
use super::*;

const GIVEN: &str = "Zephyrine Quillanova";
const FAMILY: &str = "Brightwater-Oduya";
const DOCUMENT_NUMBER: &str = "ZQ9081726";

/// What must never be found in plain form, lowercase (files are lowercased before the scan).
const NEEDLES: [&str; 4] = ["quillanova", "zephyrine", "brightwater", "zq9081726"];

fn applicant() -> Value {
    json!({"given_names": GIVEN, "family_name": FAMILY, "date_of_birth": "1979-04-05", "nationality": "FRA",
           "document_number": DOCUMENT_NUMBER, "address": "17 Quillanova Lane, Springfield"})
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The SQLite database file and its `-wal` and `-shm` companions (those that exist).
fn sqlite_files(app: &TestApp) -> Vec<PathBuf> {
    let path = app.db_url.strip_prefix("sqlite://").unwrap();
    ["", "-wal", "-shm"].iter().map(|s| PathBuf::from(format!("{path}{s}"))).filter(|p| p.exists()).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every `needle` found in `files` (raw bytes, case-insensitive for ASCII), as `(file, needle index)`.
fn scan(files: &[PathBuf], needles: &[Vec<u8>]) -> Vec<(PathBuf, usize)> {
    let mut found = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).unwrap().to_ascii_lowercase();
        for (i, n) in needles.iter().enumerate() {
            if contains(&bytes, &n.to_ascii_lowercase()) {
                found.push((file.clone(), i));
            }
        }
    }
    found
}

/// 64-byte runs of `image` at 8 places of its entropy-coded body.
fn image_windows(image: &[u8]) -> Vec<Vec<u8>> {
    (2..10).map(|i| image[image.len() * i / 12..][..64].to_vec()).collect()
}

async fn tenant_of(app: &TestApp, session: &str) -> String {
    sqlx::query_scalar("SELECT tenant_id FROM sessions WHERE id = $1")
        .bind(session)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn wrapped_key(app: &TestApp, session: &str) -> Option<WrappedKey> {
    let row = sqlx::query("SELECT kek_id, wrapped FROM session_keys WHERE session_id = $1")
        .bind(session)
        .fetch_optional(app.db.pool())
        .await
        .unwrap()?;
    Some(WrappedKey { kek_id: row.try_get("kek_id").unwrap(), blob: row.try_get("wrapped").unwrap() })
}

async fn delete(app: &TestApp, api_key: &str, id: &str) -> reqwest::Response {
    app.client.delete(app.url(&format!("/v1/sessions/{id}"))).bearer_auth(api_key).send().await.unwrap()
}

/// A full session with a distinctive applicant, a real JPEG in a local image store and a
/// screening hit quoting the name: nothing readable in the database file, its WAL or the
/// store; the API still shows the decrypted results. Then the erasure: 404 for another
/// tenant, idempotent, `session.erased` webhook, audit entry without PII, images deleted,
/// and the ciphertext copied before cannot be opened with any key the system still holds.
pub async fn sealed_session_then_erased(kind: DbKind) {
    let lists = tempfile::tempdir().unwrap();
    write_lists(lists.path(), &[("NK-7788", "Zephyrine Quillanova BRIGHTWATER-ODUYA", "1979-04-05", "fr")]);
    let store_dir = tempfile::tempdir().unwrap();
    let store_url = format!("file://{}", store_dir.path().join("images").display());
    let options = Spawn { kind, screening_lists: Some(lists.path().to_owned()), ..Spawn::default() };
    let app = spawn(options, |s| s.image_store = Some(store_url)).await;
    let receiver = Receiver::start().await;
    let (tenant, api_key) = app.tenant("Acme").await;
    let (_, other_key) = app.tenant("Other").await;
    app.set_webhook(&api_key, &receiver.url).await;
    let key = signing_key(61);

    let session = app.applicant_session(&api_key, &key, &["document_front"], applicant()).await;
    let image = good_document();
    assert_eq!(app.capture(&session, &key, Step::DocumentFront, &image).await.status(), StatusCode::CREATED);
    let view = app.wait_decided(&api_key, &session.id, 60).await;
    // The pipeline read the sealed applicant data and image: the screening hit and the
    // capture checks are there, decrypted for the tenant.
    let checks = view["checks"].as_array().unwrap();
    let screening = checks.iter().find(|c| c["name"] == "screening").expect("screening ran");
    assert!(!screening["details"]["hits"].as_array().unwrap().is_empty(), "{screening}");
    assert!(checks.iter().any(|c| c["name"] == "capture_quality" && c["outcome"] == "passed"), "{view}");
    assert_eq!(view["captures"][0]["images"][0]["byte_len"], image.len());

    // What is stored is sealed: the store holds only sealed blobs.
    let store_files = files_under(&store_dir.path().join("images"));
    assert!(!store_files.is_empty(), "the image went to the store");
    for f in &store_files {
        assert!(vault::is_sealed(&std::fs::read(f).unwrap()), "{} is not sealed", f.display());
    }
    let mut needles: Vec<Vec<u8>> = NEEDLES.iter().map(|n| n.as_bytes().to_vec()).collect();
    needles.extend(image_windows(&image));
    let mut files = store_files.clone();
    if kind == DbKind::Sqlite {
        let db_files = sqlite_files(&app);
        // The scanner works: the session id (not PII) is there in plain.
        let found = scan(&db_files, &[session.id.as_bytes().to_vec()]);
        assert!(!found.is_empty(), "the scan sees the session id in {db_files:?}");
        files.extend(db_files);
    }
    let found = scan(&files, &needles);
    assert!(found.is_empty(), "PII or image bytes in plain form: {found:?}");
    // Through SQL (both engines): no text column of the session quotes the applicant.
    for (table, columns) in [
        ("sessions", "applicant"),
        ("check_results", "details"),
        ("screening_records", "query || hits"),
        ("events", "payload"),
        ("audit_log", "details"),
    ] {
        let texts: Vec<String> =
            sqlx::query_scalar(&format!("SELECT {columns} FROM {table} WHERE {columns} IS NOT NULL"))
                .fetch_all(app.db.pool())
                .await
                .unwrap();
        for text in texts {
            let lower = text.to_lowercase();
            assert!(!NEEDLES.iter().any(|n| lower.contains(n)), "{table}.{columns} quotes the applicant");
        }
    }

    // Copies taken before the erasure (a backup, a copied bucket).
    let copies: Vec<Vec<u8>> = store_files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let sha = view["captures"][0]["images"][0]["sha256"].as_str().unwrap().to_owned();
    let sealed_applicant: String = sqlx::query_scalar("SELECT applicant FROM sessions WHERE id = $1")
        .bind(&session.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let wrapped_before = wrapped_key(&app, &session.id).await.expect("a data key");
    let vault_before = app.vault(&session.id).await;
    assert_eq!(vault_before.open(Purpose::CaptureImage(&sha), &copies[0]).unwrap(), image, "readable before");

    // Erasure: tenant-scoped, then idempotent.
    assert_error(delete(&app, &other_key, &session.id).await, 404, "not_found").await;
    assert_error(delete(&app, &api_key, "ses_doesnotexist").await, 404, "not_found").await;
    let resp = delete(&app, &api_key, &session.id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let first: Value = resp.json().await.unwrap();
    assert_eq!((first["state"].as_str(), first["already_erased"].as_bool()), (Some("erased"), Some(false)));
    let resp = delete(&app, &api_key, &session.id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let second: Value = resp.json().await.unwrap();
    assert_eq!(second["already_erased"], true);
    assert_eq!(second["erased_at"], first["erased_at"]);

    // The session reads as erased, without PII.
    let resp = app.get_session(&api_key, &session.id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    let erased: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((erased["state"].as_str(), erased["status"].as_str()), (Some("erased"), Some("erased")));
    assert_eq!(erased["checks"], json!([]));
    assert!(!NEEDLES.iter().any(|n| text.to_lowercase().contains(n)), "{text}");

    // The webhook.
    receiver.wait_for(30, "session.erased", |r| r.iter().any(|x| x.json()["type"] == "session.erased")).await;
    let event = receiver.accepted().into_iter().find(|x| x.json()["type"] == "session.erased").unwrap().json();
    assert_eq!(event["session_id"], session.id.as_str());
    assert_eq!((event["data"]["state"].as_str(), event["data"]["reason"].as_str()), (Some("erased"), Some("request")));
    let event_text = event.to_string().to_lowercase();
    assert!(!NEEDLES.iter().any(|n| event_text.contains(n)));

    // The audit chain still verifies; the erasure entry carries no PII.
    let report = trustcap_verifier::audit::verify(&app.db, app.db.audit_key().unwrap(), Some(&tenant)).await.unwrap();
    assert!(report.ok(), "{report:?}");
    let rows = sqlx::query("SELECT actor, details FROM audit_log WHERE action = 'session.erased' AND subject = $1")
        .bind(&session.id)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one erasure entry");
    let actor: String = rows[0].try_get("actor").unwrap();
    let details: String = rows[0].try_get("details").unwrap();
    assert_eq!(actor, "api");
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["data_key_destroyed"], true, "{details}");
    assert_eq!(details["reason"], "request");
    assert!(!NEEDLES.iter().any(|n| details.to_string().to_lowercase().contains(n)));

    // The images left the store (best effort) and the data key is gone...
    assert!(files_under(&store_dir.path().join("images")).is_empty(), "store objects deleted");
    assert!(wrapped_key(&app, &session.id).await.is_none());
    assert!(vault::keys::session_vault(&app.db, &tenant, &session.id).await.is_err(), "no vault after erasure");
    // ...so the copied ciphertext opens with no key the system still holds: every remaining
    // data key, unwrapped with every configured KEK, fails on it.
    let ring = app.db.keyring().unwrap();
    let remaining = sqlx::query("SELECT session_id, tenant_id, kek_id, wrapped FROM session_keys")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    for row in &remaining {
        let owner: String = row.try_get("session_id").unwrap();
        let owner_tenant: String = row.try_get("tenant_id").unwrap();
        let wrapped = WrappedKey { kek_id: row.try_get("kek_id").unwrap(), blob: row.try_get("wrapped").unwrap() };
        let key = ring.unwrap_key(&owner_tenant, &owner, &wrapped).unwrap();
        let as_erased = SessionVault::new(&tenant, &session.id, &key);
        for copy in &copies {
            assert_eq!(as_erased.open(Purpose::CaptureImage(&sha), copy), Err(VaultError::Decrypt));
        }
        assert!(as_erased.open_text(Purpose::Applicant, &sealed_applicant).is_err());
    }
    if kind == DbKind::Sqlite {
        // The wrapped key no longer exists anywhere in the database files (overwritten,
        // secure_delete, WAL checkpointed).
        let found = scan(&sqlite_files(&app), std::slice::from_ref(&wrapped_before.blob));
        assert!(found.is_empty(), "the destroyed data key lingers in {found:?}");
    }
}

async fn state_of(app: &TestApp, api_key: &str, id: &str) -> String {
    app.get_session(api_key, id).await.json::<Value>().await.unwrap()["state"].as_str().unwrap().to_owned()
}

/// A retention period erases a tenant's old sessions through the background job (fake
/// clock), like the endpoint but with the actor `system`; newer sessions and tenants without
/// retention are kept.
pub async fn retention_job(kind: DbKind) {
    let app = spawn(Spawn { kind, manual_clock: true, ..Spawn::default() }, |_| {}).await;
    let clock = app.clock.clone().unwrap();
    let receiver = Receiver::start().await;
    let (_, key_a) = app.tenant("Keeps 30 days").await;
    let (_, key_b) = app.tenant("Keeps everything").await;
    app.set_webhook(&key_a, &receiver.url).await;
    let put = |key: &str, body: Value| app.client.put(app.url("/v1/retention")).bearer_auth(key).json(&body).send();
    assert_error(put(&key_a, json!({"days": 0})).await.unwrap(), 400, "invalid_request").await;
    let resp = put(&key_a, json!({"days": 30})).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let got: Value =
        app.client.get(app.url("/v1/retention")).bearer_auth(&key_a).send().await.unwrap().json().await.unwrap();
    assert_eq!(got, json!({"days": 30}));
    let got: Value =
        app.client.get(app.url("/v1/retention")).bearer_auth(&key_b).send().await.unwrap().json().await.unwrap();
    assert_eq!(got, json!({"days": null}));

    let old_a = app.post_session(&key_a, json!({"applicant": applicant()})).await.json::<Value>().await.unwrap();
    let old_b = app.post_session(&key_b, json!({"applicant": applicant()})).await.json::<Value>().await.unwrap();
    clock.advance(20 * 86_400);
    let new_a = app.post_session(&key_a, json!({"applicant": applicant()})).await.json::<Value>().await.unwrap();
    let (old_a, old_b, new_a) = (
        old_a["session_id"].as_str().unwrap(),
        old_b["session_id"].as_str().unwrap(),
        new_a["session_id"].as_str().unwrap(),
    );
    clock.advance(11 * 86_400);

    // The workers' sweep erases the 31-day-old session only.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let view: Value = app.get_session(&key_a, old_a).await.json().await.unwrap();
        if view["state"] == "erased" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not erased by the retention job: {view}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state_of(&app, &key_a, new_a).await, "expired");
    assert_eq!(state_of(&app, &key_b, old_b).await, "expired");
    assert!(wrapped_key(&app, new_a).await.is_some() && wrapped_key(&app, old_b).await.is_some());
    assert!(wrapped_key(&app, old_a).await.is_none());
    let (actor, details): (String, String) =
        sqlx::query_as("SELECT actor, details FROM audit_log WHERE action = 'session.erased' AND subject = $1")
            .bind(old_a)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(actor, "system");
    assert_eq!(serde_json::from_str::<Value>(&details).unwrap()["reason"], "retention");
    receiver
        .wait_for(30, "session.erased", |r| {
            r.iter().any(|x| x.json()["type"] == "session.erased" && x.json()["data"]["reason"] == "retention")
        })
        .await;
    // Nothing more is due: a direct sweep erases nothing.
    assert_eq!(erasure::sweep(&app.db, &ImageStore::in_database(), clock.now(), 100).await.unwrap(), 0);
    // Clearing the period keeps the rest.
    assert_eq!(put(&key_a, json!({"days": null})).await.unwrap().status(), StatusCode::OK);
    clock.advance(365 * 86_400);
    assert_eq!(erasure::sweep(&app.db, &ImageStore::in_database(), clock.now(), 100).await.unwrap(), 0);
}

/// A blob moved to another session (or a data key moved to another row) does not open:
/// a typed [`VaultError::Decrypt`].
pub async fn tampering(kind: DbKind) {
    let app = spawn(Spawn { kind, ..Spawn::default() }, |_| {}).await;
    let (tenant, api_key) = app.tenant("Acme").await;
    let key = signing_key(62);
    let mut rows = Vec::new();
    for _ in 0..2 {
        let session = app.applicant_session(&api_key, &key, &["document_front"], applicant()).await;
        assert_eq!(
            app.capture(&session, &key, Step::DocumentFront, &jpeg(WIDTH, HEIGHT)).await.status(),
            StatusCode::CREATED
        );
        let (data, sha): (Vec<u8>, String) = sqlx::query_as(
            "SELECT i.data, i.sha256 FROM capture_images i JOIN captures c ON c.id = i.capture_id WHERE c.session_id = $1",
        )
        .bind(&session.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        rows.push((session.id, data, sha));
    }
    let (a, b) = (&rows[0], &rows[1]);
    let (vault_a, vault_b) = (app.vault(&a.0).await, app.vault(&b.0).await);
    assert!(vault_a.open(Purpose::CaptureImage(&a.2), &a.1).is_ok());
    // Session A's image in B's row: B's key and binding refuse it.
    assert_eq!(vault_b.open(Purpose::CaptureImage(&b.2), &a.1), Err(VaultError::Decrypt));
    assert_eq!(vault_b.open(Purpose::CaptureImage(&a.2), &a.1), Err(VaultError::Decrypt));
    // Swap the sealed applicant data in the database: B's record no longer opens.
    sqlx::query("UPDATE sessions SET applicant = (SELECT applicant FROM sessions WHERE id = $1) WHERE id = $2")
        .bind(&a.0)
        .bind(&b.0)
        .execute(app.db.pool())
        .await
        .unwrap();
    let record = db::get_session(&app.db, &SessionId::parse(&b.0).unwrap(), &tenant).await.unwrap().unwrap();
    assert_eq!(record.applicant(&vault_b), Err(VaultError::Decrypt));
    // A's wrapped data key copied to B does not unwrap for B.
    let wrapped_a = wrapped_key(&app, &a.0).await.unwrap();
    assert_eq!(app.db.keyring().unwrap().vault(&tenant, &b.0, &wrapped_a).unwrap_err(), VaultError::Decrypt);
    // The same key copied inside its own session, but as another tenant's: refused too.
    assert_eq!(app.db.keyring().unwrap().vault("ten_other", &a.0, &wrapped_a).unwrap_err(), VaultError::Decrypt);
}

fn ring(keys: &[(&str, u8)]) -> KeyRing {
    KeyRing::new(keys.iter().map(|(id, b)| ((*id).to_owned(), [*b; 32])).collect()).unwrap()
}

/// KEK rotation: sessions sealed under `k1`; `rotate` re-wraps every data key under `k2` in
/// batches (idempotent); with `k1` removed from the configuration everything still opens.
pub async fn kek_rotation(kind: DbKind) {
    let app = spawn(Spawn { kind, keyring: Some(ring(&[("k1", 1)])), ..Spawn::default() }, |_| {}).await;
    let (tenant, api_key) = app.tenant("Acme").await;
    let key = signing_key(63);
    let image = jpeg(WIDTH, HEIGHT);
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let session = app.applicant_session(&api_key, &key, &["document_front"], applicant()).await;
        assert_eq!(app.capture(&session, &key, Step::DocumentFront, &image).await.status(), StatusCode::CREATED);
        app.wait_decided(&api_key, &session.id, 60).await;
        sessions.push(session.id);
    }
    let k2_only = app.db.clone().with_keyring(ring(&[("k2", 2)]));
    let err = vault::keys::session_vault(&k2_only, &tenant, &sessions[0]).await.unwrap_err();
    assert!(err.to_string().contains("k1"), "{err}");

    let both = app.db.clone().with_keyring(ring(&[("k2", 2), ("k1", 1)]));
    let summary = vault::keys::rotate(&both, 2, now_secs()).await.unwrap();
    assert_eq!((summary.kek_id.as_str(), summary.rewrapped, summary.already_current), ("k2", 3, 0));
    let again = vault::keys::rotate(&both, 2, now_secs()).await.unwrap();
    assert_eq!((again.rewrapped, again.already_current), (0, 3), "idempotent");

    for id in &sessions {
        let vault = vault::keys::session_vault(&k2_only, &tenant, id).await.unwrap();
        let record = db::get_session(&k2_only, &SessionId::parse(id).unwrap(), &tenant).await.unwrap().unwrap();
        let applicant_text = record.applicant(&vault).unwrap().unwrap();
        assert_eq!(serde_json::from_str::<Value>(&applicant_text).unwrap(), applicant());
        let (data, sha): (Vec<u8>, String) = sqlx::query_as(
            "SELECT i.data, i.sha256 FROM capture_images i JOIN captures c ON c.id = i.capture_id WHERE c.session_id = $1",
        )
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        assert_eq!(vault.open(Purpose::CaptureImage(&sha), &data).unwrap(), image);
    }
    // The old KEK alone no longer unwraps anything.
    let k1_only = app.db.clone().with_keyring(ring(&[("k1", 1)]));
    assert!(vault::keys::session_vault(&k1_only, &tenant, &sessions[0]).await.is_err());

    if kind == DbKind::Sqlite {
        // The command line does the same: k3 wraps, k2 unwraps.
        use base64::Engine as _;
        let b64 = |b: u8| base64::engine::general_purpose::STANDARD.encode([b; 32]);
        let run = || {
            std::process::Command::new(env!("CARGO_BIN_EXE_trustcap-verifier"))
                .args(["rotate-kek", "--batch", "2"])
                .env("TRUSTCAP_DATABASE_URL", &app.db_url)
                .env("TRUSTCAP_SECRET_FILE", app.dir.path().join("secret.key"))
                .env("TRUSTCAP_KEK", format!("k3:{},k2:{}", b64(3), b64(2)))
                .env("RUST_LOG", "error")
                .output()
                .unwrap()
        };
        let out = run();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((summary["kek_id"].as_str(), summary["rewrapped"].as_u64()), (Some("k3"), Some(3)), "{summary}");
        let again: Value = serde_json::from_slice(&run().stdout).unwrap();
        assert_eq!(again["rewrapped"], 0);
        let k3_only = app.db.clone().with_keyring(ring(&[("k3", 3)]));
        assert!(vault::keys::session_vault(&k3_only, &tenant, &sessions[2]).await.is_ok());
        // A production configuration without a KEK is refused.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_trustcap-verifier"))
            .arg("rotate-kek")
            .env("TRUSTCAP_DATABASE_URL", &app.db_url)
            .env("TRUSTCAP_SECRET_FILE", app.dir.path().join("secret.key"))
            .env("TRUSTCAP_REQUIRE_KEK", "true")
            .env_remove("TRUSTCAP_KEK")
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("TRUSTCAP_KEK"));
    }
}
