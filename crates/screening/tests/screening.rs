//! The screener end to end on a small list: typos, word order, transliteration, weak aliases,
//! qualifiers, identifiers, modes, explanations, list versions, and monitoring after an update.

use std::sync::Arc;

use trustcap_screening::config::DEFAULT_THRESHOLD;
use trustcap_screening::monitor::{HitChange, HitRecord, MonitoredApplicant, rescreen};
use trustcap_screening::screener::Qualifier;
use trustcap_screening::{
    BirthDate, Country, Entity, EntityKind, Gender, Identifier, ListSource, ListVersion, MatchHow, Mode, NameStrength,
    Query, Screener, ScreeningConfig,
};

fn version(v: &str) -> ListVersion {
    ListVersion { source: ListSource::OfacSdn, version: v.into(), sha256: "0".repeat(64) }
}

fn entities(v: &str) -> Vec<Entity> {
    let lv: Arc<str> = Arc::from(format!("ofac-sdn@{v}"));
    let mut gaddafi = Entity::new(ListSource::OfacSdn, "1", lv.clone(), EntityKind::Person);
    gaddafi.add_name_str("QADHAFI, Muammar", NameStrength::Primary);
    gaddafi.add_name_str("Муаммар Каддафи", NameStrength::Strong);
    gaddafi.add_name_str("ABU MINYAR", NameStrength::Weak);
    gaddafi.birth_dates.push(BirthDate::Year { year: 1942 });
    gaddafi.nationalities.push(Country::parse("Libya").expect("country"));
    gaddafi.gender = Some(Gender::Male);
    let mut bank = Entity::new(ListSource::OfacSdn, "2", lv.clone(), EntityKind::Organization);
    bank.add_name_str("GAZPROMBANK JOINT STOCK COMPANY", NameStrength::Primary);
    bank.add_identifier(Identifier::new("Registration Number", "1027700167110", None));
    let mut smith = Entity::new(ListSource::OfacSdn, "3", lv.clone(), EntityKind::Person);
    smith.add_name_str("SMITH, John William", NameStrength::Primary);
    smith.birth_dates.push(BirthDate::Full { year: 1970, month: 5, day: 1 });
    let mut vessel = Entity::new(ListSource::OfacSdn, "4", lv, EntityKind::Vessel);
    vessel.add_name_str("HELLENIC SPIRIT", NameStrength::Primary);
    vec![gaddafi, bank, smith, vessel]
}

fn screener() -> Screener {
    Screener::new(entities("2024-01-01"), vec![version("2024-01-01")])
}

fn top(s: &Screener, q: &Query) -> Option<(String, f32)> {
    s.screen_default(q).hits.first().map(|h| (h.entity_id.0.clone(), h.score))
}

#[test]
fn finds_variants_typos_order_and_scripts() {
    let s = screener();
    for name in ["Muammar Gaddafi", "Moammar Qaddafi", "Gaddafi Muammar", "Муаммар Каддафи", "muammar qadhafi"]
    {
        let hit = top(&s, &Query::name(name));
        assert_eq!(hit.as_ref().map(|h| h.0.as_str()), Some("ofac-sdn:1"), "{name}");
    }
    assert_eq!(top(&s, &Query::name("Gazprombank JSC")).map(|h| h.0), Some("ofac-sdn:2".into()));
    assert_eq!(
        top(&s, &Query::name("Bill Smith")).map(|h| h.0),
        Some("ofac-sdn:3".into()),
        "a nickname of a middle name"
    );
    assert_eq!(top(&s, &Query::name("Jane Smith")).map(|h| h.0), None, "another given name");
    assert_eq!(top(&s, &Query::name("John W. Smith")).map(|h| h.0), Some("ofac-sdn:3".into()));
    assert_eq!(top(&s, &Query::name("Jane Doe")), None);
    assert_eq!(top(&s, &Query::name("")), None);
}

#[test]
fn hits_are_explained_and_versioned() {
    let s = screener();
    let r = s.screen_default(&Query::name("Moammar Qaddafi"));
    assert_eq!(r.list_versions, vec![version("2024-01-01")]);
    let hit = &r.hits[0];
    assert_eq!(hit.list_version, "ofac-sdn@2024-01-01");
    assert!(hit.score >= DEFAULT_THRESHOLD);
    let parts = &hit.explanation.name.parts;
    assert_eq!(parts.len(), 2);
    assert!(parts.iter().any(|p| p.query == "moammar" && p.candidate == "muammar"));
    assert!(parts.iter().any(|p| p.how == MatchHow::Phonetic || p.how == MatchHow::Fuzzy));
    assert!(hit.explanation.name.unmatched_query.is_empty());
}

#[test]
fn qualifiers_raise_and_lower() {
    let s = screener();
    let base = top(&s, &Query::name("Muammar Gaddafi")).expect("hit").1;
    let agree = Query {
        birth_date: Some(BirthDate::Full { year: 1942, month: 6, day: 7 }),
        nationalities: vec![Country::parse("LY").expect("c")],
        ..Query::name("Muammar Gaddafi")
    };
    let raised = s.screen_default(&agree);
    assert!(raised.hits[0].score > base);
    assert!(
        raised.hits[0].explanation.qualifiers.iter().any(|q| q.qualifier == Qualifier::BirthDate && q.effect > 0.0)
    );
    let conflict = Query {
        birth_date: Some(BirthDate::Full { year: 1990, month: 1, day: 1 }),
        gender: Some(Gender::Female),
        nationalities: vec![Country::parse("Norway").expect("c")],
        ..Query::name("Muammar Gaddafi")
    };
    let config = ScreeningConfig { threshold: 0.0, ..ScreeningConfig::default() };
    let lowered = s.screen(&conflict, &config);
    let hit = lowered.hits.iter().find(|h| h.entity_id.0 == "ofac-sdn:1").expect("hit");
    assert!(hit.score < base - 0.2, "{} vs {base}", hit.score);
    assert_eq!(hit.explanation.qualifiers.len(), 3);
}

