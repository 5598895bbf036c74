//! Reusable credentials through the HTTP API: issued only for approved sessions of tenants
//! that enable them, verifiable with the published key, selectively disclosable, and
//! refused when a claim is changed or the key is wrong.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustcap_credential::{Disclosure, IssuerKey, IssuerPublicKey};
use trustcap_protocol::Step;

/// `POST /v1/sessions/{id}/credential`.
async fn request_credential(app: &TestApp, api_key: &str, id: &str) -> reqwest::Response {
    app.client.post(app.url(&format!("/v1/sessions/{id}/credential"))).bearer_auth(api_key).send().await.unwrap()
}

/// `POST /v1/credentials/verify` (no authentication: relying parties call it).
async fn verify_remote(app: &TestApp, presentation: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/credentials/verify"))
        .json(&json!({"presentation": presentation}))
        .send()
        .await
        .unwrap()
}

/// The presentation that keeps only the disclosures named in `reveal`.
fn present(sd_jwt: &str, reveal: &[&str]) -> String {
    let mut parts = sd_jwt.split('~');
    let mut out = parts.next().unwrap().to_owned();
    out.push('~');
    for encoded in parts.filter(|p| !p.is_empty()) {
        if reveal.contains(&Disclosure::parse(encoded).unwrap().name.as_str()) {
            out.push_str(encoded);
            out.push('~');
        }
    }
    out
}

#[tokio::test]
async fn an_approved_applicant_gets_a_credential_that_verifies_with_the_published_key() {
    let app = spawn_app_with(|s| s.public_url = Some("https://verify.example.com".into())).await;
    let (tenant, api_key) = app.tenant("issuing").await;
    let (_, other_key) = app.tenant("other").await;
    let mut rules: Value =
        app.client.get(app.url("/v1/rules")).bearer_auth(&api_key).send().await.unwrap().json().await.unwrap();
    rules["rules"]["approve_at"] = json!(0.5);
    app.put_rules(&api_key, &rules["rules"]).await;

    let key = signing_key(3);
    let applicant = json!({"given_names": "Zebulon", "family_name": "Quaternary", "date_of_birth": "1980-02-03"});
    let pending = app.applicant_session(&api_key, &key, &["document_front"], applicant.clone()).await;
    let session = app.applicant_session(&api_key, &key, &["document_front"], applicant).await;
    assert_eq!(app.capture(&session, &key, Step::DocumentFront, &good_document()).await.status(), StatusCode::CREATED);
    let decided = app.wait_decided(&api_key, &session.id, 60).await;
    assert_eq!(decided["state"], "approved", "{decided}");

    // Off unless the tenant's rules turn it on; never before approval; never across tenants.
    assert_error(request_credential(&app, &api_key, &session.id).await, 409, "credential_disabled").await;
    rules["rules"]["credential"] = json!({"enabled": true, "validity_days": 30});
    app.put_rules(&api_key, &rules["rules"]).await;
    assert_error(request_credential(&app, &api_key, &pending.id).await, 409, "session_not_approved").await;
    assert_error(request_credential(&app, &other_key, &session.id).await, 404, "not_found").await;

    let resp = request_credential(&app, &api_key, &session.id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let issued: Value = resp.json().await.unwrap();
    assert_eq!(issued["issuer"], "https://verify.example.com");
    assert_eq!(issued["claims"]["verified"], true);
    assert!(issued["claims"]["verified_on"].is_string());
    assert_eq!(
        issued["expires_at"].as_i64().unwrap() - issued["issued_at"].as_i64().unwrap(),
        30 * 86_400,
        "validity from the tenant's rules"
    );
    let sd_jwt = issued["sd_jwt"].as_str().unwrap();

    // No applicant data in any part of it (the JWT's payload and every disclosure).
    let decoded: String = sd_jwt
        .split(['~', '.'])
        .filter_map(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(decoded.contains("verified_on"), "the disclosures decode");
    for pii in ["Zebulon", "Quaternary", "1980"] {
        assert!(!decoded.contains(pii), "{pii} in the credential");
    }

    // The published key verifies it, through the metadata and through the JWK set.
    let metadata: Value =
        app.client.get(app.url("/.well-known/jwt-vc-issuer")).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["issuer"], "https://verify.example.com");
    let jwks: Value = app.client.get(app.url("/v1/credentials/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["jwks"], jwks);
    let published = IssuerPublicKey::from_jwk(&jwks["keys"][0]).unwrap();
    let now = issued["issued_at"].as_i64().unwrap();
    let all = trustcap_credential::verify(sd_jwt, &published, now).unwrap();
    assert_eq!(Value::Object(all.claims.clone().into_iter().collect()), issued["claims"]);

    // Selective disclosure: only the chosen claim is revealed.
    let shown = present(sd_jwt, &["verified_on"]);
    let resp = verify_remote(&app, &shown).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["valid"], true);
    assert_eq!(body["claims"], json!({"verified_on": issued["claims"]["verified_on"]}));

    // A changed claim (a disclosure re-encoded with another value) is refused.
    let original = shown.split('~').nth(1).unwrap();
    let d = Disclosure::parse(original).unwrap();
    let forged = Disclosure::new([9; 16], &d.name, json!("1999-01-01")).unwrap();
    let changed = shown.replace(original, &forged.encoded);
    assert_error(verify_remote(&app, &changed).await, 422, "credential_unknown_disclosure").await;
    // A wrong key: another issuer's key does not verify it (its key id is not the header's).
    let stranger = IssuerKey::from_seed([1; 32]).public_key();
    assert_eq!(trustcap_credential::verify(sd_jwt, &stranger, now).unwrap_err().code(), "credential_unsupported");
    // A forged signature is refused by the endpoint too.
    let (head, sig) = sd_jwt.split_once('~').unwrap().0.rsplit_once('.').unwrap();
    let mut bad_sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    bad_sig[0] ^= 1;
    let tampered = format!("{head}.{}~", URL_SAFE_NO_PAD.encode(bad_sig));
    assert_error(verify_remote(&app, &tampered).await, 422, "credential_bad_signature").await;
    assert_error(verify_remote(&app, "not a credential").await, 422, "credential_malformed").await;

    // Each issuance is on the tenant's audit chain (no claim values, no applicant data).
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE chain = $1 AND action = 'credential.issued' ORDER BY seq",
    )
    .bind(&tenant)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(details.len(), 1);
    let entry: Value = serde_json::from_str(&details[0]).unwrap();
    assert!(entry["claims"].as_array().unwrap().contains(&json!("verified_on")));
    let chain: Value =
        app.client.get(app.url("/v1/audit/verify")).bearer_auth(&api_key).send().await.unwrap().json().await.unwrap();
    assert_eq!(chain["ok"], true, "{chain}");
}

#[tokio::test]
async fn rules_bound_the_credential_validity() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("bounds").await;
    let mut rules: Value =
        app.client.get(app.url("/v1/rules")).bearer_auth(&api_key).send().await.unwrap().json().await.unwrap();
    rules["rules"]["credential"] = json!({"enabled": true, "validity_days": 0});
    let resp = app.client.put(app.url("/v1/rules")).bearer_auth(&api_key).json(&rules["rules"]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}
