//! The SSRF filter end to end: forbidden endpoint URLs are refused at registration with
//! a stable code, and a name that resolves to a loopback address is refused at delivery
//! (recorded in the delivery log, not retried) unless private networks are allowed.

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use common::receiver::Receiver;
use common::*;
use reqwest::StatusCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::{Value, json};
use trustcap_protocol::Step;
use trustcap_verifier::clock::{SharedClock, SystemClock};
use trustcap_verifier::load_or_create_secret;
use trustcap_verifier::webhook::deliver::{Deliverer, DelivererConfig};
use trustcap_verifier::webhook::secret::SecretBox;
use trustcap_verifier::webhook::ssrf::UrlPolicy;

/// A resolver answering from a fixed table (no network), like a hostile DNS server would.
struct FakeResolver(HashMap<String, IpAddr>);

impl Resolve for FakeResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let answer = self.0.get(name.as_str()).copied();
        Box::pin(async move {
            let ip = answer.ok_or_else(|| Box::<dyn std::error::Error + Send + Sync>::from("no such name"))?;
            let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

async fn put_webhook(app: &TestApp, api_key: &str, url: &str) -> reqwest::Response {
    app.client.put(app.url("/v1/webhook")).bearer_auth(api_key).json(&json!({"url": url})).send().await.unwrap()
}

#[tokio::test]
async fn forbidden_urls_are_refused_at_registration() {
    let app = spawn_app_with(|s| {
        s.webhooks_allow_http = false;
        s.webhooks_allow_private_networks = false;
    })
    .await;
    let (_, api_key) = app.tenant("ssrf").await;
    for url in [
        "http://169.254.169.254/",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/",
        "https://127.0.0.1:5432/",
        "https://[::ffff:127.0.0.1]/",
        "https://0x7f000001/",
        "https://user:pw@hooks.example/",
    ] {
        assert_error(put_webhook(&app, &api_key, url).await, 400, "webhook_url_forbidden").await;
    }
    assert_error(put_webhook(&app, &api_key, "ftp://hooks.example/").await, 400, "webhook_url_invalid").await;
    assert_error(put_webhook(&app, &api_key, "hooks").await, 400, "webhook_url_invalid").await;
    let resp = app.client.get(app.url("/v1/webhook")).bearer_auth(&api_key).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "nothing was stored");
    // A public https endpoint is accepted.
    assert_eq!(put_webhook(&app, &api_key, "https://hooks.example/trustcap").await.status(), StatusCode::OK);
}

fn deliverer(app: &TestApp, allow_private_networks: bool) -> Deliverer {
    let secret = load_or_create_secret(&app.dir.path().join("secret.key")).unwrap();
    let clock: SharedClock = Arc::new(SystemClock);
    let config = DelivererConfig {
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(20),
        batch: 8,
        policy: UrlPolicy { allow_http: true, allow_private_networks },
    };
    let resolver = FakeResolver(HashMap::from([("evil.example".to_owned(), IpAddr::from([127, 0, 0, 1]))]));
    Deliverer::with_resolver(
        app.db.clone(),
        clock,
        SecretBox::new(secret.webhook_encryption_key()),
        config,
        Arc::new(resolver),
    )
}

async fn delivery_log(app: &TestApp, api_key: &str, session: &str) -> Vec<Value> {
    let log: Value = app
        .client
        .get(app.url(&format!("/v1/sessions/{session}/events")))
        .bearer_auth(api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_at_delivery_unless_allowed() {
    // No workers: only the deliverers built below send, with the fake resolver.
    let app = spawn_app_with(|s| s.workers = 0).await;
    let receiver = Receiver::start().await;
    let port = receiver.url.rsplit(':').next().unwrap().trim_end_matches("/hook").to_owned();
    let (_, api_key) = app.tenant("rebind").await;
    app.set_webhook(&api_key, &format!("http://evil.example:{port}/hook")).await;
    let key = signing_key(31);
    let session = app.ready_session(&api_key, &key).await;
    assert_eq!(app.capture(&session, &key, Step::DocumentFront, &good_document()).await.status(), StatusCode::CREATED);

    // Switch off: every delivery is refused, logged as blocked, and failed at once.
    let strict = deliverer(&app, false);
    let sent = strict.run_once().await.unwrap();
    assert!(sent >= 1, "{sent}");
    let events = delivery_log(&app, &api_key, &session.id).await;
    assert!(!events.is_empty());
    for e in &events {
        let d = &e["deliveries"][0];
        assert_eq!(d["state"], "failed", "{e}");
        let error = d["log"][0]["error"].as_str().unwrap();
        assert!(error.starts_with("blocked: "), "{error}");
        assert!(d["log"][0]["status"].is_null());
    }
    assert_eq!(strict.run_once().await.unwrap(), 0, "a blocked delivery is not retried");
    assert!(receiver.all().is_empty(), "the loopback receiver was never contacted");

    // Switch on (local receivers, tests, the demo): a redelivery reaches the receiver.
    let event_id = events[0]["event_id"].as_str().unwrap();
    let resp = app
        .client
        .post(app.url(&format!("/v1/events/{event_id}/redeliver")))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let lenient = deliverer(&app, true);
    assert_eq!(lenient.run_once().await.unwrap(), 1);
    let got = receiver.accepted();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["id"], event_id);
    let events = delivery_log(&app, &api_key, &session.id).await;
    let states: Vec<&str> =
        events[0]["deliveries"].as_array().unwrap().iter().map(|d| d["state"].as_str().unwrap()).collect();
    assert!(states.contains(&"delivered"), "{states:?}");
}

#[tokio::test]
async fn a_stored_literal_private_address_is_refused_at_delivery() {
    // Registered while private networks were allowed, delivered after they no longer are.
    let app = spawn_app_with(|s| s.workers = 0).await;
    let receiver = Receiver::start().await;
    let (_, api_key) = app.tenant("literal").await;
    app.set_webhook(&api_key, &receiver.url).await;
    let key = signing_key(32);
    let session = app.ready_session(&api_key, &key).await;
    assert_eq!(app.capture(&session, &key, Step::DocumentFront, &good_document()).await.status(), StatusCode::CREATED);
    assert!(deliverer(&app, false).run_once().await.unwrap() >= 1);
    let events = delivery_log(&app, &api_key, &session.id).await;
    let d = &events[0]["deliveries"][0];
    assert_eq!(d["state"], "failed", "{d}");
    assert!(d["log"][0]["error"].as_str().unwrap().starts_with("blocked: "), "{d}");
    assert!(receiver.all().is_empty());
}
