//! The visual inspection zone (VIZ): the printed fields of an identity document's data page
//! (surname, given names, birth date, document number, expiry date), read from OCR text lines
//! with their boxes.
//!
//! Fields are found by their printed labels (English, French, Spanish, German, Italian:
//! `Surname / Nom / Apellidos`, `Date of birth`, `Document No`, `Date of expiry`, ...), with
//! the value on the label's line after the label, on a line to its right, or on the line just
//! below it. When an MRZ was read, its values are anchors for fields no label gave: text that
//! matches an MRZ value (dates exactly, names and the document number up to OCR letter/digit
//! confusions) is taken as that field, so the MRZ-versus-VIZ comparison looks at the right
//! text. A field read by its label is kept as printed even when it differs from the MRZ: that
//! difference is what the comparison is for.

pub mod date;

use serde::Serialize;

use self::date::{fold_char, parse_date};
use crate::checks::VisualFields;
use crate::mrz::{Date, Mrz};

/// One OCR text line with its axis-aligned box (pixels of the image it was read from).
#[derive(Debug, Clone, PartialEq)]
pub struct OcrLine {
    /// The recognised text.
    pub text: String,
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
}

impl OcrLine {
    /// A line.
    pub fn new(text: impl Into<String>, x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self { text: text.into(), x0, y0, x1, y1 }
    }

    fn height(&self) -> f32 {
        (self.y1 - self.y0).max(1.0)
    }

    fn cy(&self) -> f32 {
        (self.y0 + self.y1) / 2.0
    }
}

#[cfg(feature = "ocr")]
impl From<&crate::ocr::TextLine> for OcrLine {
    fn from(l: &crate::ocr::TextLine) -> Self {
        Self::new(l.text.clone(), l.bbox.x0, l.bbox.y0, l.bbox.x1, l.bbox.y1)
    }
}

/// A visual-zone field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Surname (primary identifier).
    Surname,
    /// Given names (secondary identifier).
    GivenNames,
    /// Date of birth.
    BirthDate,
    /// Document number.
    DocumentNumber,
    /// Date of expiry.
    ExpiryDate,
}

/// How a field was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Beside or below its printed label.
    Label,
    /// By matching the MRZ value.
    MrzAnchor,
}

/// Label phrases (folded, lower-case words) and the field each names. Longer phrases win.
const LABELS: &[(Field, &str)] = &[
    (Field::GivenNames, "given names"),
    (Field::GivenNames, "given name"),
    (Field::GivenNames, "forenames"),
    (Field::GivenNames, "first names"),
    (Field::GivenNames, "first name"),
    (Field::GivenNames, "prenoms"),
    (Field::GivenNames, "prenom"),
    (Field::GivenNames, "nombres"),
    (Field::GivenNames, "nombre"),
    (Field::GivenNames, "vornamen"),
    (Field::GivenNames, "vorname"),
    (Field::GivenNames, "nomi"),
    (Field::GivenNames, "nome"),
    (Field::Surname, "surname"),
    (Field::Surname, "family name"),
    (Field::Surname, "last name"),
    (Field::Surname, "nom"),
    (Field::Surname, "apellidos"),
    (Field::Surname, "apellido"),
    (Field::Surname, "name"),
    (Field::Surname, "familienname"),
    (Field::Surname, "nachname"),
    (Field::Surname, "cognome"),
    (Field::BirthDate, "date of birth"),
    (Field::BirthDate, "birth date"),
    (Field::BirthDate, "date de naissance"),
    (Field::BirthDate, "ne le"),
    (Field::BirthDate, "nee le"),
    (Field::BirthDate, "fecha de nacimiento"),
    (Field::BirthDate, "fecha nacimiento"),
    (Field::BirthDate, "geburtsdatum"),
    (Field::BirthDate, "geboren am"),
    (Field::BirthDate, "data di nascita"),
    (Field::BirthDate, "dob"),
    (Field::DocumentNumber, "document no"),
    (Field::DocumentNumber, "document number"),
    (Field::DocumentNumber, "document nr"),
    (Field::DocumentNumber, "passport no"),
    (Field::DocumentNumber, "passport number"),
    (Field::DocumentNumber, "card no"),
    (Field::DocumentNumber, "card number"),
    (Field::DocumentNumber, "n du document"),
    (Field::DocumentNumber, "no du document"),
    (Field::DocumentNumber, "numero du document"),
    (Field::DocumentNumber, "n du passeport"),
    (Field::DocumentNumber, "no du passeport"),
    (Field::DocumentNumber, "numero de documento"),
    (Field::DocumentNumber, "n de documento"),
    (Field::DocumentNumber, "num documento"),
    (Field::DocumentNumber, "pasaporte n"),
    (Field::DocumentNumber, "pass nr"),
    (Field::DocumentNumber, "passnummer"),
    (Field::DocumentNumber, "ausweisnummer"),
    (Field::DocumentNumber, "dokumentennummer"),
    (Field::DocumentNumber, "numero documento"),
    (Field::ExpiryDate, "date of expiry"),
    (Field::ExpiryDate, "expiry date"),
    (Field::ExpiryDate, "expiry"),
    (Field::ExpiryDate, "expires"),
    (Field::ExpiryDate, "valid until"),
    (Field::ExpiryDate, "date d expiration"),
    (Field::ExpiryDate, "expiration"),
    (Field::ExpiryDate, "fecha de caducidad"),
    (Field::ExpiryDate, "caducidad"),
    (Field::ExpiryDate, "valido hasta"),
    (Field::ExpiryDate, "gultig bis"),
    (Field::ExpiryDate, "ablaufdatum"),
    (Field::ExpiryDate, "data di scadenza"),
    (Field::ExpiryDate, "scadenza"),
];

