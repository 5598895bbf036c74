//! Parsing MRZ lines into a typed [`Mrz`] with per-field and per-check outcomes.

use serde::Serialize;
use thiserror::Error;

use super::check_digit;
use super::countries::{self, CountryStatus};
use super::date::{self, Date};
use super::format::{Layout, MrzFormat, Span};
use super::name;
use super::repair;

/// The longest MRZ line (TD3, MRV-A).
pub const MAX_LINE_LEN: usize = 44;
/// The most lines an MRZ has (TD1).
pub const MAX_LINES: usize = 3;

/// Why lines could not be parsed as an MRZ at all (check-digit failures are not errors: they are
/// reported in [`Mrz::checks`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MrzError {
    /// No non-empty line.
    #[error("no MRZ lines")]
    Empty,
    /// More lines, or longer lines, than any MRZ has.
    #[error("input too large for an MRZ")]
    TooLarge,
    /// The lines are not all the same length.
    #[error("line {line} has {found} characters, line 1 has {expected}")]
    RaggedLines {
        /// 1-based line number.
        line: usize,
        /// Length of line 1.
        expected: usize,
        /// Length of this line.
        found: usize,
    },
    /// No ICAO format has this many lines of this length.
    #[error("{lines} lines of {len} characters match no ICAO 9303 format")]
    UnknownShape {
        /// Number of lines.
        lines: usize,
        /// Characters per line.
        len: usize,
    },
    /// A character outside `A`-`Z`, `0`-`9`, `<`.
    #[error("line {line}, column {column}: character outside the MRZ alphabet")]
    InvalidCharacter {
        /// 1-based line number.
        line: usize,
        /// 1-based column.
        column: usize,
    },
}

impl MrzError {
    /// A stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "mrz_empty",
            Self::TooLarge => "mrz_too_large",
            Self::RaggedLines { .. } => "mrz_ragged_lines",
            Self::UnknownShape { .. } => "mrz_unknown_format",
            Self::InvalidCharacter { .. } => "mrz_invalid_character",
        }
    }
}

/// Options for [`parse_lines`].
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// The reference date for century inference (a birth date is not after it).
    pub today: Date,
    /// Repair OCR confusions (O/0, I/1, S/5, B/8, Z/2, G/6) by field type; a repair of a field
    /// covered by a check digit is kept only when it makes that check pass.
    pub repair: bool,
}

impl ParseOptions {
    /// Strict parsing (no repair) relative to `today`.
    pub fn strict(today: Date) -> Self {
        Self { today, repair: false }
    }

    /// Parsing with OCR repair relative to `today`.
    pub fn with_repair(today: Date) -> Self {
        Self { today, repair: true }
    }
}

/// A check digit of the MRZ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Over the document number.
    DocumentNumber,
    /// Over the birth date.
    BirthDate,
    /// Over the expiry date.
    ExpiryDate,
    /// Over the TD3 personal number (optional data).
    PersonalNumber,
    /// Over the upper and middle lines (TD1) or the lower line (TD2, TD3).
    Composite,
}

impl CheckKind {
    /// A stable name (`document_number`, ..., `composite`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::DocumentNumber => "document_number",
            Self::BirthDate => "birth_date",
            Self::ExpiryDate => "expiry_date",
            Self::PersonalNumber => "personal_number",
            Self::Composite => "composite",
        }
    }
}

/// The outcome of one check digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Which check.
    pub kind: CheckKind,
    /// Whether the printed digit equals the computed one.
    pub pass: bool,
    /// The digit computed from the data (`None` if the data holds no valid characters).
    pub expected: Option<char>,
    /// The character printed in the check position.
    pub found: char,
}

/// How a TD1/TD2 document number longer than nine characters was checked (ICAO 9303 Part 5,
/// note j: the check position holds `<`, the rest of the number and its check digit follow in
/// the optional data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LongNumberConvention {
    /// ICAO: the check digit covers the nine characters and the overflow, without the `<`.
    IcaoFillerExcluded,
    /// Seen on Belgian cards: the `<` in the check position is included in the check.
    FillerIncluded,
    /// Neither convention gives the printed digit.
    Neither,
}

