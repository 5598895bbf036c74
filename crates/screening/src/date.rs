//! Birth dates as lists publish them: full dates, year and month, year only, and year ranges
//! ("circa", "between"), parsed from ISO, OFAC ("28 Jul 1963", "1962 to 1964", "circa 1960") and
//! day-first ("00/00/1964") spellings, and compared with a query date.

use serde::{Deserialize, Serialize};

/// A birth date as precise as the list knows it. Deserialises from its tagged form or from any
/// spelling [`BirthDate::parse`] accepts (`"1963-07-28"`, `"1963"`, `"circa 1960"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "precision", rename_all = "snake_case", remote = "Self")]
pub enum BirthDate {
    /// Day, month and year.
    Full {
        /// Year.
        year: u16,
        /// Month 1-12.
        month: u8,
        /// Day 1-31.
        day: u8,
    },
    /// Month and year.
    Month {
        /// Year.
        year: u16,
        /// Month 1-12.
        month: u8,
    },
    /// Year only.
    Year {
        /// Year.
        year: u16,
    },
    /// A range of years, inclusive ("circa 1960" is 1959-1961).
    Range {
        /// First year.
        from: u16,
        /// Last year.
        to: u16,
    },
}

impl Serialize for BirthDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        BirthDate::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for BirthDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Tagged(#[serde(with = "BirthDate")] BirthDate),
        }
        match Either::deserialize(d)? {
            Either::Text(t) => {
                BirthDate::parse(&t).ok_or_else(|| serde::de::Error::custom(format!("not a date: {t:?}")))
            }
            Either::Tagged(b) => Ok(b),
        }
    }
}

/// How a query's birth date relates to a listed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateAgreement {
    /// Same day (both full dates).
    ExactDay,
    /// Same year and month, or same year when one side only knows the year.
    SameYear,
    /// Inside the listed range of years.
    InRange,
    /// One year apart (a common data-entry difference).
    Near,
    /// Clearly different.
    Conflict,
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

fn valid_year(y: u32) -> Option<u16> {
    (1800..=2100).contains(&y).then_some(y as u16)
}

fn month_of(word: &str) -> Option<u8> {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    let prefix = w.get(..3)?;
    MONTHS.iter().position(|m| *m == prefix).map(|i| i as u8 + 1)
}

