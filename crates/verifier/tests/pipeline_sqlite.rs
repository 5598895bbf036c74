//! The pipeline scenarios against SQLite.

mod common;

use common::DbKind;
use common::scenarios;

#[tokio::test]
async fn lifecycle_with_polling_and_webhooks() {
    scenarios::lifecycle(DbKind::Sqlite).await;
}

#[tokio::test]
async fn resubmission_and_versioned_rules() {
    scenarios::resubmission_and_rules(DbKind::Sqlite).await;
}

#[tokio::test]
async fn webhook_outage_with_a_test_clock() {
    scenarios::outage(DbKind::Sqlite).await;
}

#[tokio::test]
async fn tenant_isolation() {
    scenarios::tenant_isolation(DbKind::Sqlite).await;
}
