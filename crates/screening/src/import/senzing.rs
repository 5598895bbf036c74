//! Senzing-format records (OpenSanctions' PEP and sanctions exports): a JSON array or one JSON
//! object a line, with `RECORD_ID`, `RECORD_TYPE`, names either flat (`NAME_FULL`,
//! `NAME_FIRST`, `NAME_LAST`, `NAME_ORG`) or in a `NAMES` list, and likewise `DATES`,
//! `COUNTRIES` and `IDENTIFIERS`.

use std::io::{BufRead, BufReader, Read};

use serde_json::Value;

use crate::country::Country;
use crate::date::BirthDate;
use crate::import::{ImportError, ImportOptions, ImportReport, MeterState, Sink, bounded_lines};
use crate::model::{Entity, EntityKind, Gender, Identifier, ListSource, Name, NameParts, NameStrength};

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn add_names(e: &mut Entity, v: &Value) {
    let strength = match text(v, "NAME_TYPE") {
        Some("PRIMARY") | None if e.names.is_empty() => NameStrength::Primary,
        _ => NameStrength::Strong,
    };
    if let Some(org) = text(v, "NAME_ORG") {
        e.add_name_str(org, strength);
    }
    let parts = NameParts {
        given: text(v, "NAME_FIRST").map(String::from),
        middle: text(v, "NAME_MIDDLE").map(String::from),
        family: text(v, "NAME_LAST").map(String::from),
        patronymic: None,
    };
    let full = text(v, "NAME_FULL").map(String::from).unwrap_or_else(|| {
        [&parts.given, &parts.middle, &parts.family].iter().filter_map(|p| p.as_deref()).collect::<Vec<_>>().join(" ")
    });
    e.add_name(Name { full, strength, parts });
}

fn entity_from(v: &Value, sink: &Sink) -> Result<Entity, String> {
    let id = text(v, "RECORD_ID").ok_or("no RECORD_ID")?;
    let kind = text(v, "RECORD_TYPE").map(EntityKind::parse).unwrap_or_default();
    let mut e = Entity::new(ListSource::Senzing, id, sink.placeholder.clone(), kind);
    add_names(&mut e, v);
    for n in v.get("NAMES").and_then(Value::as_array).into_iter().flatten().take(512) {
        add_names(&mut e, n);
    }
    let mut date = |d: &Value| e.add_birth_date(text(d, "DATE_OF_BIRTH").and_then(BirthDate::parse));
    date(v);
    for d in v.get("DATES").and_then(Value::as_array).into_iter().flatten().take(64) {
        date(d);
    }
    for c in std::iter::once(v).chain(v.get("COUNTRIES").and_then(Value::as_array).into_iter().flatten().take(64)) {
        for key in ["NATIONALITY", "CITIZENSHIP"] {
            e.add_nationality(text(c, key).and_then(Country::parse));
        }
    }
    e.gender = text(v, "GENDER").and_then(Gender::parse);
    for i in std::iter::once(v).chain(v.get("IDENTIFIERS").and_then(Value::as_array).into_iter().flatten().take(64)) {
        for (key, kind) in
            [("PASSPORT_NUMBER", "Passport"), ("NATIONAL_ID_NUMBER", "National ID"), ("TAX_ID_NUMBER", "Tax ID")]
        {
            e.add_identifier(text(i, key).and_then(|n| Identifier::new(kind, n, None)));
        }
    }
    for r in v.get("RISKS").and_then(Value::as_array).into_iter().flatten().take(64) {
        if let Some(t) = text(r, "TOPIC") {
            e.add_program(t);
        }
    }
    Ok(e)
}

/// Imports Senzing records (JSON array or JSON lines).
pub fn import<R: Read>(reader: R, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let mut meter = MeterState::new(options.limits.max_input_bytes);
    let mut sink = Sink::new(ListSource::Senzing, options.limits);
    {
        let mut buffered = BufReader::new(meter.wrap(reader));
        let first = loop {
            match buffered.fill_buf() {
                Ok(buf) => match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                    Some(i) => {
                        let b = buf.get(i).copied();
                        buffered.consume(i);
                        break b;
                    }
                    None if buf.is_empty() => break None,
                    None => {
                        let n = buf.len();
                        buffered.consume(n);
                    }
                },
                Err(e) => {
                    sink.truncated = true;
                    sink.bad("records", 1, format!("read error: {e}"));
                    break None;
                }
            }
        };
        let one = |sink: &mut Sink, n: u64, v: &Value| -> bool {
            sink.records_read += 1;
            match entity_from(v, sink) {
                Ok(e) => sink.push("records", n, e),
                Err(reason) => {
                    sink.bad("records", n, reason);
                    true
                }
            }
        };
        if first == Some(b'[') {
            match serde_json::from_reader::<_, Vec<Value>>(&mut buffered) {
                Ok(items) => {
                    for (i, v) in items.iter().enumerate() {
                        if !one(&mut sink, i as u64 + 1, v) {
                            break;
                        }
                    }
                }
                Err(e) => {
                    sink.truncated = true;
                    sink.bad("records", 1, format!("not a JSON array of records: {e}"));
                }
            }
        } else if first.is_some() {
            let max_line = options.limits.max_field_chars.saturating_mul(256);
            bounded_lines(buffered, max_line, &mut sink, "records", |sink, n, line| {
                match serde_json::from_str::<Value>(line) {
                    Ok(v) => one(sink, n, &v),
                    Err(e) => {
                        sink.bad("records", n, format!("not a JSON object: {e}"));
                        true
                    }
                }
            });
        }
    }
    sink.finish(options, &meter)
}
