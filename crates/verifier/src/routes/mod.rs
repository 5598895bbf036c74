//! HTTP handlers.

use axum::Json;
use serde_json::{Value, json};

pub mod client;
pub mod sessions;

/// `GET /healthz`: liveness.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}
