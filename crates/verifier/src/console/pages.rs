//! The console's pages and form handlers: sign-in and sign-out, the queue, the case page with
//! its images, the decision forms, and the tenant settings (four-eyes). Every page is
//! rendered on the server, with every value escaped ([`html::escape`]); there is no script.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};

use crate::audit::Actor;
use crate::console::accounts::{self, Email, Role};
use crate::console::auth::{self, SignedIn};
use crate::console::cases::{self, Action, DecisionForm, Outcome};
use crate::console::error::ConsoleError;
use crate::console::html::{self, escape};
use crate::console::limiter::{self, LoginLimiter};
use crate::console::password::{self, Password};
use crate::domain::SessionId;
use crate::error::AppError;
use crate::extract::{ApiJson, TenantAuth};
use crate::startup::AppState;

/// Most sessions listed in the queue.
const QUEUE_LIMIT: i64 = 200;

/// The client's address when the server knows it (served with connect info).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// The fields of an `application/x-www-form-urlencoded` body (first value of each name).
fn form_fields(body: &[u8]) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        fields.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    fields
}

fn field<'a>(fields: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(String::as_str)
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `YYYY-MM-DD HH:MM UTC` of Unix seconds.
pub fn utc(secs: i64) -> String {
    let rem = secs.rem_euclid(86_400);
    let day = trustcap_document::mrz::Date::from_unix_days(secs.div_euclid(86_400))
        .map_or_else(|| "????-??-??".to_owned(), |d| d.iso());
    format!("{day} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

fn login_page(status: StatusCode, problem: Option<&str>) -> Response {
    let mut body = String::from("<h1>Sign in</h1>");
    if let Some(problem) = problem {
        let _ = write!(body, "<p class=\"problem\" role=\"alert\">{}</p>", escape(problem));
    }
    body.push_str(
        "<form method=\"post\" action=\"/console/login\">\
         <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required>\
         <p><button type=\"submit\">Sign in</button></p></form>",
    );
    (status, Html(html::page("Sign in", None, &body))).into_response()
}

/// `GET /console/login`.
pub async fn login_form() -> Response {
    login_page(StatusCode::OK, None)
}

/// `POST /console/login`: rate-limited per account and per client address; a wrong email and
/// a wrong password get the same answer after the same work.
pub async fn login(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<LoginLimiter>>,
    ClientIp(ip): ClientIp,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let fields = form_fields(&body);
    let now = state.now();
    let email = field(&fields, "email").and_then(Email::parse);
    let attempt = field(&fields, "password").and_then(Password::parse_attempt);
    let account_key = format!("account:{}", email.as_ref().map_or("", Email::as_str));
    // Without connect info (a router served without it) only the per-account limit applies.
    let ip_key = ip.map(|ip| format!("ip:{ip}"));
    let keys: Vec<&str> = std::iter::once(account_key.as_str()).chain(ip_key.as_deref()).collect();
    limiter.check(&keys, now).map_err(|retry_after| ConsoleError::RateLimited { retry_after })?;
    let (Some(email), Some(attempt)) = (email, attempt) else {
        return Ok(login_page(StatusCode::BAD_REQUEST, Some("Enter your email address and password.")));
    };
    let found = accounts::find_by_email(&state.db, &email).await?;
    let (reviewer, ok) = match found {
        Some((reviewer, hash)) => {
            let ok = tokio::task::spawn_blocking(move || password::verify(&attempt, &hash))
                .await
                .map_err(|e| AppError::internal(format_args!("verify task: {e}")))?;
            (Some(reviewer), ok)
        }
        None => {
            tokio::task::spawn_blocking(move || password::verify_dummy(&attempt))
                .await
                .map_err(|e| AppError::internal(format_args!("verify task: {e}")))?;
            (None, false)
        }
    };
    let Some(reviewer) = reviewer.filter(|_| ok) else {
        let locked_account = limiter.failure(&account_key, limiter::ACCOUNT, now);
        let locked_ip = ip_key.as_deref().and_then(|key| limiter.failure(key, limiter::ADDRESS, now));
        tracing::info!(code = "login_failed", "console sign-in failed");
        if let Some(retry_after) = locked_account.or(locked_ip) {
            return Err(ConsoleError::RateLimited { retry_after });
        }
        return Ok(login_page(StatusCode::UNAUTHORIZED, Some("Wrong email address or password.")));
    };
    limiter.success(&account_key);
    let token = auth::start(&state.db, &reviewer, now).await?;
    let mut tx = state.db.begin().await?;
    state
        .db
        .auditor(Actor::Reviewer(reviewer.id.as_str()))?
        .record(&mut tx, reviewer.tenant.as_str(), "reviewer.signed_in", reviewer.id.as_str(), json!({}), now)
        .await?;
    tx.commit().await?;
    Ok(with_cookie(Redirect::to("/console").into_response(), &auth::set_cookie(&token)))
}

/// `POST /console/logout`.
pub async fn logout(State(state): State<AppState>, signed: SignedIn, body: Bytes) -> Result<Response, ConsoleError> {
    let fields = form_fields(&body);
    signed.check_csrf(field(&fields, "csrf"))?;
    auth::end(&state.db, &signed.token).await?;
    Ok(with_cookie(Redirect::to("/console/login").into_response(), &auth::clear_cookie()))
}

fn frame(title: &str, signed: &SignedIn, body: &str) -> Response {
    Html(html::page(title, Some((signed.reviewer.email.as_str(), &signed.csrf)), body)).into_response()
}

/// `GET /console`: the tenant's sessions in review, oldest first.
pub async fn queue(State(state): State<AppState>, signed: SignedIn) -> Result<Response, ConsoleError> {
    let items = cases::queue(&state, signed.reviewer.tenant.as_str(), QUEUE_LIMIT).await?;
    let four_eyes = accounts::four_eyes(&state.db, signed.reviewer.tenant.as_str()).await?;
    let mut body = String::from("<h1>Cases in review</h1>");
    if four_eyes {
        body.push_str("<p class=\"notice\">Four-eyes approval is on: an approval needs two different reviewers.</p>");
    }
    if items.is_empty() {
        body.push_str("<p id=\"empty-queue\">No case is waiting for review.</p>");
    } else {
        body.push_str(
            "<table id=\"queue\"><caption>Oldest first</caption><thead><tr><th scope=\"col\">Case</th>\
             <th scope=\"col\">Reference</th><th scope=\"col\">In review since</th><th scope=\"col\">Reasons</th>\
             <th scope=\"col\">Approvals</th></tr></thead><tbody>",
        );
        for item in &items {
            let _ = write!(
                body,
                "<tr data-session=\"{id}\"><td><a href=\"/console/cases/{id}\">{id}</a></td><td>{reference}</td>\
                 <td>{since}</td><td>{reasons}</td><td>{pending}</td></tr>",
                id = escape(&item.id),
                reference = escape(item.reference.as_deref().unwrap_or("")),
                since = escape(&utc(item.since)),
                reasons = escape(&item.reasons.join(", ")),
                pending = if item.pending_approvals > 0 { "1 of 2" } else { "" },
            );
        }
        body.push_str("</tbody></table>");
    }
    Ok(frame("Queue", &signed, &body))
}

/// The `?done=` notice after a decision.
#[derive(Debug, serde::Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn status_class(outcome: &str) -> &'static str {
    match outcome {
        "passed" => "passed",
        "failed" => "failed",
        "inconclusive" => "inconclusive",
        _ => "error",
    }
}

/// `GET /console/cases/{id}`: images, every check with its explanation, the declared data,
/// earlier decisions and, while in review, the decision forms.
pub async fn case(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, ConsoleError> {
    let session = cases::session_for(&state, &signed.reviewer, &id).await?;
    let evidence = cases::evidence(&state, &session).await?;
    let captures = crate::db::list_captures(&state.db, &session.id).await?;
    let sid = escape(session.id.as_str());
    let now = state.now();
    let status = session.status_at(now);
    let mut body = format!("<h1>Case {sid}</h1>");
    let notice = match done.done.as_deref() {
        Some("pending") => Some("Your approval is recorded. Four-eyes approval: a second reviewer must approve too."),
        Some("approved") => Some("The case is approved; the customer is notified."),
        Some("declined") => Some("The case is declined; the customer is notified."),
        Some("resubmission_requested") => Some("A resubmission is requested; the customer is notified."),
        _ => None,
    };
    if let Some(notice) = notice {
        let _ = write!(body, "<p class=\"notice\" role=\"status\" id=\"notice\">{}</p>", escape(notice));
    }
    let _ = write!(
        body,
        "<dl id=\"summary\"><dt>State</dt><dd id=\"state\">{}</dd><dt>Reference</dt><dd>{}</dd><dt>Round</dt><dd>{}</dd>\
         <dt>Created</dt><dd>{}</dd><dt>Last change</dt><dd>{}</dd></dl>",
        escape(status.as_str()),
        escape(session.reference.as_deref().unwrap_or("")),
        session.round,
        escape(&utc(session.created_at)),
        escape(&utc(session.updated_at)),
    );

    body.push_str(&crate::console::compare::side_by_side(session.id.as_str(), &captures));
    body.push_str(
        "<section aria-labelledby=\"images-h\"><h2 id=\"images-h\">Images</h2><div class=\"media\" id=\"images\">",
    );
    for capture in captures.iter().rev() {
        for (position, image) in capture.images.iter().enumerate() {
            let label = format!(
                "{} · {} (round {}, {}×{})",
                capture.step, image.name, capture.round, image.width, image.height
            );
            let _ = write!(
                body,
                "<figure><img src=\"/console/cases/{sid}/images/{cap}/{position}\" alt=\"Captured image {label}\" \
                 width=\"{w}\" height=\"{h}\"><figcaption>Captured: {label}</figcaption></figure>",
                cap = escape(&capture.id),
                label = escape(&label),
                w = image.width,
                h = image.height,
            );
        }
    }
    for artifact in &evidence.artifacts {
        let label = format!("{} · {} (round {})", artifact.check, artifact.name, artifact.round);
        let _ = write!(
            body,
            "<figure><img src=\"/console/cases/{sid}/artifacts/{round}/{check}/{name}\" alt=\"Check image {label}\">\
             <figcaption>From the check: {label}</figcaption></figure>",
            round = artifact.round,
            check = escape(&artifact.check),
            name = escape(&artifact.name),
            label = escape(&label),
        );
    }
    if captures.is_empty() && evidence.artifacts.is_empty() {
        body.push_str("<p>No images.</p>");
    }
    body.push_str("</div></section>");

    body.push_str(
        "<section aria-labelledby=\"checks-h\"><h2 id=\"checks-h\">Checks</h2><div class=\"checks\" id=\"checks\">",
    );
    for check in &evidence.checks {
        let _ = write!(
            body,
            "<article class=\"check\" data-check=\"{name}\"><h3>{name}</h3><dl><dt>Result</dt>\
             <dd class=\"{class}\">{outcome}</dd><dt>Score</dt><dd>{score}</dd><dt>Round</dt><dd>{round}</dd>\
             <dt>Version</dt><dd>{version}</dd></dl>",
            name = escape(&check.name),
            class = status_class(&check.outcome),
            outcome = escape(&check.outcome),
            score = check.score.map_or_else(|| "none".to_owned(), |s| format!("{s:.3}")),
            round = check.round,
            version = escape(&check.version),
        );
        if let Some(reasons) = check.details["reasons"].as_array().filter(|r| !r.is_empty()) {
            body.push_str("<h4>Reasons</h4><ul>");
            for reason in reasons {
                let _ = write!(
                    body,
                    "<li><code>{}</code>: {}</li>",
                    escape(reason["code"].as_str().unwrap_or("")),
                    escape(reason["message"].as_str().unwrap_or(""))
                );
            }
            body.push_str("</ul>");
        }
        if let Some(error) = check.details["error"].as_str() {
            let _ = write!(body, "<p class=\"error\">Could not run: {}</p>", escape(error));
        }
        if check.details.get("details").is_some_and(|d| !d.is_null()) {
            let _ = write!(body, "<h4>Details</h4>{}", html::json_value(&check.details["details"]));
        }
        body.push_str("</article>");
    }
    if evidence.checks.is_empty() {
        body.push_str("<p>No check results.</p>");
    }
    body.push_str("</div></section>");

    body.push_str("<section aria-labelledby=\"declared-h\"><h2 id=\"declared-h\">Declared by the applicant</h2><div id=\"declared\">");
    let applicant: Value =
        evidence.applicant.as_deref().and_then(|a| serde_json::from_str(a).ok()).unwrap_or(Value::Null);
    if applicant.is_null() {
        body.push_str("<p>Nothing declared.</p>");
    } else {
        body.push_str(&html::json_value(&applicant));
    }
    body.push_str("</div></section>");

    if !evidence.decisions.is_empty() {
        body.push_str(
            "<section aria-labelledby=\"auto-h\"><h2 id=\"auto-h\">Automatic decisions</h2><table><thead><tr>\
             <th scope=\"col\">Round</th><th scope=\"col\">Decision</th><th scope=\"col\">Trust score</th>\
             <th scope=\"col\">Reasons</th></tr></thead><tbody>",
        );
        for (round, state_name, trust, reasons) in &evidence.decisions {
            let _ = write!(
                body,
                "<tr><td>{round}</td><td>{}</td><td>{trust:.3}</td><td>{}</td></tr>",
                escape(state_name),
                html::json_value(reasons)
            );
        }
        body.push_str("</tbody></table></section>");
    }
    if !evidence.actions.is_empty() {
        body.push_str(
            "<section aria-labelledby=\"actions-h\"><h2 id=\"actions-h\">Reviewer actions</h2><table id=\"history\"><thead><tr>\
             <th scope=\"col\">When</th><th scope=\"col\">Round</th><th scope=\"col\">Reviewer</th><th scope=\"col\">Action</th>\
             <th scope=\"col\">Reason</th><th scope=\"col\">Note</th></tr></thead><tbody>",
        );
        for a in &evidence.actions {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&utc(a.at)),
                a.round,
                escape(&a.reviewer_id),
                escape(&a.action),
                escape(&a.reason),
                escape(&a.note)
            );
        }
        body.push_str("</tbody></table></section>");
    }

    if status == crate::domain::SessionStatus::Review {
        body.push_str("<section aria-labelledby=\"decide-h\"><h2 id=\"decide-h\">Decide</h2><div class=\"actions\">");
        for (action, title) in [
            (Action::Approve, "Approve"),
            (Action::Decline, "Decline"),
            (Action::RequestResubmission, "Request resubmission"),
        ] {
            let a = action.as_str();
            let _ = write!(
                body,
                "<form method=\"post\" action=\"/console/cases/{sid}/decision\" id=\"form-{a}\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"action\" value=\"{a}\">\
                 <label for=\"reason-{a}\">Reason</label><select id=\"reason-{a}\" name=\"reason\" required>\
                 <option value=\"\">Choose a reason</option>",
                csrf = escape(&signed.csrf),
            );
            for (code, label) in action.reasons() {
                let _ = write!(body, "<option value=\"{}\">{}</option>", escape(code), escape(label));
            }
            let _ = write!(
                body,
                "</select><label for=\"note-{a}\">Note (required for “Other”)</label>\
                 <textarea id=\"note-{a}\" name=\"note\" rows=\"3\" maxlength=\"2000\"></textarea>\
                 <p><button type=\"submit\" id=\"submit-{a}\">{title}</button></p></form>"
            );
        }
        body.push_str("</div></section>");
    }
    Ok(frame(&format!("Case {}", session.id), &signed, &body))
}

