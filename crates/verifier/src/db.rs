//! Persistence: the connection pool, migrations and every query the service runs.
//!
//! All SQL lives in this module and sticks to the portable subset (numbered `$n`
//! parameters, no `INSERT OR ...`, no SQLite date functions, timestamps as Unix seconds
//! in `BIGINT`), so a PostgreSQL backend can be added behind the same functions.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqlitePool};
use trustcap_protocol::{NonceStatus, Step};

use crate::domain::{ApiKey, CaptureId, Nonce, SessionId, SessionStatus, TenantId};
use crate::error::AppError;

/// The database handle shared by all requests.
pub type Db = SqlitePool;

/// Opens (creating if missing) the database at `url` with WAL, foreign keys and a busy
/// timeout, without running migrations.
pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    SqlitePoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(10)).connect_with(options).await
}

/// Applies pending migrations from `crates/verifier/migrations`.
pub async fn migrate(db: &Db) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations").run(db).await
}

/// Creates a tenant.
pub async fn create_tenant(db: &Db, name: &str, now: i64) -> Result<TenantId, sqlx::Error> {
    let id = TenantId::generate();
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(id.as_str())
        .bind(name)
        .bind(now)
        .execute(db)
        .await?;
    Ok(id)
}

/// True if the tenant exists.
pub async fn tenant_exists(db: &Db, tenant: &TenantId) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT id FROM tenants WHERE id = $1").bind(tenant.as_str()).fetch_optional(db).await?;
    Ok(row.is_some())
}

/// Creates and stores (as prefix + SHA-256) a new API key for `tenant`; returns the key.
pub async fn create_api_key(db: &Db, tenant: &TenantId, now: i64) -> Result<ApiKey, sqlx::Error> {
    let key = ApiKey::generate();
    sqlx::query("INSERT INTO api_keys (prefix, tenant_id, key_sha256, created_at) VALUES ($1, $2, $3, $4)")
        .bind(key.prefix())
        .bind(tenant.as_str())
        .bind(key.hash_hex())
        .bind(now)
        .execute(db)
        .await?;
    Ok(key)
}

/// The tenant owning `key`, if the key exists, is not revoked and matches its stored hash.
pub async fn authenticate_api_key(db: &Db, key: &ApiKey) -> Result<Option<TenantId>, sqlx::Error> {
    let row = sqlx::query("SELECT tenant_id, key_sha256 FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL")
        .bind(key.prefix())
        .fetch_optional(db)
        .await?;
    let Some(row) = row else {
        // Same work as a hit, so timing does not reveal which prefixes exist.
        let _ = key.matches_hash(&"0".repeat(64));
        return Ok(None);
    };
    let stored: String = row.try_get("key_sha256")?;
    if !key.matches_hash(&stored) {
        return Ok(None);
    }
    let tenant: String = row.try_get("tenant_id")?;
    Ok(TenantId::parse(&tenant))
}

/// A session as stored.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// Session id.
    pub id: SessionId,
    /// Owning tenant.
    pub tenant_id: String,
    /// Stored status (see [`SessionRecord::status_at`] for the effective one).
    pub status: SessionStatus,
    /// Steps to capture.
    pub steps: Vec<Step>,
    /// The customer's reference, if any.
    pub reference: Option<String>,
    /// Registered capture public key (base64url), if any.
    pub public_key: Option<String>,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Last change, Unix seconds.
    pub updated_at: i64,
}

impl SessionRecord {
    /// The status as seen at `now` (open sessions past their expiry are `expired`).
    pub fn status_at(&self, now: i64) -> SessionStatus {
        self.status.at(self.expires_at, now)
    }
}

/// A session to insert.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// Session id.
    pub id: &'a SessionId,
    /// Owning tenant.
    pub tenant_id: &'a TenantId,
    /// Steps to capture.
    pub steps: &'a [Step],
    /// The customer's reference.
    pub reference: Option<&'a str>,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// Now, Unix seconds.
    pub now: i64,
}

fn steps_to_json(steps: &[Step]) -> String {
    serde_json::to_string(steps).unwrap_or_else(|_| "[]".to_owned())
}

/// Inserts a new session with status `created`.
pub async fn insert_session(db: &Db, new: &NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, tenant_id, status, steps, reference, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(new.id.as_str())
    .bind(new.tenant_id.as_str())
    .bind(SessionStatus::Created.as_str())
    .bind(steps_to_json(new.steps))
    .bind(new.reference)
    .bind(new.expires_at)
    .bind(new.now)
    .execute(db)
    .await?;
    Ok(())
}