/// A field of the MRZ, for per-field outcomes and repairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Document code (`P`, `I`, `ID`, `V`, ...).
    DocumentCode,
    /// Issuing state or organisation.
    IssuingState,
    /// Name (primary and secondary identifiers).
    Name,
    /// Document number (with a long number's overflow).
    DocumentNumber,
    /// Nationality.
    Nationality,
    /// Date of birth.
    BirthDate,
    /// Sex.
    Sex,
    /// Date of expiry.
    ExpiryDate,
    /// Optional data (TD3 personal number).
    OptionalData,
    /// TD1 second optional-data field.
    OptionalData2,
    /// A check digit.
    CheckDigit(CheckKind),
}

/// What confirmed a repaired field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmedBy {
    /// A check digit that passes after the repair.
    CheckDigit,
    /// The ICAO code list (the repaired code exists, the read one does not).
    CodeList,
    /// Nothing: a name with digits, repaired by field type only.
    FieldTypeOnly,
}

/// The outcome for one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FieldStatus {
    /// Well formed.
    Ok,
    /// Well formed, but a specimen value (`UTO`).
    Specimen,
    /// Malformed; `reason` is a stable code.
    Invalid {
        /// Stable reason code.
        reason: &'static str,
    },
    /// Changed by OCR repair.
    Repaired {
        /// The characters as read.
        original: String,
        /// What confirmed the repair.
        confirmed_by: ConfirmedBy,
    },
}

/// One field's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldReport {
    /// Which field.
    pub field: Field,
    /// Its outcome.
    pub status: FieldStatus,
}

/// One character changed by OCR repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Repair {
    /// 0-based line.
    pub line: usize,
    /// 0-based column.
    pub column: usize,
    /// As read.
    pub from: char,
    /// As repaired.
    pub to: char,
    /// The field it belongs to.
    pub field: Field,
}

/// Sex as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sex {
    /// `M`.
    Male,
    /// `F`.
    Female,
    /// `X` or `<`.
    Unspecified,
    /// Anything else (an OCR error).
    Invalid,
}

impl Sex {
    fn from_byte(c: u8) -> Self {
        match c {
            b'M' => Self::Male,
            b'F' => Self::Female,
            b'X' | b'<' => Self::Unspecified,
            _ => Self::Invalid,
        }
    }

    /// `M`, `F`, `X` or `?`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Male => "M",
            Self::Female => "F",
            Self::Unspecified => "X",
            Self::Invalid => "?",
        }
    }
}

/// A parsed machine-readable zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mrz {
    /// The format.
    pub format: MrzFormat,
    /// The lines after any repair.
    pub lines: Vec<String>,
    /// Document code, trailing filler removed (`P`, `ID`, `I`, `V`, ...).
    pub document_code: String,
    /// Issuing state, fillers removed (`D` for Germany).
    pub issuing_state: String,
    /// The issuing state on the ICAO code list.
    pub issuing_state_status: CountryStatus,
    /// Document number, including a long number's overflow, trailing fillers removed.
    pub document_number: String,
    /// The document number's check digit as printed.
    pub document_number_check: char,
    /// Set when the document number overflows into the optional data.
    pub long_number_convention: Option<LongNumberConvention>,
    /// Optional data (TD3: the personal number), trailing fillers removed.
    pub optional_data: String,
    /// TD3 personal-number check digit.
    pub optional_data_check: Option<char>,
    /// TD1 second optional-data field, trailing fillers removed.
    pub optional_data_2: Option<String>,
    /// Birth date as printed (`YYMMDD`).
    pub birth_date_raw: String,
    /// Birth date with its century, if it is a calendar date.
    pub birth_date: Option<Date>,
    /// Birth-date check digit as printed.
    pub birth_date_check: char,
    /// Sex.
    pub sex: Sex,
    /// Expiry date as printed (`YYMMDD`).
    pub expiry_date_raw: String,
    /// Expiry date with its century, if it is a calendar date.
    pub expiry_date: Option<Date>,
    /// Expiry-date check digit as printed.
    pub expiry_date_check: char,
    /// Nationality, fillers removed.
    pub nationality: String,
    /// The nationality on the ICAO code list.
    pub nationality_status: CountryStatus,
    /// Composite check digit (not on visas).
    pub composite_check: Option<char>,
    /// Primary identifier.
    pub surname: String,
    /// Secondary identifiers, space separated.
    pub given_names: String,
    /// Every check digit's outcome.
    pub checks: Vec<CheckResult>,
    /// Every field's outcome.
    pub fields: Vec<FieldReport>,
    /// Characters changed by OCR repair.
    pub repairs: Vec<Repair>,
}