#[test]
fn weak_aliases_need_corroboration() {
    let s = screener();
    let config = ScreeningConfig { threshold: 0.5, ..ScreeningConfig::default() };
    let alone = s.screen(&Query::name("Abu Minyar"), &config);
    let hit = alone.hits.iter().find(|h| h.entity_id.0 == "ofac-sdn:1").expect("weak hit");
    assert_eq!(hit.explanation.matched_strength, NameStrength::Weak);
    assert!(hit.score < DEFAULT_THRESHOLD);
    assert!(hit.explanation.qualifiers.iter().any(|q| q.qualifier == Qualifier::WeakAlias));
    let corroborated = Query { birth_date: Some(BirthDate::Year { year: 1942 }), ..Query::name("Abu Minyar") };
    let hit = s.screen(&corroborated, &config).hits.into_iter().find(|h| h.entity_id.0 == "ofac-sdn:1").expect("hit");
    assert!(hit.score >= DEFAULT_THRESHOLD);
    // OFAC parity mode does not screen weak aliases at all.
    let parity = ScreeningConfig { threshold: 0.5, ..ScreeningConfig::ofac_parity() };
    assert!(s.screen(&Query::name("Abu Minyar"), &parity).hits.iter().all(|h| h.entity_id.0 != "ofac-sdn:1"));
}

#[test]
fn identifiers_hit_exactly() {
    let s = screener();
    let q = Query { identifiers: vec!["1027700-167110".into()], ..Query::name("Unrelated Name Ltd") };
    let r = s.screen_default(&q);
    let hit = r.hits.iter().find(|h| h.entity_id.0 == "ofac-sdn:2").expect("identifier hit");
    assert!(hit.explanation.qualifiers.iter().any(|q| q.qualifier == Qualifier::Identifier));
}

#[test]
fn modes_and_thresholds() {
    let s = screener();
    let parity = s.screen(&Query::name("Muammar Qadhafi"), &ScreeningConfig::ofac_parity());
    assert_eq!(parity.mode, Mode::OfacParity);
    assert_eq!(parity.hits.first().map(|h| h.entity_id.0.as_str()), Some("ofac-sdn:1"));
    let strict = ScreeningConfig { threshold: 1.0, ..ScreeningConfig::default() };
    assert!(s.screen(&Query::name("Moammar Qaddafi"), &strict).hits.is_empty());
    assert!(ScreeningConfig { threshold: 1.5, ..ScreeningConfig::default() }.validate().is_err());
    // Kinds: a vessel query does not hit persons.
    let q = Query { kind: EntityKind::Vessel, ..Query::name("MV Hellenic Spirit") };
    assert_eq!(top(&s, &q).map(|h| h.0), Some("ofac-sdn:4".into()));
    let q = Query { kind: EntityKind::Vessel, ..Query::name("Muammar Gaddafi") };
    assert_eq!(top(&s, &q), None);
}

#[test]
fn monitoring_after_a_list_update() {
    let before = screener();
    let config = ScreeningConfig::default();
    let query = Query::name("Muammar Gaddafi");
    let first = before.screen(&query, &config);
    let previous: Vec<HitRecord> =
        first.hits.iter().map(|h| HitRecord::from_hit(h, before.entity(&h.entity_id))).collect();
    let quiet =
        MonitoredApplicant { applicant_id: "app-2".into(), query: Query::name("Jane Doe"), previous: Vec::new() };
    let hit_before = MonitoredApplicant { applicant_id: "app-1".into(), query: query.clone(), previous };

    // The update adds an identifier to the listing and lists a new "Jane Doe".
    let mut updated = entities("2024-02-01");
    updated[0].add_identifier(Identifier::new("Passport", "LY123456", None));
    let mut doe = Entity::new(ListSource::OfacSdn, "5", Arc::from("ofac-sdn@2024-02-01"), EntityKind::Person);
    doe.add_name_str("DOE, Jane", NameStrength::Primary);
    updated.push(doe);
    let after = Screener::new(updated, vec![version("2024-02-01")]);

    let outcomes: Vec<_> = rescreen(&after, &config, [&hit_before, &quiet]).collect();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes[0].opens_case);
    assert!(matches!(&outcomes[0].changes[0], HitChange::Changed { .. }));
    assert!(outcomes[1].opens_case);
    assert!(matches!(&outcomes[1].changes[0], HitChange::New { hit } if hit.entity_id.0 == "ofac-sdn:5"));
    // Nothing changed for the first applicant when screened again with the new records.
    let again = MonitoredApplicant { previous: outcomes[0].current.clone(), ..hit_before };
    let outcome = rescreen(&after, &config, [&again]).next().expect("outcome");
    assert!(outcome.changes.is_empty() && !outcome.opens_case);
}

#[test]
fn queries_and_results_are_json() {
    let q: Query = serde_json::from_str(
        r#"{"name": "Muammar Gaddafi", "kind": "person", "birth_date": "1942", "nationalities": ["LBY"], "gender": "male"}"#,
    )
    .expect("query json");
    assert_eq!(q.nationalities, vec![Country::parse("LY").expect("c")]);
    let r = screener().screen_default(&q);
    let json = serde_json::to_value(&r).expect("result json");
    assert_eq!(json["hits"][0]["entity_id"], "ofac-sdn:1");
    assert_eq!(json["hits"][0]["list_version"], "ofac-sdn@2024-01-01");
    assert!(json["hits"][0]["explanation"]["name"]["parts"].as_array().is_some_and(|p| !p.is_empty()));
}
