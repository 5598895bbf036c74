//! The client API used by the browser SDK (client-token authentication).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use trustcap_protocol::{CapturePublicKey, ErrorCode, Expectations, ImageEntry, Step, verify_capture};

use crate::db::{self, KeyRegistration, NewCapture, NewImage};
use crate::domain::{CaptureId, Nonce};
use crate::error::AppError;
use crate::extract::{ApiJson, ClientAuth, read_body};
use crate::intake;
use crate::startup::AppState;
use crate::storage::ImageStore;

/// Body of `POST /v1/client/key`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterKeyRequest {
    /// The Ed25519 public key, base64url without padding (32 bytes).
    pub public_key: String,
}

/// `POST /v1/client/key`: registers the session's capture key (once; idempotent).
pub async fn register_key(
    State(state): State<AppState>,
    auth: ClientAuth,
    ApiJson(body): ApiJson<RegisterKeyRequest>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let key = CapturePublicKey::from_base64(&body.public_key)?;
    let encoded = key.to_base64();
    let key_id = key.key_id();
    let ok = |status| Ok((status, Json(json!({"key_id": key_id}))));
    match auth.session.public_key.as_deref() {
        Some(existing) if existing == encoded => return ok(StatusCode::OK),
        Some(_) => return Err(AppError::protocol(ErrorCode::KeyAlreadyRegistered, "a different key is registered")),
        None => {}
    }
    let now = state.now();
    let status = auth.session.status_at(now);
    if !status.is_capturable() {
        return Err(AppError::SessionNotCapturable(status.as_str()));
    }
    match db::register_key(&state.db, &auth.session.id, &encoded, &key_id, now).await? {
        KeyRegistration::Created => {
            tracing::info!(session_id = %auth.session.id, "capture key registered");
            ok(StatusCode::CREATED)
        }
        KeyRegistration::AlreadyRegistered => ok(StatusCode::OK),
        KeyRegistration::Conflict => {
            Err(AppError::protocol(ErrorCode::KeyAlreadyRegistered, "a different key is registered"))
        }
    }
}

/// `POST /v1/client/nonce`: issues a single-use upload nonce.
pub async fn issue_nonce(
    State(state): State<AppState>,
    auth: ClientAuth,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let now = state.now();
    let status = auth.session.status_at(now);
    if !status.is_capturable() {
        return Err(AppError::SessionNotCapturable(status.as_str()));
    }
    let ttl = i64::try_from(state.settings.nonce_ttl_secs).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl).min(auth.session.expires_at);
    let nonce = Nonce::generate();
    db::insert_nonce(&state.db, &nonce, &auth.session.id, now, expires_at).await?;
    Ok((StatusCode::CREATED, Json(json!({"nonce": nonce.as_str(), "expires_at": expires_at}))))
}

/// `GET /v1/client/session`: what the SDK needs to know to continue.
pub async fn session_status(State(state): State<AppState>, auth: ClientAuth) -> Result<Json<Value>, AppError> {
    let captured = db::captured_steps(&state.db, &auth.session.id).await?;
    let captured: Vec<Step> = Step::ALL.into_iter().filter(|s| captured.iter().any(|c| c == s.as_str())).collect();
    Ok(Json(json!({
        "session_id": auth.session.id.as_str(),
        "status": auth.session.status_at(state.now()).capture_status().as_str(),
        "state": auth.session.status_at(state.now()).as_str(),
        "requested_steps": auth.session.requested_steps,
        "steps": auth.session.steps,
        "captured_steps": captured,
    })))
}

/// The decoded-image stage: decodes every part under limits (bounded concurrency, on a
/// blocking thread) and returns the server quality of the first image.
async fn decode_and_analyze(
    state: &AppState,
    images: Vec<(ImageEntry, Bytes, image::ImageFormat)>,
) -> Result<Value, AppError> {
    let permit = state.decode_permits.clone().acquire_owned().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let mut first = None;
        for (entry, bytes, format) in &images {
            let rgba = intake::decode_rgba(entry, bytes, *format)?;
            let quality = intake::server_quality(&rgba)
                .map_err(|e| AppError::internal(format_args!("quality analysis refused a checked image: {e}")))?;
            first.get_or_insert(quality);
        }
        Ok::<_, AppError>(first.unwrap_or(Value::Null))
    })
    .await
    .map_err(|e| AppError::internal(format_args!("image task: {e}")))?
}

