//! The delivery worker: claims due deliveries from the outbox, signs and POSTs each
//! event's stored body, logs every attempt, and reschedules failures with exponential
//! backoff and jitter until the retry window (at least three days) has passed.
//!
//! Every attempt first re-checks the stored URL against the [`UrlPolicy`], and the HTTP
//! client resolves names through a [`FilteringResolver`] (no redirects, no proxy), so an
//! endpoint whose name resolves to an internal address is never contacted. Such a refusal
//! is logged as `blocked: ...` and fails the delivery at once rather than retrying it for
//! days: it does not heal by waiting, and repeated lookups would only let a tenant probe
//! internal DNS. The tenant fixes the endpoint and asks for a redelivery.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::clock::SharedClock;
use crate::db::Db;
use crate::domain::random_bytes;
use crate::outbox::{self, AttemptResult, ClaimedDelivery};
use crate::webhook::secret::SecretBox;
use crate::webhook::signature::{EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header};
use crate::webhook::ssrf::{self, FilteringResolver, SystemResolver, UrlPolicy};

/// First retry delay, in seconds.
pub const BACKOFF_BASE_SECS: i64 = 30;
/// Longest delay between two attempts, in seconds.
pub const BACKOFF_MAX_SECS: i64 = 3600;

/// The delay before attempt `attempt + 1` after `attempt` failures (1-based), with up to
/// ±20 % jitter from `jitter` in `[0, 1)`: 30 s, 60 s, 120 s, ... capped at one hour.
pub fn backoff_secs(attempt: i64, jitter: f64) -> i64 {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let base = BACKOFF_BASE_SECS.saturating_mul(1i64 << exp).min(BACKOFF_MAX_SECS);
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    // The product is at most 1.2 h in seconds: no overflow, and at least 1 s.
    ((base as f64) * factor).round().max(1.0) as i64
}

fn random_unit() -> f64 {
    let bytes: [u8; 4] = random_bytes();
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

/// Settings of the delivery worker.
#[derive(Debug, Clone)]
pub struct DelivererConfig {
    /// How long one HTTP attempt may take.
    pub timeout: Duration,
    /// How often to look for due deliveries when idle.
    pub poll: Duration,
    /// Most deliveries sent at once.
    pub batch: i64,
    /// Which endpoint URLs and destination addresses may be called.
    pub policy: UrlPolicy,
}

/// Why an attempt got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SendError {
    /// Worth retrying later (timeout, connection refused, database hiccup, ...).
    Transient(String),
    /// The endpoint is refused by the SSRF policy: retrying cannot help.
    Blocked(String),
}

/// Sends webhook deliveries.
#[derive(Debug, Clone)]
pub struct Deliverer {
    db: Db,
    clock: SharedClock,
    secrets: SecretBox,
    http: reqwest::Client,
    config: DelivererConfig,
}

impl Deliverer {
    /// A deliverer over `db`, reading time from `clock` and secrets through `secrets`,
    /// resolving endpoint names with the system resolver.
    pub fn new(db: Db, clock: SharedClock, secrets: SecretBox, config: DelivererConfig) -> Self {
        Self::with_resolver(db, clock, secrets, config, Arc::new(SystemResolver))
    }

    /// Like [`Deliverer::new`], resolving endpoint names with `resolver` (whose answers
    /// are still filtered by the policy; tests inject a fixed name-to-address map here).
    pub fn with_resolver(
        db: Db,
        clock: SharedClock,
        secrets: SecretBox,
        config: DelivererConfig,
        resolver: Arc<dyn reqwest::dns::Resolve>,
    ) -> Self {
        let http = ssrf::delivery_client(config.timeout, config.policy, resolver.clone()).unwrap_or_else(|e| {
            // Only a broken TLS backend fails here; keep the filter even then.
            tracing::error!(error = %e, "building the webhook HTTP client");
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(Arc::new(FilteringResolver::new(resolver, config.policy)))
                .build()
                .unwrap_or_default()
        });
        Self { db, clock, secrets, http, config }
    }

