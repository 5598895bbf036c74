//! The review console: server-rendered pages under `/console` where a tenant's reviewers
//! sign in, work the queue of sessions in `review`, look at every image and check result of
//! a case and approve, decline or request a resubmission (optionally with four-eyes
//! approval), plus `GET|PUT /v1/review/settings` for the tenant's backend.
//!
//! Security: reviewer accounts with Argon2id passwords ([`password`], [`accounts`]); session
//! cookies that are `Secure`, `HttpOnly`, `SameSite=Strict` and scoped to `/console`
//! ([`auth`]); an `Origin`/`Sec-Fetch-Site` check before anything else on every state-changing
//! request plus a session-bound CSRF token in every form ([`csrf`]); sign-in rate limiting
//! ([`limiter`]); a strict Content-Security-Policy without any script, no framing, no referrer
//! and no caching on every console response.

pub mod accounts;
pub mod auth;
pub mod cases;
pub mod compare;
pub mod csrf;
pub mod error;
pub mod html;
pub mod limiter;
pub mod pages;
pub mod password;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router, middleware};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::startup::AppState;

/// The Content-Security-Policy of every console response: nothing but this origin's images,
/// stylesheet and form targets; no script at all; never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Largest form body accepted by the console.
const MAX_FORM_BYTES: usize = 16 * 1024;

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    response
}

async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The console's routes (pages and the settings API), ready to merge into the service router.
pub fn router(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.settings.request_timeout_secs);
    let limiter = Arc::new(limiter::LoginLimiter::new());
    let pages = Router::new()
        .route("/console", get(pages::queue))
        .route("/console/", get(pages::queue))
        .route("/console/login", get(pages::login_form).post(pages::login))
        .route("/console/logout", post(pages::logout))
        .route("/console/cases/{id}", get(pages::case))
        .route("/console/cases/{id}/decision", post(pages::decision))
        .route("/console/cases/{id}/images/{capture}/{position}", get(pages::capture_image))
        .route("/console/cases/{id}/artifacts/{round}/{check}/{name}", get(pages::artifact))
        .route("/console/settings", get(pages::settings).post(pages::save_settings))
        .route("/console/static/console.css", get(pages::stylesheet))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(middleware::from_fn(csrf::refuse_cross_site))
        .layer(Extension(limiter))
        .layer(middleware::map_response(security_headers));
    let api = Router::new()
        .route("/v1/review/settings", get(pages::api_get_settings).put(pages::api_put_settings))
        .layer(middleware::map_response(no_store));
    pages
        .merge(api)
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(CatchPanicLayer::new())
}
