//! Proof of address: a utility bill or bank statement photo, read by OCR, checked against the
//! applicant's declared name and address and for recency.
//!
//! Three checks, each pass, fail or not applicable with a stable reason code:
//! - `address_match`: the bill's address block against the declared address, normalised
//!   ([`normalize`]) and compared token by token ([`similarity`]): every declared number
//!   found exactly and a weighted token score of at least [`AddressPolicy::min_address_score`],
//!   else `address.mismatch`;
//! - `name_match`: the addressee line names the applicant (family name, first given name or
//!   its initial), else `address.name_mismatch`;
//! - `recency`: the statement or issue date at most [`AddressPolicy::max_age_days`] old
//!   (default 90), else `address.stale`; a date more than a day ahead is `address.date_in_future`.
//!
//! A photo with too little text, or without a date, is `address.unreadable` (not applicable):
//! a person looks or the applicant uploads a better photo.

pub mod extract;
pub mod normalize;
pub mod similarity;

use serde::Serialize;

use crate::checks::{CheckReport, Outcome};
use crate::mrz::Date;
use crate::viz::OcrLine;

pub use extract::{BillReading, read_bill};
pub use normalize::{address_tokens, normalize_address};
pub use similarity::{AddressSimilarity, compare_addresses, name_similarity};

/// Version of the proof-of-address rules, reported with every result.
pub const ADDRESS_VERSION: &str = "proof-of-address/1";
/// Name score from which the addressee line names the applicant.
pub const NAME_MIN_SCORE: f32 = 0.9;
/// Fewest OCR lines for a photo to count as a readable document.
pub const MIN_LINES: usize = 3;

/// Reason codes.
pub mod reason {
    /// The check passed.
    pub const OK: &str = "ok";
    /// The address on the document is not the declared one.
    pub const MISMATCH: &str = "address.mismatch";
    /// The document is older than the tenant accepts.
    pub const STALE: &str = "address.stale";
    /// The document is dated in the future.
    pub const DATE_IN_FUTURE: &str = "address.date_in_future";
    /// The document does not name the applicant.
    pub const NAME_MISMATCH: &str = "address.name_mismatch";
    /// The document (or the field) cannot be read.
    pub const UNREADABLE: &str = "address.unreadable";
    /// Nothing was declared to compare with.
    pub const NOT_DECLARED: &str = "address.not_declared";
}

/// A tenant's proof-of-address policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AddressPolicy {
    /// Oldest accepted statement date, in days before today.
    pub max_age_days: u32,
    /// Lowest accepted address score (0-1).
    pub min_address_score: f32,
}

impl Default for AddressPolicy {
    fn default() -> Self {
        Self { max_age_days: 90, min_address_score: 0.85 }
    }
}

/// What the applicant declared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredAddress {
    /// Given names.
    pub given_names: String,
    /// Family name.
    pub family_name: String,
    /// The postal address, one line.
    pub address: String,
}

/// The result of the proof-of-address checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddressReport {
    /// [`ADDRESS_VERSION`].
    pub version: &'static str,
    /// `address_match`, `name_match`, `recency`, in this order.
    pub checks: Vec<CheckReport>,
    /// The address comparison.
    pub address: AddressSimilarity,
    /// How well the addressee line names the applicant.
    pub name_score: f32,
    /// The statement date read.
    pub statement_date: Option<Date>,
    /// Its age in days at the reference date.
    pub age_days: Option<i64>,
    /// What was read (PII: not serialised).
    #[serde(skip)]
    pub reading: BillReading,
}

impl AddressReport {
    /// Whether no check failed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome == Outcome::Pass)
    }

    /// One check's result.
    pub fn get(&self, check: &str) -> Option<&CheckReport> {
        self.checks.iter().find(|c| c.check == check)
    }

    /// The reason codes of the checks that did not pass.
    pub fn problems(&self) -> Vec<&'static str> {
        self.checks.iter().filter(|c| c.outcome != Outcome::Pass).map(|c| c.reason).collect()
    }
}

