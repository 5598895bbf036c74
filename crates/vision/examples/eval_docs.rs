//! `cargo xtask eval docs --data DIR`: document capture quality on real photos.
//!
//! Reads `DIR/docs/derived/labels.csv` (graded versions of a hand-held ID-1 photo) and every photo in
//! `DIR/docs/idcard_photos` and `DIR/docs/paper_photos`. Prints per-image metrics; the ROC AUC of blur
//! detection (positives: every Gaussian- or motion-blurred image) and glare detection (positives: the
//! synthetic-specular images) with the threshold that maximises Youden's J, next to the shipped default
//! threshold; the low-light trap (noise must not make an image look sharper than the clean original);
//! and the share of document photos where a quadrilateral is found. Writes each photo with the detected
//! quadrilateral drawn on it (and its rectified document) as PNGs to `--out` for a person to check.
//! The last line is one JSON object with the headline figures.

use std::path::{Path, PathBuf};

use image::{Rgba, RgbaImage};
use serde_json::json;
use trustcap_vision::document::{DocumentAnalyzer, DocumentReport};
use trustcap_vision::rectify::rectify;
use trustcap_vision::{Frame, QualityThresholds};

struct Args {
    data: PathBuf,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut data = PathBuf::from("../shared/data");
    let mut out = PathBuf::from("target/eval/docs");
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => data = it.next().ok_or("--data needs a folder")?.into(),
            "--out" => out = it.next().ok_or("--out needs a folder")?.into(),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args { data, out })
}

fn load(path: &Path) -> Result<RgbaImage, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(image::load_from_memory(&bytes).map_err(|e| format!("{}: {e}", path.display()))?.to_rgba8())
}

fn analyze(img: &RgbaImage) -> Result<DocumentReport, String> {
    let frame = Frame::packed(img.as_raw(), img.width(), img.height()).map_err(|e| e.to_string())?;
    Ok(DocumentAnalyzer::new().analyze(&frame))
}

