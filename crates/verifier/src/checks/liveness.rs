//! `liveness`: passive liveness recomputed on the server from the selfie's burst.
//!
//! A selfie capture may carry a short burst of frames (`selfie_frame_0..7`) and the client's liveness report
//! in its signed `quality` map ([`trustcap_protocol::burst`]). This check decodes the frames, finds the face
//! in each with BlazeFace-128, runs [`LivenessAnalyzer`] over them with the frame timestamps and the
//! camera label, adds the deployment's anti-spoofing model when one is configured
//! ([`trustcap_vision::antispoof`]), and compares the result with the client's claim:
//!
//! | outcome | reason | when |
//! |---|---|---|
//! | `inconclusive` | `liveness.no_burst` | the selfie has no burst (a photo from a file input, or an older SDK): a person decides |
//! | `inconclusive` | `liveness.bad_burst` | frames that cannot be decoded, differ in size or exceed [`MAX_FRAME_SIDE`] |
//! | `inconclusive` | `liveness.no_face` | a face in fewer than half of the frames |
//! | `inconclusive` | `liveness.too_few_frames` | fewer than [`MIN_FRAMES`] frames |
//! | `failed` | `liveness.attack_suspected` | the server's score is under the threshold |
//! | `inconclusive` | `liveness.client_mismatch` | the server passes but the client's score differs by more than [`MAX_CLIENT_GAP`] |
//! | `passed` | `liveness.live` | otherwise |
//!
//! The threshold is the tenant's `liveness.threshold` rule (default [`DEFAULT_THRESHOLD`]; not the generic
//! `thresholds` map, under which an inconclusive score of 0 would decline instead of going to review); the
//! check's score is the server's liveness score. The details carry every signal with its explanation, the client's
//! figure beside it, and the planar-motion and injection measurements.
//!
//! Models: BlazeFace-128 from the model folder; when that folder also holds [`ANTISPOOF_CONFIG_FILE`] (an
//! [`AntiSpoofConfig`] as JSON, its `model_path` relative to the folder) the anti-spoofing model is loaded
//! too. A missing detector or a configured model that fails to load leaves the check registered and every
//! run a permanent error (→ `review`), never a silent pass.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use trustcap_protocol::burst::SelfieBurst;
use trustcap_protocol::{Manifest, Step};
use trustcap_vision::Frame;
use trustcap_vision::antispoof::{AntiSpoofConfig, AntiSpoofModel};
use trustcap_vision::face::{BlazeFace, BlazeFaceVariant};
use trustcap_vision::liveness::{FaceBox, LivenessAnalyzer, LivenessConfig, LivenessReport, Signal};

use super::{Check, CheckContext, CheckError, CheckOutcome, CheckStatus, Reason};

/// Version of this check's behaviour (stored with every result).
pub const VERSION: &str = "1.0.0";
/// Liveness score needed to pass when the tenant's rules set no `liveness.threshold`.
pub const DEFAULT_THRESHOLD: f64 = 0.5;
/// Fewest burst frames for a verdict.
pub const MIN_FRAMES: usize = 6;
/// Largest side of a burst frame the server analyses.
pub const MAX_FRAME_SIDE: u32 = 1280;
/// Largest difference between the client's and the server's score before a passing burst goes to review.
pub const MAX_CLIENT_GAP: f64 = 0.3;
/// The anti-spoofing model's configuration file in the model folder.
pub const ANTISPOOF_CONFIG_FILE: &str = "antispoof.json";

/// What the check runs with.
#[derive(Debug)]
struct Engine {
    detector: Mutex<BlazeFace>,
    antispoof: Option<Mutex<AntiSpoofModel>>,
}

/// The liveness check.
#[derive(Debug, Clone)]
pub struct LivenessCheck {
    engine: Result<Arc<Engine>, String>,
}

impl LivenessCheck {
    /// A check over a loaded detector and, optionally, an anti-spoofing model.
    pub fn new(detector: BlazeFace, antispoof: Option<AntiSpoofModel>) -> Self {
        Self { engine: Ok(Arc::new(Engine { detector: Mutex::new(detector), antispoof: antispoof.map(Mutex::new) })) }
    }

    /// Loads BlazeFace-128 and, if `dir` holds [`ANTISPOOF_CONFIG_FILE`], the anti-spoofing model. When
    /// either fails, the check is still returned and every run is a permanent error (→ review).
    pub fn load(dir: &Path) -> Self {
        match Self::try_load(dir) {
            Ok(check) => check,
            Err(why) => {
                tracing::warn!(dir = %dir.display(), error = %why, "liveness models not loaded: liveness sends sessions to review");
                Self::unavailable(why)
            }
        }
    }

