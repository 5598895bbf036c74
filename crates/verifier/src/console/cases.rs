//! Cases for reviewers: the queue (sessions in `review`), everything a reviewer sees about
//! one case, its image bytes, and the reviewer's decision.
//!
//! A decision moves the session out of `review` through [`db::transition`] with the reviewer
//! as the audit actor, so it emits the same `session.<state>` webhook through the outbox as an
//! automatic decision. With four-eyes approval on, the first approval is only recorded (an
//! audit entry `review.approval_pending`; the session stays in `review`) and a second approval
//! by a different reviewer finalises it. Declining and requesting a resubmission take one
//! reviewer: they never let an applicant through, and a resubmission is decided again.
//! The reviewer's free-text note stays in `review_actions`; the audit trail and the webhook
//! carry the reason code only.

use crate::vault::Purpose;
use crate::vault::keys::session_vault;
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::audit::Actor;
use crate::console::accounts::{self, Reviewer};
use crate::console::error::ConsoleError;
use crate::db::{self, SessionRecord};
use crate::domain::{SessionId, SessionStatus};
use crate::startup::AppState;

/// Longest reviewer note, in bytes.
pub const MAX_NOTE_BYTES: usize = 2000;

/// What a reviewer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Approve the applicant.
    Approve,
    /// Decline the applicant.
    Decline,
    /// Ask the applicant to capture every step again.
    RequestResubmission,
}

impl Action {
    /// Parses the form value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "approve" => Some(Self::Approve),
            "decline" => Some(Self::Decline),
            "request_resubmission" => Some(Self::RequestResubmission),
            _ => None,
        }
    }

    /// The form value and stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Decline => "decline",
            Self::RequestResubmission => "request_resubmission",
        }
    }

    /// The reason codes a reviewer may give, with their labels.
    pub const fn reasons(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Approve => &[
                ("reviewer.evidence_verified", "Evidence verified by a person"),
                ("reviewer.screening_false_positive", "Screening hit is a namesake"),
                ("reviewer.other", "Other (explain in the note)"),
            ],
            Self::Decline => &[
                ("reviewer.document_fraud", "Forged or altered document"),
                ("reviewer.face_mismatch", "Selfie does not match the document"),
                ("reviewer.screening_match", "Confirmed sanctions or PEP match"),
                ("reviewer.other", "Other (explain in the note)"),
            ],
            Self::RequestResubmission => &[
                ("reviewer.poor_quality", "Images too poor to judge"),
                ("reviewer.wrong_document", "Wrong or unsupported document"),
                ("reviewer.other", "Other (explain in the note)"),
            ],
        }
    }

    const fn target(self) -> SessionStatus {
        match self {
            Self::Approve => SessionStatus::Approved,
            Self::Decline => SessionStatus::Declined,
            Self::RequestResubmission => SessionStatus::ResubmissionRequested,
        }
    }
}

/// A decision as posted, parsed.
#[derive(Debug, Clone)]
pub struct DecisionForm {
    /// What to do.
    pub action: Action,
    /// One of [`Action::reasons`].
    pub reason: &'static str,
    /// Free text (required with `reviewer.other`); never audited or sent in webhooks.
    pub note: String,
}

impl DecisionForm {
    /// Parses the posted fields.
    pub fn parse(action: Option<&str>, reason: Option<&str>, note: Option<&str>) -> Result<Self, ConsoleError> {
        let bad = |code, message: &str| ConsoleError::BadRequest { code, message: message.to_owned() };
        let action = action.and_then(Action::parse).ok_or_else(|| bad("action_invalid", "unknown action"))?;
        let reason = reason
            .and_then(|r| action.reasons().iter().find(|(code, _)| *code == r))
            .map(|(code, _)| *code)
            .ok_or_else(|| bad("reason_required", "choose a reason for this decision"))?;
        let note = note.unwrap_or("").trim().to_owned();
        if note.len() > MAX_NOTE_BYTES {
            return Err(bad("note_too_long", "the note is too long (at most 2000 bytes)"));
        }
        if reason == "reviewer.other" && note.is_empty() {
            return Err(bad("note_required", "explain the reason \"other\" in the note"));
        }
        Ok(Self { action, reason, note })
    }
}

