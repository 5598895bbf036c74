//! Dates as printed on documents and bills: `12 AUG 1974`, `12 AUG/AOÛT 1974`, `AUG 12, 1974`,
//! `12.08.1974`, `12/08/1974`, `12-08-1974`, `1974-08-12`, `12081974`, with month names and
//! abbreviations in English, French, Spanish, German and Italian. Numeric dates are read day
//! first (ICAO, Europe) unless only the month-first reading is a calendar date. Common OCR
//! confusions inside digit groups (`O`→`0`, `I`/`l`→`1`) are undone first.

use crate::mrz::Date;

/// Years accepted in a printed date.
pub const YEARS: std::ops::RangeInclusive<u16> = 1900..=2100;

const MONTHS: [&[&str]; 12] = [
    &["jan", "january", "janv", "janvier", "ene", "enero", "januar", "gen", "gennaio"],
    &["feb", "february", "fev", "fevr", "fevrier", "febrero", "februar", "febbraio"],
    &["mar", "march", "mars", "marzo", "marz", "maerz"],
    &["apr", "april", "avr", "avril", "abr", "abril", "aprile"],
    &["may", "mai", "mayo", "maggio", "mag"],
    &["jun", "june", "juin", "junio", "juni", "giu", "giugno"],
    &["jul", "july", "juil", "juillet", "julio", "juli", "lug", "luglio"],
    &["aug", "august", "aou", "aout", "ago", "agosto"],
    &["sep", "sept", "september", "septembre", "septiembre", "set", "settembre"],
    &["oct", "october", "octobre", "octubre", "okt", "oktober", "ott", "ottobre"],
    &["nov", "november", "novembre", "noviembre"],
    &["dec", "december", "decembre", "dic", "diciembre", "dez", "dezember", "dicembre"],
];

/// The month (1-12) a folded, lower-case month name or abbreviation stands for.
pub fn month_number(word: &str) -> Option<u8> {
    MONTHS.iter().position(|names| names.contains(&word)).and_then(|i| u8::try_from(i + 1).ok())
}

/// One piece of a date: a digit group or a month name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Digits: the value and how many digits.
    Num(u32, usize),
    /// A month name.
    Month(u8),
    /// Any other word.
    Word,
}

/// Folds one Latin letter to ASCII lower case (diacritics dropped), `None` for other characters.
pub(crate) fn fold_char(c: char) -> Option<char> {
    let c = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
        _ => return None,
    };
    Some(c)
}

/// Undoes OCR letter-for-digit confusions in a run that is mostly digits.
fn fix_digits(run: &str) -> String {
    let digits = run.chars().filter(char::is_ascii_digit).count();
    let confusable = run.chars().filter(|c| matches!(c, 'O' | 'o' | 'I' | 'l' | '|')).count();
    let others = run.chars().count() - digits - confusable;
    if digits == 0 || others > 0 || confusable > 2 {
        return run.to_owned();
    }
    run.chars()
        .map(|c| match c {
            'O' | 'o' => '0',
            'I' | 'l' | '|' => '1',
            c => c,
        })
        .collect()
}

fn parts(text: &str) -> Vec<Part> {
    let mut out = Vec::new();
    // Runs of letters/digits; letters and digits inside one run are split apart afterwards.
    for run in text.split(|c: char| fold_char(c).is_none() && c != '|').filter(|r| !r.is_empty()) {
        let run = fix_digits(run);
        let mut chars = run.chars().peekable();
        while let Some(&c) = chars.peek() {
            let digit = c.is_ascii_digit();
            let mut piece = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() != digit {
                    break;
                }
                piece.extend(fold_char(d));
                chars.next();
            }
            if digit {
                if piece.len() <= 8 {
                    out.push(Part::Num(piece.parse().unwrap_or(0), piece.len()));
                } else {
                    out.push(Part::Word);
                }
            } else {
                out.push(month_number(&piece).map_or(Part::Word, Part::Month));
            }
        }
    }
    // A bilingual month ("AUG/AOUT") counts once.
    out.dedup_by(|b, a| matches!((a, b), (Part::Month(x), Part::Month(y)) if x == y));
    out
}

