//! The tenant's decision rules: read the current version, store a new one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::extract::{ApiJson, TenantAuth};
use crate::pipeline::{load_rules, save_rules};
use crate::rules::RuleSet;
use crate::startup::AppState;

/// `GET /v1/rules`: the rule set in force and its version (0: the built-in default).
#[utoipa::path(get, path = "/v1/rules", responses((status = 200, description = "The rules in force")), security(("api_key" = [])))]
pub async fn get_rules(State(state): State<AppState>, auth: TenantAuth) -> Result<Json<Value>, AppError> {
    let (version, rules) = load_rules(&state.db, auth.tenant.as_str()).await?;
    Ok(Json(json!({"version": version, "rules": rules})))
}

/// `PUT /v1/rules`: stores the body as the tenant's next rule-set version. Sessions
/// decided from now on use it; earlier decisions keep the version they recorded.
#[utoipa::path(put, path = "/v1/rules", responses((status = 201, description = "The new version"), (status = 400)), security(("api_key" = [])))]
pub async fn put_rules(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let rules = RuleSet::parse(body).map_err(AppError::InvalidRequest)?;
    let version = save_rules(&state.db, auth.tenant.as_str(), &rules, state.now()).await?;
    tracing::info!(tenant_id = %auth.tenant, version, "rules updated");
    Ok((StatusCode::CREATED, Json(json!({"version": version, "rules": rules}))))
}