/// `POST /console/cases/{id}/decision`.
pub async fn decision(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let fields = form_fields(&body);
    signed.check_csrf(field(&fields, "csrf"))?;
    let session = SessionId::parse(&id).ok_or(ConsoleError::NotFound)?;
    let form = DecisionForm::parse(field(&fields, "action"), field(&fields, "reason"), field(&fields, "note"))?;
    let outcome = cases::decide(&state, &signed.reviewer, &session, &form).await?;
    let done = match outcome {
        Outcome::AwaitingSecondApproval => "pending",
        Outcome::Decided(s) => s.as_str(),
    };
    Ok(Redirect::to(&format!("/console/cases/{}?done={done}", session.as_str())).into_response())
}

fn image_response(bytes: Vec<u8>, content_type: &str) -> Response {
    let content_type = match content_type {
        "image/jpeg" | "image/png" | "image/webp" => content_type,
        _ => "application/octet-stream",
    };
    let mut response = bytes.into_response();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    response.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    response
}

/// `GET /console/cases/{id}/images/{capture}/{position}`: a captured image.
pub async fn capture_image(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((id, capture, position)): Path<(String, String, i64)>,
) -> Result<Response, ConsoleError> {
    let session = cases::session_for(&state, &signed.reviewer, &id).await?;
    let (bytes, content_type) = cases::capture_image(&state, &session, &capture, position).await?;
    Ok(image_response(bytes, &content_type))
}

