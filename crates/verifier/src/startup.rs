//! Building the router and running the server.

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use trustcap_protocol::{ErrorCode, TokenKey};

use crate::checks::CheckRegistry;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{ServeArgs, ServiceSecret};
use crate::db::{Backend, Db};
use crate::error::{AppError, error_response};
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::routes;
use crate::screening::ScreeningLists;
use crate::storage::ImageStore;
use crate::webhook::deliver::{Deliverer, DelivererConfig};
use crate::webhook::secret::SecretBox;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: Db,
    /// The client-token secret.
    pub token_key: Arc<TokenKey>,
    /// Encrypts webhook secrets at rest.
    pub secrets: SecretBox,
    /// Service settings (TTLs, limits).
    pub settings: Arc<ServeArgs>,
    /// Bounds how many images are decoded at once (decoding is CPU- and memory-heavy).
    pub decode_permits: Arc<Semaphore>,
    /// The service's clock.
    pub clock: SharedClock,
    /// Where image bytes go.
    pub store: ImageStore,
    /// Wakes this process's pipeline workers when a job is queued.
    pub wake: Arc<tokio::sync::Notify>,
    /// The screening lists (`None`: screening is not configured).
    pub screening: Option<Arc<ScreeningLists>>,
    /// Signs reusable credentials for approved applicants.
    pub issuer: Arc<crate::credentials::Issuer>,
}

/// The checks and engines a server runs with.
#[derive(Debug, Clone, Default)]
pub struct Services {
    /// The pipeline's checks.
    pub registry: CheckRegistry,
    /// The screening lists for the endpoint (the `screening` check holds its own handle).
    pub screening: Option<Arc<ScreeningLists>>,
}

impl Services {
    /// The built-in capture checks only (no models, no lists).
    pub fn builtin() -> Self {
        Self { registry: CheckRegistry::builtin(), screening: None }
    }

    /// Everything the settings allow: the capture checks; `face_match`, `liveness` and `document` with
    /// the models of `settings.model_dir` (or the default model folder) — registered even when
    /// the models are missing, so sessions that need them go to review rather than pass;
    /// `screening` over the configured or recorded lists.
    pub async fn from_settings(db: &Db, settings: &ServeArgs) -> std::io::Result<Self> {
        const ALL: [&str; 7] =
            ["capture_quality", "capture_integrity", "face_match", "liveness", "screening", "document", "address"];
        let wanted: Vec<String> = settings.checks.clone().unwrap_or_else(|| ALL.map(String::from).to_vec());
        if let Some(bad) = wanted.iter().find(|w| !ALL.contains(&w.as_str())) {
            return Err(std::io::Error::other(format!("unknown check {bad:?} in --checks; known: {}", ALL.join(", "))));
        }
        let on = |name: &str| wanted.iter().any(|w| w == name);
        let model_dir = settings.model_dir.clone().unwrap_or_else(trustcap_vision::model_cache::default_model_dir);
        let mut registry = CheckRegistry::new();
        if on("capture_quality") {
            registry.register(Arc::new(crate::checks::quality::CaptureQuality));
        }
        if on("capture_integrity") {
            registry.register(Arc::new(crate::checks::integrity::CaptureIntegrity));
        }
        if on("face_match") {
            let dir = model_dir.clone();
            let face = tokio::task::spawn_blocking(move || crate::checks::face::FaceMatchCheck::load(&dir))
                .await
                .map_err(std::io::Error::other)?;
            registry.register(Arc::new(face));
        }
        if on("liveness") {
            let dir = model_dir.clone();
            let liveness = tokio::task::spawn_blocking(move || crate::checks::liveness::LivenessCheck::load(&dir))
                .await
                .map_err(std::io::Error::other)?;
            registry.register(Arc::new(liveness));
        }
        // The endpoint screens whenever lists exist, whether or not the pipeline check runs.
        let lists = ScreeningLists::start(db.clone(), settings.screening_lists.as_deref())
            .await
            .map_err(std::io::Error::other)?;
        let lists = Arc::new(lists);
        if on("screening") {
            registry.register(Arc::new(crate::checks::screening::ScreeningCheck::new(lists.clone())));
        }
        if on("document") || on("address") {
            let dir = model_dir;
            let engine = tokio::task::spawn_blocking(move || crate::checks::document::DocumentEngine::load(&dir))
                .await
                .map_err(std::io::Error::other)?;
            if on("document") {
                registry.register(Arc::new(engine.clone().with_db(db.clone())));
            }
            if on("address") {
                registry.register(Arc::new(crate::checks::address::AddressCheck::new(engine)));
            }
        }
        Ok(Self { registry, screening: Some(lists) })
    }
}

