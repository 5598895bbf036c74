//! The review console over a real server on SQLite: sign-in, lockout, CSRF and cross-site
//! refusals, tenant isolation, decisions with their webhooks and audit entries, four-eyes.

mod common;

use std::process::{Command, Stdio};

use common::receiver::Receiver;
use common::{Spawn, TestApp, good_document, signing_key, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row as _;
use trustcap_protocol::Step;
use trustcap_verifier::audit::Actor;
use trustcap_verifier::console::accounts::{self, Email, Role};
use trustcap_verifier::console::password::Password;
use trustcap_verifier::domain::TenantId;
use trustcap_verifier::time::now_secs;
use trustcap_verifier::webhook;

const PASSWORD: &str = "correct horse battery staple";

/// Rules that send every session to review (a required check that never runs).
fn review_everything() -> Value {
    json!({"required_checks": ["capture_quality", "capture_integrity", "manual_review"], "approve_at": 0.8})
}

/// A signed-in reviewer's browser: its cookie and CSRF token.
struct Reviewer {
    cookie: String,
    csrf: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn add_reviewer(app: &TestApp, tenant: &str, email: &str, role: Role) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    let password = Password::parse_new(PASSWORD).unwrap();
    let email = Email::parse(email).unwrap();
    accounts::create_reviewer(&app.db, Actor::Cli, &tenant, &email, role, password, now_secs())
        .await
        .unwrap()
        .to_string()
}

async fn post_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    client()
        .post(app.url("/console/login"))
        .header("origin", &app.base)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn login(app: &TestApp, email: &str) -> Reviewer {
    let resp = post_login(app, email, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/console");
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/console"] {
        assert!(set.contains(part), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = get(app, &cookie, "/console").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert_eq!(csrf.len(), 64);
    Reviewer { cookie, csrf }
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    client().get(app.url(path)).header("cookie", cookie).send().await.unwrap()
}

async fn post_form(app: &TestApp, who: &Reviewer, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(app.url(path))
        .header("cookie", &who.cookie)
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn decide(app: &TestApp, who: &Reviewer, session: &str, action: &str, reason: &str) -> reqwest::Response {
    let fields = [("csrf", who.csrf.as_str()), ("action", action), ("reason", reason), ("note", "checked by hand")];
    post_form(app, who, &format!("/console/cases/{session}/decision"), &fields).await
}

/// A session of the tenant that went through the pipeline into `review`.
async fn case_in_review(app: &TestApp, api_key: &str, applicant: Value) -> String {
    let key = signing_key(42);
    let session = app.applicant_session(api_key, &key, &["document_front"], applicant).await;
    let resp = app.capture(&session, &key, Step::DocumentFront, &good_document()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let view = app.wait_decided(api_key, &session.id, 60).await;
    assert_eq!(view["state"], "review", "{view}");
    session.id
}

async fn state_of(app: &TestApp, api_key: &str, id: &str) -> Value {
    app.get_session(api_key, id).await.json::<Value>().await.unwrap()
}

async fn audit_rows(app: &TestApp, chain: &str) -> Vec<(String, String, String, String)> {
    sqlx::query("SELECT actor, action, subject, details FROM audit_log WHERE chain = $1 ORDER BY seq")
        .bind(chain)
        .fetch_all(app.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("actor"), r.get("action"), r.get("subject"), r.get("details")))
        .collect()
}

fn assert_error_code(status: StatusCode, body: &str, want_status: StatusCode, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert!(
        body.contains(&format!("\"code\":\"{code}\"")) || body.contains(&format!("data-error-code=\"{code}\"")),
        "{body}"
    );
}

#[tokio::test]
async fn reviewer_signs_in_sees_the_case_and_approves_it() {
    let app = spawn(Spawn::default(), |_| {}).await;
    let receiver = Receiver::start().await;
    let (tenant, api_key) = app.tenant("Acme").await;
    let secret = app.set_webhook(&api_key, &receiver.url).await;
    app.put_rules(&api_key, &review_everything()).await;
    let reviewer_id = add_reviewer(&app, &tenant, "ana@acme.example", Role::Reviewer).await;
    let applicant = json!({"given_names": "Siobhán", "family_name": "<O'Brien>", "date_of_birth": "1990-01-31"});
    let session = case_in_review(&app, &api_key, applicant).await;

    // Not signed in: every page sends the browser to the sign-in page.
    let resp = get(&app, "", "/console").await;
    assert_eq!(
        (resp.status(), resp.headers()["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/console/login")
    );
    let resp =
        get(&app, "tc_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &format!("/console/cases/{session}")).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    // The sign-in page and its headers.
    let resp = client().get(app.url("/console/login")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));

    // Wrong password and unknown account look alike.
    let wrong = post_login(&app, "ana@acme.example", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_text = wrong.text().await.unwrap();
    let unknown = post_login(&app, "nobody@acme.example", "not the password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.text().await.unwrap(), wrong_text);

    let ana = login(&app, "ana@acme.example").await;

    // The queue lists the case with its reasons.
    let queue = get(&app, &ana.cookie, "/console").await.text().await.unwrap();
    assert!(queue.contains(&format!("href=\"/console/cases/{session}\"")), "{queue}");
    assert!(queue.contains("manual_review.not_run"));

    // The case: images, checks with their explanation, the declared data (escaped).
    let resp = get(&app, &ana.cookie, &format!("/console/cases/{session}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let page = resp.text().await.unwrap();
    for needle in [
        "data-check=\"capture_quality\"",
        "data-check=\"capture_integrity\"",
        "Siobhán",
        "&lt;O&#39;Brien&gt;",
        "<dt>date of birth</dt>",
        "id=\"form-approve\"",
    ] {
        assert!(page.contains(needle), "{needle} missing");
    }
    assert!(!page.contains("<O'Brien>"), "applicant data is escaped");
    let image_path = page.split("<img src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let image = get(&app, &ana.cookie, &image_path).await;
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/jpeg");
    assert_eq!(image.headers()["cache-control"], "no-store");
    assert_eq!(image.bytes().await.unwrap().as_ref(), good_document().as_slice());
    assert_eq!(get(&app, "", &image_path).await.status(), StatusCode::SEE_OTHER, "images need a session");

    // CSRF: no token, a wrong token, a cross-site origin, a cross-site fetch: 403, nothing changes.
    let path = format!("/console/cases/{session}/decision");
    let resp = post_form(&app, &ana, &path, &[("action", "approve"), ("reason", "reviewer.evidence_verified")]).await;
    let (s, b) = (resp.status(), resp.text().await.unwrap());
    assert_error_code(s, &b, StatusCode::FORBIDDEN, "csrf_token_invalid");
    let wrong_token = "0".repeat(64);
    let resp = post_form(
        &app,
        &ana,
        &path,
        &[("csrf", wrong_token.as_str()), ("action", "approve"), ("reason", "reviewer.evidence_verified")],
    )
    .await;
    let (s, b) = (resp.status(), resp.text().await.unwrap());
    assert_error_code(s, &b, StatusCode::FORBIDDEN, "csrf_token_invalid");
    let fields = [("csrf", ana.csrf.as_str()), ("action", "approve"), ("reason", "reviewer.evidence_verified")];
    for (name, value) in
        [("origin", "http://evil.example"), ("sec-fetch-site", "cross-site"), ("sec-fetch-site", "same-site")]
    {
        let resp = client()
            .post(app.url(&path))
            .header("cookie", &ana.cookie)
            .header(name, value)
            .form(&fields)
            .send()
            .await
            .unwrap();
        let (s, b) = (resp.status(), resp.text().await.unwrap());
        assert_error_code(s, &b, StatusCode::FORBIDDEN, "cross_site_request");
    }
    // A decision needs a reason.
    let resp = post_form(&app, &ana, &path, &[("csrf", ana.csrf.as_str()), ("action", "approve")]).await;
    let (s, b) = (resp.status(), resp.text().await.unwrap());
    assert_error_code(s, &b, StatusCode::BAD_REQUEST, "reason_required");
    assert_eq!(state_of(&app, &api_key, &session).await["state"], "review");

    // Approve.
    let resp = decide(&app, &ana, &session, "approve", "reviewer.evidence_verified").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"].to_str().unwrap(), format!("/console/cases/{session}?done=approved"));
    assert_eq!(state_of(&app, &api_key, &session).await["state"], "approved");
    let again = decide(&app, &ana, &session, "approve", "reviewer.evidence_verified").await;
    let (s, b) = (again.status(), again.text().await.unwrap());
    assert_error_code(s, &b, StatusCode::CONFLICT, "case_not_in_review");
    let queue = get(&app, &ana.cookie, "/console").await.text().await.unwrap();
    assert!(queue.contains("id=\"empty-queue\""));

    // The customer's webhook receiver gets the decision, signed like every event.
    receiver.wait_for(30, "session.approved", |got| got.iter().any(|r| r.json()["type"] == "session.approved")).await;
    let event = receiver.accepted().into_iter().find(|r| r.json()["type"] == "session.approved").unwrap();
    webhook::verify(&event.headers["trustcap-signature"], &event.body, &secret, now_secs(), 3600).unwrap();
    let body = event.json();
    assert_eq!(body["session_id"], session.as_str());
    assert_eq!(body["data"]["decision"]["decided_by"], "reviewer");
    assert_eq!(body["data"]["decision"]["reviewers"], json!([reviewer_id]));
    assert_eq!(body["data"]["decision"]["reasons"][0]["code"], "reviewer.evidence_verified");
    assert!(!String::from_utf8_lossy(&event.body).contains("checked by hand"), "the note stays out of webhooks");

    // The audit trail: creation, sign-in and the decision, by the reviewer; no note, no email.
    let rows = audit_rows(&app, &tenant).await;
    let actor = format!("reviewer:{reviewer_id}");
    assert!(rows.iter().any(|(a, act, subj, _)| a == "cli" && act == "reviewer.created" && *subj == reviewer_id));
    assert!(rows.iter().any(|(a, act, _, _)| *a == actor && act == "reviewer.signed_in"));
    let transition =
        rows.iter().find(|(a, act, subj, _)| *a == actor && act == "session.transition" && *subj == session).unwrap();
    assert!(transition.3.contains("\"to\":\"approved\"") && transition.3.contains("reviewer.evidence_verified"));
    for (_, _, _, details) in &rows {
        assert!(!details.contains("checked by hand") && !details.contains("ana@") && !details.contains("Brien"));
    }
    let report: Value =
        app.client.get(app.url("/v1/audit/verify")).bearer_auth(&api_key).send().await.unwrap().json().await.unwrap();
    assert_eq!(report["problems"], json!([]), "{report}");

    // Sign out: the cookie no longer works.
    let resp = post_form(&app, &ana, "/console/logout", &[("csrf", ana.csrf.as_str())]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(resp.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(get(&app, &ana.cookie, "/console").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_is_rate_limited_and_sessions_expire() {
    let app = spawn(Spawn { manual_clock: true, ..Spawn::default() }, |_| {}).await;
    let clock = app.clock.clone().unwrap();
    let (tenant, _) = app.tenant("Acme").await;
    let _ = add_reviewer(&app, &tenant, "bo@acme.example", Role::Reviewer).await;

    for attempt in 1..=5 {
        let resp = post_login(&app, "bo@acme.example", "guess guess guess").await;
        if attempt < 5 {
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
        } else {
            assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(resp.headers()["retry-after"], "900");
        }
    }
    // Locked: even the right password is refused, with the time left.
    let resp = post_login(&app, "bo@acme.example", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    clock.advance(600);
    let resp = post_login(&app, "bo@acme.example", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "300");
    clock.advance(301);
    let bo = login(&app, "bo@acme.example").await;

    // Idle expiry after 30 minutes without a request.
    clock.advance(29 * 60);
    assert_eq!(get(&app, &bo.cookie, "/console").await.status(), StatusCode::OK);
    clock.advance(29 * 60);
    assert_eq!(get(&app, &bo.cookie, "/console").await.status(), StatusCode::OK, "each request renews the idle window");
    clock.advance(31 * 60);
    assert_eq!(get(&app, &bo.cookie, "/console").await.status(), StatusCode::SEE_OTHER);

    // Absolute expiry after 12 hours, however active.
    let bo = login(&app, "bo@acme.example").await;
    for _ in 0..25 {
        clock.advance(29 * 60);
        let _ = get(&app, &bo.cookie, "/console").await;
    }
    assert_eq!(get(&app, &bo.cookie, "/console").await.status(), StatusCode::SEE_OTHER);

    // Per client address: 20 failures over many account names lock the address.
    for n in 0..19 {
        let resp = post_login(&app, &format!("spray{n}@acme.example"), "guess guess guess").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{n}");
    }
    let resp = post_login(&app, "spray19@acme.example", "guess guess guess").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let resp = post_login(&app, "bo@acme.example", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "the address is locked for every account");
}

#[tokio::test]
async fn a_reviewer_sees_only_their_tenants_cases() {
    let app = spawn(Spawn::default(), |_| {}).await;
    let (tenant_a, key_a) = app.tenant("A").await;
    let (tenant_b, _) = app.tenant("B").await;
    app.put_rules(&key_a, &review_everything()).await;
    let session = case_in_review(&app, &key_a, json!({"family_name": "Doe"})).await;
    let _ = add_reviewer(&app, &tenant_a, "a@a.example", Role::Reviewer).await;
    let _ = add_reviewer(&app, &tenant_b, "b@b.example", Role::Admin).await;
    let a = login(&app, "a@a.example").await;
    let b = login(&app, "b@b.example").await;

    let page = get(&app, &a.cookie, &format!("/console/cases/{session}")).await.text().await.unwrap();
    let image_path = page.split("<img src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(!get(&app, &b.cookie, "/console").await.text().await.unwrap().contains(&session));
    for path in [format!("/console/cases/{session}"), image_path, "/console/cases/ses_nonexistent".into()] {
        let resp = get(&app, &b.cookie, &path).await;
        let (s, body) = (resp.status(), resp.text().await.unwrap());
        assert_error_code(s, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let resp = decide(&app, &b, &session, "decline", "reviewer.document_fraud").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(state_of(&app, &key_a, &session).await["state"], "review");
    assert_eq!(app.count("review_actions").await, 0);
}

#[tokio::test]
async fn four_eyes_needs_two_different_reviewers() {
    let app = spawn(Spawn::default(), |_| {}).await;
    let receiver = Receiver::start().await;
    let (tenant, api_key) = app.tenant("Acme").await;
    app.set_webhook(&api_key, &receiver.url).await;
    app.put_rules(&api_key, &review_everything()).await;
    let r1 = add_reviewer(&app, &tenant, "one@acme.example", Role::Reviewer).await;
    let r2 = add_reviewer(&app, &tenant, "two@acme.example", Role::Reviewer).await;
    let admin_id = add_reviewer(&app, &tenant, "admin@acme.example", Role::Admin).await;
    let one = login(&app, "one@acme.example").await;
    let two = login(&app, "two@acme.example").await;
    let admin = login(&app, "admin@acme.example").await;

    // Only an admin turns it on in the console; the API key can too.
    let resp = post_form(&app, &one, "/console/settings", &[("csrf", one.csrf.as_str()), ("four_eyes", "on")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp =
        post_form(&app, &admin, "/console/settings", &[("csrf", admin.csrf.as_str()), ("four_eyes", "on")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let settings: Value = app
        .client
        .get(app.url("/v1/review/settings"))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings, json!({"four_eyes": true}));
    let resp = app
        .client
        .put(app.url("/v1/review/settings"))
        .bearer_auth(&api_key)
        .json(&json!({"four_eyes": "yes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = app.client.put(app.url("/v1/review/settings")).json(&json!({"four_eyes": false})).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let session = case_in_review(&app, &api_key, json!({"family_name": "Doe"})).await;
    let resp = decide(&app, &one, &session, "approve", "reviewer.evidence_verified").await;
    assert_eq!(resp.headers()["location"].to_str().unwrap(), format!("/console/cases/{session}?done=pending"));
    assert_eq!(state_of(&app, &api_key, &session).await["state"], "review", "one approval is not enough");
    let queue = get(&app, &two.cookie, "/console").await.text().await.unwrap();
    assert!(queue.contains("1 of 2"));

    let resp = decide(&app, &one, &session, "approve", "reviewer.evidence_verified").await;
    let (s, body) = (resp.status(), resp.text().await.unwrap());
    assert_error_code(s, &body, StatusCode::CONFLICT, "four_eyes_same_reviewer");
    assert!(body.contains("second, different reviewer"));
    assert_eq!(state_of(&app, &api_key, &session).await["state"], "review");

    let resp = decide(&app, &two, &session, "approve", "reviewer.evidence_verified").await;
    assert_eq!(resp.headers()["location"].to_str().unwrap(), format!("/console/cases/{session}?done=approved"));
    assert_eq!(state_of(&app, &api_key, &session).await["state"], "approved");
    receiver.wait_for(30, "session.approved", |got| got.iter().any(|r| r.json()["type"] == "session.approved")).await;
    let event = receiver.accepted().into_iter().find(|r| r.json()["type"] == "session.approved").unwrap();
    assert_eq!(event.json()["data"]["decision"]["reviewers"], json!([r1, r2]));

    let rows = audit_rows(&app, &tenant).await;
    assert!(rows.iter().any(|(a, act, subj, _)| *a == format!("reviewer:{r1}")
        && act == "review.approval_pending"
        && *subj == session));
    assert!(
        rows.iter()
            .any(|(a, act, subj, _)| *a == format!("reviewer:{r2}") && act == "session.transition" && *subj == session)
    );
    assert!(rows.iter().any(|(a, act, _, d)| *a == format!("reviewer:{admin_id}")
        && act == "console.four_eyes"
        && d.contains("true")));

    // Declining takes one reviewer even with four-eyes on.
    let other = case_in_review(&app, &api_key, json!({"family_name": "Roe"})).await;
    let resp = decide(&app, &one, &other, "decline", "reviewer.document_fraud").await;
    assert_eq!(resp.headers()["location"].to_str().unwrap(), format!("/console/cases/{other}?done=declined"));
    assert_eq!(state_of(&app, &api_key, &other).await["state"], "declined");
}

#[tokio::test]
async fn a_reviewer_can_request_a_resubmission() {
    let app = spawn(Spawn::default(), |_| {}).await;
    let (tenant, api_key) = app.tenant("Acme").await;
    app.put_rules(&api_key, &review_everything()).await;
    let _ = add_reviewer(&app, &tenant, "cy@acme.example", Role::Reviewer).await;
    let cy = login(&app, "cy@acme.example").await;
    let session = case_in_review(&app, &api_key, json!({"family_name": "Doe"})).await;
    let resp = decide(&app, &cy, &session, "request_resubmission", "reviewer.poor_quality").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let view = state_of(&app, &api_key, &session).await;
    assert_eq!(view["state"], "resubmission_requested", "{view}");
    let row = sqlx::query("SELECT round, requested_steps FROM sessions WHERE id = $1")
        .bind(&session)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("round"), 1);
    assert_eq!(row.get::<String, _>("requested_steps"), "[\"document_front\"]");
    // "Other" needs a note.
    let other = case_in_review(&app, &api_key, json!({"family_name": "Roe"})).await;
    let fields = [("csrf", cy.csrf.as_str()), ("action", "decline"), ("reason", "reviewer.other"), ("note", "")];
    let resp = post_form(&app, &cy, &format!("/console/cases/{other}/decision"), &fields).await;
    let (s, body) = (resp.status(), resp.text().await.unwrap());
    assert_error_code(s, &body, StatusCode::BAD_REQUEST, "note_required");
}

#[tokio::test]
async fn add_reviewer_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_trustcap-verifier");
    let run = |args: &[&str], password: Option<&str>| {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("TRUSTCAP_DATABASE_URL", format!("sqlite://{}", dir.path().join("cli.db").display()))
            .env("TRUSTCAP_SECRET_FILE", dir.path().join("secret.key"))
            .env("RUST_LOG", "warn")
            .env_remove("TRUSTCAP_REVIEWER_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().unwrap();
            if let Some(p) = password {
                writeln!(stdin, "{p}").unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, tenant, _) = run(&["create-tenant", "--name", "Acme"], None);
    assert!(ok);
    let (ok, id, err) =
        run(&["add-reviewer", "--tenant", &tenant, "--email", "Dee@Acme.example", "--role", "admin"], Some(PASSWORD));
    assert!(ok, "{err}");
    assert!(id.starts_with("rev_"), "{id}");
    let (ok, _, err) = run(&["add-reviewer", "--tenant", &tenant, "--email", "dee@acme.example"], Some(PASSWORD));
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = run(&["add-reviewer", "--tenant", &tenant, "--email", "eve@acme.example"], Some("short"));
    assert!(!ok && err.contains("password"), "{err}");
    let (ok, _, _) =
        run(&["add-reviewer", "--tenant", &tenant, "--email", "eve@acme.example", "--role", "root"], Some(PASSWORD));
    assert!(!ok);
}
