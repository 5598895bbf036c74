//! The stored data keys (`session_keys`): created with the session, looked up to seal and
//! open its data, re-wrapped under the newest KEK ([`rotate`]) and destroyed on erasure
//! ([`destroy`]).

use sqlx::{AnyConnection, Row as _};

use super::{KeyRing, SessionVault, VaultError, WrappedKey};
use crate::db::Db;
use crate::error::AppError;

impl From<VaultError> for AppError {
    fn from(e: VaultError) -> Self {
        AppError::internal(e)
    }
}

/// Creates `session`'s data key, stores it wrapped in the caller's transaction and returns
/// the session's vault.
pub async fn create(
    conn: &mut AnyConnection,
    ring: &KeyRing,
    tenant: &str,
    session: &str,
    now: i64,
) -> Result<SessionVault, AppError> {
    let (vault, wrapped) = ring.new_key(tenant, session);
    insert(conn, tenant, session, &wrapped, now).await?;
    Ok(vault)
}

/// Stores `session`'s wrapped data key in the caller's transaction (after the session row).
pub async fn insert(
    conn: &mut AnyConnection,
    tenant: &str,
    session: &str,
    wrapped: &WrappedKey,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO session_keys (session_id, tenant_id, kek_id, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(session)
    .bind(tenant)
    .bind(&wrapped.kek_id)
    .bind(wrapped.blob.clone())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The stored wrapped data key of `session` of `tenant`, if it still exists.
pub async fn load(conn: &mut AnyConnection, tenant: &str, session: &str) -> Result<Option<WrappedKey>, sqlx::Error> {
    let row = sqlx::query("SELECT kek_id, wrapped FROM session_keys WHERE session_id = $1 AND tenant_id = $2")
        .bind(session)
        .bind(tenant)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| Ok(WrappedKey { kek_id: r.try_get("kek_id")?, blob: r.try_get("wrapped")? })).transpose()
}

/// The vault of `session` of `tenant`. A session created before encryption at rest gets its
/// data key now; an erased (or unknown) session has none: [`VaultError::Erased`].
pub async fn session_vault(db: &Db, tenant: &str, session: &str) -> Result<SessionVault, AppError> {
    let ring = db.keyring()?;
    let mut conn = db.pool().acquire().await?;
    if let Some(wrapped) = load(&mut conn, tenant, session).await? {
        return Ok(ring.vault(tenant, session, &wrapped)?);
    }
    drop(conn);
    let mut tx = db.begin().await?;
    // Write first, so a SQLite transaction holds the write lock from the start.
    let live =
        sqlx::query("UPDATE sessions SET updated_at = updated_at WHERE id = $1 AND tenant_id = $2 AND status <> $3")
            .bind(session)
            .bind(tenant)
            .bind(crate::domain::SessionStatus::Erased.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if live != 1 {
        tx.rollback().await?;
        return Err(VaultError::Erased.into());
    }
    let vault = match load(&mut tx, tenant, session).await? {
        Some(wrapped) => ring.vault(tenant, session, &wrapped)?,
        None => create(&mut tx, ring, tenant, session, crate::time::now_secs()).await?,
    };
    tx.commit().await?;
    Ok(vault)
}

/// Destroys `session`'s data key in the caller's transaction: the wrapped key is first
/// overwritten (so the old bytes do not linger in the page) and then deleted. Returns
/// whether a key existed.
pub async fn destroy(conn: &mut AnyConnection, session: &str) -> Result<bool, sqlx::Error> {
    sqlx::query("UPDATE session_keys SET wrapped = $1, kek_id = 'destroyed' WHERE session_id = $2")
        .bind(vec![0u8; 76])
        .bind(session)
        .execute(&mut *conn)
        .await?;
    let deleted =
        sqlx::query("DELETE FROM session_keys WHERE session_id = $1").bind(session).execute(&mut *conn).await?;
    Ok(deleted.rows_affected() > 0)
}

/// What [`rotate`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RotationSummary {
    /// The KEK everything is now wrapped under.
    pub kek_id: String,
    /// Data keys re-wrapped by this run.
    pub rewrapped: u64,
    /// Data keys already under the current KEK, before this run.
    pub already_current: u64,
}

/// Re-wraps every data key not under the ring's current KEK with it, `batch` keys per
/// transaction. The data itself is not touched. Idempotent: a second run re-wraps nothing.
/// Fails (having committed the batches before) if a key is wrapped under a KEK the ring
/// no longer holds.
pub async fn rotate(db: &Db, batch: i64, now: i64) -> Result<RotationSummary, AppError> {
    let ring = db.keyring()?;
    let current = ring.current_id().to_owned();
    let already_current: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM session_keys WHERE kek_id = $1")
        .bind(&current)
        .fetch_one(db.pool())
        .await?;
    let mut summary = RotationSummary {
        kek_id: current.clone(),
        already_current: u64::try_from(already_current).unwrap_or(0),
        ..RotationSummary::default()
    };
    loop {
        let mut tx = db.begin().await?;
        let rows = sqlx::query(
            "SELECT session_id, tenant_id, kek_id, wrapped FROM session_keys WHERE kek_id <> $1 \
             ORDER BY session_id LIMIT $2",
        )
        .bind(&current)
        .bind(batch.max(1))
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            break;
        }
        for row in rows {
            let session: String = row.try_get("session_id")?;
            let tenant: String = row.try_get("tenant_id")?;
            let wrapped = WrappedKey { kek_id: row.try_get("kek_id")?, blob: row.try_get("wrapped")? };
            let key = ring.unwrap_key(&tenant, &session, &wrapped)?;
            let rewrapped = ring.wrap(&tenant, &session, &key);
            // Only if the row is unchanged (another rotation or an erasure may have run).
            let updated = sqlx::query(
                "UPDATE session_keys SET kek_id = $1, wrapped = $2, rotated_at = $3 WHERE session_id = $4 AND kek_id = $5",
            )
            .bind(&rewrapped.kek_id)
            .bind(rewrapped.blob)
            .bind(now)
            .bind(&session)
            .bind(&wrapped.kek_id)
            .execute(&mut *tx)
            .await?;
            summary.rewrapped += updated.rows_affected();
        }
        tx.commit().await?;
    }
    tracing::info!(kek_id = %summary.kek_id, rewrapped = summary.rewrapped, "data keys re-wrapped");
    Ok(summary)
}
