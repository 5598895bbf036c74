//! End-to-end tests of the HTTP API against a real server and SQLite file.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustcap_protocol::{Envelope, ImageEntry, Manifest, PAYLOAD_VERSION, Step, TokenClaims};
use trustcap_verifier::time::now_secs;
use trustcap_verifier::vault::Purpose;

#[tokio::test]
async fn healthz_and_unknown_routes_are_json() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let resp = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/v1/webhook"]["put"].is_object());
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(metrics.text().await.unwrap().contains("trustcap_jobs_pending"));

    assert_error(app.client.get(app.url("/nope")).send().await.unwrap(), 404, "not_found").await;
    assert_error(app.client.get(app.url("/v1/client/nope")).send().await.unwrap(), 404, "not_found").await;
    assert_error(app.client.delete(app.url("/v1/sessions")).send().await.unwrap(), 405, "method_not_allowed").await;
    assert_error(app.client.get(app.url("/v1/client/captures")).send().await.unwrap(), 405, "method_not_allowed").await;
}

#[tokio::test]
async fn full_capture_path() {
    // No pipeline worker: the session stays `submitted` (a worker could decide it meanwhile, e.g.
    // `resubmission_requested`, which issues nonces again).
    let app = spawn_app_with(|args| args.workers = 0).await;
    let (_, api_key) = app.tenant("Acme").await;
    let session = app.session(&api_key, &["document-front"]).await;
    let key = signing_key(1);

    let resp = app.register_key(&session.token, &key).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.json::<Value>().await.unwrap()["key_id"], key.public_key().key_id());
    // Same key again: idempotent.
    assert_eq!(app.register_key(&session.token, &key).await.status(), StatusCode::OK);
    // Another key: refused.
    assert_error(app.register_key(&session.token, &signing_key(2)).await, 409, "key_already_registered").await;

    let nonce = app.nonce(&session.token).await;
    let payload = sealed_jpeg(&session.id, &nonce, &key);
    let resp = app.upload(&session.token, payload.clone()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    assert!(body["capture_id"].as_str().unwrap().starts_with("cap_"));
    assert_eq!(body["status"], "submitted");

    let resp = app.get_session(&api_key, &session.id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let view: Value = resp.json().await.unwrap();
    assert_eq!(view["session_id"], session.id.as_str());
    assert_eq!(view["status"], "submitted");
    assert_eq!(view["steps"], json!(["document_front"]));
    assert_eq!(view["reference"], "case-1");
    let captures = view["captures"].as_array().unwrap();
    assert_eq!(captures.len(), 1);
    let capture = &captures[0];
    assert_eq!(capture["step"], "document_front");
    assert_eq!(capture["signature_verified"], true);
    assert_eq!(capture["key_id"], key.public_key().key_id());
    assert_eq!(capture["client_quality"], json!({"glare": 0.01, "sharpness": 0.8}));
    let server = &capture["server_quality"];
    assert!(server["sharpness"].is_number(), "{capture}");
    assert!(server["glare"].is_number(), "{capture}");
    assert!(server["exposure.mean"].is_number(), "{capture}");
    assert!(server["guidance"].is_string(), "{capture}");
    assert!(server["acceptable"].is_boolean(), "{capture}");
    let image = &capture["images"][0];
    assert_eq!(image["name"], "document_front");
    assert_eq!(image["content_type"], "image/jpeg");
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(640), Some(360)));
    assert!(image["byte_len"].as_u64().unwrap() > 1000);
    assert_eq!(image["sha256"].as_str().unwrap().len(), 64);

    let resp = app.client.get(app.url("/v1/client/session")).bearer_auth(&session.token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let status: Value = resp.json().await.unwrap();
    assert_eq!(status["status"], "submitted");
    assert_eq!(status["captured_steps"], json!(["document_front"]));

    // The stored image is the uploaded bytes, sealed with the session's data key.
    let (stored, sha): (Vec<u8>, String) =
        sqlx::query_as("SELECT data, sha256 FROM capture_images").fetch_one(app.db.pool()).await.unwrap();
    assert!(!payload.windows(stored.len()).any(|w| w == stored.as_slice()), "stored in plain");
    let plain = app.vault(&session.id).await.open(Purpose::CaptureImage(&sha), &stored).unwrap();
    assert!(payload.windows(plain.len()).any(|w| w == plain.as_slice()));

    // A submitted session issues no more nonces.
    let resp = app.client.post(app.url("/v1/client/nonce")).bearer_auth(&session.token).send().await.unwrap();
    assert_error(resp, 409, "session_not_capturable").await;
}

