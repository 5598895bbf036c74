//! Pipeline orchestration: the worker that takes `verify` jobs from the durable queue
//! and drives a session through `submitted → processing → approved | declined | review |
//! resubmission_requested`.
//!
//! Every step is safe to repeat after a crash: the move to `processing` is a checked
//! transition, each check's result is stored (with the check's version) as soon as it is
//! known and reused if the job runs again, and the decision, the session's new state,
//! its webhook event and the job's completion are written in one transaction that only
//! commits while this worker still holds the job's lease.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row as _;
use tokio::sync::{Notify, watch};
use trustcap_protocol::Step;

use crate::audit::Actor;
use crate::checks::{CaptureInput, Check, CheckContext, CheckError, CheckOutcome, CheckRegistry, ImageInput, Reason};
use crate::clock::SharedClock;
use crate::db::{self, Db, SessionRecord};
use crate::domain::SessionStatus;
use crate::error::AppError;
use crate::queue::{self, Job, JobKind};
use crate::rules::{self, CheckResult, RuleSet};
use crate::storage::ImageStore;
use crate::vault::{self, Purpose};

/// Settings of the pipeline workers.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// How long a claimed job is reserved for its worker.
    pub lease_secs: i64,
    /// How often an idle worker looks for work.
    pub poll: Duration,
    /// Claims of a job before a transiently failing check is given up (→ review).
    pub max_attempts: i64,
    /// Longest time one check may run.
    pub check_timeout: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            lease_secs: 120,
            poll: Duration::from_millis(200),
            max_attempts: 5,
            check_timeout: Duration::from_secs(60),
        }
    }
}

/// The pipeline: checks, rules, storage and the queue.
#[derive(Debug, Clone)]
pub struct Pipeline {
    db: Db,
    clock: SharedClock,
    store: ImageStore,
    registry: Arc<CheckRegistry>,
    config: PipelineConfig,
    /// Woken when a job is queued in this process, so the worker need not wait a poll.
    pub wake: Arc<Notify>,
}

/// What one job run ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The session reached a decision (or needed none).
    Done,
    /// A check failed transiently; the job runs again later.
    Retrying,
    /// Another worker holds the job now; nothing was written.
    LeaseLost,
}

impl Pipeline {
    /// A pipeline.
    pub fn new(db: Db, clock: SharedClock, store: ImageStore, registry: CheckRegistry, config: PipelineConfig) -> Self {
        Self { db, clock, store, registry: Arc::new(registry), config, wake: Arc::new(Notify::new()) }
    }

    /// Claims and runs one job as `worker`; `None` if no job was due.
    pub async fn run_once(&self, worker: &str) -> Result<Option<JobOutcome>, AppError> {
        let Some(job) = queue::claim(&self.db, worker, self.clock.now(), self.config.lease_secs).await? else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        let outcome = match job.kind {
            JobKind::Verify => self.verify(&job, worker).await?,
        };
        metrics::histogram!("trustcap_job_seconds").record(started.elapsed().as_secs_f64());
        Ok(Some(outcome))
    }

