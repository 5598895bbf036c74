//! `capture_integrity`: the stored evidence is what was signed, and the captures belong
//! together. For every capture of the round: the bytes read back from storage hash to
//! the digest recorded at intake and named in the signed manifest; the manifest names
//! this session and the capture's step; every requested step has a capture; all
//! captures were signed by one key and come from one device.

use serde_json::json;
use trustcap_protocol::digest::sha256_hex;
use trustcap_protocol::{Manifest, Step};

use super::{Check, CheckContext, CheckError, CheckOutcome, CheckStatus, Reason};

/// The capture-integrity check.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureIntegrity;

#[async_trait::async_trait]
impl Check for CaptureIntegrity {
    fn name(&self) -> &'static str {
        "capture_integrity"
    }

    fn version(&self) -> &'static str {
        "1.0.0"
    }

    fn required_steps(&self) -> &'static [Step] {
        &[]
    }

    async fn run(&self, ctx: &CheckContext) -> Result<CheckOutcome, CheckError> {
        let mut failed = Vec::new();
        let mut doubtful = Vec::new();
        let mut key_ids = Vec::new();
        let mut devices = Vec::new();
        for step in &ctx.steps {
            if ctx.capture(*step).is_none() {
                return Err(CheckError::Permanent(format!("no capture for step {}", step.as_str())));
            }
        }
        for capture in &ctx.captures {
            let step = capture.step.as_str();
            let manifest = Manifest::parse(capture.manifest.as_bytes())
                .map_err(|e| CheckError::Permanent(format!("stored manifest of {step}: {}", e.code.as_str())))?;
            if manifest.session_id != ctx.session_id || manifest.step != capture.step {
                failed.push(Reason::new(
                    "capture_integrity.manifest_mismatch",
                    format!("the {step} manifest names another session or step"),
                ));
            }
            if manifest.images.len() != capture.images.len() {
                failed.push(Reason::new(
                    "capture_integrity.image_missing",
                    format!("the {step} capture lacks a stored image"),
                ));
            }
            for (entry, image) in manifest.images.iter().zip(&capture.images) {
                let actual = sha256_hex(&image.bytes);
                if actual != image.sha256 || entry.sha256 != image.sha256 {
                    failed.push(Reason::new(
                        "capture_integrity.digest_mismatch",
                        format!("the stored {step} image is not the signed one"),
                    ));
                }
            }
            if !key_ids.contains(&capture.key_id) {
                key_ids.push(capture.key_id.clone());
            }
            if !devices.contains(&manifest.device.user_agent) {
                devices.push(manifest.device.user_agent.clone());
            }
        }
        if key_ids.len() > 1 {
            failed.push(Reason::new("capture_integrity.several_keys", "the captures were signed by different keys"));
        }
        if devices.len() > 1 {
            doubtful.push(Reason::new("capture_integrity.device_changed", "the captures come from different browsers"));
        }
        let (status, score) = if !failed.is_empty() {
            (CheckStatus::Failed, 0.0)
        } else if !doubtful.is_empty() {
            (CheckStatus::Inconclusive, 0.5)
        } else {
            (CheckStatus::Passed, 1.0)
        };
        let details = json!({"captures": ctx.captures.len(), "keys": key_ids.len(), "devices": devices.len()});
        failed.extend(doubtful);
        Ok(CheckOutcome { status, score, reasons: failed, details, artifacts: Vec::new() })
    }
}