/// Area under the ROC curve of `scores` (higher = more likely positive) against `labels`, by pair counting
/// (ties count one half).
fn auc(scores: &[f64], labels: &[bool]) -> f64 {
    let (mut wins, mut pairs) = (0.0, 0.0);
    for (i, &si) in scores.iter().enumerate() {
        for (j, &sj) in scores.iter().enumerate() {
            if labels[i] && !labels[j] {
                pairs += 1.0;
                wins += if si > sj {
                    1.0
                } else if si == sj {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    if pairs == 0.0 { f64::NAN } else { wins / pairs }
}

/// The threshold (midpoint between adjacent scores) maximising Youden's J = TPR − FPR for "score ≥ t
/// means positive", with its TPR and FPR.
fn youden(scores: &[f64], labels: &[bool]) -> (f64, f64, f64) {
    let mut sorted: Vec<f64> = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    let mut best = (f64::NAN, -1.0, 0.0, 0.0);
    for k in 0..=sorted.len() {
        let t = match k {
            0 => sorted[0] - 1.0,
            k if k == sorted.len() => sorted[k - 1] + 1.0,
            k => (sorted[k - 1] + sorted[k]) / 2.0,
        };
        let tp = scores.iter().zip(labels).filter(|(s, l)| **l && **s >= t).count() as f64;
        let fp = scores.iter().zip(labels).filter(|(s, l)| !**l && **s >= t).count() as f64;
        let (tpr, fpr) = (tp / positives, fp / negatives);
        if tpr - fpr > best.1 {
            best = (t, tpr - fpr, tpr, fpr);
        }
    }
    (best.0, best.2, best.3)
}

fn draw_quad(img: &mut RgbaImage, report: &DocumentReport) {
    let Some(b) = &report.boundary else { return };
    let thickness = (img.width().max(img.height()) / 300).max(2) as i64;
    let colour = Rgba([255, 40, 40, 255]);
    for i in 0..4 {
        let (a, c) = (b.quad.corners[i], b.quad.corners[(i + 1) % 4]);
        let steps = (a.distance(c) as usize).max(1);
        for k in 0..=steps {
            let t = k as f64 / steps as f64;
            let (x, y) = ((a.x + (c.x - a.x) * t) as i64, (a.y + (c.y - a.y) * t) as i64);
            for dy in -thickness..=thickness {
                for dx in -thickness..=thickness {
                    let (px, py) = (x + dx, y + dy);
                    if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                        img.put_pixel(px as u32, py as u32, colour);
                    }
                }
            }
        }
    }
}

fn save_outputs(out: &Path, name: &str, img: &RgbaImage, report: &DocumentReport) -> Result<(), String> {
    let mut drawn = img.clone();
    draw_quad(&mut drawn, report);
    // Keep the PNGs a reasonable size for a person to open.
    let scale = (1280.0 / f64::from(drawn.width().max(drawn.height()))).min(1.0);
    let (w, h) = ((f64::from(drawn.width()) * scale) as u32, (f64::from(drawn.height()) * scale) as u32);
    let small = image::imageops::resize(&drawn, w.max(1), h.max(1), image::imageops::FilterType::Triangle);
    let stem = name.replace(['/', '.'], "_");
    small.save(out.join(format!("{stem}_quad.png"))).map_err(|e| e.to_string())?;
    if let Some(b) = &report.boundary {
        let frame = Frame::packed(img.as_raw(), img.width(), img.height()).map_err(|e| e.to_string())?;
        let rect = rectify(&frame, &b.quad, b.format, b.portrait).map_err(|e| format!("{e:?}"))?;
        let out_img = RgbaImage::from_raw(rect.width, rect.height, rect.rgba).ok_or("rectified size")?;
        out_img.save(out.join(format!("{stem}_rectified.png"))).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Naive focus measure for comparison: variance of the 4-neighbour Laplacian on full-resolution luma.
fn naive_laplacian_variance(img: &RgbaImage) -> f64 {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let luma: Vec<f64> =
        img.pixels().map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])).collect();
    let (mut s, mut s2, mut n) = (0.0, 0.0, 0.0);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let l = luma[i - 1] + luma[i + 1] + luma[i - w] + luma[i + w] - 4.0 * luma[i];
            s += l;
            s2 += l * l;
            n += 1.0;
        }
    }
    s2 / n - (s / n) * (s / n)
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let docs = args.data.join("docs");
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    let thresholds = QualityThresholds::default();

    println!("Document capture quality on {}", docs.display());
    println!("\nGraded photos (derived/labels.csv): metrics inside the detected document");
    println!(
        "{:<34} {:>6} {:>8} {:>8} {:>7} {:>7} {:>6} {:>9} {:>7}  guidance",
        "image", "quad", "sharp", "noise", "glare%", "mean", "contr", "naive_lap", "blur?"
    );
    let labels = std::fs::read_to_string(docs.join("derived/labels.csv")).map_err(|e| format!("labels.csv: {e}"))?;
    let (mut blur_scores, mut blur_labels, mut glare_scores, mut glare_labels) = (vec![], vec![], vec![], vec![]);
    let (mut sharp_score, mut lowlight_score, mut sharp_naive, mut lowlight_naive) = (f64::NAN, f64::NAN, 0.0, 0.0);
    let mut lowlight_guidance = String::new();
    let mut quad_total = 0usize;
    let mut quad_found = 0usize;
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (Some(file), Some(transform)) = (cols.first(), cols.get(2)) else { continue };
        let img = load(&docs.join(file))?;
        let report = analyze(&img)?;
        let q = &report.quality;
        let is_blur = transform.contains("blur");
        let is_glare = transform.contains("glare");
        let naive = naive_laplacian_variance(&img);
        quad_total += 1;
        quad_found += usize::from(report.boundary.is_some());
        println!(
            "{:<34} {:>6} {:>8.3} {:>8.2} {:>7.2} {:>7.1} {:>6.1} {:>9.1} {:>7}  {}",
            file.trim_start_matches("derived/"),
            report.boundary.map(|b| format!("{:.2}", b.confidence)).unwrap_or_else(|| "-".into()),
            q.sharpness.score,
            q.sharpness.noise,
            100.0 * f64::from(report.glare.area_share),
            q.exposure.mean,
            q.exposure.contrast,
            naive,
            if is_blur { "yes" } else { "no" },
            report.reasons.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(",")
        );
        blur_scores.push(1.0 - f64::from(q.sharpness.score));
        blur_labels.push(is_blur);
        glare_scores.push(f64::from(report.glare.area_share));
        glare_labels.push(is_glare);
        if transform == &"none" {
            sharp_score = f64::from(q.sharpness.score);
            sharp_naive = naive;
        }
        if transform.starts_with("gamma") {
            lowlight_score = f64::from(q.sharpness.score);
            lowlight_naive = naive;
            lowlight_guidance = report.guidance.as_str().to_owned();
        }
        save_outputs(&args.out, file, &img, &report)?;
    }
    let blur_auc = auc(&blur_scores, &blur_labels);
    let (blur_t, blur_tpr, blur_fpr) = youden(&blur_scores, &blur_labels);
    let glare_auc = auc(&glare_scores, &glare_labels);
    let (glare_t, glare_tpr, glare_fpr) = youden(&glare_scores, &glare_labels);
    let default_blur_tp = blur_scores
        .iter()
        .zip(&blur_labels)
        .filter(|(s, l)| **l == (1.0 - **s < f64::from(thresholds.min_sharpness)))
        .count();
    let default_glare_tp =
        glare_scores.iter().zip(&glare_labels).filter(|(s, l)| **l == (**s > f64::from(thresholds.max_glare))).count();
    println!("\nBlur (positives: Gaussian σ 1–8 and motion 9–41 px; score 1 − sharpness)");
    println!(
        "  ROC AUC {blur_auc:.3}; best threshold: sharpness < {:.3} (TPR {blur_tpr:.2}, FPR {blur_fpr:.2})",
        1.0 - blur_t
    );
    println!(
        "  shipped threshold sharpness < {:.2}: {default_blur_tp}/{} images classified correctly",
        thresholds.min_sharpness,
        blur_scores.len()
    );
    println!("Glare (positives: synthetic specular glare; score: glare share of the document area)");
    println!(
        "  ROC AUC {glare_auc:.3}; best threshold: glare > {:.4} (TPR {glare_tpr:.2}, FPR {glare_fpr:.2})",
        glare_t
    );
    println!(
        "  shipped threshold glare > {:.3}: {default_glare_tp}/{} images classified correctly",
        thresholds.max_glare,
        glare_scores.len()
    );
    let trap_passed = lowlight_score <= sharp_score;
    println!("Low-light trap (gamma 2.2 × 0.5 + noise σ 6)");
    println!(
        "  naive Laplacian variance: lowlight {lowlight_naive:.1} vs clean {sharp_naive:.1} ({}); ours: lowlight {lowlight_score:.3} vs clean {sharp_score:.3} ({}); guidance on lowlight: {lowlight_guidance}",
        if lowlight_naive > sharp_naive { "fooled: noise looks sharper" } else { "not fooled" },
        if trap_passed { "not fooled" } else { "FOOLED" }
    );

    println!("\nDocument photos (boundary)");
    let mut photos = Vec::new();
    for sub in ["idcard_photos", "paper_photos"] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(docs.join(sub))
            .map_err(|e| format!("{sub}: {e}"))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png" || x == "jpeg"))
            .collect();
        entries.sort();
        photos.extend(entries.into_iter().map(|p| (sub, p)));
    }
    let mut photo_found = 0usize;
    for (sub, path) in &photos {
        let img = load(path)?;
        let report = analyze(&img)?;
        let name = format!("{sub}/{}", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
        photo_found += usize::from(report.boundary.is_some());
        match &report.boundary {
            Some(b) => println!(
                "  {name:<48} {}x{}: quad conf {:.2}, format {}, fill {:.2}, tilt {:.2}; guidance {}",
                img.width(),
                img.height(),
                b.confidence,
                b.format.as_str(),
                b.fill,
                b.tilt,
                report.guidance.as_str()
            ),
            None => println!("  {name:<48} {}x{}: no quadrilateral", img.width(), img.height()),
        }
        save_outputs(&args.out, &name, &img, &report)?;
    }
    let quad_share = photo_found as f64 / photos.len().max(1) as f64;
    println!(
        "  quadrilateral found on {photo_found}/{} document photos ({:.0}%); on {quad_found}/{quad_total} graded versions",
        photos.len(),
        100.0 * quad_share
    );
    println!("  PNGs with the quadrilateral drawn, and the rectified documents: {}", args.out.display());
    println!(
        "{}",
        json!({
            "blur_auc": blur_auc,
            "blur_threshold_sharpness": 1.0 - blur_t,
            "glare_auc": glare_auc,
            "glare_threshold": glare_t,
            "quad_found": quad_share,
            "quad_found_graded": quad_found as f64 / quad_total.max(1) as f64,
            "lowlight_trap_passed": trap_passed,
            "images": quad_total + photos.len(),
        })
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("eval docs: {e}");
        std::process::exit(1);
    }
}