impl Mrz {
    /// Whether every check digit passes.
    pub fn checks_pass(&self) -> bool {
        self.checks.iter().all(|c| c.pass)
    }

    /// The outcome of one check, if this format has it.
    pub fn check(&self, kind: CheckKind) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.kind == kind)
    }

    /// The outcome for one field.
    pub fn field_status(&self, field: Field) -> Option<&FieldStatus> {
        self.fields.iter().find(|f| f.field == field).map(|f| &f.status)
    }

    /// Whether every check passes and no field is invalid (specimen codes and confirmed repairs
    /// are accepted; a name repaired by field type only is accepted too, the repair is reported).
    pub fn is_valid(&self) -> bool {
        self.checks_pass() && !self.fields.iter().any(|f| matches!(f.status, FieldStatus::Invalid { .. }))
    }

    /// Whether a specimen code (`UTO`) appears.
    pub fn is_specimen(&self) -> bool {
        self.issuing_state_status == CountryStatus::Specimen || self.nationality_status == CountryStatus::Specimen
    }

    /// The fields as name/value pairs, named as in ICAO 9303 (`document_number`,
    /// `birth_date_check`, `personal_number` on TD3, `optional_data_1` on TD1, ...).
    pub fn field_map(&self) -> Vec<(&'static str, String)> {
        let mut m = vec![
            ("document_code", self.document_code.clone()),
            ("issuing_state", self.issuing_state.clone()),
            ("surname", self.surname.clone()),
            ("given_names", self.given_names.clone()),
            ("document_number", self.document_number.clone()),
            ("document_number_check", self.document_number_check.to_string()),
            ("nationality", self.nationality.clone()),
            ("birth_date", self.birth_date_raw.clone()),
            ("birth_date_check", self.birth_date_check.to_string()),
            ("sex", self.sex.as_str().to_string()),
            ("expiry_date", self.expiry_date_raw.clone()),
            ("expiry_date_check", self.expiry_date_check.to_string()),
        ];
        match self.format {
            MrzFormat::Td1 => {
                m.push(("optional_data_1", self.optional_data.clone()));
                m.push(("optional_data_2", self.optional_data_2.clone().unwrap_or_default()));
            }
            MrzFormat::Td3 => {
                m.push(("personal_number", self.optional_data.clone()));
                m.push(("personal_number_check", self.optional_data_check.map(String::from).unwrap_or_default()));
            }
            _ => m.push(("optional_data", self.optional_data.clone())),
        }
        if let Some(c) = self.composite_check {
            m.push(("composite_check", c.to_string()));
        }
        m
    }
}

/// Parses MRZ text: one line per text line; blank lines and surrounding spaces are ignored.
pub fn parse(text: &str, options: ParseOptions) -> Result<Mrz, MrzError> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).take(MAX_LINES + 1).collect();
    parse_lines(&lines, options)
}

