//! The durable job queue, a table in the database.
//!
//! A job is claimed by taking a *lease* (`lease_until`, `locked_by`) in one statement;
//! on PostgreSQL the candidate row is locked with `FOR UPDATE SKIP LOCKED`, so many
//! verifier processes share the queue without blocking each other. A worker that dies
//! (SIGKILL, power loss) simply lets its lease run out and the job is claimed again.
//! Finishing or rescheduling a job checks the lease holder, so a worker whose lease was
//! taken over cannot overwrite the new holder's work; those updates run inside the
//! caller's transaction together with the job's effects.

use sqlx::AnyConnection;
use sqlx::Row as _;

use crate::db::Db;
use crate::domain::JobId;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Run the checks of a submitted session and decide.
    Verify,
}

impl JobKind {
    /// The stored form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        (text == "verify").then_some(Self::Verify)
    }
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Job id.
    pub id: String,
    /// What to do.
    pub kind: JobKind,
    /// The session it is about.
    pub session_id: String,
    /// How many times it has been claimed, this claim included.
    pub attempts: i64,
}

/// Queues a job, due now, in the caller's transaction.
pub async fn enqueue(
    conn: &mut AnyConnection,
    kind: JobKind,
    session_id: &str,
    now: i64,
) -> Result<JobId, sqlx::Error> {
    let id = JobId::generate();
    sqlx::query(
        "INSERT INTO jobs (id, kind, session_id, state, attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, 'queued', 0, $4, $4, $4)",
    )
    .bind(id.as_str())
    .bind(kind.as_str())
    .bind(session_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    metrics::counter!("trustcap_jobs_enqueued_total").increment(1);
    Ok(id)
}

/// Claims the oldest due job for `worker` for `lease_secs`, if any.
pub async fn claim(db: &Db, worker: &str, now: i64, lease_secs: i64) -> Result<Option<Job>, sqlx::Error> {
    let sql = format!(
        "UPDATE jobs SET lease_until = $1, locked_by = $2, attempts = attempts + 1, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $3 \
         AND (lease_until IS NULL OR lease_until <= $3) ORDER BY run_at, id LIMIT 1{}) \
         RETURNING id, kind, session_id, attempts",
        db.skip_locked()
    );
    let row =
        sqlx::query(&sql).bind(now.saturating_add(lease_secs)).bind(worker).bind(now).fetch_optional(db.pool()).await?;
    let Some(row) = row else { return Ok(None) };
    let kind: String = row.try_get("kind")?;
    Ok(Some(Job {
        id: row.try_get("id")?,
        kind: JobKind::parse(&kind).ok_or_else(|| sqlx::Error::Protocol(format!("unknown job kind {kind:?}")))?,
        session_id: row.try_get("session_id")?,
        attempts: row.try_get("attempts")?,
    }))
}

/// Marks the job done if `worker` still holds it; `false` if the lease was lost (the
/// caller must then roll its transaction back).
pub async fn complete(conn: &mut AnyConnection, job: &Job, worker: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = $1 \
         WHERE id = $2 AND locked_by = $3 AND state = 'queued'",
    )
    .bind(now)
    .bind(&job.id)
    .bind(worker)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Puts the job back to run at `run_at` (a transient failure), recording why.
pub async fn retry_later(
    conn: &mut AnyConnection,
    job: &Job,
    worker: &str,
    run_at: i64,
    error: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE jobs SET run_at = $1, lease_until = NULL, last_error = $2, updated_at = $3 \
         WHERE id = $4 AND locked_by = $5 AND state = 'queued'",
    )
    .bind(run_at)
    .bind(error)
    .bind(now)
    .bind(&job.id)
    .bind(worker)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// How many jobs are not done yet (metrics, tests).
pub async fn pending(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'queued'").fetch_one(db.pool()).await
}
