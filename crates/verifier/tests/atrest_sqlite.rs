//! Encryption at rest, erasure, retention and KEK rotation on SQLite (the raw database file,
//! its WAL and the image store are scanned byte by byte).

mod common;

use common::DbKind;
use common::atrest;

#[tokio::test]
async fn sealed_session_then_erased() {
    atrest::sealed_session_then_erased(DbKind::Sqlite).await;
}

#[tokio::test]
async fn retention_job_erases_old_sessions_only() {
    atrest::retention_job(DbKind::Sqlite).await;
}

#[tokio::test]
async fn swapped_blobs_do_not_open() {
    atrest::tampering(DbKind::Sqlite).await;
}

#[tokio::test]
async fn kek_rotation_and_retired_kek() {
    atrest::kek_rotation(DbKind::Sqlite).await;
}
