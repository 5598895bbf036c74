//! Document verification: MRZ (ICAO 9303) parsing and check digits, OCR, authenticity and
//! consistency checks, and ID-number validators. (Being built: see issue 8.)
