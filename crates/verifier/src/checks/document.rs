//! `document`: the identity document, through `trustcap-document` (PP-OCR, feature `ocr`).
//!
//! The MRZ is read from the `document_back` capture when the session has one, else from the
//! front, and parsed (ICAO 9303 check digits, OCR repair confirmed by check digits). The
//! document checks then look at: MRZ validity, expiry, the tenant's age limits (rules:
//! `document.min_age`, `document.max_age`), the MRZ name and birth date against the applicant's
//! declared ones, the MRZ against the visual zone of the front (surname and given names,
//! birth date, document number, expiry date, read by `trustcap_document::viz` from the
//! front's OCR lines; a field that cannot be read is not applicable, `field_missing`), a
//! black-and-white copy, an editing program in the EXIF data, a photo of a screen (moiré:
//! `document.screen_recapture`), JPEG regions with a different compression history (a pasted
//! or locally re-saved region: `document.jpeg_regions_inconsistent`, reported but deciding nothing
//! unless the policy enforces it), and reuse of
//! the same document in another session of the tenant (the MRZ digest and perceptual hash are
//! kept per tenant in `document_fingerprints`; a match is the fraud signal `document.reused`).
//!
//! Outcome: any failing check → `failed` with `document.<reason>` codes; no MRZ found (and
//! nothing failing) → `inconclusive` with `document.no_mrz`; otherwise `passed`. OCR models
//! missing at start-up: every run is a permanent error (→ review), never a pass.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sqlx::Row as _;
use trustcap_document::checks::{
    ApplicantData, DocumentChecks, DocumentInput, DocumentReport, MemorySeen, Outcome, TenantPolicy,
};
use trustcap_document::mrz::Date;
use trustcap_document::ocr::OcrEngine;
use trustcap_document::viz::{self, OcrLine};
use trustcap_protocol::Step;

use super::{Check, CheckContext, CheckError, CheckOutcome, CheckStatus, Reason};
use crate::db::Db;

/// Version of this check's behaviour.
pub const VERSION: &str = "1.1.0";

/// Most earlier fingerprints of a tenant compared by perceptual hash (newest first).
pub const MAX_FINGERPRINTS: i64 = 100_000;

/// The OCR engine, loaded once (or why it could not be).
#[derive(Clone)]
pub struct DocumentEngine(Result<Arc<Mutex<OcrEngine>>, String>);

impl std::fmt::Debug for DocumentEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_ok() { "DocumentEngine(loaded)" } else { "DocumentEngine(unavailable)" })
    }
}

impl DocumentEngine {
    /// Loads the PP-OCR models from `dir`; failure is kept (each run is then a permanent error).
    pub fn load(dir: &Path) -> Self {
        match OcrEngine::from_dir(dir) {
            Ok(e) => Self(Ok(Arc::new(Mutex::new(e)))),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "OCR models not loaded: the document check sends sessions to review");
                Self(Err(format!("OCR models not loaded: {e}")))
            }
        }
    }

    /// The loaded engine (shared with the `address` check), or why it is missing.
    pub(crate) fn engine(&self) -> Result<Arc<Mutex<OcrEngine>>, CheckError> {
        self.0.clone().map_err(CheckError::Permanent)
    }

    /// Whether the models are loaded.
    pub fn is_available(&self) -> bool {
        self.0.is_ok()
    }

    /// The check over this engine, with the tenant's fingerprint register in `db`.
    pub fn with_db(self, db: Db) -> DocumentCheck {
        DocumentCheck { engine: self, db }
    }
}

/// The document check.
#[derive(Debug, Clone)]
pub struct DocumentCheck {
    engine: DocumentEngine,
    db: Db,
}

/// The age thresholds a credential can state (`age_over_18`, `age_over_21`).
pub const AGE_BANDS: [u8; 2] = [18, 21];

