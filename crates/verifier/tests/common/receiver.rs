//! A real HTTP webhook receiver on 127.0.0.1:0 that records every request and can be
//! told to fail (500) or hang (longer than the verifier's timeout).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

pub const OK: u8 = 0;
pub const FAIL_500: u8 = 1;
pub const HANG: u8 = 2;

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// What the receiver answered (200 only when it accepted the event).
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    pub mode: Arc<AtomicU8>,
}

impl Receiver {
    pub async fn start() -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(AtomicU8::new(OK));
        let state = (got.clone(), mode.clone());
        let app = axum::Router::new().route("/hook", post(handle)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, got, mode }
    }

    pub fn set_mode(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    /// Requests answered 200, in arrival order.
    pub fn accepted(&self) -> Vec<Received> {
        self.got.lock().unwrap().iter().filter(|r| r.answered == 200).cloned().collect()
    }

    pub fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `pred` holds over the accepted requests, for at most `secs`.
    pub async fn wait_for(&self, secs: u64, what: &str, pred: impl Fn(&[Received]) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while !pred(&self.accepted()) {
            assert!(
                std::time::Instant::now() < deadline,
                "receiver: {what} not seen in {secs}s; got {:?}",
                self.summary()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn summary(&self) -> Vec<(u16, String)> {
        self.all()
            .iter()
            .map(|r| (r.answered, r.headers.get("trustcap-event-type").cloned().unwrap_or_default()))
            .collect()
    }
}

type Shared = (Arc<Mutex<Vec<Received>>>, Arc<AtomicU8>);

async fn handle(State((got, mode)): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect::<BTreeMap<_, _>>();
    let m = mode.load(Ordering::SeqCst);
    let answered = match m {
        FAIL_500 => 500,
        HANG => 599,
        _ => 200,
    };
    got.lock().unwrap().push(Received { headers, body: body.to_vec(), answered });
    match m {
        FAIL_500 => StatusCode::INTERNAL_SERVER_ERROR,
        HANG => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK
        }
        _ => StatusCode::OK,
    }
}