/// Days since 1970-01-01 (days-from-civil).
pub fn unix_days(d: Date) -> i64 {
    let y = i64::from(d.year) - i64::from(d.month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(d.month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn r(check: &'static str, outcome: Outcome, reason: &'static str) -> CheckReport {
    CheckReport { check, outcome, reason }
}

/// Runs the proof-of-address checks on a bill's OCR lines.
pub fn verify(lines: &[OcrLine], declared: &DeclaredAddress, policy: &AddressPolicy, today: Date) -> AddressReport {
    use Outcome::*;
    let (reading, address) = read_bill(lines, &declared.given_names, &declared.family_name, &declared.address, today);
    let readable = lines.len() >= MIN_LINES;
    let mut checks = Vec::with_capacity(3);
    checks.push(if address.declared_tokens == 0 {
        r("address_match", NotApplicable, reason::NOT_DECLARED)
    } else if !readable || reading.address_lines.is_empty() {
        r("address_match", NotApplicable, reason::UNREADABLE)
    } else if address.numbers_match && address.score >= policy.min_address_score {
        r("address_match", Pass, reason::OK)
    } else {
        r("address_match", Fail, reason::MISMATCH)
    });
    checks.push(if declared.family_name.trim().is_empty() {
        r("name_match", NotApplicable, reason::NOT_DECLARED)
    } else if !readable {
        r("name_match", NotApplicable, reason::UNREADABLE)
    } else if reading.name_score >= NAME_MIN_SCORE {
        r("name_match", Pass, reason::OK)
    } else {
        r("name_match", Fail, reason::NAME_MISMATCH)
    });
    let age_days = reading.statement_date.map(|d| unix_days(today) - unix_days(d));
    checks.push(match age_days {
        None => r("recency", NotApplicable, reason::UNREADABLE),
        Some(a) if a < -1 => r("recency", Fail, reason::DATE_IN_FUTURE),
        Some(a) if a > i64::from(policy.max_age_days) => r("recency", Fail, reason::STALE),
        Some(_) => r("recency", Pass, reason::OK),
    });
    AddressReport {
        version: ADDRESS_VERSION,
        checks,
        address,
        name_score: reading.name_score,
        statement_date: reading.statement_date,
        age_days,
        reading,
    }
}

/// Reads a bill photo with the OCR engine and runs [`verify`].
#[cfg(feature = "ocr")]
pub fn verify_image(
    engine: &mut crate::ocr::OcrEngine,
    img: &image::RgbImage,
    declared: &DeclaredAddress,
    policy: &AddressPolicy,
    today: Date,
) -> Result<AddressReport, crate::ocr::OcrError> {
    let lines: Vec<OcrLine> = engine.read_lines(img)?.iter().map(OcrLine::from).collect();
    Ok(verify(&lines, declared, policy, today))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::new(2026, 11, 26).expect("date")
    }

    fn line(text: &str, x0: f32, y0: f32) -> OcrLine {
        OcrLine::new(text, x0, y0, x0 + 12.0 * text.len() as f32, y0 + 20.0)
    }

    /// A bill laid out the usual way: biller at the top, addressee block on the left, account
    /// details on the right, dates, amounts.
    fn bill(name: &str, address: &[&str], date: &str) -> Vec<OcrLine> {
        let mut out = vec![
            line("NORTHERN POWER & GAS", 40.0, 30.0),
            line("PO Box 99, Leeds LS1 4AP", 40.0, 56.0),
            line("Account number 1234 5678", 600.0, 150.0),
            line(&format!("Statement date {date}"), 600.0, 176.0),
            line("Payment due 30 Dec 2026", 600.0, 202.0),
            line(name, 40.0, 150.0),
        ];
        for (i, a) in address.iter().enumerate() {
            out.push(line(a, 40.0, 174.0 + 24.0 * i as f32));
        }
        out.push(line("Amount due GBP 84.20", 40.0, 340.0));
        out
    }

    fn declared() -> DeclaredAddress {
        DeclaredAddress {
            given_names: "Jane Marie".into(),
            family_name: "Tester".into(),
            address: "Flat 4, 12 Acacia Avenue, Springfield SP1 2AB".into(),
        }
    }

    #[test]
    fn a_matching_recent_bill_passes() {
        let b = bill("MRS J TESTER", &["4 12 ACACIA AVE", "SPRINGFIELD", "SP1 2AB"], "12 Nov 2026");
        let rep = verify(&b, &declared(), &AddressPolicy::default(), today());
        assert!(rep.passed(), "{rep:#?}");
        assert_eq!(rep.statement_date, Date::new(2026, 11, 12));
        assert_eq!(rep.age_days, Some(14));
        assert_eq!(rep.reading.address_lines.len(), 3);
    }

    #[test]
    fn each_failure_has_its_code() {
        let other = bill("MRS J TESTER", &["48 OAK ROAD", "SHELBYVILLE", "SH9 9ZZ"], "12 Nov 2026");
        let rep = verify(&other, &declared(), &AddressPolicy::default(), today());
        assert_eq!(rep.problems(), ["address.mismatch"]);
        let old = bill("MRS J TESTER", &["4 12 ACACIA AVE", "SPRINGFIELD", "SP1 2AB"], "01.06.2026");
        let rep = verify(&old, &declared(), &AddressPolicy::default(), today());
        assert_eq!(rep.problems(), ["address.stale"]);
        // The tenant's window decides.
        let rep = verify(&old, &declared(), &AddressPolicy { max_age_days: 180, ..AddressPolicy::default() }, today());
        assert!(rep.passed(), "{rep:#?}");
        let future = bill("MRS J TESTER", &["4 12 ACACIA AVE", "SPRINGFIELD", "SP1 2AB"], "01/02/2027");
        assert_eq!(
            verify(&future, &declared(), &AddressPolicy::default(), today()).problems(),
            ["address.date_in_future"]
        );
        let someone = bill("MR JOHN SMITH", &["4 12 ACACIA AVE", "SPRINGFIELD", "SP1 2AB"], "12 Nov 2026");
        let rep = verify(&someone, &declared(), &AddressPolicy::default(), today());
        assert_eq!(rep.problems(), ["address.name_mismatch"], "{rep:#?}");
    }

    #[test]
    fn unreadable_and_undeclared() {
        let rep = verify(&[line("blurry", 0.0, 0.0)], &declared(), &AddressPolicy::default(), today());
        assert_eq!(rep.problems(), ["address.unreadable", "address.unreadable", "address.unreadable"]);
        let b = bill("MRS J TESTER", &["4 12 ACACIA AVE"], "12 Nov 2026");
        let rep = verify(&b, &DeclaredAddress::default(), &AddressPolicy::default(), today());
        assert_eq!(rep.get("address_match").map(|c| c.reason), Some("address.not_declared"));
    }

    #[test]
    fn unix_days_round_trips() {
        for days in [-1000i64, 0, 1, 59, 60, 365, 10_957, 20_000, 47_000] {
            let d = Date::from_unix_days(days).expect("date");
            assert_eq!(unix_days(d), days, "{d:?}");
        }
    }
}
