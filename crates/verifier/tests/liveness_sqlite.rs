//! The `liveness` check end to end on SQLite: selfie captures carrying a burst simulated from the
//! public-domain NASA portrait `astronaut.png` (model cache) with `trustcap_vision::liveness::simulate`. A live
//! head passes; a photo moved as a flat plane and a repeated still frame fail; a selfie without a burst goes to
//! review. BlazeFace-128 comes from `TRUSTCAP_MODEL_DIR` or the model cache (`cargo xtask models`).

mod common;

use std::io::Cursor;
use std::sync::Arc;

use common::*;
use image::RgbaImage;
use image::codecs::jpeg::JpegEncoder;
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustcap_protocol::burst::{SelfieBurst, frame_part_name};
use trustcap_protocol::{CaptureSigningKey, ImagePart, Step, seal};
use trustcap_verifier::checks::CheckRegistry;
use trustcap_verifier::checks::integrity::CaptureIntegrity;
use trustcap_verifier::checks::liveness::LivenessCheck;
use trustcap_vision::Frame;
use trustcap_vision::face::{BlazeFace, BlazeFaceVariant};
use trustcap_vision::liveness::simulate::{Burst, BurstSpec, Presentation, Source, burst};
use trustcap_vision::liveness::{FaceBox, LivenessAnalyzer, LivenessConfig};
use trustcap_vision::model_cache::default_model_dir;

const BURST_W: u32 = 640;
const BURST_H: u32 = 480;

fn hint() -> String {
    format!("fetched by `cargo xtask models` (or `cargo xtask test`) into {}", default_model_dir().display())
}

/// A burst of 8 frames of `presentation`, simulated from the astronaut with the face BlazeFace finds in it.
fn simulated(presentation: Presentation, seed: u64) -> Burst {
    let path = default_model_dir().join("astronaut.png");
    let photo = image::open(&path).unwrap_or_else(|e| panic!("{}: {e}; {}", path.display(), hint())).to_rgba8();
    let mut detector = BlazeFace::from_dir(&default_model_dir(), BlazeFaceVariant::Front128)
        .unwrap_or_else(|e| panic!("{e}; {}", hint()));
    let frame = Frame::packed(photo.as_raw(), photo.width(), photo.height()).unwrap();
    let d = detector.detect(&frame).unwrap()[0];
    let face = FaceBox {
        x: f64::from(d.bbox.x_min),
        y: f64::from(d.bbox.y_min),
        width: f64::from(d.bbox.width()),
        height: f64::from(d.bbox.height()),
    };
    let src = Source { rgba: photo.as_raw(), width: photo.width(), height: photo.height(), face };
    let spec = BurstSpec { width: BURST_W, height: BURST_H, frames: 8, face_share: Some(0.35), seed };
    burst(&src, presentation, spec)
}

fn jpeg(rgba: &[u8]) -> Vec<u8> {
    let img = RgbaImage::from_raw(BURST_W, BURST_H, rgba.to_vec()).unwrap();
    let rgb = image::DynamicImage::ImageRgba8(img).to_rgb8();
    let mut out = Cursor::new(Vec::new());
    JpegEncoder::new_with_quality(&mut out, 92).encode_image(&rgb).unwrap();
    out.into_inner()
}

/// What an SDK would send: the client's own liveness run over the raw frames.
fn client_entries(b: &Burst) -> std::collections::BTreeMap<String, f64> {
    let mut an = LivenessAnalyzer::new(LivenessConfig::default());
    for ((f, face), t) in b.frames.iter().zip(&b.faces).zip(&b.timestamps_ms) {
        an.push(&Frame::packed(f, b.width, b.height).unwrap(), *face, *t).unwrap();
    }
    let r = an.report();
    let signals: Vec<(&str, f64)> = r.signals.iter().filter(|s| s.judged).map(|s| (s.name, s.attack)).collect();
    SelfieBurst::quality_entries(&b.timestamps_ms, r.score, &signals)
}

