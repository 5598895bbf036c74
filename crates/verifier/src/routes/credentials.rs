//! Reusable credentials over HTTP: issuing one for an approved session (API key), and the
//! public side every relying party uses: the issuer's key and a presentation check.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::audit::Actor;
use crate::credentials::{self, Facts};
use crate::db;
use crate::domain::{SessionId, SessionStatus};
use crate::error::AppError;
use crate::extract::{ApiJson, TenantAuth};
use crate::pipeline::load_rules;
use crate::startup::AppState;

/// `POST /v1/sessions/{id}/credential`: issues the applicant of an approved session an SD-JWT
/// VC stating what was verified (every claim disclosable on its own). The customer hands it to
/// the applicant; it holds no name, birth date or document number. 409 `session_not_approved`
/// before approval, 409 `credential_disabled` unless the tenant's rules enable credentials.
#[utoipa::path(post, path = "/v1/sessions/{id}/credential", params(("id" = String, Path, description = "Session id")),
    responses((status = 200, description = "The credential (`sd_jwt`) and its claims"),
              (status = 409, description = "`session_not_approved` or `credential_disabled`")),
    security(("api_key" = [])))]
pub async fn issue(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let session_id = SessionId::parse(&id).ok_or(AppError::NotFound("session not found"))?;
    let session = db::get_session(&state.db, &session_id, auth.tenant.as_str())
        .await?
        .ok_or(AppError::NotFound("session not found"))?;
    if session.status_at(state.now()) != SessionStatus::Approved {
        return Err(AppError::Conflict {
            code: "session_not_approved",
            message: "a credential is issued only for an approved session".into(),
        });
    }
    let (_, rules) = load_rules(&state.db, auth.tenant.as_str()).await?;
    if !rules.credential.enabled {
        return Err(AppError::Conflict {
            code: "credential_disabled",
            message: "credentials are not enabled in this tenant's rules (credential.enabled)".into(),
        });
    }
    let checks = credentials::load_checks(&state.db, auth.tenant.as_str(), session_id.as_str(), session.round).await?;
    // The last change of an approved session is its approval (by the pipeline or a reviewer).
    let facts = Facts::from_checks(&checks, session.updated_at);
    let now = state.now();
    let credential = state.issuer.issue(&facts, now, rules.credential.validity_days).map_err(AppError::internal)?;
    let claims = facts.claims();
    let names: Vec<&str> = claims.iter().map(|(n, _)| n.as_str()).collect();
    let digest = hex::encode(Sha256::digest(credential.jwt.as_bytes()));
    let mut tx = state.db.begin().await?;
    state
        .db
        .auditor(Actor::Api)?
        .record(
            &mut tx,
            auth.tenant.as_str(),
            "credential.issued",
            session_id.as_str(),
            json!({"kid": state.issuer.public_key().kid(), "claims": names, "jwt_sha256": digest}),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(Json(json!({
        "sd_jwt": credential.to_sd_jwt(),
        "format": "dc+sd-jwt",
        "vct": credentials::VCT,
        "issuer": state.issuer.url(),
        "kid": state.issuer.public_key().kid(),
        "issued_at": now,
        "expires_at": now + i64::from(rules.credential.validity_days) * 86_400,
        "claims": Value::Object(claims.into_iter().collect()),
    })))
}

/// `GET /.well-known/jwt-vc-issuer`: the SD-JWT VC issuer metadata (`issuer`, `jwks`).
#[utoipa::path(get, path = "/.well-known/jwt-vc-issuer", responses((status = 200, description = "Issuer metadata")))]
pub async fn issuer_metadata(State(state): State<AppState>) -> Json<Value> {
    Json(state.issuer.metadata())
}

/// `GET /v1/credentials/jwks`: the issuer's public keys as a JWK set.
#[utoipa::path(get, path = "/v1/credentials/jwks", responses((status = 200, description = "JWK set")))]
pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.issuer.jwks())
}

/// The body of `POST /v1/credentials/verify`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// An SD-JWT presentation (`JWT~disclosure~…~`).
    pub presentation: String,
}

/// `POST /v1/credentials/verify` (public): checks a presentation against this issuer's key and
/// returns the disclosed claims, or 422 with the credential error's stable code
/// (`credential_bad_signature`, `credential_expired`, `credential_unknown_disclosure`, ...).
#[utoipa::path(post, path = "/v1/credentials/verify",
    responses((status = 200, description = "Valid: the disclosed claims"), (status = 422, description = "Not valid, with a stable code")))]
pub async fn verify(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<VerifyRequest>,
) -> Result<Json<Value>, AppError> {
    let verified = state
        .issuer
        .verify(&body.presentation, state.now())
        .map_err(|e| AppError::Unprocessable { code: e.code(), message: e.to_string() })?;
    Ok(Json(json!({
        "valid": true,
        "issuer": verified.issuer,
        "vct": verified.vct,
        "issued_at": verified.issued_at,
        "expires_at": verified.expires_at,
        "claims": verified.claims,
    })))
}
