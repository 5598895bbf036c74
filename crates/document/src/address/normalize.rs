//! Address normalisation: case, punctuation and accents folded (through
//! `trustcap_screening::normalize`, which also transliterates other scripts), street-type and
//! unit abbreviations expanded to one spelling (`St`/`Street`, `Rd`/`Road`, `Ave`/`Avenue`,
//! `Hauptstr.`/`Hauptstraße`, ...), unit designators (`Apt`, `#`, `Flat`, `Suite`, `No.`)
//! dropped so `Apt 4` and `#4` agree, and postcodes joined (`SW1A 1AA`, `K1A 0B1`,
//! `1234 AB`, `00-950`) so spacing does not matter. ZIP+4 keeps its five-digit ZIP.

/// Abbreviations and their one spelling (applied to lower-case ASCII tokens).
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("st", "street"),
    ("str", "strasse"),
    ("rd", "road"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("avda", "avenue"),
    ("avenida", "avenue"),
    ("blvd", "boulevard"),
    ("bd", "boulevard"),
    ("boul", "boulevard"),
    ("dr", "drive"),
    ("ln", "lane"),
    ("ct", "court"),
    ("pl", "place"),
    ("sq", "square"),
    ("hwy", "highway"),
    ("pkwy", "parkway"),
    ("cres", "crescent"),
    ("tce", "terrace"),
    ("terr", "terrace"),
    ("gdns", "gardens"),
    ("mt", "mount"),
    ("rte", "route"),
    ("imp", "impasse"),
    ("ch", "chemin"),
    ("pza", "plaza"),
    ("pso", "paseo"),
    ("c", "calle"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
];

/// Unit designators and number words, dropped (the number after them stays).
const DROPPED: &[&str] =
    &["apt", "apartment", "appt", "unit", "flat", "suite", "ste", "no", "nr", "num", "numero", "number"];

/// Joins digit groups split by a hyphen (`00-950` → `00950`), keeps a ZIP+4's ZIP
/// (`12345-6789` → `12345`), and turns `#` into a separator.
fn prepass(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '-' && i > 0 && chars.get(i - 1).is_some_and(char::is_ascii_digit) {
            let before = chars.get(..i).unwrap_or_default().iter().rev().take_while(|c| c.is_ascii_digit()).count();
            let after = chars.get(i + 1..).unwrap_or_default().iter().take_while(|c| c.is_ascii_digit()).count();
            if before == 5 && after == 4 {
                i += 5; // ZIP+4: drop the hyphen and the four digits.
                continue;
            }
            if after > 0 {
                i += 1; // Joined.
                continue;
            }
        }
        out.push(if c == '#' { ' ' } else { c });
        i += 1;
    }
    out
}

fn is_outward_code(t: &str) -> bool {
    // UK outward code (SW1A, M1, EC1V) or Canadian forward sortation area (K1A).
    (2..=4).contains(&t.len())
        && t.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && t.chars().any(|c| c.is_ascii_digit())
}

fn is_inward_code(t: &str) -> bool {
    // UK inward code (1AA) or Canadian local delivery unit (0B1).
    let b = t.as_bytes();
    b.len() == 3 && b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphanumeric()
}

fn is_dutch_pair(a: &str, b: &str) -> bool {
    a.len() == 4 && a.bytes().all(|c| c.is_ascii_digit()) && b.len() == 2 && b.bytes().all(|c| c.is_ascii_alphabetic())
}

/// Splits a word OCR glued to a number (`12acacia` → `12`, `acacia`): at each boundary
/// between digits and a run of at least three letters. House numbers with a letter (`221b`)
/// and postcodes (`sp12ab`) stay whole.
fn split_glued(t: String) -> Vec<String> {
    let chars: Vec<char> = t.chars().collect();
    let mut pieces: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let digit = chars.get(i).is_some_and(char::is_ascii_digit);
        let run = chars.get(i..).unwrap_or_default().iter().take_while(|c| c.is_ascii_digit() == digit).count();
        pieces.push(chars.get(i..i + run).unwrap_or_default().iter().collect());
        i += run;
    }
    let splittable =
        pieces.len() > 1 && pieces.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()) || p.chars().count() >= 3);
    if splittable { pieces } else { vec![t] }
}

/// The normalised tokens of an address.
pub fn address_tokens(text: &str) -> Vec<String> {
    let raw: Vec<String> =
        trustcap_screening::normalize::tokens(&prepass(text)).into_iter().flat_map(split_glued).collect();
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for t in raw {
        if DROPPED.contains(&t.as_str()) {
            continue;
        }
        let t = match ABBREVIATIONS.iter().find(|(a, _)| *a == t) {
            Some((_, full)) => (*full).to_owned(),
            // German compounds: "hauptstr" → "hauptstrasse".
            None if t.len() > 4 && t.ends_with("str") => format!("{t}asse"),
            None => t,
        };
        if let Some(prev) = out.last_mut()
            && ((is_outward_code(prev) && is_inward_code(&t)) || is_dutch_pair(prev, &t))
        {
            prev.push_str(&t);
            continue;
        }
        out.push(t);
    }
    out
}

/// The normalised address as one string (tokens joined by single spaces).
pub fn normalize_address(text: &str) -> String {
    address_tokens(text).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spellings_agree() {
        let same = [
            ("12 Main St., Apt 4", "12 MAIN STREET #4"),
            ("12 Main Street, Flat 4", "12 main st 4"),
            ("221B Baker St, London NW1 6XE", "221b baker street london nw16xe"),
            ("Hauptstr. 5, 10115 Berlin", "Hauptstraße 5 10115 Berlin"),
            ("5 Av. des Champs-Élysées", "5 avenue des champs elysees"),
            ("1 Rd", "1 road"),
            ("350 Fifth Ave, New York, NY 10118-0110", "350 fifth avenue new york ny 10118"),
            ("ul. Marszałkowska 1, 00-950 Warszawa", "ul marszalkowska 1 00950 warszawa"),
            ("Damrak 1, 1012 LG Amsterdam", "damrak 1 1012lg amsterdam"),
            ("C/ Mayor 3", "Calle Mayor 3"),
            ("10 North Blvd", "10 N Boulevard"),
            ("Flat 4,12Acacia Avenue", "Flat 4, 12 Acacia Avenue"),
        ];
        for (a, b) in same {
            assert_eq!(normalize_address(a), normalize_address(b), "{a} / {b}");
        }
        assert_eq!(normalize_address("221B Baker St, London NW1 6XE"), "221b baker street london nw16xe");
        assert_ne!(normalize_address("12 Main St"), normalize_address("21 Main St"));
    }

    proptest! {
        #[test]
        fn idempotent_and_case_blind(s in "[A-Za-z0-9 ,.#-]{0,60}") {
            let once = normalize_address(&s);
            prop_assert_eq!(normalize_address(&once), once.clone());
            prop_assert_eq!(normalize_address(&s.to_uppercase()), once);
        }

        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = address_tokens(&s);
        }
    }
}
