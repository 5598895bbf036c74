//! PAN (India, Income Tax Department): `AAAAA9999A`: three letters, the holder-type letter
//! (P person, C company, H Hindu undivided family, F firm, A association of persons, T trust,
//! B body of individuals, L local authority, J artificial juridical person, G government), the
//! initial of the surname or name, four digits, a letter.

use super::{IdNumberError, strip};

/// The holder type the fourth character encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanHolder {
    /// P: individual.
    Person,
    /// C: company.
    Company,
    /// H: Hindu undivided family.
    HinduUndividedFamily,
    /// F: firm or LLP.
    Firm,
    /// A: association of persons.
    AssociationOfPersons,
    /// T: trust.
    Trust,
    /// B: body of individuals.
    BodyOfIndividuals,
    /// L: local authority.
    LocalAuthority,
    /// J: artificial juridical person.
    ArtificialJuridicalPerson,
    /// G: government.
    Government,
}

impl PanHolder {
    fn from_letter(c: u8) -> Option<Self> {
        Some(match c {
            b'P' => Self::Person,
            b'C' => Self::Company,
            b'H' => Self::HinduUndividedFamily,
            b'F' => Self::Firm,
            b'A' => Self::AssociationOfPersons,
            b'T' => Self::Trust,
            b'B' => Self::BodyOfIndividuals,
            b'L' => Self::LocalAuthority,
            b'J' => Self::ArtificialJuridicalPerson,
            b'G' => Self::Government,
            _ => return None,
        })
    }
}

/// A validated PAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pan {
    value: String,
    holder: PanHolder,
}

impl Pan {
    /// Parses a PAN (upper case; spaces ignored).
    pub fn parse(s: &str) -> Result<Self, IdNumberError> {
        let s = strip(s);
        let b = s.as_bytes();
        if b.len() != 10 {
            return Err(IdNumberError::Length);
        }
        let letters = |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_uppercase));
        let digits = b.get(5..9).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
        if !(letters(0..5) && digits && letters(9..10)) {
            return Err(IdNumberError::Character);
        }
        let holder = b.get(3).and_then(|&c| PanHolder::from_letter(c)).ok_or(IdNumberError::NotIssued)?;
        Ok(Self { value: s, holder })
    }

    /// The holder type.
    pub fn holder(&self) -> PanHolder {
        self.holder
    }

    /// The ten characters.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Whether the fifth character matches the initial of `surname` (for a person).
    pub fn matches_surname_initial(&self, surname: &str) -> bool {
        let initial = surname.trim().chars().next().map(|c| c.to_ascii_uppercase());
        self.value.as_bytes().get(4).map(|&c| char::from(c)) == initial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reads_holder_type() {
        let p = Pan::parse("ABCPE1234F").expect("valid");
        assert_eq!(p.holder(), PanHolder::Person);
        assert!(p.matches_surname_initial("Eriksson"));
        assert!(!p.matches_surname_initial("Smith"));
        assert_eq!(Pan::parse("AAACB1234C").map(|p| p.holder()), Ok(PanHolder::Company));
    }

    #[test]
    fn rejects() {
        assert_eq!(Pan::parse("ABCXE1234F"), Err(IdNumberError::NotIssued));
        assert_eq!(Pan::parse("ABCPE12345"), Err(IdNumberError::Character));
        assert_eq!(Pan::parse("abcpe1234f"), Err(IdNumberError::Character));
        assert_eq!(Pan::parse("ABCPE1234"), Err(IdNumberError::Length));
    }
}
