//! The persisted webhook outbox: events (written in the same transaction as the state
//! change they report), one delivery row per event and endpoint, the delivery log, and
//! the tenant's endpoint with its encrypted secrets.
//!
//! An event's body is serialised once, when the event is created, and stored; every
//! delivery and redelivery sends exactly those bytes, so a receiver never sees two
//! different contents for one event id. Deliveries of one session go out in event order:
//! a delivery is only claimed when no earlier event of its session is still pending.

use serde_json::{Value, json};
use sqlx::AnyConnection;
use sqlx::Row as _;

use crate::audit::Actor;
use crate::db::{Db, SessionRecord};
use crate::domain::{DeliveryId, EventId, SessionStatus};
use crate::error::AppError;

/// How long a delivery is retried before it is given up (at least three days).
pub const RETRY_WINDOW_SECS: i64 = 3 * 24 * 3600;

/// Records the event for `session` entering `state` (with `data` merged into the event's
/// `data`) and queues its delivery if the tenant has an endpoint.
pub async fn emit(
    conn: &mut AnyConnection,
    session: &SessionRecord,
    state: SessionStatus,
    data: Value,
    now: i64,
) -> Result<EventId, AppError> {
    emit_typed(conn, session, state, None, data, now).await
}

/// [`emit`] with an explicit event type (`None`: `session.<state>`).
pub async fn emit_typed(
    conn: &mut AnyConnection,
    session: &SessionRecord,
    state: SessionStatus,
    event_type: Option<&str>,
    data: Value,
    now: i64,
) -> Result<EventId, AppError> {
    let seq: i64 =
        sqlx::query_scalar("UPDATE sessions SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq")
            .bind(session.id.as_str())
            .fetch_one(&mut *conn)
            .await?;
    let id = EventId::generate();
    let kind = event_type.map_or_else(|| format!("session.{}", state.as_str()), str::to_owned);
    let mut body_data = json!({
        "state": state.as_str(),
        "status": state.capture_status().as_str(),
        "reference": session.reference,
    });
    if let (Some(target), Value::Object(extra)) = (body_data.as_object_mut(), data) {
        target.extend(extra);
    }
    let payload = json!({
        "id": id.as_str(),
        "type": kind,
        "created_at": now,
        "session_id": session.id.as_str(),
        "sequence": seq,
        "data": body_data,
    })
    .to_string();
    sqlx::query(
        "INSERT INTO events (id, tenant_id, session_id, seq, type, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(&session.tenant_id)
    .bind(session.id.as_str())
    .bind(seq)
    .bind(&kind)
    .bind(&payload)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let has_endpoint: Option<String> =
        sqlx::query_scalar("SELECT tenant_id FROM webhook_endpoints WHERE tenant_id = $1")
            .bind(&session.tenant_id)
            .fetch_optional(&mut *conn)
            .await?;
    if has_endpoint.is_some() {
        insert_delivery(conn, id.as_str(), &session.tenant_id, session.id.as_str(), seq, now).await?;
    }
    Ok(id)
}

async fn insert_delivery(
    conn: &mut AnyConnection,
    event_id: &str,
    tenant: &str,
    session: &str,
    seq: i64,
    now: i64,
) -> Result<DeliveryId, sqlx::Error> {
    let id = DeliveryId::generate();
    sqlx::query(
        "INSERT INTO deliveries (id, event_id, tenant_id, session_id, seq, state, attempts, next_attempt_at, \
         give_up_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $6)",
    )
    .bind(id.as_str())
    .bind(event_id)
    .bind(tenant)
    .bind(session)
    .bind(seq)
    .bind(now)
    .bind(now.saturating_add(RETRY_WINDOW_SECS))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Queues a new delivery of an existing event of `tenant` (the redelivery endpoint).
/// `None` if the event does not exist for this tenant or the tenant has no endpoint.
pub async fn redeliver(db: &Db, tenant: &str, event_id: &str, now: i64) -> Result<Option<DeliveryId>, AppError> {
    let mut tx = db.begin().await?;
    let row = sqlx::query("SELECT session_id, seq FROM events WHERE id = $1 AND tenant_id = $2")
        .bind(event_id)
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let endpoint: Option<String> = sqlx::query_scalar("SELECT tenant_id FROM webhook_endpoints WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await?;
    if endpoint.is_none() {
        return Ok(None);
    }
    let session: String = row.try_get("session_id")?;
    let seq: i64 = row.try_get("seq")?;
    let id = insert_delivery(&mut tx, event_id, tenant, &session, seq, now).await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// A tenant's webhook endpoint as stored (secrets still sealed).
#[derive(Debug, Clone)]
pub struct EndpointRecord {
    /// Where events are POSTed.
    pub url: String,
    /// The current secret, sealed.
    pub secret_enc: String,
    /// The previous secret during a rotation, sealed.
    pub previous_secret_enc: Option<String>,
    /// Until when the previous secret still signs.
    pub previous_valid_until: Option<i64>,
}

/// The tenant's endpoint, if any.
pub async fn endpoint(db: &Db, tenant: &str) -> Result<Option<EndpointRecord>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT url, secret_enc, previous_secret_enc, previous_valid_until FROM webhook_endpoints WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(EndpointRecord {
            url: row.try_get("url")?,
            secret_enc: row.try_get("secret_enc")?,
            previous_secret_enc: row.try_get("previous_secret_enc")?,
            previous_valid_until: row.try_get("previous_valid_until")?,
        })
    })
    .transpose()
}

/// Sets (creating or replacing) the tenant's endpoint URL and secret (audited with the URL's
/// host only: a path or query may carry a customer's token).
pub async fn put_endpoint(db: &Db, tenant: &str, url: &str, secret_enc: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE webhook_endpoints SET url = $1, secret_enc = $2, previous_secret_enc = NULL, \
         previous_valid_until = NULL, updated_at = $3 WHERE tenant_id = $4",
    )
    .bind(url)
    .bind(secret_enc)
    .bind(now)
    .bind(tenant)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO webhook_endpoints (tenant_id, url, secret_enc, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(tenant)
        .bind(url)
        .bind(secret_enc)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned));
    let details = json!({"host": host, "secret": "created"});
    db.auditor(Actor::Api)?.record(&mut tx, tenant, "webhook_endpoint.set", tenant, details, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Rotates the secret: the new one signs from now on, the current one keeps signing
/// beside it until `previous_valid_until`. `false` if the tenant has no endpoint.
pub async fn rotate_secret(
    db: &Db,
    tenant: &str,
    new_secret_enc: &str,
    previous_valid_until: i64,
    now: i64,
) -> Result<bool, AppError> {
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret_enc = secret_enc, previous_valid_until = $1, \
         secret_enc = $2, updated_at = $3 WHERE tenant_id = $4",
    )
    .bind(previous_valid_until)
    .bind(new_secret_enc)
    .bind(now)
    .bind(tenant)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 1 {
        let details = json!({"previous_valid_until": previous_valid_until});
        db.auditor(Actor::Api)?.record(&mut tx, tenant, "webhook_secret.rotated", tenant, details, now).await?;
    }
    tx.commit().await?;
    Ok(updated == 1)
}

