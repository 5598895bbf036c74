//! The audit trail against SQLite and PostgreSQL.

mod common;

use common::{DbKind, audit, postgres_skipped};

#[tokio::test]
async fn audit_trail_sqlite() {
    audit::audit_trail(DbKind::Sqlite).await;
}

#[tokio::test]
async fn audit_trail_postgres() {
    if postgres_skipped("audit_trail_postgres") {
        return;
    }
    audit::audit_trail(DbKind::Postgres).await;
}
