//! Importers on small list files written here: every format imports into the entity model,
//! bad records are reported instead of aborting, and versions are recorded.

use trustcap_screening::import::{ImportOptions, bis, csl, eu, ftm, ofac, senzing, uk, un};
use trustcap_screening::{BirthDate, EntityKind, Gender, ListSource, NameStrength};

fn opts() -> ImportOptions {
    ImportOptions::default()
}

const SDN: &str = "10278,\"LOGAN MOREY, Elvis Angus\",\"individual\",\"SDNT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 28 Jul 1963; POB Toledo District, Belize; nationality Belize; Gender Male; Passport P0017003 (Belize); a.k.a. 'BURTON BURGESS'.\"\n\
11195,\"IRAN AIRCRAFT MANUFACTURING INDUSTRIAL COMPANY\",-0- ,\"NPWMD] [IFSR\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Registration Number 26740 (Iran); a.k.a. 'HESA'\"\n\
abc,\"BROKEN ROW\",\"individual\",\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n\
15102,-0- ,\"individual\",\"SDNTK\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n\
\u{1a}\n";
const ALT: &str = "11195,11591,\"aka\",\"HESA TRADE CENTER\",-0- \n99999,1,\"aka\",\"NOBODY\",-0- \n";
const ADD: &str = "10278,13948,-0- ,-0- ,-0- ,-0- \n";
const COMMENTS: &str = "11195,\"; a.k.a. 'IAMI'.\"\n";

#[test]
fn ofac_legacy_csv() {
    let files = ofac::OfacFiles {
        main: SDN.as_bytes(),
        alt: Some(ALT.as_bytes()),
        add: Some(ADD.as_bytes()),
        comments: Some(COMMENTS.as_bytes()),
    };
    let r = ofac::import(ListSource::OfacSdn, files, &opts()).expect("import");
    assert_eq!(r.entities.len(), 2);
    let logan = &r.entities[0];
    assert_eq!(logan.id.0, "ofac-sdn:10278");
    assert_eq!(logan.kind, EntityKind::Person);
    assert_eq!(logan.names[0].parts.family.as_deref(), Some("LOGAN MOREY"));
    assert_eq!(logan.names[1].strength, NameStrength::Weak);
    assert_eq!(logan.birth_dates, vec![BirthDate::Full { year: 1963, month: 7, day: 28 }]);
    assert_eq!(logan.gender, Some(Gender::Male));
    assert_eq!(logan.identifiers[0].normalized, "P0017003");
    let iran = &r.entities[1];
    assert_eq!(iran.kind, EntityKind::Organization);
    assert_eq!(iran.programs, vec!["NPWMD", "IFSR"]);
    assert!(iran.names.iter().any(|n| n.full == "HESA TRADE CENTER" && n.strength == NameStrength::Strong));
    // The comments file continues the remarks: its weak alias is found.
    assert!(iran.names.iter().any(|n| n.full == "IAMI" && n.strength == NameStrength::Weak));
    assert!(iran.names.iter().any(|n| n.full == "HESA" && n.strength == NameStrength::Weak));
    // Bad rows: non-numeric id, entity without a name, alias of an unknown entity.
    assert_eq!(r.bad_row_count, 3, "{:?}", r.bad_rows);
    assert!(r.bad_rows.iter().any(|b| b.file == "alt" && b.reason.contains("99999")));
    assert!(r.version.version.starts_with("sha256:"));
    assert_eq!(&*logan.list_version, format!("ofac-sdn@{}", r.version.version));
}

#[test]
fn caller_version_wins() {
    let files = ofac::OfacFiles { main: SDN.as_bytes(), alt: None, add: None, comments: None };
    let options = ImportOptions { version: Some("2021-06-01".into()), ..opts() };
    let r = ofac::import(ListSource::OfacSdn, files, &options).expect("import");
    assert_eq!(r.version.version, "2021-06-01");
    assert_eq!(r.version.sha256.len(), 64);
}