/// Words that only connect bilingual labels (`Surname / Nom`, `N° du document`).
const FILLER: &[&str] = &["of", "de", "du", "d", "des", "la", "le", "no", "n", "nr"];

/// Longest value accepted for a field, in characters.
const MAX_VALUE_CHARS: usize = 64;

/// One whitespace-separated piece of a line, with its folded words.
#[derive(Debug, Clone)]
struct RawToken<'a> {
    raw: &'a str,
    words: Vec<String>,
}

fn raw_tokens(text: &str) -> Vec<RawToken<'_>> {
    text.split(|c: char| c.is_whitespace() || c == ':')
        .filter(|t| !t.is_empty())
        .map(|raw| RawToken { raw, words: fold_words(raw) })
        .collect()
}

/// Lower-case ASCII words of a text (diacritics dropped, punctuation separates).
pub fn fold_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        match fold_char(c) {
            Some(f) => cur.push(f),
            None if !cur.is_empty() => words.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// A label found on a line: the field and the index of the first raw token after it.
#[derive(Debug, Clone, Copy)]
struct LabelHit {
    field: Field,
    value_start: usize,
    /// Letters of the label phrase (to prefer the most specific one).
    len: usize,
}

/// The label on a line, if its text starts with one (after bilingual repeats). Phrases are
/// matched on the words run together, at word boundaries, so a space OCR dropped
/// (`Date ofbirth`) or added does not hide a label.
fn label_of(tokens: &[RawToken<'_>]) -> Option<LabelHit> {
    // The words run together, with where each word starts and ends and its raw token.
    let mut concat = String::new();
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        for w in &t.words {
            spans.push((concat.len(), concat.len() + w.len(), i));
            concat.push_str(w);
        }
    }
    let mut best: Option<LabelHit> = None;
    for (field, phrase) in LABELS {
        let needle: String = phrase.split(' ').collect();
        for (first, &(start, _, _)) in spans.iter().enumerate() {
            if !concat.get(start..).is_some_and(|rest| rest.starts_with(&needle)) {
                continue;
            }
            let Some(&(_, _, end_token)) =
                spans.get(first..).and_then(|s| s.iter().find(|(_, e, _)| *e == start + needle.len()))
            else {
                continue;
            };
            // Every word before the phrase must be label vocabulary too (a label starts its line).
            let before_ok = spans
                .get(..first)
                .unwrap_or_default()
                .iter()
                .all(|&(a, b, _)| concat.get(a..b).is_some_and(is_label_word));
            if !before_ok {
                continue;
            }
            let hit = LabelHit { field: *field, value_start: end_token + 1, len: needle.len() };
            best = match best {
                Some(b) if b.field == hit.field => {
                    Some(LabelHit { value_start: b.value_start.max(hit.value_start), ..b })
                }
                Some(b) if b.len >= hit.len => Some(b),
                _ => Some(hit),
            };
        }
    }
    // Skip further label words of the same field after the phrase ("Surname / Nom / Apellidos").
    best.map(|mut hit| {
        while let Some(t) = tokens.get(hit.value_start) {
            if t.words.iter().all(|w| is_label_word(w)) {
                hit.value_start += 1;
            } else {
                break;
            }
        }
        hit
    })
}

fn is_label_word(word: &str) -> bool {
    FILLER.contains(&word) || LABELS.iter().any(|(_, p)| p.split(' ').any(|w| w == word))
}

/// The value of `field` in `text`, cleaned, if the text has that shape.
fn parse_value(field: Field, text: &str) -> Option<Value> {
    let text = text.trim_matches(|c: char| c.is_whitespace() || matches!(c, '/' | ':' | '.' | ',' | '-'));
    if text.is_empty() || text.chars().count() > MAX_VALUE_CHARS {
        return None;
    }
    match field {
        Field::Surname | Field::GivenNames => {
            let ok = text.chars().all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | ',' | '.'))
                && text.chars().filter(|c| c.is_alphabetic()).count() >= 2;
            ok.then(|| Value::Text(text.to_uppercase()))
        }
        Field::BirthDate | Field::ExpiryDate => parse_date(text).map(Value::Date),
        Field::DocumentNumber => {
            let n: String = text.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect();
            let ok = (5..=20).contains(&n.len())
                && n.chars().any(|c| c.is_ascii_digit())
                && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.'));
            ok.then_some(Value::Text(n))
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    Date(Date),
}

/// The visual-zone fields read from a document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VizFields {
    /// Surname as printed (upper case).
    pub surname: Option<String>,
    /// Given names as printed (upper case).
    pub given_names: Option<String>,
    /// Date of birth.
    pub birth_date: Option<Date>,
    /// Document number (letters and digits only, upper case).
    pub document_number: Option<String>,
    /// Date of expiry.
    pub expiry_date: Option<Date>,
    /// How each field found was found.
    pub sources: Vec<(Field, Source)>,
}

