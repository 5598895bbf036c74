//! A document capture with its original photo (issue 7): the rectified document and the whole
//! camera frame in one signed upload, both stored sealed, both on the console's case page (side by
//! side), the checks judging the document as before, and neither image visible to another tenant.
//! Layouts other than "document, then optionally `document_original`" are refused.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustcap_protocol::document::ORIGINAL_PART;
use trustcap_protocol::{ImagePart, Step, seal};
use trustcap_verifier::audit::Actor;
use trustcap_verifier::console::accounts::{self, Email, Role};
use trustcap_verifier::console::password::Password;
use trustcap_verifier::domain::TenantId;
use trustcap_verifier::time::now_secs;
use trustcap_verifier::vault::Purpose;

const PASSWORD: &str = "correct horse battery staple";
const ORIGINAL_SIZE: (u32, u32) = (1280, 720);

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A reviewer of `tenant`, signed in: the session cookie.
async fn reviewer_cookie(app: &TestApp, tenant: &str, email: &str) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    let password = Password::parse_new(PASSWORD).unwrap();
    let parsed = Email::parse(email).unwrap();
    accounts::create_reviewer(&app.db, Actor::Cli, &tenant, &parsed, Role::Reviewer, password, now_secs())
        .await
        .unwrap();
    let resp = client()
        .post(app.url("/console/login"))
        .header("origin", &app.base)
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    resp.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    client().get(app.url(path)).header("cookie", cookie).send().await.unwrap()
}

/// The rectified document (640×360) and the whole frame (1280×720), sealed as the SDK does.
fn two_part_upload(
    session: &str,
    nonce: &str,
    key: &trustcap_protocol::CaptureSigningKey,
) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let document = good_document();
    let original = jpeg(ORIGINAL_SIZE.0, ORIGINAL_SIZE.1);
    let parts = [
        ImagePart {
            name: "document_front",
            content_type: "image/jpeg",
            width: WIDTH,
            height: HEIGHT,
            bytes: &document,
        },
        ImagePart {
            name: ORIGINAL_PART,
            content_type: "image/jpeg",
            width: ORIGINAL_SIZE.0,
            height: ORIGINAL_SIZE.1,
            bytes: &original,
        },
    ];
    let payload = seal(draft(session, nonce, Step::DocumentFront), &parts, key).unwrap();
    (payload, document, original)
}

