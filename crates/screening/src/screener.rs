//! The screener: built from imported lists (keeping their versions), it screens a query (a
//! name, optionally a birth date, nationalities, gender, identifiers and the kind of party)
//! and returns hits with a score, the list version, and an explanation of which name parts
//! matched and how, which qualifiers raised or lowered the score, and any exact identifier hit.

use std::cell::OnceCell;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::compare::{NameComparison, compare_tokens};
use crate::config::{Mode, ScreeningConfig};
use crate::country::Country;
use crate::date::{BirthDate, DateAgreement};
use crate::import::ImportReport;
use crate::index::{CandidateIndex, MAX_CANDIDATES};
use crate::model::{Entity, EntityId, EntityKind, Gender, ListSource, ListVersion, NameStrength, normalize_identifier};
use crate::prepared::{PreparedName, Token, prepare};
use crate::similarity::jaro_winkler;

/// What to screen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// The name, as the customer has it.
    pub name: String,
    /// The kind of party, when known (unknown screens against every kind).
    #[serde(default)]
    pub kind: EntityKind,
    /// Birth date (or incorporation date), when known.
    #[serde(default)]
    pub birth_date: Option<BirthDate>,
    /// Nationalities or countries, when known.
    #[serde(default)]
    pub nationalities: Vec<Country>,
    /// Gender, when known.
    #[serde(default)]
    pub gender: Option<Gender>,
    /// Identifier values (passport, national id, registration numbers), when known.
    #[serde(default)]
    pub identifiers: Vec<String>,
}

impl Query {
    /// A query by name only.
    pub fn name(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }
}

/// Which qualifier changed a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qualifier {
    /// Birth date.
    BirthDate,
    /// Nationality.
    Nationality,
    /// Gender.
    Gender,
    /// The alias matched is weak (low quality).
    WeakAlias,
    /// An identifier matched exactly.
    Identifier,
}

/// One qualifier's effect on a hit's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualifierEffect {
    /// Which qualifier.
    pub qualifier: Qualifier,
    /// What was added to the score (negative: subtracted).
    pub effect: f32,
    /// In words.
    pub detail: String,
}

/// Why a hit scored what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The listed name that matched best, and how strong an alias it is.
    pub matched_name: String,
    /// Primary name, strong alias or weak alias.
    pub matched_strength: NameStrength,
    /// The name comparison: matched parts and how, unmatched words.
    pub name: NameComparison,
    /// Qualifiers that raised or lowered the score.
    pub qualifiers: Vec<QualifierEffect>,
}

/// One hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The listed entity.
    pub entity_id: EntityId,
    /// Its list.
    pub source: ListSource,
    /// The list version screened against (`code@version`).
    pub list_version: String,
    /// Its kind.
    pub kind: EntityKind,
    /// Its primary name.
    pub primary_name: String,
    /// Its programs.
    pub programs: Vec<String>,
    /// The final score, 0..1.
    pub score: f32,
    /// The name score before qualifiers.
    pub name_score: f32,
    /// The explanation.
    pub explanation: Explanation,
}

/// The outcome of one screening.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreeningResult {
    /// Hits at or above the threshold, best first.
    pub hits: Vec<Hit>,
    /// Every list version loaded: what this decision was screened against.
    pub list_versions: Vec<ListVersion>,
    /// The mode used.
    pub mode: Mode,
    /// The threshold used.
    pub threshold: f32,
    /// How many listed names were fully scored.
    pub names_scored: usize,
}

/// The screener over a set of loaded lists. Immutable once built; share it behind an `Arc`
/// and build a new one when a list is updated.
#[derive(Debug, Default)]
pub struct Screener {
    entities: Vec<Entity>,
    versions: Vec<ListVersion>,
    index: CandidateIndex,
    by_identifier: HashMap<String, Vec<u32>>,
    by_id: HashMap<EntityId, u32>,
}

/// The most an uncorroborated weak-alias hit scores: below the default threshold, as OFAC
/// advises that a weak alias alone does not make a match.
pub const WEAK_ALIAS_CAP: f32 = 0.75;

const KINDS: [EntityKind; 5] =
    [EntityKind::Person, EntityKind::Organization, EntityKind::Vessel, EntityKind::Aircraft, EntityKind::Unknown];

fn kind_slot(kind: EntityKind) -> usize {
    KINDS.iter().position(|k| *k == kind).unwrap_or(4)
}

impl Screener {
    /// Builds a screener from import reports (their entities and versions).
    pub fn from_reports(reports: Vec<ImportReport>) -> Self {
        let mut versions = Vec::new();
        let mut entities = Vec::new();
        for r in reports {
            versions.push(r.version);
            entities.extend(r.entities);
        }
        Self::new(entities, versions)
    }

