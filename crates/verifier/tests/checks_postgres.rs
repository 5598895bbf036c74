//! The face, screening and document-reuse scenarios against a real PostgreSQL
//! (`TRUSTCAP_TEST_POSTGRES_URL`, set by `cargo xtask test`). Without it each test says it is
//! skipped. The OCR scenario runs on SQLite only (an MRZ read takes seconds; its SQL is the
//! same).

mod common;

use common::checks;
use common::{DbKind, postgres_skipped as skip};

#[tokio::test]
async fn pg_face_match_with_real_models() {
    if !skip("pg_face_match_with_real_models") {
        checks::face_match(DbKind::Postgres).await;
    }
}

#[tokio::test]
async fn pg_face_match_without_models_goes_to_review() {
    if !skip("pg_face_match_without_models_goes_to_review") {
        checks::face_match_without_models(DbKind::Postgres).await;
    }
}

#[tokio::test]
async fn pg_screening_check_endpoint_and_monitoring() {
    if !skip("pg_screening_check_endpoint_and_monitoring") {
        checks::screening_and_monitoring(DbKind::Postgres).await;
    }
}

#[tokio::test]
async fn pg_screening_endpoint_without_lists() {
    if !skip("pg_screening_endpoint_without_lists") {
        checks::screening_unavailable(DbKind::Postgres).await;
    }
}