#[tokio::test]
async fn multi_step_session_goes_through_capturing() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("Acme").await;
    let session = app.session(&api_key, &["document_front", "selfie"]).await;
    let key = signing_key(3);
    assert_eq!(app.register_key(&session.token, &key).await.status(), StatusCode::CREATED);

    let nonce = app.nonce(&session.token).await;
    let resp = app.upload(&session.token, sealed_jpeg(&session.id, &nonce, &key)).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "capturing");

    let nonce = app.nonce(&session.token).await;
    let bytes = jpeg(WIDTH, HEIGHT);
    let part = trustcap_protocol::ImagePart {
        name: "selfie",
        content_type: "image/jpeg",
        width: WIDTH,
        height: HEIGHT,
        bytes: &bytes,
    };
    let payload = trustcap_protocol::seal(draft(&session.id, &nonce, Step::Selfie), &[part], &key).unwrap();
    let resp = app.upload(&session.token, payload).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "submitted");
}

#[tokio::test]
async fn tampered_and_replayed_payloads_store_nothing() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(4);
    let session = app.ready_session(&api_key, &key).await;
    let nonce = app.nonce(&session.token).await;
    let payload = sealed_jpeg(&session.id, &nonce, &key);
    let resp = app.upload(&session.token, payload.clone()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let first: Value = resp.json().await.unwrap();
    let captures = app.count("captures").await;
    let images = app.count("capture_images").await;

    // One byte of the image part changed (the last byte of the envelope is image data).
    let mut tampered = payload.clone();
    let last = tampered.len() - 100;
    tampered[last] ^= 0x01;
    assert_error(app.upload(&session.token, tampered).await, 400, "payload_tampered").await;

    // The accepted payload, untouched, a second time: an idempotent retry, answered with
    // the original capture and nothing new stored.
    let resp = app.upload(&session.token, payload).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let again: Value = resp.json().await.unwrap();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["capture_id"], first["capture_id"]);

    // A different payload (another image) under the used nonce is a replay.
    let other = sealed(&session.id, &nonce, &key, &png(WIDTH, HEIGHT), "image/png", WIDTH, HEIGHT);
    assert_error(app.upload(&session.token, other).await, 409, "nonce_replayed").await;

    assert_eq!(app.count("captures").await, captures);
    assert_eq!(app.count("capture_images").await, images);
}

#[tokio::test]
async fn session_and_key_mismatches() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(5);
    let a = app.ready_session(&api_key, &key).await;
    let b = app.ready_session(&api_key, &key).await;

    let nonce_b = app.nonce(&b.token).await;
    let for_b = sealed_jpeg(&b.id, &nonce_b, &key);
    assert_error(app.upload(&a.token, for_b).await, 403, "session_mismatch").await;

    // Signed by a key other than the registered one.
    let nonce = app.nonce(&a.token).await;
    let other = signing_key(6);
    assert_error(app.upload(&a.token, sealed_jpeg(&a.id, &nonce, &other)).await, 403, "key_mismatch").await;

    // Names the registered key but is signed by another one.
    let bytes = jpeg(WIDTH, HEIGHT);
    let manifest = manifest_for(&a.id, &nonce, &key, &[&bytes]);
    let manifest_bytes = manifest.to_canonical_bytes().unwrap();
    let forged =
        Envelope { manifest: &manifest_bytes, signature: other.sign_manifest(&manifest_bytes), parts: vec![&bytes] }
            .encode()
            .unwrap();
    assert_error(app.upload(&a.token, forged).await, 400, "signature_invalid").await;

    // A step the token does not allow.
    let part = trustcap_protocol::ImagePart {
        name: "selfie",
        content_type: "image/jpeg",
        width: WIDTH,
        height: HEIGHT,
        bytes: &bytes,
    };
    let selfie = trustcap_protocol::seal(draft(&a.id, &nonce, Step::Selfie), &[part], &key).unwrap();
    assert_error(app.upload(&a.token, selfie).await, 403, "step_not_allowed").await;

    // No key registered yet.
    let c = app.session(&api_key, &["document_front"]).await;
    let nonce_c = app.nonce(&c.token).await;
    assert_error(app.upload(&c.token, sealed_jpeg(&c.id, &nonce_c, &key)).await, 409, "key_not_registered").await;

    assert_eq!(app.count("captures").await, 0);
}

