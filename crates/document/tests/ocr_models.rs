//! The OCR pipeline with the real PP-OCR models (from `TRUSTCAP_MODEL_DIR` or the cache) on a
//! synthetic specimen made for this crate (`fixtures/synthetic_td3.jpg`, DejaVu Sans Mono MRZ),
//! upright and at the three other quarter turns.
#![cfg(feature = "ocr")]

use image::RgbImage;
use trustcap_document::mrz::Date;
use trustcap_document::ocr::{OcrEngine, decode_image, rotate};

const LINES: [&str; 2] =
    ["P<CHETESTER<<JANE<MARIE<<<<<<<<<<<<<<<<<<<<<", "X123456785CHE8803023F3101012<<<<<<<<<<<<<<<0"];

/// The engine with the real models, the synthetic specimen and the reference date of the reads.
fn engine_and_specimen() -> (OcrEngine, RgbImage, Date) {
    let dir = trustcap_vision::model_cache::default_model_dir();
    let engine = OcrEngine::from_dir(&dir).expect("PP-OCR models (run `cargo xtask models`)");
    let img = decode_image(include_bytes!("fixtures/synthetic_td3.jpg")).expect("fixture decodes");
    (engine, img, Date::new(2026, 11, 26).expect("date"))
}

#[test]
fn reads_the_mrz_at_every_rotation() {
    let (mut engine, img, today) = engine_and_specimen();
    for turns in 0..4u8 {
        let photo = rotate(&img, turns);
        let read = engine.read_mrz(&photo, today).expect("ocr runs").expect("an MRZ is found");
        assert_eq!(read.mrz.lines, LINES, "rotation {turns}: raw {:?}", read.raw_lines);
        assert!(read.mrz.is_valid());
        assert_eq!((read.rotation + turns) % 4, 0, "the read rotation undoes the applied one");
    }
    // Visual-zone text is read too.
    let lines = engine.read_lines(&img).expect("ocr runs");
    assert!(lines.iter().any(|l| l.text.contains("TESTER")), "{lines:?}");
    // No MRZ on a blank page.
    let blank = RgbImage::from_pixel(600, 400, image::Rgb([240, 240, 240]));
    assert!(engine.read_mrz(&blank, today).expect("ocr runs").is_none());
    // Garbage bytes are a typed error.
    assert!(decode_image(b"not an image").is_err());
}

#[test]
fn an_upright_photo_is_read_from_the_located_band_without_the_detector() {
    let (mut engine, img, today) = engine_and_specimen();
    let read = engine.read_mrz(&img, today).expect("ocr runs").expect("an MRZ is found");
    assert_eq!(read.mrz.lines, LINES);
    let stages: Vec<&str> = engine.take_timings().into_iter().map(|(stage, _, _)| stage).collect();
    assert!(stages.iter().any(|s| s.starts_with("locate")), "{stages:?}");
    assert!(!stages.iter().any(|s| s.starts_with("det")), "the detector ran: {stages:?}");

    // With the locator off, the same read starts with the detector.
    engine.set_mrz_locator(false);
    let read = engine.read_mrz(&img, today).expect("ocr runs").expect("an MRZ is found");
    assert_eq!(read.mrz.lines, LINES);
    let stages: Vec<&str> = engine.take_timings().into_iter().map(|(stage, _, _)| stage).collect();
    assert!(stages.iter().any(|s| s.starts_with("det")), "{stages:?}");
    assert!(!stages.iter().any(|s| s.starts_with("locate")), "{stages:?}");
}