/// A claimed delivery with everything needed to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// Delivery id.
    pub id: String,
    /// Event id (the idempotency key).
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// The tenant.
    pub tenant_id: String,
    /// Attempts before this one.
    pub attempts: i64,
    /// When to give up.
    pub give_up_at: i64,
    /// The exact body to send.
    pub payload: String,
}

/// Claims up to `limit` due deliveries (each the earliest pending one of its session)
/// with a lease of `lease_secs`.
pub async fn claim(db: &Db, now: i64, lease_secs: i64, limit: i64) -> Result<Vec<ClaimedDelivery>, sqlx::Error> {
    let sql = format!(
        "UPDATE deliveries SET lease_until = $1 WHERE id IN (\
           SELECT d.id FROM deliveries d WHERE d.state = 'pending' AND d.next_attempt_at <= $2 \
           AND (d.lease_until IS NULL OR d.lease_until <= $2) \
           AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.session_id = d.session_id \
                           AND e.tenant_id = d.tenant_id AND e.state = 'pending' AND e.seq < d.seq) \
           ORDER BY d.next_attempt_at, d.seq LIMIT $3{}) \
         RETURNING id, event_id, tenant_id, attempts, give_up_at",
        db.skip_locked()
    );
    let rows =
        sqlx::query(&sql).bind(now.saturating_add(lease_secs)).bind(now).bind(limit).fetch_all(db.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let event_id: String = row.try_get("event_id")?;
        let event =
            sqlx::query("SELECT type, payload FROM events WHERE id = $1").bind(&event_id).fetch_one(db.pool()).await?;
        out.push(ClaimedDelivery {
            id: row.try_get("id")?,
            event_id,
            event_type: event.try_get("type")?,
            tenant_id: row.try_get("tenant_id")?,
            attempts: row.try_get("attempts")?,
            give_up_at: row.try_get("give_up_at")?,
            payload: event.try_get("payload")?,
        });
    }
    Ok(out)
}

/// The result of one HTTP attempt.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The HTTP status, if a response came back.
    pub status: Option<u16>,
    /// The transport error, if none did (never contains the body).
    pub error: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// When the attempt was made.
    pub at: i64,
    /// The failure cannot heal by waiting (e.g. the endpoint resolves to a blocked
    /// address): the delivery fails now instead of being retried.
    pub permanent: bool,
}