/// Parses MRZ lines.
pub fn parse_lines<S: AsRef<str>>(lines: &[S], options: ParseOptions) -> Result<Mrz, MrzError> {
    let first = lines.first().ok_or(MrzError::Empty)?.as_ref().as_bytes();
    if lines.len() > MAX_LINES || first.len() > MAX_LINE_LEN {
        return Err(MrzError::TooLarge);
    }
    let mut bytes: Vec<Vec<u8>> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let b = line.as_ref().as_bytes();
        if b.len() != first.len() {
            return Err(MrzError::RaggedLines { line: i + 1, expected: first.len(), found: b.len() });
        }
        if let Some(col) = b.iter().position(|&c| check_digit::char_value(c).is_none()) {
            return Err(MrzError::InvalidCharacter { line: i + 1, column: col + 1 });
        }
        bytes.push(b.to_vec());
    }
    let first_char = first.first().copied().unwrap_or(b'<');
    let format = MrzFormat::detect(bytes.len(), first.len(), first_char)
        .ok_or(MrzError::UnknownShape { lines: bytes.len(), len: first.len() })?;
    if !options.repair {
        return Ok(build(format, &bytes, &bytes, Vec::new(), options.today));
    }
    let original = bytes.clone();
    let repairs = repair::repair(format, &mut bytes);
    Ok(build(format, &bytes, &original, repairs, options.today))
}

/// The bytes of a span (empty if out of range, which the layouts rule out).
pub(crate) fn get(lines: &[Vec<u8>], span: Span) -> &[u8] {
    lines.get(span.line).and_then(|l| l.get(span.start..span.start + span.len)).unwrap_or_default()
}

/// The byte at a one-character span.
pub(crate) fn at(lines: &[Vec<u8>], span: Span) -> u8 {
    get(lines, span).first().copied().unwrap_or(b'<')
}

fn trim_fillers(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c != b'<').map_or(0, |i| i + 1);
    b.get(..end).unwrap_or_default()
}

/// MRZ bytes as text. Parsed lines hold only `A`–`Z`, `0`–`9` and `<` (checked on entry), so
/// the bytes are copied as they are; anything else would become U+FFFD.
fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The document number, its check and where they sit.
pub(crate) struct DocNumber {
    /// Positions (line, column) of the number's characters, overflow included.
    pub positions: Vec<(usize, usize)>,
    /// Position of the check digit.
    pub check_pos: (usize, usize),
    /// The number, trailing fillers removed.
    pub number: Vec<u8>,
    /// The printed check character.
    pub check: u8,
    /// The computed check digit (ICAO convention).
    pub expected: Option<u8>,
    /// Whether the check passes.
    pub pass: bool,
    /// Set for a long number.
    pub convention: Option<LongNumberConvention>,
}

/// Reads the document number, following a long number into the optional data.
pub(crate) fn doc_number(layout: &Layout, lines: &[Vec<u8>]) -> DocNumber {
    let field = get(lines, layout.document_number);
    let cs = layout.document_number_check;
    let check = at(lines, cs);
    let opt = get(lines, layout.optional_1);
    let field_positions = (0..layout.document_number.len).map(|i| (cs.line, layout.document_number.start + i));
    if layout.long_number && check == b'<' && opt.first().is_some_and(|&c| c != b'<') {
        let k = opt.iter().position(|&c| c == b'<').unwrap_or(opt.len());
        if k >= 2 {
            let ext = opt.get(..k - 1).unwrap_or_default();
            let long_check = opt.get(k - 1).copied().unwrap_or(b'<');
            let excluded = check_digit::compute_parts(&[field, ext]);
            let included = check_digit::compute_parts(&[field, b"<", ext]);
            let convention = if excluded == Some(long_check) {
                LongNumberConvention::IcaoFillerExcluded
            } else if included == Some(long_check) {
                LongNumberConvention::FillerIncluded
            } else {
                LongNumberConvention::Neither
            };
            let o = layout.optional_1;
            let mut number = field.to_vec();
            number.extend_from_slice(ext);
            return DocNumber {
                positions: field_positions.chain((0..k - 1).map(|i| (o.line, o.start + i))).collect(),
                check_pos: (o.line, o.start + k - 1),
                number: trim_fillers(&number).to_vec(),
                check: long_check,
                expected: excluded,
                pass: convention != LongNumberConvention::Neither,
                convention: Some(convention),
            };
        }
    }
    let expected = check_digit::compute(field);
    DocNumber {
        positions: field_positions.collect(),
        check_pos: (cs.line, cs.start),
        number: trim_fillers(field).to_vec(),
        check,
        expected,
        pass: expected == Some(check),
        convention: None,
    }
}