/// Loads a session of `tenant`; `None` if it does not exist or belongs to another tenant.
pub async fn get_session(db: &Db, id: &SessionId, tenant: &str) -> Result<Option<SessionRecord>, AppError> {
    let row = sqlx::query(
        "SELECT status, steps, reference, public_key, expires_at, created_at, updated_at \
         FROM sessions WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id.as_str())
    .bind(tenant)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let status: String = row.try_get("status")?;
    let steps: String = row.try_get("steps")?;
    Ok(Some(SessionRecord {
        id: id.clone(),
        tenant_id: tenant.to_owned(),
        status: SessionStatus::parse(&status)
            .ok_or_else(|| AppError::internal(format_args!("unknown stored session status {status:?}")))?,
        steps: serde_json::from_str(&steps).map_err(|e| AppError::internal(format_args!("stored steps: {e}")))?,
        reference: row.try_get("reference")?,
        public_key: row.try_get("public_key")?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    }))
}

/// What happened when a key was registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRegistration {
    /// The key was stored now.
    Created,
    /// The same key was already registered.
    AlreadyRegistered,
    /// A different key is registered.
    Conflict,
}

/// Registers the session's capture key unless one is already set (atomic).
pub async fn register_key(
    db: &Db,
    session: &SessionId,
    public_key: &str,
    key_id: &str,
    now: i64,
) -> Result<KeyRegistration, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE sessions SET public_key = $1, key_id = $2, updated_at = $3 WHERE id = $4 AND public_key IS NULL",
    )
    .bind(public_key)
    .bind(key_id)
    .bind(now)
    .bind(session.as_str())
    .execute(db)
    .await?
    .rows_affected();
    if updated == 1 {
        return Ok(KeyRegistration::Created);
    }
    let existing: Option<String> = sqlx::query_scalar("SELECT public_key FROM sessions WHERE id = $1")
        .bind(session.as_str())
        .fetch_one(db)
        .await?;
    Ok(if existing.as_deref() == Some(public_key) {
        KeyRegistration::AlreadyRegistered
    } else {
        KeyRegistration::Conflict
    })
}

/// Stores a freshly issued nonce.
pub async fn insert_nonce(
    db: &Db,
    nonce: &Nonce,
    session: &SessionId,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO nonces (nonce, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(nonce.as_str())
        .bind(session.as_str())
        .bind(now)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// One image of an accepted capture, ready to store.
#[derive(Debug, Clone)]
pub struct NewImage<'a> {
    /// Part name.
    pub name: &'a str,
    /// `image/jpeg` or `image/png`.
    pub content_type: &'a str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// SHA-256, lowercase hex.
    pub sha256: &'a str,
    /// The encoded bytes.
    pub data: &'a [u8],
}

/// An accepted capture, ready to store.
#[derive(Debug, Clone)]
pub struct NewCapture<'a> {
    /// New capture id.
    pub id: &'a CaptureId,
    /// The session.
    pub session: &'a SessionRecord,
    /// The captured step.
    pub step: Step,
    /// The nonce to consume.
    pub nonce: &'a str,
    /// The signing key id.
    pub key_id: &'a str,
    /// The signed manifest (canonical JSON).
    pub manifest: &'a str,
    /// The signature, base64url.
    pub signature: &'a str,
    /// SHA-256 of the whole upload, hex.
    pub payload_sha256: &'a str,
    /// The manifest's quality map, as JSON.
    pub client_quality: &'a str,
    /// The server's quality results, as JSON.
    pub server_quality: &'a str,
    /// The images in manifest order.
    pub images: &'a [NewImage<'a>],
    /// Now, Unix seconds.
    pub now: i64,
}

/// Why `nonce` cannot be used for `session` at `now` (or `None` if it can), read-only.
async fn nonce_state<'e, E>(executor: E, session: &str, nonce: &str, now: i64) -> Result<Option<AppError>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let row = sqlx::query("SELECT session_id, expires_at, used_at FROM nonces WHERE nonce = $1")
        .bind(nonce)
        .fetch_optional(executor)
        .await?;
    let status = match row {
        None => None,
        Some(row) => {
            let owner: String = row.try_get("session_id")?;
            let expires_at: i64 = row.try_get("expires_at")?;
            let used_at: Option<i64> = row.try_get("used_at")?;
            Some(NonceStatus {
                issued_for_session: owner == session,
                used: used_at.is_some(),
                expired: expires_at <= now,
            })
        }
    };
    Ok(NonceStatus::check(status).err().map(AppError::from))
}

async fn nonce_refusal<'e, E>(executor: E, session: &str, nonce: &str, now: i64) -> Result<AppError, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    Ok(nonce_state(executor, session, nonce, now)
        .await?
        .unwrap_or_else(|| AppError::internal("nonce could not be consumed although it is valid")))
}