impl VizFields {
    /// How many of the five fields were read.
    pub fn count(&self) -> usize {
        [self.surname.is_some(), self.given_names.is_some()].iter().filter(|b| **b).count()
            + [self.birth_date.is_some(), self.expiry_date.is_some()].iter().filter(|b| **b).count()
            + usize::from(self.document_number.is_some())
    }

    /// The fields as the document checks compare them. The full name is given only when both
    /// parts were read (half a name would be a false mismatch), and spelled the way the MRZ
    /// transliterates it (`MÜLLER` → `MUELLER` or `MULLER`, whichever the MRZ has).
    pub fn to_visual(&self, mrz: Option<&Mrz>) -> VisualFields {
        let name = match (&self.surname, &self.given_names) {
            (Some(s), Some(g)) => Some(format!("{g} {s}")),
            (Some(s), None) if mrz.is_some_and(|m| m.given_names.is_empty()) => Some(s.clone()),
            _ => None,
        };
        let name = name.map(|n| match mrz {
            Some(m) => mrz_spelling(&n, &format!("{} {}", m.surname, m.given_names)),
            None => transliterate(&n, false),
        });
        VisualFields {
            name,
            birth_date: self.birth_date,
            document_number: self.document_number.clone(),
            expiry_date: self.expiry_date,
        }
    }

    fn set(&mut self, field: Field, value: Value, source: Source) -> bool {
        let done = match (field, value) {
            (Field::Surname, Value::Text(t)) if self.surname.is_none() => self.surname.replace(t).is_none(),
            (Field::GivenNames, Value::Text(t)) if self.given_names.is_none() => self.given_names.replace(t).is_none(),
            (Field::DocumentNumber, Value::Text(t)) if self.document_number.is_none() => {
                self.document_number.replace(t).is_none()
            }
            (Field::BirthDate, Value::Date(d)) if self.birth_date.is_none() => self.birth_date.replace(d).is_none(),
            (Field::ExpiryDate, Value::Date(d)) if self.expiry_date.is_none() => self.expiry_date.replace(d).is_none(),
            _ => false,
        };
        if done {
            self.sources.push((field, source));
        }
        done
    }

