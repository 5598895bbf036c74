//! US Social Security numbers: `AAA-GG-SSSS`; area not 000, 666 or 900-999; group not 00;
//! serial not 0000; and the numbers the SSA voided after they were published in advertising.

use super::{IdNumberError, strip};

/// Numbers that were never valid although well formed (Woolworth's wallet card, an SSA
/// pamphlet sample).
const VOIDED: &[&str] = &["078051120", "219099999"];

/// A validated SSN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssn(String);

impl Ssn {
    /// Parses nine digits, with or without hyphens.
    pub fn parse(s: &str) -> Result<Self, IdNumberError> {
        let s = strip(s);
        if s.len() != 9 {
            return Err(IdNumberError::Length);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdNumberError::Character);
        }
        let (area, group, serial) = (s.get(0..3).unwrap_or(""), s.get(3..5).unwrap_or(""), s.get(5..9).unwrap_or(""));
        if area == "000" || area == "666" || area.starts_with('9') || group == "00" || serial == "0000" {
            return Err(IdNumberError::NotIssued);
        }
        if VOIDED.contains(&s.as_str()) {
            return Err(IdNumberError::NotIssued);
        }
        Ok(Self(s))
    }

    /// The nine digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `***-**-1234`.
    pub fn masked(&self) -> String {
        format!("***-**-{}", self.0.get(5..).unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_group_serial_rules() {
        assert!(Ssn::parse("123-45-6789").is_ok());
        assert_eq!(Ssn::parse("123-45-6789").map(|s| s.masked()), Ok("***-**-6789".into()));
        for bad in ["000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456", "123-00-4567", "123-45-0000"] {
            assert_eq!(Ssn::parse(bad), Err(IdNumberError::NotIssued), "{bad}");
        }
        assert_eq!(Ssn::parse("078-05-1120"), Err(IdNumberError::NotIssued));
        assert_eq!(Ssn::parse("12-345-678"), Err(IdNumberError::Length));
        assert_eq!(Ssn::parse("12345678X"), Err(IdNumberError::Character));
    }
}
