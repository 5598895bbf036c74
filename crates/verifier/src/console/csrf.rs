//! Cross-site request defence for state-changing console requests, before any
//! authentication: a browser's `Sec-Fetch-Site` must say `same-origin`, and an `Origin`
//! header must name this very host (`Origin: null` passes only with
//! `Sec-Fetch-Site: same-origin`). (Session-bound CSRF tokens in every form are checked
//! by the handlers, see [`crate::console::auth::SignedIn::check_csrf`].)

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::console::error::ConsoleError;

/// True unless the headers show a request from another site.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").map(|site| site.as_bytes() == b"same-origin");
    if fetch_site == Some(false) {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    if origin.as_bytes() == b"null" {
        // Chromium sends `Origin: null` on form posts from a `Referrer-Policy: no-referrer`
        // page (as every console page is); then only `Sec-Fetch-Site` can vouch for it.
        return fetch_site == Some(true);
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    let Ok(origin) = origin.to_str() else { return false };
    let Ok(url) = url::Url::parse(origin) else { return false };
    let Some(origin_host) = url.host_str() else { return false };
    let origin_authority = match url.port() {
        Some(port) => format!("{origin_host}:{port}"),
        None => origin_host.to_owned(),
    };
    matches!(url.scheme(), "http" | "https") && origin_authority.eq_ignore_ascii_case(host)
}

/// Middleware: refuses every non-GET/HEAD request that [`same_origin`] rejects with 403
/// `cross_site_request`.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    if !safe && !same_origin(request.headers()) {
        return ConsoleError::CrossSite.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origins() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])), "non-browser clients rely on the token");
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")])));
        assert!(same_origin(&headers(&[("host", "kyc.example"), ("origin", "https://kyc.example")])));
        assert!(same_origin(&headers(&[("host", "a:1"), ("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:9999")])));
        assert!(!same_origin(&headers(&[("host", "kyc.example"), ("origin", "https://evil.example")])));
        assert!(!same_origin(&headers(&[("host", "kyc.example"), ("origin", "null")])));
        assert!(same_origin(&headers(&[("host", "a:1"), ("origin", "null"), ("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("host", "a:1"), ("origin", "null"), ("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[
            ("host", "a:1"),
            ("origin", "http://b:1"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[("host", "a:1"), ("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("host", "a:1"), ("sec-fetch-site", "same-site")])));
        assert!(!same_origin(&headers(&[("origin", "http://a:1")])));
    }
}
