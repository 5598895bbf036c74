//! The five ICAO 9303 MRZ layouts (TD1, TD2, TD3, MRV-A, MRV-B): line count and length, and
//! where every field and check digit sits.

use serde::Serialize;

/// An ICAO 9303 machine-readable-zone format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum MrzFormat {
    /// ID-1 card: 3 lines of 30 characters.
    #[serde(rename = "TD1")]
    Td1,
    /// ID-2 card: 2 lines of 36 characters.
    #[serde(rename = "TD2")]
    Td2,
    /// Passport booklet: 2 lines of 44 characters.
    #[serde(rename = "TD3")]
    Td3,
    /// Visa, format A: 2 lines of 44 characters, first character `V`.
    #[serde(rename = "MRV-A")]
    MrvA,
    /// Visa, format B: 2 lines of 36 characters, first character `V`.
    #[serde(rename = "MRV-B")]
    MrvB,
}

impl MrzFormat {
    /// Every format.
    pub const ALL: [MrzFormat; 5] = [Self::Td1, Self::Td2, Self::Td3, Self::MrvA, Self::MrvB];

    /// The name used in ICAO 9303 (`TD1`, `MRV-A`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Td1 => "TD1",
            Self::Td2 => "TD2",
            Self::Td3 => "TD3",
            Self::MrvA => "MRV-A",
            Self::MrvB => "MRV-B",
        }
    }

    /// Number of lines.
    pub const fn line_count(self) -> usize {
        match self {
            Self::Td1 => 3,
            _ => 2,
        }
    }

    /// Characters per line.
    pub const fn line_len(self) -> usize {
        match self {
            Self::Td1 => 30,
            Self::Td2 | Self::MrvB => 36,
            Self::Td3 | Self::MrvA => 44,
        }
    }

    /// The format of lines with this shape and first character, if any.
    pub fn detect(line_count: usize, line_len: usize, first: u8) -> Option<Self> {
        match (line_count, line_len, first) {
            (3, 30, _) => Some(Self::Td1),
            (2, 36, b'V') => Some(Self::MrvB),
            (2, 36, _) => Some(Self::Td2),
            (2, 44, b'V') => Some(Self::MrvA),
            (2, 44, _) => Some(Self::Td3),
            _ => None,
        }
    }

    /// Field positions of this format.
    pub(crate) const fn layout(self) -> &'static Layout {
        match self {
            Self::Td1 => &TD1,
            Self::Td2 => &TD2,
            Self::Td3 => &TD3,
            Self::MrvA => &MRV_A,
            Self::MrvB => &MRV_B,
        }
    }
}

/// A run of characters on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub line: usize,
    pub start: usize,
    pub len: usize,
}

const fn s(line: usize, start: usize, len: usize) -> Span {
    Span { line, start, len }
}

