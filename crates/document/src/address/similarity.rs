//! Fuzzy matching of addresses and names: token-set similarity with Jaro-Winkler per token
//! (`trustcap_screening::similarity::jaro_winkler`). Every declared token is looked for among
//! the document's tokens; tokens with digits (house numbers, postcodes) must be found exactly,
//! words may differ by OCR or spelling slips. Extra document tokens (a country, a district) do
//! not count against a match.

use serde::Serialize;
use trustcap_screening::similarity::jaro_winkler;

/// Per-token Jaro-Winkler similarity under which two words do not match at all.
pub const WORD_MIN_SIMILARITY: f32 = 0.88;

/// How a declared address compares with an address read from a document.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AddressSimilarity {
    /// Weighted share of the declared tokens found, 0-1 (numbers weigh double).
    pub score: f32,
    /// Whether every declared number (house number, postcode) was found exactly.
    pub numbers_match: bool,
    /// Declared tokens compared.
    pub declared_tokens: usize,
}

/// Compares normalised declared tokens with normalised document tokens.
pub fn compare_addresses(declared: &[String], found: &[String]) -> AddressSimilarity {
    let (mut got, mut total) = (0.0f32, 0.0f32);
    let mut numbers_match = true;
    for d in declared {
        if d.chars().any(|c| c.is_ascii_digit()) {
            let hit = found.iter().any(|f| f == d);
            numbers_match &= hit;
            total += 2.0;
            got += if hit { 2.0 } else { 0.0 };
        } else {
            let best = found
                .iter()
                .filter(|f| !f.chars().any(|c| c.is_ascii_digit()))
                .map(|f| jaro_winkler(d, f))
                .fold(0.0f32, f32::max);
            // Single letters (directions, unit letters) count half.
            let w = if d.len() == 1 { 0.5 } else { 1.0 };
            total += w;
            got += if best >= WORD_MIN_SIMILARITY { w * best } else { 0.0 };
        }
    }
    let score = if total > 0.0 { got / total } else { 0.0 };
    AddressSimilarity { score, numbers_match, declared_tokens: declared.len() }
}

/// Courtesy titles dropped before names are compared.
const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "m", "mme", "mlle", "herr", "frau", "sr", "sra", "srta",
    "don", "dona", "the", "occupier", "and",
];

/// The name tokens of a text (normalised, titles dropped).
pub fn name_tokens(text: &str) -> Vec<String> {
    trustcap_screening::normalize::tokens(text).into_iter().filter(|t| !TITLES.contains(&t.as_str())).collect()
}

/// Score of a name token found inside a longer token (OCR dropped the space: `MRSJANE`).
const GLUED_SCORE: f32 = 0.95;

fn best(token: &str, found: &[String]) -> f32 {
    found
        .iter()
        .map(|f| {
            if token.len() >= 3 && f.len() > token.len() && f.contains(token) {
                GLUED_SCORE
            } else {
                jaro_winkler(token, f)
            }
        })
        .fold(0.0f32, f32::max)
}

/// How well a text (a bill's addressee line) names the applicant, 0-1: every family-name
/// token must be there (Jaro-Winkler), and the first given name in full or as an initial;
/// further given names may be missing (bills often print one).
pub fn name_similarity(given: &str, family: &str, text: &str) -> f32 {
    let found = name_tokens(text);
    let family = name_tokens(family);
    let given = name_tokens(given);
    if family.is_empty() || found.is_empty() {
        return 0.0;
    }
    let family_score = family.iter().map(|t| best(t, &found)).fold(1.0f32, f32::min);
    let given_score = match given.first() {
        None => 1.0,
        Some(g) => {
            let initial = g.chars().next();
            let by_initial = found.iter().any(|f| f.len() == 1 && f.chars().next() == initial);
            if by_initial { 0.95f32.max(best(g, &found)) } else { best(g, &found) }
        }
    };
    family_score.min(given_score)
}

#[cfg(test)]
mod tests {
    use super::super::normalize::address_tokens;
    use super::*;
    use proptest::prelude::*;

    fn cmp(a: &str, b: &str) -> AddressSimilarity {
        compare_addresses(&address_tokens(a), &address_tokens(b))
    }

    #[test]
    fn addresses() {
        let s =
            cmp("12 Main St, Apt 4, Springfield, IL 62704", "MR J SMITH 12 MAIN STREET #4 SPRINGFIELD IL 62704 USA");
        assert!(s.numbers_match && s.score > 0.99, "{s:?}");
        // An OCR slip in a word still matches.
        let s = cmp("12 Main St, Springfield", "12 Main Stret Springfeld");
        assert!(s.numbers_match && s.score > 0.9, "{s:?}");
        // Another house number or postcode does not.
        assert!(!cmp("12 Main St, Springfield", "21 Main St, Springfield").numbers_match);
        let s = cmp("12 Main St, Springfield", "48 Oak Avenue, Shelbyville");
        assert!(!s.numbers_match && s.score < 0.3, "{s:?}");
        assert_eq!(cmp("", "12 Main St").score, 0.0);
    }

    #[test]
    fn names() {
        assert!(name_similarity("Jane Marie", "Tester", "MRS JANE TESTER") > 0.95);
        assert!(name_similarity("Jane Marie", "Tester", "Ms J. Tester") > 0.9);
        assert!(name_similarity("Jane", "Tester", "JANE TESTOR") > 0.85);
        assert!(name_similarity("Jane", "Tester", "JOHN SMITH") < 0.7);
        assert!(name_similarity("Jane", "Tester", "JANE SMITH") < 0.7);
        assert!(name_similarity("José", "García López", "Jose Garcia Lopez") > 0.99);
        assert!(name_similarity("Jane", "Tester", "MRSJANE TESTER") > 0.9, "OCR dropped a space");
        assert_eq!(name_similarity("Jane", "", "JANE"), 0.0);
    }

    proptest! {
        #[test]
        fn an_address_matches_itself(s in "[0-9]{1,4} [A-Za-z]{3,10} (St|Road|Ave), [A-Za-z]{4,12}") {
            let s2 = cmp(&s, &s.to_uppercase());
            prop_assert!(s2.numbers_match);
            prop_assert!((s2.score - 1.0).abs() < 1e-6);
        }

        #[test]
        fn scores_are_in_unit_range(a in "\\PC{0,40}", b in "\\PC{0,40}") {
            let s = cmp(&a, &b);
            prop_assert!((0.0..=1.0).contains(&s.score));
        }
    }
}
