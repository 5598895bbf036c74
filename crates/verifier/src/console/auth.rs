//! Console sign-in sessions: a random 256-bit token in a `Secure`, `HttpOnly`,
//! `SameSite=Strict` cookie scoped to `/console`; the database keeps only its SHA-256. A
//! session ends after [`IDLE_SECS`] without a request or [`ABSOLUTE_SECS`] after sign-in,
//! whichever comes first, or at sign-out.
//!
//! [`SignedIn`] is the extractor every console page uses: it resolves the cookie to an active
//! reviewer and carries the session's CSRF token (derived from the cookie token, so it needs
//! no storage and cannot be read by another site).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::Row as _;
use trustcap_protocol::digest::sha256_hex;

use crate::console::accounts::{self, Reviewer};
use crate::console::error::ConsoleError;
use crate::db::Db;
use crate::domain::random_bytes;
use crate::startup::AppState;

/// The cookie's name.
pub const COOKIE: &str = "tc_console";
/// A session ends after this long without a request (30 minutes).
pub const IDLE_SECS: i64 = 30 * 60;
/// A session ends this long after sign-in whatever happens (12 hours).
pub const ABSOLUTE_SECS: i64 = 12 * 3600;
/// `last_seen_at` is written at most this often per session.
const TOUCH_SECS: i64 = 60;

/// A fresh session token (32 random bytes, base64url).
fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// The stored form of a token.
fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// The CSRF token of the session whose cookie token is `token`.
pub fn csrf_for(token: &str) -> String {
    sha256_hex(format!("trustcap-console-csrf\0{token}").as_bytes())
}

/// Starts a session for `reviewer`; returns the cookie token.
pub async fn start(db: &Db, reviewer: &Reviewer, now: i64) -> Result<String, ConsoleError> {
    let token = new_token();
    sqlx::query(
        "INSERT INTO reviewer_sessions (token_sha256, reviewer_id, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(token_hash(&token))
    .bind(reviewer.id.as_str())
    .bind(now)
    .bind(now + ABSOLUTE_SECS)
    .execute(db.pool())
    .await?;
    // Housekeeping: sessions that can no longer be used.
    sqlx::query("DELETE FROM reviewer_sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now - IDLE_SECS)
        .execute(db.pool())
        .await?;
    Ok(token)
}

/// Ends the session of `token`.
pub async fn end(db: &Db, token: &str) -> Result<(), ConsoleError> {
    sqlx::query("DELETE FROM reviewer_sessions WHERE token_sha256 = $1")
        .bind(token_hash(token))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The `Set-Cookie` value that stores `token`.
pub fn set_cookie(token: &str) -> String {
    format!("{COOKIE}={token}; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age={ABSOLUTE_SECS}")
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

/// The console cookie's token, if the request has one of plausible form.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 43 && URL_SAFE_NO_PAD.decode(v).is_ok())
}

/// A request from a signed-in reviewer.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The reviewer.
    pub reviewer: Reviewer,
    /// The cookie token (to sign out).
    pub token: String,
    /// The session's CSRF token, for forms and to check posted ones.
    pub csrf: String,
}

impl SignedIn {
    /// Checks a posted CSRF token (constant time).
    pub fn check_csrf(&self, posted: Option<&str>) -> Result<(), ConsoleError> {
        use subtle::ConstantTimeEq as _;
        let posted = posted.ok_or(ConsoleError::CsrfToken)?;
        if bool::from(posted.as_bytes().ct_eq(self.csrf.as_bytes())) { Ok(()) } else { Err(ConsoleError::CsrfToken) }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = cookie_token(&parts.headers).ok_or(ConsoleError::LoginRequired)?;
        let now = state.now();
        let row =
            sqlx::query("SELECT reviewer_id, last_seen_at, expires_at FROM reviewer_sessions WHERE token_sha256 = $1")
                .bind(token_hash(&token))
                .fetch_optional(state.db.pool())
                .await?
                .ok_or(ConsoleError::LoginRequired)?;
        let reviewer_id: String = row.try_get("reviewer_id")?;
        let last_seen: i64 = row.try_get("last_seen_at")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        if now >= expires_at || now - last_seen >= IDLE_SECS {
            end(&state.db, &token).await?;
            return Err(ConsoleError::LoginRequired);
        }
        let reviewer = accounts::find_by_id(&state.db, &reviewer_id).await?.ok_or(ConsoleError::LoginRequired)?;
        if now - last_seen >= TOUCH_SECS {
            sqlx::query("UPDATE reviewer_sessions SET last_seen_at = $1 WHERE token_sha256 = $2")
                .bind(now)
                .bind(token_hash(&token))
                .execute(state.db.pool())
                .await?;
        }
        let csrf = csrf_for(&token);
        Ok(Self { reviewer, token, csrf })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookie_round_trip() {
        let token = new_token();
        assert_eq!(token.len(), 43);
        let set = set_cookie(&token);
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/console"] {
            assert!(set.contains(part), "{set}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("other=1; {COOKIE}={token}")).unwrap());
        assert_eq!(cookie_token(&headers).as_deref(), Some(token.as_str()));
        headers.insert(header::COOKIE, HeaderValue::from_static("tc_console=short"));
        assert_eq!(cookie_token(&headers), None);
        assert_ne!(csrf_for(&token), csrf_for(&new_token()));
        assert_ne!(token_hash(&token), token);
    }
}
