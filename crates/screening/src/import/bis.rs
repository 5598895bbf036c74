//! The US BIS Denied Persons List (`dpl.txt`): tab-separated with a header row (Name,
//! Street_Address, City, State, Country, Postal_Code, Effective_Date, Expiration_Date, ...).
//! A party with several addresses has several rows; rows with the same name and effective date
//! are one entity. The list does not say whether a party is a person or a company.

use std::collections::HashMap;
use std::io::Read;

use crate::country::Country;
use crate::import::{ImportError, ImportOptions, ImportReport, MeterState, Sink, csv_records};
use crate::model::{Entity, EntityKind, ListSource, NameStrength};

/// Imports the Denied Persons List.
pub fn import<R: Read>(reader: R, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let mut meter = MeterState::new(options.limits.max_input_bytes);
    let mut sink = Sink::new(ListSource::UsBisDpl, options.limits);
    let mut header: Option<HashMap<String, usize>> = None;
    let mut seen: HashMap<String, usize> = HashMap::new();
    csv_records(meter.wrap(reader), b'\t', &mut sink, "dpl", |sink, line, rec| {
        let Some(cols) = header.as_ref() else {
            let map: HashMap<String, usize> =
                rec.iter().enumerate().map(|(i, h)| (h.trim().to_ascii_lowercase(), i)).collect();
            if !map.contains_key("name") {
                sink.bad("dpl", line, "header row without a Name column");
                sink.truncated = true;
                return false;
            }
            header = Some(map);
            return true;
        };
        sink.records_read += 1;
        let get = |key: &str| cols.get(key).and_then(|i| rec.get(*i)).and_then(|v| sink.field(v));
        let Some(name) = get("name") else {
            sink.bad("dpl", line, "row without a name");
            return true;
        };
        let effective = get("effective_date").unwrap_or_default();
        let key = format!("{}|{}", name.to_uppercase(), effective);
        let country = get("country").and_then(|c| Country::parse(&c));
        if let Some(i) = seen.get(&key).copied() {
            if let Some(e) = sink.entities.get_mut(i) {
                e.add_nationality(country);
            }
            return true;
        }
        let mut e = Entity::new(ListSource::UsBisDpl, &key, sink.placeholder.clone(), EntityKind::Unknown);
        e.add_name_str(&name, NameStrength::Primary);
        e.add_nationality(country);
        if let Some(fr) = get("fr_citation") {
            e.add_program(fr.split_whitespace().take(3).collect::<Vec<_>>().join(" ").as_str());
        }
        seen.insert(key, sink.entities.len());
        sink.push("dpl", line, e)
    });
    if header.is_none() && sink.bad_row_count == 0 {
        sink.bad("dpl", 1, "empty file");
    }
    sink.finish(options, &meter)
}
