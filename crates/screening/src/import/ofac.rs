//! OFAC legacy CSV files (SDN: `sdn.csv`, `alt.csv`, `add.csv`, `sdn_comments.csv`; consolidated
//! non-SDN: `cons_prim.csv`, `cons_alt.csv`, `cons_add.csv`, `cons_comments.csv`).
//!
//! Main file columns: ent_num, name, type, program, title, call sign, vessel type, tonnage, GRT,
//! vessel flag, vessel owner, remarks. Remarks longer than the field continue in the comments
//! file. Remarks carry birth dates, nationality, gender, identifiers and the weak aliases
//! (`a.k.a. 'X'`, OFAC's low-quality names); `alt.csv` carries the strong aliases. `-0-` is null.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use crate::country::Country;
use crate::date::BirthDate;
use crate::import::{ImportError, ImportOptions, ImportReport, MeterState, Sink, csv_records};
use crate::model::{Entity, EntityKind, Gender, Identifier, ListSource, Name, NameParts, NameStrength};

/// The files of one OFAC legacy CSV list; only the main file is required.
pub struct OfacFiles<R> {
    /// `sdn.csv` or `cons_prim.csv`.
    pub main: R,
    /// `alt.csv` or `cons_alt.csv`.
    pub alt: Option<R>,
    /// `add.csv` or `cons_add.csv`: addresses are checked (their entity must exist) and
    /// counted, but not used for matching (an address country is not a nationality).
    pub add: Option<R>,
    /// `sdn_comments.csv` or `cons_comments.csv`.
    pub comments: Option<R>,
}

/// Identifier kinds recognised at the start of a remark.
const ID_KINDS: &[&str] = &[
    "passport",
    "national id",
    "cedula",
    "nit #",
    "ruc #",
    "rif #",
    "tax id",
    "ssn",
    "registration",
    "identification number",
    "folio mercantil",
    "matricula mercantil",
    "company number",
    "uk company number",
    "commercial registry",
    "business registration",
    "public registration",
    "government gazette",
    "v.a.t. number",
    "trade license",
    "c.r. no",
    "c.u.r.p",
    "curp",
    "r.f.c",
    "rfc",
    "d-u-n-s",
    "imo",
    "mmsi",
    "vessel registration identification",
    "legal entity number",
    "swift/bic",
    "residency number",
    "national foreign id",
    "driver's license",
    "personal id card",
    "citizen's card",
    "birth certificate",
    "digital currency address",
    "aircraft",
    "serial no",
    "id no",
    "numero",
    "electoral registry",
    "chinese commercial code",
    "unified social credit code",
    "kenyan id",
    "dni",
    "nie",
    "cuit",
    "refugee id",
    "afghan money service provider license",
];

/// Parses OFAC's "LAST, First Middle" person names into parts.
fn person_parts(full: &str) -> NameParts {
    match full.split_once(',') {
        Some((family, given)) if !family.trim().is_empty() && !given.trim().is_empty() => NameParts {
            given: Some(given.trim().to_string()),
            family: Some(family.trim().to_string()),
            ..NameParts::default()
        },
        _ => NameParts::default(),
    }
}

fn name_of(full: &str, kind: EntityKind, strength: NameStrength) -> Name {
    let parts = if kind == EntityKind::Person { person_parts(full) } else { NameParts::default() };
    Name { full: full.to_string(), strength, parts }
}

/// Splits "Passport P0017003 (Belize)" into the identifier; `None` for remarks that are not one.
pub(crate) fn parse_identifier(item: &str) -> Option<Identifier> {
    let item = item.trim().trim_start_matches("alt.").trim();
    let lower = item.to_ascii_lowercase();
    let kind_key = ID_KINDS.iter().find(|k| lower.starts_with(*k))?;
    let (body, country) = match item.rfind(" (") {
        Some(open) if item.ends_with(')') => {
            (item.get(..open)?, item.get(open + 2..item.len() - 1).and_then(Country::parse))
        }
        _ => (item, None),
    };
    // The value is from the first word holding a digit to the end ("Passport A 12345").
    let words: Vec<&str> = body.split_whitespace().collect();
    let first_digit = words.iter().position(|w| w.bytes().any(|b| b.is_ascii_digit()))?;
    let kind_words = words.get(..first_digit)?.join(" ");
    let value = words.get(first_digit..)?.join(" ");
    let kind = if kind_words.is_empty() { (*kind_key).to_string() } else { kind_words };
    Identifier::new(kind.trim_end_matches([' ', '-', ':']), value.trim_start_matches(['-', ' ']), country)
}

