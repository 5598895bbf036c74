//! Countries: ISO 3166 alpha-2 and alpha-3 codes, English names and common demonyms, so that
//! "IRN", "ir", "Iran (Islamic Republic of)" and "Iranian" are one country.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// Alpha-2, alpha-3 and names (`;`-separated), one country a line.
const TABLE: &str = include_str!("country_table.txt");

/// A country: its ISO 3166 alpha-2 code when recognised, else the normalised text prefixed `?`.
/// Deserialises from any spelling [`Country::parse`] accepts (`"IR"`, `"IRN"`, `"Iran"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Country(String);

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.strip_prefix('?') {
            Some(rest) if !rest.is_empty() => Ok(Self(text)),
            _ => Self::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a country: {text:?}"))),
        }
    }
}

fn key(text: &str) -> String {
    let ascii = any_ascii::any_ascii(text).to_ascii_lowercase();
    ascii.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

fn lookup() -> &'static HashMap<String, &'static str> {
    static MAP: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = HashMap::new();
        for line in TABLE.lines() {
            let mut it = line.splitn(3, ' ');
            let (Some(a2), Some(a3), Some(names)) = (it.next(), it.next(), it.next()) else { continue };
            map.insert(a2.to_ascii_lowercase(), a2);
            map.insert(a3.to_ascii_lowercase(), a2);
            for name in names.split(';') {
                map.insert(key(name), a2);
            }
        }
        // Codes seen in lists that are not ISO: the UK, Germany's passport code, Kosovo.
        map.insert("uk".into(), "GB");
        map.insert("d".into(), "DE");
        map.insert("xk".into(), "XK");
        map.insert("su".into(), "RU");
        map
    })
}

impl Country {
    /// Recognises a code, name or demonym; unknown non-empty text is kept normalised.
    pub fn parse(text: &str) -> Option<Self> {
        let k = key(text);
        if k.is_empty() || k == "0" || k == "unknown" || k == "none" {
            return None;
        }
        let map = lookup();
        if let Some(code) = map.get(&k) {
            return Some(Self((*code).to_string()));
        }
        // "Germany (Federal Republic)", "Iran, Islamic Republic of": try the text before the qualifier.
        let head = text.split(['(', ',']).next().map(key).unwrap_or_default();
        if let Some(code) = map.get(&head) {
            return Some(Self((*code).to_string()));
        }
        if k.len() > 64 {
            return None;
        }
        Some(Self(format!("?{k}")))
    }

    /// The alpha-2 code, when recognised.
    pub fn iso2(&self) -> Option<&str> {
        (!self.0.starts_with('?')).then_some(self.0.as_str())
    }

    /// The stored form (alpha-2 or `?text`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_codes_names_and_demonyms() {
        let iran = Country::parse("IR");
        assert_eq!(iran.as_ref().and_then(|c| c.iso2()), Some("IR"));
        assert_eq!(Country::parse("IRN"), iran);
        assert_eq!(Country::parse("Iran (Islamic Republic of)"), iran);
        assert_eq!(Country::parse("Iranian"), iran);
        assert_eq!(Country::parse("Korea, North").and_then(|c| c.iso2().map(String::from)), Some("KP".into()));
        assert_eq!(Country::parse("Côte d'Ivoire").and_then(|c| c.iso2().map(String::from)), Some("CI".into()));
        assert_eq!(Country::parse("Atlantis").map(|c| c.as_str().to_string()), Some("?atlantis".into()));
        assert_eq!(Country::parse("  "), None);
        assert_eq!(Country::parse("-0-"), None);
    }

    #[test]
    fn deserialises_any_spelling() {
        let c: Vec<Country> = serde_json::from_str(r#"["IRN", "Iran", "?atlantis"]"#).expect("json");
        assert_eq!(c[0], c[1]);
        assert_eq!(c[2].as_str(), "?atlantis");
        assert!(serde_json::from_str::<Country>("\"\"").is_err());
    }
}