/// `GET /console/cases/{id}/artifacts/{round}/{check}/{name}`: a check's image (face chip).
pub async fn artifact(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((id, round, check, name)): Path<(String, i64, String, String)>,
) -> Result<Response, ConsoleError> {
    let session = cases::session_for(&state, &signed.reviewer, &id).await?;
    let (bytes, content_type) = cases::artifact(&state, &session, round, &check, &name).await?;
    Ok(image_response(bytes, &content_type))
}

/// `GET /console/settings`: the tenant's console settings; admins can change them.
pub async fn settings(State(state): State<AppState>, signed: SignedIn) -> Result<Response, ConsoleError> {
    let on = accounts::four_eyes(&state.db, signed.reviewer.tenant.as_str()).await?;
    let mut body = format!(
        "<h1>Settings</h1><dl><dt>Four-eyes approval</dt><dd id=\"four-eyes\">{}</dd><dt>Your role</dt><dd>{}</dd></dl>",
        if on { "on" } else { "off" },
        signed.reviewer.role.as_str()
    );
    if signed.reviewer.role == Role::Admin {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/console/settings\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"four_eyes\" value=\"{}\"><button type=\"submit\" id=\"toggle-four-eyes\">{}</button></form>",
            escape(&signed.csrf),
            if on { "off" } else { "on" },
            if on { "Turn four-eyes approval off" } else { "Turn four-eyes approval on" }
        );
    } else {
        body.push_str("<p>Only an admin can change these settings.</p>");
    }
    Ok(frame("Settings", &signed, &body))
}