fn days_in(month: u8, year: u16) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl BirthDate {
    /// A full date after checking the calendar; falls back to month or year when the day or
    /// month is 0 (unknown), `None` when the year is implausible or the date impossible.
    pub fn from_parts(year: u32, month: u32, day: u32) -> Option<Self> {
        let year = valid_year(year)?;
        if month == 0 {
            return Some(Self::Year { year });
        }
        let month = u8::try_from(month).ok().filter(|m| (1..=12).contains(m))?;
        if day == 0 {
            return Some(Self::Month { year, month });
        }
        let day = u8::try_from(day).ok().filter(|d| *d >= 1 && *d <= days_in(month, year))?;
        Some(Self::Full { year, month, day })
    }

    /// A year range; `None` unless `from <= to` and both are plausible.
    pub fn range(from: u32, to: u32) -> Option<Self> {
        let (from, to) = (valid_year(from)?, valid_year(to)?);
        match from.cmp(&to) {
            std::cmp::Ordering::Less => Some(Self::Range { from, to }),
            std::cmp::Ordering::Equal => Some(Self::Year { year: from }),
            std::cmp::Ordering::Greater => None,
        }
    }

    /// Parses the spellings lists use. Returns `None` for anything unrecognised.
    pub fn parse(text: &str) -> Option<Self> {
        Self::parse_at(text, 0)
    }

    fn parse_at(text: &str, depth: u8) -> Option<Self> {
        if depth > 2 || text.len() > 64 {
            return None;
        }
        let t = text.trim().trim_end_matches('.').trim();
        if t.is_empty() {
            return None;
        }
        let lower = t.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("circa").or_else(|| lower.strip_prefix("approximately")) {
            let inner = Self::parse_at(rest, depth + 1)?;
            let (from, to) = inner.years();
            return Self::range(u32::from(from).saturating_sub(1), u32::from(to) + 1);
        }
        for sep in [" to ", " - ", " and "] {
            if let Some((a, b)) = lower.split_once(sep) {
                let (a, b) = (Self::parse_at(a, depth + 1)?, Self::parse_at(b, depth + 1)?);
                return Self::range(u32::from(a.years().0), u32::from(b.years().1));
            }
        }
        let num = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
        };
        // ISO: 1971-01-22, 1971-01, 1971 (and a trailing time, which is ignored).
        let iso = t.split('T').next().unwrap_or(t);
        let dash: Vec<&str> = iso.split('-').collect();
        if dash.first().is_some_and(|y| y.len() == 4) {
            return match dash.as_slice() {
                [y] => Self::from_parts(num(y)?, 0, 0),
                [y, m] => Self::from_parts(num(y)?, num(m)?, 0),
                [y, m, d] => Self::from_parts(num(y)?, num(m)?, num(d)?),
                _ => None,
            };
        }
        // Day first with slashes or dots: 28/07/1963, 00/00/1964.
        let slash: Vec<&str> = t.split(['/', '.']).collect();
        if let [d, m, y] = slash.as_slice()
            && y.len() == 4
        {
            return Self::from_parts(num(y)?, num(m)?, num(d)?);
        }
        // Words: 28 Jul 1963, Jul 1963, 1963.
        let words: Vec<&str> = t.split([' ', ',']).filter(|w| !w.is_empty()).collect();
        match words.as_slice() {
            [d, m, y] => Self::from_parts(num(y)?, u32::from(month_of(m)?), num(d)?),
            [m, y] => Self::from_parts(num(y)?, u32::from(month_of(m)?), 0),
            _ => None,
        }
    }

    /// The first and last year this date can be.
    pub fn years(&self) -> (u16, u16) {
        match *self {
            Self::Full { year, .. } | Self::Month { year, .. } | Self::Year { year } => (year, year),
            Self::Range { from, to } => (from, to),
        }
    }

    /// How a query date relates to this listed date.
    pub fn compare(&self, query: &BirthDate) -> DateAgreement {
        use BirthDate::*;
        match (self, query) {
            (Full { year: a, month: b, day: c }, Full { year: x, month: y, day: z }) => {
                if (a, b, c) == (x, y, z) {
                    DateAgreement::ExactDay
                } else if a == x && (b == y || b == z && c == y) {
                    // Same month, or day and month swapped (a classic US/EU confusion).
                    DateAgreement::SameYear
                } else if a.abs_diff(*x) <= 1 && b == y && c == z {
                    DateAgreement::Near
                } else {
                    DateAgreement::Conflict
                }
            }
            (Full { year: a, month: b, .. } | Month { year: a, month: b }, Month { year: x, month: y })
            | (Month { year: a, month: b }, Full { year: x, month: y, .. }) => {
                if a == x && b == y {
                    DateAgreement::SameYear
                } else if a.abs_diff(*x) <= 1 {
                    DateAgreement::Near
                } else {
                    DateAgreement::Conflict
                }
            }
            _ => {
                let (lo, hi) = self.years();
                let (qlo, qhi) = query.years();
                if lo == hi && qlo == qhi && lo == qlo {
                    DateAgreement::SameYear
                } else if qlo <= hi && qhi >= lo {
                    DateAgreement::InRange
                } else if qlo <= hi.saturating_add(1) && qhi.saturating_add(1) >= lo {
                    DateAgreement::Near
                } else {
                    DateAgreement::Conflict
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_list_spellings() {
        assert_eq!(BirthDate::parse("28 Jul 1963"), Some(BirthDate::Full { year: 1963, month: 7, day: 28 }));
        assert_eq!(BirthDate::parse("Jul 1963"), Some(BirthDate::Month { year: 1963, month: 7 }));
        assert_eq!(BirthDate::parse("1963."), Some(BirthDate::Year { year: 1963 }));
        assert_eq!(BirthDate::parse("1971-01-22"), BirthDate::from_parts(1971, 1, 22));
        assert_eq!(BirthDate::parse("1971-01"), Some(BirthDate::Month { year: 1971, month: 1 }));
        assert_eq!(BirthDate::parse("circa 1960"), Some(BirthDate::Range { from: 1959, to: 1961 }));
        assert_eq!(BirthDate::parse("1962 to 1964"), Some(BirthDate::Range { from: 1962, to: 1964 }));
        assert_eq!(BirthDate::parse("01 Jan 1960 to 31 Dec 1962"), Some(BirthDate::Range { from: 1960, to: 1962 }));
        assert_eq!(BirthDate::parse("00/00/1964"), Some(BirthDate::Year { year: 1964 }));
        assert_eq!(BirthDate::parse("00/05/1964"), Some(BirthDate::Month { year: 1964, month: 5 }));
        assert_eq!(BirthDate::parse("31/02/1964"), None);
        assert_eq!(BirthDate::parse("29 Feb 2000"), BirthDate::from_parts(2000, 2, 29));
        assert_eq!(BirthDate::parse("1964 to 1962"), None);
        assert_eq!(BirthDate::parse("soon"), None);
        assert_eq!(BirthDate::parse("12345"), None);
        assert_eq!(BirthDate::parse(&"circa ".repeat(5000)), None);
        assert_eq!(BirthDate::parse("1960 to 1961 to 1962 to 1963"), None);
    }

    #[test]
    fn serde_round_trip_and_text() {
        let d = BirthDate::Full { year: 1963, month: 7, day: 28 };
        let json = serde_json::to_string(&d).expect("json");
        assert_eq!(serde_json::from_str::<BirthDate>(&json).expect("back"), d);
        assert_eq!(serde_json::from_str::<BirthDate>("\"1963-07-28\"").expect("text"), d);
        assert!(serde_json::from_str::<BirthDate>("\"soon\"").is_err());
    }

    #[test]
    fn compares() {
        let full = BirthDate::from_parts(1963, 7, 28).expect("date");
        assert_eq!(full.compare(&full), DateAgreement::ExactDay);
        assert_eq!(full.compare(&BirthDate::Year { year: 1963 }), DateAgreement::SameYear);
        assert_eq!(full.compare(&BirthDate::from_parts(1964, 7, 28).expect("d")), DateAgreement::Near);
        assert_eq!(full.compare(&BirthDate::from_parts(1980, 1, 2).expect("d")), DateAgreement::Conflict);
        let range = BirthDate::Range { from: 1959, to: 1961 };
        assert_eq!(range.compare(&full), DateAgreement::Conflict);
        assert_eq!(range.compare(&BirthDate::from_parts(1960, 3, 3).expect("d")), DateAgreement::InRange);
        assert_eq!(range.compare(&BirthDate::from_parts(1962, 3, 3).expect("d")), DateAgreement::Near);
    }
}
