//! `face_match`: the selfie against the portrait on the document front, through
//! `trustcap-face` (BlazeFace detection, alignment to 150×150 chips, the dlib embedding and a
//! calibrated score).
//!
//! One [`FaceMatcher`] is loaded at start-up and shared behind a mutex (matching needs
//! `&mut`); every comparison runs under `spawn_blocking`. Outcome:
//! - a score: `passed` for a match at the configured false-match rate, `failed` otherwise;
//!   the check's score is the calibrated similarity, so the rules' grey zone
//!   ([`crate::rules::FACE_GREY_ZONE`]) can ask for a new selfie;
//! - a quality gate (no face, several faces, too small, too blurred): `inconclusive` with
//!   `face_match.<role>_<reason>` codes and score 0 — never a silent pass;
//! - models missing at start-up: the check stays registered and every run is a permanent
//!   error, so the session goes to `review` (`face_match.error`).
//!
//! Both chips are returned as PNG artifacts (`selfie_chip.png`, `document_chip.png`) that
//! the pipeline stores under the session for reviewers.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::json;
use trustcap_face::matcher::chip_png;
use trustcap_face::{Decision, FaceMatcher, MatchReport};
use trustcap_protocol::Step;
use trustcap_vision::Frame;

use super::{Artifact, Check, CheckContext, CheckError, CheckOutcome, CheckStatus, Reason};

/// Version of this check's behaviour (stored with every result).
pub const VERSION: &str = "1.0.0";

/// The face matcher shared by the workers.
pub type SharedMatcher = Arc<Mutex<FaceMatcher>>;

/// The face-match check.
#[derive(Debug, Clone)]
pub struct FaceMatchCheck {
    engine: Result<SharedMatcher, String>,
}

impl FaceMatchCheck {
    /// A check over a loaded matcher.
    pub fn new(matcher: SharedMatcher) -> Self {
        Self { engine: Ok(matcher) }
    }

    /// Loads the models from `dir`; when they cannot be loaded the check is still returned,
    /// and every run is a permanent error (→ review), never a pass.
    pub fn load(dir: &Path) -> Self {
        match FaceMatcher::from_dir(dir) {
            Ok(m) => Self::new(Arc::new(Mutex::new(m))),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "face models not loaded: face_match sends sessions to review");
                Self::unavailable(format!("face models not loaded: {e}"))
            }
        }
    }

    /// A check whose models are missing (`why` is stored with each error result).
    pub fn unavailable(why: impl Into<String>) -> Self {
        Self { engine: Err(why.into()) }
    }

    /// Whether the models are loaded.
    pub fn is_available(&self) -> bool {
        self.engine.is_ok()
    }
}

/// Turns a match report into the check's outcome (pure; unit-tested).
pub fn outcome_of(report: &MatchReport) -> Result<CheckOutcome, CheckError> {
    let mut artifacts = Vec::new();
    for (name, chip) in [("selfie_chip.png", &report.selfie.chip), ("document_chip.png", &report.document.chip)] {
        if let Some(chip) = chip {
            let bytes = chip_png(chip).map_err(|e| CheckError::Permanent(format!("chip encoding: {e}")))?;
            artifacts.push(Artifact { name: name.into(), content_type: "image/png".into(), bytes });
        }
    }
    let gates: Vec<&str> = report.reasons.iter().map(|r| r.code()).collect();
    let mut details = json!({
        "model_version": report.model_version,
        "quality_gates": gates,
        "selfie": {"faces": report.selfie.faces, "eye_distance_px": report.selfie.eye_distance_px,
                   "sharpness": report.selfie.sharpness},
        "document": {"faces": report.document.faces, "eye_distance_px": report.document.eye_distance_px,
                     "sharpness": report.document.sharpness},
    });
    let (status, score, reasons) = match &report.score {
        Some(s) if report.reasons.is_empty() => {
            details["score"] = json!({
                "distance": s.distance,
                "similarity": s.similarity,
                "decision": s.decision,
                "threshold": s.threshold,
                "fmr": s.fmr,
            });
            let similarity = f64::from(s.similarity).clamp(0.0, 1.0);
            let similarity = if similarity.is_nan() { 0.0 } else { similarity };
            match s.decision {
                Decision::Match => (
                    CheckStatus::Passed,
                    similarity,
                    vec![Reason::new("face_match.match", "the selfie matches the document portrait")],
                ),
                Decision::NoMatch => (
                    CheckStatus::Failed,
                    similarity,
                    vec![Reason::new("face_match.no_match", "the selfie does not match the document portrait")],
                ),
            }
        }
        _ => {
            let reasons = if report.reasons.is_empty() {
                vec![Reason::new("face_match.no_score", "no comparable face pair")]
            } else {
                report
                    .reasons
                    .iter()
                    .map(|r| Reason::new(format!("face_match.{}", r.code()), "a face photo fails the quality gate"))
                    .collect()
            };
            (CheckStatus::Inconclusive, 0.0, reasons)
        }
    };
    Ok(CheckOutcome { status, score, reasons, details, artifacts })
}