/// Where each field of a format sits.
#[derive(Debug)]
pub(crate) struct Layout {
    pub document_code: Span,
    pub issuing_state: Span,
    pub name: Span,
    pub document_number: Span,
    pub document_number_check: Span,
    pub nationality: Span,
    pub birth_date: Span,
    pub birth_date_check: Span,
    pub sex: Span,
    pub expiry_date: Span,
    pub expiry_date_check: Span,
    /// TD1 line 1 optional data, TD3 personal number, TD2/MRV optional data.
    pub optional_1: Span,
    /// TD3 personal-number check digit.
    pub optional_1_check: Option<Span>,
    /// TD1 line 2 optional data.
    pub optional_2: Option<Span>,
    /// Composite check digit and the spans it covers.
    pub composite: Option<(Span, &'static [Span])>,
    /// Whether a long document number may continue into `optional_1`.
    pub long_number: bool,
}

const TD1: Layout = Layout {
    document_code: s(0, 0, 2),
    issuing_state: s(0, 2, 3),
    document_number: s(0, 5, 9),
    document_number_check: s(0, 14, 1),
    optional_1: s(0, 15, 15),
    optional_1_check: None,
    birth_date: s(1, 0, 6),
    birth_date_check: s(1, 6, 1),
    sex: s(1, 7, 1),
    expiry_date: s(1, 8, 6),
    expiry_date_check: s(1, 14, 1),
    nationality: s(1, 15, 3),
    optional_2: Some(s(1, 18, 11)),
    composite: Some((s(1, 29, 1), &[s(0, 5, 25), s(1, 0, 7), s(1, 8, 7), s(1, 18, 11)])),
    name: s(2, 0, 30),
    long_number: true,
};

const TD2: Layout = Layout {
    document_code: s(0, 0, 2),
    issuing_state: s(0, 2, 3),
    name: s(0, 5, 31),
    document_number: s(1, 0, 9),
    document_number_check: s(1, 9, 1),
    nationality: s(1, 10, 3),
    birth_date: s(1, 13, 6),
    birth_date_check: s(1, 19, 1),
    sex: s(1, 20, 1),
    expiry_date: s(1, 21, 6),
    expiry_date_check: s(1, 27, 1),
    optional_1: s(1, 28, 7),
    optional_1_check: None,
    optional_2: None,
    composite: Some((s(1, 35, 1), &[s(1, 0, 10), s(1, 13, 7), s(1, 21, 14)])),
    long_number: true,
};

const TD3: Layout = Layout {
    document_code: s(0, 0, 2),
    issuing_state: s(0, 2, 3),
    name: s(0, 5, 39),
    document_number: s(1, 0, 9),
    document_number_check: s(1, 9, 1),
    nationality: s(1, 10, 3),
    birth_date: s(1, 13, 6),
    birth_date_check: s(1, 19, 1),
    sex: s(1, 20, 1),
    expiry_date: s(1, 21, 6),
    expiry_date_check: s(1, 27, 1),
    optional_1: s(1, 28, 14),
    optional_1_check: Some(s(1, 42, 1)),
    optional_2: None,
    composite: Some((s(1, 43, 1), &[s(1, 0, 10), s(1, 13, 7), s(1, 21, 22)])),
    long_number: false,
};

const MRV_A: Layout = Layout {
    document_code: s(0, 0, 2),
    issuing_state: s(0, 2, 3),
    name: s(0, 5, 39),
    document_number: s(1, 0, 9),
    document_number_check: s(1, 9, 1),
    nationality: s(1, 10, 3),
    birth_date: s(1, 13, 6),
    birth_date_check: s(1, 19, 1),
    sex: s(1, 20, 1),
    expiry_date: s(1, 21, 6),
    expiry_date_check: s(1, 27, 1),
    optional_1: s(1, 28, 16),
    optional_1_check: None,
    optional_2: None,
    composite: None,
    long_number: false,
};

const MRV_B: Layout = Layout {
    document_code: s(0, 0, 2),
    issuing_state: s(0, 2, 3),
    name: s(0, 5, 31),
    document_number: s(1, 0, 9),
    document_number_check: s(1, 9, 1),
    nationality: s(1, 10, 3),
    birth_date: s(1, 13, 6),
    birth_date_check: s(1, 19, 1),
    sex: s(1, 20, 1),
    expiry_date: s(1, 21, 6),
    expiry_date_check: s(1, 27, 1),
    optional_1: s(1, 28, 8),
    optional_1_check: None,
    optional_2: None,
    composite: None,
    long_number: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_span_fits_its_line() {
        for f in MrzFormat::ALL {
            let l = f.layout();
            let mut spans = vec![
                l.document_code,
                l.issuing_state,
                l.name,
                l.document_number,
                l.document_number_check,
                l.nationality,
                l.birth_date,
                l.birth_date_check,
                l.sex,
                l.expiry_date,
                l.expiry_date_check,
                l.optional_1,
            ];
            spans.extend(l.optional_1_check);
            spans.extend(l.optional_2);
            if let Some((c, covered)) = l.composite {
                spans.push(c);
                spans.extend_from_slice(covered);
            }
            for sp in spans {
                assert!(sp.line < f.line_count() && sp.start + sp.len <= f.line_len(), "{f:?} {sp:?}");
            }
        }
    }

    #[test]
    fn detection() {
        assert_eq!(MrzFormat::detect(3, 30, b'I'), Some(MrzFormat::Td1));
        assert_eq!(MrzFormat::detect(2, 36, b'V'), Some(MrzFormat::MrvB));
        assert_eq!(MrzFormat::detect(2, 44, b'P'), Some(MrzFormat::Td3));
        assert_eq!(MrzFormat::detect(2, 44, b'V'), Some(MrzFormat::MrvA));
        assert_eq!(MrzFormat::detect(2, 30, b'I'), None);
    }
}
