//! `capture_quality`: the server's own re-run of the capture quality checks (sharpness,
//! glare, exposure) on every stored image of the round, decoded again under the intake
//! limits. The SDK's numbers are never trusted.
//!
//! Which images count: every image the other checks read (a document capture's first image, the
//! rectified document; the selfie and its burst frames). A document capture's original photo
//! ([`trustcap_protocol::document::ORIGINAL_PART`], the whole camera frame the document was cut from)
//! is measured too and listed in the details with `"counted": false`, but does not change the verdict:
//! its background may be dark or glary where the document is fine, and no check reads it.

use serde_json::{Value, json};
use trustcap_protocol::document::ORIGINAL_PART;
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
        map.insert("counted".into(), counts(image).into());
    }
    Ok(quality)
}

/// Whether `image` counts towards the verdict (see the module documentation).
fn counts(image: &super::ImageInput) -> bool {
    image.name != ORIGINAL_PART
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
        let counted: Vec<&Value> = results.iter().filter(|r| r["counted"].as_bool() != Some(false)).collect();
        let total = counted.len();
        if total == 0 {
            return Err(CheckError::Permanent("the session has no image to judge".into()));
        }
        let mut reasons = Vec::new();
        let mut acceptable = 0usize;
        for r in counted {
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
