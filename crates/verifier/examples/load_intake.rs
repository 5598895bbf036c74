//! Load generator for `cargo xtask bench intake`: a verifier on loopback (in this
//! process, over SQLite in a temporary directory or over `--postgres URL`), then N
//! concurrent simulated SDKs, each creating a session, registering a key, fetching a
//! nonce and uploading one signed 640x360 JPEG. Reports intake throughput (verified,
//! stored submissions per second) and upload latency percentiles; the last line is JSON.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use trustcap_protocol::{CaptureSigningKey, DeviceInfo, ImagePart, ManifestDraft, SdkInfo, Step, seal};
use trustcap_verifier::db;
use trustcap_verifier::{Application, ServeArgs, load_or_create_secret};

const W: u32 = 640;
const H: u32 = 360;

struct Options {
    sessions: usize,
    postgres: Option<String>,
    workers: u64,
}

fn parse() -> Result<Options, String> {
    let mut o = Options { sessions: 500, postgres: None, workers: 0 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sessions" => o.sessions = args.next().and_then(|v| v.parse().ok()).ok_or("--sessions N")?,
            "--postgres" => o.postgres = Some(args.next().ok_or("--postgres URL")?),
            "--workers" => o.workers = args.next().and_then(|v| v.parse().ok()).ok_or("--workers N")?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

fn jpeg() -> Vec<u8> {
    let mut rgba = trustcap_vision::synth::document_scene(W, H, 11);
    trustcap_vision::synth::add_noise_rgba(&mut rgba, 7, 2);
    let image = image::RgbaImage::from_raw(W, H, rgba).unwrap_or_default();
    let mut out = std::io::Cursor::new(Vec::new());
    let _ = image::DynamicImage::ImageRgba8(image).to_rgb8().write_to(&mut out, image::ImageFormat::Jpeg);
    out.into_inner()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn one(http: &reqwest::Client, base: &str, api_key: &str, image: &[u8], seed: u8) -> Result<Duration, String> {
    let err = |e: reqwest::Error| e.to_string();
    let created: Value = http
        .post(format!("{base}/v1/sessions"))
        .bearer_auth(api_key)
        .json(&json!({"steps": ["document_front"]}))
        .send()
        .await
        .map_err(err)?
        .json()
        .await
        .map_err(err)?;
    let sid = created["session_id"].as_str().ok_or("no session")?.to_owned();
    let token = created["client_token"].as_str().ok_or("no token")?.to_owned();
    let key = CaptureSigningKey::from_seed([seed; 32]);
    let resp = http
        .post(format!("{base}/v1/client/key"))
        .bearer_auth(&token)
        .json(&json!({"public_key": key.public_key().to_base64()}))
        .send()
        .await
        .map_err(err)?;
    if !resp.status().is_success() {
        return Err(format!("key: {}", resp.status()));
    }
    let nonce: Value = http
        .post(format!("{base}/v1/client/nonce"))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(err)?
        .json()
        .await
        .map_err(err)?;
    let draft = ManifestDraft {
        session_id: sid,
        nonce: nonce["nonce"].as_str().ok_or("no nonce")?.to_owned(),
        step: Step::DocumentFront,
        captured_at_ms: 1_764_000_000_000,
        sdk: SdkInfo { name: "load".into(), version: "0".into() },
        device: DeviceInfo { user_agent: "load".into(), camera_label: "synthetic".into(), frames_analyzed: 8 },
        quality: Default::default(),
    };
    let part = ImagePart { name: "document_front", content_type: "image/jpeg", width: W, height: H, bytes: image };
    let body = seal(draft, &[part], &key).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let resp = http
        .post(format!("{base}/v1/client/captures"))
        .bearer_auth(&token)
        .header("content-type", trustcap_protocol::CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .map_err(err)?;
    let status = resp.status();
    let _ = resp.bytes().await;
    if status.as_u16() != 201 {
        return Err(format!("upload: {status}"));
    }
    Ok(started.elapsed())
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let o = parse()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (url, backend) = match &o.postgres {
        Some(u) => (u.clone(), "postgres"),
        None => (format!("sqlite://{}", dir.path().join("bench.db").display()), "sqlite"),
    };
    let secret = load_or_create_secret(&dir.path().join("secret.key")).map_err(|e| e.to_string())?;
    let pool = db::connect(&url).await.map_err(|e| e.to_string())?.with_audit_key(secret.audit_key());
    db::migrate(&pool).await.map_err(|e| e.to_string())?;
    let tenant = db::create_tenant(&pool, "bench", 0).await.map_err(|e| e.to_string())?;
    let api_key = db::create_api_key(&pool, &tenant, 0).await.map_err(|e| e.to_string())?.expose_secret().to_owned();
    let settings = ServeArgs {
        bind: "127.0.0.1:0".parse().map_err(|_| "addr")?,
        workers: o.workers,
        image_store: Some(format!("file://{}", dir.path().join("images").display())),
        ..ServeArgs::default()
    };
    // The capture checks only: this measures intake, not the model-backed checks.
    let clock = std::sync::Arc::new(trustcap_verifier::clock::SystemClock);
    let registry = trustcap_verifier::checks::CheckRegistry::builtin();
    let app =
        Application::build_with(pool.clone(), secret, settings, clock, registry).await.map_err(|e| e.to_string())?;
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_with_shutdown(std::future::pending()));

    let image = std::sync::Arc::new(jpeg());
    let http = reqwest::Client::builder().pool_max_idle_per_host(1024).build().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..o.sessions {
        let (http, base, key, image) = (http.clone(), base.clone(), api_key.clone(), image.clone());
        tasks.spawn(async move { one(&http, &base, &key, &image, (i % 251) as u8).await });
    }
    let mut latencies = Vec::with_capacity(o.sessions);
    let mut failures = 0usize;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(d)) => latencies.push(d.as_secs_f64() * 1000.0),
            Ok(Err(e)) => {
                failures += 1;
                if failures <= 3 {
                    eprintln!("failure: {e}");
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM captures").fetch_one(pool.pool()).await.map_err(|e| e.to_string())?;
    latencies.sort_by(f64::total_cmp);
    let throughput = stored as f64 / wall;
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    println!("intake load: {} concurrent sessions against {backend} (pipeline workers: {})", o.sessions, o.workers);
    println!(
        "  stored submissions: {stored} ({failures} failures) in {wall:.2} s (whole flow: session, key, nonce, upload)"
    );
    println!("  throughput: {throughput:.1} verified, stored submissions/s");
    println!("  upload latency: p50 {p50:.1} ms, p99 {p99:.1} ms");
    println!(
        "{}",
        json!({"backend": backend, "sessions": o.sessions, "stored": stored, "failures": failures,
               "submissions_per_sec": (throughput * 10.0).round() / 10.0,
               "upload_p50_ms": (p50 * 10.0).round() / 10.0, "upload_p99_ms": (p99 * 10.0).round() / 10.0,
               "workers": o.workers})
    );
    Ok(())
}
