//! Per-tenant decision rules and the decision itself.
//!
//! A [`RuleSet`] names the checks that must run, a minimum score per check, weights for
//! the trust score, the trust score needed for automatic approval, and step-up rules
//! ("capture quality failed → ask for a re-take", "face-match score in the grey zone →
//! ask for a new selfie"). Rule sets are versioned: every change stores a new version,
//! and every decision records the version it used. Tenants without rules use
//! [`RuleSet::default`] (version 0).
//!
//! [`decide`] is a pure function of the rule set and the check results, in this order:
//! a required check that is missing or could not run → `review` (never a silent
//! approval; with `address.required`, a missing `address` result counts the same); a
//! step-up rule that fires (the default rules: `capture_quality` failed → re-take,
//! `face_match` in the grey zone → new selfie, `address` failed → new proof of address) → `resubmission_requested` (up to
//! `max_resubmissions`, then `review`); a failed check or a score under its threshold →
//! `declined`; an inconclusive check or a trust score under `approve_at` → `review`;
//! otherwise `approved`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use trustcap_protocol::Step;

use crate::checks::{CheckStatus, Reason};
use crate::domain::SessionStatus;

/// When a step-up rule fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StepUpWhen {
    /// The check's status is `failed`.
    Failed,
    /// The check's score is in `[min, max)` (a grey zone).
    ScoreBetween {
        /// Lower bound, inclusive.
        min: f64,
        /// Upper bound, exclusive.
        max: f64,
    },
}

/// "When `check` ..., ask for `request_steps` again."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepUp {
    /// The check whose result is looked at.
    pub check: String,
    /// The condition.
    pub when: StepUpWhen,
    /// Steps to capture again (empty: every step of the session).
    #[serde(default)]
    pub request_steps: Vec<Step>,
    /// Reason code reported with the request.
    pub reason: String,
}

/// A tenant's decision rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Checks that must have run for any automatic decision.
    pub required_checks: Vec<String>,
    /// Minimum score per check; under it the check counts as failed.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// Weight of each check in the trust score (default 1).
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// Trust score (0-1) needed for automatic approval.
    pub approve_at: f64,
    /// Step-up rules, first match wins.
    #[serde(default)]
    pub step_ups: Vec<StepUp>,
    /// How many resubmissions may be requested before a person decides.
    #[serde(default = "default_max_resubmissions")]
    pub max_resubmissions: i64,
    /// Settings of the `screening` check and of ongoing monitoring.
    #[serde(default)]
    pub screening: ScreeningSettings,
    /// Settings of the `document` check.
    #[serde(default)]
    pub document: DocumentSettings,
    /// Settings of the `address` (proof of address) check.
    #[serde(default)]
    pub address: AddressSettings,
    /// Settings of the `liveness` check.
    #[serde(default)]
    pub liveness: LivenessSettings,
    /// Whether approved applicants can get a reusable credential.
    #[serde(default)]
    pub credential: CredentialSettings,
}

/// A tenant's reusable-credential settings (part of its versioned rules).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSettings {
    /// Approved sessions can be issued an SD-JWT VC (`POST /v1/sessions/{id}/credential`);
    /// off by default.
    #[serde(default)]
    pub enabled: bool,
    /// How long an issued credential is valid, in days (default 365, at most 3650).
    #[serde(default = "default_credential_validity_days")]
    pub validity_days: u32,
}

const fn default_credential_validity_days() -> u32 {
    365
}

impl Default for CredentialSettings {
    fn default() -> Self {
        Self { enabled: false, validity_days: default_credential_validity_days() }
    }
}

/// A tenant's proof-of-address settings (part of its versioned rules).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressSettings {
    /// Oldest accepted statement date, in days (default 90).
    #[serde(default = "default_max_age_days")]
    pub max_age_days: u32,
    /// Address verification is required: a session without a passed `address` check is not
    /// approved (without a `proof_of_address` step it goes to review as
    /// `address.step_missing`).
    #[serde(default)]
    pub required: bool,
}

const fn default_max_age_days() -> u32 {
    90
}