/// Applies one remarks text to an entity: dates, nationality, gender, identifiers, weak aliases.
pub(crate) fn apply_remarks(entity: &mut Entity, remarks: &str) {
    for raw in remarks.split(';') {
        let item = raw.trim().trim_end_matches('.').trim();
        let lower = item.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("dob ") {
            entity.add_birth_date(BirthDate::parse(rest));
        } else if let Some(rest) = lower.strip_prefix("alt. dob ") {
            entity.add_birth_date(BirthDate::parse(rest));
        } else if let Some(rest) = item.strip_prefix("nationality ").or_else(|| item.strip_prefix("alt. nationality "))
        {
            entity.add_nationality(Country::parse(rest));
        } else if let Some(rest) = item.strip_prefix("citizen ").or_else(|| item.strip_prefix("alt. citizen ")) {
            entity.add_nationality(Country::parse(rest));
        } else if let Some(rest) = item.strip_prefix("Gender ") {
            entity.gender = Gender::parse(rest).or(entity.gender);
        } else if let Some(alias) = weak_alias(item) {
            entity.add_name(name_of(alias, entity.kind, NameStrength::Weak));
        } else {
            entity.add_identifier(parse_identifier(item));
        }
    }
}

/// `a.k.a. 'X'`, `f.k.a. 'X'`, `n.k.a. 'X'` in remarks: OFAC's weak aliases.
fn weak_alias(item: &str) -> Option<&str> {
    let rest = ["a.k.a. ", "f.k.a. ", "n.k.a. "].iter().find_map(|p| item.strip_prefix(p))?;
    let inner = rest.trim().strip_prefix('\'')?.strip_suffix('\'')?.trim();
    (!inner.is_empty()).then_some(inner)
}

