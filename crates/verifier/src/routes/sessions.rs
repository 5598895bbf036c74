//! The tenant API: creating and reading sessions (API-key authentication).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row as _;
use trustcap_protocol::{Step, TokenClaims};

use crate::db::{self, NewSession};
use crate::domain::{SessionId, SessionStatus, TokenId};
use crate::error::AppError;
use crate::extract::{ApiJson, TenantAuth};
use crate::startup::AppState;

/// Longest customer reference, in characters.
pub const MAX_REFERENCE_CHARS: usize = 128;

/// Longest applicant field, in characters.
pub const MAX_APPLICANT_FIELD_CHARS: usize = 200;

/// What the customer already knows about the applicant, for the checks to compare
/// against (document data, screening). PII: stored, never logged, never in webhooks.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Applicant {
    /// Given names.
    #[serde(default)]
    pub given_names: Option<String>,
    /// Family name.
    #[serde(default)]
    pub family_name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default)]
    pub date_of_birth: Option<String>,
    /// Nationality, ISO 3166-1 alpha-3.
    #[serde(default)]
    pub nationality: Option<String>,
    /// Identity document number.
    #[serde(default)]
    pub document_number: Option<String>,
    /// Postal address, one line.
    #[serde(default)]
    pub address: Option<String>,
}

impl Applicant {
    fn check(&self) -> Result<(), AppError> {
        let fields = [
            &self.given_names,
            &self.family_name,
            &self.date_of_birth,
            &self.nationality,
            &self.document_number,
            &self.address,
        ];
        for value in fields.into_iter().flatten() {
            if value.chars().count() > MAX_APPLICANT_FIELD_CHARS || value.chars().any(char::is_control) {
                return Err(AppError::InvalidRequest(format!(
                    "applicant fields must be at most {MAX_APPLICANT_FIELD_CHARS} characters without control characters"
                )));
            }
        }
        if let Some(dob) = &self.date_of_birth {
            let ok = dob.len() == 10
                && dob.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
            if !ok {
                return Err(AppError::InvalidRequest("applicant.date_of_birth must be YYYY-MM-DD".into()));
            }
        }
        Ok(())
    }
}

/// Body of `POST /v1/sessions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    /// Steps to capture (default `["document_front"]`).
    #[serde(default)]
    pub steps: Option<Vec<String>>,
    /// The customer's own reference for the session.
    #[serde(default)]
    pub reference: Option<String>,
    /// Applicant data for the checks.
    #[serde(default)]
    pub applicant: Option<Applicant>,
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
#[utoipa::path(post, path = "/v1/sessions", request_body = CreateSessionRequest,
    responses((status = 201, description = "The session, its client token and expiry"), (status = 400), (status = 401)),
    security(("api_key" = [])))]
pub async fn create_session(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<CreateSessionRequest>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let steps = parse_steps(body.steps)?;
    check_reference(body.reference.as_deref())?;
    let applicant = match &body.applicant {
        Some(a) => {
            a.check()?;
            Some(serde_json::to_string(a).map_err(AppError::internal)?)
        }
        None => None,
    };
    let now = state.now();
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
            applicant: applicant.as_deref(),
            expires_at,
            now,
        },
    )
    .await?;
    tracing::info!(session_id = %session_id, "session created");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": session_id.as_str(),
            "session_id": session_id.as_str(),
            "client_token": client_token,
            "expires_at": expires_at,
            "status": SessionStatus::Created.as_str(),
            "state": SessionStatus::Created.as_str(),
            "steps": steps,
        })),
    ))
}

fn parse_json_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