fn ymd(y: u32, m: u32, d: u32) -> Option<Date> {
    let y = u16::try_from(y).ok().filter(|y| YEARS.contains(y))?;
    Date::new(y, u8::try_from(m).ok()?, u8::try_from(d).ok()?)
}

/// Every date found in `text`, in reading order.
pub fn find_dates(text: &str) -> Vec<Date> {
    let p = parts(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        let rest = p.get(i..).unwrap_or_default();
        let (date, used) = match rest {
            [Part::Num(d, 1 | 2), Part::Month(m), Part::Num(y, 4), ..] => (ymd(*y, u32::from(*m), *d), 3),
            [Part::Month(m), Part::Num(d, 1 | 2), Part::Num(y, 4), ..] => (ymd(*y, u32::from(*m), *d), 3),
            [Part::Num(y, 4), Part::Num(m, 1 | 2), Part::Num(d, 1 | 2), ..] => (ymd(*y, *m, *d), 3),
            [Part::Num(a, 1 | 2), Part::Num(b, 1 | 2), Part::Num(y, 4), ..] => {
                (ymd(*y, *b, *a).or_else(|| ymd(*y, *a, *b)), 3)
            }
            [Part::Num(n, 8), ..] => {
                let (hi, lo) = (n / 10_000, n % 10_000);
                let iso = ymd(hi, lo / 100, lo % 100);
                (iso.or_else(|| ymd(lo, hi % 100, hi / 100)), 1)
            }
            _ => (None, 1),
        };
        match date {
            Some(d) => {
                out.push(d);
                i += used;
            }
            None => i += 1,
        }
    }
    out
}

/// The first date printed in `text`.
pub fn parse_date(text: &str) -> Option<Date> {
    find_dates(text).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: u16, m: u8, day: u8) -> Option<Date> {
        Date::new(y, m, day)
    }

    #[test]
    fn common_formats() {
        for text in [
            "12 AUG 1974",
            "12 AUG/AOÛT 1974",
            "12 août 1974",
            "12.08.1974",
            "12/08/1974",
            "12-08-1974",
            "1974-08-12",
            "Aug 12, 1974",
            "12 agosto 1974",
            "12. August 1974",
            "12081974",
            "19740812",
            "I2.O8.1974",
        ] {
            assert_eq!(parse_date(text), d(1974, 8, 12), "{text}");
        }
        // Month-first only when day-first is impossible.
        assert_eq!(parse_date("08/13/1974"), d(1974, 8, 13));
        assert_eq!(parse_date("03/04/2020"), d(2020, 4, 3));
        assert_eq!(parse_date("Date of birth 02 MAR 1988"), d(1988, 3, 2));
        assert_eq!(parse_date("31 FEB 2001"), None);
        assert_eq!(parse_date("X12345678"), None);
        assert_eq!(parse_date("12 AUG 74"), None, "two-digit years are ambiguous");
        assert_eq!(
            find_dates("issued 01.02.2020 valid until 01.02.2030"),
            vec![Date::new(2020, 2, 1).unwrap(), Date::new(2030, 2, 1).unwrap()]
        );
    }

    proptest! {
        #[test]
        fn round_trips_every_layout(y in 1900u16..2100, m in 1u8..=12, day in 1u8..=28, layout in 0usize..5) {
            let name = MONTHS[usize::from(m) - 1][0].to_uppercase();
            let text = match layout {
                0 => format!("{day:02} {name} {y}"),
                1 => format!("{day:02}.{m:02}.{y}"),
                2 => format!("{y}-{m:02}-{day:02}"),
                3 => format!("{name} {day}, {y}"),
                _ => format!("{day}/{m}/{y}"),
            };
            prop_assert_eq!(parse_date(&text), Date::new(y, m, day));
        }

        #[test]
        fn never_panics(s in "\\PC{0,64}") {
            let _ = find_dates(&s);
        }
    }
}
