//! Persistence: the connection pool, migrations and every query the service runs.
//!
//! All SQL lives in this module and sticks to the portable subset (numbered `$n`
//! parameters, no `INSERT OR ...`, no SQLite date functions, timestamps as Unix seconds
//! in `BIGINT`), so a PostgreSQL backend can be added behind the same functions.

use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor as _, Row as _};
use trustcap_protocol::{NonceStatus, Step};

use crate::audit::{self, Actor, AuditKey, Auditor};
use crate::domain::{ApiKey, CaptureId, Nonce, SessionId, SessionStatus, TenantId};
use crate::error::AppError;
use crate::vault::{self, KeyRing, Purpose};
use crate::{outbox, queue};

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (one process; the default).
    Sqlite,
    /// PostgreSQL (many processes; the queue uses `FOR UPDATE SKIP LOCKED`).
    Postgres,
}

/// The database handle shared by all requests and workers: one pool over SQLite or
/// PostgreSQL, which one it is (for the few statements whose dialects differ), and the key
/// that seals the audit trail (every change written through this handle is audited).
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    audit_key: Option<std::sync::Arc<AuditKey>>,
    keyring: Option<KeyRing>,
}

impl Db {
    /// This handle with the key that seals audit entries (derived from the service secret).
    pub fn with_audit_key(mut self, key: AuditKey) -> Self {
        self.audit_key = Some(std::sync::Arc::new(key));
        self
    }

    /// The audit key; an error if the handle was made without one.
    pub fn audit_key(&self) -> Result<&AuditKey, AppError> {
        self.audit_key.as_deref().ok_or_else(|| AppError::internal("the database handle has no audit key"))
    }

    /// This handle with the key-encryption keys that wrap the sessions' data keys.
    pub fn with_keyring(mut self, ring: KeyRing) -> Self {
        self.keyring = Some(ring);
        self
    }

    /// The key-encryption keys; an error if the handle was made without them.
    pub fn keyring(&self) -> Result<&KeyRing, AppError> {
        self.keyring.as_ref().ok_or_else(|| AppError::internal("the database handle has no key-encryption keys"))
    }

    /// True if the handle holds key-encryption keys.
    pub fn has_keyring(&self) -> bool {
        self.keyring.is_some()
    }

    /// An [`Auditor`] for changes made by `actor`.
    pub fn auditor<'a>(&'a self, actor: Actor<'a>) -> Result<Auditor<'a>, AppError> {
        Ok(Auditor::new(self.audit_key()?, actor))
    }

    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction that may write.
    ///
    /// On SQLite this is `BEGIN IMMEDIATE`: the write lock is taken up front, so a
    /// transaction that reads before it writes waits (up to the busy timeout) for a
    /// concurrent writer instead of failing with `SQLITE_BUSY` when its read snapshot
    /// goes stale, which a plain deferred `BEGIN` does in WAL mode. On PostgreSQL it
    /// is a plain `BEGIN`.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// The engine behind the pool.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The row-locking suffix of a queue claim: `FOR UPDATE SKIP LOCKED` on PostgreSQL,
    /// nothing on SQLite (whose writers are serialised anyway).
    pub fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The engine a database URL names, if supported.
pub fn backend_of(url: &str) -> Option<Backend> {
    if url.starts_with("sqlite:") {
        Some(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(Backend::Postgres)
    } else {
        None
    }
}

/// Opens the database at `url` without running migrations. SQLite files are created if
/// missing and run with WAL, foreign keys and a busy timeout; PostgreSQL URLs
/// (`postgres://...`) connect to an existing database.
pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let backend = backend_of(url)
        .ok_or_else(|| sqlx::Error::Configuration("the database URL must start with sqlite: or postgres://".into()))?;
    let db = match backend {
        Backend::Sqlite => {
            let url = if url.contains("mode=") {
                url.to_owned()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            let pool = AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA secure_delete = ON;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            Db { pool, backend, audit_key: None, keyring: None }
        }
        Backend::Postgres => {
            let pool =
                AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
            Db { pool, backend, audit_key: None, keyring: None }
        }
    };
    Ok(db)
}

/// Applies pending migrations (`migrations/sqlite` or `migrations/postgres`).
pub async fn migrate(db: &Db) -> Result<(), sqlx::migrate::MigrateError> {
    match db.backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&db.pool).await,
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&db.pool).await,
    }
}

