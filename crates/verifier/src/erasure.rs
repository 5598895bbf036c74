//! Erasure and retention.
//!
//! Erasing a session ([`erase`]) crypto-shreds it: in one transaction its wrapped data key is
//! overwritten and deleted (so every copy of its sealed images, chips and applicant data,
//! in the image store or in a backup, can no longer be opened), the rows holding sealed data
//! are deleted, the session moves to `erased` (with its `session.erased` webhook event) and
//! an audit entry without applicant data is appended. The image-store objects are deleted
//! afterwards, best effort: the destroyed key is what guarantees they are unreadable.
//!
//! A tenant may set a retention period in days ([`set_retention`]); the pipeline workers
//! erase the tenant's sessions older than that ([`sweep`]), exactly like the endpoint with
//! the actor `system`.

use serde_json::json;
use sqlx::Row as _;

use crate::audit::Actor;
use crate::db::{self, Db};
use crate::domain::{SessionId, SessionStatus};
use crate::error::AppError;
use crate::storage::ImageStore;
use crate::vault;

/// Longest retention period, in days (100 years).
pub const MAX_RETENTION_DAYS: i64 = 36_500;

/// Why a session is erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureReason {
    /// The tenant asked for it (`DELETE /v1/sessions/{id}`).
    Request,
    /// The tenant's retention period passed.
    Retention,
}

impl ErasureReason {
    /// The stable string form (audit entries, webhooks).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Retention => "retention",
        }
    }
}

/// The result of an erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The session.
    pub session_id: String,
    /// When it was erased, Unix seconds.
    pub erased_at: i64,
    /// True if it had been erased before this call (nothing changed now).
    pub already_erased: bool,
    /// Image-store objects that could not be deleted now (they stay unreadable).
    pub store_leftovers: usize,
}

/// Erases `session` of `tenant` (see the module documentation); `None` if the tenant has no
/// such session. Idempotent: erasing an erased session changes nothing and says so.
pub async fn erase(
    db: &Db,
    store: &ImageStore,
    tenant: &str,
    session: &SessionId,
    actor: Actor<'_>,
    reason: ErasureReason,
    now: i64,
) -> Result<Option<Erasure>, AppError> {
    let id = session.as_str();
    let mut tx = db.begin().await?;
    // Write first, so a SQLite transaction holds the write lock from the start.
    let found = sqlx::query("UPDATE sessions SET updated_at = updated_at WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if found != 1 {
        tx.rollback().await?;
        return Ok(None);
    }
    let record = db::load_session(&mut tx, id).await?.ok_or(AppError::NotFound("session not found"))?;
    if record.status == SessionStatus::Erased {
        tx.rollback().await?;
        return Ok(Some(Erasure {
            session_id: id.to_owned(),
            erased_at: record.updated_at,
            already_erased: true,
            store_leftovers: 0,
        }));
    }

    let mut object_keys: Vec<String> = sqlx::query_scalar(
        "SELECT i.object_key FROM capture_images i JOIN captures c ON c.id = i.capture_id \
         WHERE c.session_id = $1 AND i.object_key IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let artifact_keys: Vec<String> =
        sqlx::query_scalar("SELECT object_key FROM check_artifacts WHERE session_id = $1 AND object_key IS NOT NULL")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    object_keys.extend(artifact_keys);
    object_keys.sort();
    object_keys.dedup();

    let key_destroyed = vault::keys::destroy(&mut tx, id).await?;
    let images: u64 =
        sqlx::query("DELETE FROM capture_images WHERE capture_id IN (SELECT id FROM captures WHERE session_id = $1)")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    for table in ["check_artifacts", "check_results", "screening_records", "document_fingerprints"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE session_id = $1")).bind(id).execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE sessions SET applicant = NULL WHERE id = $1").bind(id).execute(&mut *tx).await?;

    let auditor = db.auditor(actor)?;
    let data = json!({"reason": reason.as_str()});
    if !db::transition(&mut tx, auditor, &record, record.status, SessionStatus::Erased, data, now).await? {
        tx.rollback().await?;
        return Err(AppError::internal("the session changed during its erasure"));
    }
    let details = json!({
        "reason": reason.as_str(),
        "previous_state": record.status.as_str(),
        "data_key_destroyed": key_destroyed,
        "images_deleted": images,
        "store_objects": object_keys.len(),
    });
    auditor.record(&mut tx, tenant, "session.erased", id, details, now).await?;
    tx.commit().await?;
    metrics::counter!("trustcap_sessions_erased_total", "reason" => reason.as_str()).increment(1);
    if db.backend() == db::Backend::Sqlite {
        // Move the overwritten pages into the file and empty the WAL, so the destroyed key's
        // old bytes do not linger there (best effort: a busy database checkpoints later).
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(db.pool()).await {
            tracing::debug!(error = %e, "checkpoint after erasure");
        }
    }

    let mut leftovers = 0;
    for key in &object_keys {
        if store.delete(key).await.is_err() {
            leftovers += 1;
        }
    }
    if leftovers > 0 {
        tracing::warn!(session_id = %id, leftovers, "erased session: some image-store objects could not be deleted");
    }
    tracing::info!(session_id = %id, reason = reason.as_str(), "session erased");
    Ok(Some(Erasure { session_id: id.to_owned(), erased_at: now, already_erased: false, store_leftovers: leftovers }))
}

/// Sets (`Some(days)`, 1..=[`MAX_RETENTION_DAYS`]) or removes (`None`) the tenant's retention
/// period (audited: `retention.updated`, actor `api`).
pub async fn set_retention(db: &Db, tenant: &str, days: Option<i64>, now: i64) -> Result<(), AppError> {
    if let Some(d) = days
        && !(1..=MAX_RETENTION_DAYS).contains(&d)
    {
        return Err(AppError::InvalidRequest(format!("days must be 1-{MAX_RETENTION_DAYS} or null")));
    }
    let mut tx = db.begin().await?;
    match days {
        Some(d) => {
            sqlx::query(
                "INSERT INTO retention_policies (tenant_id, days, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at",
            )
            .bind(tenant)
            .bind(d)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM retention_policies WHERE tenant_id = $1").bind(tenant).execute(&mut *tx).await?;
        }
    }
    db.auditor(Actor::Api)?.record(&mut tx, tenant, "retention.updated", tenant, json!({"days": days}), now).await?;
    tx.commit().await?;
    Ok(())
}

/// The tenant's retention period in days, if set.
pub async fn retention(db: &Db, tenant: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT days FROM retention_policies WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_optional(db.pool())
        .await
}

/// Erases up to `limit` sessions created more than their tenant's retention period before
/// `now` (actor `system`, reason `retention`); returns how many were erased.
pub async fn sweep(db: &Db, store: &ImageStore, now: i64, limit: i64) -> Result<usize, AppError> {
    let rows = sqlx::query(
        "SELECT s.id, s.tenant_id FROM sessions s JOIN retention_policies p ON p.tenant_id = s.tenant_id \
         WHERE s.status <> $1 AND s.created_at + p.days * 86400 <= $2 ORDER BY s.created_at, s.id LIMIT $3",
    )
    .bind(SessionStatus::Erased.as_str())
    .bind(now)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut erased = 0;
    for row in rows {
        let id: String = row.try_get("id")?;
        let tenant: String = row.try_get("tenant_id")?;
        let Some(id) = SessionId::parse(&id) else { continue };
        let done = erase(db, store, &tenant, &id, Actor::System, ErasureReason::Retention, now).await?;
        erased += usize::from(done.is_some_and(|e| !e.already_erased));
    }
    Ok(erased)
}
