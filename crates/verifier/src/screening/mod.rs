//! Sanctions and PEP screening in the service: the loaded list set ([`lists`]), the applicant
//! query, the pipeline check ([`crate::checks::screening`]), the stand-alone endpoint
//! (`POST /v1/screenings`, [`crate::routes::screenings`]) and ongoing monitoring after a list
//! update ([`monitoring`]).

pub mod lists;
pub mod monitoring;

use serde_json::Value;
use trustcap_screening::{BirthDate, Country, EntityKind, Hit, Query, Screener, ScreeningResult};

pub use lists::{ListSet, ScreeningLists};

/// Longest name accepted for screening, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The screening query of a session's applicant data (`given_names` + `family_name`, date of
/// birth, nationality); `None` when the applicant has no name.
pub fn query_from_applicant(applicant: &Value) -> Option<Query> {
    let part = |key: &str| applicant.get(key).and_then(Value::as_str).map(str::trim).unwrap_or("");
    let name = [part("given_names"), part("family_name")].into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>();
    if name.is_empty() {
        return None;
    }
    let name = name.join(" ");
    if name.chars().count() > MAX_NAME_CHARS {
        return None;
    }
    let birth_date = applicant.get("date_of_birth").and_then(Value::as_str).and_then(BirthDate::parse);
    let nationalities =
        applicant.get("nationality").and_then(Value::as_str).and_then(Country::parse).into_iter().collect();
    Some(Query { name, kind: EntityKind::Person, birth_date, nationalities, ..Query::default() })
}

/// One hit as the API and the stored check details show it: the listed party, the list and
/// its version, the score and the explanation (which name parts matched, and how; which
/// qualifiers moved the score).
pub fn hit_json(hit: &Hit) -> Value {
    serde_json::json!({
        "entity_id": hit.entity_id,
        "list": hit.source,
        "list_version": hit.list_version,
        "kind": hit.kind,
        "primary_name": hit.primary_name,
        "programs": hit.programs,
        "score": hit.score,
        "name_score": hit.name_score,
        "explanation": hit.explanation,
    })
}

/// The JSON of a screening result: hits, the list versions screened against, mode and threshold.
pub fn result_json(result: &ScreeningResult) -> Value {
    serde_json::json!({
        "hits": result.hits.iter().map(hit_json).collect::<Vec<_>>(),
        "list_versions": result.list_versions,
        "mode": result.mode,
        "threshold": result.threshold,
    })
}

/// The monitoring records of a result's hits (with each listing's fingerprint).
pub fn hit_records(screener: &Screener, result: &ScreeningResult) -> Vec<trustcap_screening::HitRecord> {
    result.hits.iter().map(|h| trustcap_screening::HitRecord::from_hit(h, screener.entity(&h.entity_id))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applicant_queries() {
        let q = query_from_applicant(&json!({"given_names": " Ivan ", "family_name": "Petrov",
            "date_of_birth": "1970-03-02", "nationality": "RUS"}))
        .unwrap();
        assert_eq!(q.name, "Ivan Petrov");
        assert_eq!(q.kind, EntityKind::Person);
        assert!(q.birth_date.is_some());
        assert_eq!(q.nationalities.len(), 1);
        assert_eq!(q.nationalities[0].iso2(), Some("RU"));
        assert_eq!(query_from_applicant(&json!({"family_name": "Petrov"})).unwrap().name, "Petrov");
        assert!(query_from_applicant(&json!({"given_names": "  ", "address": "x"})).is_none());
        assert!(query_from_applicant(&json!({})).is_none());
        assert!(query_from_applicant(&json!({"family_name": "x".repeat(201)})).is_none());
        let q = query_from_applicant(&json!({"family_name": "Doe", "date_of_birth": "garbage"})).unwrap();
        assert!(q.birth_date.is_none());
    }
}
