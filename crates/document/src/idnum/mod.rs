//! National ID-number validators for database verification (Aadhaar, PAN, US SSN) and the
//! connector trait for a registry lookup.

pub mod aadhaar;
pub mod pan;
pub mod registry;
pub mod ssn;

use thiserror::Error;

/// Why an ID number is rejected; each variant has a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum IdNumberError {
    /// Wrong number of characters.
    #[error("wrong length")]
    Length,
    /// A character not allowed at its position.
    #[error("invalid character")]
    Character,
    /// The check digit does not match.
    #[error("check digit mismatch")]
    Checksum,
    /// A value reserved or never issued (e.g. SSN area 000, 666, 9xx).
    #[error("value never issued")]
    NotIssued,
}

impl IdNumberError {
    /// A stable reason code.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Length => "id_length",
            Self::Character => "id_character",
            Self::Checksum => "id_checksum",
            Self::NotIssued => "id_not_issued",
        }
    }
}

/// Digits of `s` with the separators people type (spaces, hyphens) removed.
pub(crate) fn strip(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, ' ' | '-')).collect()
}