/// `POST /v1/client/captures`: accepts one signed capture upload.
///
/// Check order: token and session (extractor) → content type → size → key registered →
/// [`verify_capture`] → idempotent retry (an identical, already stored payload answers
/// `200` with `"duplicate": true` and the original capture id) → image headers → nonce
/// state (cheap pre-check, so replays cost no decoding) → image decoding and quality →
/// images to the object store → one transaction that consumes the nonce, stores the
/// capture, moves the session and queues its verification. Any refusal stores nothing in
/// the database (an object-store write before a refusal leaves an unreferenced,
/// content-addressed blob at most).
pub async fn upload_capture(
    State(state): State<AppState>,
    auth: ClientAuth,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if content_type != Some(trustcap_protocol::CONTENT_TYPE) {
        return Err(AppError::protocol(
            ErrorCode::UnsupportedMediaType,
            format!("expected Content-Type: {}", trustcap_protocol::CONTENT_TYPE),
        ));
    }
    let limit = usize::try_from(state.settings.max_body_bytes).unwrap_or(usize::MAX);
    let bytes = read_body(&headers, body, limit).await?;

    let public_key = auth
        .session
        .public_key
        .as_deref()
        .ok_or_else(|| AppError::protocol(ErrorCode::KeyNotRegistered, "register a capture key first"))?;
    let public_key =
        CapturePublicKey::from_base64(public_key).map_err(|e| AppError::internal(format_args!("stored key: {e}")))?;
    let verified = verify_capture(
        &bytes,
        &Expectations {
            session_id: auth.session.id.as_str(),
            allowed_steps: &auth.claims.steps,
            public_key: &public_key,
        },
    )?;
    let manifest = &verified.manifest;
    let payload_sha256 = hex::encode(verified.payload_sha256);
    if let Some(existing) = db::find_duplicate(&state.db, &auth.session.id, &payload_sha256).await? {
        return duplicate(&state, &auth, existing).await;
    }

    let mut images = Vec::with_capacity(manifest.images.len());
    for (entry, part) in manifest.images.iter().zip(&verified.images) {
        let format = intake::check_header(entry, part)?;
        images.push((entry.clone(), bytes.slice_ref(part), format));
    }

    db::precheck_nonce(&state.db, &auth.session.id, &manifest.nonce, state.now()).await?;
    let server_quality = decode_and_analyze(&state, images).await?;

    // Images are stored sealed with the session's data key, wherever they go.
    let vault = crate::vault::keys::session_vault(&state.db, &auth.session.tenant_id, auth.session.id.as_str()).await?;
    let sealed: Vec<Vec<u8>> = manifest
        .images
        .iter()
        .zip(&verified.images)
        .map(|(entry, data)| vault.seal(crate::vault::Purpose::CaptureImage(&entry.sha256), data))
        .collect();
    let mut object_keys = Vec::with_capacity(manifest.images.len());
    for (entry, data) in manifest.images.iter().zip(&sealed) {
        let key = ImageStore::key_for(auth.session.id.as_str(), &entry.sha256);
        object_keys.push(state.store.put(&key, data).await.map_err(AppError::internal)?);
    }

    let capture_id = CaptureId::generate();
    let manifest_text = std::str::from_utf8(verified.manifest_bytes)
        .map_err(|_| AppError::protocol(ErrorCode::ManifestInvalid, "manifest is not UTF-8"))?;
    let new_images: Vec<NewImage<'_>> = manifest
        .images
        .iter()
        .zip(verified.images.iter().zip(&sealed))
        .zip(&object_keys)
        .map(|((entry, (plain, data)), key)| NewImage {
            name: &entry.name,
            content_type: &entry.content_type,
            width: entry.width,
            height: entry.height,
            sha256: &entry.sha256,
            byte_len: plain.len(),
            data,
            object_key: key.as_deref(),
        })
        .collect();
    let client_quality = serde_json::to_string(&manifest.quality).map_err(AppError::internal)?;
    let server_quality = serde_json::to_string(&server_quality).map_err(AppError::internal)?;
    let stored = db::store_capture(
        &state.db,
        &NewCapture {
            id: &capture_id,
            session: &auth.session,
            step: manifest.step,
            nonce: &manifest.nonce,
            key_id: &manifest.key_id,
            manifest: manifest_text,
            signature: &URL_SAFE_NO_PAD.encode(verified.signature),
            payload_sha256: &payload_sha256,
            client_quality: &client_quality,
            server_quality: &server_quality,
            images: &new_images,
            now: state.now(),
        },
    )
    .await;
    let status = match stored {
        Ok(status) => status,
        // A concurrent identical retry won the race for the nonce.
        Err(AppError::Protocol(e)) if e.code == ErrorCode::NonceReplayed => {
            match db::find_duplicate(&state.db, &auth.session.id, &payload_sha256).await? {
                Some(existing) => return duplicate(&state, &auth, existing).await,
                None => return Err(AppError::Protocol(e)),
            }
        }
        Err(e) => return Err(e),
    };
    if status == crate::domain::SessionStatus::Submitted {
        state.wake.notify_one();
    }
    metrics::counter!("trustcap_captures_accepted_total").increment(1);
    tracing::info!(session_id = %auth.session.id, capture_id = %capture_id, status = %status, "capture accepted");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "capture_id": capture_id.as_str(),
            "status": status.capture_status().as_str(),
            "state": status.as_str(),
            "duplicate": false,
        })),
    ))
}

/// The answer to an idempotent retry: the original capture, the session's current state.
async fn duplicate(
    state: &AppState,
    auth: &ClientAuth,
    capture_id: String,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let session = db::get_session(&state.db, &auth.session.id, &auth.session.tenant_id)
        .await?
        .ok_or(AppError::NotFound("session not found"))?;
    let status = session.status_at(state.now());
    tracing::info!(session_id = %auth.session.id, capture_id = %capture_id, "identical upload retried");
    Ok((
        StatusCode::OK,
        Json(json!({
            "capture_id": capture_id,
            "status": status.capture_status().as_str(),
            "state": status.as_str(),
            "duplicate": true,
        })),
    ))
}
