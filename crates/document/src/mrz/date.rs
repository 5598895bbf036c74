//! MRZ dates (`YYMMDD`) with century inference: a birth date lies in the past, an expiry date
//! in a plausible window around today.

use serde::Serialize;

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Date {
    /// Full year, e.g. 1974.
    pub year: u16,
    /// Month, 1-12.
    pub month: u8,
    /// Day of the month, 1-31.
    pub day: u8,
}

/// How far ahead of today an expiry date may lie before it is read as last century.
pub const EXPIRY_MAX_YEARS_AHEAD: u16 = 20;

impl Date {
    /// A date if it exists in the proleptic Gregorian calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        (1..=12).contains(&month).then_some(())?;
        (day >= 1 && day <= days_in_month(year, month)).then_some(())?;
        Some(Self { year, month, day })
    }

    /// The date `days` days after 1970-01-01 (civil-from-days, Howard Hinnant's algorithm).
    pub fn from_unix_days(days: i64) -> Option<Self> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self::new(u16::try_from(year).ok()?, month, day)
    }

    /// Today's date in UTC from the system clock (not on `wasm32`, where callers pass a date).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn today_utc() -> Self {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Self::from_unix_days((secs / 86_400) as i64).unwrap_or(Self { year: 1970, month: 1, day: 1 })
    }

    /// Whole years from `self` to `later` (an age when `self` is a birth date).
    pub fn years_until(&self, later: &Date) -> i32 {
        let mut years = i32::from(later.year) - i32::from(self.year);
        if (later.month, later.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }

    /// `YYYY-MM-DD`.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Number of days in a month (0 for a month outside 1-12).
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The digits of a `YYMMDD` field, if all six are digits.
fn split(raw: &[u8]) -> Option<(u16, u8, u8)> {
    if raw.len() != 6 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |i: usize| u16::from(raw[i] - b'0') * 10 + u16::from(raw[i + 1] - b'0');
    Some((n(0), n(2) as u8, n(4) as u8))
}

/// A birth date: the latest century that puts it on or before `today`.
pub fn birth_date(raw: &[u8], today: Date) -> Option<Date> {
    let (yy, mm, dd) = split(raw)?;
    let century = today.year / 100 * 100;
    let this = Date::new(century + yy, mm, dd);
    match this {
        Some(d) if d <= today => Some(d),
        _ => Date::new(century.checked_sub(100)? + yy, mm, dd),
    }
}

/// An expiry date: this century unless that lies more than [`EXPIRY_MAX_YEARS_AHEAD`] years
/// ahead, then the previous one.
pub fn expiry_date(raw: &[u8], today: Date) -> Option<Date> {
    let (yy, mm, dd) = split(raw)?;
    let century = today.year / 100 * 100;
    let candidate = Date::new(century + yy, mm, dd)?;
    if candidate.year > today.year + EXPIRY_MAX_YEARS_AHEAD {
        Date::new(century.checked_sub(100)? + yy, mm, dd)
    } else if candidate.year + (100 - EXPIRY_MAX_YEARS_AHEAD) < today.year {
        Date::new(century + 100 + yy, mm, dd)
    } else {
        Some(candidate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: u16, m: u8, day: u8) -> Date {
        Date::new(y, m, day).expect("valid test date")
    }

    #[test]
    fn calendar() {
        assert!(Date::new(2024, 2, 29).is_some());
        assert!(Date::new(2023, 2, 29).is_none());
        assert!(Date::new(2000, 2, 29).is_some());
        assert!(Date::new(1900, 2, 29).is_none());
        assert!(Date::new(2020, 13, 1).is_none());
        assert!(Date::new(2020, 4, 31).is_none());
        assert_eq!(Date::from_unix_days(0), Some(d(1970, 1, 1)));
        assert_eq!(Date::from_unix_days(20_454), Some(d(2026, 1, 1)));
    }

    #[test]
    fn birth_century_is_in_the_past() {
        let today = d(2026, 11, 26);
        assert_eq!(birth_date(b"740812", today), Some(d(1974, 8, 12)));
        assert_eq!(birth_date(b"130101", today), Some(d(2013, 1, 1)));
        assert_eq!(birth_date(b"261126", today), Some(d(2026, 11, 26)));
        assert_eq!(birth_date(b"261127", today), Some(d(1926, 11, 27)));
        assert_eq!(birth_date(b"7408I2", today), None);
        assert_eq!(birth_date(b"741312", today), None);
    }

    #[test]
    fn expiry_window() {
        let today = d(2026, 11, 26);
        assert_eq!(expiry_date(b"120415", today), Some(d(2012, 4, 15)));
        assert_eq!(expiry_date(b"460101", today), Some(d(2046, 1, 1)));
        assert_eq!(expiry_date(b"470101", today), Some(d(1947, 1, 1)));
        assert_eq!(expiry_date(b"950712", today), Some(d(1995, 7, 12)));
        let late_century = d(2095, 1, 1);
        assert_eq!(expiry_date(b"050101", late_century), Some(d(2105, 1, 1)));
    }

    #[test]
    fn ages() {
        assert_eq!(d(1974, 8, 12).years_until(&d(2026, 8, 11)), 51);
        assert_eq!(d(1974, 8, 12).years_until(&d(2026, 8, 12)), 52);
    }
}