/// A manifest for `images` (all JPEG 640x360) naming `key`.
fn manifest_for(session: &str, nonce: &str, key: &trustcap_protocol::CaptureSigningKey, images: &[&[u8]]) -> Manifest {
    let d = draft(session, nonce, Step::DocumentFront);
    Manifest {
        v: PAYLOAD_VERSION,
        session_id: d.session_id,
        nonce: d.nonce,
        key_id: key.public_key().key_id(),
        step: d.step,
        captured_at_ms: d.captured_at_ms,
        sdk: d.sdk,
        device: d.device,
        quality: d.quality,
        images: images
            .iter()
            .enumerate()
            .map(|(i, bytes)| ImageEntry {
                // A document capture lists the document, then its original photo (trustcap_protocol::document).
                name: ["document_front", "document_original"]
                    .get(i)
                    .map_or_else(|| format!("image_{i}"), |n| (*n).into()),
                content_type: "image/jpeg".into(),
                width: WIDTH,
                height: HEIGHT,
                byte_len: bytes.len() as u64,
                sha256: trustcap_protocol::digest::sha256_hex(bytes),
            })
            .collect(),
    }
}

#[tokio::test]
async fn envelope_and_manifest_faults() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(7);
    let session = app.ready_session(&api_key, &key).await;
    let nonce = app.nonce(&session.token).await;

    let mut v2 = sealed_jpeg(&session.id, &nonce, &key);
    v2[4] = 2;
    assert_error(app.upload(&session.token, v2).await, 400, "unsupported_version").await;

    assert_error(app.upload(&session.token, b"not an envelope".to_vec()).await, 400, "envelope_malformed").await;

    // Two images in the signed manifest, one part in the envelope.
    let first = jpeg(WIDTH, HEIGHT);
    let second = jpeg(WIDTH, HEIGHT);
    let manifest = manifest_for(&session.id, &nonce, &key, &[&first, &second]).to_canonical_bytes().unwrap();
    let envelope = Envelope { manifest: &manifest, signature: key.sign_manifest(&manifest), parts: vec![&first] };
    assert_error(app.upload(&session.token, envelope.encode().unwrap()).await, 400, "part_missing").await;

    // Manifest dimensions that differ from the image's header.
    let bytes = jpeg(WIDTH, HEIGHT);
    let wrong = sealed(&session.id, &nonce, &key, &bytes, "image/jpeg", WIDTH + 1, HEIGHT);
    assert_error(app.upload(&session.token, wrong).await, 400, "manifest_invalid").await;

    // A nonce the server never issued.
    let unknown = sealed_jpeg(&session.id, "n_never_issued_by_the_server", &key);
    assert_error(app.upload(&session.token, unknown).await, 400, "nonce_unknown").await;

    // A nonce issued to another session.
    let other = app.ready_session(&api_key, &key).await;
    let other_nonce = app.nonce(&other.token).await;
    let foreign = sealed_jpeg(&session.id, &other_nonce, &key);
    assert_error(app.upload(&session.token, foreign).await, 400, "nonce_unknown").await;

    assert_eq!(app.count("captures").await, 0);
    // The session's own nonce is still usable after all those refusals.
    assert_eq!(app.upload(&session.token, sealed_jpeg(&session.id, &nonce, &key)).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn expired_nonce_is_refused() {
    let app = spawn_app_with(|s| s.nonce_ttl_secs = 1).await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(8);
    let session = app.ready_session(&api_key, &key).await;
    let nonce = app.nonce(&session.token).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_error(app.upload(&session.token, sealed_jpeg(&session.id, &nonce, &key)).await, 400, "nonce_expired").await;
}

#[tokio::test]
async fn image_faults() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(9);
    let session = app.ready_session(&api_key, &key).await;
    let nonce = app.nonce(&session.token).await;

    let full = jpeg(WIDTH, HEIGHT);
    let truncated = &full[..full.len() / 2];
    let payload = sealed(&session.id, &nonce, &key, truncated, "image/jpeg", WIDTH, HEIGHT);
    assert_error(app.upload(&session.token, payload).await, 422, "image_corrupt").await;

    let png_bytes = png(WIDTH, HEIGHT);
    let payload = sealed(&session.id, &nonce, &key, &png_bytes, "image/jpeg", WIDTH, HEIGHT);
    assert_error(app.upload(&session.token, payload).await, 422, "image_unsupported").await;

    let payload = sealed(&session.id, &nonce, &key, b"GIF89a-not-an-image", "image/png", WIDTH, HEIGHT);
    assert_error(app.upload(&session.token, payload).await, 422, "image_unsupported").await;

    let bomb = png_claiming(50_000, 50_000);
    let payload = sealed(&session.id, &nonce, &key, &bomb, "image/png", WIDTH, HEIGHT);
    assert_error(app.upload(&session.token, payload).await, 422, "image_too_large").await;

    let bomb = png_claiming(7000, 7000);
    let payload = sealed(&session.id, &nonce, &key, &bomb, "image/png", WIDTH, HEIGHT);
    assert_error(app.upload(&session.token, payload).await, 422, "image_too_large").await;

    // A PNG whose pixel data is cut short.
    let cut = &png_bytes[..png_bytes.len() / 2];
    let payload = sealed(&session.id, &nonce, &key, cut, "image/png", WIDTH, HEIGHT);
    assert_error(app.upload(&session.token, payload).await, 422, "image_corrupt").await;

    // A real PNG declared as PNG is accepted.
    let payload = sealed(&session.id, &nonce, &key, &png_bytes, "image/png", WIDTH, HEIGHT);
    assert_eq!(app.upload(&session.token, payload).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn content_type_and_size_limits() {
    let app = spawn_app_with(|s| s.max_body_bytes = 4096).await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(10);
    let session = app.ready_session(&api_key, &key).await;

    let resp = app
        .client
        .post(app.url("/v1/client/captures"))
        .bearer_auth(&session.token)
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 100])
        .send()
        .await
        .unwrap();
    assert_error(resp, 415, "unsupported_media_type").await;

    let resp = app
        .client
        .post(app.url("/v1/client/captures"))
        .bearer_auth(&session.token)
        .body(vec![0u8; 100])
        .send()
        .await
        .unwrap();
    assert_error(resp, 415, "unsupported_media_type").await;

    assert_error(app.upload(&session.token, vec![0u8; 50_000]).await, 413, "payload_too_large").await;
}

