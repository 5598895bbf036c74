//! The one error type of the HTTP API and its JSON form.
//!
//! Every refusal is answered as
//! `{"error":{"code":"<stable_code>","message":"..."}}` with a matching status. Protocol
//! refusals keep the [`ErrorCode`] of `trustcap-protocol` and its
//! [`ErrorCode::http_status`]; the verifier adds a few codes of its own (see
//! [`AppError::code`]). Messages never contain applicant data, tokens or keys.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use trustcap_protocol::{ErrorCode, ProtocolError};

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A protocol refusal with its stable code.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// Missing or wrong API key (`unauthorized`, 401).
    #[error("missing or invalid API key")]
    Unauthorized,
    /// No such resource for this caller (`not_found`, 404).
    #[error("{0}")]
    NotFound(&'static str),
    /// The body is not JSON, not UTF-8, or not sent as `application/json` (`invalid_json`, 400).
    #[error("{0}")]
    InvalidJson(String),
    /// The JSON is well formed but breaks a rule of the endpoint (`invalid_request`, 400).
    #[error("{0}")]
    InvalidRequest(String),
    /// The session no longer accepts keys, nonces or captures (`session_not_capturable`, 409).
    #[error("the session is {0} and no longer accepts captures")]
    SessionNotCapturable(&'static str),
    /// The route exists but not for this method (`method_not_allowed`, 405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Bad input with an endpoint-specific stable code (400), e.g. `name_empty`.
    #[error("{message}")]
    Invalid {
        /// Stable code.
        code: &'static str,
        /// Explanation (never echoes the input).
        message: String,
    },
    /// A capability the request needs is not configured (503), e.g. `screening_unavailable`.
    #[error("{message}")]
    Unavailable {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// The request conflicts with the resource's state (409), e.g. `session_not_approved`.
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// Well-formed input that fails a semantic check (422), e.g. `credential_bad_signature`.
    #[error("{message}")]
    Unprocessable {
        /// Stable code.
        code: &'static str,
        /// Explanation (never echoes the input).
        message: String,
    },
    /// Something failed on our side (`internal`, 500). The cause is logged, never returned.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// Shorthand for a protocol refusal.
    pub fn protocol(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Protocol(ProtocolError::new(code, detail))
    }

    /// Wraps an unexpected failure; its text is logged but not sent to the client.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Protocol(e) => e.code.as_str(),
            Self::Unauthorized => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::InvalidJson(_) => "invalid_json",
            Self::InvalidRequest(_) => "invalid_request",
            Self::SessionNotCapturable(_) => "session_not_capturable",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Invalid { code, .. }
            | Self::Unavailable { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. } => code,
            Self::Internal(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Protocol(e) => StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::InvalidJson(_) | Self::InvalidRequest(_) | Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::SessionNotCapturable(_) | Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message returned to the client.
    fn public_message(&self) -> String {
        match self {
            Self::Protocol(e) => e.detail.clone(),
            Self::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        Self::internal(format_args!("database: {err}"))
    }
}

/// Builds the JSON error body for a code, status and message.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.code();
        tracing::Span::current().record("code", code);
        match &self {
            Self::Internal(cause) => tracing::error!(code, %cause, "request failed"),
            _ => tracing::info!(code, "request refused"),
        }
        error_response(self.status(), code, &self.public_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_codes_keep_their_status() {
        for &code in ErrorCode::ALL {
            let err = AppError::protocol(code, "x");
            assert_eq!(err.code(), code.as_str());
            assert_eq!(err.status().as_u16(), code.http_status());
        }
        assert_eq!(AppError::Unauthorized.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(AppError::internal("secret detail").public_message(), "internal error");
    }
}
