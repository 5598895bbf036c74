//! OpenSanctions FollowTheMoney entities, one JSON object a line (`id`, `schema`,
//! `properties` of string lists). Parties (Person, Organization, Company, LegalEntity,
//! PublicBody, Vessel, Airplane) are imported; other schemata (addresses, sanctions, payments,
//! relations) are counted as skipped.

use std::io::{BufReader, Read};

use serde_json::Value;

use crate::country::Country;
use crate::date::BirthDate;
use crate::import::{ImportError, ImportOptions, ImportReport, MeterState, Sink, bounded_lines};
use crate::model::{Entity, EntityKind, Gender, Identifier, ListSource, Name, NameParts, NameStrength};

/// Identifier properties and the kind recorded for them.
const ID_PROPS: &[(&str, &str)] = &[
    ("idNumber", "ID number"),
    ("passportNumber", "Passport"),
    ("taxNumber", "Tax number"),
    ("registrationNumber", "Registration number"),
    ("innCode", "INN"),
    ("ogrnCode", "OGRN"),
    ("leiCode", "LEI"),
    ("swiftBic", "SWIFT/BIC"),
    ("vatCode", "VAT"),
    ("imoNumber", "IMO"),
    ("mmsi", "MMSI"),
    ("icaoCode", "ICAO"),
    ("uniqueEntityId", "UEI"),
    ("permId", "PermID"),
    ("socialSecurityNumber", "SSN"),
];

fn kind_of(schema: &str) -> Option<EntityKind> {
    match schema {
        "Person" => Some(EntityKind::Person),
        "Organization" | "Company" | "LegalEntity" | "PublicBody" => Some(EntityKind::Organization),
        "Vessel" => Some(EntityKind::Vessel),
        "Airplane" => Some(EntityKind::Aircraft),
        _ => None,
    }
}

fn values<'a>(props: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    props.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).take(512)
}

fn single(props: &Value, key: &str) -> Option<String> {
    let mut it = values(props, key);
    let first = it.next()?;
    it.next().is_none().then(|| first.trim().to_string())
}

/// Builds one entity from a parsed FtM object; `Err` with the reason when it is not valid.
fn entity_from(value: &Value, sink: &Sink) -> Result<Option<Entity>, String> {
    let id = value.get("id").and_then(Value::as_str).filter(|s| !s.trim().is_empty()).ok_or("no id")?;
    let schema = value.get("schema").and_then(Value::as_str).ok_or("no schema")?;
    let Some(kind) = kind_of(schema) else { return Ok(None) };
    let props = value.get("properties").filter(|p| p.is_object()).ok_or("no properties object")?;
    let mut e = Entity::new(ListSource::OpenSanctions, id, sink.placeholder.clone(), kind);
    // Name parts apply to the names only when the entity has one value of each.
    let parts = NameParts {
        given: single(props, "firstName"),
        middle: single(props, "middleName"),
        family: single(props, "lastName"),
        patronymic: single(props, "fatherName"),
    };
    if let Some(caption) = value.get("caption").and_then(Value::as_str)
        && values(props, "name").any(|n| n == caption)
    {
        e.add_name(Name::new(caption, NameStrength::Primary));
    }
    for n in values(props, "name") {
        let strength = if e.names.is_empty() { NameStrength::Primary } else { NameStrength::Strong };
        e.add_name(Name::new(n, strength));
    }
    for key in ["alias", "previousName"] {
        for n in values(props, key) {
            e.add_name_str(n, NameStrength::Strong);
        }
    }
    for key in ["weakAlias", "abbreviation"] {
        for n in values(props, key) {
            e.add_name_str(n, NameStrength::Weak);
        }
    }
    if e.names.is_empty() {
        // A person given only as parts: build the name from them.
        let joined: Vec<&str> =
            [&parts.given, &parts.middle, &parts.family].iter().filter_map(|p| p.as_deref()).collect();
        if !joined.is_empty() {
            e.add_name(Name { full: joined.join(" "), strength: NameStrength::Primary, parts: parts.clone() });
        }
    }
    if !parts.is_empty()
        && let Some(first) = e.names.first_mut()
    {
        first.parts = parts;
    }
    for d in values(props, "birthDate").chain(values(props, "incorporationDate")) {
        e.add_birth_date(BirthDate::parse(d));
    }
    let country_keys: &[&str] = if kind == EntityKind::Person {
        &["nationality", "citizenship", "country"]
    } else {
        &["country", "jurisdiction", "flag"]
    };
    for key in country_keys {
        for c in values(props, key) {
            e.add_nationality(Country::parse(c));
        }
    }
    e.gender = values(props, "gender").find_map(Gender::parse);
    for (prop, label) in ID_PROPS {
        for v in values(props, prop) {
            e.add_identifier(Identifier::new(label, v, None));
        }
    }
    for t in values(props, "topics").chain(values(props, "program")) {
        e.add_program(t);
    }
    Ok(Some(e))
}

/// Imports FtM JSON lines.
pub fn import<R: Read>(reader: R, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let mut meter = MeterState::new(options.limits.max_input_bytes);
    let mut sink = Sink::new(ListSource::OpenSanctions, options.limits);
    let max_line = options.limits.max_field_chars.saturating_mul(256);
    bounded_lines(BufReader::new(meter.wrap(reader)), max_line, &mut sink, "entities", |sink, line, text| {
        sink.records_read += 1;
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                sink.bad("entities", line, format!("not a JSON object: {e}"));
                return true;
            }
        };
        match entity_from(&value, sink) {
            Ok(Some(e)) => sink.push("entities", line, e),
            Ok(None) => {
                sink.skipped += 1;
                true
            }
            Err(reason) => {
                sink.bad("entities", line, reason);
                true
            }
        }
    });
    sink.finish(options, &meter)
}