    fn try_load(dir: &Path) -> Result<Self, String> {
        let detector = BlazeFace::from_dir(dir, BlazeFaceVariant::Front128)
            .map_err(|e| format!("face detector not loaded: {e}"))?;
        let config_path = dir.join(ANTISPOOF_CONFIG_FILE);
        let antispoof = match std::fs::read(&config_path) {
            Ok(bytes) => {
                let config: AntiSpoofConfig =
                    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", config_path.display()))?;
                Some(AntiSpoofModel::load(config, dir).map_err(|e| e.to_string())?)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{}: {e}", config_path.display())),
        };
        Ok(Self::new(detector, antispoof))
    }

    /// A check whose models are missing (`why` is stored with each error result).
    pub fn unavailable(why: impl Into<String>) -> Self {
        Self { engine: Err(why.into()) }
    }

    /// Whether the models are loaded.
    pub fn is_available(&self) -> bool {
        self.engine.is_ok()
    }

    /// Whether an anti-spoofing model is in use.
    pub fn has_antispoof_model(&self) -> bool {
        self.engine.as_ref().is_ok_and(|e| e.antispoof.is_some())
    }
}

fn outcome(status: CheckStatus, score: f64, reasons: Vec<Reason>, details: Value) -> CheckOutcome {
    CheckOutcome { status, score, reasons, details, artifacts: Vec::new() }
}

fn inconclusive(code: &str, message: impl Into<String>, details: Value) -> CheckOutcome {
    outcome(CheckStatus::Inconclusive, 0.0, vec![Reason::new(code, message)], details)
}

/// What the server measured on a burst.
#[derive(Debug, Clone)]
pub struct ServerLiveness {
    /// The liveness analyser's report.
    pub report: LivenessReport,
    /// The anti-spoofing model's signal, if a model is configured.
    pub model_signal: Option<Signal>,
    /// Frames in which a face was found.
    pub faces_found: usize,
}

impl ServerLiveness {
    /// Every judged signal, the model's included.
    pub fn signals(&self) -> impl Iterator<Item = &Signal> {
        self.report.signals.iter().chain(self.model_signal.iter())
    }

    /// `1 − max(attack)` over the judged signals, the model's included.
    pub fn score(&self) -> f64 {
        let worst = self.signals().filter(|s| s.judged).map(|s| s.attack).fold(0.0, f64::max);
        (1.0 - worst).clamp(0.0, 1.0)
    }

    /// The judged signal with the strongest attack sign, if any is above zero.
    pub fn decisive(&self) -> Option<&Signal> {
        self.signals().filter(|s| s.judged && s.attack > 0.0).max_by(|a, b| a.attack.total_cmp(&b.attack))
    }
}

/// Turns the server's measurement and the client's claim into the outcome (pure; unit-tested).
pub fn judge(server: &ServerLiveness, burst: &SelfieBurst, threshold: f64) -> CheckOutcome {
    let score = server.score();
    let frames = server.report.frames;
    let signals: Vec<Value> = server
        .signals()
        .map(|s| {
            json!({
                "name": s.name,
                "attack": s.attack,
                "judged": s.judged,
                "explanation": s.explanation,
                "client_attack": burst.client_signals.get(s.name),
            })
        })
        .collect();
    let gap = (score - burst.client_score).abs();
    let details = json!({
        "frames": frames,
        "faces_found": server.faces_found,
        "score": score,
        "threshold": threshold,
        "client_score": burst.client_score,
        "client_gap": gap,
        "decisive": server.decisive().map(|s| s.name),
        "signals": signals,
        "planar": server.report.planar,
        "injection": server.report.injection,
        "antispoof_model": server.model_signal.is_some(),
    });
    if frames < MIN_FRAMES {
        return inconclusive(
            "liveness.too_few_frames",
            format!("{frames} frames; at least {MIN_FRAMES} are needed for a verdict"),
            details,
        );
    }
    let mismatch = || {
        Reason::new(
            "liveness.client_mismatch",
            format!("the client reported {:.2}, the server measured {score:.2}", burst.client_score),
        )
    };
    if score < threshold {
        let why = server.decisive().map_or_else(
            || "the burst scores under the threshold".to_owned(),
            |s| format!("{}: {}", s.name, s.explanation),
        );
        let mut reasons = vec![Reason::new("liveness.attack_suspected", why)];
        if gap > MAX_CLIENT_GAP {
            reasons.push(mismatch());
        }
        return outcome(CheckStatus::Failed, score, reasons, details);
    }
    if gap > MAX_CLIENT_GAP {
        return outcome(CheckStatus::Inconclusive, score, vec![mismatch()], details);
    }
    outcome(
        CheckStatus::Passed,
        score,
        vec![Reason::new("liveness.live", "the burst shows a live person in front of the camera")],
        details,
    )
}

/// The largest face of a frame, as a box.
fn best_face(detector: &Mutex<BlazeFace>, frame: &Frame<'_>) -> Result<Option<FaceBox>, CheckError> {
    let mut guard = detector.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let detections = guard.detect(frame).map_err(|e| CheckError::Permanent(format!("face detection: {e}")))?;
    Ok(detections.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())).map(|d| FaceBox {
        x: f64::from(d.bbox.x_min),
        y: f64::from(d.bbox.y_min),
        width: f64::from(d.bbox.width()),
        height: f64::from(d.bbox.height()),
    }))
}

