//! MRZ parsing against ICAO 9303 specimens and published sample documents, written out here.

use trustcap_document::mrz::{
    CheckKind, ConfirmedBy, CountryStatus, Date, Field, FieldStatus, LongNumberConvention, MrzError, MrzFormat,
    ParseOptions, Sex, parse, parse_lines,
};

fn today() -> Date {
    Date::new(2026, 11, 26).expect("date")
}

fn strict(lines: &[&str]) -> trustcap_document::mrz::Mrz {
    parse_lines(lines, ParseOptions::strict(today())).expect("parses")
}

fn field(m: &trustcap_document::mrz::Mrz, name: &str) -> String {
    m.field_map().into_iter().find(|(k, _)| *k == name).map(|(_, v)| v).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn td3_icao_specimen() {
    let m = strict(&["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]);
    assert_eq!(m.format, MrzFormat::Td3);
    assert_eq!(m.document_code, "P");
    assert_eq!(m.surname, "ERIKSSON");
    assert_eq!(m.given_names, "ANNA MARIA");
    assert_eq!(m.document_number, "L898902C3");
    assert_eq!(m.birth_date, Date::new(1974, 8, 12));
    assert_eq!(m.expiry_date, Date::new(2012, 4, 15));
    assert_eq!(m.sex, Sex::Female);
    assert_eq!(m.optional_data, "ZE184226B");
    assert!(m.checks_pass());
    assert_eq!(m.checks.len(), 5);
    assert!(m.is_specimen());
    assert_eq!(m.issuing_state_status, CountryStatus::Specimen);
    assert_eq!(m.field_status(Field::IssuingState), Some(&FieldStatus::Specimen));
    assert!(m.is_valid(), "a specimen code is flagged, not failed");
}

#[test]
fn td3_bad_personal_number_check_also_breaks_composite() {
    let m = strict(&["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<20"]);
    let failed: Vec<CheckKind> = m.checks.iter().filter(|c| !c.pass).map(|c| c.kind).collect();
    assert_eq!(failed, vec![CheckKind::PersonalNumber, CheckKind::Composite]);
    assert_eq!(m.check(CheckKind::PersonalNumber).and_then(|c| c.expected), Some('1'));
    assert!(!m.is_valid());
}

#[test]
fn td3_germany_one_letter_code_and_empty_personal_number() {
    let m = strict(&["P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<", "C01X0006H1D<<6408125F1710319<<<<<<<<<<<<<<<0"]);
    assert_eq!(m.issuing_state, "D");
    assert_eq!(m.nationality, "D");
    assert_eq!(m.issuing_state_status, CountryStatus::Known);
    assert_eq!(m.optional_data_check, Some('<'));
    assert!(m.is_valid());
}

#[test]
fn td1_swiss_and_composite() {
    let m =
        strict(&["IDCHEA1234567<6<<<<<<<<<<<<<<<", "7510256M2009018CHE<<<<<<<<<<<8", "SMITH<<JOHN<ALBERT<<<<<<<<<<<<"]);
    assert_eq!(m.format, MrzFormat::Td1);
    assert_eq!(field(&m, "document_number"), "A1234567");
    assert_eq!(field(&m, "given_names"), "JOHN ALBERT");
    assert_eq!(m.expiry_date, Date::new(2020, 9, 1));
    assert!(m.is_valid());
    let bad =
        strict(&["IDAUT10000999<6<<<<<<<<<<<<<<<", "7109094F1112315AUT<<<<<<<<<<<6", "MUSTERFRAU<<ISOLDE<<<<<<<<<<<<"]);
    let failed: Vec<CheckKind> = bad.checks.iter().filter(|c| !c.pass).map(|c| c.kind).collect();
    assert_eq!(failed, vec![CheckKind::Composite]);
}

#[test]
fn td1_long_document_number_both_conventions() {
    // ICAO 9303 Part 5 example: the number overflows into the optional data.
    let m =
        strict(&["I<UTOD23145890<1233<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<2", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]);
    assert_eq!(m.document_number, "D23145890123");
    assert_eq!(m.document_number_check, '3');
    assert_eq!(m.long_number_convention, Some(LongNumberConvention::IcaoFillerExcluded));
    assert!(m.checks_pass());
    // Belgian cards include the filler in the check.
    let b =
        strict(&["IDBEL000590240<6013<<<<<<<<<<<", "8512017F1311048BEL851201002007", "REINARTZ<<ULRIKE<KATIA<E<<<<<<"]);
    assert_eq!(b.document_number, "000590240601");
    assert_eq!(b.long_number_convention, Some(LongNumberConvention::FillerIncluded));
    assert!(b.checks_pass());
    let bad =
        strict(&["IDBEL000590240<6016<<<<<<<<<<<", "8512017F1311048BEL851201002007", "REINARTZ<<ULRIKE<KATIA<E<<<<<<"]);
    assert_eq!(bad.long_number_convention, Some(LongNumberConvention::Neither));
    assert!(!bad.check(CheckKind::DocumentNumber).is_some_and(|c| c.pass));
}

#[test]
fn td2_specimen() {
    let m = strict(&["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]);
    assert_eq!(m.format, MrzFormat::Td2);
    assert_eq!(m.document_number, "D23145890");
    assert!(m.checks_pass());
}

#[test]
fn visas_have_no_composite() {
    let a = strict(&["VIUSATRAVELER<<HAPPYPERSON<<<<<<<<<<<<<<<<<<", "555123ABC6GBR6502056F04122361FLNDDDAM5803085"]);
    assert_eq!(a.format, MrzFormat::MrvA);
    assert_eq!(a.composite_check, None);
    assert_eq!(a.optional_data, "1FLNDDDAM5803085");
    assert!(a.is_valid());
    // ICAO 9303 Part 7 MRV-B specimen.
    let b = strict(&["V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<"]);
    assert_eq!(b.format, MrzFormat::MrvB);
    assert_eq!(b.nationality, "XXX");
    assert_eq!(b.birth_date, Date::new(1940, 9, 7));
    assert!(b.checks_pass(), "{:?}", b.checks);
}

#[test]
fn names_and_empty_primary_identifier() {
    let m = strict(&["P<IND<<FIRST<NAME<<<<<<<<<<<<<<<<<<<<<<<<<<<", "C01X0006H1D<<6408125F1710319<<<<<<<<<<<<<<<0"]);
    assert_eq!(m.surname, "");
    assert_eq!(m.given_names, "FIRST NAME");
}

#[test]
fn ocr_noise_is_repaired_only_under_check_digits() {
    let lines = ["IDCHEA1234567<6<<<<<<<<<<<<<<<", "7SIOZSGMZOO90IBCHE<<<<<<<<<<<B", "5M1TH<<J0HN<AL8ERT<<<<<<<<<<<<"];
    let raw = strict(&lines);
    assert!(!raw.checks_pass());
    assert!(raw.repairs.is_empty());
    let m = parse_lines(&lines, ParseOptions::with_repair(today())).expect("parses");
    assert!(m.checks_pass(), "{:?}", m.checks);
    assert_eq!(m.birth_date_raw, "751025");
    assert_eq!(m.expiry_date_raw, "200901");
    assert_eq!(m.surname, "SMITH");
    assert_eq!(m.given_names, "JOHN ALBERT");
    assert!(matches!(
        m.field_status(Field::BirthDate),
        Some(FieldStatus::Repaired { confirmed_by: ConfirmedBy::CheckDigit, .. })
    ));
    assert!(matches!(
        m.field_status(Field::Name),
        Some(FieldStatus::Repaired { confirmed_by: ConfirmedBy::FieldTypeOnly, .. })
    ));

    let td3 = ["P<UT0ERIK55ON<<ANNA<MAR1A<<<<<<<<<<<<<<<<<<<", "L898902C36UTO740BIZZF12041S9ZE184226B<<<<<1O"];
    let m = parse_lines(&td3, ParseOptions::with_repair(today())).expect("parses");
    assert_eq!(m.lines[1], "L898902C36UTO7408122F1204159ZE184226B<<<<<10");
    assert_eq!(m.issuing_state, "UTO");
    assert!(m.is_valid());

    // A genuinely wrong digit is not "repaired" into something else.
    let wrong = ["IDAUT10000999<6<<<<<<<<<<<<<<<", "7109094F1112315AUT<<<<<<<<<<<6", "MUSTERFRAU<<ISOLDE<<<<<<<<<<<<"];
    let m = parse_lines(&wrong, ParseOptions::with_repair(today())).expect("parses");
    assert!(!m.checks_pass());
    assert!(m.repairs.is_empty());
}

#[test]
fn document_number_repair_needs_a_unique_candidate() {
    // `O` read for `0` in the document number: only one swap makes the check pass.
    let lines = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"];
    let mut noisy: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    noisy[1].replace_range(5..6, "O");
    let m = parse_lines(&noisy, ParseOptions::with_repair(today())).expect("parses");
    assert_eq!(m.lines[1], lines[1]);
    assert_eq!(m.repairs.len(), 1);
    assert_eq!(m.repairs[0].field, Field::DocumentNumber);
}

#[test]
fn shape_errors() {
    let o = ParseOptions::strict(today());
    assert_eq!(parse("", o), Err(MrzError::Empty));
    assert_eq!(parse("ABC\nABCD", o), Err(MrzError::RaggedLines { line: 2, expected: 3, found: 4 }));
    assert_eq!(parse("ABC\nABC", o), Err(MrzError::UnknownShape { lines: 2, len: 3 }));
    assert!(matches!(parse(&"a".repeat(44), o), Err(MrzError::InvalidCharacter { line: 1, column: 1 })));
    assert_eq!(parse(&"A".repeat(45), o), Err(MrzError::TooLarge));
    assert_eq!(parse("A\nA\nA\nA", o), Err(MrzError::TooLarge));
    assert_eq!(MrzError::Empty.code(), "mrz_empty");
}
