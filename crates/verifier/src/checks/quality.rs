//! `capture_quality`: the server's own re-run of the capture quality checks (sharpness,
//! glare, exposure) on every stored image of the round, decoded again under the intake
//! limits. The SDK's numbers are never trusted.

use serde_json::{Value, json};
use trustcap_protocol::{ImageEntry, Step};

use super::{Check, CheckContext, CheckError, CheckOutcome, CheckStatus, Reason};
use crate::intake;

/// The capture-quality check.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureQuality;

fn analyse(step: Step, image: &super::ImageInput) -> Result<Value, CheckError> {
    let entry = ImageEntry {
        name: image.name.clone(),
        content_type: image.content_type.clone(),
        width: image.width,
        height: image.height,
        byte_len: image.bytes.len() as u64,
        sha256: image.sha256.clone(),
    };
    let format = intake::check_header(&entry, &image.bytes)
        .map_err(|e| CheckError::Permanent(format!("stored image {}: {}", image.name, e.code.as_str())))?;
    let rgba = intake::decode_rgba(&entry, &image.bytes, format)
        .map_err(|e| CheckError::Permanent(format!("stored image {}: {}", image.name, e.code.as_str())))?;
    let mut quality =
        intake::server_quality(&rgba).map_err(|e| CheckError::Permanent(format!("quality analysis: {e}")))?;
    if let Some(map) = quality.as_object_mut() {
        map.insert("step".into(), step.as_str().into());
        map.insert("image".into(), image.name.clone().into());
    }
    Ok(quality)
}

#[async_trait::async_trait]
impl Check for CaptureQuality {
    fn name(&self) -> &'static str {
        "capture_quality"
    }

    fn version(&self) -> &'static str {
        "1.0.0"
    }

    fn required_steps(&self) -> &'static [Step] {
        &[]
    }

    async fn run(&self, ctx: &CheckContext) -> Result<CheckOutcome, CheckError> {
        let jobs: Vec<(Step, super::ImageInput)> =
            ctx.captures.iter().flat_map(|c| c.images.iter().map(move |i| (c.step, i.clone()))).collect();
        if jobs.is_empty() {
            return Err(CheckError::Permanent("the session has no images".into()));
        }
        // Decoding is CPU-bound: off the async threads.
        let results = tokio::task::spawn_blocking(move || {
            jobs.iter().map(|(step, image)| analyse(*step, image)).collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| CheckError::Transient(format!("quality task: {e}")))??;
        let total = results.len();
        let mut reasons = Vec::new();
        let mut acceptable = 0usize;
        for r in &results {
            if r["acceptable"].as_bool() == Some(true) {
                acceptable += 1;
            } else {
                let step = r["step"].as_str().unwrap_or("unknown");
                let guidance = r["guidance"].as_str().unwrap_or("unknown");
                reasons.push(Reason::new(
                    format!("capture_quality.{guidance}"),
                    format!("the {step} image is not acceptable ({guidance})"),
                ));
            }
        }
        let score = acceptable as f64 / total as f64;
        let status = if acceptable == total { CheckStatus::Passed } else { CheckStatus::Failed };
        Ok(CheckOutcome { status, score, reasons, details: json!({ "images": results }), artifacts: Vec::new() })
    }
}
