//! Shared helpers: a real server on 127.0.0.1:0 over a temporary SQLite file (or a fresh
//! PostgreSQL database), real sealed uploads, and a real webhook receiver.

#![allow(dead_code)]

pub mod atrest;
pub mod audit;
pub mod checks;
pub mod receiver;
pub mod scenarios;

use std::collections::BTreeMap;
use std::io::Cursor;

use image::{ImageFormat, RgbImage};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use trustcap_protocol::{CaptureSigningKey, DeviceInfo, ImagePart, ManifestDraft, SdkInfo, Step, TokenKey, seal};
use trustcap_verifier::checks::CheckRegistry;
use trustcap_verifier::checks::screening::ScreeningCheck;
use trustcap_verifier::clock::{ManualClock, SharedClock, SystemClock};
use trustcap_verifier::db::{self, Db};
use trustcap_verifier::screening::ScreeningLists;
use trustcap_verifier::time::now_secs;
use trustcap_verifier::{Application, ServeArgs, Services, load_or_create_secret};

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 360;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub db_url: String,
    pub secret: [u8; 32],
    pub dir: tempfile::TempDir,
    pub clock: Option<ManualClock>,
    _shutdown: oneshot::Sender<()>,
}

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server for tests, from `TRUSTCAP_TEST_POSTGRES_URL` (`cargo xtask test`
/// starts one and sets it). `None`: PostgreSQL tests say they are skipped.
pub fn postgres_base_url() -> Option<String> {
    std::env::var("TRUSTCAP_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

/// Whether the PostgreSQL test `name` must be skipped (no server configured); says so on stderr.
pub fn postgres_skipped(name: &str) -> bool {
    if postgres_base_url().is_none() {
        eprintln!("SKIPPED {name}: TRUSTCAP_TEST_POSTGRES_URL is not set (cargo xtask test sets it)");
        return true;
    }
    false
}

/// A fresh, empty database of `kind`: a file in `dir`, or a new PostgreSQL database.
pub async fn fresh_database_url(kind: DbKind, dir: &std::path::Path) -> String {
    match kind {
        DbKind::Sqlite => format!("sqlite://{}", dir.join("test.db").display()),
        DbKind::Postgres => {
            use sqlx::Connection as _;
            let base = postgres_base_url().expect("TRUSTCAP_TEST_POSTGRES_URL");
            sqlx::any::install_default_drivers();
            let name =
                format!("tc_{}", trustcap_verifier::domain::JobId::generate().as_str().trim_start_matches("job_"));
            let mut conn = sqlx::AnyConnection::connect(&base).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            let query = base.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
            format!("{prefix}/{name}{query}")
        }
    }
}

/// Options of [`spawn`].
pub struct Spawn {
    pub kind: DbKind,
    pub manual_clock: bool,
    pub registry: CheckRegistry,
    /// Screening lists folder: the `screening` check and `POST /v1/screenings` over it.
    pub screening_lists: Option<std::path::PathBuf>,
    /// The `document` check over this OCR engine.
    pub document: Option<trustcap_verifier::checks::document::DocumentEngine>,
    /// The KEKs (default: the development KEK derived from the secret).
    pub keyring: Option<trustcap_verifier::vault::KeyRing>,
}

impl Default for Spawn {
    fn default() -> Self {
        Self {
            kind: DbKind::Sqlite,
            manual_clock: false,
            registry: CheckRegistry::builtin(),
            screening_lists: None,
            document: None,
            keyring: None,
        }
    }
}

pub struct Session {
    pub id: String,
    pub token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
    spawn(Spawn::default(), tweak).await
}

pub async fn spawn(options: Spawn, tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(options.kind, dir.path()).await;
    let db = db::connect(&url).await.unwrap();
    db::migrate(&db).await.unwrap();
    let secret_path = dir.path().join("secret.key");
    let key = load_or_create_secret(&secret_path).unwrap();
    let db = db.with_audit_key(key.audit_key()).with_keyring(match options.keyring {
        Some(ring) => ring,
        None => key.keyring(None, false).unwrap(),
    });
    let secret: [u8; 32] = std::fs::read(&secret_path).unwrap().try_into().unwrap();
    // Local receivers listen on http://127.0.0.1: allow them (the default blocks both).
    let mut settings = ServeArgs {
        bind: "127.0.0.1:0".parse().unwrap(),
        poll_ms: 20,
        webhooks_allow_http: true,
        webhooks_allow_private_networks: true,
        ..ServeArgs::default()
    };
    tweak(&mut settings);
    let manual = options.manual_clock.then(ManualClock::new);
    let clock: SharedClock = match &manual {
        Some(c) => std::sync::Arc::new(c.clone()),
        None => std::sync::Arc::new(SystemClock),
    };
    let mut registry = options.registry;
    let mut screening = None;
    if let Some(dir) = &options.screening_lists {
        let lists = std::sync::Arc::new(ScreeningLists::start(db.clone(), Some(dir)).await.unwrap());
        registry.register(std::sync::Arc::new(ScreeningCheck::new(lists.clone())));
        screening = Some(lists);
    }
    if let Some(engine) = options.document {
        registry.register(std::sync::Arc::new(engine.with_db(db.clone())));
    }
    let services = Services { registry, screening };
    let app = Application::build_full(db.clone(), key, settings, clock, services).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(app.run_with_shutdown(async {
        let _ = rx.await;
    }));
    TestApp { base, client: reqwest::Client::new(), db, db_url: url, secret, dir, clock: manual, _shutdown: tx }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn token_key(&self) -> TokenKey {
        TokenKey::new(self.secret)
    }

    /// A tenant and one API key for it.
    pub async fn tenant(&self, name: &str) -> (String, String) {
        let tenant = db::create_tenant(&self.db, name, now_secs()).await.unwrap();
        let key = db::create_api_key(&self.db, &tenant, now_secs()).await.unwrap();
        (tenant.to_string(), key.expose_secret().to_owned())
    }

    pub async fn post_session(&self, api_key: &str, body: Value) -> reqwest::Response {
        self.client.post(self.url("/v1/sessions")).bearer_auth(api_key).json(&body).send().await.unwrap()
    }

    pub async fn session(&self, api_key: &str, steps: &[&str]) -> Session {
        let resp = self.post_session(api_key, json!({"steps": steps, "reference": "case-1"})).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: Value = resp.json().await.unwrap();
        Session {
            id: body["session_id"].as_str().unwrap().to_owned(),
            token: body["client_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn get_session(&self, api_key: &str, id: &str) -> reqwest::Response {
        self.client.get(self.url(&format!("/v1/sessions/{id}"))).bearer_auth(api_key).send().await.unwrap()
    }

    pub async fn register_key(&self, token: &str, key: &CaptureSigningKey) -> reqwest::Response {
        self.client
            .post(self.url("/v1/client/key"))
            .bearer_auth(token)
            .json(&json!({"public_key": key.public_key().to_base64()}))
            .send()
            .await
            .unwrap()
    }

    pub async fn nonce(&self, token: &str) -> String {
        let resp = self.client.post(self.url("/v1/client/nonce")).bearer_auth(token).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: Value = resp.json().await.unwrap();
        assert!(body["expires_at"].as_i64().unwrap() > now_secs());
        body["nonce"].as_str().unwrap().to_owned()
    }

    pub async fn upload(&self, token: &str, payload: Vec<u8>) -> reqwest::Response {
        self.client
            .post(self.url("/v1/client/captures"))
            .bearer_auth(token)
            .header("content-type", trustcap_protocol::CONTENT_TYPE)
            .body(payload)
            .send()
            .await
            .unwrap()
    }

    /// The vault of a session (its data key unwrapped with the app's KEKs).
    pub async fn vault(&self, session_id: &str) -> trustcap_verifier::vault::SessionVault {
        let tenant: String = sqlx::query_scalar("SELECT tenant_id FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_one(self.db.pool())
            .await
            .unwrap();
        trustcap_verifier::vault::keys::session_vault(&self.db, &tenant, session_id).await.unwrap()
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(self.db.pool()).await.unwrap()
    }

    /// A session with a registered key, ready to upload.
    pub async fn ready_session(&self, api_key: &str, key: &CaptureSigningKey) -> Session {
        let session = self.session(api_key, &["document_front"]).await;
        assert_eq!(self.register_key(&session.token, key).await.status(), StatusCode::CREATED);
        session
    }
}

impl TestApp {
    /// Fetches a nonce, seals one image for `step` and uploads it.
    pub async fn capture(
        &self,
        session: &Session,
        key: &CaptureSigningKey,
        step: Step,
        image: &[u8],
    ) -> reqwest::Response {
        let nonce = self.nonce(&session.token).await;
        let part =
            ImagePart { name: step.as_str(), content_type: "image/jpeg", width: WIDTH, height: HEIGHT, bytes: image };
        let payload = seal(draft(&session.id, &nonce, step), &[part], key).unwrap();
        self.upload(&session.token, payload).await
    }

    /// Like [`TestApp::capture`] for an image of any size.
    pub async fn capture_sized(
        &self,
        session: &Session,
        key: &CaptureSigningKey,
        step: Step,
        image: &[u8],
        (width, height): (u32, u32),
    ) -> reqwest::Response {
        let nonce = self.nonce(&session.token).await;
        let part = ImagePart { name: step.as_str(), content_type: "image/jpeg", width, height, bytes: image };
        let payload = seal(draft(&session.id, &nonce, step), &[part], key).unwrap();
        self.upload(&session.token, payload).await
    }

    /// A session with these steps and applicant data, with a registered key.
    pub async fn applicant_session(
        &self,
        api_key: &str,
        key: &CaptureSigningKey,
        steps: &[&str],
        applicant: Value,
    ) -> Session {
        let resp =
            self.post_session(api_key, json!({"steps": steps, "reference": "case-2", "applicant": applicant})).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: Value = resp.json().await.unwrap();
        let session = Session {
            id: body["session_id"].as_str().unwrap().to_owned(),
            token: body["client_token"].as_str().unwrap().to_owned(),
        };
        assert_eq!(self.register_key(&session.token, key).await.status(), StatusCode::CREATED);
        session
    }

    /// Stores `rules` as the tenant's next rule set.
    pub async fn put_rules(&self, api_key: &str, rules: &Value) {
        let resp = self.client.put(self.url("/v1/rules")).bearer_auth(api_key).json(rules).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED, "{}", resp.text().await.unwrap());
    }

    /// Polls `GET /v1/sessions/{id}` (with `If-None-Match`) until `state` is final or
    /// `resubmission_requested`, for at most `secs`; returns the body.
    pub async fn wait_decided(&self, api_key: &str, id: &str, secs: u64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        let mut etag: Option<String> = None;
        let mut last = Value::Null;
        loop {
            let mut req = self.client.get(self.url(&format!("/v1/sessions/{id}"))).bearer_auth(api_key);
            if let Some(tag) = &etag {
                req = req.header("if-none-match", tag);
            }
            let resp = req.send().await.unwrap();
            if resp.status() == StatusCode::OK {
                etag = resp.headers().get("etag").map(|v| v.to_str().unwrap().to_owned());
                last = resp.json().await.unwrap();
                let state = last["state"].as_str().unwrap_or("");
                if matches!(state, "approved" | "declined" | "review" | "resubmission_requested" | "expired") {
                    return last;
                }
            } else {
                assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
            }
            assert!(std::time::Instant::now() < deadline, "session {id} not decided in {secs}s: {last}");
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// Sets the tenant's webhook endpoint; returns the secret.
    pub async fn set_webhook(&self, api_key: &str, url: &str) -> String {
        let resp = self
            .client
            .put(self.url("/v1/webhook"))
            .bearer_auth(api_key)
            .json(&json!({"url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned()
    }
}

/// A JPEG of a synthetic, sharp, well-lit document that passes the quality checks.
pub fn good_document() -> Vec<u8> {
    let mut rgba = trustcap_vision::synth::document_scene(WIDTH, HEIGHT, 11);
    trustcap_vision::synth::add_noise_rgba(&mut rgba, 501, 2);
    rgba_jpeg(&rgba)
}

/// The same document, heavily blurred: fails the quality checks.
pub fn blurred_document() -> Vec<u8> {
    let mut rgba = trustcap_vision::synth::document_scene(WIDTH, HEIGHT, 11);
    trustcap_vision::synth::gaussian_blur_rgba(&mut rgba, WIDTH, HEIGHT, 6.0);
    rgba_jpeg(&rgba)
}

fn rgba_jpeg(rgba: &[u8]) -> Vec<u8> {
    let image = image::RgbaImage::from_raw(WIDTH, HEIGHT, rgba.to_vec()).unwrap();
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(image).to_rgb8().write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// Asserts a JSON error with this status and stable code (never a 500).
pub async fn assert_error(resp: reqwest::Response, status: u16, code: &str) -> Value {
    let got = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let body = resp.text().await.unwrap();
    assert_eq!((got, content_type.as_deref()), (status, Some("application/json")), "body: {body}");
    let value: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["error"]["code"], code, "body: {body}");
    assert!(value["error"]["message"].is_string());
    value
}

/// A textured photo-like RGB image (gradients, stripes and deterministic noise).
pub fn textured(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let noise = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663)).wrapping_mul(2_654_435_761) >> 27;
        let stripe = if (x / 16 + y / 16) % 2 == 0 { 60 } else { 0 };
        image::Rgb([
            ((x * 255 / width) as u8).saturating_add(stripe).saturating_add(noise as u8),
            ((y * 255 / height) as u8).saturating_add(noise as u8),
            (128u8).saturating_add(stripe),
        ])
    })
}

pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    textured(width, height).write_with_encoder(encoder).unwrap();
    out
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    textured(width, height).write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
    out
}

pub fn draft(session_id: &str, nonce: &str, step: Step) -> ManifestDraft {
    ManifestDraft {
        session_id: session_id.to_owned(),
        nonce: nonce.to_owned(),
        step,
        captured_at_ms: 1_700_000_000_000,
        sdk: SdkInfo { name: "trustcap-web".into(), version: "0.1.0".into() },
        device: DeviceInfo { user_agent: "test-agent".into(), camera_label: "test camera".into(), frames_analyzed: 9 },
        quality: BTreeMap::from([("glare".into(), 0.01), ("sharpness".into(), 0.8)]),
    }
}

/// A sealed upload of one image.
pub fn sealed(
    session_id: &str,
    nonce: &str,
    key: &CaptureSigningKey,
    bytes: &[u8],
    content_type: &str,
    width: u32,
    height: u32,
) -> Vec<u8> {
    let part = ImagePart { name: "document_front", content_type, width, height, bytes };
    seal(draft(session_id, nonce, Step::DocumentFront), &[part], key).unwrap()
}

/// A sealed upload of the standard 640x360 JPEG.
pub fn sealed_jpeg(session_id: &str, nonce: &str, key: &CaptureSigningKey) -> Vec<u8> {
    sealed(session_id, nonce, key, &jpeg(WIDTH, HEIGHT), "image/jpeg", WIDTH, HEIGHT)
}

pub fn signing_key(seed: u8) -> CaptureSigningKey {
    CaptureSigningKey::from_seed([seed; 32])
}

/// CRC-32 (IEEE) for hand-made PNG chunks.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A tiny PNG whose header claims `width`x`height` (a decompression bomb's header).
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // A valid zlib stream of a few zero bytes; far too little for the claimed size.
    chunk(&mut out, b"IDAT", &[0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}
