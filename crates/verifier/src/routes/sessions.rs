//! The tenant API: creating and reading sessions (API-key authentication).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use trustcap_protocol::{Step, TokenClaims};

use crate::db::{self, NewSession};
use crate::domain::{SessionId, SessionStatus, TokenId};
use crate::error::AppError;
use crate::extract::{ApiJson, TenantAuth};
use crate::startup::AppState;
use crate::time::now_secs;

/// Longest customer reference, in characters.
pub const MAX_REFERENCE_CHARS: usize = 128;

/// Body of `POST /v1/sessions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    /// Steps to capture (default `["document_front"]`).
    #[serde(default)]
    pub steps: Option<Vec<String>>,
    /// The customer's own reference for the session.
    #[serde(default)]
    pub reference: Option<String>,
}

fn parse_steps(requested: Option<Vec<String>>) -> Result<Vec<Step>, AppError> {
    let Some(requested) = requested else { return Ok(vec![Step::DocumentFront]) };
    if requested.is_empty() {
        return Err(AppError::InvalidRequest("steps must name at least one step".into()));
    }
    let mut steps = Vec::new();
    for text in &requested {
        let step = Step::parse(text).ok_or_else(|| {
            AppError::InvalidRequest(format!(
                "unknown step; expected one of {}",
                Step::ALL.map(Step::as_str).join(", ")
            ))
        })?;
        if !steps.contains(&step) {
            steps.push(step);
        }
    }
    Ok(steps)
}

fn check_reference(reference: Option<&str>) -> Result<(), AppError> {
    match reference {
        Some(r) if r.is_empty() || r.chars().count() > MAX_REFERENCE_CHARS || r.chars().any(char::is_control) => {
            Err(AppError::InvalidRequest(format!(
                "reference must be 1-{MAX_REFERENCE_CHARS} characters without control characters"
            )))
        }
        _ => Ok(()),
    }
}

/// `POST /v1/sessions`: creates a session and its client token.
pub async fn create_session(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<CreateSessionRequest>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let steps = parse_steps(body.steps)?;
    check_reference(body.reference.as_deref())?;
    let now = now_secs();
    let ttl = i64::try_from(state.settings.token_ttl_secs).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl);
    let session_id = SessionId::generate();
    tracing::Span::current().record("session_id", session_id.as_str());
    let claims = TokenClaims {
        sid: session_id.to_string(),
        tid: auth.tenant.to_string(),
        steps: steps.clone(),
        iat: u64::try_from(now).unwrap_or(0),
        exp: u64::try_from(expires_at).unwrap_or(0),
        jti: TokenId::generate().to_string(),
    };
    let client_token = state.token_key.issue(&claims).map_err(AppError::internal)?;
    db::insert_session(
        &state.db,
        &NewSession {
            id: &session_id,
            tenant_id: &auth.tenant,
            steps: &steps,
            reference: body.reference.as_deref(),
            expires_at,
            now,
        },
    )
    .await?;
    tracing::info!(session_id = %session_id, "session created");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "session_id": session_id.as_str(),
            "client_token": client_token,
            "expires_at": expires_at,
            "status": SessionStatus::Created.as_str(),
            "steps": steps,
        })),
    ))
}

fn parse_json_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// `GET /v1/sessions/{id}`: the session, its status and its captures (metadata only).
/// A session of another tenant is `not_found`.
pub async fn get_session(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let session_id = SessionId::parse(&id).ok_or(AppError::NotFound("session not found"))?;
    let session = db::get_session(&state.db, &session_id, auth.tenant.as_str())
        .await?
        .ok_or(AppError::NotFound("session not found"))?;
    let captures = db::list_captures(&state.db, &session_id).await?;
    let captures: Vec<Value> = captures
        .into_iter()
        .map(|c| {
            json!({
                "capture_id": c.id,
                "step": c.step,
                "received_at": c.received_at,
                // Only captures whose signature verified are ever stored.
                "signature_verified": true,
                "key_id": c.key_id,
                "images": c.images,
                "client_quality": parse_json_text(&c.client_quality),
                "server_quality": parse_json_text(&c.server_quality),
            })
        })
        .collect();
    Ok(Json(json!({
        "session_id": session.id.as_str(),
        "status": session.status_at(now_secs()).as_str(),
        "steps": session.steps,
        "reference": session.reference,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "expires_at": session.expires_at,
        "captures": captures,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_dedupe_and_default() {
        assert_eq!(parse_steps(None).unwrap(), vec![Step::DocumentFront]);
        let steps = parse_steps(Some(vec!["document-front".into(), "selfie".into(), "document_front".into()])).unwrap();
        assert_eq!(steps, vec![Step::DocumentFront, Step::Selfie]);
        assert!(parse_steps(Some(vec![])).is_err());
        assert!(parse_steps(Some(vec!["passport".into()])).is_err());
    }

    #[test]
    fn references() {
        assert!(check_reference(None).is_ok());
        assert!(check_reference(Some("order-42")).is_ok());
        assert!(check_reference(Some("")).is_err());
        assert!(check_reference(Some(&"x".repeat(129))).is_err());
        assert!(check_reference(Some("a\nb")).is_err());
    }
}