#[test]
fn input_limit_is_enforced() {
    let files = ofac::OfacFiles { main: SDN.as_bytes(), alt: None, add: None, comments: None };
    let mut options = opts();
    options.limits.max_input_bytes = 100;
    assert!(ofac::import(ListSource::OfacSdn, files, &options).is_err());
}

const UN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">
<INDIVIDUALS>
<INDIVIDUAL><DATAID>6907993</DATAID><FIRST_NAME>ERIC</FIRST_NAME><SECOND_NAME>BADEGE</SECOND_NAME>
<UN_LIST_TYPE>DRC</UN_LIST_TYPE><GENDER>Male</GENDER>
<NATIONALITY><VALUE>Democratic Republic of the Congo</VALUE></NATIONALITY>
<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Eric Badégé</ALIAS_NAME></INDIVIDUAL_ALIAS>
<INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Commander E</ALIAS_NAME></INDIVIDUAL_ALIAS>
<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>1971</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1970</FROM_YEAR><TO_YEAR>1972</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>
<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1971-13-45</DATE></INDIVIDUAL_DATE_OF_BIRTH>
<INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>OB 0123456</NUMBER></INDIVIDUAL_DOCUMENT>
<NAME_ORIGINAL_SCRIPT>Эрик Бадеге</NAME_ORIGINAL_SCRIPT>
</INDIVIDUAL>
<INDIVIDUAL><FIRST_NAME>NO ID</FIRST_NAME></INDIVIDUAL>
</INDIVIDUALS>
<ENTITIES><ENTITY><DATAID>1</DATAID><FIRST_NAME>AL-QAIDA &amp; CO</FIRST_NAME>
<ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>The Base</ALIAS_NAME></ENTITY_ALIAS></ENTITY></ENTITIES>
</CONSOLIDATED_LIST>"#;

#[test]
fn un_xml() {
    let r = un::import(UN.as_bytes(), &opts()).expect("import");
    assert_eq!(r.version.version, "2026-02-27T00:00:09.554Z");
    assert_eq!(r.entities.len(), 2);
    let eric = &r.entities[0];
    assert_eq!(eric.names[0].full, "ERIC BADEGE");
    assert!(eric.names.iter().any(|n| n.full == "Commander E" && n.strength == NameStrength::Weak));
    assert!(eric.names.iter().any(|n| n.full == "Эрик Бадеге"));
    assert_eq!(eric.birth_dates.len(), 2);
    assert_eq!(eric.nationalities[0].iso2(), Some("CD"));
    assert_eq!(eric.identifiers[0].normalized, "OB0123456");
    assert_eq!(r.entities[1].names[0].full, "AL-QAIDA & CO");
    assert_eq!(r.entities[1].kind, EntityKind::Organization);
    // One entry without an id, one unreadable birth date.
    assert_eq!(r.bad_row_count, 2, "{:?}", r.bad_rows);
}

#[test]
fn un_xml_cut_short_keeps_what_was_read() {
    let cut = &UN[..UN.find("<ENTITIES>").expect("entities") + 40];
    let r = un::import(cut.as_bytes(), &opts()).expect("import");
    assert!(r.truncated);
    assert_eq!(r.entities.len(), 1);
    let r = un::import("<a><b></a>".as_bytes(), &opts()).expect("import");
    assert!(r.truncated && r.entities.is_empty() && r.bad_row_count == 1);
}