    /// Builds a screener from entities and the versions they came from. An entity id seen
    /// twice keeps its first occurrence.
    pub fn new(entities: Vec<Entity>, versions: Vec<ListVersion>) -> Self {
        let mut s = Self { versions, ..Self::default() };
        for e in entities {
            if s.by_id.contains_key(&e.id) {
                continue;
            }
            let idx = s.entities.len() as u32;
            for (n, name) in e.names.iter().enumerate().take(u16::MAX as usize) {
                let prepared = prepare(&name.full, e.kind);
                if !prepared.tokens.is_empty() {
                    s.index.add(idx, n as u16, &prepared);
                }
            }
            for id in &e.identifiers {
                let ids = s.by_identifier.entry(id.normalized.clone()).or_default();
                if ids.last() != Some(&idx) {
                    ids.push(idx);
                }
            }
            s.by_id.insert(e.id.clone(), idx);
            s.entities.push(e);
        }
        s
    }

    /// The list versions loaded.
    pub fn list_versions(&self) -> &[ListVersion] {
        &self.versions
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether no entity is loaded.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Number of indexed names (names and aliases).
    pub fn name_count(&self) -> usize {
        self.index.names().len()
    }

    /// An entity by id.
    pub fn entity(&self, id: &EntityId) -> Option<&Entity> {
        self.by_id.get(id).and_then(|i| self.entities.get(*i as usize))
    }

    /// The listed names the candidate index proposes for a query (the names `screen` fully
    /// scores), with their kinds: for comparing matchers on the same candidates.
    pub fn candidate_names(&self, query: &Query) -> Vec<(&str, EntityKind)> {
        let lookup = prepare(&query.name, query.kind);
        let names = self.index.names();
        self.index
            .candidates(&lookup, MAX_CANDIDATES)
            .into_iter()
            .filter_map(|c| names.get(c as usize))
            .filter(|n| query.kind.compatible(n.kind))
            .filter_map(|n| {
                let e = self.entities.get(n.entity as usize)?;
                Some((e.names.get(n.name as usize)?.full.as_str(), n.kind))
            })
            .collect()
    }

    /// Every entity loaded.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// Screens with the default configuration.
    pub fn screen_default(&self, query: &Query) -> ScreeningResult {
        self.screen(query, &ScreeningConfig::default())
    }

    /// Screens one query.
    pub fn screen(&self, query: &Query, config: &ScreeningConfig) -> ScreeningResult {
        let threshold = if config.threshold.is_nan() { 1.0 } else { config.threshold.clamp(0.0, 1.0) };
        let max_hits = config.max_hits.clamp(1, 100);
        let prepared: [OnceCell<PreparedName>; 5] = Default::default();
        let fallback = OnceCell::new();
        let prep = |kind: EntityKind| -> &PreparedName {
            prepared.get(kind_slot(kind)).unwrap_or(&fallback).get_or_init(|| prepare(&query.name, kind))
        };
        let lookup = prep(query.kind);
        let candidates = self.index.candidates(lookup, MAX_CANDIDATES);
        let mut best: HashMap<u32, (f32, u32)> = HashMap::new();
        let names = self.index.names();
        let mut scored = 0;
        for c in &candidates {
            let Some(indexed) = names.get(*c as usize) else { continue };
            if !query.kind.compatible(indexed.kind) {
                continue;
            }
            let Some(entity) = self.entities.get(indexed.entity as usize) else { continue };
            let strength = entity.names.get(indexed.name as usize).map_or(NameStrength::Strong, |n| n.strength);
            if config.mode == Mode::OfacParity && strength == NameStrength::Weak {
                continue;
            }
            let listed = self.index.name_tokens(indexed);
            let q = prep(if query.kind == EntityKind::Unknown { indexed.kind } else { query.kind });
            let qt: Vec<&Token> = q.tokens.iter().collect();
            scored += 1;
            let score = if config.mode == Mode::OfacParity {
                parity_score(&qt, &listed)
            } else {
                compare_tokens(&qt, q.kind, &listed, indexed.kind, false).score
            };
            let entry = best.entry(indexed.entity).or_insert((-1.0, *c));
            if score > entry.0 || (score == entry.0 && *c < entry.1) {
                *entry = (score, *c);
            }
        }
        // Exact identifier hits find entities whatever their names.
        let mut id_hits: Vec<(u32, String)> = Vec::new();
        for raw in &query.identifiers {
            let norm = normalize_identifier(raw);
            if norm.len() < 4 {
                continue;
            }
            for e in self.by_identifier.get(&norm).into_iter().flatten() {
                id_hits.push((*e, norm.clone()));
            }
        }
        let mut hits = Vec::new();
        let mut entity_ids: Vec<u32> = best.keys().copied().chain(id_hits.iter().map(|(e, _)| *e)).collect();
        entity_ids.sort_unstable();
        entity_ids.dedup();
        for e in entity_ids {
            let Some(entity) = self.entities.get(e as usize) else { continue };
            let (name_score, name_idx, cmp) = match best.remove(&e).and_then(|(s, c)| Some((s, names.get(c as usize)?)))
            {
                Some((s, indexed)) => {
                    // Explain only what is reported.
                    if s < threshold - 0.2 {
                        continue;
                    }
                    let q = prep(if query.kind == EntityKind::Unknown { indexed.kind } else { query.kind });
                    let qt: Vec<&Token> = q.tokens.iter().collect();
                    let mut cmp = compare_tokens(&qt, q.kind, &self.index.name_tokens(indexed), indexed.kind, true);
                    cmp.score = s;
                    (s.max(0.0), indexed.name, cmp)
                }
                None => {
                    let q = prep(entity.kind);
                    let primary = prepare(entity.primary_name().unwrap_or(""), entity.kind);
                    let cmp = crate::compare::compare(q, &primary);
                    (cmp.score, 0, cmp)
                }
            };
            let name = entity.names.get(name_idx as usize);
            let strength = name.map_or(NameStrength::Primary, |n| n.strength);
            let mut effects = Vec::new();
            let mut score = name_score;
            if let Some((_, value)) = id_hits.iter().find(|(x, _)| *x == e) {
                let effect = (0.98 - score).max(0.0);
                score += effect;
                effects.push(QualifierEffect {
                    qualifier: Qualifier::Identifier,
                    effect,
                    detail: format!("identifier {value} is listed for this entity"),
                });
            }
            if config.mode == Mode::Default {
                qualifiers(query, entity, &mut score, &mut effects);
                if strength == NameStrength::Weak {
                    let corroborated = effects.iter().any(|q| q.effect > 0.0);
                    if !corroborated && score > WEAK_ALIAS_CAP {
                        let effect = WEAK_ALIAS_CAP - score;
                        score += effect;
                        effects.push(QualifierEffect {
                            qualifier: Qualifier::WeakAlias,
                            effect,
                            detail: "weak alias without corroborating birth date, nationality or identifier".into(),
                        });
                    }
                }
            }
            let score = score.clamp(0.0, 1.0);
            if score < threshold {
                continue;
            }
            hits.push(Hit {
                entity_id: entity.id.clone(),
                source: entity.source,
                list_version: entity.list_version.to_string(),
                kind: entity.kind,
                primary_name: entity.primary_name().unwrap_or("").to_string(),
                programs: entity.programs.clone(),
                score,
                name_score,
                explanation: Explanation {
                    matched_name: name.map_or_else(String::new, |n| n.full.clone()),
                    matched_strength: strength,
                    name: cmp,
                    qualifiers: effects,
                },
            });
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.entity_id.cmp(&b.entity_id)));
        hits.truncate(max_hits);
        ScreeningResult {
            hits,
            list_versions: self.versions.clone(),
            mode: config.mode,
            threshold,
            names_scored: scored,
        }
    }
}

