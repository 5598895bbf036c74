//! Ongoing monitoring: after a list update, re-screen the approved applicants of tenants that
//! opted in and compare the new hits with the hits recorded at their last screening. A new hit,
//! or a hit whose listing or score changed, opens a review case and sends a webhook; a hit that
//! disappeared (delisting) is reported without a case. Pure: the verifier stores the records,
//! opens the cases and sends the webhooks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ScreeningConfig;
use crate::model::{Entity, EntityId};
use crate::screener::{Hit, Query, Screener};

/// What is kept of a hit between screenings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HitRecord {
    /// The listed entity.
    pub entity_id: EntityId,
    /// The list version it was found in.
    pub list_version: String,
    /// The score.
    pub score: f32,
    /// The listed name that matched.
    pub matched_name: String,
    /// SHA-256 of the listing's content (names, dates, nationalities, identifiers, programs),
    /// so a changed listing is noticed even when the score is the same.
    pub fingerprint: String,
}

/// Why a hit counts as changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ChangeReason {
    /// The score rose by at least the configured step.
    ScoreRaised {
        /// Before.
        from: f32,
        /// Now.
        to: f32,
    },
    /// The score fell by at least the configured step.
    ScoreLowered {
        /// Before.
        from: f32,
        /// Now.
        to: f32,
    },
    /// Another listed name matches best now.
    MatchedNameChanged {
        /// Before.
        from: String,
        /// Now.
        to: String,
    },
    /// The listing itself changed (new alias, date, identifier, program).
    ListingChanged,
}

/// One difference between the previous and the new hits of an applicant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum HitChange {
    /// A hit that was not there before.
    New {
        /// The hit.
        hit: HitRecord,
    },
    /// A hit that is still there but changed.
    Changed {
        /// Before.
        previous: HitRecord,
        /// Now.
        current: HitRecord,
        /// What changed.
        reasons: Vec<ChangeReason>,
    },
    /// A hit that is gone (delisted, or no longer above the threshold).
    Removed {
        /// The hit as it was.
        hit: HitRecord,
    },
}

impl HitChange {
    /// Whether this change opens a review case (new hits and changed hits whose score did not
    /// merely fall do; removals do not).
    pub fn opens_case(&self) -> bool {
        match self {
            Self::New { .. } => true,
            Self::Changed { reasons, .. } => reasons.iter().any(|r| !matches!(r, ChangeReason::ScoreLowered { .. })),
            Self::Removed { .. } => false,
        }
    }
}

/// The fingerprint of a listing: SHA-256 over its content, without the list version (which
/// changes with every update even when the listing does not).
pub fn entity_fingerprint(entity: &Entity) -> String {
    let content = serde_json::json!({
        "kind": entity.kind,
        "names": entity.names,
        "birth_dates": entity.birth_dates,
        "nationalities": entity.nationalities,
        "gender": entity.gender,
        "identifiers": entity.identifiers,
        "programs": entity.programs,
    });
    hex::encode(Sha256::digest(content.to_string().as_bytes()))
}

impl HitRecord {
    /// The record of a hit, with the fingerprint of its listing.
    pub fn from_hit(hit: &Hit, entity: Option<&Entity>) -> Self {
        Self {
            entity_id: hit.entity_id.clone(),
            list_version: hit.list_version.clone(),
            score: hit.score,
            matched_name: hit.explanation.matched_name.clone(),
            fingerprint: entity.map(entity_fingerprint).unwrap_or_default(),
        }
    }
}

