//! Erasure and retention endpoints (API key, tenant-scoped): `DELETE /v1/sessions/{id}`
//! crypto-shreds a session ([`crate::erasure::erase`]); `GET`/`PUT /v1/retention` read and set
//! the tenant's retention period.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit::Actor;
use crate::domain::{SessionId, SessionStatus};
use crate::erasure::{self, ErasureReason};
use crate::error::AppError;
use crate::extract::{ApiJson, TenantAuth};
use crate::startup::AppState;

/// `DELETE /v1/sessions/{id}`: erases the session (its data key is destroyed, its images
/// deleted, a `session.erased` webhook queued). Idempotent: erasing an erased session
/// answers 200 with the same body and `"already_erased": true`. Another tenant's session
/// is `not_found`.
#[utoipa::path(delete, path = "/v1/sessions/{id}", params(("id" = String, Path, description = "Session id")),
    responses((status = 200, description = "The session is erased"), (status = 404)), security(("api_key" = [])))]
pub async fn erase_session(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let session_id = SessionId::parse(&id).ok_or(AppError::NotFound("session not found"))?;
    tracing::Span::current().record("session_id", session_id.as_str());
    let done = erasure::erase(
        &state.db,
        &state.store,
        auth.tenant.as_str(),
        &session_id,
        Actor::Api,
        ErasureReason::Request,
        state.now(),
    )
    .await?
    .ok_or(AppError::NotFound("session not found"))?;
    Ok(Json(json!({
        "session_id": done.session_id,
        "state": SessionStatus::Erased.as_str(),
        "erased_at": done.erased_at,
        "already_erased": done.already_erased,
    })))
}

/// Body of `PUT /v1/retention`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionRequest {
    /// Days after creation when a session is erased automatically (1-36500), or `null`
    /// to keep sessions until they are erased on request.
    pub days: Option<i64>,
}

/// `GET /v1/retention`: the tenant's retention period (`days`: `null` when none is set).
#[utoipa::path(get, path = "/v1/retention", responses((status = 200, description = "The retention period")), security(("api_key" = [])))]
pub async fn get_retention(State(state): State<AppState>, auth: TenantAuth) -> Result<Json<Value>, AppError> {
    let days = erasure::retention(&state.db, auth.tenant.as_str()).await?;
    Ok(Json(json!({"days": days})))
}

/// `PUT /v1/retention`: sets or clears the tenant's retention period.
#[utoipa::path(put, path = "/v1/retention", request_body = RetentionRequest,
    responses((status = 200, description = "The retention period in force"), (status = 400)), security(("api_key" = [])))]
pub async fn put_retention(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<RetentionRequest>,
) -> Result<Json<Value>, AppError> {
    erasure::set_retention(&state.db, auth.tenant.as_str(), body.days, state.now()).await?;
    tracing::info!(tenant_id = %auth.tenant, days = body.days, "retention updated");
    Ok(Json(json!({"days": body.days})))
}