    fn has(&self, field: Field) -> bool {
        match field {
            Field::Surname => self.surname.is_some(),
            Field::GivenNames => self.given_names.is_some(),
            Field::BirthDate => self.birth_date.is_some(),
            Field::DocumentNumber => self.document_number.is_some(),
            Field::ExpiryDate => self.expiry_date.is_some(),
        }
    }
}

/// Upper-case ASCII transliteration of a printed name: diacritics dropped, or (German
/// convention, `expand`) `Ä Ö Ü ß` as `AE OE UE SS`.
pub fn transliterate(name: &str, expand: bool) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            'Ä' | 'ä' if expand => out.push_str("AE"),
            'Ö' | 'ö' if expand => out.push_str("OE"),
            'Ü' | 'ü' if expand => out.push_str("UE"),
            'ß' => out.push_str("SS"),
            c => match fold_char(c) {
                Some(f) => out.push(f.to_ascii_uppercase()),
                None => out.push(if c.is_alphabetic() { c } else { ' ' }),
            },
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The transliteration of `printed` that spells it like `mrz_name` if one does (else the
/// plain one).
fn mrz_spelling(printed: &str, mrz_name: &str) -> String {
    let target = crate::checks::normalize_name(mrz_name);
    let plain = transliterate(printed, false);
    let expanded = transliterate(printed, true);
    if crate::checks::normalize_name(&expanded) == target { expanded } else { plain }
}

/// Whether a line is (part of) the MRZ, which must not be taken for visual-zone text.
fn is_mrz_like(text: &str) -> bool {
    text.contains('<') || (text.len() >= 28 && !text.contains(' ') && text.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Letters and digits OCR confuses, mapped to one representative.
fn confusion_class(c: char) -> char {
    match c.to_ascii_uppercase() {
        '0' | 'O' | 'Q' | 'D' => '0',
        '1' | 'I' | 'L' => '1',
        '2' | 'Z' => '2',
        '5' | 'S' => '5',
        '8' | 'B' => '8',
        '6' | 'G' => '6',
        c => c,
    }
}

fn same_up_to_confusion(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.chars().zip(b.chars()).all(|(x, y)| confusion_class(x) == confusion_class(y))
}

/// Candidate values of a label at `li`: the rest of its line, a line to its right, the line below.
fn value_candidates(lines: &[OcrLine], li: usize, hit: LabelHit, labels: &[Option<LabelHit>]) -> Vec<String> {
    let Some(label) = lines.get(li) else { return Vec::new() };
    let mut out = Vec::new();
    let tokens = raw_tokens(&label.text);
    let rest: Vec<&str> = tokens.get(hit.value_start..).unwrap_or_default().iter().map(|t| t.raw).collect();
    if !rest.is_empty() {
        out.push(rest.join(" "));
    }
    let h = label.height();
    let free = |j: usize| labels.get(j).is_some_and(Option::is_none) && j != li;
    let right = lines
        .iter()
        .enumerate()
        .filter(|(j, l)| {
            free(*j)
                && (l.cy() - label.cy()).abs() < 0.5 * h.max(l.height())
                && l.x0 >= label.x1 - 0.5 * h
                && l.x0 - label.x1 < 10.0 * h
        })
        .min_by(|a, b| a.1.x0.total_cmp(&b.1.x0));
    if let Some((_, l)) = right {
        out.push(l.text.clone());
    }
    let below = lines
        .iter()
        .enumerate()
        .filter(|(j, l)| {
            free(*j)
                && l.y0 >= label.cy()
                && l.y0 - label.y1 < 1.5 * h
                && ((l.x0 - label.x0).abs() < 2.0 * h || (l.x0 < label.x1 && l.x1 > label.x0 && l.x0 > label.x0 - h))
        })
        .min_by(|a, b| a.1.y0.total_cmp(&b.1.y0));
    if let Some((_, l)) = below {
        out.push(l.text.clone());
    }
    out
}

/// Reads the visual-zone fields from a document's OCR lines; `mrz` (if read) anchors fields
/// no label gave.
pub fn extract(lines: &[OcrLine], mrz: Option<&Mrz>) -> VizFields {
    let lines: Vec<OcrLine> = lines.iter().filter(|l| !is_mrz_like(&l.text)).cloned().collect();
    let labels: Vec<Option<LabelHit>> = lines.iter().map(|l| label_of(&raw_tokens(&l.text))).collect();
    let mut fields = VizFields::default();
    for (li, hit) in labels.iter().enumerate() {
        let Some(hit) = *hit else { continue };
        if fields.has(hit.field) {
            continue;
        }
        for candidate in value_candidates(&lines, li, hit, &labels) {
            if let Some(v) = parse_value(hit.field, &candidate)
                && fields.set(hit.field, v, Source::Label)
            {
                break;
            }
        }
    }
    if let Some(m) = mrz {
        anchor(&lines, &labels, m, &mut fields);
    }
    fields
}

/// Fills fields no label gave from text that matches the MRZ.
fn anchor(lines: &[OcrLine], labels: &[Option<LabelHit>], m: &Mrz, fields: &mut VizFields) {
    let texts: Vec<&str> =
        lines.iter().zip(labels).filter(|(_, l)| l.is_none()).map(|(l, _)| l.text.as_str()).collect();
    for (field, target) in [(Field::BirthDate, m.birth_date), (Field::ExpiryDate, m.expiry_date)] {
        let Some(target) = target else { continue };
        if !fields.has(field) && texts.iter().any(|t| date::find_dates(t).contains(&target)) {
            fields.set(field, Value::Date(target), Source::MrzAnchor);
        }
    }
    if !fields.has(Field::DocumentNumber) && !m.document_number.is_empty() {
        let found = texts.iter().find_map(|t| {
            let raw: Vec<String> = t
                .split_whitespace()
                .map(|w| w.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect())
                .collect();
            // Single tokens, and pairs/triples for numbers printed in groups.
            (1..=3)
                .find_map(|n| raw.windows(n).map(|w| w.concat()).find(|c| same_up_to_confusion(c, &m.document_number)))
        });
        if let Some(n) = found {
            fields.set(Field::DocumentNumber, Value::Text(n), Source::MrzAnchor);
        }
    }
    for (field, target) in [(Field::Surname, &m.surname), (Field::GivenNames, &m.given_names)] {
        if fields.has(field) || target.is_empty() {
            continue;
        }
        let want = crate::checks::normalize_name(target);
        let found = texts.iter().find(|t| {
            let plain = crate::checks::normalize_name(&transliterate(t, false));
            let expanded = crate::checks::normalize_name(&transliterate(t, true));
            plain == want || expanded == want
        });
        if let Some(t) = found {
            fields.set(field, Value::Text(t.trim().to_uppercase()), Source::MrzAnchor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrz::{MrzFields, MrzFormat, ParseOptions, parse_lines};

    fn today() -> Date {
        Date::new(2026, 11, 26).expect("date")
    }

    fn mrz(surname: &str, given: &str, number: &str, birth: &str, expiry: &str) -> Mrz {
        let f = MrzFields {
            format: MrzFormat::Td3,
            document_code: "P".into(),
            issuing_state: "CHE".into(),
            surname: surname.into(),
            given_names: given.into(),
            document_number: number.into(),
            nationality: "CHE".into(),
            birth_date: birth.into(),
            sex: 'F',
            expiry_date: expiry.into(),
            optional_data: String::new(),
            optional_data_2: String::new(),
        };
        parse_lines(&f.to_lines().expect("lines"), ParseOptions::strict(today())).expect("parse")
    }

    /// Lines laid out like the synthetic TD3 fixture: label above value.
    fn stacked(pairs: &[(&str, &str)]) -> Vec<OcrLine> {
        let mut out = vec![OcrLine::new("SPECIMEN", 330.0, 45.0, 585.0, 88.0)];
        let mut y = 124.0;
        for (label, value) in pairs {
            out.push(OcrLine::new(*label, 338.0, y, 450.0, y + 22.0));
            out.push(OcrLine::new(*value, 338.0, y + 26.0, 500.0, y + 50.0));
            y += 58.0;
        }
        out.push(OcrLine::new("P<CHETESTER<<JANE<MARIE<<<<<<<<<<<<<<<<<<<<<", 40.0, 500.0, 940.0, 540.0));
        out
    }

    #[test]
    fn label_above_value() {
        let lines = stacked(&[
            ("Surname", "TESTER"),
            ("Given names", "JANE MARIE"),
            ("Date of birth", "02 MAR 1988"),
            ("Document no.", "X12345678"),
            ("Date of expiry", "01 JAN 2031"),
        ]);
        let f = extract(&lines, None);
        assert_eq!(f.surname.as_deref(), Some("TESTER"));
        assert_eq!(f.given_names.as_deref(), Some("JANE MARIE"));
        assert_eq!(f.birth_date, Date::new(1988, 3, 2));
        assert_eq!(f.document_number.as_deref(), Some("X12345678"));
        assert_eq!(f.expiry_date, Date::new(2031, 1, 1));
        assert_eq!(f.count(), 5);
        assert!(f.sources.iter().all(|(_, s)| *s == Source::Label));
        let v = f.to_visual(None);
        assert_eq!(v.name.as_deref(), Some("JANE MARIE TESTER"));
    }

    #[test]
    fn bilingual_labels_and_values_on_the_same_line() {
        let lines = vec![
            OcrLine::new("Nom / Surname: DUPONT", 10.0, 10.0, 300.0, 30.0),
            OcrLine::new("Prénoms / Given names", 10.0, 40.0, 200.0, 60.0),
            OcrLine::new("Jean-Pierre, Marie", 220.0, 41.0, 400.0, 59.0),
            OcrLine::new("Date de naissance / Date of birth 12.08.1974", 10.0, 70.0, 400.0, 90.0),
            OcrLine::new("N° du document / Document No", 10.0, 100.0, 200.0, 120.0),
            OcrLine::new("12AB 34567", 10.0, 124.0, 140.0, 144.0),
            OcrLine::new("Date d'expiration / Date of expiry", 10.0, 150.0, 250.0, 170.0),
            OcrLine::new("15 AVR/APR 2030", 10.0, 174.0, 200.0, 194.0),
        ];
        let f = extract(&lines, None);
        assert_eq!(f.surname.as_deref(), Some("DUPONT"));
        assert_eq!(f.given_names.as_deref(), Some("JEAN-PIERRE, MARIE"));
        assert_eq!(f.birth_date, Date::new(1974, 8, 12));
        assert_eq!(f.document_number.as_deref(), Some("12AB34567"));
        assert_eq!(f.expiry_date, Date::new(2030, 4, 15));
    }

    #[test]
    fn spanish_and_german_labels() {
        let es = vec![
            OcrLine::new("APELLIDOS", 10.0, 10.0, 100.0, 28.0),
            OcrLine::new("GARCÍA LÓPEZ", 10.0, 30.0, 160.0, 48.0),
            OcrLine::new("NOMBRE", 10.0, 55.0, 80.0, 73.0),
            OcrLine::new("MARÍA JOSÉ", 10.0, 75.0, 140.0, 93.0),
            OcrLine::new("FECHA DE NACIMIENTO", 10.0, 100.0, 200.0, 118.0),
            OcrLine::new("01 01 1990", 10.0, 120.0, 110.0, 138.0),
            OcrLine::new("VALIDO HASTA", 220.0, 100.0, 330.0, 118.0),
            OcrLine::new("01 01 2030", 220.0, 120.0, 320.0, 138.0),
        ];
        let f = extract(&es, None);
        assert_eq!(f.surname.as_deref(), Some("GARCÍA LÓPEZ"));
        assert_eq!(f.given_names.as_deref(), Some("MARÍA JOSÉ"));
        assert_eq!(f.birth_date, Date::new(1990, 1, 1));
        assert_eq!(f.expiry_date, Date::new(2030, 1, 1));
        assert_eq!(f.to_visual(None).name.as_deref(), Some("MARIA JOSE GARCIA LOPEZ"));
        let de = vec![
            OcrLine::new("Name", 10.0, 10.0, 60.0, 28.0),
            OcrLine::new("MÜLLER", 10.0, 30.0, 90.0, 48.0),
            OcrLine::new("Vornamen", 10.0, 55.0, 90.0, 73.0),
            OcrLine::new("ERIKA", 10.0, 75.0, 80.0, 93.0),
            OcrLine::new("Geburtsdatum", 10.0, 100.0, 120.0, 118.0),
            OcrLine::new("12.08.1964", 10.0, 120.0, 110.0, 138.0),
        ];
        let f = extract(&de, None);
        assert_eq!((f.surname.as_deref(), f.given_names.as_deref()), (Some("MÜLLER"), Some("ERIKA")));
        let m = mrz("MUELLER", "ERIKA", "C01X00T47", "640812", "310101");
        assert_eq!(f.to_visual(Some(&m)).name.as_deref(), Some("ERIKA MUELLER"), "the MRZ's transliteration");
        let m = mrz("MULLER", "ERIKA", "C01X00T47", "640812", "310101");
        assert_eq!(f.to_visual(Some(&m)).name.as_deref(), Some("ERIKA MULLER"));
    }

    #[test]
    fn mrz_anchors_fill_unlabelled_fields() {
        // No labels were read (small print): values alone.
        let lines = vec![
            OcrLine::new("TESTER", 338.0, 150.0, 430.0, 172.0),
            OcrLine::new("JANE MARIE", 338.0, 208.0, 480.0, 230.0),
            OcrLine::new("02 MAR 1988", 338.0, 266.0, 500.0, 288.0),
            OcrLine::new("X 1234 5678", 338.0, 324.0, 478.0, 346.0),
            OcrLine::new("01 JAN 2031", 338.0, 382.0, 488.0, 404.0),
            OcrLine::new("X123456785CHE8803023F3101012<<<<<<<<<<<<<<<0", 40.0, 560.0, 940.0, 600.0),
        ];
        assert_eq!(extract(&lines, None).count(), 0, "without labels or MRZ nothing is guessed");
        let m = mrz("TESTER", "JANE MARIE", "X12345678", "880302", "310101");
        let f = extract(&lines, Some(&m));
        assert_eq!(f.count(), 5, "{f:?}");
        assert!(f.sources.iter().all(|(_, s)| *s == Source::MrzAnchor));
        let v = f.to_visual(Some(&m));
        assert_eq!(v.document_number.as_deref(), Some("X12345678"));
        assert_eq!(v.name.as_deref(), Some("JANE MARIE TESTER"));
    }

    #[test]
    fn a_labelled_value_that_differs_from_the_mrz_is_kept() {
        let lines = stacked(&[("Surname", "TESTER"), ("Given names", "JANE MARIE"), ("Date of birth", "03 MAR 1988")]);
        let m = mrz("TESTER", "JANE MARIE", "X12345678", "880302", "310101");
        let f = extract(&lines, Some(&m));
        assert_eq!(f.birth_date, Date::new(1988, 3, 3));
        // The checks then report the mismatch.
        let input = crate::checks::DocumentInput {
            mrz: Some(&m),
            visual: f.to_visual(Some(&m)),
            applicant: Default::default(),
            policy: Default::default(),
            signals: None,
            today: today(),
        };
        let rep = crate::checks::DocumentChecks::run(&input, &crate::checks::MemorySeen::default());
        let get = |c: &str| rep.get(c).map(|r| (r.outcome, r.reason));
        use crate::checks::Outcome;
        assert_eq!(get("mrz_vs_visual_birth_date"), Some((Outcome::Fail, "mrz_visual_mismatch")));
        assert_eq!(get("mrz_vs_visual_name"), Some((Outcome::Pass, "ok")));
        assert_eq!(get("mrz_vs_visual_document_number"), Some((Outcome::NotApplicable, "field_missing")));
    }

    #[test]
    fn spaces_lost_or_added_by_ocr() {
        let lines = stacked(&[("Date ofbirth", "02MAR1988"), ("Given  names", "JANE"), ("Prenoms", "MARIE")]);
        let f = extract(&lines, None);
        assert_eq!(f.birth_date, Date::new(1988, 3, 2));
        assert_eq!(f.given_names.as_deref(), Some("JANE"));
        // "nom" inside "prenoms" is not the surname label.
        assert_eq!(f.surname, None);
    }

    #[test]
    fn values_of_the_wrong_shape_are_not_taken() {
        let lines = vec![
            OcrLine::new("Surname", 10.0, 10.0, 90.0, 28.0),
            OcrLine::new("12 MAR 1988", 10.0, 30.0, 120.0, 48.0),
            OcrLine::new("Date of birth", 10.0, 55.0, 120.0, 73.0),
            OcrLine::new("TESTER", 10.0, 75.0, 90.0, 93.0),
            // A value far below the label is not its value.
            OcrLine::new("Document no", 10.0, 100.0, 120.0, 118.0),
            OcrLine::new("X12345678", 10.0, 300.0, 120.0, 318.0),
        ];
        let f = extract(&lines, None);
        assert_eq!(f, VizFields::default());
        assert_eq!(extract(&[], None), VizFields::default());
    }
}