/// `POST /console/settings` (admins): turns four-eyes approval on or off.
pub async fn save_settings(
    State(state): State<AppState>,
    signed: SignedIn,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let fields = form_fields(&body);
    signed.check_csrf(field(&fields, "csrf"))?;
    if signed.reviewer.role != Role::Admin {
        return Err(ConsoleError::Forbidden);
    }
    let on = match field(&fields, "four_eyes") {
        Some("on") => true,
        Some("off") => false,
        _ => {
            return Err(ConsoleError::BadRequest {
                code: "four_eyes_invalid",
                message: "four_eyes must be on or off".into(),
            });
        }
    };
    let actor = Actor::Reviewer(signed.reviewer.id.as_str());
    accounts::set_four_eyes(&state.db, actor, signed.reviewer.tenant.as_str(), on, state.now()).await?;
    Ok(Redirect::to("/console/settings").into_response())
}

/// `GET /console/static/console.css`.
pub async fn stylesheet() -> Response {
    let mut response = html::STYLESHEET.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    response
}

/// `GET /v1/review/settings` (API key): the tenant's console settings.
pub async fn api_get_settings(State(state): State<AppState>, auth: TenantAuth) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({"four_eyes": accounts::four_eyes(&state.db, auth.tenant.as_str()).await?})))
}

/// `PUT /v1/review/settings` (API key) `{"four_eyes": bool}`: changes them (audited, actor `api`).
pub async fn api_put_settings(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let on = body
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("four_eyes"))
        .and_then(Value::as_bool)
        .ok_or_else(|| AppError::InvalidRequest("the body must be {\"four_eyes\": true|false}".into()))?;
    accounts::set_four_eyes(&state.db, Actor::Api, auth.tenant.as_str(), on, state.now()).await?;
    Ok(Json(json!({"four_eyes": on})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_forms() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        let f = form_fields(b"a=1&b=x%20y&a=2&c");
        assert_eq!(f.get("a").map(String::as_str), Some("1"));
        assert_eq!(f.get("b").map(String::as_str), Some("x y"));
        assert_eq!(f.get("c").map(String::as_str), Some(""));
    }
}
