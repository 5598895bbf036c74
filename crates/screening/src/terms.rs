//! Word lists for names: honorifics and titles (dropped), name particles (`al`, `bin`, `van`,
//! ...: kept with a low weight), legal forms (folded to a few canonical forms so
//! `Aktiengesellschaft` is `AG` and `OAO` is `JSC`), organisation stop words, number words, and
//! given-name variants and nicknames (`Bill`/`William`, `Sasha`/`Alexander`).

use std::collections::HashMap;
use std::sync::OnceLock;

/// Words dropped from person names (titles, honorifics, function words in front of a name).
pub const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "prof",
    "professor",
    "president",
    "praesident",
    "prasident",
    "presidente",
    "monsieur",
    "madame",
    "mme",
    "sir",
    "dame",
    "lord",
    "sheikh",
    "shaikh",
    "shaykh",
    "sheik",
    "mullah",
    "mulla",
    "maulavi",
    "mawlawi",
    "maulvi",
    "mawlavi",
    "hajji",
    "general",
    "gen",
    "colonel",
    "col",
    "captain",
    "capt",
    "major",
    "judge",
    "minister",
    "senator",
    "hon",
    "honorable",
    "excellency",
    "his",
    "her",
    "herr",
    "frau",
    "don",
    "dona",
    "senor",
    "senora",
    "qari",
    "imam",
    "emir",
    "amir",
    "prince",
    "princess",
    "king",
    "queen",
];

/// Words dropped from vessel names ("MV Hellenic Spirit").
pub const VESSEL_PREFIXES: &[&str] = &["mv", "m", "v", "mt", "ms", "ss", "fv", "rv", "vessel", "tanker"];

/// Name particles: kept, but with a low weight.
pub const PARTICLES: &[&str] = &[
    "al", "el", "ul", "ud", "ur", "bin", "ibn", "ben", "bint", "binti", "abu", "abou", "umm", "de", "da", "das", "dos",
    "del", "della", "di", "du", "la", "le", "van", "von", "der", "den", "ter", "ten", "y", "e", "oglu", "ogly", "kyzy",
    "ould", "na",
];

/// Organisation stop words: kept with a very low weight.
pub const ORG_STOPWORDS: &[&str] =
    &["the", "of", "and", "for", "in", "on", "at", "de", "du", "des", "la", "le", "et", "und", "y"];

