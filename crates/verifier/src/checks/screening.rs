//! `screening`: the applicant's name (with birth date and nationality when given) against the
//! sanctions and PEP lists loaded in [`ScreeningLists`], with the tenant's mode and threshold
//! from its rules (`screening.mode`, `screening.threshold`).
//!
//! - No hit: `passed`, score 1.
//! - A hit at or above the threshold: `inconclusive` (→ `review`), score `1 − best hit score`.
//!   Not `failed`: a fuzzy name hit is a *potential* match — most are namesakes — and
//!   sanctions practice is that a compliance officer confirms or dismisses it; declining
//!   automatically would turn every namesake away without a person ever looking.
//! - No applicant name, or no list loaded: not applicable (nothing stored; a tenant whose
//!   rules require `screening` gets `review` with `screening.not_run`).
//!
//! The details hold every hit's explanation (matched name parts, score, list, entity id) and
//! every list version screened against. The query and hit records are stored per session
//! (`screening_records`) for ongoing monitoring.

use std::sync::Arc;

use serde_json::json;
use trustcap_protocol::Step;

use super::{Check, CheckContext, CheckError, CheckOutcome, CheckStatus, Reason};
use crate::screening::{ScreeningLists, hit_json, hit_records, query_from_applicant};
use crate::vault::Purpose;

/// Version of this check's behaviour.
pub const VERSION: &str = "1.0.0";

/// The screening check.
#[derive(Debug, Clone)]
pub struct ScreeningCheck {
    lists: Arc<ScreeningLists>,
}

impl ScreeningCheck {
    /// A check over the service's lists.
    pub fn new(lists: Arc<ScreeningLists>) -> Self {
        Self { lists }
    }
}

#[async_trait::async_trait]
impl Check for ScreeningCheck {
    fn name(&self) -> &'static str {
        "screening"
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn required_steps(&self) -> &'static [Step] {
        &[]
    }

    async fn run(&self, ctx: &CheckContext) -> Result<CheckOutcome, CheckError> {
        let Some(query) = ctx.applicant.as_ref().and_then(query_from_applicant) else {
            return Err(CheckError::NotApplicable("the applicant data has no name".into()));
        };
        let set = self.lists.current().await.map_err(|e| CheckError::Transient(e.to_string()))?;
        let Some(set) = set else {
            return Err(CheckError::NotApplicable("no screening list is loaded".into()));
        };
        let config = ctx.rules.screening.config();
        let (result, records, query) = tokio::task::spawn_blocking(move || {
            let result = set.screener.screen(&query, &config);
            let records = hit_records(&set.screener, &result);
            (result, records, query)
        })
        .await
        .map_err(|e| CheckError::Transient(format!("screening task: {e}")))?;

        // The query and the hits quote names: stored sealed with the session's data key.
        let vault = crate::vault::keys::session_vault(self.lists.db(), &ctx.tenant_id, &ctx.session_id)
            .await
            .map_err(|e| CheckError::Transient(e.to_string()))?;
        sqlx::query(
            "INSERT INTO screening_records (session_id, tenant_id, query, hits, list_versions, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id) DO UPDATE SET query = excluded.query, \
             hits = excluded.hits, list_versions = excluded.list_versions, updated_at = excluded.updated_at",
        )
        .bind(&ctx.session_id)
        .bind(&ctx.tenant_id)
        .bind(vault.seal_text(Purpose::ScreeningQuery, &text(&query)))
        .bind(vault.seal_text(Purpose::ScreeningHits, &text(&records)))
        .bind(text(&result.list_versions))
        .bind(crate::time::now_secs())
        .execute(self.lists.db().pool())
        .await
        .map_err(|e| CheckError::Transient(format!("database: {e}")))?;

        let details = json!({
            "mode": result.mode,
            "threshold": result.threshold,
            "list_versions": result.list_versions,
            "hits": result.hits.iter().map(hit_json).collect::<Vec<_>>(),
        });
        let Some(best) = result.hits.first() else {
            let reasons = vec![Reason::new("screening.clear", "no listed party matches the applicant")];
            return Ok(CheckOutcome {
                status: CheckStatus::Passed,
                score: 1.0,
                reasons,
                details,
                artifacts: Vec::new(),
            });
        };
        let reasons = result
            .hits
            .iter()
            .map(|h| {
                Reason::new(
                    "screening.potential_match",
                    format!("potential match with {} on {} (score {:.2})", h.entity_id.0, h.source, h.score),
                )
            })
            .collect();
        let score = (1.0 - f64::from(best.score)).clamp(0.0, 1.0);
        Ok(CheckOutcome { status: CheckStatus::Inconclusive, score, reasons, details, artifacts: Vec::new() })
    }
}

/// The JSON text of a stored value (`null` if it cannot be serialised).
fn text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}