/// What a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The session left `review` for this state.
    Decided(SessionStatus),
    /// Four-eyes: the approval is recorded and waits for a second reviewer.
    AwaitingSecondApproval,
}

/// One line of the queue.
#[derive(Debug, Clone)]
pub struct QueueItem {
    /// The session.
    pub id: String,
    /// The customer's reference.
    pub reference: Option<String>,
    /// When it entered review (its last change), Unix seconds.
    pub since: i64,
    /// The reason codes of the automatic decision.
    pub reasons: Vec<String>,
    /// Pending four-eyes approvals.
    pub pending_approvals: i64,
}

/// The tenant's sessions in `review`, oldest first (at most `limit`).
pub async fn queue(state: &AppState, tenant: &str, limit: i64) -> Result<Vec<QueueItem>, ConsoleError> {
    let rows = sqlx::query(
        "SELECT s.id, s.reference, s.updated_at, d.reasons FROM sessions s \
         LEFT JOIN decisions d ON d.session_id = s.id AND d.round = s.round \
         WHERE s.tenant_id = $1 AND s.status = 'review' ORDER BY s.updated_at, s.id LIMIT $2",
    )
    .bind(tenant)
    .bind(limit)
    .fetch_all(state.db.pool())
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let reasons: Option<String> = row.try_get("reasons")?;
        let reasons = reasons
            .and_then(|r| serde_json::from_str::<Value>(&r).ok())
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r["code"].as_str().map(str::to_owned))
            .collect();
        let pending = pending_approvers(state, &id).await?.len();
        items.push(QueueItem {
            reference: row.try_get("reference")?,
            since: row.try_get("updated_at")?,
            reasons,
            pending_approvals: i64::try_from(pending).unwrap_or(i64::MAX),
            id,
        });
    }
    Ok(items)
}

/// A session of the reviewer's tenant, or 404.
pub async fn session_for(state: &AppState, reviewer: &Reviewer, id: &str) -> Result<SessionRecord, ConsoleError> {
    let id = SessionId::parse(id).ok_or(ConsoleError::NotFound)?;
    db::get_session(&state.db, &id, reviewer.tenant.as_str()).await?.ok_or(ConsoleError::NotFound)
}

/// A stored check result.
#[derive(Debug, Clone)]
pub struct CheckRow {
    /// Round.
    pub round: i64,
    /// Check name.
    pub name: String,
    /// Check version.
    pub version: String,
    /// `passed`, `failed`, `inconclusive` or `error`.
    pub outcome: String,
    /// Score, if it ran.
    pub score: Option<f64>,
    /// `{"reasons", "details", "artifacts"}` or `{"error"}`.
    pub details: Value,
}

/// A check's stored file (face chip, rectified document).
#[derive(Debug, Clone)]
pub struct ArtifactRow {
    /// Round.
    pub round: i64,
    /// Check name.
    pub check: String,
    /// File name.
    pub name: String,
}

/// A reviewer action on a case.
#[derive(Debug, Clone)]
pub struct ActionRow {
    /// Round.
    pub round: i64,
    /// Reviewer id.
    pub reviewer_id: String,
    /// `approve_pending`, `approve`, `decline`, `request_resubmission`.
    pub action: String,
    /// Reason code.
    pub reason: String,
    /// The reviewer's note.
    pub note: String,
    /// Unix seconds.
    pub at: i64,
}

/// Every check result, check artifact, automatic decision and reviewer action of a session.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Check results, newest round first.
    pub checks: Vec<CheckRow>,
    /// Artifacts, newest round first.
    pub artifacts: Vec<ArtifactRow>,
    /// Automatic decisions `(round, state, trust score, reasons)`, newest first.
    pub decisions: Vec<(i64, String, f64, Value)>,
    /// Reviewer actions, oldest first.
    pub actions: Vec<ActionRow>,
    /// The applicant data declared at session creation (JSON text), decrypted.
    pub applicant: Option<String>,
}