#[tokio::test]
async fn default_size_limit_is_enforced_as_json() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(11);
    let session = app.ready_session(&api_key, &key).await;
    let too_big = vec![0u8; 20 * 1024 * 1024 + 1];
    assert_error(app.upload(&session.token, too_big).await, 413, "payload_too_large").await;
}

#[tokio::test]
async fn json_body_faults() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("Acme").await;
    let post = |path: &str, auth: &str, content_type: Option<&str>, body: Vec<u8>| {
        let mut req = app.client.post(app.url(path)).bearer_auth(auth).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    let json_ct = Some("application/json");

    assert_error(post("/v1/sessions", &api_key, json_ct, b"{not json".to_vec()).await.unwrap(), 400, "invalid_json")
        .await;
    assert_error(
        post("/v1/sessions", &api_key, json_ct, vec![b'"', 0xff, 0xfe, b'"']).await.unwrap(),
        400,
        "invalid_json",
    )
    .await;
    assert_error(post("/v1/sessions", &api_key, None, b"{}".to_vec()).await.unwrap(), 400, "invalid_json").await;
    assert_error(
        post("/v1/sessions", &api_key, Some("text/plain"), b"{}".to_vec()).await.unwrap(),
        400,
        "invalid_json",
    )
    .await;
    assert_error(
        post("/v1/sessions", &api_key, json_ct, br#"{"steps":["passport"]}"#.to_vec()).await.unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        post("/v1/sessions", &api_key, json_ct, br#"{"steps":"selfie"}"#.to_vec()).await.unwrap(),
        400,
        "invalid_request",
    )
    .await;
    let long = json!({"reference": "x".repeat(129)}).to_string().into_bytes();
    assert_error(post("/v1/sessions", &api_key, json_ct, long).await.unwrap(), 400, "invalid_request").await;
    let huge = vec![b' '; 200_000];
    assert_error(post("/v1/sessions", &api_key, json_ct, huge).await.unwrap(), 413, "payload_too_large").await;

    // Defaults: an empty object creates a document_front session.
    let resp = post("/v1/sessions", &api_key, Some("application/json; charset=utf-8"), b"{}".to_vec()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["steps"], json!(["document_front"]));
    assert_eq!(created["status"], "created");
    assert!(created["expires_at"].as_i64().unwrap() > now_secs());
    let token = created["client_token"].as_str().unwrap();

    assert_error(post("/v1/client/key", token, json_ct, b"[1,".to_vec()).await.unwrap(), 400, "invalid_json").await;
    assert_error(post("/v1/client/key", token, json_ct, vec![0xc3, 0x28]).await.unwrap(), 400, "invalid_json").await;
    assert_error(
        post("/v1/client/key", token, json_ct, br#"{"public_key":"!!"}"#.to_vec()).await.unwrap(),
        400,
        "key_malformed",
    )
    .await;
    assert_error(
        post("/v1/client/key", token, json_ct, br#"{"public_key":"AAAA"}"#.to_vec()).await.unwrap(),
        400,
        "key_malformed",
    )
    .await;
}

#[tokio::test]
async fn authentication() {
    let app = spawn_app().await;
    let (_, key_a) = app.tenant("A").await;
    let (_, key_b) = app.tenant("B").await;
    let session = app.session(&key_a, &["document_front"]).await;

    let resp = app.client.post(app.url("/v1/sessions")).json(&json!({})).send().await.unwrap();
    assert_error(resp, 401, "unauthorized").await;
    assert_error(app.post_session("tck_aaaaaaaa_not-a-real-key", json!({})).await, 401, "unauthorized").await;
    let mut forged = key_a.clone();
    forged.pop();
    forged.push(if key_a.ends_with('A') { 'B' } else { 'A' });
    assert_error(app.post_session(&forged, json!({})).await, 401, "unauthorized").await;
    // A client token is not an API key.
    assert_error(app.get_session(&session.token, &session.id).await, 401, "unauthorized").await;

    assert_eq!(app.get_session(&key_a, &session.id).await.status(), StatusCode::OK);
    assert_error(app.get_session(&key_b, &session.id).await, 404, "not_found").await;
    assert_error(app.get_session(&key_a, "ses_doesnotexist").await, 404, "not_found").await;

    // Client tokens.
    let nonce_url = app.url("/v1/client/nonce");
    assert_error(app.client.post(&nonce_url).send().await.unwrap(), 401, "token_malformed").await;
    assert_error(app.client.post(&nonce_url).bearer_auth("garbage").send().await.unwrap(), 401, "token_malformed")
        .await;
    assert_error(app.client.post(&nonce_url).bearer_auth(&key_a).send().await.unwrap(), 401, "token_malformed").await;
    let mut bad_tag = session.token.clone();
    let tag_start = bad_tag.rfind('.').unwrap() + 1;
    let replacement = if &bad_tag[tag_start..tag_start + 1] == "A" { "B" } else { "A" };
    bad_tag.replace_range(tag_start..tag_start + 1, replacement);
    assert_error(app.client.post(&nonce_url).bearer_auth(&bad_tag).send().await.unwrap(), 401, "token_invalid").await;

    let now = u64::try_from(now_secs()).unwrap();
    let claims = |sid: &str, exp: u64| TokenClaims {
        sid: sid.to_owned(),
        tid: "ten_aaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned(),
        steps: vec![Step::DocumentFront],
        iat: now - 100,
        exp,
        jti: "tok_aaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned(),
    };
    let expired = app.token_key().issue(&claims(&session.id, now - 10)).unwrap();
    assert_error(app.client.post(&nonce_url).bearer_auth(&expired).send().await.unwrap(), 401, "token_expired").await;
    // A valid token for a session that does not exist (or of another tenant).
    let ghost = app.token_key().issue(&claims(&session.id, now + 100)).unwrap();
    assert_error(app.client.post(&nonce_url).bearer_auth(&ghost).send().await.unwrap(), 404, "not_found").await;
}

#[tokio::test]
async fn cors_for_the_client_api_only() {
    let app = spawn_app().await;
    let resp = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/client/captures"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert!(resp.headers().get("access-control-allow-credentials").is_none());

    let resp =
        app.client.get(app.url("/v1/client/session")).header("origin", "https://shop.example").send().await.unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert_error(resp, 401, "token_malformed").await;

    let resp = app.client.post(app.url("/v1/sessions")).header("origin", "https://shop.example").send().await.unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_client_that_never_finishes_its_upload_gets_408_and_nothing_is_stored() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(|s| s.request_timeout_secs = 1).await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(9);
    let session = app.ready_session(&api_key, &key).await;
    // Headers promise a large body; only a few bytes ever arrive.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/client/captures HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: {}\r\nContent-Length: 1000000\r\n\r\nTCAP",
        session.token,
        trustcap_protocol::CONTENT_TYPE
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    assert!(read.is_ok(), "the server must answer a stalled upload within its timeout");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"request_timeout\""), "{text}");
    assert_eq!(app.count("captures").await, 0);
}

/// Peak resident memory of this process so far, in bytes (Linux).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test]
async fn hostile_input_gets_stable_codes_with_bounded_memory() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(12);
    let session = app.ready_session(&api_key, &key).await;
    let nonce = app.nonce(&session.token).await;

    // A real decompression bomb: a 50-megapixel all-black PNG that compresses to ~50 kB.
    let side = 7072u32;
    let bomb = {
        let gray = image::GrayImage::new(side, side);
        let mut out = Vec::new();
        gray.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    };
    assert!(bomb.len() < 1_000_000, "{}", bomb.len());
    // The signed manifest cannot claim more than the limit; it names 640x360, the header 50 MP.
    let bomb_payload = sealed(&session.id, &nonce, &key, &bomb, "image/png", WIDTH, HEIGHT);
    let full = jpeg(WIDTH, HEIGHT);
    let truncated = sealed(&session.id, &nonce, &key, &full[..full.len() * 2 / 3], "image/jpeg", WIDTH, HEIGHT);
    let before = peak_rss();
    for _ in 0..3 {
        assert_error(app.upload(&session.token, bomb_payload.clone()).await, 422, "image_too_large").await;
        assert_error(app.upload(&session.token, truncated.clone()).await, 422, "image_corrupt").await;
    }
    let grown = peak_rss().saturating_sub(before);
    assert!(grown < 64 * 1024 * 1024, "decoding bombs must not allocate their claimed size: +{grown} bytes");

    // A wrong content type, and JSON that is not UTF-8.
    let resp = app
        .client
        .post(app.url("/v1/client/captures"))
        .bearer_auth(&session.token)
        .header("content-type", "image/png")
        .body(bomb.clone())
        .send()
        .await
        .unwrap();
    assert_error(resp, 415, "unsupported_media_type").await;
    let resp = app
        .client
        .post(app.url("/v1/sessions"))
        .bearer_auth(&api_key)
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', 0xC0, 0xAF, b'"', b'}'])
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "invalid_json").await;
    assert_eq!(app.count("captures").await, 0);
}