impl Default for AddressSettings {
    fn default() -> Self {
        Self { max_age_days: default_max_age_days(), required: false }
    }
}

/// A tenant's liveness settings (part of its versioned rules).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessSettings {
    /// Liveness score (0-1) a burst needs to pass (default 0.5).
    #[serde(default = "default_liveness_threshold")]
    pub threshold: f64,
}

const fn default_liveness_threshold() -> f64 {
    crate::checks::liveness::DEFAULT_THRESHOLD
}

impl Default for LivenessSettings {
    fn default() -> Self {
        Self { threshold: default_liveness_threshold() }
    }
}

/// A tenant's screening settings (part of its versioned rules).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningSettings {
    /// `default` (tuned matching with qualifiers) or `ofac_parity` (OFAC Sanctions List
    /// Search-like scoring).
    #[serde(default)]
    pub mode: trustcap_screening::Mode,
    /// Hits scoring at least this are reported (default: the mode's own threshold).
    #[serde(default)]
    pub threshold: Option<f32>,
    /// Re-screen this tenant's approved applicants when the lists are updated.
    #[serde(default)]
    pub monitoring: bool,
}

impl Default for ScreeningSettings {
    fn default() -> Self {
        Self { mode: trustcap_screening::Mode::Default, threshold: None, monitoring: false }
    }
}

impl ScreeningSettings {
    /// The screening crate's configuration for these settings.
    pub fn config(&self) -> trustcap_screening::ScreeningConfig {
        let mut config = match self.mode {
            trustcap_screening::Mode::Default => trustcap_screening::ScreeningConfig::default(),
            trustcap_screening::Mode::OfacParity => trustcap_screening::ScreeningConfig::ofac_parity(),
        };
        if let Some(t) = self.threshold {
            config.threshold = t;
        }
        config.monitoring = self.monitoring;
        config
    }
}

/// A tenant's document-check settings (part of its versioned rules).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSettings {
    /// Minimum age in whole years (default 18; `null`: none).
    #[serde(default = "default_min_age")]
    pub min_age: Option<u8>,
    /// Maximum age in whole years.
    #[serde(default)]
    pub max_age: Option<u8>,
}

const fn default_min_age() -> Option<u8> {
    Some(18)
}

impl Default for DocumentSettings {
    fn default() -> Self {
        Self { min_age: default_min_age(), max_age: None }
    }
}

/// The grey zone of the face-match score (calibrated similarity) in the default rules: a
/// weak match or a weak non-match asks for a new selfie rather than deciding.
pub const FACE_GREY_ZONE: (f64, f64) = (0.3, 0.6);

const fn default_max_resubmissions() -> i64 {
    1
}

