//! Aadhaar (India, UIDAI): 12 digits, the first neither 0 nor 1, the last a Verhoeff check digit.

use super::{IdNumberError, strip};

const D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

/// Whether digits (check digit last) pass the Verhoeff check.
pub fn verhoeff_valid(digits: &[u8]) -> bool {
    let mut c = 0u8;
    for (i, &d) in digits.iter().rev().enumerate() {
        let p = P[i % 8][usize::from(d % 10)];
        c = D[usize::from(c)][usize::from(p)];
    }
    c == 0
}

/// The Verhoeff check digit to append to `digits`.
pub fn verhoeff_digit(digits: &[u8]) -> u8 {
    let mut c = 0u8;
    for (i, &d) in digits.iter().rev().enumerate() {
        let p = P[(i + 1) % 8][usize::from(d % 10)];
        c = D[usize::from(c)][usize::from(p)];
    }
    INV[usize::from(c)]
}

/// A validated Aadhaar number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aadhaar(String);

impl Aadhaar {
    /// Parses 12 digits (spaces and hyphens ignored).
    pub fn parse(s: &str) -> Result<Self, IdNumberError> {
        let s = strip(s);
        if s.len() != 12 {
            return Err(IdNumberError::Length);
        }
        let digits: Vec<u8> = s.bytes().map(|b| b.wrapping_sub(b'0')).collect();
        if digits.iter().any(|&d| d > 9) {
            return Err(IdNumberError::Character);
        }
        if digits.first().is_some_and(|&d| d < 2) {
            return Err(IdNumberError::NotIssued);
        }
        if !verhoeff_valid(&digits) {
            return Err(IdNumberError::Checksum);
        }
        Ok(Self(s))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits (all a log or a UI may show).
    pub fn masked(&self) -> String {
        format!("XXXX XXXX {}", self.0.get(8..).unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verhoeff_reference_values() {
        // The classic example: 236 → check digit 3.
        assert_eq!(verhoeff_digit(&[2, 3, 6]), 3);
        assert!(verhoeff_valid(&[2, 3, 6, 3]));
        assert!(!verhoeff_valid(&[2, 3, 6, 4]));
        // UIDAI's published sample number 2341 2341 2346.
        assert!(Aadhaar::parse("2341 2341 2346").is_ok());
    }

    #[test]
    fn rejects() {
        assert_eq!(Aadhaar::parse("2341 2341 2347"), Err(IdNumberError::Checksum));
        assert_eq!(Aadhaar::parse("1341 2341 2346"), Err(IdNumberError::NotIssued));
        assert_eq!(Aadhaar::parse("2341 2341 234"), Err(IdNumberError::Length));
        assert_eq!(Aadhaar::parse("2341 2341 234A"), Err(IdNumberError::Character));
        assert_eq!(Aadhaar::parse("२३४१२३४१२३४६"), Err(IdNumberError::Length));
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        let base: Vec<u8> = vec![2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 6];
        for i in 0..12 {
            for d in 0..10u8 {
                if d != base[i] {
                    let mut v = base.clone();
                    v[i] = d;
                    assert!(!verhoeff_valid(&v));
                }
            }
            if i + 1 < 12 && base[i] != base[i + 1] {
                let mut v = base.clone();
                v.swap(i, i + 1);
                assert!(!verhoeff_valid(&v), "transposition at {i}");
            }
        }
    }
}
