//! The UK OFSI consolidated list CSV (`ConList.csv`): a first line `Last Updated,<date>`, a
//! header row, then one row per name of a party, rows of one party sharing a `Group ID`.
//! Columns used: `Name 6` (surname), `Name 1`..`Name 5` (given and middle names), `Name
//! Non-Latin Script`, `DOB` (`dd/mm/yyyy`, `00` for unknown parts), `Nationality` (`(1) X (2)
//! Y`), `Passport Number`, `National Identification Number`, `Group Type` (Individual,
//! Entity, Ship), `Alias Type` (Primary name, AKA, ...), `Alias Quality` (Good/Low quality),
//! `Regime`, `Group ID`.

use std::collections::HashMap;
use std::io::Read;

use crate::country::Country;
use crate::date::BirthDate;
use crate::import::{ImportError, ImportOptions, ImportReport, MeterState, Sink, clean, csv_records};
use crate::model::{Entity, EntityKind, Gender, Identifier, ListSource, Name, NameParts, NameStrength};

/// "(1) Russia (2) Ukraine" → ["Russia", "Ukraine"]; a plain value is one item.
fn numbered(cell: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut rest = cell;
    while let Some(open) = rest.find('(') {
        let after = rest.get(open + 1..).unwrap_or("");
        match after.find(')') {
            Some(close)
                if after.get(..close).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
            {
                current.push_str(rest.get(..open).unwrap_or(""));
                if !current.trim().is_empty() {
                    out.push(current.trim().to_string());
                }
                current.clear();
                rest = after.get(close + 1..).unwrap_or("");
            }
            _ => {
                current.push_str(rest.get(..=open).unwrap_or(""));
                rest = after;
            }
        }
    }
    current.push_str(rest);
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// Imports an OFSI consolidated list CSV.
pub fn import<R: Read>(reader: R, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let mut meter = MeterState::new(options.limits.max_input_bytes);
    let mut sink = Sink::new(ListSource::UkOfsi, options.limits);
    let mut header: Option<HashMap<String, usize>> = None;
    let mut groups: HashMap<String, usize> = HashMap::new();
    csv_records(meter.wrap(reader), b',', &mut sink, "conlist", |sink, line, rec| {
        let Some(cols) = header.as_ref() else {
            let first = rec.get(0).unwrap_or("").trim().trim_start_matches('\u{feff}');
            if first.eq_ignore_ascii_case("Last Updated") {
                sink.publisher_version = rec.get(1).and_then(|v| sink.field(v));
                return true;
            }
            let map: HashMap<String, usize> = rec.iter().enumerate().map(|(i, h)| (h.trim().to_string(), i)).collect();
            if !map.contains_key("Name 6") || !map.contains_key("Group ID") {
                sink.bad("conlist", line, "header row without Name 6 and Group ID columns");
                sink.truncated = true;
                return false;
            }
            header = Some(map);
            return true;
        };
        sink.records_read += 1;
        let max = sink.limits.max_field_chars;
        let get = |key: &str| cols.get(key).and_then(|i| rec.get(*i)).and_then(|v| clean(v, max));
        let Some(group) = get("Group ID") else {
            sink.bad("conlist", line, "row without a Group ID");
            return true;
        };
        let given: Vec<String> =
            ["Name 1", "Name 2", "Name 3", "Name 4", "Name 5"].iter().filter_map(|k| get(k)).collect();
        let family = get("Name 6");
        let full = given.iter().cloned().chain(family.clone()).collect::<Vec<_>>().join(" ");
        if full.is_empty() {
            sink.bad("conlist", line, format!("group {group}: row without a name"));
            return true;
        }
        let i = match groups.get(&group) {
            Some(i) => *i,
            None => {
                let kind = get("Group Type").map(|t| EntityKind::parse(&t)).unwrap_or_default();
                let e = Entity::new(ListSource::UkOfsi, &group, sink.placeholder.clone(), kind);
                // The entity is pushed with its first name below; remember where it goes.
                let at = sink.entities.len();
                let mut e = e;
                e.add_name_str(&full, NameStrength::Primary);
                if !sink.push("conlist", line, e) {
                    return false;
                }
                groups.insert(group.clone(), at);
                at
            }
        };
        let alias_type = get("Alias Type").unwrap_or_default().to_ascii_lowercase();
        let low = get("Alias Quality").is_some_and(|q| q.to_ascii_lowercase().starts_with("low"));
        let strength = if alias_type.starts_with("primary name") && !alias_type.contains("variation") {
            NameStrength::Primary
        } else if low {
            NameStrength::Weak
        } else {
            NameStrength::Strong
        };
        let dob = get("DOB");
        let dates: Vec<Option<BirthDate>> =
            dob.as_deref().map(numbered).unwrap_or_default().iter().map(|d| BirthDate::parse(d)).collect();
        let bad_date = dates.iter().any(Option::is_none);
        let Some(e) = sink.entities.get_mut(i) else { return true };
        let parts = NameParts {
            given: given.first().cloned(),
            middle: (given.len() > 1).then(|| given.get(1..).unwrap_or_default().join(" ")),
            family,
            patronymic: None,
        };
        let name =
            Name { full, strength, parts: if e.kind == EntityKind::Person { parts } else { NameParts::default() } };
        if e.names.len() < 512 {
            e.add_name(name);
        }
        if let Some(script) = get("Name Non-Latin Script") {
            e.add_name_str(&script, NameStrength::Strong);
        }
        for d in dates {
            e.add_birth_date(d);
        }
        for n in get("Nationality").as_deref().map(numbered).unwrap_or_default() {
            e.add_nationality(Country::parse(&n));
        }
        for (col, kind) in [("Passport Number", "Passport"), ("National Identification Number", "National ID")] {
            for n in get(col).as_deref().map(numbered).unwrap_or_default() {
                e.add_identifier(Identifier::new(kind, &n, None));
            }
        }
        if let Some(g) = get("Gender") {
            e.gender = Gender::parse(&g).or(e.gender);
        }
        if let Some(r) = get("Regime") {
            e.add_program(&r);
        }
        if bad_date {
            let id = e.id.to_string();
            sink.bad("conlist", line, format!("entity {id}: unreadable DOB {:?}", dob.unwrap_or_default()));
        }
        true
    });
    if header.is_none() && sink.bad_row_count == 0 {
        sink.bad("conlist", 1, "no header row");
    }
    sink.finish(options, &meter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_cells() {
        assert_eq!(numbered("(1) Russia (2) Ukraine"), vec!["Russia", "Ukraine"]);
        assert_eq!(numbered("Iran"), vec!["Iran"]);
        assert_eq!(numbered("Congo (Democratic Republic)"), vec!["Congo (Democratic Republic)"]);
        assert!(numbered("").is_empty());
    }
}
