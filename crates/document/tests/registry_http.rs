//! The HTTP registry connector against a fake registry server started by the test on loopback.
#![cfg(feature = "http")]

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use trustcap_document::idnum::aadhaar::Aadhaar;
use trustcap_document::idnum::registry::{
    HttpRegistry, IdKind, RegistryConnector, RegistryError, RegistryQuery, RegistryVerdict,
};

async fn lookup(headers: HeaderMap, Json(q): Json<Value>) -> (StatusCode, Json<Value>) {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer secret-token") {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    let number = q["number"].as_str().unwrap_or("");
    let name = q["name"].as_str().unwrap_or("");
    let body = match (q["kind"].as_str(), number) {
        (Some("aadhaar"), "234123412346") if name == "ANNA ERIKSSON" => json!({"result": "match", "reference": "r-1"}),
        (Some("aadhaar"), "234123412346") => json!({"result": "no_match", "reference": "r-2"}),
        (Some("aadhaar"), _) => json!({"result": "not_found"}),
        _ => json!({"unexpected": true}),
    };
    (StatusCode::OK, Json(body))
}

async fn start() -> String {
    let app = Router::new().route("/v1/lookup", post(lookup));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn query(number: &str, name: &str, kind: IdKind) -> RegistryQuery {
    RegistryQuery { kind, number: number.into(), name: Some(name.into()), birth_date: Some("1974-08-12".into()) }
}

#[tokio::test]
async fn lookups_against_a_fake_registry() {
    let base = start().await;
    let registry = HttpRegistry::new(&base, "secret-token", Duration::from_secs(5)).expect("client");
    let number = Aadhaar::parse("2341 2341 2346").expect("valid aadhaar");

    let r = registry.lookup(&query(number.as_str(), "ANNA ERIKSSON", IdKind::Aadhaar)).await.expect("lookup");
    assert_eq!(r.result, RegistryVerdict::Match);
    assert_eq!(r.reference.as_deref(), Some("r-1"));
    let r = registry.lookup(&query(number.as_str(), "JOHN SMITH", IdKind::Aadhaar)).await.expect("lookup");
    assert_eq!(r.result, RegistryVerdict::NoMatch);
    let r = registry.lookup(&query("999999990019", "X", IdKind::Aadhaar)).await.expect("lookup");
    assert_eq!(r.result, RegistryVerdict::NotFound);

    // A malformed answer and a wrong token are typed errors.
    let err = registry.lookup(&query("ABCPE1234F", "X", IdKind::Pan)).await.expect_err("malformed");
    assert!(matches!(err, RegistryError::Malformed), "{err:?}");
    let wrong = HttpRegistry::new(&base, "wrong", Duration::from_secs(5)).expect("client");
    let err = wrong.lookup(&query(number.as_str(), "ANNA ERIKSSON", IdKind::Aadhaar)).await.expect_err("401");
    assert!(matches!(err, RegistryError::Status(401)));
    assert_eq!(err.code(), "registry_status");

    // Nothing listening: a transport error, not a panic.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let dead = HttpRegistry::new(&format!("http://{closed}"), "t", Duration::from_secs(2)).expect("client");
    let err = dead.lookup(&query(number.as_str(), "A", IdKind::Aadhaar)).await.expect_err("unreachable");
    assert_eq!(err.code(), "registry_unreachable");
}