fn simple_check(kind: CheckKind, data: &[u8], check: u8) -> CheckResult {
    let expected = check_digit::compute(data);
    let pass = expected == Some(check);
    CheckResult { kind, pass, expected: expected.map(char::from), found: char::from(check) }
}

/// Every check digit of the lines.
pub(crate) fn evaluate(format: MrzFormat, lines: &[Vec<u8>]) -> Vec<CheckResult> {
    let l = format.layout();
    let dn = doc_number(l, lines);
    let mut out = Vec::with_capacity(5);
    out.push(CheckResult {
        kind: CheckKind::DocumentNumber,
        pass: dn.pass,
        expected: dn.expected.map(char::from),
        found: char::from(dn.check),
    });
    out.push(simple_check(CheckKind::BirthDate, get(lines, l.birth_date), at(lines, l.birth_date_check)));
    out.push(simple_check(CheckKind::ExpiryDate, get(lines, l.expiry_date), at(lines, l.expiry_date_check)));
    if let Some(cs) = l.optional_1_check {
        let data = get(lines, l.optional_1);
        let found = at(lines, cs);
        let mut r = simple_check(CheckKind::PersonalNumber, data, found);
        // An empty personal number may carry `<` as its check digit (ICAO 9303 Part 4).
        if found == b'<' && data.iter().all(|&c| c == b'<') {
            r.pass = true;
        }
        out.push(r);
    }
    if let Some((cs, covered)) = l.composite {
        let parts: Vec<&[u8]> = covered.iter().map(|&s| get(lines, s)).collect();
        let expected = check_digit::compute_parts(&parts);
        let found = at(lines, cs);
        out.push(CheckResult {
            kind: CheckKind::Composite,
            pass: expected == Some(found),
            expected: expected.map(char::from),
            found: char::from(found),
        });
    }
    out
}

/// The field a position belongs to.
pub(crate) fn field_at(format: MrzFormat, line: usize, column: usize) -> Field {
    let l = format.layout();
    let inside = |s: Span| s.line == line && (s.start..s.start + s.len).contains(&column);
    let table: [(Span, Field); 11] = [
        (l.document_code, Field::DocumentCode),
        (l.issuing_state, Field::IssuingState),
        (l.name, Field::Name),
        (l.document_number, Field::DocumentNumber),
        (l.document_number_check, Field::CheckDigit(CheckKind::DocumentNumber)),
        (l.nationality, Field::Nationality),
        (l.birth_date, Field::BirthDate),
        (l.birth_date_check, Field::CheckDigit(CheckKind::BirthDate)),
        (l.sex, Field::Sex),
        (l.expiry_date, Field::ExpiryDate),
        (l.expiry_date_check, Field::CheckDigit(CheckKind::ExpiryDate)),
    ];
    if let Some((_, f)) = table.iter().find(|(s, _)| inside(*s)) {
        return *f;
    }
    if inside(l.optional_1) {
        return Field::OptionalData;
    }
    if l.optional_1_check.is_some_and(inside) {
        return Field::CheckDigit(CheckKind::PersonalNumber);
    }
    if l.optional_2.is_some_and(inside) {
        return Field::OptionalData2;
    }
    Field::CheckDigit(CheckKind::Composite)
}