#[test]
fn bis_dpl() {
    let text = "\"Name\"\t\"Street_Address\"\t\"City\"\t\"State\"\t\"Country\"\t\"Postal_Code\"\t\"Effective_Date\"\n\
\"ABDULAH AL NASSER\"\t\"605 TRAIL\"\t\"RICHARDSON\"\t\"TX\"\t\"US\"\t\"75081\"\t\"03/04/2002\"\n\
\"ABDULAH AL NASSER\"\t\"908 AUDELIA\"\t\"RICHARDSON\"\t\"TX\"\t\"CA\"\t\"75081\"\t\"03/04/2002\"\n\
\"\"\t\"nowhere\"\t\"\"\t\"\"\t\"\"\t\"\"\t\"01/01/2000\"\n";
    let r = bis::import(text.as_bytes(), &opts()).expect("import");
    assert_eq!(r.entities.len(), 1);
    assert_eq!(r.entities[0].nationalities.len(), 2);
    assert_eq!(r.bad_row_count, 1);
}

#[test]
fn csl_csv() {
    let text = "source,entity_number,type,programs,name,alt_names,dates_of_birth,nationalities,citizenships,ids\n\
Specially Designated Nationals (SDN) - Treasury Department,20264,Entity,SDNTK,200G PSA HOLDINGS LLC,\"200G; PSA\",,,,\"US, 80-0890696, Tax ID No.\"\n\
Nonproliferation Sanctions (ISN) - State Department,,Individual,INKSNA,Jane Roe,,1962; bad date,IR,,\n\
x,,,,,,,,,\n";
    let r = csl::import(text.as_bytes(), &opts()).expect("import");
    assert_eq!(r.entities.len(), 2);
    assert_eq!(r.entities[0].identifiers[0].normalized, "800890696");
    assert_eq!(r.entities[0].names.len(), 3);
    assert_eq!(r.entities[1].kind, EntityKind::Person);
    assert_eq!(r.entities[1].birth_dates, vec![BirthDate::Year { year: 1962 }]);
    assert_eq!(r.bad_row_count, 2, "{:?}", r.bad_rows);
}

#[test]
fn ftm_json_lines() {
    let text = r#"{"id":"NK-1","schema":"Person","properties":{"name":["Vitaly Yurievich KUZMENKO","Виталий Юрьевич КУЗЬМЕНКО"],"weakAlias":["Vit"],"firstName":["Vitaly"],"lastName":["KUZMENKO"],"birthDate":["1971-01-22"],"nationality":["ru"],"gender":["male"],"taxNumber":["366510784303"]}}
{"id":"addr-1","schema":"Address","properties":{"full":["Somewhere"]}}
not json
{"schema":"Person","properties":{"name":["No Id"]}}
{"id":"NK-2","schema":"Company","properties":{"name":["LLC Inter Tobacco"],"country":["by"]}}
"#;
    let r = ftm::import(text.as_bytes(), &opts()).expect("import");
    assert_eq!(r.entities.len(), 2);
    assert_eq!(r.skipped, 1);
    assert_eq!(r.bad_row_count, 2);
    let p = &r.entities[0];
    assert_eq!(p.names[0].parts.family.as_deref(), Some("KUZMENKO"));
    assert!(p.names.iter().any(|n| n.full == "Vit" && n.strength == NameStrength::Weak));
    assert_eq!(p.gender, Some(Gender::Male));
    assert_eq!(r.entities[1].nationalities[0].iso2(), Some("BY"));
}

#[test]
fn ftm_overlong_line_is_a_bad_row() {
    let mut options = opts();
    options.limits.max_field_chars = 4;
    let long =
        format!("{{\"id\":\"x\",\"schema\":\"Person\",\"properties\":{{\"name\":[\"{}\"]}}}}\n", "a".repeat(5000));
    let r = ftm::import(long.as_bytes(), &options).expect("import");
    assert_eq!((r.entities.len(), r.bad_row_count), (0, 1));
}

