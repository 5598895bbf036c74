//! Registry lookup: the [`RegistryConnector`] trait a deployment implements or configures, and
//! (feature `http`) [`HttpRegistry`], which POSTs a JSON query to a configured endpoint.
//!
//! Wire format of [`HttpRegistry`]: `POST {base_url}/v1/lookup` with
//! `Authorization: Bearer {token}` and body
//! `{"kind":"aadhaar","number":"...","name":"...","birth_date":"YYYY-MM-DD"}`; the answer is
//! `{"result":"match"|"no_match"|"not_found","reference":"..."}` (reference optional).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Which kind of number is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// Aadhaar.
    Aadhaar,
    /// PAN.
    Pan,
    /// US SSN.
    Ssn,
    /// A document number read from an MRZ.
    DocumentNumber,
}

/// A lookup request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryQuery {
    /// Kind of number.
    pub kind: IdKind,
    /// The number (validated by the caller).
    pub number: String,
    /// Full name as declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Birth date `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
}

/// The registry's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryVerdict {
    /// The record exists and matches the declared data.
    Match,
    /// The record exists but the declared data differ.
    NoMatch,
    /// No such record.
    NotFound,
}

/// A registry's full answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryResponse {
    /// The verdict.
    pub result: RegistryVerdict,
    /// The registry's reference for the lookup (for audit).
    #[serde(default)]
    pub reference: Option<String>,
}

/// Lookup failures.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// Transport failure or timeout.
    #[error("registry unreachable: {0}")]
    Transport(String),
    /// A status other than 200.
    #[error("registry answered HTTP {0}")]
    Status(u16),
    /// A body that is not the expected JSON, or too large.
    #[error("registry answer malformed")]
    Malformed,
}

impl RegistryError {
    /// A stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transport(_) => "registry_unreachable",
            Self::Status(_) => "registry_status",
            Self::Malformed => "registry_malformed",
        }
    }
}

/// Looks ID numbers up in an authoritative registry.
pub trait RegistryConnector {
    /// Looks one number up.
    fn lookup(
        &self,
        query: &RegistryQuery,
    ) -> impl std::future::Future<Output = Result<RegistryResponse, RegistryError>> + Send;
}

#[cfg(feature = "http")]
pub use http::HttpRegistry;

#[cfg(feature = "http")]
mod http {
    use super::*;

    /// Largest accepted answer body.
    const MAX_BODY: usize = 64 * 1024;

    /// A registry reached over HTTP(S), configured by the deployment.
    #[derive(Debug, Clone)]
    pub struct HttpRegistry {
        client: reqwest::Client,
        url: String,
        token: String,
    }

    impl HttpRegistry {
        /// A connector for `base_url` (no trailing slash needed) with a bearer token and a
        /// per-request timeout.
        pub fn new(base_url: &str, token: &str, timeout: std::time::Duration) -> Result<Self, RegistryError> {
            let client = reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .map_err(|e| RegistryError::Transport(e.to_string()))?;
            Ok(Self { client, url: format!("{}/v1/lookup", base_url.trim_end_matches('/')), token: token.to_string() })
        }
    }

    impl RegistryConnector for HttpRegistry {
        async fn lookup(&self, query: &RegistryQuery) -> Result<RegistryResponse, RegistryError> {
            let body = serde_json::to_vec(query).map_err(|_| RegistryError::Malformed)?;
            let resp = self
                .client
                .post(&self.url)
                .bearer_auth(&self.token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| RegistryError::Transport(e.without_url().to_string()))?;
            if resp.status() != reqwest::StatusCode::OK {
                return Err(RegistryError::Status(resp.status().as_u16()));
            }
            if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
                return Err(RegistryError::Malformed);
            }
            let bytes = resp.bytes().await.map_err(|e| RegistryError::Transport(e.without_url().to_string()))?;
            if bytes.len() > MAX_BODY {
                return Err(RegistryError::Malformed);
            }
            serde_json::from_slice(&bytes).map_err(|_| RegistryError::Malformed)
        }
    }
}
