//! Ongoing monitoring: after a list update, re-screen every approved applicant of the tenants
//! whose rules opt in (`screening.monitoring`), store the new hit records, and for a new or
//! changed hit (`trustcap_screening::monitor::diff_hits`) move the session `approved → review`
//! and queue a `session.monitoring_hit` webhook through the outbox.
//!
//! Run by `trustcap-verifier update-lists --dir DIR`; the running servers pick up the new list
//! set before their next screening (see [`super::lists`]).

use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row as _;
use trustcap_screening::monitor::{HitChange, MonitoredApplicant, rescreen};
use trustcap_screening::{HitRecord, Query};

use super::lists::{self, ListSet, ListsError};
use super::query_from_applicant;
use crate::audit::Actor;
use crate::db::{self, Db};
use crate::domain::SessionStatus;
use crate::error::AppError;
use crate::pipeline::load_rules;
use crate::vault::{self, Purpose};

/// The webhook event type of a monitoring hit.
pub const EVENT_TYPE: &str = "session.monitoring_hit";

/// What an update did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateSummary {
    /// The recorded list set.
    pub generation: i64,
    /// Entities in the new set.
    pub entities: usize,
    /// Tenants that opted in to monitoring.
    pub tenants: usize,
    /// Approved applicants re-screened.
    pub rescreened: usize,
    /// Sessions moved to review.
    pub cases_opened: usize,
}

/// Why an update failed.
#[derive(Debug, thiserror::Error)]
pub enum MonitoringError {
    /// The lists could not be loaded or recorded.
    #[error(transparent)]
    Lists(#[from] ListsError),
    /// The database or a state change failed.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for MonitoringError {
    fn from(e: sqlx::Error) -> Self {
        Self::App(e.into())
    }
}

/// Imports the lists in `dir`, records them as the newest set, and re-screens the approved
/// applicants of opted-in tenants.
pub async fn update_lists(db: &Db, dir: &Path, now: i64) -> Result<UpdateSummary, MonitoringError> {
    let set = lists::record(db, dir, now).await?;
    let mut summary =
        UpdateSummary { generation: set.generation, entities: set.screener.len(), ..UpdateSummary::default() };
    let set = std::sync::Arc::new(set);
    let tenants: Vec<String> = sqlx::query_scalar("SELECT id FROM tenants ORDER BY id").fetch_all(db.pool()).await?;
    for tenant in tenants {
        let (_, rules) = load_rules(db, &tenant).await?;
        if !rules.screening.monitoring {
            continue;
        }
        summary.tenants += 1;
        let config = rules.screening.config();
        let applicants = approved_applicants(db, &tenant).await?;
        summary.rescreened += applicants.len();
        let set2 = set.clone();
        let outcomes = tokio::task::spawn_blocking(move || {
            rescreen(&set2.screener, &config, applicants.iter()).collect::<Vec<_>>()
        })
        .await
        .map_err(|e| AppError::internal(format_args!("rescreen task: {e}")))?;
        for outcome in outcomes {
            let opened = store_outcome(db, &set, &tenant, &outcome, now).await?;
            summary.cases_opened += usize::from(opened);
        }
    }
    tracing::info!(
        generation = summary.generation,
        tenants = summary.tenants,
        rescreened = summary.rescreened,
        cases_opened = summary.cases_opened,
        "screening lists updated"
    );
    Ok(summary)
}

/// Approved sessions of `tenant` with a name, with the hits recorded at their last screening.
async fn approved_applicants(db: &Db, tenant: &str) -> Result<Vec<MonitoredApplicant>, AppError> {
    let rows = sqlx::query(
        "SELECT s.id, s.applicant, r.query, r.hits FROM sessions s LEFT JOIN screening_records r \
         ON r.session_id = s.id WHERE s.tenant_id = $1 AND s.status = $2 ORDER BY s.id",
    )
    .bind(tenant)
    .bind(SessionStatus::Approved.as_str())
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        // Query, hits and applicant data are sealed with the session's data key.
        let vault = vault::keys::session_vault(db, tenant, &id).await?;
        let open = |purpose, text: Option<String>| text.map(|t| vault.open_text(purpose, &t)).transpose();
        let stored_query = open(Purpose::ScreeningQuery, row.try_get("query")?)?;
        let applicant = open(Purpose::Applicant, row.try_get("applicant")?)?;
        let query: Option<Query> = stored_query.as_deref().and_then(|q| serde_json::from_str(q).ok()).or_else(|| {
            applicant
                .as_deref()
                .and_then(|a| serde_json::from_str::<Value>(a).ok())
                .and_then(|a| query_from_applicant(&a))
        });
        let Some(query) = query else { continue };
        let hits = open(Purpose::ScreeningHits, row.try_get("hits")?)?;
        let previous: Vec<HitRecord> = hits.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default();
        out.push(MonitoredApplicant { applicant_id: id, query, previous });
    }
    Ok(out)
}

/// The webhook's view of a change: ids, list versions and scores only (no names).
fn change_json(change: &HitChange) -> Value {
    let (kind, hit) = match change {
        HitChange::New { hit } => ("new", hit),
        HitChange::Changed { current, .. } => ("changed", current),
        HitChange::Removed { hit } => ("removed", hit),
    };
    json!({"change": kind, "entity_id": hit.entity_id, "list_version": hit.list_version, "score": hit.score})
}

/// Stores the new hit records and, when the outcome opens a case, moves the session to
/// review with its webhook event, in one transaction. Returns whether a case was opened.
async fn store_outcome(
    db: &Db,
    set: &ListSet,
    tenant: &str,
    outcome: &trustcap_screening::MonitoringOutcome,
    now: i64,
) -> Result<bool, MonitoringError> {
    let vault = vault::keys::session_vault(db, tenant, &outcome.applicant_id).await?;
    let mut tx = db.begin().await?;
    let hits = serde_json::to_string(&outcome.current).map_err(AppError::internal)?;
    let hits = vault.seal_text(Purpose::ScreeningHits, &hits);
    let versions = serde_json::to_string(set.versions()).map_err(AppError::internal)?;
    // Write first so a SQLite transaction holds the write lock from the start.
    let updated = sqlx::query(
        "UPDATE screening_records SET hits = $1, list_versions = $2, updated_at = $3 WHERE session_id = $4",
    )
    .bind(&hits)
    .bind(&versions)
    .bind(now)
    .bind(&outcome.applicant_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let Some(session) = db::load_session(&mut tx, &outcome.applicant_id).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    if updated == 0 {
        let query = session
            .applicant(&vault)
            .map_err(AppError::from)?
            .and_then(|a| serde_json::from_str::<Value>(&a).ok())
            .and_then(|a| query_from_applicant(&a));
        sqlx::query(
            "INSERT INTO screening_records (session_id, tenant_id, query, hits, list_versions, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&outcome.applicant_id)
        .bind(tenant)
        .bind(vault.seal_text(Purpose::ScreeningQuery, &serde_json::to_string(&query).map_err(AppError::internal)?))
        .bind(&hits)
        .bind(&versions)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let mut opened = false;
    if outcome.opens_case && session.status == SessionStatus::Approved {
        let data = json!({
            "monitoring": {
                "changes": outcome.changes.iter().map(change_json).collect::<Vec<_>>(),
                "list_versions": set.versions(),
            }
        });
        opened = db::transition_with_event(
            &mut tx,
            db.auditor(Actor::System)?,
            &session,
            SessionStatus::Approved,
            SessionStatus::Review,
            Some(EVENT_TYPE),
            data,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(opened)
}
