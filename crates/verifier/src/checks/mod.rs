//! The check interface of the pipeline, and the registry of checks per requested step.
//!
//! A check is one verification (capture quality, document authenticity, face match,
//! screening, ...) behind the [`Check`] trait: a stable name, a version stored with
//! every result, the steps it needs, and an async `run` over a [`CheckContext`] that
//! returns a [`CheckOutcome`] or a [`CheckError`]. Transient errors are retried by the
//! pipeline; permanent ones (and transient ones that keep failing) are stored as
//! `error` and route the session to review. Plugging a new check in is one
//! `impl Check` and one [`CheckRegistry::register`] call.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use trustcap_protocol::Step;

use crate::rules::RuleSet;

pub mod address;
pub mod document;
pub mod face;
pub mod integrity;
pub mod liveness;
pub mod quality;
pub mod screening;

/// One image of a capture, with its bytes.
#[derive(Debug, Clone)]
pub struct ImageInput {
    /// Part name.
    pub name: String,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Width from the stored metadata.
    pub width: u32,
    /// Height from the stored metadata.
    pub height: u32,
    /// SHA-256 recorded at intake, lowercase hex.
    pub sha256: String,
    /// The encoded bytes as read back from storage.
    pub bytes: Arc<Vec<u8>>,
}

impl ImageInput {
    /// Decodes the stored bytes again under the intake limits (header sniffed, size checked
    /// against the recorded metadata) into RGBA.
    pub fn decode(&self) -> Result<image::RgbaImage, CheckError> {
        let entry = trustcap_protocol::ImageEntry {
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            width: self.width,
            height: self.height,
            byte_len: self.bytes.len() as u64,
            sha256: self.sha256.clone(),
        };
        let format = crate::intake::check_header(&entry, &self.bytes)
            .map_err(|e| CheckError::Permanent(format!("stored image {}: {}", self.name, e.code.as_str())))?;
        crate::intake::decode_rgba(&entry, &self.bytes, format)
            .map_err(|e| CheckError::Permanent(format!("stored image {}: {}", self.name, e.code.as_str())))
    }
}

/// One accepted capture of the round being verified.
#[derive(Debug, Clone)]
pub struct CaptureInput {
    /// Capture id.
    pub id: String,
    /// The step it captures.
    pub step: Step,
    /// The signed manifest, canonical JSON.
    pub manifest: String,
    /// The signing key id.
    pub key_id: String,
    /// Its images in manifest order.
    pub images: Vec<ImageInput>,
}

/// What a check sees: the session, its applicant data and the captures of the round.
#[derive(Debug, Clone)]
pub struct CheckContext {
    /// Session id.
    pub session_id: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Every step of the session.
    pub steps: Vec<Step>,
    /// The verification round.
    pub round: i64,
    /// Applicant data given at session creation (PII: never log it).
    pub applicant: Option<Value>,
    /// The latest capture of each step (the current round's where there is one).
    pub captures: Vec<CaptureInput>,
    /// The tenant's rules in force (per-tenant check settings: screening mode, age limits).
    pub rules: RuleSet,
}

impl CheckContext {
    /// The capture of `step`, if any.
    pub fn capture(&self, step: Step) -> Option<&CaptureInput> {
        self.captures.iter().find(|c| c.step == step)
    }
}

/// Whether a check's evidence supports the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The evidence supports the applicant.
    Passed,
    /// The evidence speaks against the applicant.
    Failed,
    /// The check ran but cannot tell (a person should look).
    Inconclusive,
}

impl CheckStatus {
    /// The stored form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Inconclusive => "inconclusive",
        }
    }
}

/// A machine-readable reason with a short human text (no PII).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Stable code, e.g. `quality.too_blurry`.
    pub code: String,
    /// Short explanation.
    pub message: String,
}

impl Reason {
    /// A reason.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }
}

/// The result of a check that ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOutcome {
    /// The verdict.
    pub status: CheckStatus,
    /// A score in `[0, 1]` (higher is better for the applicant) that rules threshold on.
    pub score: f64,
    /// Why.
    pub reasons: Vec<Reason>,
    /// Check-specific measurements (no PII).
    pub details: Value,
    /// Files for reviewers (face chips), stored with the result under the session.
    pub artifacts: Vec<Artifact>,
}