fn frame(img: &image::RgbaImage) -> Result<Frame<'_>, CheckError> {
    Frame::packed(img.as_raw(), img.width(), img.height()).map_err(|e| CheckError::Permanent(format!("frame: {e}")))
}

fn image_of(ctx: &CheckContext, step: Step) -> Result<super::ImageInput, CheckError> {
    ctx.capture(step)
        .and_then(|c| c.images.first())
        .cloned()
        .ok_or_else(|| CheckError::Permanent(format!("no {} image", step.as_str())))
}

#[async_trait::async_trait]
impl Check for FaceMatchCheck {
    fn name(&self) -> &'static str {
        "face_match"
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn required_steps(&self) -> &'static [Step] {
        &[Step::DocumentFront, Step::Selfie]
    }

    async fn run(&self, ctx: &CheckContext) -> Result<CheckOutcome, CheckError> {
        let matcher = self.engine.clone().map_err(CheckError::Permanent)?;
        let selfie = image_of(ctx, Step::Selfie)?;
        let document = image_of(ctx, Step::DocumentFront)?;
        tokio::task::spawn_blocking(move || {
            let selfie = selfie.decode()?;
            let document = document.decode()?;
            let (a, b) = (frame(&selfie)?, frame(&document)?);
            let report = {
                let mut guard = matcher.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                guard.match_faces(&a, &b).map_err(|e| CheckError::Permanent(format!("face match: {e}")))?
            };
            outcome_of(&report)
        })
        .await
        .map_err(|e| CheckError::Transient(format!("face task: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustcap_face::{FaceAnalysis, Reason as FaceReason, ReasonCode, Role, Score};

    fn analysis(chip: bool) -> FaceAnalysis {
        FaceAnalysis {
            faces: 1,
            detection: None,
            eye_distance_px: 40.0,
            sharpness: 9.0,
            chip: chip.then(|| image::RgbImage::from_pixel(150, 150, image::Rgb([120, 90, 70]))),
            reasons: Vec::new(),
            embedding: None,
        }
    }

    fn report(score: Option<(f32, Decision)>, reasons: Vec<ReasonCode>) -> MatchReport {
        MatchReport {
            score: score.map(|(similarity, decision)| Score {
                distance: 0.5,
                similarity,
                decision,
                threshold: 0.63,
                fmr: 1e-3,
            }),
            reasons,
            model_version: "dlib@sha256:test".into(),
            selfie: analysis(true),
            document: analysis(true),
        }
    }

    #[test]
    fn match_and_no_match_carry_the_similarity_and_both_chips() {
        let o = outcome_of(&report(Some((0.93, Decision::Match)), vec![])).unwrap();
        assert_eq!((o.status, o.score), (CheckStatus::Passed, f64::from(0.93f32)));
        assert_eq!(o.reasons[0].code, "face_match.match");
        assert_eq!(o.details["model_version"], "dlib@sha256:test");
        assert_eq!(o.details["score"]["decision"], "match");
        assert_eq!(o.artifacts.len(), 2);
        assert!(o.artifacts[0].bytes.starts_with(b"\x89PNG"));
        let o = outcome_of(&report(Some((0.1, Decision::NoMatch)), vec![])).unwrap();
        assert_eq!(o.status, CheckStatus::Failed);
        assert_eq!(o.reasons[0].code, "face_match.no_match");
    }

    #[test]
    fn quality_gates_are_inconclusive_with_their_codes_never_a_pass() {
        let gates = vec![
            ReasonCode { role: Role::Selfie, reason: FaceReason::NoFace },
            ReasonCode { role: Role::Document, reason: FaceReason::FaceTooBlurred },
        ];
        let mut r = report(None, gates);
        r.selfie.chip = None;
        let o = outcome_of(&r).unwrap();
        assert_eq!((o.status, o.score), (CheckStatus::Inconclusive, 0.0));
        let codes: Vec<_> = o.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["face_match.selfie_no_face", "face_match.document_face_too_blurred"]);
        assert_eq!(o.artifacts.len(), 1, "the chip that exists is kept for reviewers");
        // A score with gates set is still not a pass.
        let o = outcome_of(&report(
            Some((0.99, Decision::Match)),
            vec![ReasonCode { role: Role::Selfie, reason: FaceReason::MultipleFaces }],
        ))
        .unwrap();
        assert_eq!(o.status, CheckStatus::Inconclusive);
        assert_eq!(o.reasons[0].code, "face_match.selfie_multiple_faces");
    }

    #[tokio::test]
    async fn missing_models_are_a_permanent_error() {
        let dir = tempfile::tempdir().unwrap();
        let check = FaceMatchCheck::load(dir.path());
        assert!(!check.is_available());
        let ctx = CheckContext {
            session_id: "ses_x".into(),
            tenant_id: "ten_x".into(),
            steps: vec![Step::DocumentFront, Step::Selfie],
            round: 0,
            applicant: None,
            captures: Vec::new(),
            rules: crate::rules::RuleSet::default(),
        };
        assert!(matches!(check.run(&ctx).await, Err(CheckError::Permanent(m)) if m.contains("face models")));
    }
}
