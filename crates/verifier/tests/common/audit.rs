//! The audit trail scenario, run against SQLite and PostgreSQL: a whole session is recorded
//! without applicant data, and every kind of tampering with the stored rows is found by the
//! endpoint and by `verify-audit`, at the right position.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row as _;
use trustcap_protocol::Step;

use super::*;

/// `GET /v1/audit/verify` for the caller's chain.
async fn verify(app: &TestApp, api_key: &str) -> Value {
    let resp = app.client.get(app.url("/v1/audit/verify")).bearer_auth(api_key).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// The first problem's position and kind.
fn first_problem(report: &Value) -> (i64, String) {
    let p = &report["problems"][0];
    (p["seq"].as_i64().unwrap(), p["kind"].as_str().unwrap().to_owned())
}

/// Runs `trustcap-verifier verify-audit` against the test database; returns exit success and stdout.
fn verify_cli(app: &TestApp) -> (bool, Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trustcap-verifier"))
        .arg("verify-audit")
        .env("TRUSTCAP_DATABASE_URL", &app.db_url)
        .env("TRUSTCAP_SECRET_FILE", app.dir.path().join("secret.key"))
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (out.status.success(), serde_json::from_slice(&out.stdout).unwrap())
}

pub async fn audit_trail(kind: DbKind) {
    let app = spawn(Spawn { kind, ..Spawn::default() }, |_| {}).await;
    let (tenant, api_key) = app.tenant("audited").await;
    let (_, other_key) = app.tenant("neighbour").await;
    let mut rules: Value =
        app.client.get(app.url("/v1/rules")).bearer_auth(&api_key).send().await.unwrap().json().await.unwrap();
    rules["rules"]["approve_at"] = json!(0.5);
    app.put_rules(&api_key, &rules["rules"]).await;
    let key = signing_key(7);
    let applicant = json!({"given_names": "Zebulon", "family_name": "Quaternary", "date_of_birth": "1980-02-03"});
    let session = app.applicant_session(&api_key, &key, &["document_front"], applicant).await;
    assert_eq!(app.capture(&session, &key, Step::DocumentFront, &good_document()).await.status(), StatusCode::CREATED);
    let decided = app.wait_decided(&api_key, &session.id, 60).await;
    let state = decided["state"].as_str().unwrap().to_owned();

    // The whole life of the session is on the tenant's chain, in order, with no applicant data.
    let rows = sqlx::query("SELECT seq, actor, action, subject, details FROM audit_log WHERE chain = $1 ORDER BY seq")
        .bind(&tenant)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    let actions: Vec<String> = rows.iter().map(|r| r.get::<String, _>("action")).collect();
    assert_eq!(&actions[..4], ["api_key.created", "rule_set.created", "session.created", "session.key_registered"]);
    let transitions: Vec<String> = rows
        .iter()
        .filter(|r| r.get::<String, _>("action") == "session.transition")
        .map(|r| serde_json::from_str::<Value>(&r.get::<String, _>("details")).unwrap()["to"].as_str().unwrap().into())
        .collect();
    assert_eq!(transitions, ["submitted", "processing", state.as_str()]);
    let last: Value = serde_json::from_str(&rows.last().unwrap().get::<String, _>("details")).unwrap();
    assert_eq!(last["data"]["decision"]["state"], state.as_str());
    assert_eq!(rows.last().unwrap().get::<String, _>("actor"), "system");
    let all: Vec<String> = sqlx::query_scalar("SELECT details FROM audit_log").fetch_all(app.db.pool()).await.unwrap();
    assert!(
        all.iter().all(|d| !d.contains("Zebulon") && !d.contains("Quaternary") && !d.contains("1980-02-03")),
        "PII in the audit trail"
    );
    let system: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE chain = 'system'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(system, 2, "two tenant creations");

    let report = verify(&app, &api_key).await;
    assert_eq!(report["ok"], true, "{report}");
    let n = report["entries"].as_i64().unwrap();
    assert_eq!(n, rows.len() as i64);
    assert!(verify_cli(&app).0);

    // Editing an entry (here: the decision made to look like an approval) is found there.
    let target = n; // the decision
    let original: String = sqlx::query_scalar("SELECT details FROM audit_log WHERE chain = $1 AND seq = $2")
        .bind(&tenant)
        .bind(target)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let forged =
        original.replace(&format!("\"to\":\"{state}\""), "\"to\":\"approved\"").replace("declined", "approved");
    set_details(&app, &tenant, target, if forged == original { "{}" } else { &forged }).await;
    let report = verify(&app, &api_key).await;
    assert_eq!(report["ok"], false);
    assert_eq!(first_problem(&report), (target, "altered".into()));
    // The CLI says the same, and fails.
    let (ok, cli) = verify_cli(&app);
    assert!(!ok);
    let p = cli["problems"].as_array().unwrap().iter().find(|p| p["chain"] == tenant.as_str()).unwrap();
    assert_eq!((p["seq"].as_i64().unwrap(), p["kind"].as_str().unwrap()), (target, "altered"));
    // Another tenant's chain is untouched and its own check says so.
    assert_eq!(verify(&app, &other_key).await["ok"], true);
    set_details(&app, &tenant, target, &original).await;
    assert_eq!(verify(&app, &api_key).await["ok"], true);

    // Deleting an entry in the middle is found at its position.
    let saved = sqlx::query("SELECT * FROM audit_log WHERE chain = $1 AND seq = 3")
        .bind(&tenant)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let saved: Vec<(String, String)> = ["actor", "action", "subject", "details", "prev_hash", "hash"]
        .iter()
        .map(|c| (c.to_string(), saved.get::<String, _>(*c)))
        .collect();
    let saved_at: i64 = sqlx::query_scalar("SELECT at FROM audit_log WHERE chain = $1 AND seq = 3")
        .bind(&tenant)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    exec(&app, "DELETE FROM audit_log WHERE chain = $1 AND seq = 3", &tenant).await;
    let report = verify(&app, &api_key).await;
    assert_eq!(first_problem(&report), (3, "missing".into()), "{report}");
    // Putting it back restores the chain.
    let field = |name: &str| saved.iter().find(|(c, _)| c == name).unwrap().1.clone();
    sqlx::query(
        "INSERT INTO audit_log (chain, seq, at, actor, action, subject, details, prev_hash, hash) \
         VALUES ($1, 3, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&tenant)
    .bind(saved_at)
    .bind(field("actor"))
    .bind(field("action"))
    .bind(field("subject"))
    .bind(field("details"))
    .bind(field("prev_hash"))
    .bind(field("hash"))
    .execute(app.db.pool())
    .await
    .unwrap();
    assert_eq!(verify(&app, &api_key).await["ok"], true);

    // Deleting the newest entry (hiding the decision) is found too.
    exec(&app, &format!("DELETE FROM audit_log WHERE chain = $1 AND seq = {n}"), &tenant).await;
    assert_eq!(first_problem(&verify(&app, &api_key).await), (n, "truncated".into()));

    // Inserting an entry someone wrote without the key is found at its position.
    sqlx::query(
        "INSERT INTO audit_log (chain, seq, at, actor, action, subject, details, prev_hash, hash) \
         VALUES ($1, $2, 0, 'reviewer:rev_x', 'session.transition', $3, '{\"to\":\"approved\"}', $4, $4)",
    )
    .bind(&tenant)
    .bind(n)
    .bind(&session.id)
    .bind("a".repeat(64))
    .execute(app.db.pool())
    .await
    .unwrap();
    let report = verify(&app, &api_key).await;
    assert_eq!(first_problem(&report), (n, "altered".into()), "{report}");
    sqlx::query(
        "INSERT INTO audit_log (chain, seq, at, actor, action, subject, details, prev_hash, hash) \
         VALUES ($1, $2, 0, 'system', 'session.transition', $3, '{}', $4, $4)",
    )
    .bind(&tenant)
    .bind(n + 1)
    .bind(&session.id)
    .bind("b".repeat(64))
    .execute(app.db.pool())
    .await
    .unwrap();
    let report = verify(&app, &api_key).await;
    let kinds: Vec<(i64, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["seq"].as_i64().unwrap(), p["kind"].as_str().unwrap().to_owned()))
        .collect();
    assert!(kinds.contains(&(n + 1, "inserted".into())), "{report}");
}

async fn set_details(app: &TestApp, chain: &str, seq: i64, details: &str) {
    sqlx::query("UPDATE audit_log SET details = $1 WHERE chain = $2 AND seq = $3")
        .bind(details)
        .bind(chain)
        .bind(seq)
        .execute(app.db.pool())
        .await
        .unwrap();
}

async fn exec(app: &TestApp, sql: &str, chain: &str) {
    sqlx::query(sql).bind(chain).execute(app.db.pool()).await.unwrap();
}
