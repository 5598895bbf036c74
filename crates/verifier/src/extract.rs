//! Request extractors: API-key and client-token authentication, JSON bodies and bounded
//! body reading. Every rejection is an [`AppError`], so it is answered as JSON.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use trustcap_protocol::{ErrorCode, TokenClaims};

use crate::db::{self, SessionRecord};
use crate::domain::{ApiKey, SessionId, TenantId};
use crate::error::AppError;
use crate::startup::AppState;

/// Largest JSON request body accepted by the JSON endpoints.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A caller authenticated with a tenant API key (`Authorization: Bearer tck_...`).
#[derive(Debug, Clone)]
pub struct TenantAuth {
    /// The key's tenant.
    pub tenant: TenantId,
}

impl FromRequestParts<AppState> for TenantAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = bearer(&parts.headers).and_then(ApiKey::parse).ok_or(AppError::Unauthorized)?;
        let tenant = db::authenticate_api_key(&state.db, &key).await?.ok_or(AppError::Unauthorized)?;
        Ok(Self { tenant })
    }
}

/// A caller holding a valid client token for an existing session.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    /// The token's verified claims.
    pub claims: TokenClaims,
    /// The session the token names.
    pub session: SessionRecord,
}

impl FromRequestParts<AppState> for ClientAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers)
            .ok_or_else(|| AppError::protocol(ErrorCode::TokenMalformed, "missing client token"))?;
        let now = u64::try_from(state.now()).unwrap_or(0);
        let claims = state.token_key.verify(token, now)?;
        let session_id = SessionId::parse(&claims.sid).ok_or(AppError::NotFound("session not found"))?;
        tracing::Span::current().record("session_id", session_id.as_str());
        let session = db::get_session(&state.db, &session_id, &claims.tid)
            .await?
            .ok_or(AppError::NotFound("session not found"))?;
        Ok(Self { claims, session })
    }
}

fn is_length_limit(err: &axum::Error) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Reads a whole body, refusing (`payload_too_large`) anything over `limit` bytes, by its
/// `Content-Length` before reading and by counting while reading.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, AppError> {
    let too_large = || AppError::protocol(ErrorCode::PayloadTooLarge, format!("the body exceeds {limit} bytes"));
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if is_length_limit(&e) {
            too_large()
        } else {
            AppError::InvalidRequest("the request body could not be read".into())
        }
    })
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// A JSON request body: `Content-Type: application/json`, at most [`MAX_JSON_BYTES`],
/// UTF-8, well-formed JSON (`invalid_json` otherwise) matching `T`'s schema
/// (`invalid_request` otherwise).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(req.headers()) {
            return Err(AppError::InvalidJson("expected Content-Type: application/json".into()));
        }
        let (parts, body) = req.into_parts();
        let bytes = read_body(&parts.headers, body, MAX_JSON_BYTES).await?;
        if std::str::from_utf8(&bytes).is_err() {
            return Err(AppError::InvalidJson("the body is not valid UTF-8".into()));
        }
        // Syntax first (without building anything), so any malformed body is `invalid_json`
        // even where the typed parse would fail earlier on a schema error.
        serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).map_err(|e| {
            AppError::InvalidJson(format!("the body is not valid JSON (line {}, column {})", e.line(), e.column()))
        })?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            AppError::InvalidRequest(format!("the JSON does not match the schema (column {})", e.column()))
        })
    }
}
