//! The tenant's webhook endpoint, secret rotation, the delivery log and redelivery.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::{EventId, SessionId};
use crate::error::AppError;
use crate::extract::{ApiJson, TenantAuth};
use crate::outbox;
use crate::startup::AppState;
use crate::webhook::secret;
pub use crate::webhook::ssrf::MAX_URL_LEN;
use crate::webhook::ssrf::UrlPolicy;

/// Body of `PUT /v1/webhook`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutEndpointRequest {
    /// Where events are POSTed: `https://...` on a public address (`http://` and private
    /// addresses only when the operator allows them for local receivers).
    pub url: String,
}

fn check_url(url: &str, policy: &UrlPolicy) -> Result<(), AppError> {
    policy.check(url).map(|_| ()).map_err(|e| AppError::Invalid { code: e.code(), message: e.to_string() })
}

/// `PUT /v1/webhook`: sets the endpoint and a fresh signing secret, returned only now.
#[utoipa::path(put, path = "/v1/webhook", request_body = PutEndpointRequest,
    responses((status = 200, description = "The endpoint and its new secret")), security(("api_key" = [])))]
pub async fn put_endpoint(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<PutEndpointRequest>,
) -> Result<Json<Value>, AppError> {
    check_url(&body.url, &state.settings.webhook_policy())?;
    let new_secret = secret::generate();
    let sealed = state.secrets.seal(auth.tenant.as_str(), &new_secret);
    outbox::put_endpoint(&state.db, auth.tenant.as_str(), &body.url, &sealed, state.now()).await?;
    tracing::info!(tenant_id = %auth.tenant, "webhook endpoint set");
    Ok(Json(json!({"url": body.url, "secret": new_secret})))
}

/// `GET /v1/webhook`: the endpoint (never its secret).
#[utoipa::path(get, path = "/v1/webhook", responses((status = 200), (status = 404)), security(("api_key" = [])))]
pub async fn get_endpoint(State(state): State<AppState>, auth: TenantAuth) -> Result<Json<Value>, AppError> {
    let endpoint =
        outbox::endpoint(&state.db, auth.tenant.as_str()).await?.ok_or(AppError::NotFound("no webhook endpoint"))?;
    let rotating = endpoint.previous_valid_until.is_some_and(|t| t > state.now());
    Ok(Json(json!({
        "url": endpoint.url,
        "rotating": rotating,
        "previous_secret_valid_until": if rotating { endpoint.previous_valid_until } else { None },
    })))
}

/// `POST /v1/webhook/rotate`: a new secret signs from now on; the previous one keeps
/// signing beside it (two `v1=` in the header) for the configured overlap.
#[utoipa::path(post, path = "/v1/webhook/rotate", responses((status = 200, description = "The new secret"), (status = 404)), security(("api_key" = [])))]
pub async fn rotate_secret(State(state): State<AppState>, auth: TenantAuth) -> Result<Json<Value>, AppError> {
    let new_secret = secret::generate();
    let sealed = state.secrets.seal(auth.tenant.as_str(), &new_secret);
    let now = state.now();
    let until = now.saturating_add(i64::try_from(state.settings.webhook_rotation_secs).unwrap_or(86_400));
    if !outbox::rotate_secret(&state.db, auth.tenant.as_str(), &sealed, until, now).await? {
        return Err(AppError::NotFound("no webhook endpoint"));
    }
    tracing::info!(tenant_id = %auth.tenant, "webhook secret rotated");
    Ok(Json(json!({"secret": new_secret, "previous_secret_valid_until": until})))
}

/// `GET /v1/sessions/{id}/events`: the session's events, their deliveries and every
/// attempt (the delivery log).
#[utoipa::path(get, path = "/v1/sessions/{id}/events", params(("id" = String, Path, description = "Session id")),
    responses((status = 200), (status = 404)), security(("api_key" = [])))]
pub async fn session_events(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let session = SessionId::parse(&id).ok_or(AppError::NotFound("session not found"))?;
    let log = outbox::session_log(&state.db, auth.tenant.as_str(), session.as_str())
        .await?
        .ok_or(AppError::NotFound("session not found"))?;
    Ok(Json(log))
}

/// `POST /v1/events/{id}/redeliver`: sends the event again (same id, same body).
#[utoipa::path(post, path = "/v1/events/{id}/redeliver", params(("id" = String, Path, description = "Event id")),
    responses((status = 202), (status = 404)), security(("api_key" = [])))]
pub async fn redeliver(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let event = EventId::parse(&id).ok_or(AppError::NotFound("event not found"))?;
    let delivery = outbox::redeliver(&state.db, auth.tenant.as_str(), event.as_str(), state.now())
        .await?
        .ok_or(AppError::NotFound("event not found or no webhook endpoint"))?;
    Ok((StatusCode::ACCEPTED, Json(json!({"event_id": event.as_str(), "delivery_id": delivery.as_str()}))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        let strict = UrlPolicy::default();
        let local = UrlPolicy { allow_http: true, allow_private_networks: true };
        assert!(check_url("https://hooks.example/trustcap", &strict).is_ok());
        assert!(check_url("http://127.0.0.1:9000/h", &local).is_ok());
        let code = |url: &str, p: &UrlPolicy| check_url(url, p).err().map(|e| e.code());
        assert_eq!(code("http://127.0.0.1:9000/h", &strict), Some("webhook_url_forbidden"));
        assert_eq!(code("https://169.254.169.254/", &strict), Some("webhook_url_forbidden"));
        assert_eq!(code("ftp://x/", &local), Some("webhook_url_invalid"));
        assert_eq!(code("https://user:pw@x/", &local), Some("webhook_url_forbidden"));
        assert_eq!(code("not a url", &local), Some("webhook_url_invalid"));
        assert_eq!(code(&format!("https://x/{}", "a".repeat(3000)), &local), Some("webhook_url_invalid"));
    }
}