/// Whether a holder born on `birth` is at least each of [`AGE_BANDS`] years old on `today`:
/// `{"18": true, "21": false}`. Bands say enough for most relying parties without the date.
fn age_bands(birth: &Date, today: &Date) -> Value {
    let age = birth.years_until(today);
    Value::Object(AGE_BANDS.iter().map(|band| (band.to_string(), Value::Bool(age >= i32::from(*band)))).collect())
}

/// The applicant's declared name and birth date as the document checks take them.
pub fn applicant_data(applicant: Option<&Value>) -> ApplicantData {
    let Some(a) = applicant else { return ApplicantData::default() };
    let part = |k: &str| a.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let name: Vec<&str> = [part("given_names"), part("family_name")].into_iter().flatten().collect();
    let birth_date = part("date_of_birth").and_then(|d| {
        let mut it = d.split('-').map(str::parse::<u16>);
        match (it.next(), it.next(), it.next()) {
            (Some(Ok(y)), Some(Ok(m)), Some(Ok(day))) => Date::new(y, u8::try_from(m).ok()?, u8::try_from(day).ok()?),
            _ => None,
        }
    });
    ApplicantData { name: (!name.is_empty()).then(|| name.join(" ")), birth_date }
}

/// Turns the document report into the check's outcome (pure; unit-tested).
pub fn outcome_of(report: &DocumentReport, mrz_found: bool, details: Value) -> CheckOutcome {
    let applicable: Vec<_> = report.checks.iter().filter(|c| c.outcome != Outcome::NotApplicable).collect();
    let failed: Vec<_> = applicable.iter().filter(|c| c.outcome == Outcome::Fail).collect();
    let passed = applicable.len() - failed.len();
    let code = |check: &str, reason: &str| match check {
        "document_reused" => "document.reused".to_owned(),
        "applicant_name_matches" => "document.applicant_name_mismatch".to_owned(),
        _ => format!("document.{reason}"),
    };
    if !failed.is_empty() {
        let reasons = failed
            .iter()
            .map(|c| Reason::new(code(c.check, c.reason), format!("the document check {} failed", c.check)))
            .collect();
        let score = if applicable.is_empty() { 0.0 } else { passed as f64 / applicable.len() as f64 };
        return CheckOutcome { status: CheckStatus::Failed, score, reasons, details, artifacts: Vec::new() };
    }
    if !mrz_found {
        let reasons = vec![Reason::new("document.no_mrz", "no machine-readable zone was found on the document")];
        return CheckOutcome { status: CheckStatus::Inconclusive, score: 0.5, reasons, details, artifacts: Vec::new() };
    }
    let reasons = vec![Reason::new("document.ok", "every applicable document check passed")];
    CheckOutcome { status: CheckStatus::Passed, score: 1.0, reasons, details, artifacts: Vec::new() }
}

impl DocumentCheck {
    /// The tenant's earlier fingerprints (other sessions), newest first.
    async fn seen(&self, tenant: &str, session: &str) -> Result<MemorySeen, CheckError> {
        let rows = sqlx::query(
            "SELECT mrz_digest, phash FROM document_fingerprints WHERE tenant_id = $1 AND session_id <> $2 \
             ORDER BY created_at DESC LIMIT $3",
        )
        .bind(tenant)
        .bind(session)
        .bind(MAX_FINGERPRINTS)
        .fetch_all(self.db.pool())
        .await
        .map_err(|e| CheckError::Transient(format!("database: {e}")))?;
        let mut seen = MemorySeen::default();
        for row in rows {
            let digest: Option<String> = row.try_get("mrz_digest").unwrap_or(None);
            let phash: Option<i64> = row.try_get("phash").unwrap_or(None);
            seen.insert(digest, phash.map(|p| p as u64));
        }
        Ok(seen)
    }

    async fn remember(&self, ctx: &CheckContext, digest: Option<&str>, phash: Option<u64>) -> Result<(), CheckError> {
        sqlx::query(
            "INSERT INTO document_fingerprints (tenant_id, session_id, mrz_digest, phash, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, session_id) DO UPDATE SET \
             mrz_digest = excluded.mrz_digest, phash = excluded.phash, created_at = excluded.created_at",
        )
        .bind(&ctx.tenant_id)
        .bind(&ctx.session_id)
        .bind(digest)
        .bind(phash.map(|p| p as i64))
        .bind(crate::time::now_secs())
        .execute(self.db.pool())
        .await
        .map_err(|e| CheckError::Transient(format!("database: {e}")))?;
        Ok(())
    }
}