impl Default for RuleSet {
    fn default() -> Self {
        Self {
            required_checks: vec!["capture_quality".into(), "capture_integrity".into()],
            thresholds: BTreeMap::from([("capture_quality".into(), 1.0), ("capture_integrity".into(), 1.0)]),
            weights: BTreeMap::new(),
            approve_at: 0.8,
            step_ups: vec![
                StepUp {
                    check: "capture_quality".into(),
                    when: StepUpWhen::Failed,
                    request_steps: Vec::new(),
                    reason: "capture_quality.retake".into(),
                },
                StepUp {
                    check: "face_match".into(),
                    when: StepUpWhen::ScoreBetween { min: FACE_GREY_ZONE.0, max: FACE_GREY_ZONE.1 },
                    request_steps: vec![Step::Selfie],
                    reason: "face_match.grey_zone".into(),
                },
                StepUp {
                    check: "address".into(),
                    when: StepUpWhen::Failed,
                    request_steps: vec![Step::ProofOfAddress],
                    reason: "address.step_up".into(),
                },
            ],
            max_resubmissions: 1,
            screening: ScreeningSettings::default(),
            document: DocumentSettings::default(),
            address: AddressSettings::default(),
            liveness: LivenessSettings::default(),
            credential: CredentialSettings::default(),
        }
    }
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn unit(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

impl RuleSet {
    /// Parses and checks a rule set from untrusted JSON.
    pub fn parse(value: serde_json::Value) -> Result<Self, String> {
        let rules: Self = serde_json::from_value(value).map_err(|e| format!("rules: {e}"))?;
        let names = rules.required_checks.iter().chain(rules.thresholds.keys()).chain(rules.weights.keys());
        if let Some(bad) = names.clone().find(|n| !is_name(n)) {
            return Err(format!("rules: {bad:?} is not a check name"));
        }
        if rules.required_checks.len() > 32 || rules.thresholds.len() > 32 || rules.weights.len() > 32 {
            return Err("rules: at most 32 checks".into());
        }
        if !rules.thresholds.values().all(|&t| unit(t)) || !unit(rules.approve_at) || !unit(rules.liveness.threshold) {
            return Err("rules: thresholds and approve_at must be within 0..1".into());
        }
        if !rules.weights.values().all(|&w| w.is_finite() && (0.0..=100.0).contains(&w)) {
            return Err("rules: weights must be within 0..100".into());
        }
        if rules.step_ups.len() > 16 || !(0..=5).contains(&rules.max_resubmissions) {
            return Err("rules: at most 16 step-ups and 0-5 resubmissions".into());
        }
        let t = rules.screening.threshold;
        if t.is_some_and(|t| !(t.is_finite() && (0.0..=1.0).contains(&t))) {
            return Err("rules: screening.threshold must be within 0..1".into());
        }
        if let (Some(min), Some(max)) = (rules.document.min_age, rules.document.max_age)
            && min > max
        {
            return Err("rules: document.min_age must not exceed document.max_age".into());
        }
        if !(1..=3650).contains(&rules.address.max_age_days) {
            return Err("rules: address.max_age_days must be within 1..3650".into());
        }
        if !(1..=3650).contains(&rules.credential.validity_days) {
            return Err("rules: credential.validity_days must be within 1..3650".into());
        }
        for s in &rules.step_ups {
            let window_ok = match s.when {
                StepUpWhen::Failed => true,
                StepUpWhen::ScoreBetween { min, max } => unit(min) && unit(max) && min < max,
            };
            if !is_name(&s.check) || !is_name(&s.reason) && !s.reason.contains('.') || !window_ok || s.reason.len() > 64
            {
                return Err("rules: a step-up needs a check name, a reason code and 0 <= min < max <= 1".into());
            }
        }
        Ok(rules)
    }
}

/// The stored result of one check, as the decision sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckResult {
    /// The check ran.
    Ran {
        /// Its verdict.
        status: CheckStatus,
        /// Its score.
        score: f64,
        /// Its reasons.
        reasons: Vec<Reason>,
    },
    /// The check could not run (a permanent error, or retries exhausted).
    Error(String),
}

/// What the rules decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The new state: approved, declined, review or resubmission_requested.
    #[serde(serialize_with = "ser_state")]
    pub state: SessionStatus,
    /// Weighted mean of the check scores, 0-1.
    pub trust_score: f64,
    /// Why, most important first.
    pub reasons: Vec<Reason>,
    /// For a resubmission request: the steps to capture again.
    pub requested_steps: Vec<Step>,
    /// The rule-set version used.
    pub rule_set_version: i64,
}

fn ser_state<S: serde::Serializer>(state: &SessionStatus, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(state.as_str())
}

