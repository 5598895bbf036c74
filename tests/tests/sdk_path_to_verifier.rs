//! The SDK's path without a browser, across crates: frames analysed by `vision` with
//! auto-capture, the best frame encoded as JPEG, sealed by `protocol`, and accepted by a
//! real `verifier` that re-runs the quality checks itself instead of trusting the client.

use std::collections::BTreeMap;
use std::io::Cursor;

use image::{ImageFormat, RgbaImage};
use serde_json::{Value, json};
use trustcap_protocol::{CaptureSigningKey, DeviceInfo, ImagePart, ManifestDraft, SdkInfo, Step, seal};
use trustcap_verifier::db;
use trustcap_verifier::{Application, ServeArgs, load_or_create_secret};
use trustcap_vision::{AutoCapture, AutoCaptureConfig, Frame, QualityAnalyzer, synth};

const W: u32 = 640;
const H: u32 = 360;

struct Stack {
    base: String,
    api_key: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let key = load_or_create_secret(&dir.path().join("secret.key")).unwrap();
    let db = db::connect(&format!("sqlite://{}", dir.path().join("v.db").display())).await.unwrap();
    let db = db.with_audit_key(key.audit_key());
    db::migrate(&db).await.unwrap();
    let tenant = db::create_tenant(&db, "integration", 1).await.unwrap();
    let api_key = db::create_api_key(&db, &tenant, 1).await.unwrap().expose_secret().to_owned();
    let settings = ServeArgs { bind: "127.0.0.1:0".parse().unwrap(), ..ServeArgs::default() };
    let app = Application::build(db, key, settings).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_with_shutdown(std::future::pending()));
    Stack { base, api_key, http: reqwest::Client::new(), _dir: dir }
}

fn jpeg(rgba: &[u8]) -> Vec<u8> {
    let image = RgbaImage::from_raw(W, H, rgba.to_vec()).unwrap();
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(image).to_rgb8().write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// Runs frames through analysis and auto-capture like the SDK; returns the captured frame
/// and its client-side quality metrics, or `None` if auto-capture never fired.
fn auto_capture(frames: &[Vec<u8>]) -> Option<(Vec<u8>, BTreeMap<String, f64>)> {
    let mut analyzer = QualityAnalyzer::new();
    let mut auto = AutoCapture::new(AutoCaptureConfig::default());
    let mut best = None;
    for pixels in frames {
        let report = analyzer.analyze(&Frame::packed(pixels, W, H).unwrap());
        let step = auto.update(&report);
        if step.is_new_best {
            let metrics = report.metrics().iter().map(|(k, v)| (k.to_string(), *v)).collect();
            best = Some((pixels.clone(), metrics));
        }
        if step.capture {
            return best;
        }
    }
    None
}

async fn submit(stack: &Stack, pixels: &[u8], quality: BTreeMap<String, f64>) -> Value {
    let http = &stack.http;
    let created: Value = http
        .post(format!("{}/v1/sessions", stack.base))
        .bearer_auth(&stack.api_key)
        .json(&json!({"steps": ["document_front"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (sid, token) = (created["session_id"].as_str().unwrap(), created["client_token"].as_str().unwrap());
    let key = CaptureSigningKey::from_seed([42; 32]);
    let resp = http
        .post(format!("{}/v1/client/key", stack.base))
        .bearer_auth(token)
        .json(&json!({"public_key": key.public_key().to_base64()}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let nonce: Value = http
        .post(format!("{}/v1/client/nonce", stack.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let image = jpeg(pixels);
    let draft = ManifestDraft {
        session_id: sid.into(),
        nonce: nonce["nonce"].as_str().unwrap().into(),
        step: Step::DocumentFront,
        captured_at_ms: 1_764_000_000_000,
        sdk: SdkInfo { name: "trustcap-tests".into(), version: "0".into() },
        device: DeviceInfo { user_agent: "integration".into(), camera_label: "synthetic".into(), frames_analyzed: 8 },
        quality,
    };
    let part = ImagePart { name: "document_front", content_type: "image/jpeg", width: W, height: H, bytes: &image };
    let body = seal(draft, &[part], &key).unwrap();
    let resp = http
        .post(format!("{}/v1/client/captures", stack.base))
        .bearer_auth(token)
        .header("content-type", trustcap_protocol::CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    http.get(format!("{}/v1/sessions/{sid}", stack.base))
        .bearer_auth(&stack.api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn frames(edit: impl Fn(&mut Vec<u8>)) -> Vec<Vec<u8>> {
    (0..12)
        .map(|i| {
            let mut frame = synth::document_scene(W, H, 11);
            edit(&mut frame);
            synth::add_noise_rgba(&mut frame, 500 + i, 2);
            frame
        })
        .collect()
}

#[tokio::test]
async fn auto_captured_document_is_accepted_and_the_server_agrees_with_the_client() {
    let stack = start().await;
    let (pixels, quality) = auto_capture(&frames(|_| {})).expect("a sharp, steady document is auto-captured");
    let session = submit(&stack, &pixels, quality.clone()).await;
    assert_eq!(session["status"], "submitted");
    let capture = &session["captures"][0];
    assert_eq!(capture["signature_verified"], true);
    assert_eq!(capture["server_quality"]["acceptable"], true);
    assert_eq!(capture["server_quality"]["guidance"], "ready");
    // The JPEG round trip changes pixels a little, the verdict not at all.
    let client = quality["sharpness"];
    let server = capture["server_quality"]["sharpness"].as_f64().unwrap();
    assert!((client - server).abs() < 0.15, "client {client} vs server {server}");
}

#[tokio::test]
async fn blurred_frames_never_auto_capture_and_the_server_does_not_trust_forged_scores() {
    let stack = start().await;
    let blurred = frames(|f| synth::gaussian_blur_rgba(f, W, H, 4.0));
    assert!(auto_capture(&blurred).is_none(), "auto-capture must not fire on a blurred document");

    // A modified client uploads the blurred frame claiming perfect quality: the upload is
    // authentic, so it is stored, but the server's own measurement says what it is.
    let forged = BTreeMap::from([("sharpness".to_owned(), 1.0), ("glare".to_owned(), 0.0)]);
    let session = submit(&stack, &blurred[0], forged).await;
    let capture = &session["captures"][0];
    assert_eq!(capture["client_quality"]["sharpness"], 1.0);
    assert_eq!(capture["server_quality"]["acceptable"], false);
    assert_eq!(capture["server_quality"]["guidance"], "too_blurry");
}
