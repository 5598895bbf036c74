//! The UN Security Council consolidated list (XML, `CONSOLIDATED_LIST` with `INDIVIDUALS` and
//! `ENTITIES`). Names are FIRST_NAME..FOURTH_NAME; aliases carry a QUALITY ("Good", "a.k.a.",
//! "f.k.a." are strong; "Low" is weak); birth dates are EXACT, APPROXIMATELY or BETWEEN; the
//! version is the root's `dateGenerated`.

use std::io::{BufReader, Read};

use crate::country::Country;
use crate::date::BirthDate;
use crate::import::xml::{Node, XmlStream, attr};
use crate::import::{ImportError, ImportOptions, ImportReport, MeterState, Sink};
use crate::model::{Entity, EntityKind, Gender, Identifier, ListSource, Name, NameParts, NameStrength};

#[derive(Default)]
struct Record {
    kind: Option<EntityKind>,
    fields: Vec<(String, String)>,
    aliases: Vec<(String, NameStrength)>,
    dates: Vec<BirthDate>,
    bad_dates: usize,
    docs: Vec<(String, String, String)>,
    nationalities: Vec<String>,
    // The group being read (alias, date, document) and its fields.
    group: Vec<(String, String)>,
}

impl Record {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
    }
    fn group(&self, key: &str) -> Option<&str> {
        self.group.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}

const GROUPS: &[&str] = &[
    "INDIVIDUAL_ALIAS",
    "ENTITY_ALIAS",
    "INDIVIDUAL_DATE_OF_BIRTH",
    "INDIVIDUAL_DOCUMENT",
    "NATIONALITY",
    "INDIVIDUAL_ADDRESS",
    "ENTITY_ADDRESS",
    "INDIVIDUAL_PLACE_OF_BIRTH",
    "DESIGNATION",
    "TITLE",
    "LIST_TYPE",
    "LAST_DAY_UPDATED",
];

fn close_group(rec: &mut Record, name: &str) {
    match name {
        "INDIVIDUAL_ALIAS" | "ENTITY_ALIAS" => {
            if let Some(alias) = rec.group("ALIAS_NAME") {
                let strength = match rec.group("QUALITY").map(str::to_ascii_lowercase).as_deref() {
                    Some("low") => NameStrength::Weak,
                    _ => NameStrength::Strong,
                };
                let alias = alias.to_string();
                rec.aliases.push((alias, strength));
            }
        }
        "INDIVIDUAL_DATE_OF_BIRTH" => {
            let kind = rec.group("TYPE_OF_DATE").unwrap_or("EXACT").to_ascii_uppercase();
            let year = rec.group("YEAR").and_then(|y| y.parse::<u32>().ok());
            let date = rec
                .group("DATE")
                .and_then(BirthDate::parse)
                .or_else(|| year.and_then(|y| BirthDate::from_parts(y, 0, 0)));
            let parsed = match kind.as_str() {
                "BETWEEN" => {
                    let from = rec.group("FROM_YEAR").and_then(|y| y.parse::<u32>().ok());
                    let to = rec.group("TO_YEAR").and_then(|y| y.parse::<u32>().ok());
                    from.zip(to).and_then(|(f, t)| BirthDate::range(f, t))
                }
                "APPROXIMATELY" => date.and_then(|d| {
                    let (lo, hi) = d.years();
                    BirthDate::range(u32::from(lo).saturating_sub(1), u32::from(hi) + 1)
                }),
                _ => date,
            };
            match parsed {
                Some(d) => rec.dates.push(d),
                None if rec.group.iter().any(|(_, v)| !v.trim().is_empty()) => rec.bad_dates += 1,
                None => {}
            }
        }
        "INDIVIDUAL_DOCUMENT" => {
            if let Some(number) = rec.group("NUMBER") {
                let kind = rec.group("TYPE_OF_DOCUMENT").unwrap_or("Document").to_string();
                let country = rec.group("ISSUING_COUNTRY").or(rec.group("COUNTRY_OF_ISSUE")).unwrap_or("").to_string();
                let number = number.to_string();
                rec.docs.push((kind, number, country));
            }
        }
        "NATIONALITY" => {
            let values: Vec<String> = rec.group.iter().filter(|(k, _)| k == "VALUE").map(|(_, v)| v.clone()).collect();
            rec.nationalities.extend(values);
        }
        _ => {}
    }
    rec.group.clear();
}

