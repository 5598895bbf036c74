//! The proof-of-address step-up in the decision rules: a failed `address` check asks for a
//! new `proof_of_address` once, then a person decides; tenants that require address
//! verification never get an approval without a passed `address` check.

use std::collections::BTreeMap;

use trustcap_protocol::Step;
use trustcap_verifier::checks::{CheckStatus, Reason};
use trustcap_verifier::domain::SessionStatus;
use trustcap_verifier::rules::{CheckResult, RuleSet, decide};

fn ran(status: CheckStatus, score: f64, reason: &str) -> CheckResult {
    CheckResult::Ran { status, score, reasons: vec![Reason::new(reason, "test")] }
}

fn results(address: Option<CheckResult>) -> BTreeMap<String, CheckResult> {
    let mut r = BTreeMap::from([
        ("capture_quality".to_owned(), ran(CheckStatus::Passed, 1.0, "ok")),
        ("capture_integrity".to_owned(), ran(CheckStatus::Passed, 1.0, "ok")),
    ]);
    if let Some(a) = address {
        r.insert("address".into(), a);
    }
    r
}

const WITH_POA: &[Step] = &[Step::DocumentFront, Step::Selfie, Step::ProofOfAddress];

#[test]
fn a_failed_address_check_asks_for_a_new_proof_of_address_once() {
    let rules = RuleSet::default();
    let failed = results(Some(ran(CheckStatus::Failed, 0.2, "address.mismatch")));
    let d = decide(&rules, 0, &failed, WITH_POA, 0);
    assert_eq!(d.state, SessionStatus::ResubmissionRequested);
    assert_eq!(d.requested_steps, vec![Step::ProofOfAddress]);
    let codes: Vec<_> = d.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["address.step_up", "address.mismatch"]);
    // After the new upload, a person decides.
    assert_eq!(decide(&rules, 0, &failed, WITH_POA, 1).state, SessionStatus::Review);
    let stale = results(Some(ran(CheckStatus::Failed, 1.0, "address.stale")));
    assert_eq!(decide(&rules, 0, &stale, WITH_POA, 0).requested_steps, vec![Step::ProofOfAddress]);
    // A passed check approves; an unreadable one goes to a person.
    let passed = results(Some(ran(CheckStatus::Passed, 1.0, "address.ok")));
    assert_eq!(decide(&rules, 0, &passed, WITH_POA, 0).state, SessionStatus::Approved);
    let unreadable = results(Some(ran(CheckStatus::Inconclusive, 0.5, "address.unreadable")));
    assert_eq!(decide(&rules, 0, &unreadable, WITH_POA, 0).state, SessionStatus::Review);
}

#[test]
fn required_address_verification() {
    let mut rules = RuleSet::parse(serde_json::json!({
        "required_checks": ["capture_quality", "capture_integrity"],
        "approve_at": 0.8,
        "address": {"required": true, "max_age_days": 30}
    }))
    .expect("rules");
    assert_eq!(rules.address.max_age_days, 30);
    // Without the step: review, with the reason.
    let d = decide(&rules, 0, &results(None), &[Step::DocumentFront], 0);
    assert_eq!((d.state, d.reasons[0].code.as_str()), (SessionStatus::Review, "address.step_missing"));
    // With the step but no result (models missing): review.
    let d = decide(&rules, 0, &results(None), WITH_POA, 0);
    assert_eq!((d.state, d.reasons[0].code.as_str()), (SessionStatus::Review, "address.not_run"));
    let passed = results(Some(ran(CheckStatus::Passed, 1.0, "address.ok")));
    assert_eq!(decide(&rules, 0, &passed, WITH_POA, 0).state, SessionStatus::Approved);
    // Not required: sessions without the step are decided as before.
    rules.address.required = false;
    assert_eq!(decide(&rules, 0, &results(None), &[Step::DocumentFront], 0).state, SessionStatus::Approved);
    for bad in [0, 5000] {
        let r = RuleSet::parse(serde_json::json!({"required_checks": [], "approve_at": 0.8,
            "address": {"max_age_days": bad}}));
        assert!(r.is_err(), "{bad}");
    }
}