/// Decides from the rule set (`version`) and the results by check name. `steps` are the
/// session's steps; `round` is the number of resubmissions so far.
pub fn decide(
    rules: &RuleSet,
    version: i64,
    results: &BTreeMap<String, CheckResult>,
    steps: &[Step],
    round: i64,
) -> Decision {
    let mut reasons = Vec::new();
    let (mut weighted, mut weights) = (0.0, 0.0);
    for (name, result) in results {
        if let CheckResult::Ran { score, .. } = result {
            let w = rules.weights.get(name).copied().unwrap_or(1.0);
            weighted += w * score.clamp(0.0, 1.0);
            weights += w;
        }
    }
    let trust_score = if weights > 0.0 { (weighted / weights * 1000.0).round() / 1000.0 } else { 0.0 };
    let decision = |state, reasons, requested_steps| Decision {
        state,
        trust_score,
        reasons,
        requested_steps,
        rule_set_version: version,
    };

    // 1. Anything that could not run: a person decides.
    for name in &rules.required_checks {
        if !results.contains_key(name) {
            reasons.push(Reason::new(format!("{name}.not_run"), format!("the required check {name} is not available")));
        }
    }
    if rules.address.required && !results.contains_key("address") {
        reasons.push(if steps.contains(&Step::ProofOfAddress) {
            Reason::new("address.not_run", "the required check address is not available")
        } else {
            Reason::new(
                "address.step_missing",
                "address verification is required but the session has no proof_of_address step",
            )
        });
    }
    for (name, result) in results {
        if let CheckResult::Error(_) = result {
            reasons.push(Reason::new(format!("{name}.error"), format!("the check {name} could not run")));
        }
    }
    if !reasons.is_empty() {
        return decision(SessionStatus::Review, reasons, Vec::new());
    }

    // 2. Step-ups.
    for rule in &rules.step_ups {
        let Some(CheckResult::Ran { status, score, reasons: check_reasons }) = results.get(&rule.check) else {
            continue;
        };
        let fires = match rule.when {
            StepUpWhen::Failed => *status == CheckStatus::Failed,
            StepUpWhen::ScoreBetween { min, max } => *score >= min && *score < max,
        };
        if !fires {
            continue;
        }
        let mut requested: Vec<Step> = rule.request_steps.iter().copied().filter(|s| steps.contains(s)).collect();
        if requested.is_empty() {
            requested = steps.to_vec();
        }
        let mut why = vec![Reason::new(rule.reason.clone(), format!("step-up rule on {}", rule.check))];
        why.extend(check_reasons.iter().cloned());
        if round < rules.max_resubmissions {
            return decision(SessionStatus::ResubmissionRequested, why, requested);
        }
        why.insert(0, Reason::new("resubmissions_exhausted", "the applicant was already asked to resubmit"));
        return decision(SessionStatus::Review, why, Vec::new());
    }

    // 3. Failures and thresholds.
    let mut inconclusive = Vec::new();
    for (name, result) in results {
        let CheckResult::Ran { status, score, reasons: check_reasons } = result else { continue };
        let threshold = rules.thresholds.get(name).copied().unwrap_or(0.0);
        if *status == CheckStatus::Failed || *score < threshold {
            reasons
                .push(Reason::new(format!("{name}.failed"), format!("{name} scored {score:.3} (minimum {threshold})")));
            reasons.extend(check_reasons.iter().cloned());
        } else if *status == CheckStatus::Inconclusive {
            inconclusive.push(Reason::new(format!("{name}.inconclusive"), format!("{name} is inconclusive")));
            inconclusive.extend(check_reasons.iter().cloned());
        }
    }
    if !reasons.is_empty() {
        return decision(SessionStatus::Declined, reasons, Vec::new());
    }
    if !inconclusive.is_empty() {
        return decision(SessionStatus::Review, inconclusive, Vec::new());
    }
    if trust_score < rules.approve_at {
        let why = vec![Reason::new("trust_score.low", format!("trust score {trust_score} < {}", rules.approve_at))];
        return decision(SessionStatus::Review, why, Vec::new());
    }
    decision(
        SessionStatus::Approved,
        vec![Reason::new("all_checks_passed", "every check passed the rules")],
        Vec::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ran(status: CheckStatus, score: f64) -> CheckResult {
        CheckResult::Ran { status, score, reasons: Vec::new() }
    }

    fn results(items: &[(&str, CheckResult)]) -> BTreeMap<String, CheckResult> {
        items.iter().map(|(n, r)| ((*n).to_owned(), r.clone())).collect()
    }

    const STEPS: &[Step] = &[Step::DocumentFront, Step::Selfie];

    #[test]
    fn approval_needs_every_required_check() {
        let rules = RuleSet::default();
        let all = results(&[
            ("capture_quality", ran(CheckStatus::Passed, 1.0)),
            ("capture_integrity", ran(CheckStatus::Passed, 1.0)),
        ]);
        let d = decide(&rules, 3, &all, STEPS, 0);
        assert_eq!(d.state, SessionStatus::Approved);
        assert_eq!((d.trust_score, d.rule_set_version), (1.0, 3));

        let missing = results(&[("capture_quality", ran(CheckStatus::Passed, 1.0))]);
        let d = decide(&rules, 0, &missing, STEPS, 0);
        assert_eq!(d.state, SessionStatus::Review);
        assert_eq!(d.reasons[0].code, "capture_integrity.not_run");

        let errored = results(&[
            ("capture_quality", ran(CheckStatus::Passed, 1.0)),
            ("capture_integrity", CheckResult::Error("boom".into())),
        ]);
        assert_eq!(decide(&rules, 0, &errored, STEPS, 0).state, SessionStatus::Review);
    }

    #[test]
    fn step_ups_failures_and_grey_zones() {
        let mut rules = RuleSet::default();
        rules.required_checks.push("face_match".into());
        rules.thresholds.insert("face_match".into(), 0.6);
        rules.step_ups.push(StepUp {
            check: "face_match".into(),
            when: StepUpWhen::ScoreBetween { min: 0.4, max: 0.6 },
            request_steps: vec![Step::Selfie],
            reason: "face_match.grey_zone".into(),
        });
        let with_face = |status, score| {
            results(&[
                ("capture_quality", ran(CheckStatus::Passed, 1.0)),
                ("capture_integrity", ran(CheckStatus::Passed, 1.0)),
                ("face_match", ran(status, score)),
            ])
        };
        let d = decide(&rules, 1, &with_face(CheckStatus::Inconclusive, 0.5), STEPS, 0);
        assert_eq!(d.state, SessionStatus::ResubmissionRequested);
        assert_eq!(d.requested_steps, vec![Step::Selfie]);
        assert_eq!(d.reasons[0].code, "face_match.grey_zone");
        // The second time, a person decides.
        assert_eq!(
            decide(&rules, 1, &with_face(CheckStatus::Inconclusive, 0.5), STEPS, 1).state,
            SessionStatus::Review
        );
        let d = decide(&rules, 1, &with_face(CheckStatus::Failed, 0.1), STEPS, 0);
        assert_eq!(d.state, SessionStatus::Declined);
        assert_eq!(d.reasons[0].code, "face_match.failed");
        assert_eq!(decide(&rules, 1, &with_face(CheckStatus::Passed, 0.9), STEPS, 0).state, SessionStatus::Approved);
        // Quality failure: re-take of every step by default.
        let poor = results(&[
            ("capture_quality", ran(CheckStatus::Failed, 0.0)),
            ("capture_integrity", ran(CheckStatus::Passed, 1.0)),
        ]);
        let d = decide(&RuleSet::default(), 0, &poor, STEPS, 0);
        assert_eq!((d.state, d.requested_steps.as_slice()), (SessionStatus::ResubmissionRequested, STEPS));
        assert_eq!(d.trust_score, 0.5);
    }

    #[test]
    fn default_rules_ask_for_a_new_selfie_in_the_face_grey_zone() {
        let rules = RuleSet::default();
        let with_face = |status, score| {
            results(&[
                ("capture_quality", ran(CheckStatus::Passed, 1.0)),
                ("capture_integrity", ran(CheckStatus::Passed, 1.0)),
                ("face_match", ran(status, score)),
            ])
        };
        for (status, score) in [(CheckStatus::Passed, 0.55), (CheckStatus::Failed, 0.35), (CheckStatus::Passed, 0.3)] {
            let d = decide(&rules, 0, &with_face(status, score), STEPS, 0);
            assert_eq!(d.state, SessionStatus::ResubmissionRequested, "{score}");
            assert_eq!(d.requested_steps, vec![Step::Selfie]);
            assert_eq!(d.reasons[0].code, "face_match.grey_zone");
            // Once re-taken, a person decides.
            assert_eq!(decide(&rules, 0, &with_face(status, score), STEPS, 1).state, SessionStatus::Review);
        }
        assert_eq!(decide(&rules, 0, &with_face(CheckStatus::Passed, 0.9), STEPS, 0).state, SessionStatus::Approved);
        assert_eq!(decide(&rules, 0, &with_face(CheckStatus::Failed, 0.1), STEPS, 0).state, SessionStatus::Declined);
        // A quality-gated face (inconclusive, score 0) is not a re-take but a review.
        assert_eq!(
            decide(&rules, 0, &with_face(CheckStatus::Inconclusive, 0.0), STEPS, 0).state,
            SessionStatus::Review
        );
        // The step-up is part of the stored, round-tripping rules.
        let back = RuleSet::parse(serde_json::to_value(&rules).unwrap()).unwrap();
        assert_eq!(back, rules);
    }

    #[test]
    fn tenant_check_settings() {
        let r = RuleSet::parse(json!({"required_checks": ["screening"], "approve_at": 0.8,
            "screening": {"mode": "ofac_parity", "monitoring": true}, "document": {"min_age": 21, "max_age": 99}}))
        .unwrap();
        assert_eq!(r.screening.config().mode, trustcap_screening::Mode::OfacParity);
        assert_eq!(r.screening.config().threshold, trustcap_screening::config::OFAC_PARITY_THRESHOLD);
        assert!(r.screening.monitoring);
        assert_eq!((r.document.min_age, r.document.max_age), (Some(21), Some(99)));
        let r = RuleSet::parse(json!({"required_checks": [], "approve_at": 0.8})).unwrap();
        assert_eq!(r.document.min_age, Some(18));
        assert!(!r.screening.monitoring);
        for bad in [
            json!({"required_checks": [], "approve_at": 0.5, "screening": {"threshold": 2.0}}),
            json!({"required_checks": [], "approve_at": 0.5, "screening": {"mode": "strict"}}),
            json!({"required_checks": [], "approve_at": 0.5, "document": {"min_age": 30, "max_age": 20}}),
            json!({"required_checks": [], "approve_at": 0.5, "document": {"min_age": 300}}),
        ] {
            assert!(RuleSet::parse(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn low_trust_and_inconclusive_go_to_review() {
        let mut rules = RuleSet::default();
        rules.thresholds.clear();
        rules.step_ups.clear();
        let r = results(&[
            ("capture_quality", ran(CheckStatus::Passed, 0.5)),
            ("capture_integrity", ran(CheckStatus::Passed, 0.5)),
        ]);
        let d = decide(&rules, 0, &r, STEPS, 0);
        assert_eq!((d.state, d.reasons[0].code.as_str()), (SessionStatus::Review, "trust_score.low"));
        let r = results(&[
            ("capture_quality", ran(CheckStatus::Passed, 1.0)),
            ("capture_integrity", ran(CheckStatus::Inconclusive, 0.9)),
        ]);
        assert_eq!(decide(&rules, 0, &r, STEPS, 0).state, SessionStatus::Review);
    }

    #[test]
    fn parsing_untrusted_rules() {
        let ok = RuleSet::parse(json!({"required_checks": ["capture_quality"], "approve_at": 0.9,
            "step_ups": [{"check": "face_match", "when": {"score_between": {"min": 0.4, "max": 0.6}},
                          "request_steps": ["selfie"], "reason": "face_match.grey_zone"}]}))
        .unwrap();
        assert_eq!(ok.max_resubmissions, 1);
        assert_eq!(RuleSet::parse(serde_json::to_value(RuleSet::default()).unwrap()).unwrap(), RuleSet::default());
        for bad in [
            json!({"required_checks": [], "approve_at": 1.5}),
            json!({"required_checks": ["Bad Name"], "approve_at": 0.5}),
            json!({"required_checks": [], "approve_at": 0.5, "extra": 1}),
            json!({"required_checks": [], "approve_at": 0.5, "thresholds": {"x": -1.0}}),
            json!({"required_checks": [], "approve_at": 0.5, "liveness": {"threshold": 1.5}}),
            json!({"required_checks": [], "approve_at": 0.5, "step_ups": [{"check": "x", "when": {"score_between": {"min": 0.6, "max": 0.4}}, "reason": "r"}]}),
            json!("nope"),
        ] {
            assert!(RuleSet::parse(bad.clone()).is_err(), "{bad}");
        }
    }
}
