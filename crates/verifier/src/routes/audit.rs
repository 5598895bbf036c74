//! The audit trail seen by a tenant: a check of its hash chain.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::audit;
use crate::error::AppError;
use crate::extract::TenantAuth;
use crate::startup::AppState;

/// `GET /v1/audit/verify`: checks the caller's audit chain and says where it breaks
/// (`ok`, the number of entries, each problem's position and kind, and the head to keep).
#[utoipa::path(get, path = "/v1/audit/verify", responses((status = 200, description = "The chain's state")), security(("api_key" = [])))]
pub async fn verify_chain(State(state): State<AppState>, auth: TenantAuth) -> Result<Json<Value>, AppError> {
    let report = audit::verify(&state.db, state.db.audit_key()?, Some(auth.tenant.as_str())).await?;
    if !report.ok() {
        tracing::warn!(tenant_id = %auth.tenant, problems = report.problems.len(), "audit chain broken");
    }
    Ok(Json(json!({
        "ok": report.ok(),
        "entries": report.entries,
        "problems": report.problems,
        "head": report.heads.first(),
    })))
}