/// A file a check produces for reviewers, stored in the object store (or the database)
/// under the session, round and check.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// File name within the check, e.g. `selfie_chip.png` (`[a-z0-9_.]`, at most 64 bytes).
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Serialize for Artifact {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("Artifact", 3)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("content_type", &self.content_type)?;
        st.serialize_field("byte_len", &self.bytes.len())?;
        st.end()
    }
}

/// Why a check did not produce an outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Worth retrying (a store or model service was briefly unavailable).
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying will not help (missing input, unsupported document, missing models, bug).
    #[error("permanent: {0}")]
    Permanent(String),
    /// The check does not apply to this session (e.g. screening without an applicant
    /// name). Nothing is stored; a tenant whose rules require the check gets `review`.
    #[error("not applicable: {0}")]
    NotApplicable(String),
}

/// One verification of the pipeline.
#[async_trait::async_trait]
pub trait Check: Send + Sync + std::fmt::Debug {
    /// Stable name (`capture_quality`, `document`, `face_match`, `screening`, ...),
    /// used by tenant rules.
    fn name(&self) -> &'static str;
    /// Version stored with each result; bump it when the check's behaviour changes.
    fn version(&self) -> &'static str;
    /// The steps the check needs; it runs for a session that requests all of them
    /// (an empty list: every session).
    fn required_steps(&self) -> &'static [Step];
    /// Runs the check.
    async fn run(&self, ctx: &CheckContext) -> Result<CheckOutcome, CheckError>;
}

/// The checks the pipeline knows, in run order.
#[derive(Debug, Clone, Default)]
pub struct CheckRegistry {
    checks: Vec<Arc<dyn Check>>,
}

impl CheckRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The checks built into this crate: capture quality and capture integrity.
    pub fn builtin() -> Self {
        let mut registry = Self::new();
        registry.register(Arc::new(quality::CaptureQuality));
        registry.register(Arc::new(integrity::CaptureIntegrity));
        registry
    }

    /// Adds a check (a later check with the same name replaces the earlier one).
    pub fn register(&mut self, check: Arc<dyn Check>) {
        self.checks.retain(|c| c.name() != check.name());
        self.checks.push(check);
    }

    /// The check called `name`, if registered.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Check>> {
        self.checks.iter().find(|c| c.name() == name)
    }

    /// The checks that apply to a session requesting `steps`.
    pub fn for_steps(&self, steps: &[Step]) -> Vec<Arc<dyn Check>> {
        self.checks.iter().filter(|c| c.required_steps().iter().all(|s| steps.contains(s))).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct NeedsSelfie;

    #[async_trait::async_trait]
    impl Check for NeedsSelfie {
        fn name(&self) -> &'static str {
            "face_match"
        }
        fn version(&self) -> &'static str {
            "test"
        }
        fn required_steps(&self) -> &'static [Step] {
            &[Step::DocumentFront, Step::Selfie]
        }
        async fn run(&self, _ctx: &CheckContext) -> Result<CheckOutcome, CheckError> {
            Err(CheckError::Permanent("not built".into()))
        }
    }

    #[test]
    fn registry_selects_by_steps() {
        let mut registry = CheckRegistry::builtin();
        registry.register(Arc::new(NeedsSelfie));
        let names = |steps: &[Step]| registry.for_steps(steps).iter().map(|c| c.name()).collect::<Vec<_>>();
        assert_eq!(names(&[Step::DocumentFront]), ["capture_quality", "capture_integrity"]);
        assert_eq!(names(&[Step::DocumentFront, Step::Selfie]), ["capture_quality", "capture_integrity", "face_match"]);
        assert!(registry.get("face_match").is_some());
        registry.register(Arc::new(NeedsSelfie));
        assert_eq!(registry.for_steps(&[Step::DocumentFront, Step::Selfie]).len(), 3);
    }
}