impl AttemptResult {
    /// True for a 2xx answer.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Records an attempt in the delivery log and moves the delivery on: `delivered`,
/// `failed` (past its retry window), or `pending` again at `next_attempt_at`.
pub async fn record_attempt(
    db: &Db,
    delivery: &ClaimedDelivery,
    result: &AttemptResult,
    next_attempt_at: i64,
) -> Result<(), sqlx::Error> {
    let attempt = delivery.attempts + 1;
    let mut tx = db.begin().await?;
    let (state, delivered_at) = if result.succeeded() {
        ("delivered", Some(result.at))
    } else if result.permanent || result.at >= delivery.give_up_at {
        ("failed", None)
    } else {
        ("pending", None)
    };
    sqlx::query(
        "UPDATE deliveries SET state = $1, attempts = $2, next_attempt_at = $3, lease_until = NULL, \
         last_status = $4, last_error = $5, delivered_at = $6 WHERE id = $7",
    )
    .bind(state)
    .bind(attempt)
    .bind(next_attempt_at.min(delivery.give_up_at))
    .bind(result.status.map(i64::from))
    .bind(result.error.as_deref())
    .bind(delivered_at)
    .bind(&delivery.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO delivery_attempts (delivery_id, attempt, at, status, error, duration_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&delivery.id)
    .bind(attempt)
    .bind(result.at)
    .bind(result.status.map(i64::from))
    .bind(result.error.as_deref())
    .bind(result.duration_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The delivery log of a session of `tenant`: its events, each with its deliveries and
/// their attempts. `None` if the session is not the tenant's.
pub async fn session_log(db: &Db, tenant: &str, session: &str) -> Result<Option<Value>, sqlx::Error> {
    let owner: Option<String> = sqlx::query_scalar("SELECT id FROM sessions WHERE id = $1 AND tenant_id = $2")
        .bind(session)
        .bind(tenant)
        .fetch_optional(db.pool())
        .await?;
    if owner.is_none() {
        return Ok(None);
    }
    let events = sqlx::query("SELECT id, seq, type, created_at FROM events WHERE session_id = $1 ORDER BY seq")
        .bind(session)
        .fetch_all(db.pool())
        .await?;
    let deliveries = sqlx::query(
        "SELECT id, event_id, state, attempts, next_attempt_at, last_status, created_at, delivered_at \
         FROM deliveries WHERE session_id = $1 ORDER BY seq, created_at, id",
    )
    .bind(session)
    .fetch_all(db.pool())
    .await?;
    let attempts = sqlx::query(
        "SELECT a.delivery_id, a.attempt, a.at, a.status, a.error, a.duration_ms FROM delivery_attempts a \
         JOIN deliveries d ON d.id = a.delivery_id WHERE d.session_id = $1 ORDER BY a.delivery_id, a.attempt",
    )
    .bind(session)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let event_id: String = event.try_get("id")?;
        let mut list = Vec::new();
        for d in deliveries.iter().filter(|d| d.try_get::<String, _>("event_id").is_ok_and(|e| e == event_id)) {
            let delivery_id: String = d.try_get("id")?;
            let mut tries = Vec::new();
            for a in attempts.iter().filter(|a| a.try_get::<String, _>("delivery_id").is_ok_and(|x| x == delivery_id)) {
                tries.push(json!({
                    "attempt": a.try_get::<i64, _>("attempt")?,
                    "at": a.try_get::<i64, _>("at")?,
                    "status": a.try_get::<Option<i64>, _>("status")?,
                    "error": a.try_get::<Option<String>, _>("error")?,
                    "duration_ms": a.try_get::<i64, _>("duration_ms")?,
                }));
            }
            list.push(json!({
                "delivery_id": delivery_id,
                "state": d.try_get::<String, _>("state")?,
                "attempts": d.try_get::<i64, _>("attempts")?,
                "next_attempt_at": d.try_get::<i64, _>("next_attempt_at")?,
                "last_status": d.try_get::<Option<i64>, _>("last_status")?,
                "created_at": d.try_get::<i64, _>("created_at")?,
                "delivered_at": d.try_get::<Option<i64>, _>("delivered_at")?,
                "log": tries,
            }));
        }
        out.push(json!({
            "event_id": event_id,
            "sequence": event.try_get::<i64, _>("seq")?,
            "type": event.try_get::<String, _>("type")?,
            "created_at": event.try_get::<i64, _>("created_at")?,
            "deliveries": list,
        }));
    }
    Ok(Some(json!({"session_id": session, "events": out})))
}

/// Counts deliveries by state (metrics, tests).
pub async fn count_deliveries(db: &Db, state: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE state = $1").bind(state).fetch_one(db.pool()).await
}