#[test]
fn senzing_array_and_lines() {
    let array = r#"[{"DATA_SOURCE":"PEP","RECORD_ID":"Q1","RECORD_TYPE":"PERSON","NAME_FIRST":"John","NAME_LAST":"Smith","DATE_OF_BIRTH":"1965-03-15","NATIONALITY":"US"},
{"RECORD_TYPE":"PERSON","NAME_FULL":"No Id"}]"#;
    let r = senzing::import(array.as_bytes(), &opts()).expect("import");
    assert_eq!(r.entities.len(), 1);
    assert_eq!(r.entities[0].names[0].full, "John Smith");
    assert_eq!(r.bad_row_count, 1);
    let lines = r#"{"RECORD_ID":"A","RECORD_TYPE":"ORGANIZATION","NAMES":[{"NAME_TYPE":"PRIMARY","NAME_ORG":"Acme Ltd"}],"COUNTRIES":[{"NATIONALITY":"gb"}]}"#;
    let r = senzing::import(lines.as_bytes(), &opts()).expect("import");
    assert_eq!(r.entities[0].kind, EntityKind::Organization);
    assert_eq!(r.entities[0].nationalities[0].iso2(), Some("GB"));
}

const EU: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="2024-05-30T18:00:03.467+02:00" globalFileId="1">
<sanctionEntity designationDetails="" unitedNationId="" euReferenceNumber="EU.27.28" logicalId="13">
  <regulation programme="IRQ" logicalId="1"/>
  <subjectType code="person" classificationCode="P"/>
  <nameAlias firstName="Saddam" middleName="" lastName="Hussein Al-Tikriti" wholeName="Saddam Hussein Al-Tikriti" gender="M" strong="true" logicalId="17"/>
  <nameAlias wholeName="Abu Ali" strong="false" logicalId="18"/>
  <citizenship countryIso2Code="IQ" countryDescription="IRAQ"/>
  <birthdate circa="false" birthdate="1937-04-28" dayOfMonth="28" monthOfYear="4" year="1937" countryIso2Code="IQ"/>
  <birthdate circa="true" year="1940"/>
  <identification number="123456" identificationTypeCode="passport" identificationTypeDescription="National passport" countryIso2Code="IQ"/>
</sanctionEntity>
<sanctionEntity logicalId="14">
  <subjectType code="enterprise" classificationCode="E"/>
  <nameAlias wholeName="Example Trading LLC" strong="true"/>
  <birthdate birthdate="1999-02-31"/>
</sanctionEntity>
<sanctionEntity logicalId="15"><subjectType code="person"/></sanctionEntity>
</export>"#;

#[test]
fn eu_fsf_xml() {
    let r = eu::import(EU.as_bytes(), &opts()).expect("import");
    assert_eq!(r.version.version, "2024-05-30T18:00:03.467+02:00");
    assert_eq!(r.entities.len(), 2);
    let s = &r.entities[0];
    assert_eq!(s.id.0, "eu-fsf:13");
    assert_eq!(s.kind, EntityKind::Person);
    assert_eq!(s.names[0].parts.given.as_deref(), Some("Saddam"));
    assert_eq!(s.names[1].strength, NameStrength::Weak);
    assert_eq!(s.gender, Some(Gender::Male));
    assert_eq!(
        s.birth_dates,
        vec![BirthDate::Full { year: 1937, month: 4, day: 28 }, BirthDate::Range { from: 1939, to: 1941 }]
    );
    assert_eq!(s.nationalities[0].iso2(), Some("IQ"));
    assert_eq!(s.identifiers[0].kind, "National passport");
    assert_eq!(s.programs, vec!["IRQ"]);
    assert_eq!(r.entities[1].kind, EntityKind::Organization);
    // An impossible birth date and an entity without a name.
    assert_eq!(r.bad_row_count, 2, "{:?}", r.bad_rows);
}