fn build(rec: Record, sink: &mut Sink, record_no: u64) -> bool {
    let kind = rec.kind.unwrap_or_default();
    let Some(id) = rec.get("DATAID").or(rec.get("REFERENCE_NUMBER")).map(str::trim).map(String::from) else {
        sink.bad("list", record_no, "entry without DATAID or REFERENCE_NUMBER");
        return true;
    };
    let mut e = Entity::new(ListSource::UnConsolidated, &id, sink.placeholder.clone(), kind);
    let parts: Vec<&str> = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"]
        .iter()
        .filter_map(|k| rec.get(k).map(str::trim))
        .collect();
    let full = parts.join(" ");
    let name_parts = if kind == EntityKind::Person && parts.len() > 1 {
        NameParts {
            given: parts.first().map(|s| s.to_string()),
            family: parts.last().map(|s| s.to_string()),
            ..NameParts::default()
        }
    } else {
        NameParts::default()
    };
    e.add_name(Name { full, strength: NameStrength::Primary, parts: name_parts });
    if let Some(original) = rec.get("NAME_ORIGINAL_SCRIPT") {
        e.add_name_str(original, NameStrength::Strong);
    }
    for (alias, strength) in &rec.aliases {
        e.add_name_str(alias, *strength);
    }
    for d in &rec.dates {
        e.add_birth_date(Some(*d));
    }
    if rec.bad_dates > 0 {
        sink.bad("list", record_no, format!("entry {id}: {} unreadable birth date(s) skipped", rec.bad_dates));
    }
    for n in &rec.nationalities {
        e.add_nationality(Country::parse(n));
    }
    e.gender = rec.get("GENDER").and_then(Gender::parse);
    for (kind, number, country) in &rec.docs {
        e.add_identifier(Identifier::new(kind, number, Country::parse(country)));
    }
    if let Some(p) = rec.get("UN_LIST_TYPE") {
        e.add_program(p);
    }
    sink.push("list", record_no, e)
}

/// Imports the UN consolidated list XML.
pub fn import<R: Read>(reader: R, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let mut meter = MeterState::new(options.limits.max_input_bytes);
    let mut sink = Sink::new(ListSource::UnConsolidated, options.limits);
    {
        let mut xml = XmlStream::new(BufReader::new(meter.wrap(reader)), options.limits.max_field_chars * 4);
        let mut current: Option<Record> = None;
        let mut in_group: Option<String> = None;
        let mut text = String::new();
        let mut records = 0u64;
        loop {
            let node = match xml.next_node() {
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(e) => {
                    sink.truncated = true;
                    sink.bad("list", records + 1, format!("unreadable XML at byte {}: {e}", xml.position()));
                    break;
                }
            };
            match node {
                Node::Open(name, attrs) => {
                    text.clear();
                    match name.as_str() {
                        "CONSOLIDATED_LIST" => {
                            sink.publisher_version = attr(&attrs, "dateGenerated").map(String::from);
                        }
                        "INDIVIDUAL" | "ENTITY" if current.is_none() => {
                            records += 1;
                            sink.records_read += 1;
                            let kind = if name == "INDIVIDUAL" { EntityKind::Person } else { EntityKind::Organization };
                            current = Some(Record { kind: Some(kind), ..Record::default() });
                        }
                        g if current.is_some() && GROUPS.contains(&g) => in_group = Some(name),
                        _ => {}
                    }
                }
                Node::Text(t) => {
                    if current.is_some() && text.len() < options.limits.max_field_chars {
                        text.push_str(&t);
                    }
                }
                Node::Close(name) => {
                    let value = std::mem::take(&mut text);
                    let Some(rec) = current.as_mut() else { continue };
                    if name == "INDIVIDUAL" || name == "ENTITY" {
                        if let Some(rec) = current.take()
                            && !build(rec, &mut sink, records)
                        {
                            break;
                        }
                    } else if in_group.as_deref() == Some(name.as_str()) {
                        close_group(rec, &name);
                        in_group = None;
                    } else if in_group.is_some() {
                        if rec.group.len() < 64 {
                            rec.group.push((name, value));
                        }
                    } else if rec.fields.len() < 64 {
                        rec.fields.push((name, value));
                    }
                }
            }
        }
        if current.is_some() {
            sink.truncated = true;
            sink.bad("list", records, "the file ends inside an entry");
        }
    }
    sink.finish(options, &meter)
}
