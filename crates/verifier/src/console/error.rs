//! How the console refuses a request: HTML pages for people, JSON with a stable code for the
//! cross-site and CSRF refusals (a browser shows them only to a forged request).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::console::html;
use crate::error::{AppError, error_response};

/// Why a console request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No valid console session: redirect to the login page.
    #[error("sign-in required")]
    LoginRequired,
    /// A state-changing request from another site (`Origin` or `Sec-Fetch-Site`): 403 `cross_site_request`.
    #[error("cross-site requests are refused")]
    CrossSite,
    /// Missing or wrong CSRF token: 403 `csrf_token_invalid`.
    #[error("missing or wrong CSRF token")]
    CsrfToken,
    /// The reviewer's role does not allow this: 403 `forbidden`.
    #[error("your role does not allow this")]
    Forbidden,
    /// No such case (or another tenant's): 404 `not_found`.
    #[error("no such case")]
    NotFound,
    /// Bad form input: 400 with a code.
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// The case cannot take this action now: 409 with a code.
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: &'static str,
    },
    /// Too many failed logins: 429 with `Retry-After`.
    #[error("too many failed sign-ins; try again later")]
    RateLimited {
        /// Seconds to wait.
        retry_after: i64,
    },
    /// Something failed on our side (logged, never shown).
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for ConsoleError {
    fn from(err: sqlx::Error) -> Self {
        Self::App(err.into())
    }
}

impl From<crate::vault::VaultError> for ConsoleError {
    fn from(err: crate::vault::VaultError) -> Self {
        Self::App(err.into())
    }
}

impl ConsoleError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LoginRequired => "login_required",
            Self::CrossSite => "cross_site_request",
            Self::CsrfToken => "csrf_token_invalid",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } => code,
            Self::RateLimited { .. } => "rate_limited",
            Self::App(e) => e.code(),
        }
    }
}

/// An HTML error page with the code in `data-error-code`.
pub fn error_page(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"problem\" data-error-code=\"{}\">{}</p><p><a href=\"/console\">Back to the queue</a></p>",
        html::escape(status.canonical_reason().unwrap_or("Error")),
        html::escape(code),
        html::escape(message)
    );
    (status, axum::response::Html(html::page("Error", None, &body))).into_response()
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let code = self.code();
        match self {
            Self::LoginRequired => Redirect::to("/console/login").into_response(),
            Self::CrossSite | Self::CsrfToken => {
                tracing::info!(code, "console request refused");
                error_response(StatusCode::FORBIDDEN, code, &self.to_string())
            }
            Self::Forbidden => error_page(StatusCode::FORBIDDEN, code, &self.to_string()),
            Self::NotFound => error_page(StatusCode::NOT_FOUND, code, &self.to_string()),
            Self::BadRequest { ref message, .. } => error_page(StatusCode::BAD_REQUEST, code, message),
            Self::Conflict { message, .. } => error_page(StatusCode::CONFLICT, code, message),
            Self::RateLimited { retry_after } => {
                let mut response = error_page(StatusCode::TOO_MANY_REQUESTS, code, &self.to_string());
                if let Ok(value) = HeaderValue::from_str(&retry_after.max(1).to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            Self::App(e) => {
                tracing::error!(code = e.code(), cause = %e, "console request failed");
                let status = e.status();
                error_page(status, e.code(), if status.is_server_error() { "internal error" } else { "refused" })
            }
        }
    }
}