const UK: &str = "Last Updated,01/02/2024\n\
Name 6,Name 1,Name 2,Name 3,Name 4,Name 5,Title,Name Non-Latin Script,Non-Latin Script Type,Non-Latin Script Language,DOB,Town of Birth,Country of Birth,Nationality,Passport Number,Passport Details,National Identification Number,National Identification Details,Position,Address 1,Address 2,Address 3,Address 4,Address 5,Address 6,Post/Zip Code,Country,Other Information,Group Type,Alias Type,Alias Quality,Regime,Listed On,UK Sanctions List Date Designated,Last Updated,Group ID\n\
ROTENBERG,Arkady,Romanovich,,,,,Аркадий Романович РОТЕНБЕРГ,Cyrillic,Russian,15/12/1951,Leningrad,Russia,Russia,,,,,,,,,,,,,,,Individual,Primary name,,Russia,16/03/2022,,,14185\n\
ROTENBERG,Arkadiy,,,,,,,,,00/00/1951,,,(1) Russia (2) Finland,,,,,,,,,,,,,,,Individual,AKA,Good quality,Russia,,,,14185\n\
ROTENBERG,Arkasha,,,,,,,,,31/02/1951,,,,,,,,,,,,,,,,,,Individual,AKA,Low quality,Russia,,,,14185\n\
,,,,,,,,,,,,,,,,,,,,,,,,,,,,Entity,Primary name,,Russia,,,,99\n\
GAZPROMBANK,,,,,,,,,,,,,,,,,,,,,,,,,,,,Entity,Primary name,,Russia,,,,200\n";

#[test]
fn uk_ofsi_csv() {
    let r = uk::import(UK.as_bytes(), &opts()).expect("import");
    assert_eq!(r.version.version, "01/02/2024");
    assert_eq!(r.entities.len(), 2);
    let a = &r.entities[0];
    assert_eq!(a.id.0, "uk-ofsi:14185");
    assert_eq!(a.names[0].full, "Arkady Romanovich ROTENBERG");
    assert_eq!(a.names[0].parts.family.as_deref(), Some("ROTENBERG"));
    assert!(a.names.iter().any(|n| n.full == "Аркадий Романович РОТЕНБЕРГ"));
    assert!(a.names.iter().any(|n| n.full == "Arkasha ROTENBERG" && n.strength == NameStrength::Weak));
    assert_eq!(a.nationalities.len(), 2);
    assert_eq!(a.birth_dates.len(), 2);
    assert_eq!(r.entities[1].kind, EntityKind::Organization);
    // A row without a name, an impossible date.
    assert_eq!(r.bad_row_count, 2, "{:?}", r.bad_rows);
}

#[test]
fn garbage_never_panics() {
    let junk: &[&[u8]] = &[b"", b"\xff\xfe\x00garbage", b"<<<>>>", b"[1,2", b"\"unterminated", b"{\"id\":1}"];
    for j in junk {
        let _ = un::import(*j, &opts());
        let _ = eu::import(*j, &opts());
        let _ = ftm::import(*j, &opts());
        let _ = senzing::import(*j, &opts());
        let _ = csl::import(*j, &opts());
        let _ = bis::import(*j, &opts());
        let _ = uk::import(*j, &opts());
        let files = ofac::OfacFiles { main: *j, alt: Some(*j), add: Some(*j), comments: Some(*j) };
        let _ = ofac::import(ListSource::OfacSdn, files, &opts());
    }
}

#[test]
fn load_dir_reads_the_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sdn = dir.path().join("ofac_sdn_2021");
    std::fs::create_dir_all(&sdn).expect("mkdir");
    std::fs::write(sdn.join("sdn.csv"), SDN).expect("write");
    std::fs::write(sdn.join("alt.csv"), ALT).expect("write");
    std::fs::create_dir_all(dir.path().join("un")).expect("mkdir");
    std::fs::write(dir.path().join("un").join("list.xml"), UN).expect("write");
    std::fs::create_dir_all(dir.path().join("eu")).expect("mkdir");
    std::fs::write(dir.path().join("eu").join("fsf.xml"), EU).expect("write");
    let reports = trustcap_screening::import::dir::load_dir(dir.path()).expect("load");
    let sources: Vec<ListSource> = reports.iter().map(|r| r.version.source).collect();
    assert_eq!(sources, vec![ListSource::OfacSdn, ListSource::UnConsolidated, ListSource::EuFsf]);
}
