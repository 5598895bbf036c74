//! Scenarios run against SQLite and PostgreSQL alike.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustcap_protocol::Step;
use trustcap_verifier::clock::Clock as _;
use trustcap_verifier::time::now_secs;
use trustcap_verifier::webhook;

use super::receiver::{self, Receiver};
use super::*;

fn verify_signature(r: &receiver::Received, secret: &str) {
    let header = r.headers.get("trustcap-signature").expect("signature header");
    webhook::verify(header, &r.body, secret, now_secs(), 3600)
        .unwrap_or_else(|e| panic!("signature {header:?} does not verify: {e}"));
    assert_eq!(r.headers.get("trustcap-event-id").map(String::as_str), r.json()["id"].as_str());
    assert_eq!(r.headers.get("idempotency-key"), r.headers.get("trustcap-event-id"));
}

fn types_for(received: &[receiver::Received], session: &str) -> Vec<String> {
    received
        .iter()
        .map(|r| r.json())
        .filter(|v| v["session_id"] == session)
        .map(|v| v["type"].as_str().unwrap().to_owned())
        .collect()
}

/// Create → capture → submitted → processing → approved, seen by polling (with ETag) and
/// by a real webhook receiver; delivery log, redelivery and secret rotation.
pub async fn lifecycle(kind: DbKind) {
    let app = spawn(Spawn { kind, ..Spawn::default() }, |_| {}).await;
    let receiver = Receiver::start().await;
    let (_, api_key) = app.tenant("Acme").await;
    let secret = app.set_webhook(&api_key, &receiver.url).await;
    assert!(secret.starts_with("whsec_"));
    let endpoint: Value =
        app.client.get(app.url("/v1/webhook")).bearer_auth(&api_key).send().await.unwrap().json().await.unwrap();
    assert_eq!(endpoint["url"], receiver.url.as_str());
    assert!(endpoint.get("secret").is_none());

    let resp = app
        .post_session(
            &api_key,
            json!({"steps": ["document_front"], "reference": "order-7", "applicant": {"family_name": "Doe", "date_of_birth": "1990-01-31"}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["state"], "created");
    assert_eq!(created["id"], created["session_id"]);
    let session = Session {
        id: created["session_id"].as_str().unwrap().to_owned(),
        token: created["client_token"].as_str().unwrap().to_owned(),
    };
    let key = signing_key(21);
    assert_eq!(app.register_key(&session.token, &key).await.status(), StatusCode::CREATED);
    let resp = app.capture(&session, &key, Step::DocumentFront, &good_document()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let accepted: Value = resp.json().await.unwrap();
    assert_eq!((accepted["status"].as_str(), accepted["duplicate"].as_bool()), (Some("submitted"), Some(false)));

    let view = app.wait_decided(&api_key, &session.id, 60).await;
    assert_eq!(view["state"], "approved", "{view}");
    assert_eq!(view["status"], "submitted", "the compatibility field keeps its capture-phase meaning");
    assert_eq!(view["decision"]["state"], "approved");
    assert_eq!(view["decision"]["trust_score"], 1.0);
    assert_eq!(view["decision"]["rule_set_version"], 0);
    let checks: BTreeMap<&str, &Value> =
        view["checks"].as_array().unwrap().iter().map(|c| (c["name"].as_str().unwrap(), c)).collect();
    assert_eq!(checks.keys().copied().collect::<Vec<_>>(), ["capture_integrity", "capture_quality"]);
    for check in checks.values() {
        assert_eq!(check["outcome"], "passed", "{check}");
        assert_eq!(check["version"], "1.0.0");
    }
    assert_eq!(checks["capture_quality"]["details"]["images"][0]["acceptable"], true);
    assert!(view.to_string().find("Doe").is_none(), "applicant data is not echoed");

    // Polling with the ETag: unchanged → 304.
    let resp = app.get_session(&api_key, &session.id).await;
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let resp = app
        .client
        .get(app.url(&format!("/v1/sessions/{}", session.id)))
        .bearer_auth(&api_key)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

    // Webhooks: submitted, processing, approved, in order, signed, one id each.
    receiver.wait_for(30, "three events", |r| r.len() >= 3).await;
    let got = receiver.accepted();
    assert_eq!(types_for(&got, &session.id), ["session.submitted", "session.processing", "session.approved"]);
    for (i, r) in got.iter().enumerate() {
        verify_signature(r, &secret);
        let body = r.json();
        assert_eq!(body["sequence"], i as i64 + 1);
        assert_eq!(body["data"]["reference"], "order-7");
        assert!(!String::from_utf8_lossy(&r.body).contains("Doe"), "no applicant data in webhooks");
    }
    let approved = got[2].json();
    assert_eq!(approved["data"]["decision"]["state"], "approved");
    let ids: BTreeSet<_> = got.iter().map(|r| r.json()["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 3);

    // The delivery log.
    let log: Value = app
        .client
        .get(app.url(&format!("/v1/sessions/{}/events", session.id)))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    for e in events {
        assert_eq!(e["deliveries"][0]["state"], "delivered", "{e}");
        assert_eq!(e["deliveries"][0]["log"][0]["status"], 200);
    }

    // Redelivery: same id, same bytes.
    let event_id = approved["id"].as_str().unwrap();
    let resp = app
        .client
        .post(app.url(&format!("/v1/events/{event_id}/redeliver")))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    receiver.wait_for(30, "the redelivery", |r| r.len() >= 4).await;
    let again = receiver.accepted()[3].clone();
    assert_eq!(again.body, got[2].body);
    verify_signature(&again, &secret);

    // Rotation: both secrets verify during the overlap.
    let rotated: Value = app
        .client
        .post(app.url("/v1/webhook/rotate"))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    let resp = app
        .client
        .post(app.url(&format!("/v1/events/{event_id}/redeliver")))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    receiver.wait_for(30, "the redelivery after rotation", |r| r.len() >= 5).await;
    let rotated_delivery = receiver.accepted()[4].clone();
    assert_eq!(rotated_delivery.headers["trustcap-signature"].matches("v1=").count(), 2);
    verify_signature(&rotated_delivery, &secret);
    verify_signature(&rotated_delivery, &new_secret);

    // An identical retry of the accepted upload is idempotent; the stored secret is not
    // in the database in clear.
    let stored: String =
        sqlx::query_scalar("SELECT secret_enc FROM webhook_endpoints").fetch_one(app.db.pool()).await.unwrap();
    assert!(!stored.contains(&new_secret[6..]));
}

/// A poor capture asks for a re-take (step-up), the re-take is approved; a rule set
/// requiring a check that is not available routes to review, recording its version.
pub async fn resubmission_and_rules(kind: DbKind) {
    let app = spawn(Spawn { kind, ..Spawn::default() }, |_| {}).await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(22);
    let session = app.ready_session(&api_key, &key).await;
    assert_eq!(
        app.capture(&session, &key, Step::DocumentFront, &blurred_document()).await.status(),
        StatusCode::CREATED
    );
    let view = app.wait_decided(&api_key, &session.id, 60).await;
    assert_eq!(view["state"], "resubmission_requested", "{view}");
    assert_eq!(view["status"], "capturing");
    assert_eq!(view["requested_steps"], json!(["document_front"]));
    assert_eq!(view["round"], 1);
    assert_eq!(view["decision"]["reasons"][0]["code"], "capture_quality.retake");

    let resp = app.client.get(app.url("/v1/client/session")).bearer_auth(&session.token).send().await.unwrap();
    let client_view: Value = resp.json().await.unwrap();
    assert_eq!(client_view["state"], "resubmission_requested");

    assert_eq!(app.capture(&session, &key, Step::DocumentFront, &good_document()).await.status(), StatusCode::CREATED);
    let view = app.wait_decided(&api_key, &session.id, 60).await;
    assert_eq!(view["state"], "approved", "{view}");
    assert_eq!(view["decision"]["round"], 1);
    assert_eq!(view["captures"].as_array().unwrap().len(), 2);

    // Rules: face_match is required but no such check is plugged in yet → review.
    let mut rules: Value =
        app.client.get(app.url("/v1/rules")).bearer_auth(&api_key).send().await.unwrap().json().await.unwrap();
    assert_eq!(rules["version"], 0);
    rules["rules"]["required_checks"].as_array_mut().unwrap().push(json!("face_match"));
    let resp = app.client.put(app.url("/v1/rules")).bearer_auth(&api_key).json(&rules["rules"]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.json::<Value>().await.unwrap()["version"], 1);
    let bad = app
        .client
        .put(app.url("/v1/rules"))
        .bearer_auth(&api_key)
        .json(&json!({"approve_at": 7}))
        .send()
        .await
        .unwrap();
    assert_error(bad, 400, "invalid_request").await;

    let session = app.ready_session(&api_key, &key).await;
    assert_eq!(app.capture(&session, &key, Step::DocumentFront, &good_document()).await.status(), StatusCode::CREATED);
    let view = app.wait_decided(&api_key, &session.id, 60).await;
    assert_eq!(view["state"], "review", "{view}");
    assert_eq!(view["decision"]["rule_set_version"], 1);
    assert_eq!(view["decision"]["reasons"][0]["code"], "face_match.not_run");
}

/// The receiver answers 500, then hangs past the timeout, for what the test clock says is
/// two days; once it recovers it gets every event, in order per session, each once.
pub async fn outage(kind: DbKind) {
    let app = spawn(Spawn { kind, manual_clock: true, ..Spawn::default() }, |s| s.webhook_timeout_secs = 1).await;
    let clock = app.clock.clone().unwrap();
    let receiver = Receiver::start().await;
    receiver.set_mode(receiver::FAIL_500);
    let (_, api_key) = app.tenant("Acme").await;
    let secret = app.set_webhook(&api_key, &receiver.url).await;
    let key = signing_key(23);
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let session = app.ready_session(&api_key, &key).await;
        assert_eq!(
            app.capture(&session, &key, Step::DocumentFront, &good_document()).await.status(),
            StatusCode::CREATED
        );
        sessions.push(session);
    }
    for s in &sessions {
        assert_eq!(app.wait_decided(&api_key, &s.id, 60).await["state"], "approved");
    }
    // Every session's first event was tried and refused; nothing later went out of order.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while receiver.all().len() < 3 {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(receiver.accepted().is_empty());
    for r in receiver.all() {
        assert_eq!(r.json()["sequence"], 1, "only the first event of a session is tried while it fails");
    }

    // Two days of failures (500s, then time-outs), moving the test clock an hour at a time.
    for hour in 0..48 {
        if hour == 24 {
            receiver.set_mode(receiver::HANG);
        }
        clock.advance(3600);
        tokio::time::sleep(std::time::Duration::from_millis(if hour >= 24 && hour % 8 == 0 { 1300 } else { 60 })).await;
    }
    assert!(receiver.accepted().is_empty());
    let failed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE state = 'failed'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(failed, 0, "within three days nothing is given up");
    let errors: Vec<Option<String>> = sqlx::query_scalar("SELECT error FROM delivery_attempts WHERE error IS NOT NULL")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(errors.iter().any(|e| e.as_deref() == Some("timeout")), "time-outs are logged: {errors:?}");

    receiver.set_mode(receiver::OK);
    for _ in 0..4 {
        clock.advance(3600);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    receiver.wait_for(60, "all nine events", |r| r.len() >= 9).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let got = receiver.accepted();
    assert_eq!(got.len(), 9, "each event once: {:?}", receiver.summary());
    for s in &sessions {
        assert_eq!(types_for(&got, &s.id), ["session.submitted", "session.processing", "session.approved"]);
    }
    for r in &got {
        let header = r.headers.get("trustcap-signature").unwrap();
        let t = webhook::verify(header, &r.body, &secret, clock.now(), 5 * 3600).unwrap();
        assert!(t > now_secs() + 40 * 3600, "signed with the test clock's time");
    }
    let delivered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(delivered, 9);
}

/// Every tenant endpoint with another tenant's key or token: 404/403/401, no data.
pub async fn tenant_isolation(kind: DbKind) {
    let app = spawn(Spawn { kind, ..Spawn::default() }, |_| {}).await;
    let receiver = Receiver::start().await;
    let (_, key_a) = app.tenant("A").await;
    let (tenant_b, key_b) = app.tenant("B").await;
    app.set_webhook(&key_a, &receiver.url).await;
    let signing = signing_key(24);
    let session = app.ready_session(&key_a, &signing).await;
    assert_eq!(
        app.capture(&session, &signing, Step::DocumentFront, &good_document()).await.status(),
        StatusCode::CREATED
    );
    app.wait_decided(&key_a, &session.id, 60).await;
    receiver.wait_for(30, "events", |r| r.len() >= 3).await;
    let event_id = receiver.accepted()[0].json()["id"].as_str().unwrap().to_owned();
    let mut rules = serde_json::to_value(trustcap_verifier::rules::RuleSet::default()).unwrap();
    rules["approve_at"] = json!(0.95);
    let resp = app.client.put(app.url("/v1/rules")).bearer_auth(&key_a).json(&rules).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);

    let get = |path: String, key: &str| app.client.get(app.url(&path)).bearer_auth(key).send();
    assert_error(get(format!("/v1/sessions/{}", session.id), &key_b).await.unwrap(), 404, "not_found").await;
    assert_error(get(format!("/v1/sessions/{}/events", session.id), &key_b).await.unwrap(), 404, "not_found").await;
    let resp =
        app.client.post(app.url(&format!("/v1/events/{event_id}/redeliver"))).bearer_auth(&key_b).send().await.unwrap();
    assert_error(resp, 404, "not_found").await;
    assert_error(get("/v1/webhook".into(), &key_b).await.unwrap(), 404, "not_found").await;
    let resp = app.client.post(app.url("/v1/webhook/rotate")).bearer_auth(&key_b).send().await.unwrap();
    assert_error(resp, 404, "not_found").await;
    let b_rules: Value = get("/v1/rules".into(), &key_b).await.unwrap().json().await.unwrap();
    assert_eq!(b_rules["version"], 0, "B sees its own (default) rules, not A's");
    // A's client token is not an API key, and B's key is not a client token.
    assert_error(get(format!("/v1/sessions/{}", session.id), &session.token).await.unwrap(), 401, "unauthorized").await;
    let resp = app.client.get(app.url("/v1/client/session")).bearer_auth(&key_b).send().await.unwrap();
    assert_error(resp, 401, "token_malformed").await;
    // A token for A's session minted as if for tenant B finds nothing.
    let now = u64::try_from(now_secs()).unwrap();
    let forged = app
        .token_key()
        .issue(&trustcap_protocol::TokenClaims {
            sid: session.id.clone(),
            tid: tenant_b.clone(),
            steps: vec![Step::DocumentFront],
            iat: now,
            exp: now + 600,
            jti: "tok_aaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
        })
        .unwrap();
    for path in ["/v1/client/session"] {
        assert_error(app.client.get(app.url(path)).bearer_auth(&forged).send().await.unwrap(), 404, "not_found").await;
    }
    for path in ["/v1/client/nonce", "/v1/client/captures"] {
        assert_error(app.client.post(app.url(path)).bearer_auth(&forged).send().await.unwrap(), 404, "not_found").await;
    }
    // B's own session token cannot upload for A's session.
    let b_session = app.ready_session(&key_b, &signing).await;
    let nonce = app.nonce(&b_session.token).await;
    let payload = sealed(&session.id, &nonce, &signing, &good_document(), "image/jpeg", WIDTH, HEIGHT);
    assert_error(app.upload(&b_session.token, payload).await, 403, "session_mismatch").await;
    // Nothing of A's reached B's view of anything.
    let b_view: Value = get(format!("/v1/sessions/{}", b_session.id), &key_b).await.unwrap().json().await.unwrap();
    assert!(!b_view.to_string().contains(&session.id));
}