/// Legal-form phrases (normalised tokens) and their canonical form, longest first within a start word.
const LEGAL_FORMS: &[(&str, &str)] = &[
    ("limited liability company", "llc"),
    ("limited liability partnership", "llp"),
    ("limited liability co", "llc"),
    ("limited partnership", "lp"),
    ("public limited company", "plc"),
    ("public joint stock company", "jsc"),
    ("open joint stock company", "jsc"),
    ("closed joint stock company", "jsc"),
    ("joint stock company", "jsc"),
    ("joint stock co", "jsc"),
    ("gesellschaft mit beschrankter haftung", "llc"),
    ("obshchestvo s ogranichennoy otvetstvennostyu", "llc"),
    ("obshchestvo s ogranichennoi otvetstvennostiu", "llc"),
    ("tovarystvo z obmezhenoyu vidpovidalnistyu", "llc"),
    ("societatea cu raspundere limitata", "llc"),
    ("sociedad de responsabilidad limitada", "llc"),
    ("societe a responsabilite limitee", "llc"),
    ("sociedad anonima", "jsc"),
    ("societe anonyme", "jsc"),
    ("autonomous non profit organization", "nonprofit"),
    ("autonomous nonprofit organization", "nonprofit"),
    ("avtonomnaya nekommercheskaya organizatsiya", "nonprofit"),
    ("non profit organization", "nonprofit"),
    ("sp z o o", "llc"),
    ("s de r l", "llc"),
    ("s a r l", "llc"),
    ("s r l", "llc"),
    ("l l c", "llc"),
    ("l l p", "llp"),
    ("p l c", "plc"),
    ("s p a", "jsc"),
    ("b v b a", "llc"),
    ("s a", "jsc"),
    ("b v", "llc"),
    ("n v", "jsc"),
    ("p t", "jsc"),
    ("l p", "lp"),
    ("pty ltd", "llc"),
    ("co ltd", "llc"),
    ("aktiengesellschaft", "jsc"),
    ("incorporated", "inc"),
    ("corporation", "corp"),
    ("company", "co"),
    ("limited", "llc"),
    ("ltd", "llc"),
    ("llc", "llc"),
    ("gmbh", "llc"),
    ("ooo", "llc"),
    ("tov", "llc"),
    ("srl", "llc"),
    ("sarl", "llc"),
    ("bvba", "llc"),
    ("spzoo", "llc"),
    ("llp", "llp"),
    ("plc", "plc"),
    ("jsc", "jsc"),
    ("ojsc", "jsc"),
    ("pjsc", "jsc"),
    ("cjsc", "jsc"),
    ("oao", "jsc"),
    ("pao", "jsc"),
    ("zao", "jsc"),
    ("ao", "jsc"),
    ("ag", "jsc"),
    ("sa", "jsc"),
    ("spa", "jsc"),
    ("nv", "jsc"),
    ("ab", "jsc"),
    ("asa", "jsc"),
    ("kg", "lp"),
    ("lp", "lp"),
    ("inc", "inc"),
    ("corp", "corp"),
    ("co", "co"),
    ("ano", "nonprofit"),
    ("nko", "nonprofit"),
    ("ngo", "nonprofit"),
    ("pt", "jsc"),
    ("int", "international"),
    ("intl", "international"),
];

/// Legal forms that say nothing about the kind of company (they never conflict).
pub const GENERIC_FORMS: &[&str] = &["co", "corp", "inc", "international"];

/// Given names that are the same name (variants across languages and nicknames), one group a line.
const NAME_GROUPS: &[&str] = &[
    "william bill billy will willy wilhelm guillermo guillaume",
    "robert bob bobby rob robbie bert roberto",
    "richard dick rick ricky rich ricardo",
    "james jim jimmy jamie diego jaime",
    "john jack johnny jon juan johann johannes jean giovanni ivan ioannis joao jan hans",
    "theodore ted teddy theo fyodor fedor",
    "benjamin ben benny bibi",
    "barack barry",
    "alexander alex sasha alexandr aleksandr oleksandr aleksander alejandro alessandro alexandre aliaksandr alyaksandr",
    "michael mike mikhail mykhailo michel michele",
    "thomas tom tommy tomas",
    "timothy tim",
    "elizabeth liz beth betty elisabeth",
    "katherine kate kathy catherine ekaterina yekaterina katerina",
    "dmitry dmitri dmitrii dmitriy dima",
    "vladimir volodymyr wolodymyr vova volodya uladzimir",
    "sergey sergei serhiy sergiy serge sergejs serhii",
    "yuri yury yurii yuriy jurij",
    "andrew andy andrei andrey andriy andre andreas",
    "nicholas nick nikolai nikolay mykola nicolas nicola",
    "peter pete pyotr petr pietro",
    "paul pavel pablo paolo",
    "joseph joe jose josef giuseppe yosef iosif",
    "george georgy georgi jorge giorgio",
    "stephen steven steve stepan esteban stefan",
    "daniel dan danny",
    "david dave dawid",
    "edward ed eddie",
    "charles charlie chuck carlos karl",
    "henry harry hank heinrich enrique",
    "frederick fred freddie friedrich fredrik frederik fredrich",
    "anthony tony antonio anton",
    "lawrence larry lorenzo",
    "francis frank francesco francois franz francisco",
    "mohammed muhammad mohamed mohammad muhammed mohamad mahomed mehmet",
    "ahmed ahmad ahmet",
    "hussein husayn hussain husain hasan hassan",
    "yusuf yousef yousuf joseph",
    "ibrahim abraham",
    "suleiman sulayman suleyman solomon",
    "osama usama",
    "abdullah abdallah abdulla",
    "abdul abd abdel",
    "bin ibn ben",
    "al el",
];

