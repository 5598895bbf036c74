//! Scenarios for the face, screening and document checks, run against SQLite and PostgreSQL.
//! Models come from `TRUSTCAP_MODEL_DIR` / the model cache (`cargo xtask models`); screening
//! lists are written by the tests themselves.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use image::{ImageFormat, RgbImage};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustcap_face::FaceMatcher;
use trustcap_protocol::Step;
use trustcap_verifier::checks::CheckRegistry;
use trustcap_verifier::checks::face::FaceMatchCheck;
use trustcap_verifier::checks::integrity::CaptureIntegrity;
use trustcap_verifier::time::now_secs;

use super::receiver::Receiver;
use super::*;

fn model_hint() -> String {
    format!(
        "the models are fetched by `cargo xtask models` (or `cargo xtask test`) into {}",
        trustcap_vision::model_cache::default_model_dir().display()
    )
}

/// One face matcher for every test of the binary (loading it takes a while).
pub fn shared_matcher() -> Arc<Mutex<FaceMatcher>> {
    static MATCHER: OnceLock<Arc<Mutex<FaceMatcher>>> = OnceLock::new();
    MATCHER
        .get_or_init(|| {
            let dir = trustcap_vision::model_cache::default_model_dir();
            let m = FaceMatcher::from_dir(&dir).unwrap_or_else(|e| panic!("{e}: {}", model_hint()));
            Arc::new(Mutex::new(m))
        })
        .clone()
}

/// The public-domain NASA portrait `astronaut.png` (scikit-image), fetched into the model cache.
pub fn astronaut() -> RgbImage {
    let path = trustcap_vision::model_cache::default_model_dir().join("astronaut.png");
    image::open(&path).unwrap_or_else(|e| panic!("{}: {e}: {}", path.display(), model_hint())).to_rgb8()
}