/// A read-only look at the nonce before the expensive image work, so a replayed or
/// unknown nonce is refused cheaply. [`store_capture`] still decides atomically.
pub async fn precheck_nonce(db: &Db, session: &SessionId, nonce: &str, now: i64) -> Result<(), AppError> {
    match nonce_state(db, session.as_str(), nonce, now).await? {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// Consumes the nonce and stores the capture and its images in one transaction, then
/// moves the session to `capturing` or `submitted`. On any error nothing is stored.
pub async fn store_capture(db: &Db, new: &NewCapture<'_>) -> Result<SessionStatus, AppError> {
    let session_id = new.session.id.as_str();
    let mut tx = db.begin().await?;
    // The first statement writes, so the transaction takes the write lock at once.
    let consumed = sqlx::query(
        "UPDATE nonces SET used_at = $1 WHERE nonce = $2 AND session_id = $3 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(new.now)
    .bind(new.nonce)
    .bind(session_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if consumed != 1 {
        let err = nonce_refusal(&mut *tx, session_id, new.nonce, new.now).await?;
        tx.rollback().await?;
        return Err(err);
    }

    // Re-read the status inside the transaction: another upload may have completed the
    // session since the request started.
    let status: String =
        sqlx::query_scalar("SELECT status FROM sessions WHERE id = $1").bind(session_id).fetch_one(&mut *tx).await?;
    let status = SessionStatus::parse(&status).unwrap_or(SessionStatus::Expired).at(new.session.expires_at, new.now);
    if !status.is_capturable() {
        tx.rollback().await?;
        return Err(AppError::SessionNotCapturable(status.as_str()));
    }

    sqlx::query(
        "INSERT INTO captures (id, session_id, step, nonce, key_id, manifest, signature, payload_sha256, \
         client_quality, server_quality, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(new.id.as_str())
    .bind(session_id)
    .bind(new.step.as_str())
    .bind(new.nonce)
    .bind(new.key_id)
    .bind(new.manifest)
    .bind(new.signature)
    .bind(new.payload_sha256)
    .bind(new.client_quality)
    .bind(new.server_quality)
    .bind(new.now)
    .execute(&mut *tx)
    .await?;
    for (position, image) in new.images.iter().enumerate() {
        sqlx::query(
            "INSERT INTO capture_images (capture_id, position, name, content_type, width, height, byte_len, sha256, \
             data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new.id.as_str())
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(image.name)
        .bind(image.content_type)
        .bind(i64::from(image.width))
        .bind(i64::from(image.height))
        .bind(i64::try_from(image.data.len()).unwrap_or(i64::MAX))
        .bind(image.sha256)
        .bind(image.data)
        .execute(&mut *tx)
        .await?;
    }

    let captured: Vec<String> = sqlx::query_scalar("SELECT DISTINCT step FROM captures WHERE session_id = $1")
        .bind(session_id)
        .fetch_all(&mut *tx)
        .await?;
    let complete = new.session.steps.iter().all(|s| captured.iter().any(|c| c == s.as_str()));
    let next = if complete { SessionStatus::Submitted } else { SessionStatus::Capturing };
    sqlx::query("UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(next.as_str())
        .bind(new.now)
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(next)
}

/// Metadata of a stored image (never the bytes).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageMeta {
    /// Part name.
    pub name: String,
    /// Content type.
    pub content_type: String,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels.
    pub height: i64,
    /// Length in bytes.
    pub byte_len: i64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// A stored capture, as listed by the session API.
#[derive(Debug, Clone)]
pub struct CaptureRecord {
    /// Capture id.
    pub id: String,
    /// Step.
    pub step: String,
    /// Receipt time, Unix seconds.
    pub received_at: i64,
    /// Signing key id.
    pub key_id: String,
    /// The manifest's quality map, JSON text.
    pub client_quality: String,
    /// The server's quality results, JSON text.
    pub server_quality: String,
    /// Image metadata in manifest order.
    pub images: Vec<ImageMeta>,
}

/// Every capture of a session, oldest first, with image metadata.
pub async fn list_captures(db: &Db, session: &SessionId) -> Result<Vec<CaptureRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, step, received_at, key_id, client_quality, server_quality FROM captures \
         WHERE session_id = $1 ORDER BY received_at, id",
    )
    .bind(session.as_str())
    .fetch_all(db)
    .await?;
    let mut captures = Vec::with_capacity(rows.len());
    for row in rows {
        captures.push(CaptureRecord {
            id: row.try_get("id")?,
            step: row.try_get("step")?,
            received_at: row.try_get("received_at")?,
            key_id: row.try_get("key_id")?,
            client_quality: row.try_get("client_quality")?,
            server_quality: row.try_get("server_quality")?,
            images: Vec::new(),
        });
    }
    let images = sqlx::query(
        "SELECT i.capture_id, i.name, i.content_type, i.width, i.height, i.byte_len, i.sha256 \
         FROM capture_images i JOIN captures c ON c.id = i.capture_id WHERE c.session_id = $1 \
         ORDER BY i.capture_id, i.position",
    )
    .bind(session.as_str())
    .fetch_all(db)
    .await?;
    for row in images {
        let capture_id: String = row.try_get("capture_id")?;
        if let Some(capture) = captures.iter_mut().find(|c| c.id == capture_id) {
            capture.images.push(ImageMeta {
                name: row.try_get("name")?,
                content_type: row.try_get("content_type")?,
                width: row.try_get("width")?,
                height: row.try_get("height")?,
                byte_len: row.try_get("byte_len")?,
                sha256: row.try_get("sha256")?,
            });
        }
    }
    Ok(captures)
}

/// The distinct steps that have an accepted capture.
pub async fn captured_steps(db: &Db, session: &SessionId) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT step FROM captures WHERE session_id = $1 ORDER BY step")
        .bind(session.as_str())
        .fetch_all(db)
        .await
}