    /// Claims and sends one batch; returns how many deliveries were attempted.
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let lease = i64::try_from(self.config.timeout.as_secs()).unwrap_or(60).saturating_add(30);
        let claimed = outbox::claim(&self.db, now, lease, self.config.batch).await?;
        let count = claimed.len();
        let mut tasks = JoinSet::new();
        for delivery in claimed {
            let this = self.clone();
            tasks.spawn(async move { this.send_one(delivery).await });
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "recording a webhook attempt failed"),
                Err(e) => tracing::error!(error = %e, "a webhook task failed"),
            }
        }
        Ok(count)
    }

    async fn send_one(&self, delivery: ClaimedDelivery) -> Result<(), sqlx::Error> {
        let started = Instant::now();
        let at = self.clock.now();
        let result = match self.post(&delivery, at).await {
            Ok(status) => AttemptResult { status: Some(status), error: None, duration_ms: 0, at, permanent: false },
            Err(SendError::Transient(error)) => {
                AttemptResult { status: None, error: Some(error), duration_ms: 0, at, permanent: false }
            }
            Err(SendError::Blocked(error)) => {
                AttemptResult { status: None, error: Some(error), duration_ms: 0, at, permanent: true }
            }
        };
        let result =
            AttemptResult { duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX), ..result };
        let outcome = match (result.succeeded(), result.permanent) {
            (true, _) => "delivered",
            (false, true) => "blocked",
            (false, false) => "failed",
        };
        metrics::counter!("trustcap_webhook_attempts_total", "outcome" => outcome).increment(1);
        tracing::info!(
            delivery_id = %delivery.id,
            event_id = %delivery.event_id,
            event_type = %delivery.event_type,
            attempt = delivery.attempts + 1,
            status = result.status,
            outcome,
            "webhook attempt"
        );
        let next = at.saturating_add(backoff_secs(delivery.attempts + 1, random_unit()));
        outbox::record_attempt(&self.db, &delivery, &result, next).await
    }

    async fn post(&self, delivery: &ClaimedDelivery, now: i64) -> Result<u16, SendError> {
        let endpoint = outbox::endpoint(&self.db, &delivery.tenant_id)
            .await
            .map_err(|e| SendError::Transient(format!("database: {e}")))?
            .ok_or_else(|| SendError::Transient("the tenant has no webhook endpoint".to_owned()))?;
        // Endpoints stored before the filter existed (or under a looser policy) are
        // re-checked here; literal IP hosts never reach the resolver, so this is their check.
        let url = self.config.policy.check(&endpoint.url).map_err(|e| SendError::Blocked(format!("blocked: {e}")))?;
        let current = self
            .secrets
            .open(&delivery.tenant_id, &endpoint.secret_enc)
            .map_err(|e| SendError::Transient(e.to_string()))?;
        let previous = match (&endpoint.previous_secret_enc, endpoint.previous_valid_until) {
            (Some(sealed), Some(until)) if until > now => {
                Some(self.secrets.open(&delivery.tenant_id, sealed).map_err(|e| SendError::Transient(e.to_string()))?)
            }
            _ => None,
        };
        let mut secrets = vec![current.as_str()];
        secrets.extend(previous.as_deref());
        let body = delivery.payload.clone().into_bytes();
        let signature = signature_header(&secrets, now, &body);
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(EVENT_ID_HEADER, &delivery.event_id)
            .header("idempotency-key", &delivery.event_id)
            .header("trustcap-event-type", &delivery.event_type)
            .header("trustcap-delivery-id", &delivery.id)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if ssrf::is_blocked_error(&e) {
                    SendError::Blocked(format!("blocked: {}", ssrf::BlockedAddress))
                } else if e.is_timeout() {
                    SendError::Transient("timeout".to_owned())
                } else {
                    SendError::Transient("connection failed".to_owned())
                }
            })?;
        Ok(response.status().as_u16())
    }

    /// Runs until `shutdown` turns true: a batch, then (if it was empty) a pause.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let this = Arc::new(self);
        loop {
            if *shutdown.borrow() {
                break;
            }
            let sent = match this.run_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "webhook delivery loop");
                    0
                }
            };
            if sent == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(this.config.poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_jitters() {
        assert_eq!(backoff_secs(1, 0.5), 30);
        assert_eq!(backoff_secs(2, 0.5), 60);
        assert_eq!(backoff_secs(3, 0.5), 120);
        assert_eq!(backoff_secs(30, 0.5), 3600);
        assert_eq!(backoff_secs(i64::MAX, 0.5), 3600);
        assert_eq!(backoff_secs(1, 0.0), 24);
        assert_eq!(backoff_secs(1, 0.999_999), 36);
        let u = random_unit();
        assert!((0.0..1.0).contains(&u));
        // Three days of failures take dozens of attempts, never an unbounded number.
        let (mut t, mut n) = (0i64, 0);
        while t < 3 * 24 * 3600 {
            n += 1;
            t += backoff_secs(n, 0.5);
        }
        assert!((70..90).contains(&n), "{n}");
    }
}
