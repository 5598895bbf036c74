//! ICAO 9303 machine-readable zones: TD1, TD2, TD3, MRV-A and MRV-B; every check digit and the
//! composite; both conventions for long TD1/TD2 document numbers; dates with century inference;
//! the ICAO code list (specimen `UTO` flagged, not failed); repair of OCR confusions by field
//! type, kept only when check digits confirm it. No I/O and no clock: compiles for wasm.

pub mod build;
pub mod check_digit;
pub mod countries;
pub mod date;
pub mod format;
pub mod name;
mod parse;
pub mod repair;

pub use build::{BuildError, MrzFields};
pub use countries::CountryStatus;
pub use date::Date;
pub use format::MrzFormat;
pub use parse::{
    CheckKind, CheckResult, ConfirmedBy, Field, FieldReport, FieldStatus, LongNumberConvention, MAX_LINE_LEN,
    MAX_LINES, Mrz, MrzError, ParseOptions, Repair, Sex, parse, parse_lines,
};
