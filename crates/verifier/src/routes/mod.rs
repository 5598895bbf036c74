//! HTTP handlers.

use std::sync::OnceLock;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{Value, json};

use crate::error::AppError;
use crate::startup::AppState;

pub mod audit;
pub mod client;
pub mod credentials;
pub mod erasure;
pub mod rules;
pub mod screenings;
pub mod sessions;
pub mod webhooks;

/// `GET /healthz`: liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: readiness (the database answers).
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "Ready"), (status = 503, description = "The database does not answer")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(state.db.pool()).await {
        Ok(_) => Json(json!({"status": "ready"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            crate::error::error_response(StatusCode::SERVICE_UNAVAILABLE, "not_ready", "the database does not answer")
        }
    }
}

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide Prometheus recorder once; `None` if another recorder was
/// installed first.
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .as_ref()
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus metrics")))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    if !state.settings.metrics {
        return Err(AppError::NotFound("metrics are disabled"));
    }
    let handle = prometheus();
    if let Ok(pending) = crate::queue::pending(&state.db).await {
        metrics::gauge!("trustcap_jobs_pending").set(pending as f64);
    }
    let text = handle.map(PrometheusHandle::render).unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"))], text).into_response())
}

/// `GET /openapi.json`: the OpenAPI 3.1 document of this API.
pub async fn openapi_json() -> Response {
    let doc = crate::openapi::document();
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], doc).into_response()
}
