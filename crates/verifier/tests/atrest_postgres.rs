//! Encryption at rest, erasure, retention and KEK rotation against a real PostgreSQL
//! (`TRUSTCAP_TEST_POSTGRES_URL`, set by `cargo xtask test`). Without it each test says it is
//! skipped. The raw-file scan is SQLite's; here the columns are checked through SQL.

mod common;

use common::atrest;
use common::{DbKind, postgres_skipped as skip};

#[tokio::test]
async fn pg_sealed_session_then_erased() {
    if !skip("pg_sealed_session_then_erased") {
        atrest::sealed_session_then_erased(DbKind::Postgres).await;
    }
}

#[tokio::test]
async fn pg_retention_job_erases_old_sessions_only() {
    if !skip("pg_retention_job_erases_old_sessions_only") {
        atrest::retention_job(DbKind::Postgres).await;
    }
}

#[tokio::test]
async fn pg_swapped_blobs_do_not_open() {
    if !skip("pg_swapped_blobs_do_not_open") {
        atrest::tampering(DbKind::Postgres).await;
    }
}

#[tokio::test]
async fn pg_kek_rotation_and_retired_kek() {
    if !skip("pg_kek_rotation_and_retired_kek") {
        atrest::kek_rotation(DbKind::Postgres).await;
    }
}
