//! `address`: proof of address, through `trustcap_document::address` (PP-OCR, the same models
//! as the `document` check).
//!
//! Runs for sessions with a `proof_of_address` step: the bill or bank statement photo is read,
//! and its addressee line, address block and statement date are compared with the applicant's
//! declared `given_names`, `family_name` and `address` (rules: `address.max_age_days`, default
//! 90). Outcome: every check passes → `passed`; a failing check → `failed` with
//! `address.mismatch`, `address.name_mismatch`, `address.stale` or `address.date_in_future`
//! (the default rules then ask for a new proof of address once, see `rules`); an unreadable
//! photo or nothing declared → `inconclusive` (`address.unreadable`, `address.not_declared`).
//! OCR models missing: a permanent error (→ review), never a pass.

use serde_json::{Value, json};
use trustcap_document::address::{AddressPolicy, AddressReport, DeclaredAddress, verify_image};
use trustcap_document::checks::Outcome;
use trustcap_document::mrz::Date;
use trustcap_protocol::Step;

use super::document::DocumentEngine;
use super::{Check, CheckContext, CheckError, CheckOutcome, CheckStatus, Reason};

/// Version of this check's behaviour.
pub const VERSION: &str = "1.0.0";

/// The proof-of-address check.
#[derive(Debug, Clone)]
pub struct AddressCheck {
    engine: DocumentEngine,
}

impl AddressCheck {
    /// The check over the (shared) OCR engine.
    pub fn new(engine: DocumentEngine) -> Self {
        Self { engine }
    }
}

/// The applicant's declared name and address as the address checks take them.
pub fn declared(applicant: Option<&Value>) -> DeclaredAddress {
    let part = |k: &str| {
        applicant.and_then(|a| a.get(k)).and_then(Value::as_str).map(str::trim).unwrap_or_default().to_owned()
    };
    DeclaredAddress { given_names: part("given_names"), family_name: part("family_name"), address: part("address") }
}

/// Turns the report into the check's outcome (pure; unit-tested).
pub fn outcome_of(report: &AddressReport) -> CheckOutcome {
    let details = json!({
        "version": report.version,
        "checks": report.checks,
        "address_score": report.address.score,
        "address_numbers_match": report.address.numbers_match,
        "name_score": report.name_score,
        "age_days": report.age_days,
    });
    let failed: Vec<_> = report.checks.iter().filter(|c| c.outcome == Outcome::Fail).collect();
    let score = f64::from(report.address.score.clamp(0.0, 1.0));
    if !failed.is_empty() {
        let reasons = failed
            .iter()
            .map(|c| Reason::new(c.reason, format!("the proof-of-address check {} failed", c.check)))
            .collect();
        return CheckOutcome { status: CheckStatus::Failed, score, reasons, details, artifacts: Vec::new() };
    }
    let open: Vec<_> = report.checks.iter().filter(|c| c.outcome == Outcome::NotApplicable).collect();
    if !open.is_empty() {
        let mut reasons: Vec<Reason> = Vec::new();
        for c in open {
            if !reasons.iter().any(|r| r.code == c.reason) {
                reasons.push(Reason::new(c.reason, format!("the proof-of-address check {} could not apply", c.check)));
            }
        }
        return CheckOutcome { status: CheckStatus::Inconclusive, score: 0.5, reasons, details, artifacts: Vec::new() };
    }
    let reasons = vec![Reason::new("address.ok", "name, address and date of the proof of address check out")];
    CheckOutcome { status: CheckStatus::Passed, score: 1.0, reasons, details, artifacts: Vec::new() }
}

#[async_trait::async_trait]
impl Check for AddressCheck {
    fn name(&self) -> &'static str {
        "address"
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn required_steps(&self) -> &'static [Step] {
        &[Step::ProofOfAddress]
    }

    async fn run(&self, ctx: &CheckContext) -> Result<CheckOutcome, CheckError> {
        let engine = self.engine.engine()?;
        let image = ctx
            .capture(Step::ProofOfAddress)
            .and_then(|c| c.images.first())
            .cloned()
            .ok_or_else(|| CheckError::Permanent("no proof_of_address image".into()))?;
        let declared = declared(ctx.applicant.as_ref());
        let policy = AddressPolicy { max_age_days: ctx.rules.address.max_age_days, ..AddressPolicy::default() };
        let today = Date::today_utc();
        let report = tokio::task::spawn_blocking(move || {
            let rgb = image::DynamicImage::ImageRgba8(image.decode()?).to_rgb8();
            let mut ocr = engine.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            verify_image(&mut ocr, &rgb, &declared, &policy, today)
                .map_err(|e| CheckError::Permanent(format!("OCR: {e}")))
        })
        .await
        .map_err(|e| CheckError::Transient(format!("address task: {e}")))??;
        Ok(outcome_of(&report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustcap_document::address::verify;
    use trustcap_document::viz::OcrLine;

    fn bill(address: &str, date: &str) -> Vec<OcrLine> {
        [("POWER CO", 10.0), ("MRS JANE TESTER", 100.0), (address, 124.0), (date, 300.0), ("Amount due 10.00", 330.0)]
            .iter()
            .map(|(t, y)| OcrLine::new(*t, 10.0, *y, 300.0, y + 20.0))
            .collect()
    }

    #[test]
    fn outcomes_and_codes() {
        let applicant =
            json!({"given_names": "Jane", "family_name": "Tester", "address": "12 Acacia Avenue, Springfield"});
        let d = declared(Some(&applicant));
        let today = Date::new(2026, 11, 26).unwrap();
        let p = AddressPolicy::default();
        let ok = outcome_of(&verify(&bill("12 ACACIA AVE SPRINGFIELD", "Statement date 01.11.2026"), &d, &p, today));
        assert_eq!((ok.status, ok.score), (CheckStatus::Passed, 1.0));
        let bad = outcome_of(&verify(&bill("48 OAK ROAD SHELBYVILLE", "Statement date 01.11.2026"), &d, &p, today));
        assert_eq!((bad.status, bad.reasons[0].code.as_str()), (CheckStatus::Failed, "address.mismatch"));
        let old = outcome_of(&verify(&bill("12 ACACIA AVE SPRINGFIELD", "Statement date 01.01.2026"), &d, &p, today));
        assert_eq!((old.status, old.reasons[0].code.as_str()), (CheckStatus::Failed, "address.stale"));
        let none = outcome_of(&verify(&bill("12 ACACIA AVE SPRINGFIELD", "no date"), &d, &p, today));
        assert_eq!((none.status, none.reasons[0].code.as_str()), (CheckStatus::Inconclusive, "address.unreadable"));
        assert_eq!(declared(None), DeclaredAddress::default());
        // No PII in the stored details.
        let text = ok.details.to_string();
        assert!(!text.contains("ACACIA") && !text.contains("TESTER"), "{text}");
    }
}
