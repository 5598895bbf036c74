//! The normalised entity model every importer produces: names with strong and weak aliases,
//! name parts where the source gives them, birth dates, nationalities, gender, identifiers,
//! programs, and the source list and its version.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::country::Country;
use crate::date::BirthDate;

/// The published list an entity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListSource {
    /// OFAC Specially Designated Nationals (legacy CSV).
    OfacSdn,
    /// OFAC consolidated non-SDN lists (legacy CSV).
    OfacConsolidated,
    /// UN Security Council consolidated list (XML).
    UnConsolidated,
    /// US BIS Denied Persons List (tab-separated).
    UsBisDpl,
    /// US Consolidated Screening List (CSV).
    UsCsl,
    /// OpenSanctions FollowTheMoney entities (JSON lines).
    OpenSanctions,
    /// Senzing-format records (OpenSanctions exports, e.g. PEPs).
    Senzing,
    /// EU Financial Sanctions Files (XML).
    EuFsf,
    /// UK OFSI consolidated list (CSV).
    UkOfsi,
}

impl ListSource {
    /// A short stable code, used as the prefix of entity ids.
    pub fn code(self) -> &'static str {
        match self {
            Self::OfacSdn => "ofac-sdn",
            Self::OfacConsolidated => "ofac-cons",
            Self::UnConsolidated => "un-sc",
            Self::UsBisDpl => "us-bis-dpl",
            Self::UsCsl => "us-csl",
            Self::OpenSanctions => "opensanctions",
            Self::Senzing => "senzing",
            Self::EuFsf => "eu-fsf",
            Self::UkOfsi => "uk-ofsi",
        }
    }
}

impl fmt::Display for ListSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One imported version of one list: what a decision records it was screened against.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListVersion {
    /// The list.
    pub source: ListSource,
    /// The publisher's version label when the file carries one (generation date, "Last
    /// Updated"), else the caller's label, else `sha256:<first 16 hex digits>` of the bytes read.
    pub version: String,
    /// SHA-256 of every byte read for this import (all files, in order), hex.
    pub sha256: String,
}

impl fmt::Display for ListVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.source, self.version)
    }
}

/// A stable entity id: `<list code>:<the list's own id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityId(pub String);

impl EntityId {
    /// Builds the id of entity `native` in list `source`.
    pub fn new(source: ListSource, native: &str) -> Self {
        Self(format!("{}:{}", source.code(), native.trim()))
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of party an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A natural person.
    Person,
    /// A company, organisation, body or group.
    Organization,
    /// A ship.
    Vessel,
    /// An aircraft.
    Aircraft,
    /// The list does not say.
    #[default]
    Unknown,
}

impl EntityKind {
    /// Parses the many spellings lists use ("individual", "Entity", "Person", "enterprise", "ship", ...).
    pub fn parse(text: &str) -> Self {
        let t = text.trim().to_ascii_lowercase();
        match t.as_str() {
            "individual" | "person" | "p" | "individuals" => Self::Person,
            "entity" | "organization" | "organisation" | "company" | "legalentity" | "enterprise" | "e"
            | "publicbody" | "organizations" => Self::Organization,
            "vessel" | "ship" => Self::Vessel,
            "aircraft" | "airplane" => Self::Aircraft,
            _ => Self::Unknown,
        }
    }

    /// Whether two kinds can describe the same party (unknown is compatible with everything).
    pub fn compatible(self, other: Self) -> bool {
        self == other || self == Self::Unknown || other == Self::Unknown
    }
}

/// How much a name can be trusted as an identifier of the entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameStrength {
    /// The list's primary name.
    Primary,
    /// A strong alias (good-quality a.k.a., f.k.a., original script).
    Strong,
    /// A weak (low-quality) alias: OFAC advises that a hit on it alone is not a match.
    Weak,
}

/// Name parts, where the source gives them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NameParts {
    /// Given (first) name(s).
    pub given: Option<String>,
    /// Middle name(s).
    pub middle: Option<String>,
    /// Family name.
    pub family: Option<String>,
    /// Patronymic / father's name.
    pub patronymic: Option<String>,
}

impl NameParts {
    /// Whether no part is known.
    pub fn is_empty(&self) -> bool {
        self.given.is_none() && self.middle.is_none() && self.family.is_none() && self.patronymic.is_none()
    }
}

/// One name of an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Name {
    /// The name as published.
    pub full: String,
    /// Primary, strong or weak.
    pub strength: NameStrength,
    /// Parts, where known.
    pub parts: NameParts,
}

impl Name {
    /// A name without parts.
    pub fn new(full: impl Into<String>, strength: NameStrength) -> Self {
        Self { full: full.into(), strength, parts: NameParts::default() }
    }
}

/// Gender, where the list gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
}

impl Gender {
    /// Parses "M", "male", "Female", ...; anything else is unknown.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "m" | "male" | "man" => Some(Self::Male),
            "f" | "female" | "woman" => Some(Self::Female),
            _ => None,
        }
    }
}