/// Concurrent writers on one SQLite file: every rule update and session creation
/// succeeds (write transactions take the lock up front instead of failing with
/// `SQLITE_BUSY` when a read-then-write transaction's snapshot goes stale), and the
/// rule versions come out as 1..=N with no gaps or duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_all_succeed() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("Acme").await;
    const N: i64 = 12;
    let mut rule_puts = tokio::task::JoinSet::new();
    let mut session_posts = tokio::task::JoinSet::new();
    for i in 0..N {
        let (client, key) = (app.client.clone(), api_key.clone());
        let rules_url = app.url("/v1/rules");
        let body = json!({"required_checks": ["capture_quality"], "approve_at": 0.5 + i as f64 / 100.0});
        rule_puts.spawn(async move {
            let resp = client.put(rules_url).bearer_auth(key).json(&body).send().await.unwrap();
            (resp.status(), resp.text().await.unwrap())
        });
        let (client, key) = (app.client.clone(), api_key.clone());
        let sessions_url = app.url("/v1/sessions");
        let body = json!({"steps": ["document_front"], "reference": format!("r{i}")});
        session_posts.spawn(async move {
            let resp = client.post(sessions_url).bearer_auth(key).json(&body).send().await.unwrap();
            (resp.status(), resp.text().await.unwrap())
        });
    }
    let mut versions = Vec::new();
    for (status, text) in rule_puts.join_all().await {
        assert_eq!(status, StatusCode::CREATED, "{text}");
        versions.push(serde_json::from_str::<Value>(&text).unwrap()["version"].as_i64().unwrap());
    }
    for (status, text) in session_posts.join_all().await {
        assert_eq!(status, StatusCode::CREATED, "{text}");
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=N).collect::<Vec<_>>());
}