async fn latest_decision(state: &AppState, session: &SessionId) -> Result<Value, AppError> {
    let row = sqlx::query(
        "SELECT round, state, trust_score, reasons, requested_steps, rule_set_version, created_at FROM decisions \
         WHERE session_id = $1 ORDER BY round DESC LIMIT 1",
    )
    .bind(session.as_str())
    .fetch_optional(state.db.pool())
    .await?;
    let Some(row) = row else { return Ok(Value::Null) };
    Ok(json!({
        "round": row.try_get::<i64, _>("round")?,
        "state": row.try_get::<String, _>("state")?,
        "trust_score": row.try_get::<f64, _>("trust_score")?,
        "reasons": parse_json_text(&row.try_get::<String, _>("reasons")?),
        "requested_steps": parse_json_text(&row.try_get::<String, _>("requested_steps")?),
        "rule_set_version": row.try_get::<i64, _>("rule_set_version")?,
        "decided_at": row.try_get::<i64, _>("created_at")?,
    }))
}

async fn check_results(state: &AppState, session: &db::SessionRecord) -> Result<Vec<Value>, AppError> {
    let rows = sqlx::query(
        "SELECT round, check_name, check_version, outcome, score, details, created_at FROM check_results \
         WHERE session_id = $1 ORDER BY round, created_at, check_name",
    )
    .bind(session.id.as_str())
    .fetch_all(state.db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    if rows.is_empty() {
        return Ok(out);
    }
    // Details may quote document data: they are stored sealed with the session's data key.
    let vault = crate::vault::keys::session_vault(&state.db, &session.tenant_id, session.id.as_str()).await?;
    for row in rows {
        let round: i64 = row.try_get("round")?;
        let name: String = row.try_get("check_name")?;
        let details = row.try_get::<String, _>("details")?;
        let details = parse_json_text(&vault.open_text(crate::vault::Purpose::CheckDetails(round, &name), &details)?);
        out.push(json!({
            "round": round,
            "name": name,
            "version": row.try_get::<String, _>("check_version")?,
            "outcome": row.try_get::<String, _>("outcome")?,
            "score": row.try_get::<Option<f64>, _>("score")?,
            "reasons": details.get("reasons").cloned().unwrap_or(Value::Array(Vec::new())),
            "details": details.get("details").cloned().unwrap_or(Value::Null),
            "checked_at": row.try_get::<i64, _>("created_at")?,
        }));
    }
    Ok(out)
}

/// `GET /v1/sessions/{id}`: the session, its state, decision, check results and
/// captures (metadata only). A session of another tenant is `not_found`.
///
/// `status` keeps the walking skeleton's capture-phase meaning (`created`, `capturing`,
/// `submitted`, `expired`); `state` is the full state machine. The response carries an
/// `ETag`; a poll with a matching `If-None-Match` gets `304 Not Modified`.
#[utoipa::path(get, path = "/v1/sessions/{id}", params(("id" = String, Path, description = "Session id")),
    responses((status = 200, description = "The session"), (status = 304, description = "Unchanged since the ETag"),
        (status = 404)), security(("api_key" = [])))]
pub async fn get_session(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
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
                "round": c.round,
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
    let current = session.status_at(state.now());
    let body = json!({
        "session_id": session.id.as_str(),
        "status": current.capture_status().as_str(),
        "state": current.as_str(),
        "round": session.round,
        "requested_steps": session.requested_steps,
        "steps": session.steps,
        "reference": session.reference,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "expires_at": session.expires_at,
        "decision": latest_decision(&state, &session_id).await?,
        "checks": check_results(&state, &session).await?,
        "captures": captures,
    });
    let text = body.to_string();
    let etag = format!("\"{}\"", &trustcap_protocol::digest::sha256_hex(text.as_bytes())[..32]);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*"));
    let etag_value = HeaderValue::from_str(&etag).map_err(AppError::internal)?;
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    Ok((
        StatusCode::OK,
        [(header::ETAG, etag_value), (header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        text,
    )
        .into_response())
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

    #[test]
    fn applicant_fields() {
        let ok = Applicant { date_of_birth: Some("1990-01-31".into()), ..Applicant::default() };
        assert!(ok.check().is_ok());
        assert!(Applicant { date_of_birth: Some("31.01.1990".into()), ..Applicant::default() }.check().is_err());
        assert!(Applicant { family_name: Some("x".repeat(201)), ..Applicant::default() }.check().is_err());
        assert!(Applicant { address: Some("a\u{0}b".into()), ..Applicant::default() }.check().is_err());
    }
}