/// Loads the evidence of `session` (already checked to be the reviewer's tenant's).
pub async fn evidence(state: &AppState, session: &SessionRecord) -> Result<Evidence, ConsoleError> {
    let pool = state.db.pool();
    let id = session.id.as_str();
    let vault = session_vault(&state.db, &session.tenant_id, id).await?;
    let mut out = Evidence { applicant: session.applicant(&vault)?, ..Evidence::default() };
    let rows = sqlx::query(
        "SELECT round, check_name, check_version, outcome, score, details FROM check_results \
         WHERE session_id = $1 ORDER BY round DESC, check_name",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    for row in rows {
        let round: i64 = row.try_get("round")?;
        let name: String = row.try_get("check_name")?;
        let details: String = row.try_get("details")?;
        let details = vault.open_text(Purpose::CheckDetails(round, &name), &details)?;
        out.checks.push(CheckRow {
            round,
            name,
            version: row.try_get("check_version")?,
            outcome: row.try_get("outcome")?,
            score: row.try_get("score")?,
            details: serde_json::from_str(&details).unwrap_or(Value::Null),
        });
    }
    let rows = sqlx::query(
        "SELECT round, check_name, name FROM check_artifacts WHERE session_id = $1 ORDER BY round DESC, check_name, name",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    for row in rows {
        out.artifacts.push(ArtifactRow {
            round: row.try_get("round")?,
            check: row.try_get("check_name")?,
            name: row.try_get("name")?,
        });
    }
    let rows = sqlx::query(
        "SELECT round, state, trust_score, reasons FROM decisions WHERE session_id = $1 ORDER BY round DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    for row in rows {
        let reasons: String = row.try_get("reasons")?;
        out.decisions.push((
            row.try_get("round")?,
            row.try_get("state")?,
            row.try_get("trust_score")?,
            serde_json::from_str(&reasons).unwrap_or(Value::Null),
        ));
    }
    let rows = sqlx::query(
        "SELECT round, reviewer_id, action, reason, note, created_at FROM review_actions \
         WHERE session_id = $1 ORDER BY round, seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    for row in rows {
        out.actions.push(ActionRow {
            round: row.try_get("round")?,
            reviewer_id: row.try_get("reviewer_id")?,
            action: row.try_get("action")?,
            reason: row.try_get("reason")?,
            note: row.try_get("note")?,
            at: row.try_get("created_at")?,
        });
    }
    Ok(out)
}

/// Reviewers whose approval of the session's current round waits for a second reviewer.
async fn pending_approvers(state: &AppState, session: &str) -> Result<Vec<String>, ConsoleError> {
    let mut conn = state.db.pool().acquire().await?;
    pending_in(&mut conn, session).await
}

async fn pending_in(conn: &mut sqlx::AnyConnection, session: &str) -> Result<Vec<String>, ConsoleError> {
    // Pending approvals after the last final decision of the round (a monitoring hit can send
    // an approved session back to review within the same round).
    Ok(sqlx::query_scalar(
        "SELECT a.reviewer_id FROM review_actions a JOIN sessions s ON s.id = a.session_id AND s.round = a.round \
         WHERE a.session_id = $1 AND a.action = 'approve_pending' AND a.seq > COALESCE((SELECT MAX(f.seq) \
         FROM review_actions f WHERE f.session_id = a.session_id AND f.round = a.round AND f.action <> 'approve_pending'), 0) \
         ORDER BY a.seq",
    )
    .bind(session)
    .fetch_all(&mut *conn)
    .await?)
}

/// Bytes and content type of a capture image of `session`.
pub async fn capture_image(
    state: &AppState,
    session: &SessionRecord,
    capture: &str,
    position: i64,
) -> Result<(Vec<u8>, String), ConsoleError> {
    let row = sqlx::query(
        "SELECT i.content_type, i.data, i.object_key, i.sha256 FROM capture_images i \
         JOIN captures c ON c.id = i.capture_id WHERE c.session_id = $1 AND i.capture_id = $2 AND i.position = $3",
    )
    .bind(session.id.as_str())
    .bind(capture)
    .bind(position)
    .fetch_optional(state.db.pool())
    .await?
    .ok_or(ConsoleError::NotFound)?;
    let sha256: String = row.try_get("sha256")?;
    let (stored, content_type) = bytes_of(state, &row).await?;
    let vault = session_vault(&state.db, &session.tenant_id, session.id.as_str()).await?;
    Ok((vault.open_or_legacy(Purpose::CaptureImage(&sha256), stored)?, content_type))
}

/// Bytes and content type of a check artifact of `session`.
pub async fn artifact(
    state: &AppState,
    session: &SessionRecord,
    round: i64,
    check: &str,
    name: &str,
) -> Result<(Vec<u8>, String), ConsoleError> {
    let row = sqlx::query(
        "SELECT content_type, data, object_key FROM check_artifacts \
         WHERE session_id = $1 AND round = $2 AND check_name = $3 AND name = $4",
    )
    .bind(session.id.as_str())
    .bind(round)
    .bind(check)
    .bind(name)
    .fetch_optional(state.db.pool())
    .await?
    .ok_or(ConsoleError::NotFound)?;
    let (stored, content_type) = bytes_of(state, &row).await?;
    let vault = session_vault(&state.db, &session.tenant_id, session.id.as_str()).await?;
    Ok((vault.open_or_legacy(Purpose::Artifact(round, check, name), stored)?, content_type))
}

async fn bytes_of(state: &AppState, row: &sqlx::any::AnyRow) -> Result<(Vec<u8>, String), ConsoleError> {
    let content_type: String = row.try_get("content_type")?;
    let key: Option<String> = row.try_get("object_key")?;
    let bytes = match key {
        Some(key) => state.store.get(&key).await.map_err(crate::error::AppError::internal)?,
        None => row.try_get::<Option<Vec<u8>>, _>("data")?.unwrap_or_default(),
    };
    Ok((bytes, content_type))
}

/// Applies `form` to `session` as `reviewer` (see the module documentation).
pub async fn decide(
    state: &AppState,
    reviewer: &Reviewer,
    session: &SessionId,
    form: &DecisionForm,
) -> Result<Outcome, ConsoleError> {
    let db = &state.db;
    let tenant = reviewer.tenant.as_str();
    let four_eyes = accounts::four_eyes(db, tenant).await?;
    let now = state.now();
    let mut tx = db.begin().await?;
    // Write first, so a SQLite transaction holds the write lock from the start (two reviewers
    // deciding at once are serialised).
    let touched = sqlx::query("UPDATE sessions SET updated_at = updated_at WHERE id = $1 AND tenant_id = $2")
        .bind(session.as_str())
        .bind(tenant)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if touched != 1 {
        return Err(ConsoleError::NotFound);
    }
    let record = db::load_session(&mut tx, session.as_str()).await?.ok_or(ConsoleError::NotFound)?;
    if record.status != SessionStatus::Review {
        return Err(ConsoleError::Conflict {
            code: "case_not_in_review",
            message: "this case is no longer in review (another reviewer may have decided it)",
        });
    }
    let auditor = db.auditor(Actor::Reviewer(reviewer.id.as_str()))?;
    let mut second_of = None;
    if form.action == Action::Approve && four_eyes {
        let pending = pending_in(&mut tx, session.as_str()).await?;
        if pending.iter().any(|p| p == reviewer.id.as_str()) {
            return Err(ConsoleError::Conflict {
                code: "four_eyes_same_reviewer",
                message: "you have already approved this case; four-eyes approval needs a second, different reviewer",
            });
        }
        match pending.first() {
            None => {
                record_action(&mut tx, &record, reviewer, "approve_pending", form, now).await?;
                let details = json!({"round": record.round, "reason": form.reason});
                auditor.record(&mut tx, tenant, "review.approval_pending", session.as_str(), details, now).await?;
                tx.commit().await?;
                return Ok(Outcome::AwaitingSecondApproval);
            }
            Some(first) => second_of = Some(first.clone()),
        }
    }
    let to = form.action.target();
    let requested: Vec<_> = if form.action == Action::RequestResubmission { record.steps.clone() } else { Vec::new() };
    let mut decided_by = vec![reviewer.id.as_str().to_owned()];
    if let Some(first) = second_of {
        decided_by.insert(0, first);
    }
    let data = json!({
        "round": record.round,
        "decision": {
            "state": to.as_str(),
            "reasons": [{"code": form.reason, "message": "decided by a reviewer"}],
            "requested_steps": requested.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "decided_by": "reviewer",
            "reviewers": decided_by,
        },
    });
    if !db::transition(&mut tx, auditor, &record, SessionStatus::Review, to, data, now).await? {
        return Err(ConsoleError::Conflict { code: "case_not_in_review", message: "this case is no longer in review" });
    }
    record_action(&mut tx, &record, reviewer, form.action.as_str(), form, now).await?;
    if form.action == Action::RequestResubmission {
        // A new round for every step; the applicant gets a fresh capture window.
        let ttl = i64::try_from(state.settings.token_ttl_secs).unwrap_or(1800);
        sqlx::query("UPDATE sessions SET round = round + 1, requested_steps = $1, expires_at = $2 WHERE id = $3")
            .bind(db::steps_to_json(&requested))
            .bind(record.expires_at.max(now + ttl))
            .bind(session.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(session_id = %session, state = to.as_str(), "reviewer decided");
    Ok(Outcome::Decided(to))
}

async fn record_action(
    conn: &mut sqlx::AnyConnection,
    session: &SessionRecord,
    reviewer: &Reviewer,
    action: &str,
    form: &DecisionForm,
    now: i64,
) -> Result<(), ConsoleError> {
    let seq: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM review_actions WHERE session_id = $1 AND round = $2")
            .bind(session.id.as_str())
            .bind(session.round)
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO review_actions (session_id, round, seq, reviewer_id, action, reason, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(session.id.as_str())
    .bind(session.round)
    .bind(seq)
    .bind(reviewer.id.as_str())
    .bind(action)
    .bind(form.reason)
    .bind(&form.note)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_forms() {
        let f = DecisionForm::parse(Some("approve"), Some("reviewer.evidence_verified"), None).unwrap();
        assert_eq!((f.action, f.reason, f.note.as_str()), (Action::Approve, "reviewer.evidence_verified", ""));
        let code = |r: Result<DecisionForm, ConsoleError>| r.unwrap_err().code();
        assert_eq!(code(DecisionForm::parse(Some("approve"), None, None)), "reason_required");
        assert_eq!(
            code(DecisionForm::parse(Some("approve"), Some("reviewer.document_fraud"), None)),
            "reason_required"
        );
        assert_eq!(code(DecisionForm::parse(Some("delete"), Some("reviewer.other"), None)), "action_invalid");
        assert_eq!(code(DecisionForm::parse(Some("decline"), Some("reviewer.other"), Some("  "))), "note_required");
        let long = "x".repeat(MAX_NOTE_BYTES + 1);
        assert_eq!(code(DecisionForm::parse(Some("decline"), Some("reviewer.other"), Some(&long))), "note_too_long");
        assert!(DecisionForm::parse(Some("request_resubmission"), Some("reviewer.poor_quality"), None).is_ok());
        for a in [Action::Approve, Action::Decline, Action::RequestResubmission] {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert!(SessionStatus::Review.can_move_to(a.target()), "{}", a.as_str());
        }
    }
}