/// Uploads a selfie capture: the middle frame as `selfie`, then the burst (when `with_burst`).
async fn upload_selfie(app: &TestApp, session: &Session, key: &CaptureSigningKey, b: &Burst, with_burst: bool) {
    let nonce = app.nonce(&session.token).await;
    let jpegs: Vec<Vec<u8>> = b.frames.iter().map(|f| jpeg(f)).collect();
    let names: Vec<String> = (0..jpegs.len()).map(frame_part_name).collect();
    let mut parts = vec![ImagePart {
        name: "selfie",
        content_type: "image/jpeg",
        width: BURST_W,
        height: BURST_H,
        bytes: &jpegs[4],
    }];
    let mut draft = draft(&session.id, &nonce, Step::Selfie);
    if with_burst {
        parts.extend(jpegs.iter().zip(&names).map(|(bytes, name)| ImagePart {
            name,
            content_type: "image/jpeg",
            width: BURST_W,
            height: BURST_H,
            bytes,
        }));
        draft.quality.extend(client_entries(b));
    }
    let payload = seal(draft, &parts, key).unwrap();
    let resp = app.upload(&session.token, payload).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "{}", resp.text().await.unwrap());
}

fn liveness_of(view: &Value) -> &Value {
    view["checks"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["name"] == "liveness")
        .unwrap_or_else(|| panic!("{view}"))
}

fn reason_codes(check: &Value) -> Vec<String> {
    check["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn liveness_recomputed_from_the_burst() {
    let dir = default_model_dir();
    let check = tokio::task::spawn_blocking(move || LivenessCheck::load(&dir)).await.unwrap();
    assert!(check.is_available(), "{}", hint());
    let mut registry = CheckRegistry::new();
    registry.register(Arc::new(CaptureIntegrity));
    registry.register(Arc::new(check));
    let app = spawn(Spawn { kind: DbKind::Sqlite, registry, ..Spawn::default() }, |_| {}).await;
    let (_, api_key) = app.tenant("Acme").await;
    let mut rules = serde_json::to_value(trustcap_verifier::rules::RuleSet::default()).unwrap();
    rules["required_checks"] = json!(["capture_integrity", "liveness"]);
    rules["thresholds"] = json!({});
    rules["liveness"] = json!({"threshold": 0.5});
    app.put_rules(&api_key, &rules).await;
    let key = signing_key(41);

    let run = async |presentation: Presentation, with_burst: bool| {
        let session = app.applicant_session(&api_key, &key, &["selfie"], json!({})).await;
        upload_selfie(&app, &session, &key, &simulated(presentation, 3), with_burst).await;
        app.wait_decided(&api_key, &session.id, 180).await
    };

    let view = run(Presentation::BonaFide, true).await;
    let live = liveness_of(&view);
    assert_eq!(live["outcome"], "passed", "{live}");
    assert_eq!(reason_codes(live), ["liveness.live"]);
    assert_eq!(live["details"]["frames"], 8);
    assert_eq!(live["details"]["faces_found"], 8);
    assert!(live["details"]["signals"].as_array().unwrap().iter().all(|s| s["explanation"].is_string()));
    assert!(live["details"]["client_gap"].as_f64().unwrap() <= 0.3, "{live}");

    for attack in [Presentation::FlatPhoto, Presentation::StillFrame] {
        let view = run(attack, true).await;
        let live = liveness_of(&view);
        assert_eq!(live["outcome"], "failed", "{attack:?}: {live}");
        assert!(reason_codes(live).contains(&"liveness.attack_suspected".to_owned()), "{live}");
        assert_eq!(view["state"], "declined", "{attack:?}: {view}");
    }

    // An older SDK: a selfie without a burst goes to a person.
    let view = run(Presentation::BonaFide, false).await;
    let live = liveness_of(&view);
    assert_eq!(
        (live["outcome"].as_str(), reason_codes(live)),
        (Some("inconclusive"), vec!["liveness.no_burst".to_owned()])
    );
    assert_eq!(view["state"], "review", "{view}");
}
