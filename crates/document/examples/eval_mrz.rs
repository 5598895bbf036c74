//! `cargo xtask eval mrz --data DIR`: the MRZ parser on `DIR/mrz/mrz_vectors.json` (fields,
//! check digits, agreement with the two oracle parsers) and, with the `ocr` feature, the MRZ
//! read from every image that `image_labels.csv` marks as an exact match (`--locator on|off` and
//! `--growth X` override the reader's defaults, to evaluate a candidate default). The last stdout
//! line is one JSON object with the headline shares.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use trustcap_document::mrz::{CheckKind, Date, Mrz, ParseOptions, parse_lines};

/// How the MRZ reader is set up for the image part (`--locator on|off`, `--growth X`; the
/// reader's defaults otherwise), so a candidate default can be evaluated before it is adopted.
#[derive(Default)]
struct ReadOptions {
    locator: Option<bool>,
    growth: Option<f32>,
}

fn args() -> Result<(PathBuf, PathBuf, ReadOptions), String> {
    let mut data = PathBuf::from("../shared/data");
    let mut out = PathBuf::from("target/eval/mrz");
    let mut read = ReadOptions::default();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => data = it.next().map(PathBuf::from).ok_or("--data needs a value")?,
            "--out" => out = it.next().map(PathBuf::from).ok_or("--out needs a value")?,
            "--locator" => {
                read.locator = Some(match it.next().as_deref() {
                    Some("on") => true,
                    Some("off") => false,
                    _ => return Err("--locator needs on or off".into()),
                })
            }
            "--growth" => {
                let v = it.next().ok_or("--growth needs a value")?;
                read.growth = Some(v.parse().map_err(|_| "--growth needs a number")?);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok((data, out, read))
}

fn check_flag(m: &Mrz, key: &str) -> Option<bool> {
    let kind = match key {
        "document_number" => CheckKind::DocumentNumber,
        "birth_date" => CheckKind::BirthDate,
        "expiry_date" => CheckKind::ExpiryDate,
        "personal_number" => CheckKind::PersonalNumber,
        "composite" => CheckKind::Composite,
        "birth_date_calendar_valid" => return Some(m.birth_date.is_some()),
        "expiry_date_calendar_valid" => return Some(m.expiry_date.is_some()),
        _ => return None,
    };
    m.check(kind).map(|c| c.pass)
}

struct VectorStats {
    icao: usize,
    fields_exact: usize,
    bad_checks: usize,
    bad_caught: usize,
    check_flags: usize,
    check_flags_agree: usize,
    noisy: usize,
    noisy_repaired: usize,
    oracle: BTreeMap<&'static str, (usize, usize)>,
}

fn eval_vectors(dir: &Path, out: &Path) -> Result<(VectorStats, BTreeMap<String, Vec<String>>), String> {
    let path = dir.join("mrz_vectors.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let vectors = doc["vectors"].as_array().ok_or("no vectors array")?;
    // The reference date for century inference: the day the vectors were generated.
    let today = doc["generated"]
        .as_str()
        .and_then(|g| {
            let p: Vec<u16> = g.split('-').filter_map(|x| x.parse().ok()).collect();
            Date::new(*p.first()?, u8::try_from(*p.get(1)?).ok()?, u8::try_from(*p.get(2)?).ok()?)
        })
        .unwrap_or_else(Date::today_utc);
    let mut s = VectorStats {
        icao: 0,
        fields_exact: 0,
        bad_checks: 0,
        bad_caught: 0,
        check_flags: 0,
        check_flags_agree: 0,
        noisy: 0,
        noisy_repaired: 0,
        oracle: BTreeMap::new(),
    };
    let mut lines_by_id = BTreeMap::new();
    let mut report = Vec::new();
    println!("== MRZ vectors ({} in {}) ==", vectors.len(), path.display());
    for v in vectors {
        let id = v["id"].as_str().unwrap_or("?");
        let lines: Vec<String> = v["lines"]
            .as_array()
            .map(|a| a.iter().filter_map(|l| l.as_str().map(String::from)).collect())
            .unwrap_or_default();
        lines_by_id.insert(id.to_string(), lines.clone());
        let format = v["format"].as_str().unwrap_or("?");
        let parsed = parse_lines(&lines, ParseOptions::strict(today));
        let Some(expected) = v["expected_fields"].as_object() else {
            let what = match &parsed {
                Ok(m) => format!("read as {} (checks pass: {})", m.format.name(), m.checks_pass()),
                Err(e) => format!("rejected: {}", e.code()),
            };
            println!("{id} {format:<40} not an ICAO format: {what}");
            report.push(json!({"id": id, "format": format, "icao": false, "result": what}));
            continue;
        };
        s.icao += 1;
        let m = match parsed {
            Ok(m) => m,
            Err(e) => {
                println!("{id} {format:<8} FAILED to parse: {e}");
                report.push(json!({"id": id, "format": format, "error": e.to_string()}));
                continue;
            }
        };
        let map: BTreeMap<&str, String> = m.field_map().into_iter().collect();
        let mut mismatches = Vec::new();
        if m.format.name() != format {
            mismatches.push(format!("format {} != {format}", m.format.name()));
        }
        for (k, want) in expected {
            if k == "long_document_number_check_convention" {
                continue;
            }
            let want = want.as_str().unwrap_or("");
            match map.get(k.as_str()) {
                Some(got) if got == want => {}
                got => mismatches.push(format!("{k}: {got:?} != {want:?}")),
            }
        }
        if mismatches.is_empty() {
            s.fields_exact += 1;
        }
        let mut check_notes = Vec::new();
        if let Some(checks) = v["check_digits"].as_object() {
            for (k, want) in checks {
                let Some(want) = want.as_bool() else { continue };
                let got = check_flag(&m, k);
                s.check_flags += 1;
                if got == Some(want) {
                    s.check_flags_agree += 1;
                } else {
                    check_notes.push(format!("{k}: ours {got:?}, expected {want}"));
                }
                if !want && !k.ends_with("calendar_valid") {
                    s.bad_checks += 1;
                    if got == Some(false) {
                        s.bad_caught += 1;
                    }
                }
            }
        }
        let category = v["category"].as_str().unwrap_or("");
        let mut repaired_note = String::new();
        if category.starts_with("ocr_noise") {
            s.noisy += 1;
            if let Ok(r) = parse_lines(&lines, ParseOptions::with_repair(today)) {
                if r.is_valid() {
                    s.noisy_repaired += 1;
                }
                repaired_note = format!(
                    " | repaired: valid={} ({} chars) {} / {}",
                    r.is_valid(),
                    r.repairs.len(),
                    r.surname,
                    r.given_names
                );
            }
        }
        let ours = m.is_valid();
        let ours_strict = ours && !m.is_specimen();
        let mut oracle_notes = Vec::new();
        for (key, name) in
            [("oracle_cheminfo_mrz_5_0_2", "npm mrz 5.0.2"), ("oracle_python_mrz_0_6_2", "PyPI mrz 0.6.2")]
        {
            let Some(verdict) = v[key]["valid"].as_bool() else { continue };
            // npm mrz rejects the specimen state UTO; compare it with our strict verdict.
            let mine = if key.starts_with("oracle_cheminfo") { ours_strict } else { ours };
            let e = s.oracle.entry(name).or_insert((0, 0));
            e.1 += 1;
            if mine == verdict {
                e.0 += 1;
            } else {
                oracle_notes.push(format!("{name} says valid={verdict}, ours {mine} ({})", v[key]["errors"]));
            }
        }
        println!(
            "{id} {format:<6} fields {} checks {}{}{}",
            if mismatches.is_empty() { "exact" } else { "MISMATCH" },
            if check_notes.is_empty() { "agree" } else { "DIFFER" },
            repaired_note,
            if m.is_specimen() { " [specimen UTO]" } else { "" }
        );
        for n in mismatches.iter().chain(&check_notes) {
            println!("    {n}");
        }
        for n in &oracle_notes {
            println!("    oracle disagreement: {n}");
        }
        report.push(json!({
            "id": id, "format": format, "fields_exact": mismatches.is_empty(), "mismatches": mismatches,
            "check_differences": check_notes, "valid": ours, "specimen": m.is_specimen(),
            "long_number_convention": m.long_number_convention, "oracle_disagreements": oracle_notes,
        }));
    }
    let _ = std::fs::write(out.join("vectors.json"), serde_json::to_string_pretty(&report).unwrap_or_default());
    Ok((s, lines_by_id.into_iter().collect()))
}

fn share(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("eval mrz: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let (data, out, read) = args()?;
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let dir = data.join("mrz");
    let (s, lines_by_id) = eval_vectors(&dir, &out)?;
    println!();
    println!("ICAO vectors: {} / {} parsed to the expected fields", s.fields_exact, s.icao);
    println!("bad check digits caught: {} / {}", s.bad_caught, s.bad_checks);
    println!("check flags (incl. calendar validity) agreeing: {} / {}", s.check_flags_agree, s.check_flags);
    println!("OCR-noise vectors valid after repair: {} / {}", s.noisy_repaired, s.noisy);
    for (name, (agree, total)) in &s.oracle {
        println!("agreement with {name}: {agree} / {total}");
    }
    let images = images::run(&dir, &out, &lines_by_id, &read)?;
    let mut summary = json!({
        "vector_fields_exact": share(s.fields_exact, s.icao),
        "bad_checks_caught": share(s.bad_caught, s.bad_checks),
        "check_flags_agree": share(s.check_flags_agree, s.check_flags),
        "noisy_repaired": share(s.noisy_repaired, s.noisy),
        "icao_vectors": s.icao,
        "bad_checks": s.bad_checks,
    });
    for (name, (agree, total)) in &s.oracle {
        let key = if name.starts_with("npm") { "oracle_npm_mrz_agreement" } else { "oracle_pypi_mrz_agreement" };
        summary[key] = json!(share(*agree, *total));
    }
    for (k, v) in images {
        summary[k] = v;
    }
    println!("{summary}");
    Ok(())
}

#[cfg(not(feature = "ocr"))]
mod images {
    use super::*;

    pub fn run(
        _: &Path,
        _: &Path,
        _: &BTreeMap<String, Vec<String>>,
        _: &ReadOptions,
    ) -> Result<Vec<(&'static str, Value)>, String> {
        println!("images: skipped (built without the `ocr` feature)");
        Ok(vec![("image_lines_exact", Value::Null)])
    }
}

#[cfg(feature = "ocr")]
mod images {
    use super::*;
    use trustcap_document::ocr::{OcrEngine, decode_image};

    /// Splits one CSV line (quotes allowed, no embedded newlines).
    fn csv_fields(line: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => out.push(String::new()),
                _ => {
                    if let Some(last) = out.last_mut() {
                        last.push(c)
                    }
                }
            }
        }
        out
    }

    pub fn run(
        dir: &Path,
        out: &Path,
        vectors: &BTreeMap<String, Vec<String>>,
        options: &ReadOptions,
    ) -> Result<Vec<(&'static str, Value)>, String> {
        let labels = std::fs::read_to_string(dir.join("image_labels.csv")).map_err(|e| e.to_string())?;
        let model_dir = trustcap_vision::model_cache::default_model_dir();
        let mut engine = OcrEngine::from_dir(&model_dir).map_err(|e| e.to_string())?;
        if let Some(on) = options.locator {
            engine.set_mrz_locator(on);
        }
        if let Some(growth) = options.growth {
            engine.set_mrz_locator_growth(growth);
        }
        let today = Date::new(2026, 11, 25).unwrap_or_else(Date::today_utc);
        let (mut lines_total, mut lines_exact, mut images, mut images_exact) = (0usize, 0usize, 0usize, 0usize);
        let mut unlabeled = Vec::new();
        let mut report = Vec::new();
        println!();
        println!("== MRZ read from images marked as exact matches ==");
        for row in labels.lines().skip(1) {
            let f = csv_fields(row);
            let (Some(file), Some(ids), Some(status)) = (f.first(), f.get(2), f.get(3)) else { continue };
            if !status.starts_with("exact") {
                continue;
            }
            let bytes = std::fs::read(dir.join("images").join(file)).map_err(|e| format!("{file}: {e}"))?;
            let img = decode_image(&bytes).map_err(|e| format!("{file}: {e}"))?;
            let t = std::time::Instant::now();
            let read = engine.read_mrz(&img, today).map_err(|e| format!("{file}: {e}"))?;
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let got: Vec<String> = read.as_ref().map(|r| r.mrz.lines.clone()).unwrap_or_default();
            let Some(expected) = vectors.get(ids.as_str()) else {
                let valid = read.as_ref().is_some_and(|r| r.mrz.is_valid());
                println!(
                    "{file}: ground truth {ids} is not in mrz_vectors.json; read {got:?} (check digits pass: {valid}), not counted"
                );
                unlabeled.push(json!({"image": file, "vector": ids, "read": got, "valid": valid}));
                continue;
            };
            // "exact line 2 (line 1 cropped)": only the second line is ground truth.
            let which: Vec<usize> = if status.contains("line 2") { vec![1] } else { (0..expected.len()).collect() };
            images += 1;
            let mut all = true;
            let mut per_line = Vec::new();
            for i in which {
                let want = expected.get(i).cloned().unwrap_or_default();
                // The MRZ line of the same shape: the read's line i, or any read line equal to it.
                let hit = got.get(i) == Some(&want) || got.contains(&want);
                lines_total += 1;
                lines_exact += usize::from(hit);
                all &= hit;
                per_line.push(json!({"line": i + 1, "expected": want, "exact": hit}));
            }
            images_exact += usize::from(all);
            println!(
                "{file}: {} in {ms:.0} ms, rotation {}x90, lines {:?}{}",
                if all { "exact" } else { "MISMATCH" },
                read.as_ref().map_or(0, |r| r.rotation),
                got,
                if all { String::new() } else { format!(" expected {expected:?}") }
            );
            report.push(json!({"image": file, "exact": all, "ms": ms, "read": got, "lines": per_line}));
        }
        let _ = std::fs::write(
            out.join("images.json"),
            serde_json::to_string_pretty(&json!({"images": report, "not_counted": unlabeled})).unwrap_or_default(),
        );
        println!("images exact: {images_exact} / {images}; lines exact: {lines_exact} / {lines_total}");
        Ok(vec![
            ("image_lines_exact", json!(share(lines_exact, lines_total))),
            ("images_exact", json!(share(images_exact, images))),
            ("image_lines", json!(lines_total)),
        ])
    }
}