/// Decodes, detects and analyses the burst; `Err(outcome)` for a burst that gives no verdict.
fn measure(
    engine: &Engine,
    images: &[super::ImageInput],
    burst: &SelfieBurst,
    camera_label: &str,
    threshold: f64,
) -> Result<Result<ServerLiveness, CheckOutcome>, CheckError> {
    let mut decoded = Vec::with_capacity(images.len());
    for image in images {
        match image.decode() {
            Ok(img) if img.width() <= MAX_FRAME_SIDE && img.height() <= MAX_FRAME_SIDE => decoded.push(img),
            Ok(_) => {
                return Ok(Err(inconclusive(
                    "liveness.bad_burst",
                    format!("a burst frame is larger than {MAX_FRAME_SIDE} px a side"),
                    json!({}),
                )));
            }
            Err(e) => return Ok(Err(inconclusive("liveness.bad_burst", e.to_string(), json!({})))),
        }
    }
    let frames: Vec<Frame<'_>> = decoded
        .iter()
        .map(|img| Frame::packed(img.as_raw(), img.width(), img.height()))
        .collect::<Result<_, _>>()
        .map_err(|e| CheckError::Permanent(format!("frame: {e}")))?;
    let mut boxes = Vec::with_capacity(frames.len());
    for frame in &frames {
        boxes.push(best_face(&engine.detector, frame)?);
    }
    let faces_found = boxes.iter().flatten().count();
    if faces_found * 2 < frames.len() || faces_found == 0 {
        return Ok(Err(inconclusive(
            "liveness.no_face",
            format!("a face in {faces_found} of {} burst frames", frames.len()),
            json!({"frames": frames.len(), "faces_found": faces_found}),
        )));
    }
    // Frames without a detection keep the nearest earlier face (or the first one found).
    let first = boxes.iter().flatten().next().copied();
    let mut last = first;
    let mut analyzer = LivenessAnalyzer::new(LivenessConfig { threshold, min_frames: MIN_FRAMES });
    if !camera_label.is_empty() {
        analyzer.set_camera_label(camera_label);
    }
    let mut with_faces = Vec::with_capacity(frames.len());
    for ((frame, found), t) in frames.iter().zip(&boxes).zip(&burst.timestamps_ms) {
        if found.is_some() {
            last = *found;
        }
        let Some(face) = last else { continue };
        if let Err(e) = analyzer.push(frame, face, *t) {
            return Ok(Err(inconclusive("liveness.bad_burst", format!("frame refused: {}", e.code()), json!({}))));
        }
        with_faces.push((*frame, face));
    }
    let model_signal = match &engine.antispoof {
        Some(model) => {
            let mut guard = model.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Some(guard.signal(&with_faces).map_err(|e| CheckError::Permanent(format!("anti-spoof model: {e}")))?)
        }
        None => None,
    };
    Ok(Ok(ServerLiveness { report: analyzer.report(), model_signal, faces_found }))
}