fn rgb(rgba: &image::RgbaImage) -> image::RgbImage {
    image::DynamicImage::ImageRgba8(rgba.clone()).to_rgb8()
}

#[async_trait::async_trait]
impl Check for DocumentCheck {
    fn name(&self) -> &'static str {
        "document"
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn required_steps(&self) -> &'static [Step] {
        &[Step::DocumentFront]
    }

    async fn run(&self, ctx: &CheckContext) -> Result<CheckOutcome, CheckError> {
        let engine = self.engine.0.clone().map_err(CheckError::Permanent)?;
        let image_of = |step| ctx.capture(step).and_then(|c| c.images.first()).cloned();
        let front =
            image_of(Step::DocumentFront).ok_or_else(|| CheckError::Permanent("no document_front image".into()))?;
        let back = image_of(Step::DocumentBack);
        let mrz_step = if back.is_some() { Step::DocumentBack } else { Step::DocumentFront };
        let seen = self.seen(&ctx.tenant_id, &ctx.session_id).await?;
        let applicant = applicant_data(ctx.applicant.as_ref());
        let policy = TenantPolicy {
            min_age: ctx.rules.document.min_age,
            max_age: ctx.rules.document.max_age,
            allow_specimens: false,
            enforce_jpeg_regions: false,
        };
        let today = Date::today_utc();
        let (report, mrz_found, details) = tokio::task::spawn_blocking(move || {
            let front_rgb = rgb(&front.decode()?);
            let back_rgb = back.as_ref().map(|b| b.decode().map(|i| rgb(&i))).transpose()?;
            let mrz_rgb = back_rgb.as_ref().unwrap_or(&front_rgb);
            let read = {
                let mut ocr = engine.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                ocr.read_mrz(mrz_rgb, today).map_err(|e| CheckError::Permanent(format!("OCR: {e}")))?
            };
            let mut signals = trustcap_document::signals::analyze(&front.bytes, &front_rgb, None, 0.0)
                .map_err(|e| CheckError::Permanent(format!("image signals: {e}")))?;
            if let Some(b) = &back
                && signals.editing_software.is_none()
            {
                signals.editing_software = trustcap_document::signals::editing_software(&b.bytes);
                signals.has_exif |= trustcap_document::signals::exif_segment(&b.bytes).is_some();
            }
            let mrz = read.as_ref().map(|r| &r.mrz);
            // The visual zone of the front, turned as the MRZ was when it was read there.
            let front_upright = match &read {
                Some(r) if mrz_step == Step::DocumentFront => trustcap_document::ocr::rotate(&front_rgb, r.rotation),
                _ => front_rgb,
            };
            let lines = {
                let mut ocr = engine.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                ocr.read_lines(&front_upright).map_err(|e| CheckError::Permanent(format!("OCR: {e}")))?
            };
            let lines: Vec<OcrLine> = lines.iter().map(OcrLine::from).collect();
            let viz = viz::extract(&lines, mrz);
            let input = DocumentInput {
                mrz,
                visual: viz.to_visual(mrz),
                applicant,
                policy,
                signals: Some(signals.clone()),
                today,
            };
            let report = DocumentChecks::run(&input, &seen);
            let details = json!({
                "checks_version": report.version,
                "checks": report.checks,
                "mrz": read.as_ref().map(|r| json!({
                    "read_from": mrz_step.as_str(),
                    "format": format!("{:?}", r.mrz.format),
                    "valid": r.mrz.is_valid(),
                    "check_digits_pass": r.mrz.checks_pass(),
                    "rotation": r.rotation,
                })),
                // Age bands only (never the birth date): what a reusable credential may state.
                "age_over": mrz.and_then(|m| m.birth_date).map(|b| age_bands(&b, &today)),
                "visual_zone": {"fields_read": viz.count(), "sources": viz.sources},
                "signals": {"greyscale": signals.greyscale, "editing_software": signals.editing_software,
                            "has_exif": signals.has_exif, "screen_recapture": signals.screen_recapture,
                            "jpeg_regions": signals.jpeg_regions},
            });
            Ok::<_, CheckError>((report, read.is_some(), (details, signals.perceptual_hash)))
        })
        .await
        .map_err(|e| CheckError::Transient(format!("document task: {e}")))??;
        let (details, phash) = details;
        self.remember(ctx, report.mrz_digest.as_deref(), phash).await?;
        Ok(outcome_of(&report, mrz_found, details))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trustcap_document::checks::CheckReport;

    fn report(checks: &[(&'static str, Outcome, &'static str)]) -> DocumentReport {
        DocumentReport {
            version: "document-checks/1",
            checks: checks.iter().map(|&(check, outcome, reason)| CheckReport { check, outcome, reason }).collect(),
            mrz_digest: None,
        }
    }

    #[test]
    fn age_bands_turn_on_the_birthday() {
        let birth = Date::new(2005, 3, 2).unwrap();
        let day_before = Date::new(2023, 3, 1).unwrap();
        assert_eq!(age_bands(&birth, &day_before), json!({"18": false, "21": false}));
        assert_eq!(age_bands(&birth, &Date::new(2023, 3, 2).unwrap()), json!({"18": true, "21": false}));
        assert_eq!(age_bands(&birth, &Date::new(2026, 3, 2).unwrap()), json!({"18": true, "21": true}));
    }

    #[test]
    fn failures_reuse_and_missing_mrz() {
        let ok = report(&[("mrz_valid", Outcome::Pass, "ok"), ("photocopy", Outcome::Pass, "ok")]);
        let o = outcome_of(&ok, true, json!({}));
        assert_eq!((o.status, o.score), (CheckStatus::Passed, 1.0));
        let reused =
            report(&[("mrz_valid", Outcome::Pass, "ok"), ("document_reused", Outcome::Fail, "seen_in_other_session")]);
        let o = outcome_of(&reused, true, json!({}));
        assert_eq!((o.status, o.score), (CheckStatus::Failed, 0.5));
        assert_eq!(o.reasons[0].code, "document.reused");
        let expired =
            report(&[("document_expired", Outcome::Fail, "expired"), ("age_limits", Outcome::Fail, "under_min_age")]);
        let codes: Vec<_> = outcome_of(&expired, true, json!({})).reasons.into_iter().map(|r| r.code).collect();
        assert_eq!(codes, ["document.expired", "document.under_min_age"]);
        let none = report(&[("mrz_valid", Outcome::NotApplicable, "no_mrz"), ("photocopy", Outcome::Pass, "ok")]);
        let o = outcome_of(&none, false, json!({}));
        assert_eq!((o.status, o.reasons[0].code.as_str()), (CheckStatus::Inconclusive, "document.no_mrz"));
        let grey =
            report(&[("mrz_valid", Outcome::NotApplicable, "no_mrz"), ("photocopy", Outcome::Fail, "greyscale_copy")]);
        assert_eq!(outcome_of(&grey, false, json!({})).status, CheckStatus::Failed, "a failure wins over no MRZ");
    }

    #[test]
    fn applicant_fields() {
        let a = applicant_data(Some(
            &json!({"given_names": "Jane Marie", "family_name": "Tester", "date_of_birth": "1988-03-02"}),
        ));
        assert_eq!(a.name.as_deref(), Some("Jane Marie Tester"));
        assert_eq!(a.birth_date, Date::new(1988, 3, 2));
        let a = applicant_data(Some(&json!({"date_of_birth": "1988-02-30"})));
        assert_eq!((a.name, a.birth_date), (None, None));
        assert_eq!(applicant_data(None), ApplicantData::default());
    }
}