/// Compares previous and current hits of one applicant. A score change counts only when it is
/// at least `min_score_change`. The result is ordered by entity id.
pub fn diff_hits(previous: &[HitRecord], current: &[HitRecord], min_score_change: f32) -> Vec<HitChange> {
    let before: BTreeMap<&EntityId, &HitRecord> = previous.iter().map(|h| (&h.entity_id, h)).collect();
    let now: BTreeMap<&EntityId, &HitRecord> = current.iter().map(|h| (&h.entity_id, h)).collect();
    let mut ids: Vec<&EntityId> = before.keys().chain(now.keys()).copied().collect();
    ids.sort();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        match (before.get(id), now.get(id)) {
            (None, Some(c)) => out.push(HitChange::New { hit: (*c).clone() }),
            (Some(p), None) => out.push(HitChange::Removed { hit: (*p).clone() }),
            (Some(p), Some(c)) => {
                let mut reasons = Vec::new();
                if c.score - p.score >= min_score_change {
                    reasons.push(ChangeReason::ScoreRaised { from: p.score, to: c.score });
                } else if p.score - c.score >= min_score_change {
                    reasons.push(ChangeReason::ScoreLowered { from: p.score, to: c.score });
                }
                if p.matched_name != c.matched_name {
                    reasons.push(ChangeReason::MatchedNameChanged {
                        from: p.matched_name.clone(),
                        to: c.matched_name.clone(),
                    });
                }
                if p.fingerprint != c.fingerprint {
                    reasons.push(ChangeReason::ListingChanged);
                }
                if !reasons.is_empty() {
                    out.push(HitChange::Changed { previous: (*p).clone(), current: (*c).clone(), reasons });
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// An approved applicant to re-screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitoredApplicant {
    /// The verifier's id of the applicant (opaque here).
    pub applicant_id: String,
    /// What they were screened with.
    pub query: Query,
    /// Their hits at the last screening.
    pub previous: Vec<HitRecord>,
}

/// The outcome of re-screening one applicant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitoringOutcome {
    /// The applicant.
    pub applicant_id: String,
    /// The hits now (to store for the next update).
    pub current: Vec<HitRecord>,
    /// What changed.
    pub changes: Vec<HitChange>,
    /// Whether a review case should be opened (and a webhook sent).
    pub opens_case: bool,
}

/// Score changes smaller than this are not reported.
pub const MIN_SCORE_CHANGE: f32 = 0.02;

/// Re-screens applicants against an updated screener.
pub fn rescreen<'a>(
    screener: &'a Screener,
    config: &'a ScreeningConfig,
    applicants: impl IntoIterator<Item = &'a MonitoredApplicant> + 'a,
) -> impl Iterator<Item = MonitoringOutcome> + 'a {
    applicants.into_iter().map(move |a| {
        let result = screener.screen(&a.query, config);
        let current: Vec<HitRecord> =
            result.hits.iter().map(|h| HitRecord::from_hit(h, screener.entity(&h.entity_id))).collect();
        let changes = diff_hits(&a.previous, &current, MIN_SCORE_CHANGE);
        let opens_case = changes.iter().any(HitChange::opens_case);
        MonitoringOutcome { applicant_id: a.applicant_id.clone(), current, changes, opens_case }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, score: f32, name: &str, fp: &str) -> HitRecord {
        HitRecord {
            entity_id: EntityId(id.into()),
            list_version: "x@1".into(),
            score,
            matched_name: name.into(),
            fingerprint: fp.into(),
        }
    }

    #[test]
    fn new_changed_and_removed() {
        let before = vec![rec("a", 0.9, "A", "1"), rec("b", 0.85, "B", "1"), rec("c", 0.9, "C", "1")];
        let after = vec![rec("a", 0.9, "A", "1"), rec("b", 0.85, "B", "2"), rec("d", 0.95, "D", "1")];
        let d = diff_hits(&before, &after, MIN_SCORE_CHANGE);
        assert_eq!(d.len(), 3);
        assert!(matches!(&d[0], HitChange::Changed { reasons, .. } if reasons == &[ChangeReason::ListingChanged]));
        assert!(matches!(&d[1], HitChange::Removed { hit } if hit.entity_id.0 == "c"));
        assert!(matches!(&d[2], HitChange::New { hit } if hit.entity_id.0 == "d"));
        assert!(d[0].opens_case() && !d[1].opens_case() && d[2].opens_case());
    }

    #[test]
    fn small_score_moves_are_not_changes() {
        let d = diff_hits(&[rec("a", 0.9, "A", "1")], &[rec("a", 0.91, "A", "1")], MIN_SCORE_CHANGE);
        assert!(d.is_empty());
        let d = diff_hits(&[rec("a", 0.9, "A", "1")], &[rec("a", 0.8, "A", "1")], MIN_SCORE_CHANGE);
        assert!(!d.iter().any(HitChange::opens_case));
        assert_eq!(d.len(), 1);
    }
}
