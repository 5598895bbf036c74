//! Names prepared for matching: normalised tokens, each with a kind (word, particle, initial,
//! legal form, stop word, number), a weight, its phonetic key and consonant skeleton. Lists are
//! prepared once at index time; a query once per screening.

use serde::{Deserialize, Serialize};

use crate::model::EntityKind;
use crate::normalize::tokens_with_info;
use crate::phonetic;
use crate::terms;

/// What a token is, which decides its weight and what it may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// An ordinary name word.
    Word,
    /// A name particle (`al`, `bin`, `van`).
    Particle,
    /// A single letter (an initial).
    Initial,
    /// A legal form, folded to its canonical form (`llc`, `jsc`, `plc`, `inc`, ...).
    LegalForm,
    /// An organisation stop word (`the`, `of`, `and`).
    Stop,
    /// A number (digits, number words or Roman numerals, as digits).
    Number,
}

/// One prepared token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// Normalised text (for legal forms and numbers, the canonical form).
    pub text: String,
    /// Kind.
    pub kind: TokenKind,
    /// Weight in the name score.
    pub weight: f32,
    /// Phonetic key.
    pub key: String,
    /// Consonant skeleton.
    pub skeleton: String,
    /// Transliterated from an abjad (compare on consonants).
    pub abjad: bool,
    /// The given-name variant groups the token belongs to (see [`terms::same_name`]).
    #[serde(skip)]
    pub groups: &'static [u16],
}

/// A name ready for matching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedName {
    /// Tokens, in the name's order.
    pub tokens: Vec<Token>,
    /// The normalised text, tokens joined by spaces (before folding titles and legal forms).
    pub normalized: String,
    /// The kind of party the name is prepared for.
    pub kind: EntityKind,
}

impl PreparedName {
    /// Total weight of the tokens.
    pub fn weight(&self) -> f32 {
        self.tokens.iter().map(|t| t.weight).sum()
    }

    /// Number of ordinary words.
    pub fn words(&self) -> usize {
        self.tokens.iter().filter(|t| t.kind == TokenKind::Word).count()
    }
}

/// Most tokens of one name that are kept (very long names are cut).
pub const MAX_TOKENS: usize = 24;
/// Longest token kept, in bytes (longer ones are cut, which bounds every edit distance).
pub const MAX_TOKEN_LEN: usize = 48;

fn weight_of(kind: TokenKind, text: &str) -> f32 {
    match kind {
        TokenKind::Word if text.len() <= 2 => 0.6,
        TokenKind::Word => 1.0,
        TokenKind::Particle => 0.25,
        TokenKind::Initial => 0.3,
        TokenKind::LegalForm if terms::GENERIC_FORMS.contains(&text) => 0.15,
        TokenKind::LegalForm => 0.35,
        TokenKind::Stop => 0.1,
        TokenKind::Number => 0.6,
    }
}

fn token(mut text: String, kind: TokenKind, abjad: bool) -> Token {
    // Tokens are ASCII, so any byte index is a character boundary.
    text.truncate(MAX_TOKEN_LEN);
    Token {
        weight: weight_of(kind, &text),
        key: phonetic::key(&text),
        skeleton: phonetic::skeleton(&text),
        groups: terms::name_groups(&text),
        text,
        kind,
        abjad,
    }
}

/// Prepares a name for matching as a name of a party of `kind`.
pub fn prepare(text: &str, kind: EntityKind) -> PreparedName {
    let (raw, info) = tokens_with_info(text);
    let normalized = raw.join(" ");
    let person = kind == EntityKind::Person;
    let org_like = matches!(kind, EntityKind::Organization | EntityKind::Unknown);
    let mut out: Vec<Token> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() && out.len() < MAX_TOKENS {
        let Some(word) = raw.get(i) else { break };
        let w = word.as_str();
        if (person || kind == EntityKind::Unknown) && terms::TITLES.contains(&w) && raw.len() > 1 {
            i += 1;
            continue;
        }
        if kind == EntityKind::Vessel && i == 0 && terms::VESSEL_PREFIXES.contains(&w) && raw.len() > 1 {
            i += 1;
            continue;
        }
        if let Some((form, n)) = terms::legal_form_at(&raw, i) {
            let allowed = org_like || (person && n == 1 && w.len() >= 3 && ["llc", "inc", "corp"].contains(&form));
            if allowed && (raw.len() > n || org_like) {
                out.push(token(form.to_string(), TokenKind::LegalForm, false));
                i += n;
                continue;
            }
        }
        if !person {
            if let Some((value, n)) = terms::number_at(&raw, i).filter(|_| raw.len() > 1) {
                out.push(token(value.to_string(), TokenKind::Number, false));
                i += n;
                continue;
            }
            if w.bytes().all(|b| b.is_ascii_digit()) {
                let t = w.trim_start_matches('0');
                out.push(token(if t.is_empty() { "0".into() } else { t.to_string() }, TokenKind::Number, false));
                i += 1;
                continue;
            }
            if let Some(value) = terms::roman(w).filter(|_| w.len() > 1) {
                out.push(token(value.to_string(), TokenKind::Number, false));
                i += 1;
                continue;
            }
            if terms::ORG_STOPWORDS.contains(&w) && raw.len() > 1 && !person {
                out.push(token(w.to_string(), TokenKind::Stop, false));
                i += 1;
                continue;
            }
        }
        let kind_of = if w.len() == 1 && w.bytes().all(|b| b.is_ascii_alphabetic()) {
            TokenKind::Initial
        } else if !org_like && terms::PARTICLES.contains(&w) && raw.len() > 1 {
            TokenKind::Particle
        } else {
            TokenKind::Word
        };
        // A repeated word adds nothing ("Sergey Sergey Shoigu").
        if !(kind_of == TokenKind::Word && out.iter().any(|t| t.text == w)) {
            out.push(token(w.to_string(), kind_of, info.abjad));
        }
        i += 1;
    }
    // Runs of initials written together ("J.C." → "j c"; "JC" stays one word) are kept as is.
    PreparedName { tokens: out, normalized, kind }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_names() {
        let p = prepare("Mr. Recep Tayyip Erdoğan", EntityKind::Person);
        let texts: Vec<&str> = p.tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["recep", "tayyip", "erdogan"]);
        let p = prepare("Osama bin Laden", EntityKind::Person);
        assert_eq!(p.tokens.get(1).map(|t| t.kind), Some(TokenKind::Particle));
        let p = prepare("Sergey Sergey Shoigu", EntityKind::Person);
        assert_eq!(p.tokens.len(), 2);
    }

    #[test]
    fn organisation_names() {
        let p = prepare("Siemens Aktiengesellschaft", EntityKind::Organization);
        assert_eq!(p.tokens.get(1).map(|t| (t.text.as_str(), t.kind)), Some(("jsc", TokenKind::LegalForm)));
        let p = prepare("Brigade Forty-Four", EntityKind::Organization);
        assert_eq!(p.tokens.get(1).map(|t| (t.text.as_str(), t.kind)), Some(("44", TokenKind::Number)));
        let p = prepare("The Bank of China", EntityKind::Organization);
        assert_eq!(p.tokens.first().map(|t| t.kind), Some(TokenKind::Stop));
    }
}
