//! The EU Financial Sanctions Files XML (`export` root with `generationDate`; one
//! `sanctionEntity` per party with `subjectType code="person|enterprise"`, `nameAlias`
//! (`wholeName`, `firstName`, `middleName`, `lastName`, `gender`, `strong`), `citizenship`
//! (`countryIso2Code`), `birthdate` (`birthdate`, `year`, `monthOfYear`, `dayOfMonth`,
//! `circa`, `yearRangeFrom`, `yearRangeTo`), `identification` (`number`,
//! `identificationTypeCode`, `countryIso2Code`) and `regulation` (`programme`)).

use std::io::{BufReader, Read};

use crate::country::Country;
use crate::date::BirthDate;
use crate::import::xml::{Node, XmlStream, attr};
use crate::import::{ImportError, ImportOptions, ImportReport, MeterState, Sink};
use crate::model::{Entity, EntityKind, Gender, Identifier, ListSource, Name, NameParts, NameStrength};

fn num(attrs: &[(String, String)], key: &str) -> u32 {
    attr(attrs, key).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

fn birth_date(attrs: &[(String, String)]) -> Option<BirthDate> {
    let from = num(attrs, "yearRangeFrom");
    let to = num(attrs, "yearRangeTo");
    if from > 0 && to > 0 {
        return BirthDate::range(from, to);
    }
    let date = attr(attrs, "birthdate")
        .and_then(BirthDate::parse)
        .or_else(|| BirthDate::from_parts(num(attrs, "year"), num(attrs, "monthOfYear"), num(attrs, "dayOfMonth")))?;
    if attr(attrs, "circa") == Some("true") {
        let (lo, hi) = date.years();
        return BirthDate::range(u32::from(lo).saturating_sub(1), u32::from(hi) + 1);
    }
    Some(date)
}

fn name_alias(e: &mut Entity, attrs: &[(String, String)]) {
    let get = |k: &str| attr(attrs, k).map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    let parts =
        NameParts { given: get("firstName"), middle: get("middleName"), family: get("lastName"), patronymic: None };
    let full = get("wholeName").unwrap_or_else(|| {
        [&parts.given, &parts.middle, &parts.family].iter().filter_map(|p| p.as_deref()).collect::<Vec<_>>().join(" ")
    });
    let strength = if attr(attrs, "strong") == Some("false") {
        NameStrength::Weak
    } else if e.names.is_empty() {
        NameStrength::Primary
    } else {
        NameStrength::Strong
    };
    if e.gender.is_none() {
        e.gender = attr(attrs, "gender").and_then(Gender::parse);
    }
    e.add_name(Name { full, strength, parts });
}

/// Imports an EU Financial Sanctions Files XML export.
pub fn import<R: Read>(reader: R, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let mut meter = MeterState::new(options.limits.max_input_bytes);
    let mut sink = Sink::new(ListSource::EuFsf, options.limits);
    {
        let mut xml = XmlStream::new(BufReader::new(meter.wrap(reader)), options.limits.max_field_chars * 4);
        let mut current: Option<Entity> = None;
        let mut records = 0u64;
        loop {
            let node = match xml.next_node() {
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(e) => {
                    sink.truncated = true;
                    sink.bad("export", records + 1, format!("unreadable XML at byte {}: {e}", xml.position()));
                    break;
                }
            };
            match node {
                Node::Open(name, attrs) => match (name.as_str(), current.as_mut()) {
                    ("export", None) => sink.publisher_version = attr(&attrs, "generationDate").map(String::from),
                    ("sanctionEntity", None) => {
                        records += 1;
                        sink.records_read += 1;
                        let id = attr(&attrs, "logicalId")
                            .or(attr(&attrs, "euReferenceNumber"))
                            .map(str::trim)
                            .filter(|v| !v.is_empty())
                            .map(String::from)
                            .unwrap_or_else(|| format!("record{records}"));
                        let mut e = Entity::new(ListSource::EuFsf, &id, sink.placeholder.clone(), EntityKind::Unknown);
                        if let Some(un) = attr(&attrs, "unitedNationId").filter(|v| !v.trim().is_empty()) {
                            e.add_program(&format!("UN {un}"));
                        }
                        current = Some(e);
                    }
                    ("subjectType", Some(e)) => {
                        e.kind = attr(&attrs, "code").map(EntityKind::parse).unwrap_or_default();
                    }
                    ("nameAlias", Some(e)) if e.names.len() < sink.limits.max_names_per_entity => name_alias(e, &attrs),
                    ("citizenship", Some(e)) => {
                        e.add_nationality(
                            attr(&attrs, "countryIso2Code")
                                .filter(|c| *c != "00")
                                .and_then(Country::parse)
                                .or_else(|| attr(&attrs, "countryDescription").and_then(Country::parse)),
                        );
                    }
                    ("birthdate", Some(e)) => match birth_date(&attrs) {
                        Some(d) => e.add_birth_date(Some(d)),
                        None if attr(&attrs, "birthdate").is_some() || num(&attrs, "year") > 0 => {
                            sink.bad("export", records, format!("entity {}: unreadable birth date", e.id));
                        }
                        None => {}
                    },
                    ("identification", Some(e)) => {
                        let kind = attr(&attrs, "identificationTypeDescription")
                            .or(attr(&attrs, "identificationTypeCode"))
                            .unwrap_or("Identification");
                        let country = attr(&attrs, "countryIso2Code").filter(|c| *c != "00").and_then(Country::parse);
                        for key in ["number", "latinNumber"] {
                            if let Some(n) = attr(&attrs, key) {
                                e.add_identifier(Identifier::new(kind, n, country.clone()));
                            }
                        }
                    }
                    ("regulation", Some(e)) => {
                        if let Some(p) = attr(&attrs, "programme") {
                            e.add_program(p);
                        }
                    }
                    _ => {}
                },
                Node::Close(name) if name == "sanctionEntity" => {
                    if let Some(e) = current.take()
                        && !sink.push("export", records, e)
                    {
                        break;
                    }
                }
                _ => {}
            }
        }
        if current.is_some() {
            sink.truncated = true;
            sink.bad("export", records, "the file ends inside a sanctionEntity");
        }
    }
    sink.finish(options, &meter)
}