/// The `src` of the case page's side-by-side figure of this kind.
fn figure_src(page: &str, kind: &str) -> String {
    let figure =
        page.split(&format!("<figure data-kind=\"{kind}\"")).nth(1).unwrap_or_else(|| panic!("{kind}: {page}"));
    figure.split("<img src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn document_with_original_photo_is_stored_shown_side_by_side_and_tenant_isolated() {
    let app = spawn_app().await;
    let (tenant_a, key_a) = app.tenant("A").await;
    let (tenant_b, _) = app.tenant("B").await;
    // Every session goes to review (a required check that never runs), so the console lists it.
    app.put_rules(
        &key_a,
        &json!({"required_checks": ["capture_quality", "capture_integrity", "manual_review"], "approve_at": 0.8}),
    )
    .await;
    let key = signing_key(21);
    let session = app.ready_session(&key_a, &key).await;
    let nonce = app.nonce(&session.token).await;
    let (payload, document, original) = two_part_upload(&session.id, &nonce, &key);
    let resp = app.upload(&session.token, payload).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let capture_id = resp.json::<Value>().await.unwrap()["capture_id"].as_str().unwrap().to_owned();

    // Both parts stored, in order, sealed at rest.
    let rows: Vec<(i64, String, Vec<u8>, String)> = sqlx::query_as(
        "SELECT position, name, data, sha256 FROM capture_images WHERE capture_id = $1 ORDER BY position",
    )
    .bind(&capture_id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(names, ["document_front", ORIGINAL_PART]);
    let vault = app.vault(&session.id).await;
    for ((_, _, stored, sha), plain) in rows.iter().zip([&document, &original]) {
        assert_ne!(stored, plain, "stored in plain");
        assert_eq!(&vault.open(Purpose::CaptureImage(sha), stored).unwrap(), plain);
    }

    // The checks judge the rectified document as before; the original is measured, not counted.
    let view = app.wait_decided(&key_a, &session.id, 60).await;
    assert_eq!(view["state"], "review", "{view}");
    let images = view["captures"][0]["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!((images[1]["name"].as_str(), images[1]["width"].as_u64()), (Some(ORIGINAL_PART), Some(1280)));
    let checks = view["checks"].as_array().unwrap();
    let check = |name: &str| checks.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("{name}: {view}"));
    let quality = check("capture_quality");
    assert_eq!(quality["outcome"], "passed", "{quality}");
    let measured = quality["details"]["images"].as_array().unwrap();
    let counted: Vec<(&str, bool)> =
        measured.iter().map(|m| (m["image"].as_str().unwrap(), m["counted"].as_bool().unwrap())).collect();
    assert_eq!(counted, [("document_front", true), (ORIGINAL_PART, false)]);
    assert_eq!(check("capture_integrity")["outcome"], "passed");

    // The case page: original photo and rectified document side by side, with text alternatives.
    let a = reviewer_cookie(&app, &tenant_a, "a@a.example").await;
    let page = get(&app, &a, &format!("/console/cases/{}", session.id)).await.text().await.unwrap();
    assert!(page.contains("id=\"compare\""), "{page}");
    assert!(page.contains("<figcaption>Original photo · document front</figcaption>"));
    assert!(page.contains("<figcaption>Rectified document · document front</figcaption>"));
    assert!(page.contains("alt=\"Original camera photo of the document front, 1280×720 pixels\""));
    assert!(page.contains("alt=\"Rectified (cropped and straightened) image of the document front, 640×360 pixels\""));
    let original_src = figure_src(&page, "original");
    let rectified_src = figure_src(&page, "rectified");
    assert!(page.find(&original_src) < page.find(&rectified_src));
    for (src, want) in [(&original_src, &original), (&rectified_src, &document)] {
        let resp = get(&app, &a, src).await;
        assert_eq!(resp.status(), StatusCode::OK, "{src}");
        assert_eq!(resp.headers()["content-type"], "image/jpeg");
        assert_eq!(&resp.bytes().await.unwrap().to_vec(), want, "{src}");
    }

    // Tenant B's reviewer gets neither image (nor the page).
    let b = reviewer_cookie(&app, &tenant_b, "b@b.example").await;
    for path in [format!("/console/cases/{}", session.id), original_src, rectified_src] {
        let resp = get(&app, &b, &path).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn other_document_layouts_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(22);
    let session = app.ready_session(&api_key, &key).await;
    let nonce = app.nonce(&session.token).await;
    let document = good_document();
    let original = jpeg(ORIGINAL_SIZE.0, ORIGINAL_SIZE.1);
    fn part<'a>(name: &'a str, bytes: &'a [u8], (width, height): (u32, u32)) -> ImagePart<'a> {
        ImagePart { name, content_type: "image/jpeg", width, height, bytes }
    }
    let (document, original) = (document.as_slice(), original.as_slice());
    let layouts = [
        vec![part(ORIGINAL_PART, original, ORIGINAL_SIZE), part("document_front", document, (WIDTH, HEIGHT))],
        vec![part("document_front", document, (WIDTH, HEIGHT)), part("extra", original, ORIGINAL_SIZE)],
        vec![
            part("document_front", document, (WIDTH, HEIGHT)),
            part(ORIGINAL_PART, original, ORIGINAL_SIZE),
            part("third", document, (WIDTH, HEIGHT)),
        ],
    ];
    for parts in &layouts {
        // The SDK's sealing refuses these layouts too: build the envelope by hand.
        let manifest = trustcap_protocol::Manifest {
            v: trustcap_protocol::PAYLOAD_VERSION,
            session_id: session.id.clone(),
            nonce: nonce.clone(),
            key_id: key.public_key().key_id(),
            step: Step::DocumentFront,
            captured_at_ms: 1_700_000_000_000,
            sdk: trustcap_protocol::SdkInfo { name: "trustcap-web".into(), version: "0.1.0".into() },
            device: trustcap_protocol::DeviceInfo {
                user_agent: "test".into(),
                camera_label: String::new(),
                frames_analyzed: 1,
            },
            quality: Default::default(),
            images: parts
                .iter()
                .map(|p| trustcap_protocol::ImageEntry {
                    name: p.name.into(),
                    content_type: p.content_type.into(),
                    width: p.width,
                    height: p.height,
                    byte_len: p.bytes.len() as u64,
                    sha256: trustcap_protocol::digest::sha256_hex(p.bytes),
                })
                .collect(),
        };
        assert!(manifest.to_canonical_bytes().is_err(), "sealing refuses the layout");
        let text = serde_json::to_vec(&manifest).unwrap();
        let envelope = trustcap_protocol::Envelope {
            manifest: &text,
            signature: key.sign_manifest(&text),
            parts: parts.iter().map(|p| p.bytes).collect(),
        };
        assert_error(app.upload(&session.token, envelope.encode().unwrap()).await, 400, "manifest_invalid").await;
    }
    assert_eq!(app.count("captures").await, 0);
    // The nonce is still good for a valid two-part upload.
    let (payload, _, _) = two_part_upload(&session.id, &nonce, &key);
    assert_eq!(app.upload(&session.token, payload).await.status(), StatusCode::CREATED);
    assert_eq!(app.count("capture_images").await, 2);
}