#[async_trait::async_trait]
impl Check for LivenessCheck {
    fn name(&self) -> &'static str {
        "liveness"
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn required_steps(&self) -> &'static [Step] {
        &[Step::Selfie]
    }

    async fn run(&self, ctx: &CheckContext) -> Result<CheckOutcome, CheckError> {
        let engine = self.engine.clone().map_err(CheckError::Permanent)?;
        let capture = ctx.capture(Step::Selfie).ok_or_else(|| CheckError::Permanent("no selfie capture".into()))?;
        let manifest = Manifest::parse(capture.manifest.as_bytes())
            .map_err(|e| CheckError::Permanent(format!("stored selfie manifest: {}", e.code.as_str())))?;
        let burst = match SelfieBurst::from_manifest(&manifest) {
            Ok(Some(burst)) => burst,
            Ok(None) => {
                return Ok(inconclusive(
                    "liveness.no_burst",
                    "the selfie carries no liveness burst (a photo from a file, or an older SDK): liveness cannot be judged from one still",
                    json!({"frames": 0}),
                ));
            }
            Err(e) => return Ok(inconclusive("liveness.bad_burst", e.detail, json!({}))),
        };
        let images: Option<Vec<_>> = burst.frame_images.iter().map(|&i| capture.images.get(i).cloned()).collect();
        let Some(images) = images else {
            return Ok(inconclusive("liveness.bad_burst", "a burst frame was not stored", json!({})));
        };
        let threshold = ctx.rules.liveness.threshold;
        let label = manifest.device.camera_label.clone();
        tokio::task::spawn_blocking(move || {
            Ok(match measure(&engine, &images, &burst, &label, threshold)? {
                Ok(server) => judge(&server, &burst, threshold),
                Err(outcome) => outcome,
            })
        })
        .await
        .map_err(|e| CheckError::Transient(format!("liveness task: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn signal(name: &'static str, attack: f64) -> Signal {
        Signal { name, attack, judged: true, explanation: format!("{name} explained") }
    }

    fn server(frames: usize, attacks: &[(&'static str, f64)], model: Option<f64>) -> ServerLiveness {
        let report = LivenessReport {
            frames,
            score: 0.0,
            passed: false,
            decisive: None,
            signals: attacks.iter().map(|(n, a)| signal(n, *a)).collect(),
            planar: Default::default(),
            pattern: Default::default(),
            flicker: 0.0,
            chroma: Default::default(),
            injection: Default::default(),
        };
        ServerLiveness { report, model_signal: model.map(|a| signal("anti_spoof_model", a)), faces_found: frames }
    }

    fn burst(client_score: f64) -> SelfieBurst {
        SelfieBurst {
            frame_images: (1..=8).collect(),
            timestamps_ms: (0..8).map(|k| 33.3 * f64::from(k)).collect(),
            client_score,
            client_signals: BTreeMap::from([("planar_motion".to_owned(), 0.05)]),
        }
    }

    fn codes(o: &CheckOutcome) -> Vec<&str> {
        o.reasons.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn a_live_burst_that_agrees_with_the_client_passes() {
        let o = judge(&server(8, &[("planar_motion", 0.1), ("injection", 0.0)], None), &burst(0.85), 0.5);
        assert_eq!((o.status, codes(&o)), (CheckStatus::Passed, vec!["liveness.live"]));
        assert!((o.score - 0.9).abs() < 1e-9);
        assert_eq!(o.details["signals"][0]["client_attack"], 0.05);
        assert_eq!(o.details["signals"][0]["explanation"], "planar_motion explained");
        assert_eq!(o.details["decisive"], "planar_motion");
    }

    #[test]
    fn attacks_fail_with_the_deciding_signal_and_any_mismatch() {
        let o = judge(&server(8, &[("planar_motion", 0.9), ("injection", 0.2)], None), &burst(0.95), 0.5);
        assert_eq!(o.status, CheckStatus::Failed);
        assert_eq!(codes(&o), ["liveness.attack_suspected", "liveness.client_mismatch"]);
        assert!(o.reasons[0].message.starts_with("planar_motion:"));
        // The anti-spoofing model alone can decide.
        let o = judge(&server(8, &[("planar_motion", 0.0)], Some(0.8)), &burst(0.3), 0.5);
        assert_eq!((o.status, codes(&o)), (CheckStatus::Failed, vec!["liveness.attack_suspected"]));
        assert_eq!(o.details["decisive"], "anti_spoof_model");
        assert_eq!(o.details["antispoof_model"], true);
        // The tenant's threshold counts.
        let o = judge(&server(8, &[("planar_motion", 0.3)], None), &burst(0.7), 0.8);
        assert_eq!(o.status, CheckStatus::Failed);
    }

    #[test]
    fn a_client_claim_far_from_the_server_goes_to_review() {
        let o = judge(&server(8, &[("planar_motion", 0.0)], None), &burst(0.2), 0.5);
        assert_eq!((o.status, codes(&o)), (CheckStatus::Inconclusive, vec!["liveness.client_mismatch"]));
        assert!((o.details["client_gap"].as_f64().unwrap() - 0.8).abs() < 1e-9);
    }

    #[test]
    fn too_few_frames_and_unjudged_signals() {
        let o = judge(&server(4, &[("planar_motion", 0.0)], None), &burst(1.0), 0.5);
        assert_eq!((o.status, codes(&o)), (CheckStatus::Inconclusive, vec!["liveness.too_few_frames"]));
        let mut s = server(8, &[("planar_motion", 0.9)], None);
        s.report.signals[0].judged = false;
        assert_eq!(s.score(), 1.0);
        assert!(s.decisive().is_none());
    }

    #[tokio::test]
    async fn missing_models_are_a_permanent_error() {
        let dir = tempfile::tempdir().unwrap();
        let check = LivenessCheck::load(dir.path());
        assert!(!check.is_available());
        let ctx = CheckContext {
            session_id: "ses_x".into(),
            tenant_id: "ten_x".into(),
            steps: vec![Step::Selfie],
            round: 0,
            applicant: None,
            captures: Vec::new(),
            rules: crate::rules::RuleSet::default(),
        };
        assert!(matches!(check.run(&ctx).await, Err(CheckError::Permanent(m)) if m.contains("face detector")));
    }
}
