//! The pipeline scenarios against a real PostgreSQL (`TRUSTCAP_TEST_POSTGRES_URL`, set by
//! `cargo xtask test`, which installs and starts one). Without it each test says it is
//! skipped.

mod common;

use common::scenarios;
use common::{DbKind, postgres_skipped as skip};

#[tokio::test]
async fn pg_lifecycle_with_polling_and_webhooks() {
    if !skip("pg_lifecycle_with_polling_and_webhooks") {
        scenarios::lifecycle(DbKind::Postgres).await;
    }
}

#[tokio::test]
async fn pg_resubmission_and_versioned_rules() {
    if !skip("pg_resubmission_and_versioned_rules") {
        scenarios::resubmission_and_rules(DbKind::Postgres).await;
    }
}

#[tokio::test]
async fn pg_webhook_outage_with_a_test_clock() {
    if !skip("pg_webhook_outage_with_a_test_clock") {
        scenarios::outage(DbKind::Postgres).await;
    }
}

#[tokio::test]
async fn pg_tenant_isolation() {
    if !skip("pg_tenant_isolation") {
        scenarios::tenant_isolation(DbKind::Postgres).await;
    }
}