pub fn jpeg_of(image: &RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// A 640×360 selfie: the portrait scaled to the height, centred on a plain background.
pub fn selfie_of(face: &RgbImage) -> Vec<u8> {
    let mut canvas = RgbImage::from_pixel(WIDTH, HEIGHT, image::Rgb([200, 205, 210]));
    let scaled = image::imageops::resize(face, HEIGHT, HEIGHT, image::imageops::FilterType::Triangle);
    image::imageops::replace(&mut canvas, &scaled, i64::from((WIDTH - HEIGHT) / 2), 0);
    jpeg_of(&canvas)
}

/// A synthetic ID card (640×360) with `face` as its portrait on the left.
pub fn card_with_portrait(face: &RgbImage) -> Vec<u8> {
    let rgba = trustcap_vision::synth::document_scene(WIDTH, HEIGHT, 11);
    let mut card = image::DynamicImage::ImageRgba8(image::RgbaImage::from_raw(WIDTH, HEIGHT, rgba).unwrap()).to_rgb8();
    let portrait = image::imageops::resize(face, 190, 190, image::imageops::FilterType::Triangle);
    image::imageops::replace(&mut card, &portrait, 110, 90);
    jpeg_of(&card)
}

fn rules_requiring(checks: &[&str]) -> Value {
    let mut rules = serde_json::to_value(trustcap_verifier::rules::RuleSet::default()).unwrap();
    rules["required_checks"] = json!(checks);
    rules["thresholds"] = json!({});
    rules
}

fn check<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["checks"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {view}"))
}

fn codes(view: &Value) -> Vec<String> {
    view["decision"]["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect()
}

/// Selfie and document portrait of the same person → approved with the score, the model
/// version and both chips stored; a selfie without a face → review with the gate's code.
pub async fn face_match(kind: DbKind) {
    let mut registry = CheckRegistry::new();
    registry.register(Arc::new(CaptureIntegrity));
    registry.register(Arc::new(FaceMatchCheck::new(shared_matcher())));
    let app = spawn(Spawn { kind, registry, ..Spawn::default() }, |_| {}).await;
    let (_, api_key) = app.tenant("Acme").await;
    app.put_rules(&api_key, &rules_requiring(&["capture_integrity", "face_match"])).await;
    let key = signing_key(31);
    let face = astronaut();

    let session = app.applicant_session(&api_key, &key, &["document_front", "selfie"], json!({})).await;
    let resp = app.capture(&session, &key, Step::DocumentFront, &card_with_portrait(&face)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = app.capture(&session, &key, Step::Selfie, &selfie_of(&face)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let view = app.wait_decided(&api_key, &session.id, 120).await;
    assert_eq!(view["state"], "approved", "{view}");
    let fm = check(&view, "face_match");
    assert_eq!(fm["outcome"], "passed", "{fm}");
    assert_eq!(fm["details"]["score"]["decision"], "match");
    let similarity = fm["details"]["score"]["similarity"].as_f64().unwrap();
    assert!(similarity >= 0.6 && (fm["score"].as_f64().unwrap() - similarity).abs() < 1e-6, "{fm}");
    assert!(fm["details"]["model_version"].as_str().unwrap().starts_with("dlib_face_recognition_resnet_model_v1"));
    assert_eq!(fm["version"], trustcap_verifier::checks::face::VERSION);
    // Both chips are kept for reviewers (in the database here: no object store configured).
    let chips: Vec<(String, i64)> = sqlx::query_as(
        "SELECT name, byte_len FROM check_artifacts WHERE session_id = $1 AND check_name = 'face_match' ORDER BY name",
    )
    .bind(&session.id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(chips.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(), ["document_chip.png", "selfie_chip.png"]);
    // Chips are stored sealed with the session's data key, like the images.
    let (sealed, round): (Vec<u8>, i64) =
        sqlx::query_as("SELECT data, round FROM check_artifacts WHERE session_id = $1 AND name = 'selfie_chip.png'")
            .bind(&session.id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(image::load_from_memory(&sealed).is_err(), "a chip is stored in plain");
    let png = app
        .vault(&session.id)
        .await
        .open(trustcap_verifier::vault::Purpose::Artifact(round, "face_match", "selfie_chip.png"), &sealed)
        .unwrap();
    assert_eq!(image::load_from_memory(&png).unwrap().to_rgb8().dimensions(), (150, 150));
    assert_eq!(fm["details"]["quality_gates"], json!([]));

    // No face on the selfie: inconclusive with the gate's code, a person decides.
    let session = app.applicant_session(&api_key, &key, &["document_front", "selfie"], json!({})).await;
    let resp = app.capture(&session, &key, Step::DocumentFront, &card_with_portrait(&face)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let wall = jpeg_of(&RgbImage::from_pixel(WIDTH, HEIGHT, image::Rgb([128, 128, 128])));
    assert_eq!(app.capture(&session, &key, Step::Selfie, &wall).await.status(), StatusCode::CREATED);
    let view = app.wait_decided(&api_key, &session.id, 120).await;
    assert_eq!(view["state"], "review", "{view}");
    let fm = check(&view, "face_match");
    assert_eq!(fm["outcome"], "inconclusive");
    assert!(codes(&view).contains(&"face_match.selfie_no_face".to_owned()), "{view}");
}

/// Without the models the check is still registered: its permanent error sends the session to
/// review (never a silent pass), with the error recorded.
pub async fn face_match_without_models(kind: DbKind) {
    let empty = tempfile::tempdir().unwrap();
    let mut registry = CheckRegistry::builtin();
    registry.register(Arc::new(FaceMatchCheck::load(empty.path())));
    let app = spawn(Spawn { kind, registry, ..Spawn::default() }, |_| {}).await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(32);
    let session = app.applicant_session(&api_key, &key, &["document_front", "selfie"], json!({})).await;
    assert_eq!(app.capture(&session, &key, Step::DocumentFront, &good_document()).await.status(), StatusCode::CREATED);
    assert_eq!(app.capture(&session, &key, Step::Selfie, &good_document()).await.status(), StatusCode::CREATED);
    let view = app.wait_decided(&api_key, &session.id, 60).await;
    assert_eq!(view["state"], "review", "{view}");
    assert!(codes(&view).contains(&"face_match.error".to_owned()), "{view}");
    let fm = check(&view, "face_match");
    assert_eq!(fm["outcome"], "error");
}

/// One FtM (OpenSanctions) list file of persons: `(id, name, birth date, nationality)`.
pub fn write_lists(dir: &Path, people: &[(&str, &str, &str, &str)]) {
    let folder = dir.join("ftm_entities");
    std::fs::create_dir_all(&folder).unwrap();
    let lines: Vec<String> = people
        .iter()
        .map(|(id, name, born, country)| {
            json!({"id": id, "schema": "Person", "properties": {"name": [name], "birthDate": [born],
                   "nationality": [country], "topics": ["sanction"]}})
            .to_string()
        })
        .collect();
    std::fs::write(folder.join("entities.ftm.json"), lines.join("\n") + "\n").unwrap();
}

const LISTED: (&str, &str, &str, &str) = ("NK-0042", "Ivan Petrovich SIDOROV", "1970-03-02", "ru");

fn applicant() -> Value {
    json!({"given_names": "Ivan Petrovich", "family_name": "Sidorov", "date_of_birth": "1970-03-02", "nationality": "RUS"})
}

/// Lists v1 → an approved applicant; lists v2 name them → `update-lists` moves the session to
/// review with a `session.monitoring_hit` webhook, and the running server screens a new
/// session against v2 without a restart. Also the stand-alone endpoint.
pub async fn screening_and_monitoring(kind: DbKind) {
    let lists = tempfile::tempdir().unwrap();
    let v1 = lists.path().join("v1");
    write_lists(&v1, &[("NK-other", "Maria Gonzalez Lopez", "1985-07-01", "es")]);
    let app = spawn(Spawn { kind, screening_lists: Some(v1.clone()), ..Spawn::default() }, |_| {}).await;
    let receiver = Receiver::start().await;
    let (_, api_key) = app.tenant("Acme").await;
    let mut rules = serde_json::to_value(trustcap_verifier::rules::RuleSet::default()).unwrap();
    rules["screening"] = json!({"monitoring": true});
    app.put_rules(&api_key, &rules).await;
    app.set_webhook(&api_key, &receiver.url).await;
    let (_, other_key) = app.tenant("Not monitoring").await;
    let key = signing_key(33);

    let session = app.applicant_session(&api_key, &key, &["document_front"], applicant()).await;
    assert_eq!(app.capture(&session, &key, Step::DocumentFront, &good_document()).await.status(), StatusCode::CREATED);
    let view = app.wait_decided(&api_key, &session.id, 60).await;
    assert_eq!(view["state"], "approved", "{view}");
    let sc = check(&view, "screening");
    assert_eq!(sc["outcome"], "passed", "{sc}");
    assert_eq!(sc["details"]["hits"], json!([]));
    let v1_versions = sc["details"]["list_versions"].clone();
    assert_eq!(v1_versions.as_array().unwrap().len(), 1, "{sc}");
    assert!(v1_versions[0]["version"].as_str().unwrap().starts_with("sha256:"), "{sc}");
    // The other tenant's approved applicant is not monitored.
    let unmonitored = app.applicant_session(&other_key, &key, &["document_front"], applicant()).await;
    assert_eq!(
        app.capture(&unmonitored, &key, Step::DocumentFront, &good_document()).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(app.wait_decided(&other_key, &unmonitored.id, 60).await["state"], "approved");
    // A session without a name is not screened (nothing stored).
    let anonymous = app.applicant_session(&api_key, &key, &["document_front"], json!({"address": "x"})).await;
    assert_eq!(
        app.capture(&anonymous, &key, Step::DocumentFront, &good_document()).await.status(),
        StatusCode::CREATED
    );
    let view = app.wait_decided(&api_key, &anonymous.id, 60).await;
    assert_eq!(view["state"], "approved", "{view}");
    assert!(view["checks"].as_array().unwrap().iter().all(|c| c["name"] != "screening"));
    receiver
        .wait_for(30, "the approval events", |r| {
            r.iter().filter(|x| x.json()["type"] == "session.approved").count() >= 2
        })
        .await;

    // The endpoint: clear against v1.
    let post = |body: Value, key: &str| app.client.post(app.url("/v1/screenings")).bearer_auth(key).json(&body).send();
    let resp = post(json!({"name": "Ivan Petrovich Sidorov", "birth_date": "1970-03-02"}), &api_key).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["hits"], json!([]));
    assert_eq!(body["list_versions"], v1_versions);

    // Lists v2 name the applicant.
    let v2 = lists.path().join("v2");
    write_lists(&v2, &[("NK-other", "Maria Gonzalez Lopez", "1985-07-01", "es"), LISTED]);
    let summary = trustcap_verifier::screening::monitoring::update_lists(&app.db, &v2, now_secs()).await.unwrap();
    assert_eq!((summary.tenants, summary.cases_opened), (1, 1), "{summary:?}");
    assert_eq!(summary.rescreened, 1, "the approved, named applicant of the opted-in tenant: {summary:?}");
    let view: Value = app.get_session(&api_key, &session.id).await.json().await.unwrap();
    assert_eq!(view["state"], "review", "{view}");
    let other: Value = app.get_session(&other_key, &unmonitored.id).await.json().await.unwrap();
    assert_eq!(other["state"], "approved");
    receiver
        .wait_for(30, "the monitoring event", |r| r.iter().any(|x| x.json()["type"] == "session.monitoring_hit"))
        .await;
    let event = receiver.accepted().into_iter().find(|x| x.json()["type"] == "session.monitoring_hit").unwrap().json();
    assert_eq!(event["session_id"], session.id.as_str());
    assert_eq!(event["data"]["state"], "review");
    assert_eq!(event["data"]["monitoring"]["changes"][0]["change"], "new");
    assert_eq!(event["data"]["monitoring"]["changes"][0]["entity_id"], "opensanctions:NK-0042");
    assert!(!event.to_string().to_lowercase().contains("sidorov\""), "no names in webhooks: {event}");
    let hits: String = sqlx::query_scalar("SELECT hits FROM screening_records WHERE session_id = $1")
        .bind(&session.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    // Stored sealed with the session's data key (the hits quote names).
    assert!(!hits.contains("NK-0042") && !hits.to_lowercase().contains("sidorov"));
    let hits = app.vault(&session.id).await.open_text(trustcap_verifier::vault::Purpose::ScreeningHits, &hits).unwrap();
    assert!(hits.contains("NK-0042"));
    // Running it again with the same lists opens nothing new.
    let again = trustcap_verifier::screening::monitoring::update_lists(&app.db, &v2, now_secs()).await.unwrap();
    assert_eq!(again.cases_opened, 0);

    // The running server screens new sessions against v2, without a restart.
    let session = app.applicant_session(&api_key, &key, &["document_front"], applicant()).await;
    assert_eq!(app.capture(&session, &key, Step::DocumentFront, &good_document()).await.status(), StatusCode::CREATED);
    let view = app.wait_decided(&api_key, &session.id, 60).await;
    assert_eq!(view["state"], "review", "{view}");
    assert!(codes(&view).contains(&"screening.potential_match".to_owned()), "{view}");
    let sc = check(&view, "screening");
    assert_eq!(sc["outcome"], "inconclusive");
    let hit = &sc["details"]["hits"][0];
    assert_eq!(hit["entity_id"], "opensanctions:NK-0042");
    assert!(hit["score"].as_f64().unwrap() >= 0.8, "{hit}");
    assert!(hit["explanation"]["name"].is_object(), "{hit}");
    assert_ne!(sc["details"]["list_versions"], v1_versions);

    // The endpoint sees v2 too, with explanations; OFAC-parity mode works; bad input is typed.
    let resp =
        post(json!({"name": "Ivan Sidorov", "birth_date": "1970", "nationality": "RU"}), &api_key).await.unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["hits"][0]["entity_id"], "opensanctions:NK-0042", "{body}");
    assert!(body["hits"][0]["explanation"].is_object());
    assert_eq!(body["list_versions"].as_array().unwrap().len(), 1);
    let resp = post(json!({"name": "Ivan Petrovich Sidorov", "mode": "ofac_parity"}), &api_key).await.unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (body["mode"].as_str(), body["hits"][0]["entity_id"].as_str()),
        (Some("ofac_parity"), Some("opensanctions:NK-0042"))
    );
    let resp = post(json!({"name": "Ivan Petrovich Sidorov", "threshold": 1.0}), &api_key).await.unwrap();
    assert!(resp.json::<Value>().await.unwrap()["hits"].as_array().unwrap().len() <= 1);
    assert_error(post(json!({"name": " "}), &api_key).await.unwrap(), 400, "name_empty").await;
    assert_error(post(json!({"name": "x".repeat(201)}), &api_key).await.unwrap(), 400, "name_too_long").await;
    assert_error(
        post(json!({"name": "Jo", "birth_date": "02/03/1970"}), &api_key).await.unwrap(),
        400,
        "birth_date_invalid",
    )
    .await;
    assert_error(
        post(json!({"name": "Jo", "nationality": "Atlantis"}), &api_key).await.unwrap(),
        400,
        "nationality_invalid",
    )
    .await;
    assert_error(post(json!({"name": "Jo", "threshold": 3}), &api_key).await.unwrap(), 400, "threshold_invalid").await;
    assert_error(post(json!({"name": "Jo", "extra": 1}), &api_key).await.unwrap(), 400, "invalid_request").await;
    assert_error(post(json!({"name": "Jo"}), "tck_nope").await.unwrap(), 401, "unauthorized").await;
}

/// Without lists the endpoint answers 503 `screening_unavailable`.
pub async fn screening_unavailable(kind: DbKind) {
    let app = spawn(Spawn { kind, ..Spawn::default() }, |_| {}).await;
    let (_, api_key) = app.tenant("Acme").await;
    let resp = app
        .client
        .post(app.url("/v1/screenings"))
        .bearer_auth(&api_key)
        .json(&json!({"name": "Jo"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 503, "screening_unavailable").await;
}

const TD3: &[u8] = include_bytes!("../../../document/tests/fixtures/synthetic_td3.jpg");

/// The document check with the real OCR models on the document crate's synthetic TD3
/// specimen (two OCR reads): the MRZ is read and agrees with the applicant; the same document
/// in a second session is the fraud signal `document.reused`.
pub async fn document_check(kind: DbKind) {
    let engine =
        trustcap_verifier::checks::document::DocumentEngine::load(&trustcap_vision::model_cache::default_model_dir());
    assert!(engine.is_available(), "{}", model_hint());
    let mut registry = CheckRegistry::new();
    registry.register(Arc::new(CaptureIntegrity));
    let app = spawn(Spawn { kind, registry, document: Some(engine), ..Spawn::default() }, |_| {}).await;
    let (_, api_key) = app.tenant("Acme").await;
    app.put_rules(&api_key, &rules_requiring(&["capture_integrity", "document"])).await;
    let key = signing_key(34);
    let applicant = json!({"given_names": "Jane Marie", "family_name": "Tester", "date_of_birth": "1988-03-02"});
    let dims = image::load_from_memory(TD3).unwrap().to_rgb8().dimensions();

    let session = app.applicant_session(&api_key, &key, &["document_front"], applicant.clone()).await;
    assert_eq!(app.capture_sized(&session, &key, Step::DocumentFront, TD3, dims).await.status(), StatusCode::CREATED);
    let view = app.wait_decided(&api_key, &session.id, 180).await;
    let doc = check(&view, "document");
    assert_eq!(doc["details"]["mrz"]["valid"], true, "{doc}");
    assert_eq!(doc["details"]["mrz"]["read_from"], "document_front");
    let outcome = |name: &str| {
        doc["details"]["checks"].as_array().unwrap().iter().find(|c| c["check"] == name).unwrap()["outcome"].clone()
    };
    assert_eq!(outcome("mrz_valid"), "pass", "{doc}");
    assert_eq!(outcome("document_expired"), "pass", "{doc}");
    assert_eq!(outcome("age_limits"), "pass", "{doc}");
    assert_eq!(outcome("applicant_name_matches"), "pass", "{doc}");
    assert_eq!(outcome("document_reused"), "pass", "{doc}");
    assert_eq!(outcome("editing_software"), "not_applicable", "{doc}");
    let fingerprints = app.count("document_fingerprints").await;
    assert_eq!(fingerprints, 1);

    // The same document again, for another applicant name: reused (and the name disagrees).
    let other = json!({"given_names": "John", "family_name": "Other", "date_of_birth": "1988-03-02"});
    let session = app.applicant_session(&api_key, &key, &["document_front"], other).await;
    assert_eq!(app.capture_sized(&session, &key, Step::DocumentFront, TD3, dims).await.status(), StatusCode::CREATED);
    let view = app.wait_decided(&api_key, &session.id, 180).await;
    assert_eq!(view["state"], "declined", "{view}");
    let reasons = codes(&view);
    assert!(reasons.contains(&"document.reused".to_owned()), "{reasons:?}");
    assert!(reasons.contains(&"document.applicant_name_mismatch".to_owned()), "{reasons:?}");
}