fn build(format: MrzFormat, lines: &[Vec<u8>], original: &[Vec<u8>], repairs: Vec<Repair>, today: Date) -> Mrz {
    let l = format.layout();
    let dn = doc_number(l, lines);
    let checks = evaluate(format, lines);
    let issuing_state = text(trim_fillers(get(lines, l.issuing_state)));
    let nationality = text(trim_fillers(get(lines, l.nationality)));
    let issuing_state_status = countries::lookup(&issuing_state);
    let nationality_status = countries::lookup(&nationality);
    let birth_raw = get(lines, l.birth_date);
    let expiry_raw = get(lines, l.expiry_date);
    let birth_date = date::birth_date(birth_raw, today);
    let expiry_date = date::expiry_date(expiry_raw, today);
    let (surname, given_names) = name::split(get(lines, l.name));
    let sex = Sex::from_byte(at(lines, l.sex));
    let code = get(lines, l.document_code);

    let pass = |k: CheckKind| checks.iter().any(|c| c.kind == k && c.pass);
    let country = |s: CountryStatus| match s {
        CountryStatus::Known => FieldStatus::Ok,
        CountryStatus::Specimen => FieldStatus::Specimen,
        CountryStatus::Unknown => FieldStatus::Invalid { reason: "unknown_country_code" },
    };
    let ok_if = |ok: bool, reason: &'static str| if ok { FieldStatus::Ok } else { FieldStatus::Invalid { reason } };
    let name_ok = get(lines, l.name).iter().all(|&c| c == b'<' || c.is_ascii_uppercase());
    let mut fields = vec![
        FieldReport {
            field: Field::DocumentCode,
            status: ok_if(code.first().is_some_and(u8::is_ascii_uppercase), "document_code_not_alphabetic"),
        },
        FieldReport { field: Field::IssuingState, status: country(issuing_state_status) },
        FieldReport { field: Field::Name, status: ok_if(name_ok, "name_not_alphabetic") },
        FieldReport { field: Field::DocumentNumber, status: ok_if(pass(CheckKind::DocumentNumber), "check_digit") },
        FieldReport { field: Field::Nationality, status: country(nationality_status) },
        FieldReport { field: Field::BirthDate, status: ok_if(birth_date.is_some(), "invalid_date") },
        FieldReport { field: Field::Sex, status: ok_if(sex != Sex::Invalid, "invalid_sex") },
        FieldReport { field: Field::ExpiryDate, status: ok_if(expiry_date.is_some(), "invalid_date") },
    ];
    // Report repairs per field.
    for report in &mut fields {
        let changed: Vec<&Repair> = repairs.iter().filter(|r| r.field == report.field).collect();
        if changed.is_empty() || matches!(report.status, FieldStatus::Invalid { .. }) {
            continue;
        }
        let span = match report.field {
            Field::DocumentCode => l.document_code,
            Field::IssuingState => l.issuing_state,
            Field::Name => l.name,
            Field::Nationality => l.nationality,
            Field::BirthDate => l.birth_date,
            Field::Sex => l.sex,
            Field::ExpiryDate => l.expiry_date,
            _ => l.document_number,
        };
        let confirmed_by = match report.field {
            Field::IssuingState | Field::Nationality => ConfirmedBy::CodeList,
            Field::Name | Field::DocumentCode | Field::Sex => ConfirmedBy::FieldTypeOnly,
            _ => ConfirmedBy::CheckDigit,
        };
        let original = if report.field == Field::DocumentNumber {
            text(
                &dn.positions
                    .iter()
                    .map(|&(li, c)| original.get(li).and_then(|x| x.get(c)).copied().unwrap_or(b'<'))
                    .collect::<Vec<u8>>(),
            )
        } else {
            text(get(original, span))
        };
        report.status = FieldStatus::Repaired { original, confirmed_by };
    }

    Mrz {
        format,
        lines: lines.iter().map(|b| text(b)).collect(),
        document_code: text(trim_fillers(code)),
        issuing_state,
        issuing_state_status,
        document_number: text(&dn.number),
        document_number_check: char::from(dn.check),
        long_number_convention: dn.convention,
        optional_data: text(trim_fillers(get(lines, l.optional_1))),
        optional_data_check: l.optional_1_check.map(|s| char::from(at(lines, s))),
        optional_data_2: l.optional_2.map(|s| text(trim_fillers(get(lines, s)))),
        birth_date_raw: text(birth_raw),
        birth_date,
        birth_date_check: char::from(at(lines, l.birth_date_check)),
        sex,
        expiry_date_raw: text(expiry_raw),
        expiry_date,
        expiry_date_check: char::from(at(lines, l.expiry_date_check)),
        nationality,
        nationality_status,
        composite_check: l.composite.map(|(s, _)| char::from(at(lines, s))),
        surname,
        given_names,
        checks,
        fields,
        repairs,
    }
}