/// Imports one OFAC legacy CSV list (`source` is `OfacSdn` or `OfacConsolidated`).
pub fn import<R: Read>(
    source: ListSource,
    files: OfacFiles<R>,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let mut meter = MeterState::new(options.limits.max_input_bytes);
    let mut sink = Sink::new(source, options.limits);
    let placeholder: Arc<str> = sink.placeholder.clone();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut remarks: Vec<String> = Vec::new();

    csv_records(meter.wrap(files.main), b',', &mut sink, "main", |sink, line, rec| {
        sink.records_read += 1;
        let id = rec.get(0).and_then(|v| sink.field(v));
        let Some(id) = id.filter(|v| v.bytes().all(|b| b.is_ascii_digit())) else {
            // The last line of OFAC files is a lone end-of-file marker.
            if rec.len() > 1 || rec.get(0).is_some_and(|v| !v.trim().trim_matches('\u{1a}').is_empty()) {
                sink.bad("main", line, "missing or non-numeric entity number");
            }
            return true;
        };
        let Some(name) = rec.get(1).and_then(|v| sink.field(v)) else {
            sink.bad("main", line, format!("entity {id} has no name"));
            return true;
        };
        if index.contains_key(&id) {
            sink.bad("main", line, format!("duplicate entity number {id}"));
            return true;
        }
        let kind_text = rec.get(2).and_then(|v| sink.field(v));
        let kind = match kind_text.as_deref() {
            Some(k) => EntityKind::parse(k),
            None if rec.get(6).and_then(|v| sink.field(v)).is_some() => EntityKind::Vessel,
            None => EntityKind::Organization,
        };
        let mut entity = Entity::new(source, &id, placeholder.clone(), kind);
        entity.add_name(name_of(&name, kind, NameStrength::Primary));
        if let Some(programs) = rec.get(3).and_then(|v| sink.field(v)) {
            for p in programs.split("] [") {
                entity.add_program(p.trim_matches(['[', ']']));
            }
        }
        if let Some(flag) = rec.get(9).and_then(|v| sink.field(v)) {
            entity.add_nationality(Country::parse(&flag));
        }
        if let Some(call_sign) = rec.get(5).and_then(|v| sink.field(v)) {
            entity.add_identifier(Identifier::new("Call Sign", &call_sign, None));
        }
        index.insert(id, sink.entities.len());
        remarks.push(rec.get(11).and_then(|v| sink.field(v)).unwrap_or_default());
        sink.push("main", line, entity)
    });

    if let Some(comments) = files.comments {
        csv_records(meter.wrap(comments), b',', &mut sink, "comments", |sink, line, rec| {
            sink.records_read += 1;
            let (Some(id), Some(text)) = (rec.get(0).map(str::trim), rec.get(1)) else {
                if rec.len() > 1 {
                    sink.bad("comments", line, "expected entity number and text");
                }
                return true;
            };
            match index.get(id).and_then(|i| remarks.get_mut(*i)) {
                Some(r) if r.len() < 1 << 20 => r.push_str(text),
                Some(_) => sink.bad("comments", line, "remarks too long"),
                None if id.trim_matches('\u{1a}').is_empty() => {}
                None => sink.bad("comments", line, format!("unknown entity number {id}")),
            }
            true
        });
    }
    for (entity, text) in sink.entities.iter_mut().zip(&remarks) {
        apply_remarks(entity, text);
    }

    if let Some(alt) = files.alt {
        csv_records(meter.wrap(alt), b',', &mut sink, "alt", |sink, line, rec| {
            sink.records_read += 1;
            let id = rec.get(0).map(str::trim).unwrap_or_default();
            if id.trim_matches('\u{1a}').is_empty() && rec.len() <= 1 {
                return true;
            }
            let Some(name) = rec.get(3).and_then(|v| sink.field(v)) else {
                sink.bad("alt", line, "alias without a name");
                return true;
            };
            let Some(i) = index.get(id).copied() else {
                sink.bad("alt", line, format!("alias of unknown entity number {id}"));
                return true;
            };
            let max = sink.limits.max_names_per_entity;
            if let Some(entity) = sink.entities.get_mut(i)
                && entity.names.len() < max
            {
                let kind = entity.kind;
                entity.add_name(name_of(&name, kind, NameStrength::Strong));
            }
            true
        });
    }

    if let Some(add) = files.add {
        csv_records(meter.wrap(add), b',', &mut sink, "add", |sink, line, rec| {
            sink.records_read += 1;
            let id = rec.get(0).map(str::trim).unwrap_or_default();
            if id.trim_matches('\u{1a}').is_empty() && rec.len() <= 1 {
                return true;
            }
            if !index.contains_key(id) {
                sink.bad("add", line, format!("address of unknown entity number {id}"));
            }
            true
        });
    }
    sink.finish(options, &meter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_from_remarks() {
        let id = parse_identifier("Passport P0017003 (Belize)").expect("id");
        assert_eq!((id.kind.as_str(), id.normalized.as_str()), ("Passport", "P0017003"));
        assert_eq!(id.country.and_then(|c| c.iso2().map(String::from)), Some("BZ".into()));
        let nit = parse_identifier("NIT # 800112233-1 (Colombia)").expect("id");
        assert_eq!(nit.normalized, "8001122331");
        assert!(parse_identifier("Linked To: HAMAS").is_none());
        assert!(parse_identifier("Listing Date (EO 14024 Directive 3): 24 Feb 2022").is_none());
    }

    #[test]
    fn remarks_fill_the_entity() {
        let mut e = Entity::new(ListSource::OfacSdn, "1", Arc::from(""), EntityKind::Person);
        e.add_name_str("DOE, John", NameStrength::Primary);
        apply_remarks(
            &mut e,
            "DOB 28 Jul 1963; alt. DOB 1964; nationality Iran; Gender Male; Passport A123456 (Iran); a.k.a. 'JD'.",
        );
        assert_eq!(e.birth_dates.len(), 2);
        assert_eq!(e.nationalities.first().and_then(|c| c.iso2()), Some("IR"));
        assert_eq!(e.gender, Some(Gender::Male));
        assert_eq!(e.identifiers.len(), 1);
        assert_eq!(e.names.get(1).map(|n| (n.full.as_str(), n.strength)), Some(("JD", NameStrength::Weak)));
    }
}
