//! The US Consolidated Screening List CSV (trade.gov): a header row naming the columns
//! (`_id`, `source`, `entity_number`, `type`, `programs`, `name`, `alt_names`,
//! `dates_of_birth`, `nationalities`, `citizenships`, `ids`, ...); list-valued cells are
//! `; `-separated; ids are `country, number, type`.

use std::collections::HashMap;
use std::io::Read;

use crate::country::Country;
use crate::date::BirthDate;
use crate::import::{ImportError, ImportOptions, ImportReport, MeterState, Sink, clean, csv_records};
use crate::model::{Entity, EntityKind, Identifier, ListSource, NameStrength};

/// Parses one CSL id cell item: `US, 80-0890696, Tax ID No.` or `5030056754, Tax ID No.`.
fn parse_id(item: &str) -> Option<Identifier> {
    let parts: Vec<&str> = item.split(", ").map(str::trim).collect();
    let (country, number, kind) = match parts.as_slice() {
        [c, n, k] => (Country::parse(c), *n, *k),
        [n, k] => (None, *n, *k),
        _ => return None,
    };
    if !number.bytes().any(|b| b.is_ascii_digit()) || number.len() > 128 {
        return None;
    }
    Identifier::new(kind, number.trim_start_matches("IMO "), country)
}

/// The name without the "; and any successor, sub-unit, or subsidiary thereof" tail.
fn main_name(name: &str) -> &str {
    name.split("; and any").next().unwrap_or(name).trim()
}

/// Imports a Consolidated Screening List CSV.
pub fn import<R: Read>(reader: R, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let mut meter = MeterState::new(options.limits.max_input_bytes);
    let mut sink = Sink::new(ListSource::UsCsl, options.limits);
    let mut header: Option<HashMap<String, usize>> = None;
    let mut ids_seen: HashMap<String, u32> = HashMap::new();
    csv_records(meter.wrap(reader), b',', &mut sink, "csl", |sink, line, rec| {
        let Some(cols) = header.as_ref() else {
            let map: HashMap<String, usize> =
                rec.iter().enumerate().map(|(i, h)| (h.trim().trim_start_matches('\u{feff}').to_string(), i)).collect();
            if !map.contains_key("name") {
                sink.bad("csl", line, "header row without a name column");
                sink.truncated = true;
                return false;
            }
            header = Some(map);
            return true;
        };
        sink.records_read += 1;
        let max = sink.limits.max_field_chars;
        let get = |key: &str| cols.get(key).and_then(|i| rec.get(*i)).and_then(|v| clean(v, max));
        let Some(name) = get("name") else {
            sink.bad("csl", line, "row without a name");
            return true;
        };
        let source_list = get("source").unwrap_or_default();
        let native = get("_id")
            .or_else(|| get("entity_number").map(|n| format!("{}:{n}", source_list.split(" (").next().unwrap_or(""))))
            .unwrap_or_else(|| format!("line{line}"));
        let count = ids_seen.entry(native.clone()).or_insert(0);
        *count += 1;
        let native = if *count > 1 { format!("{native}#{count}") } else { native };
        let mut e = Entity::new(ListSource::UsCsl, &native, sink.placeholder.clone(), EntityKind::Unknown);
        e.kind = get("type").map(|t| EntityKind::parse(&t)).unwrap_or_default();
        e.add_name_str(main_name(&name), NameStrength::Primary);
        if let Some(alts) = get("alt_names") {
            for alt in alts.split(';') {
                e.add_name_str(alt, NameStrength::Strong);
            }
        }
        for key in ["dates_of_birth"] {
            for d in get(key).unwrap_or_default().split(';').filter(|s| !s.trim().is_empty()) {
                match BirthDate::parse(d) {
                    Some(date) => e.add_birth_date(Some(date)),
                    None => sink.bad("csl", line, format!("unreadable birth date {:?}", d.trim())),
                }
            }
        }
        for key in ["nationalities", "citizenships"] {
            for c in get(key).unwrap_or_default().split(';') {
                e.add_nationality(Country::parse(c));
            }
        }
        for id in get("ids").unwrap_or_default().split(';') {
            e.add_identifier(parse_id(id));
        }
        for p in get("programs").unwrap_or_default().split(';') {
            e.add_program(p);
        }
        if !source_list.is_empty() {
            e.add_program(source_list.split(" - ").next().unwrap_or(&source_list));
        }
        sink.push("csl", line, e)
    });
    if header.is_none() && sink.bad_row_count == 0 {
        sink.bad("csl", 1, "empty file");
    }
    sink.finish(options, &meter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names() {
        let id = parse_id("US, 80-0890696, Tax ID No.").expect("id");
        assert_eq!((id.normalized.as_str(), id.kind.as_str()), ("800890696", "Tax ID No."));
        assert!(parse_id("Subject to Secondary Sanctions, Additional Sanctions Information -").is_none());
        assert_eq!(main_name("Sinobright; and any successor, sub-unit"), "Sinobright");
    }
}
