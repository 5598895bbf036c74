//! The face, screening and document checks against SQLite (real models from
//! `TRUSTCAP_MODEL_DIR` or the model cache; tiny screening lists written by the tests).

mod common;

use common::DbKind;
use common::checks;

#[tokio::test]
async fn face_match_with_real_models() {
    checks::face_match(DbKind::Sqlite).await;
}

#[tokio::test]
async fn face_match_without_models_goes_to_review() {
    checks::face_match_without_models(DbKind::Sqlite).await;
}

#[tokio::test]
async fn screening_check_endpoint_and_monitoring() {
    checks::screening_and_monitoring(DbKind::Sqlite).await;
}

#[tokio::test]
async fn screening_endpoint_without_lists() {
    checks::screening_unavailable(DbKind::Sqlite).await;
}

#[tokio::test]
async fn document_check_with_real_ocr() {
    checks::document_check(DbKind::Sqlite).await;
}
