//! Visual-zone extraction with the real PP-OCR models (from `TRUSTCAP_MODEL_DIR` or the cache)
//! on the synthetic specimen `fixtures/synthetic_td3.jpg` (labels above values, TD3 MRZ).
#![cfg(feature = "ocr")]

use trustcap_document::checks::{DocumentChecks, DocumentInput, MemorySeen, Outcome};
use trustcap_document::mrz::Date;
use trustcap_document::ocr::{OcrEngine, decode_image};
use trustcap_document::viz::{self, OcrLine};

#[test]
fn reads_the_visual_zone_and_agrees_with_the_mrz() {
    let dir = trustcap_vision::model_cache::default_model_dir();
    let mut engine = OcrEngine::from_dir(&dir).expect("PP-OCR models (run `cargo xtask models`)");
    let img = decode_image(include_bytes!("fixtures/synthetic_td3.jpg")).expect("fixture decodes");
    let today = Date::new(2026, 11, 26).expect("date");
    let read = engine.read_mrz(&img, today).expect("ocr runs").expect("an MRZ is found");
    let lines: Vec<OcrLine> = engine.read_lines(&img).expect("ocr runs").iter().map(OcrLine::from).collect();

    // Labels alone, without the MRZ.
    let f = viz::extract(&lines, None);
    assert_eq!(f.surname.as_deref(), Some("TESTER"), "{lines:?}");
    assert_eq!(f.given_names.as_deref(), Some("JANE MARIE"));
    assert_eq!(f.birth_date, Date::new(1988, 3, 2), "{lines:?}");
    assert_eq!(f.document_number.as_deref(), Some("X12345678"));
    assert_eq!(f.expiry_date, Date::new(2031, 1, 1));

    // Wired into the document checks: every MRZ-versus-VIZ comparison runs and passes.
    let f = viz::extract(&lines, Some(&read.mrz));
    let input = DocumentInput {
        mrz: Some(&read.mrz),
        visual: f.to_visual(Some(&read.mrz)),
        applicant: Default::default(),
        policy: Default::default(),
        signals: None,
        today,
    };
    let report = DocumentChecks::run(&input, &MemorySeen::default());
    for check in
        ["mrz_vs_visual_name", "mrz_vs_visual_birth_date", "mrz_vs_visual_document_number", "mrz_vs_visual_expiry_date"]
    {
        assert_eq!(report.get(check).map(|r| r.outcome), Some(Outcome::Pass), "{check}: {report:?}");
    }
}