impl AppState {
    /// Builds the state; image decoding is limited to one task per CPU.
    pub fn new(db: Db, secret: &ServiceSecret, settings: ServeArgs, clock: SharedClock, store: ImageStore) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let issuer_url = settings.public_url.clone().unwrap_or_else(|| format!("http://{}", settings.bind));
        Self {
            issuer: Arc::new(crate::credentials::Issuer::new(secret.credential_seed(), issuer_url)),
            db,
            token_key: Arc::new(secret.token_key()),
            secrets: SecretBox::new(secret.webhook_encryption_key()),
            settings: Arc::new(settings),
            decode_permits: Arc::new(Semaphore::new(cpus)),
            clock,
            store,
            wake: Arc::new(tokio::sync::Notify::new()),
            screening: None,
        }
    }

    /// The current time of the service's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// The CORS policy of the client API: any origin (the SDK runs on customers' pages),
/// bearer tokens only, never cookies; `Retry-After` readable by the SDK.
fn client_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        // The SDK's retries honour it.
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!(code = "internal", "handler panicked");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
}

async fn not_found() -> AppError {
    AppError::NotFound("no such route")
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

/// Defence in depth: any error response that is not already JSON (from a framework
/// layer rather than a handler) is replaced by the JSON error form.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::PayloadTooLarge.as_str(), "the body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (ErrorCode::UnsupportedMediaType.as_str(), "unsupported content type"),
        s if s.is_client_error() => ("invalid_request", "the request was refused"),
        _ => ("internal", "internal error"),
    };
    let mut replaced = error_response(status, code, message);
    if let Some(allow) = response.headers().get(header::ALLOW) {
        replaced.headers_mut().insert(header::ALLOW, allow.clone());
    }
    replaced
}

/// The full HTTP API with its middleware.
pub fn router(state: AppState) -> Router {
    let console = crate::console::router(state.clone());
    let timeout = std::time::Duration::from_secs(state.settings.request_timeout_secs);
    let client = Router::new()
        .route("/key", post(routes::client::register_key))
        .route("/nonce", post(routes::client::issue_nonce))
        .route(
            "/captures",
            // The handler enforces its own limit and answers 413 as JSON.
            post(routes::client::upload_capture).layer(DefaultBodyLimit::disable()),
        )
        .route("/session", get(routes::client::session_status))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(client_cors());

    Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(routes::metrics))
        .route("/openapi.json", get(routes::openapi_json))
        .route("/v1/sessions", post(routes::sessions::create_session))
        .route("/v1/sessions/{id}", get(routes::sessions::get_session).delete(routes::erasure::erase_session))
        .route("/v1/retention", get(routes::erasure::get_retention).put(routes::erasure::put_retention))
        .route("/v1/sessions/{id}/events", get(routes::webhooks::session_events))
        .route("/v1/events/{id}/redeliver", post(routes::webhooks::redeliver))
        .route("/v1/rules", get(routes::rules::get_rules).put(routes::rules::put_rules))
        .route("/v1/screenings", post(routes::screenings::screen))
        .route("/v1/webhook", get(routes::webhooks::get_endpoint).put(routes::webhooks::put_endpoint))
        .route("/v1/webhook/rotate", post(routes::webhooks::rotate_secret))
        .route("/v1/audit/verify", get(routes::audit::verify_chain))
        .route("/v1/sessions/{id}/credential", post(routes::credentials::issue))
        .route("/v1/credentials/jwks", get(routes::credentials::jwks))
        .route("/v1/credentials/verify", post(routes::credentials::verify))
        .route("/.well-known/jwt-vc-issuer", get(routes::credentials::issuer_metadata))
        .method_not_allowed_fallback(method_not_allowed)
        .nest("/v1/client", client)
        .fallback(not_found)
        .with_state(state)
        // A slow client (or a slow decode) cannot hold a connection for ever.
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(middleware::from_fn(json_errors))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                session_id = tracing::field::Empty,
                code = tracing::field::Empty,
            )
        }))
        .layer(axum::middleware::map_response(|mut response: Response| async move {
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
            response
        }))
        // The review console answers with HTML and its own headers (outside the JSON layers).
        .merge(console)
}

/// A bound, ready-to-run server with its background workers.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Router,
    pipeline: Pipeline,
    deliverer: Deliverer,
    workers: u64,
}

