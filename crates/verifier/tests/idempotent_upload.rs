//! Retried uploads are stored once (issue 5), on SQLite and on PostgreSQL
//! (`TRUSTCAP_TEST_POSTGRES_URL`; without it the PostgreSQL tests say they are skipped).
//!
//! The same envelope posted again (byte-identical: same nonce, same SHA-256 as stored with the
//! capture) is answered `200` with the original `capture_id` and `"duplicate": true`, storing nothing
//! new; identical posts racing each other store one capture and all succeed with its id; a different
//! envelope under a used nonce is still refused `409 nonce_replayed`.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use trustcap_protocol::{ImagePart, Step, seal};

/// Rows in the tables an upload writes to (and that the pipeline leaves alone).
async fn stored(app: &TestApp) -> [i64; 3] {
    [
        app.count("captures").await,
        app.count("capture_images").await,
        app.count("nonces WHERE used_at IS NOT NULL").await,
    ]
}

async fn identical_retry_and_nonce_reuse(kind: DbKind) {
    let app = spawn(Spawn { kind, ..Spawn::default() }, |_| {}).await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(31);
    let session = app.ready_session(&api_key, &key).await;
    let nonce = app.nonce(&session.token).await;
    let payload = sealed_jpeg(&session.id, &nonce, &key);

    let resp = app.upload(&session.token, payload.clone()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let first: Value = resp.json().await.unwrap();
    assert_eq!(first["duplicate"], false);
    let after_first = stored(&app).await;
    assert_eq!(after_first[0], 1);

    // The identical envelope again, twice: the original capture, nothing new.
    for _ in 0..2 {
        let resp = app.upload(&session.token, payload.clone()).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let again: Value = resp.json().await.unwrap();
        assert_eq!(again["capture_id"], first["capture_id"]);
        assert_eq!(again["duplicate"], true);
        assert_eq!(stored(&app).await, after_first);
    }

    // A different envelope reusing the nonce (another image) is a replay.
    let other = sealed(&session.id, &nonce, &key, &png(WIDTH, HEIGHT), "image/png", WIDTH, HEIGHT);
    assert_error(app.upload(&session.token, other).await, 409, "nonce_replayed").await;
    // As is the same image re-sealed under the used nonce with other signed metadata.
    let bytes = jpeg(WIDTH, HEIGHT);
    let part =
        ImagePart { name: "document_front", content_type: "image/jpeg", width: WIDTH, height: HEIGHT, bytes: &bytes };
    let mut draft = draft(&session.id, &nonce, Step::DocumentFront);
    draft.captured_at_ms += 1;
    let resealed = seal(draft, &[part], &key).unwrap();
    assert_error(app.upload(&session.token, resealed).await, 409, "nonce_replayed").await;
    assert_eq!(stored(&app).await, after_first);

    // The duplicate answer is per session: the same bytes under another session's token are refused.
    let other_session = app.ready_session(&api_key, &key).await;
    assert_error(app.upload(&other_session.token, payload).await, 403, "session_mismatch").await;
    assert_eq!(stored(&app).await[0], 1);
}

async fn concurrent_identical_posts(kind: DbKind) {
    let app = spawn(Spawn { kind, ..Spawn::default() }, |_| {}).await;
    let (_, api_key) = app.tenant("Acme").await;
    let key = signing_key(32);
    for round in 0..3 {
        let session = app.ready_session(&api_key, &key).await;
        let nonce = app.nonce(&session.token).await;
        let payload = sealed_jpeg(&session.id, &nonce, &key);
        let before = app.count("captures").await;
        let posts = (0..4).map(|_| {
            let (client, url, token, body) =
                (app.client.clone(), app.url("/v1/client/captures"), session.token.clone(), payload.clone());
            tokio::spawn(async move {
                let resp = client
                    .post(url)
                    .bearer_auth(token)
                    .header("content-type", trustcap_protocol::CONTENT_TYPE)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = resp.status();
                (status, resp.json::<Value>().await.unwrap())
            })
        });
        let mut answers = Vec::new();
        for post in posts.collect::<Vec<_>>() {
            answers.push(post.await.unwrap());
        }
        let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
        assert_eq!(created, 1, "round {round}: {answers:?}");
        for (status, body) in &answers {
            assert!(matches!(*status, StatusCode::CREATED | StatusCode::OK), "round {round}: {answers:?}");
            assert_eq!(body["duplicate"], *status == StatusCode::OK);
            assert_eq!(body["capture_id"], answers[0].1["capture_id"], "round {round}: one capture id for all");
        }
        assert_eq!(app.count("captures").await, before + 1, "round {round}: stored once");
    }
    assert_eq!(app.count("capture_images").await, 3);
}

#[tokio::test]
async fn identical_retry_is_answered_with_the_original_capture_and_nonce_reuse_is_refused() {
    identical_retry_and_nonce_reuse(DbKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_posts_store_one_capture() {
    concurrent_identical_posts(DbKind::Sqlite).await;
}

#[tokio::test]
async fn pg_identical_retry_is_answered_with_the_original_capture_and_nonce_reuse_is_refused() {
    if !postgres_skipped("pg_identical_retry_is_answered_with_the_original_capture_and_nonce_reuse_is_refused") {
        identical_retry_and_nonce_reuse(DbKind::Postgres).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_concurrent_identical_posts_store_one_capture() {
    if !postgres_skipped("pg_concurrent_identical_posts_store_one_capture") {
        concurrent_identical_posts(DbKind::Postgres).await;
    }
}