/// The OFAC-parity name score: Jaro-Winkler of the whole names and of their sorted words.
fn parity_score(q: &[&Token], c: &[&Token]) -> f32 {
    let join = |t: &[&Token]| t.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join(" ");
    let sorted = |t: &[&Token]| {
        let mut w: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        w.sort_unstable();
        w.join(" ")
    };
    jaro_winkler(&join(q), &join(c)).max(jaro_winkler(&sorted(q), &sorted(c)))
}

/// Applies birth date, nationality and gender to a score, recording each effect.
fn qualifiers(query: &Query, entity: &Entity, score: &mut f32, effects: &mut Vec<QualifierEffect>) {
    let mut apply = |qualifier: Qualifier, effect: f32, detail: String| {
        *score += effect;
        effects.push(QualifierEffect { qualifier, effect, detail });
    };
    if let Some(q) = &query.birth_date
        && !entity.birth_dates.is_empty()
    {
        let best = entity
            .birth_dates
            .iter()
            .map(|d| d.compare(q))
            .min_by_key(|a| match a {
                DateAgreement::ExactDay => 0,
                DateAgreement::SameYear => 1,
                DateAgreement::InRange => 2,
                DateAgreement::Near => 3,
                DateAgreement::Conflict => 4,
            })
            .unwrap_or(DateAgreement::Conflict);
        let effect = match best {
            DateAgreement::ExactDay => 0.08,
            DateAgreement::SameYear => 0.04,
            DateAgreement::InRange => 0.02,
            DateAgreement::Near => -0.03,
            DateAgreement::Conflict => -0.15,
        };
        apply(Qualifier::BirthDate, effect, format!("birth date: {best:?}").to_lowercase());
    }
    if !query.nationalities.is_empty() && !entity.nationalities.is_empty() {
        let shared = query.nationalities.iter().any(|q| entity.nationalities.contains(q));
        let known = |c: &Country| c.iso2().is_some();
        if shared {
            apply(Qualifier::Nationality, 0.03, "nationality matches".into());
        } else if query.nationalities.iter().all(known) && entity.nationalities.iter().all(known) {
            apply(Qualifier::Nationality, -0.08, "nationality differs".into());
        }
    }
    if let (Some(q), Some(e)) = (query.gender, entity.gender)
        && q != e
    {
        apply(Qualifier::Gender, -0.1, "gender differs".into());
    }
}