fn groups() -> &'static HashMap<&'static str, Vec<u16>> {
    static MAP: OnceLock<HashMap<&'static str, Vec<u16>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: HashMap<&'static str, Vec<u16>> = HashMap::new();
        for (i, line) in NAME_GROUPS.iter().enumerate() {
            for w in line.split_whitespace() {
                map.entry(w).or_default().push(i as u16);
            }
        }
        map
    })
}

/// Whether two tokens are variants of one given name (or one particle).
pub fn same_name(a: &str, b: &str) -> bool {
    let g = groups();
    match (g.get(a), g.get(b)) {
        (Some(x), Some(y)) => x.iter().any(|i| y.contains(i)),
        _ => false,
    }
}

/// The name-variant groups a token belongs to (for the candidate index).
pub fn name_groups(token: &str) -> &'static [u16] {
    groups().get(token).map(Vec::as_slice).unwrap_or(&[])
}

/// Applies legal-form folding at `tokens[i..]`: the canonical form and how many tokens it used.
pub fn legal_form_at(tokens: &[String], i: usize) -> Option<(&'static str, usize)> {
    let rest = tokens.get(i..)?;
    LEGAL_FORMS.iter().find_map(|(phrase, canon)| {
        let mut n = 0;
        for word in phrase.split(' ') {
            if rest.get(n).map(String::as_str) != Some(word) {
                return None;
            }
            n += 1;
        }
        Some((*canon, n))
    })
}

const UNITS: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: &[(&str, u32)] = &[
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fourty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// Reads an English number (`forty four`, `seven`) at `tokens[i..]`: its value and length.
pub fn number_at(tokens: &[String], i: usize) -> Option<(u32, usize)> {
    let first = tokens.get(i)?.as_str();
    if let Some(u) = UNITS.iter().position(|w| *w == first) {
        return Some((u as u32, 1));
    }
    let tens = TENS.iter().find(|(w, _)| *w == first)?.1;
    match tokens.get(i + 1).and_then(|w| UNITS.iter().position(|u| u == w)) {
        Some(u) if (1..10).contains(&u) => Some((tens + u as u32, 2)),
        _ => Some((tens, 1)),
    }
}

/// The value of a Roman numeral token from `ii` to `xx` (single `i`, `v`, `x` are too ambiguous
/// with initials and are not read).
pub fn roman(token: &str) -> Option<u32> {
    const ROMAN: &[&str] = &[
        "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv", "xvi", "xvii",
        "xviii", "xix", "xx",
    ];
    ROMAN
        .iter()
        .position(|r| *r == token)
        .map(|p| p as u32 + 2)
        .filter(|_| token.len() > 1 || token == "v" || token == "x")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn legal_forms_fold() {
        assert_eq!(legal_form_at(&toks("joint stock company x"), 0), Some(("jsc", 3)));
        assert_eq!(legal_form_at(&toks("aktiengesellschaft"), 0), Some(("jsc", 1)));
        assert_eq!(legal_form_at(&toks("siemens ag"), 1), Some(("jsc", 1)));
        assert_eq!(legal_form_at(&toks("siemens"), 0), None);
    }

    #[test]
    fn numbers_and_names() {
        assert_eq!(number_at(&toks("forty four"), 0), Some((44, 2)));
        assert_eq!(number_at(&toks("seven"), 0), Some((7, 1)));
        assert_eq!(roman("viii"), Some(8));
        assert!(same_name("bill", "william"));
        assert!(same_name("bin", "ibn"));
        assert!(!same_name("bill", "robert"));
    }
}