/// An identifier: passport, national id, tax or registration number, IMO number, ...
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identifier {
    /// The kind as the list names it (free text, e.g. "Passport").
    pub kind: String,
    /// The value as published.
    pub value: String,
    /// The value reduced to upper-case ASCII letters and digits, what exact hits compare.
    pub normalized: String,
    /// Issuing country, where given.
    pub country: Option<Country>,
}

impl Identifier {
    /// Builds an identifier; `None` when the value has fewer than 4 letters or digits (too weak
    /// to ever count as an exact hit).
    pub fn new(kind: &str, value: &str, country: Option<Country>) -> Option<Self> {
        let normalized = normalize_identifier(value);
        (normalized.len() >= 4).then(|| Self {
            kind: kind.trim().to_string(),
            value: value.trim().to_string(),
            normalized,
            country,
        })
    }
}

/// Reduces an identifier to upper-case ASCII letters and digits.
pub fn normalize_identifier(value: &str) -> String {
    value.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// One listed party, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Stable id (list code and the list's own id).
    pub id: EntityId,
    /// Which list.
    pub source: ListSource,
    /// The list version it was imported from.
    pub list_version: Arc<str>,
    /// Person, organisation, vessel, aircraft or unknown.
    pub kind: EntityKind,
    /// Every name; the first is the primary name.
    pub names: Vec<Name>,
    /// Birth (or incorporation) dates.
    pub birth_dates: Vec<BirthDate>,
    /// Nationalities and citizenships (for organisations: countries).
    pub nationalities: Vec<Country>,
    /// Gender, where given.
    pub gender: Option<Gender>,
    /// Identifiers.
    pub identifiers: Vec<Identifier>,
    /// Sanctions programs or list sections.
    pub programs: Vec<String>,
}

impl Entity {
    /// An empty entity to be filled by an importer.
    pub fn new(source: ListSource, native_id: &str, list_version: Arc<str>, kind: EntityKind) -> Self {
        Self {
            id: EntityId::new(source, native_id),
            source,
            list_version,
            kind,
            names: Vec::new(),
            birth_dates: Vec::new(),
            nationalities: Vec::new(),
            gender: None,
            identifiers: Vec::new(),
            programs: Vec::new(),
        }
    }

    /// Adds a name unless it is blank or already present (then keeps the stronger strength).
    pub fn add_name(&mut self, name: Name) {
        let full = name.full.split_whitespace().collect::<Vec<_>>().join(" ");
        if full.is_empty() || full == "-0-" {
            return;
        }
        if let Some(existing) = self.names.iter_mut().find(|n| n.full == full) {
            if name.strength < existing.strength {
                existing.strength = name.strength;
            }
            if existing.parts.is_empty() {
                existing.parts = name.parts;
            }
            return;
        }
        self.names.push(Name { full, ..name });
    }

    /// Adds a name by its text.
    pub fn add_name_str(&mut self, full: &str, strength: NameStrength) {
        self.add_name(Name::new(full, strength));
    }

    /// Adds a nationality unless already present.
    pub fn add_nationality(&mut self, country: Option<Country>) {
        if let Some(c) = country
            && !self.nationalities.contains(&c)
        {
            self.nationalities.push(c);
        }
    }

    /// Adds a birth date unless already present.
    pub fn add_birth_date(&mut self, date: Option<BirthDate>) {
        if let Some(d) = date
            && !self.birth_dates.contains(&d)
        {
            self.birth_dates.push(d);
        }
    }

    /// Adds an identifier unless already present.
    pub fn add_identifier(&mut self, id: Option<Identifier>) {
        if let Some(i) = id
            && !self.identifiers.iter().any(|e| e.normalized == i.normalized)
        {
            self.identifiers.push(i);
        }
    }

    /// Adds a program unless blank or already present.
    pub fn add_program(&mut self, program: &str) {
        let p = program.trim();
        if !p.is_empty() && p != "-0-" && !self.programs.iter().any(|e| e == p) {
            self.programs.push(p.to_string());
        }
    }

    /// The primary name (the first name), if any.
    pub fn primary_name(&self) -> Option<&str> {
        self.names.first().map(|n| n.full.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_deduplicated_keeping_the_stronger() {
        let mut e = Entity::new(ListSource::OfacSdn, "1", Arc::from("v"), EntityKind::Person);
        e.add_name_str("JOHN  DOE", NameStrength::Weak);
        e.add_name_str("JOHN DOE", NameStrength::Strong);
        e.add_name_str("  ", NameStrength::Strong);
        assert_eq!(e.names.len(), 1);
        assert_eq!(e.names[0].strength, NameStrength::Strong);
    }

    #[test]
    fn identifiers_need_four_characters() {
        assert!(Identifier::new("Passport", "a-1", None).is_none());
        assert_eq!(Identifier::new("Passport", "p 001-7003", None).map(|i| i.normalized), Some("P0017003".into()));
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(EntityKind::parse("individual"), EntityKind::Person);
        assert_eq!(EntityKind::parse("Entity"), EntityKind::Organization);
        assert_eq!(EntityKind::parse("-0- "), EntityKind::Unknown);
        assert!(EntityKind::Unknown.compatible(EntityKind::Person));
        assert!(!EntityKind::Vessel.compatible(EntityKind::Person));
    }
}