/// Creates a tenant (audited on the `system` chain, actor `cli`).
pub async fn create_tenant(db: &Db, name: &str, now: i64) -> Result<TenantId, AppError> {
    let id = TenantId::generate();
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(id.as_str())
        .bind(name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let details = serde_json::json!({});
    db.auditor(Actor::Cli)?.record(&mut tx, audit::SYSTEM_CHAIN, "tenant.created", id.as_str(), details, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// True if the tenant exists.
pub async fn tenant_exists(db: &Db, tenant: &TenantId) -> Result<bool, sqlx::Error> {
    let row =
        sqlx::query("SELECT id FROM tenants WHERE id = $1").bind(tenant.as_str()).fetch_optional(db.pool()).await?;
    Ok(row.is_some())
}

/// Creates and stores (as prefix + SHA-256) a new API key for `tenant`; returns the key.
/// The creation is audited on the tenant's chain with the key's prefix, never the key.
pub async fn create_api_key(db: &Db, tenant: &TenantId, now: i64) -> Result<ApiKey, AppError> {
    let key = ApiKey::generate();
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO api_keys (prefix, tenant_id, key_sha256, created_at) VALUES ($1, $2, $3, $4)")
        .bind(key.prefix())
        .bind(tenant.as_str())
        .bind(key.hash_hex())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let details = serde_json::json!({});
    db.auditor(Actor::Cli)?.record(&mut tx, tenant.as_str(), "api_key.created", key.prefix(), details, now).await?;
    tx.commit().await?;
    Ok(key)
}

/// The tenant owning `key`, if the key exists, is not revoked and matches its stored hash.
pub async fn authenticate_api_key(db: &Db, key: &ApiKey) -> Result<Option<TenantId>, sqlx::Error> {
    let row = sqlx::query("SELECT tenant_id, key_sha256 FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL")
        .bind(key.prefix())
        .fetch_optional(db.pool())
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
    /// The applicant data given at creation as stored: sealed with the session's data key
    /// ([`vault::Purpose::Applicant`]); open it with [`SessionRecord::applicant`].
    pub applicant_sealed: Option<String>,
    /// Registered capture public key (base64url), if any.
    pub public_key: Option<String>,
    /// The verification round: 0, then one more per resubmission request.
    pub round: i64,
    /// The steps a resubmission request asks for (round > 0), else `None`.
    pub requested_steps: Option<Vec<Step>>,
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

    /// The applicant data (JSON text; PII: never logged), opened with the session's vault.
    pub fn applicant(&self, vault: &vault::SessionVault) -> Result<Option<String>, vault::VaultError> {
        self.applicant_sealed.as_deref().map(|text| vault.open_text(Purpose::Applicant, text)).transpose()
    }

    /// The steps the current round must capture.
    pub fn round_steps(&self) -> &[Step] {
        self.requested_steps.as_deref().unwrap_or(&self.steps)
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
    /// Applicant data (JSON text, plain: [`insert_session`] seals it).
    pub applicant: Option<&'a str>,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// Now, Unix seconds.
    pub now: i64,
}

/// The JSON text of a list of steps.
pub fn steps_to_json(steps: &[Step]) -> String {
    serde_json::to_string(steps).unwrap_or_else(|_| "[]".to_owned())
}

fn steps_from_json(text: &str) -> Result<Vec<Step>, AppError> {
    serde_json::from_str(text).map_err(|e| AppError::internal(format_args!("stored steps: {e}")))
}

/// Inserts a new session with status `created` and its data key (wrapped under the
/// current KEK); the applicant data is stored sealed with that key (audited:
/// `session.created`, actor `api`).
pub async fn insert_session(db: &Db, new: &NewSession<'_>) -> Result<(), AppError> {
    let ring = db.keyring()?;
    let mut tx = db.begin().await?;
    let (session_vault, wrapped) = ring.new_key(new.tenant_id.as_str(), new.id.as_str());
    let applicant = new.applicant.map(|a| session_vault.seal_text(Purpose::Applicant, a));
    sqlx::query(
        "INSERT INTO sessions (id, tenant_id, status, steps, reference, applicant, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(new.id.as_str())
    .bind(new.tenant_id.as_str())
    .bind(SessionStatus::Created.as_str())
    .bind(steps_to_json(new.steps))
    .bind(new.reference)
    .bind(applicant)
    .bind(new.expires_at)
    .bind(new.now)
    .execute(&mut *tx)
    .await?;
    vault::keys::insert(&mut tx, new.tenant_id.as_str(), new.id.as_str(), &wrapped, new.now).await?;
    let steps: Vec<&str> = new.steps.iter().map(|s| s.as_str()).collect();
    let details = serde_json::json!({"steps": steps, "expires_at": new.expires_at});
    db.auditor(Actor::Api)?
        .record(&mut tx, new.tenant_id.as_str(), "session.created", new.id.as_str(), details, new.now)
        .await?;
    tx.commit().await?;
    Ok(())
}

const SESSION_COLUMNS: &str = "id, tenant_id, status, steps, reference, applicant, public_key, round, requested_steps, \
                               expires_at, created_at, updated_at";

fn session_from_row(row: &sqlx::any::AnyRow) -> Result<SessionRecord, AppError> {
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let steps: String = row.try_get("steps")?;
    let requested: Option<String> = row.try_get("requested_steps")?;
    Ok(SessionRecord {
        id: SessionId::parse(&id).ok_or_else(|| AppError::internal("stored session id is malformed"))?,
        tenant_id: row.try_get("tenant_id")?,
        status: SessionStatus::parse(&status)
            .ok_or_else(|| AppError::internal(format_args!("unknown stored session status {status:?}")))?,
        steps: steps_from_json(&steps)?,
        reference: row.try_get("reference")?,
        applicant_sealed: row.try_get("applicant")?,
        public_key: row.try_get("public_key")?,
        round: row.try_get("round")?,
        requested_steps: requested.as_deref().map(steps_from_json).transpose()?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Loads a session of `tenant`; `None` if it does not exist or belongs to another tenant.
pub async fn get_session(db: &Db, id: &SessionId, tenant: &str) -> Result<Option<SessionRecord>, AppError> {
    let row = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1 AND tenant_id = $2"))
        .bind(id.as_str())
        .bind(tenant)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(session_from_row).transpose()
}

/// Loads a session whatever its tenant (workers only; never for a caller's request).
pub async fn load_session(conn: &mut AnyConnection, id: &str) -> Result<Option<SessionRecord>, AppError> {
    let row = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(session_from_row).transpose()
}

/// Moves a session from `from` to `to` (checked against the state machine), records the
/// event for webhooks and appends the change to the audit trail, in the caller's
/// transaction. Returns `false` (and changes nothing) if the stored state is no longer `from`.
pub async fn transition(
    conn: &mut AnyConnection,
    auditor: Auditor<'_>,
    session: &SessionRecord,
    from: SessionStatus,
    to: SessionStatus,
    data: serde_json::Value,
    now: i64,
) -> Result<bool, AppError> {
    transition_with_event(conn, auditor, session, from, to, None, data, now).await
}

/// [`transition`] with an explicit webhook event type (default `session.<state>`), e.g.
/// `session.monitoring_hit` for `approved → review` after a list update.
#[allow(clippy::too_many_arguments)]
pub async fn transition_with_event(
    conn: &mut AnyConnection,
    auditor: Auditor<'_>,
    session: &SessionRecord,
    from: SessionStatus,
    to: SessionStatus,
    event_type: Option<&str>,
    data: serde_json::Value,
    now: i64,
) -> Result<bool, AppError> {
    if !from.can_move_to(to) {
        return Err(AppError::internal(format_args!("illegal session transition {from} -> {to}")));
    }
    let moved = sqlx::query("UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
        .bind(to.as_str())
        .bind(now)
        .bind(session.id.as_str())
        .bind(from.as_str())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if moved != 1 {
        return Ok(false);
    }
    let details = serde_json::json!({
        "from": from.as_str(),
        "to": to.as_str(),
        "event": event_type,
        "data": &data,
    });
    auditor.record(conn, &session.tenant_id, "session.transition", session.id.as_str(), details, now).await?;
    outbox::emit_typed(conn, session, to, event_type, data, now).await?;
    metrics::counter!("trustcap_session_transitions_total", "to" => to.as_str()).increment(1);
    Ok(true)
}

/// Marks every open session past its expiry as `expired` (with its event); returns how
/// many moved.
pub async fn expire_sessions(db: &Db, now: i64, limit: i64) -> Result<usize, AppError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM sessions WHERE status IN ('created', 'capturing', 'resubmission_requested') \
         AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut moved = 0;
    for id in ids {
        let mut tx = db.begin().await?;
        // Write first, so the SQLite transaction holds the write lock from the start.
        sqlx::query("UPDATE sessions SET updated_at = updated_at WHERE id = $1").bind(&id).execute(&mut *tx).await?;
        let Some(session) = load_session(&mut tx, &id).await? else { continue };
        if session.status.is_capturable()
            && transition(
                &mut tx,
                db.auditor(Actor::System)?,
                &session,
                session.status,
                SessionStatus::Expired,
                serde_json::json!({}),
                now,
            )
            .await?
        {
            moved += 1;
        }
        tx.commit().await?;
    }
    Ok(moved)
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
) -> Result<KeyRegistration, AppError> {
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE sessions SET public_key = $1, key_id = $2, updated_at = $3 WHERE id = $4 AND public_key IS NULL",
    )
    .bind(public_key)
    .bind(key_id)
    .bind(now)
    .bind(session.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 1 {
        let tenant: String = sqlx::query_scalar("SELECT tenant_id FROM sessions WHERE id = $1")
            .bind(session.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let details = serde_json::json!({"key_id": key_id});
        db.auditor(Actor::Client)?
            .record(&mut tx, &tenant, "session.key_registered", session.as_str(), details, now)
            .await?;
        tx.commit().await?;
        return Ok(KeyRegistration::Created);
    }
    let existing: Option<String> = sqlx::query_scalar("SELECT public_key FROM sessions WHERE id = $1")
        .bind(session.as_str())
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
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
        .execute(db.pool())
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
    /// Length of the image in bytes (before sealing).
    pub byte_len: usize,
    /// The image sealed with the session's data key ([`vault::Purpose::CaptureImage`]).
    pub data: &'a [u8],
    /// Where the bytes are in the object store; `None` keeps them in the database.
    pub object_key: Option<&'a str>,
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
    E: sqlx::Executor<'e, Database = sqlx::Any>,
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
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(nonce_state(executor, session, nonce, now)
        .await?
        .unwrap_or_else(|| AppError::internal("nonce could not be consumed although it is valid")))
}

/// A read-only look at the nonce before the expensive image work, so a replayed or
/// unknown nonce is refused cheaply. [`store_capture`] still decides atomically.
pub async fn precheck_nonce(db: &Db, session: &SessionId, nonce: &str, now: i64) -> Result<(), AppError> {
    match nonce_state(db.pool(), session.as_str(), nonce, now).await? {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// A capture already stored for this session with the same whole-payload SHA-256 (an
/// idempotent retry of an accepted upload): its id.
pub async fn find_duplicate(db: &Db, session: &SessionId, payload_sha256: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM captures WHERE session_id = $1 AND payload_sha256 = $2")
        .bind(session.as_str())
        .bind(payload_sha256)
        .fetch_optional(db.pool())
        .await
}

/// Consumes the nonce and stores the capture and its images in one transaction, then
/// moves the session to `capturing` or `submitted` (queueing the verification job and
/// recording the events in the same transaction). On any error nothing is stored.
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

    // Re-read the session inside the transaction: another upload may have completed it
    // since the request started.
    let session = load_session(&mut tx, session_id).await?.ok_or(AppError::NotFound("session not found"))?;
    let status = session.status_at(new.now);
    if !status.is_capturable() {
        tx.rollback().await?;
        return Err(AppError::SessionNotCapturable(status.as_str()));
    }
    if !session.round_steps().contains(&new.step) {
        tx.rollback().await?;
        return Err(AppError::protocol(
            trustcap_protocol::ErrorCode::StepNotAllowed,
            "this step is not requested in the current round",
        ));
    }

    sqlx::query(
        "INSERT INTO captures (id, session_id, step, nonce, key_id, manifest, signature, payload_sha256, \
         client_quality, server_quality, received_at, round) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
    .bind(session.round)
    .execute(&mut *tx)
    .await?;
    for (position, image) in new.images.iter().enumerate() {
        let data: &[u8] = if image.object_key.is_some() { &[] } else { image.data };
        sqlx::query(
            "INSERT INTO capture_images (capture_id, position, name, content_type, width, height, byte_len, sha256, \
             data, object_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new.id.as_str())
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(image.name)
        .bind(image.content_type)
        .bind(i64::from(image.width))
        .bind(i64::from(image.height))
        .bind(i64::try_from(image.byte_len).unwrap_or(i64::MAX))
        .bind(image.sha256)
        .bind(data)
        .bind(image.object_key)
        .execute(&mut *tx)
        .await?;
    }

    let captured: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT step FROM captures WHERE session_id = $1 AND round = $2")
            .bind(session_id)
            .bind(session.round)
            .fetch_all(&mut *tx)
            .await?;
    let complete = session.round_steps().iter().all(|s| captured.iter().any(|c| c == s.as_str()));
    let next = if complete { SessionStatus::Submitted } else { SessionStatus::Capturing };
    if next == session.status {
        sqlx::query("UPDATE sessions SET updated_at = $1 WHERE id = $2")
            .bind(new.now)
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
    } else {
        let data = serde_json::json!({"round": session.round});
        if !transition(&mut tx, db.auditor(Actor::Client)?, &session, session.status, next, data, new.now).await? {
            tx.rollback().await?;
            return Err(AppError::internal("the session changed during the upload"));
        }
    }
    if next == SessionStatus::Submitted {
        queue::enqueue(&mut tx, queue::JobKind::Verify, session_id, new.now).await?;
    }
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
    /// The verification round it belongs to.
    pub round: i64,
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
        "SELECT id, round, step, received_at, key_id, client_quality, server_quality FROM captures \
         WHERE session_id = $1 ORDER BY received_at, id",
    )
    .bind(session.as_str())
    .fetch_all(db.pool())
    .await?;
    let mut captures = Vec::with_capacity(rows.len());
    for row in rows {
        captures.push(CaptureRecord {
            id: row.try_get("id")?,
            round: row.try_get("round")?,
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
    .fetch_all(db.pool())
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
        .fetch_all(db.pool())
        .await
}