    async fn verify(&self, job: &Job, worker: &str) -> Result<JobOutcome, AppError> {
        let now = self.clock.now();
        let mut conn = self.db.pool().acquire().await?;
        let session = db::load_session(&mut conn, &job.session_id).await?;
        drop(conn);
        let Some(mut session) = session else {
            return self.finish_without_decision(job, worker).await;
        };
        match session.status {
            SessionStatus::Submitted => {
                let mut tx = self.db.begin().await?;
                let data = json!({"round": session.round});
                let moved = db::transition(
                    &mut tx,
                    self.db.auditor(Actor::System)?,
                    &session,
                    SessionStatus::Submitted,
                    SessionStatus::Processing,
                    data,
                    now,
                )
                .await?;
                tx.commit().await?;
                if !moved {
                    return Ok(JobOutcome::LeaseLost);
                }
                session.status = SessionStatus::Processing;
            }
            SessionStatus::Processing => {} // Resumed after a crash or a retry.
            _ => return self.finish_without_decision(job, worker).await,
        }

        let (version, rules) = self.rules_for(&session.tenant_id).await?;
        let ctx = match self.context(&session, &rules).await {
            Ok(ctx) => ctx,
            Err(CheckError::Transient(e)) if job.attempts < self.config.max_attempts => {
                return self.retry(job, worker, &e).await;
            }
            Err(e) => {
                tracing::warn!(session_id = %session.id, error = %e, "the session's evidence cannot be loaded");
                CheckContext {
                    session_id: session.id.to_string(),
                    tenant_id: session.tenant_id.clone(),
                    steps: session.steps.clone(),
                    round: session.round,
                    applicant: None,
                    captures: Vec::new(),
                    rules: rules.clone(),
                }
            }
        };

        let stored = self.stored_results(&session).await?;
        let mut results = BTreeMap::new();
        for check in self.registry.for_steps(&session.steps) {
            if let Some(result) = stored.get(check.name()) {
                results.insert(check.name().to_owned(), result.clone());
                continue;
            }
            let result = match self.run_check(check.as_ref(), &ctx).await {
                Ok(outcome) => Ok(outcome),
                Err(CheckError::Transient(e)) if job.attempts < self.config.max_attempts => {
                    tracing::info!(session_id = %session.id, check = check.name(), attempt = job.attempts, "check failed transiently");
                    return self.retry(job, worker, &e).await;
                }
                Err(CheckError::NotApplicable(_)) => continue,
                Err(e) => Err(e),
            };
            let result = self.store_result(&session, check.as_ref(), result, job.attempts).await?;
            results.insert(check.name().to_owned(), result);
        }

        let decision = rules::decide(&rules, version, &results, &session.steps, session.round);
        let mut tx = self.db.begin().await?;
        let now = self.clock.now();
        let data = json!({
            "round": session.round,
            "decision": {
                "state": decision.state.as_str(),
                "trust_score": decision.trust_score,
                "reasons": decision.reasons,
                "requested_steps": decision.requested_steps,
                "rule_set_version": decision.rule_set_version,
            },
        });
        if !db::transition(
            &mut tx,
            self.db.auditor(Actor::System)?,
            &session,
            SessionStatus::Processing,
            decision.state,
            data,
            now,
        )
        .await?
        {
            tx.rollback().await?;
            return Ok(JobOutcome::LeaseLost);
        }
        sqlx::query(
            "INSERT INTO decisions (session_id, round, state, trust_score, reasons, requested_steps, \
             rule_set_version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(session.id.as_str())
        .bind(session.round)
        .bind(decision.state.as_str())
        .bind(decision.trust_score)
        .bind(serde_json::to_string(&decision.reasons).map_err(AppError::internal)?)
        .bind(db::steps_to_json(&decision.requested_steps))
        .bind(decision.rule_set_version)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if decision.state == SessionStatus::ResubmissionRequested {
            sqlx::query("UPDATE sessions SET round = round + 1, requested_steps = $1 WHERE id = $2")
                .bind(db::steps_to_json(&decision.requested_steps))
                .bind(session.id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        if !queue::complete(&mut tx, job, worker, now).await? {
            tx.rollback().await?;
            return Ok(JobOutcome::LeaseLost);
        }
        tx.commit().await?;
        metrics::counter!("trustcap_decisions_total", "state" => decision.state.as_str()).increment(1);
        tracing::info!(session_id = %session.id, state = decision.state.as_str(), trust_score = decision.trust_score, "decided");
        Ok(JobOutcome::Done)
    }

    async fn finish_without_decision(&self, job: &Job, worker: &str) -> Result<JobOutcome, AppError> {
        let mut tx = self.db.begin().await?;
        let done = queue::complete(&mut tx, job, worker, self.clock.now()).await?;
        tx.commit().await?;
        Ok(if done { JobOutcome::Done } else { JobOutcome::LeaseLost })
    }

    async fn retry(&self, job: &Job, worker: &str, error: &str) -> Result<JobOutcome, AppError> {
        let now = self.clock.now();
        let delay = 1i64 << job.attempts.clamp(0, 8);
        let mut tx = self.db.begin().await?;
        let moved = queue::retry_later(&mut tx, job, worker, now + delay, error, now).await?;
        tx.commit().await?;
        Ok(if moved { JobOutcome::Retrying } else { JobOutcome::LeaseLost })
    }

    async fn run_check(&self, check: &dyn Check, ctx: &CheckContext) -> Result<CheckOutcome, CheckError> {
        let started = std::time::Instant::now();
        let result = tokio::time::timeout(self.config.check_timeout, check.run(ctx))
            .await
            .unwrap_or_else(|_| Err(CheckError::Transient("the check timed out".into())));
        let outcome = match &result {
            Ok(o) => o.status.as_str(),
            Err(CheckError::Transient(_)) => "transient_error",
            Err(CheckError::Permanent(_)) => "error",
            Err(CheckError::NotApplicable(_)) => "not_applicable",
        };
        metrics::histogram!("trustcap_check_seconds", "check" => check.name()).record(started.elapsed().as_secs_f64());
        metrics::counter!("trustcap_checks_total", "check" => check.name(), "outcome" => outcome).increment(1);
        result
    }

    async fn store_result(
        &self,
        session: &SessionRecord,
        check: &dyn Check,
        result: Result<CheckOutcome, CheckError>,
        attempts: i64,
    ) -> Result<CheckResult, AppError> {
        let mut artifacts = Vec::new();
        let (outcome, score, details, stored) = match result {
            Ok(o) => {
                let details = json!({"reasons": o.reasons, "details": o.details, "artifacts": o.artifacts});
                let stored = CheckResult::Ran { status: o.status, score: o.score, reasons: o.reasons };
                artifacts = o.artifacts;
                (o.status.as_str(), Some(o.score), details, stored)
            }
            Err(e) => {
                let message = e.to_string();
                let details = json!({"error": message});
                ("error", None, details, CheckResult::Error(message))
            }
        };
        // Object-store writes first (idempotent: same key, same bytes), then the result and
        // its artifact rows in one transaction.
        // Chips and details are sealed with the session's data key like the images.
        let vault = vault::keys::session_vault(&self.db, &session.tenant_id, session.id.as_str()).await?;
        let sealed: Vec<Vec<u8>> = artifacts
            .iter()
            .map(|a| vault.seal(Purpose::Artifact(session.round, check.name(), &a.name), &a.bytes))
            .collect();
        let details = vault.seal_text(Purpose::CheckDetails(session.round, check.name()), &details.to_string());
        let mut keys = Vec::with_capacity(artifacts.len());
        for (artifact, bytes) in artifacts.iter().zip(&sealed) {
            let key = artifact_key(session.id.as_str(), session.round, check.name(), &artifact.name);
            keys.push(self.store.put(&key, bytes).await.map_err(AppError::internal)?);
        }
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        for ((artifact, key), bytes) in artifacts.iter().zip(&keys).zip(&sealed) {
            let data: &[u8] = if key.is_some() { &[] } else { bytes };
            sqlx::query(
                "INSERT INTO check_artifacts (session_id, round, check_name, name, content_type, sha256, byte_len, \
                 data, object_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(session.id.as_str())
            .bind(session.round)
            .bind(check.name())
            .bind(&artifact.name)
            .bind(&artifact.content_type)
            .bind(trustcap_protocol::digest::sha256_hex(&artifact.bytes))
            .bind(i64::try_from(artifact.bytes.len()).unwrap_or(i64::MAX))
            .bind(data)
            .bind(key.as_deref())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO check_results (session_id, round, check_name, check_version, outcome, score, details, \
             attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(session.id.as_str())
        .bind(session.round)
        .bind(check.name())
        .bind(check.version())
        .bind(outcome)
        .bind(score)
        .bind(details)
        .bind(attempts)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn stored_results(&self, session: &SessionRecord) -> Result<BTreeMap<String, CheckResult>, AppError> {
        let rows = sqlx::query(
            "SELECT check_name, outcome, score, details FROM check_results WHERE session_id = $1 AND round = $2",
        )
        .bind(session.id.as_str())
        .bind(session.round)
        .fetch_all(self.db.pool())
        .await?;
        let mut out = BTreeMap::new();
        if rows.is_empty() {
            return Ok(out);
        }
        let vault = vault::keys::session_vault(&self.db, &session.tenant_id, session.id.as_str()).await?;
        for row in rows {
            let name: String = row.try_get("check_name")?;
            let outcome: String = row.try_get("outcome")?;
            let score: Option<f64> = row.try_get("score")?;
            let details: String = row.try_get("details")?;
            let details = vault.open_text(Purpose::CheckDetails(session.round, &name), &details)?;
            let details: Value = serde_json::from_str(&details).unwrap_or(Value::Null);
            let result = match (outcome.as_str(), score) {
                ("passed" | "failed" | "inconclusive", Some(score)) => CheckResult::Ran {
                    status: match outcome.as_str() {
                        "passed" => crate::checks::CheckStatus::Passed,
                        "failed" => crate::checks::CheckStatus::Failed,
                        _ => crate::checks::CheckStatus::Inconclusive,
                    },
                    score,
                    reasons: reasons_of(&details),
                },
                _ => CheckResult::Error(details["error"].as_str().unwrap_or("error").to_owned()),
            };
            out.insert(name, result);
        }
        Ok(out)
    }

    async fn rules_for(&self, tenant: &str) -> Result<(i64, RuleSet), AppError> {
        load_rules(&self.db, tenant).await
    }

    /// Loads the latest capture of every step with its image bytes.
    async fn context(&self, session: &SessionRecord, rules: &RuleSet) -> Result<CheckContext, CheckError> {
        let db_err = |e: sqlx::Error| CheckError::Transient(format!("database: {e}"));
        let sealed_err = |e: vault::VaultError| CheckError::Permanent(format!("sealed data: {e}"));
        let vault = vault::keys::session_vault(&self.db, &session.tenant_id, session.id.as_str())
            .await
            .map_err(|e| CheckError::Transient(e.to_string()))?;
        let rows = sqlx::query(
            "SELECT id, step, manifest, key_id FROM captures WHERE session_id = $1 ORDER BY round DESC, received_at DESC, id",
        )
        .bind(session.id.as_str())
        .fetch_all(self.db.pool())
        .await
        .map_err(db_err)?;
        let mut captures: Vec<CaptureInput> = Vec::new();
        for row in rows {
            let step: String = row.try_get("step").map_err(db_err)?;
            let Some(step) = Step::parse(&step) else { continue };
            if captures.iter().any(|c| c.step == step) {
                continue;
            }
            let id: String = row.try_get("id").map_err(db_err)?;
            let images = sqlx::query(
                "SELECT name, content_type, width, height, sha256, data, object_key FROM capture_images \
                 WHERE capture_id = $1 ORDER BY position",
            )
            .bind(&id)
            .fetch_all(self.db.pool())
            .await
            .map_err(db_err)?;
            let mut inputs = Vec::with_capacity(images.len());
            for image in images {
                let key: Option<String> = image.try_get("object_key").map_err(db_err)?;
                let stored = match key {
                    Some(key) => self.store.get(&key).await.map_err(|e| CheckError::Transient(e.to_string()))?,
                    None => image.try_get("data").map_err(db_err)?,
                };
                let sha256: String = image.try_get("sha256").map_err(db_err)?;
                let bytes = vault.open_or_legacy(Purpose::CaptureImage(&sha256), stored).map_err(sealed_err)?;
                inputs.push(ImageInput {
                    name: image.try_get("name").map_err(db_err)?,
                    content_type: image.try_get("content_type").map_err(db_err)?,
                    width: u32::try_from(image.try_get::<i64, _>("width").map_err(db_err)?).unwrap_or(0),
                    height: u32::try_from(image.try_get::<i64, _>("height").map_err(db_err)?).unwrap_or(0),
                    sha256,
                    bytes: Arc::new(bytes),
                });
            }
            captures.push(CaptureInput {
                id,
                step,
                manifest: row.try_get("manifest").map_err(db_err)?,
                key_id: row.try_get("key_id").map_err(db_err)?,
                images: inputs,
            });
        }
        captures.sort_by_key(|c| Step::ALL.iter().position(|s| *s == c.step));
        Ok(CheckContext {
            session_id: session.id.to_string(),
            tenant_id: session.tenant_id.clone(),
            steps: session.steps.clone(),
            round: session.round,
            applicant: session.applicant(&vault).map_err(sealed_err)?.and_then(|a| serde_json::from_str(&a).ok()),
            captures,
            rules: rules.clone(),
        })
    }

    /// Runs as worker `worker` until `shutdown` turns true; also expires sessions and, at
    /// most every [`RETENTION_SWEEP_SECS`] of the pipeline's clock, erases the sessions past
    /// their tenant's retention period.
    pub async fn run(self, worker: String, mut shutdown: watch::Receiver<bool>) {
        let mut next_sweep = i64::MIN;
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.run_once(&worker).await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "pipeline worker"),
            }
            if let Err(e) = db::expire_sessions(&self.db, self.clock.now(), 100).await {
                tracing::error!(error = %e, "session expiry");
            }
            let now = self.clock.now();
            if now >= next_sweep {
                next_sweep = now.saturating_add(RETENTION_SWEEP_SECS);
                if let Err(e) = crate::erasure::sweep(&self.db, &self.store, now, 100).await {
                    tracing::error!(error = %e, "retention sweep");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// How often (pipeline clock seconds) a worker looks for sessions past their retention.
pub const RETENTION_SWEEP_SECS: i64 = 60;

/// The object-store key of a check's artifact (a face chip) for reviewers.
pub fn artifact_key(session: &str, round: i64, check: &str, name: &str) -> String {
    format!("artifacts/{session}/{round}/{check}/{name}")
}

fn reasons_of(details: &Value) -> Vec<Reason> {
    details["reasons"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|r| Reason::new(r["code"].as_str().unwrap_or(""), r["message"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default()
}

/// The tenant's latest rule set and its version (version 0: the built-in default).
pub async fn load_rules(db: &Db, tenant: &str) -> Result<(i64, RuleSet), AppError> {
    let row = sqlx::query("SELECT version, body FROM rule_sets WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1")
        .bind(tenant)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok((0, RuleSet::default())) };
    let version: i64 = row.try_get("version")?;
    let body: String = row.try_get("body")?;
    let value: Value = serde_json::from_str(&body).map_err(AppError::internal)?;
    Ok((version, RuleSet::parse(value).map_err(AppError::internal)?))
}

/// Stores `rules` as the tenant's next version; returns it.
pub async fn save_rules(db: &Db, tenant: &str, rules: &RuleSet, now: i64) -> Result<i64, AppError> {
    let body = serde_json::to_string(rules).map_err(AppError::internal)?;
    for _ in 0..5 {
        let mut tx = db.begin().await?;
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM rule_sets WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(&mut *tx)
            .await?;
        let inserted =
            sqlx::query("INSERT INTO rule_sets (tenant_id, version, body, created_at) VALUES ($1, $2, $3, $4)")
                .bind(tenant)
                .bind(next)
                .bind(&body)
                .bind(now)
                .execute(&mut *tx)
                .await;
        match inserted {
            Ok(_) => {
                let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()));
                let details = json!({"version": next, "sha256": digest});
                db.auditor(Actor::Api)?
                    .record(&mut tx, tenant, "rule_set.created", &next.to_string(), details, now)
                    .await?;
                tx.commit().await?;
                return Ok(next);
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                tx.rollback().await?;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal("could not allocate a rule-set version"))
}
