//! Shared helpers: a real server on 127.0.0.1:0 over a temporary SQLite file, and real
//! sealed uploads.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Cursor;

use image::{ImageFormat, RgbImage};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use trustcap_protocol::{CaptureSigningKey, DeviceInfo, ImagePart, ManifestDraft, SdkInfo, Step, TokenKey, seal};
use trustcap_verifier::db::{self, Db};
use trustcap_verifier::time::now_secs;
use trustcap_verifier::{Application, ServeArgs, load_or_create_secret};

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 360;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub secret: [u8; 32],
    pub dir: tempfile::TempDir,
    _shutdown: oneshot::Sender<()>,
}

pub struct Session {
    pub id: String,
    pub token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let db = db::connect(&url).await.unwrap();
    db::migrate(&db).await.unwrap();
    let secret_path = dir.path().join("secret.key");
    let key = load_or_create_secret(&secret_path).unwrap();
    let secret: [u8; 32] = std::fs::read(&secret_path).unwrap().try_into().unwrap();
    let mut settings = ServeArgs { bind: "127.0.0.1:0".parse().unwrap(), ..ServeArgs::default() };
    tweak(&mut settings);
    let app = Application::build(db.clone(), key, settings).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(app.run_with_shutdown(async {
        let _ = rx.await;
    }));
    TestApp { base, client: reqwest::Client::new(), db, secret, dir, _shutdown: tx }
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

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&self.db).await.unwrap()
    }

    /// A session with a registered key, ready to upload.
    pub async fn ready_session(&self, api_key: &str, key: &CaptureSigningKey) -> Session {
        let session = self.session(api_key, &["document_front"]).await;
        assert_eq!(self.register_key(&session.token, key).await.status(), StatusCode::CREATED);
        session
    }
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
