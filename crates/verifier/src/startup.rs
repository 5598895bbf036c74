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
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use trustcap_protocol::{ErrorCode, TokenKey};

use crate::config::ServeArgs;
use crate::db::Db;
use crate::error::{AppError, error_response};
use crate::routes;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: Db,
    /// The client-token secret.
    pub token_key: Arc<TokenKey>,
    /// Service settings (TTLs, limits).
    pub settings: Arc<ServeArgs>,
    /// Bounds how many images are decoded at once (decoding is CPU- and memory-heavy).
    pub decode_permits: Arc<Semaphore>,
}

impl AppState {
    /// Builds the state; image decoding is limited to one task per CPU.
    pub fn new(db: Db, token_key: TokenKey, settings: ServeArgs) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            db,
            token_key: Arc::new(token_key),
            settings: Arc::new(settings),
            decode_permits: Arc::new(Semaphore::new(cpus)),
        }
    }
}

/// The CORS policy of the client API: any origin (the SDK runs on customers' pages),
/// bearer tokens only, never cookies.
fn client_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
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
        .route("/v1/sessions", post(routes::sessions::create_session))
        .route("/v1/sessions/{id}", get(routes::sessions::get_session))
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
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Router,
}

impl Application {
    /// Binds `settings.bind` (port 0 picks a free port) and builds the router over an
    /// already migrated database.
    pub async fn build(db: Db, token_key: TokenKey, settings: ServeArgs) -> std::io::Result<Self> {
        let listener = TcpListener::bind(settings.bind).await?;
        let local_addr = listener.local_addr()?;
        let router = router(AppState::new(db, token_key, settings));
        Ok(Self { listener, local_addr, router })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_with_shutdown(shutdown_signal()).await
    }

    /// Serves until `signal` completes, then finishes in-flight requests.
    pub async fn run_with_shutdown(self, signal: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(signal).await
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
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}