impl Application {
    /// Binds `settings.bind` (port 0 picks a free port) and builds the router and workers
    /// over an already migrated database, with the system clock and the built-in checks.
    /// Images go to `settings.image_store`, or the database when unset.
    pub async fn build(db: Db, secret: ServiceSecret, settings: ServeArgs) -> std::io::Result<Self> {
        let services = Services::from_settings(&db, &settings).await?;
        Self::build_full(db, secret, settings, Arc::new(SystemClock), services).await
    }

    /// [`Application::build`] with an explicit clock and check registry.
    pub async fn build_with(
        db: Db,
        secret: ServiceSecret,
        settings: ServeArgs,
        clock: SharedClock,
        registry: CheckRegistry,
    ) -> std::io::Result<Self> {
        Self::build_full(db, secret, settings, clock, Services { registry, screening: None }).await
    }

    /// [`Application::build`] with an explicit clock, checks and screening lists.
    pub async fn build_full(
        db: Db,
        secret: ServiceSecret,
        settings: ServeArgs,
        clock: SharedClock,
        services: Services,
    ) -> std::io::Result<Self> {
        let Services { registry, screening } = services;
        // Every change the service writes is sealed into the audit trail with this key.
        let db = db.with_audit_key(secret.audit_key());
        // Data keys are wrapped under the configured KEKs; a handle without them (tests,
        // embedders) gets the development KEK derived from the secret.
        let db = if db.has_keyring() {
            db
        } else {
            let ring = secret.keyring(None, false).map_err(std::io::Error::other)?;
            db.with_keyring(ring)
        };
        let store = match &settings.image_store {
            Some(url) => ImageStore::from_url(url).map_err(std::io::Error::other)?,
            None => ImageStore::in_database(),
        };
        let listener = TcpListener::bind(settings.bind).await?;
        let local_addr = listener.local_addr()?;
        if settings.metrics {
            // Installed before any work, so no early measurement is lost.
            let _ = routes::prometheus();
        }
        let poll = Duration::from_millis(settings.poll_ms);
        let workers = settings.workers;
        let pipeline_config = PipelineConfig {
            lease_secs: i64::try_from(settings.job_lease_secs).unwrap_or(120),
            poll,
            ..PipelineConfig::default()
        };
        let deliverer_config = DelivererConfig {
            timeout: Duration::from_secs(settings.webhook_timeout_secs),
            poll,
            batch: 32,
            policy: settings.webhook_policy(),
        };
        let public_url = settings.public_url.clone().unwrap_or_else(|| format!("http://{local_addr}"));
        let mut state = AppState::new(db.clone(), &secret, settings, clock.clone(), store.clone());
        state.screening = screening;
        state.issuer = Arc::new(crate::credentials::Issuer::new(secret.credential_seed(), public_url));
        let mut pipeline = Pipeline::new(db.clone(), clock.clone(), store, registry, pipeline_config);
        pipeline.wake = state.wake.clone();
        let deliverer = Deliverer::new(db.clone(), clock, state.secrets.clone(), deliverer_config);
        if db.backend() == Backend::Sqlite {
            tracing::debug!("queue on SQLite: one writer at a time");
        }
        let router = router(state);
        Ok(Self { listener, local_addr, router, pipeline, deliverer, workers })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests and jobs.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_with_shutdown(shutdown_signal()).await
    }

    /// Serves until `signal` completes, then stops accepting requests, finishes the
    /// in-flight ones, and lets the workers finish their current job.
    pub async fn run_with_shutdown(self, signal: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        let worker_base = format!("{}-{}", std::process::id(), crate::domain::JobId::generate());
        for n in 0..self.workers {
            let pipeline = self.pipeline.clone();
            let rx = stop_rx.clone();
            let name = format!("{worker_base}-{n}");
            tasks.spawn(async move { pipeline.run(name, rx).await });
        }
        if self.workers > 0 {
            let deliverer = self.deliverer.clone();
            let rx = stop_rx.clone();
            tasks.spawn(async move { deliverer.run(rx).await });
        }
        let served = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(signal)
            .await;
        let _ = stop_tx.send(true);
        while tasks.join_next().await.is_some() {}
        served
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Logs to stderr; `RUST_LOG` overrides the default filter (`info`, `sqlx=warn`).
///
/// With `TRUSTCAP_LOG_FORMAT=json` every line is one JSON object (structured logs).
/// Log fields carry ids, codes and states only, never applicant data, tokens or keys.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    if std::env::var("TRUSTCAP_LOG_FORMAT").is_ok_and(|f| f == "json") {
        let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).try_init();
        return;
    }
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}
