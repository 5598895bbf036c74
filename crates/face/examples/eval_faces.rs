//! `cargo xtask eval faces --data DIR`: face-match accuracy on `DIR/faces/pairs.csv`.
//!
//! Every photo is analysed once (detection, alignment, quality checks, embedding); for each
//! labelled pair the Euclidean distance is computed. Prints ROC figures (AUC, EER, TAR at FAR
//! 1% and 0.1%) for all pairs with two embeddings and for pairs that pass the quality gates,
//! fits the calibration (impostor normal, logistic score) and the threshold at the default FMR,
//! checks the multi-face rejection on the labelled group photos, writes `distances.csv`,
//! `roc.csv` and `histogram.png` (genuine green, impostor red, chosen threshold blue) into the
//! output folder, and ends with one JSON line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use image::{Rgb, RgbImage};
use trustcap_face::calibration::{Calibration, Fmr};
use trustcap_face::matcher::rgba;
use trustcap_face::{FaceAnalysis, FaceMatcher, MatchConfig, Reason, Role};
use trustcap_vision::Frame;
use trustcap_vision::face::default_model_dir;

struct Args {
    data: PathBuf,
    out: PathBuf,
    config: MatchConfig,
}

fn parse_args() -> Result<Args, String> {
    let mut data = PathBuf::from("../shared/data");
    let mut out = std::env::temp_dir().join("trustcap-eval-faces");
    let mut config = MatchConfig::default();
    let mut it = std::env::args().skip(1);
    let fraction = |v: Option<String>, name: &str| {
        v.and_then(|v| v.parse::<f32>().ok()).filter(|v| v.is_finite()).ok_or(format!("{name} needs a number"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--data" => data = it.next().ok_or("--data needs a value")?.into(),
            "--out" => out = it.next().ok_or("--out needs a value")?.into(),
            // Ablations of the detection policy (see `MatchConfig`).
            "--full-range-below" => config.full_range_below = fraction(it.next(), "--full-range-below")?,
            "--refine-below" => config.refine_below = fraction(it.next(), "--refine-below")?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args { data, out, config })
}

/// Splits one CSV line, honouring double quotes.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                if let Some(f) = fields.last_mut() {
                    f.push('"');
                }
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

fn read_csv(path: &Path) -> Result<Vec<BTreeMap<String, String>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = split_csv(lines.next().ok_or("empty csv")?);
    Ok(lines.map(|l| header.iter().cloned().zip(split_csv(l)).collect()).collect())
}

struct Pair {
    a: String,
    b: String,
    genuine: bool,
    flag: String,
}

/// ROC figures for genuine and impostor distances (a pair is accepted when distance ≤ t).
struct Roc {
    auc: f64,
    eer: f64,
    eer_threshold: f64,
    tar_far_1e2: f64,
    tar_far_1e3: f64,
    points: Vec<(f64, f64, f64)>,
}

fn roc(genuine: &[f64], impostor: &[f64]) -> Option<Roc> {
    if genuine.is_empty() || impostor.is_empty() {
        return None;
    }
    let mut thresholds: Vec<f64> = genuine.iter().chain(impostor).copied().collect();
    thresholds.sort_by(f64::total_cmp);
    thresholds.dedup();
    let rate = |v: &[f64], t: f64| v.iter().filter(|&&d| d <= t).count() as f64 / v.len() as f64;
    let mut points = vec![(0.0, 0.0, -f64::EPSILON)];
    points.extend(thresholds.iter().map(|&t| (rate(impostor, t), rate(genuine, t), t)));
    // AUC = P(genuine distance < impostor distance), ties half.
    let mut wins = 0.0;
    for g in genuine {
        for i in impostor {
            wins += if g < i {
                1.0
            } else if g == i {
                0.5
            } else {
                0.0
            };
        }
    }
    let auc = wins / (genuine.len() * impostor.len()) as f64;
    // EER: the threshold where FAR and FRR = 1 - TAR cross (the smaller max of the two).
    let (mut eer, mut eer_threshold) = (1.0, 0.0);
    for &(far, tar, t) in &points {
        let e = far.max(1.0 - tar);
        if e < eer {
            eer = e;
            eer_threshold = t;
        }
    }
    let tar_at = |target: f64| points.iter().filter(|p| p.0 <= target).map(|p| p.1).fold(0.0, f64::max);
    Some(Roc { auc, eer, eer_threshold, tar_far_1e2: tar_at(1e-2), tar_far_1e3: tar_at(1e-3), points })
}

fn histogram(genuine: &[f64], impostor: &[f64], threshold: f64, path: &Path) -> Result<(), String> {
    let (w, h, bins, max_d) = (700u32, 300u32, 56usize, 1.4f64);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let count = |v: &[f64]| {
        let mut c = vec![0usize; bins];
        for d in v {
            let b = ((d / max_d) * bins as f64).floor().clamp(0.0, (bins - 1) as f64) as usize;
            c[b] += 1;
        }
        c
    };
    let (cg, ci) = (count(genuine), count(impostor));
    // Each class normalised to its own peak, drawn as overlapping bars.
    let peak = |c: &[usize]| c.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (pg, pi) = (peak(&cg), peak(&ci));
    let bar_w = w / bins as u32;
    for b in 0..bins {
        for (counts, pk, colour, inset) in
            [(&ci, pi, Rgb([220, 60, 60]), 0u32), (&cg, pg, Rgb([40, 160, 60]), bar_w / 3)]
        {
            let height = (counts[b] as f64 / pk * (h - 20) as f64) as u32;
            for x in (b as u32 * bar_w + inset)..((b as u32 + 1) * bar_w).min(w) {
                for y in (h - height)..h {
                    img.put_pixel(x, y, colour);
                }
            }
        }
    }
    let tx = ((threshold / max_d) * w as f64) as u32;
    for y in 0..h {
        for x in tx.saturating_sub(1)..(tx + 1).min(w) {
            img.put_pixel(x, y, Rgb([40, 60, 220]));
        }
    }
    // Axis ticks every 0.1.
    for k in 0..=14u32 {
        let x = (k * w / 14).min(w - 1);
        for y in h - 6..h {
            img.put_pixel(x, y, Rgb([0, 0, 0]));
        }
    }
    img.save(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("eval faces: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let faces = args.data.join("faces");
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    let labels = read_csv(&faces.join("labels.csv"))?;
    let pairs: Vec<Pair> = read_csv(&faces.join("pairs.csv"))?
        .into_iter()
        .map(|r| Pair {
            a: r.get("file_a").cloned().unwrap_or_default(),
            b: r.get("file_b").cloned().unwrap_or_default(),
            genuine: r.get("label").is_some_and(|l| l == "genuine"),
            flag: r.get("flag").cloned().unwrap_or_default(),
        })
        .collect();
    let portrait: BTreeMap<&str, bool> =
        labels.iter().filter_map(|r| Some((r.get("file")?.as_str(), r.get("id_portrait_like")? == "yes"))).collect();

    let model_dir = default_model_dir();
    let mut matcher = FaceMatcher::with_config(&model_dir, args.config)
        .map_err(|e| format!("{e} (models in {})", model_dir.display()))?;
    println!("Face match evaluation on {}", faces.display());
    println!("  model: {}", matcher.model_version());

    let mut files: Vec<&str> = pairs.iter().flat_map(|p| [p.a.as_str(), p.b.as_str()]).collect();
    files.sort_unstable();
    files.dedup();
    let mut analyses: BTreeMap<String, FaceAnalysis> = BTreeMap::new();
    let mut total_ms = 0.0;
    for file in &files {
        let img = image::open(faces.join(file)).map_err(|e| format!("{file}: {e}"))?.to_rgb8();
        let pixels = rgba(&img);
        let frame = Frame::packed(&pixels, img.width(), img.height()).map_err(|e| format!("{file}: {e}"))?;
        let role = if portrait.get(file).copied().unwrap_or(false) { Role::Document } else { Role::Selfie };
        let start = Instant::now();
        let a = matcher.analyze(&frame, role).map_err(|e| format!("{file}: {e}"))?;
        total_ms += start.elapsed().as_secs_f64() * 1e3;
        let reasons: Vec<&str> = a.reasons.iter().map(|r| reason_name(*r)).collect();
        println!(
            "  {file:<48} {:>5}x{:<5} faces {} score {:.2} eyes {:>6.1}px sharp {:>7.1} {}",
            img.width(),
            img.height(),
            a.faces,
            a.detection.map_or(0.0, |d| d.score),
            a.eye_distance_px,
            a.sharpness,
            reasons.join(",")
        );
        if let Some(chip) = &a.chip {
            let name = file.replace('/', "__");
            chip.save(args.out.join(format!("chip__{name}.png"))).map_err(|e| e.to_string())?;
        }
        analyses.insert(file.to_string(), a);
    }
    let photos = files.len().max(1) as f64;
    let runs = matcher.detector_runs();
    println!("  analysis (detect, refine, align, embed) mean {:.1} ms per photo", total_ms / photos);
    println!(
        "  detector runs per photo: front128 {:.2}, back256 {:.2} (full range below {}, refine below {})",
        runs.front128 as f64 / photos,
        runs.back256 as f64 / photos,
        matcher.config().full_range_below,
        matcher.config().refine_below
    );

    let mut rows = String::from("file_a,file_b,label,flag,distance,gated\n");
    let (mut gen_all, mut imp_all, mut gen_ok, mut imp_ok) = (vec![], vec![], vec![], vec![]);
    let mut unscorable = 0;
    let mut rejected = 0;
    for p in &pairs {
        let (Some(a), Some(b)) = (analyses.get(&p.a), analyses.get(&p.b)) else { continue };
        let (Some(ea), Some(eb)) = (&a.embedding, &b.embedding) else {
            unscorable += 1;
            continue;
        };
        let d = f64::from(ea.distance(eb));
        let gated = !a.reasons.is_empty() || !b.reasons.is_empty();
        rejected += usize::from(gated);
        rows.push_str(&format!(
            "{},{},{},{},{d:.6},{gated}\n",
            p.a,
            p.b,
            if p.genuine { "genuine" } else { "impostor" },
            p.flag
        ));
        let (all, ok) = if p.genuine { (&mut gen_all, &mut gen_ok) } else { (&mut imp_all, &mut imp_ok) };
        all.push(d);
        if !gated {
            ok.push(d);
        }
    }
    std::fs::write(args.out.join("distances.csv"), rows).map_err(|e| e.to_string())?;

    let all = roc(&gen_all, &imp_all).ok_or("no scorable genuine and impostor pairs")?;
    let calibration = Calibration::fit(&gen_all, &imp_all).ok_or("calibration fit failed")?;
    let fmr = Fmr::default();
    let threshold = calibration.threshold(fmr);
    let tar_at_threshold = gen_all.iter().filter(|&&d| d <= threshold).count() as f64 / gen_all.len() as f64;
    let far_at_threshold = imp_all.iter().filter(|&&d| d <= threshold).count() as f64 / imp_all.len() as f64;
    let mut roc_csv = String::from("far,tar,threshold\n");
    for (far, tar, t) in &all.points {
        roc_csv.push_str(&format!("{far:.6},{tar:.6},{t:.6}\n"));
    }
    std::fs::write(args.out.join("roc.csv"), roc_csv).map_err(|e| e.to_string())?;
    histogram(&gen_all, &imp_all, threshold, &args.out.join("histogram.png"))?;

    let stats = |v: &[f64]| {
        let n = v.len().max(1) as f64;
        let m = v.iter().sum::<f64>() / n;
        (m, (v.iter().map(|d| (d - m).powi(2)).sum::<f64>() / n).sqrt())
    };
    let (gm, gs) = stats(&gen_all);
    let (im, is) = stats(&imp_all);
    println!(
        "\nPairs: {} labelled; {} with two embeddings ({} genuine, {} impostor); {unscorable} without a face",
        pairs.len(),
        gen_all.len() + imp_all.len(),
        gen_all.len(),
        imp_all.len()
    );
    println!("  genuine distance  mean {gm:.3} sd {gs:.3}   impostor distance mean {im:.3} sd {is:.3}");
    println!("All scorable pairs:");
    println!("  AUC {:.4}   EER {:.4} (at distance {:.3})", all.auc, all.eer, all.eer_threshold);
    println!("  TAR at FAR 1% {:.4}   TAR at FAR 0.1% {:.4}", all.tar_far_1e2, all.tar_far_1e3);
    println!("  ({} impostor pairs: FAR 0.1% is read as no impostor accepted)", imp_all.len());
    let gated = roc(&gen_ok, &imp_ok);
    if let Some(g) = &gated {
        println!("Pairs passing the quality gates ({rejected} rejected):");
        println!(
            "  AUC {:.4}   EER {:.4}   TAR at FAR 1% {:.4}   TAR at FAR 0.1% {:.4}",
            g.auc, g.eer, g.tar_far_1e2, g.tar_far_1e3
        );
    }
    println!("Calibration fitted on all scorable pairs (paste into Calibration::DEFAULT):");
    println!(
        "  impostor_mean {:.4}, impostor_sd {:.4}, slope {:.3}, midpoint {:.4}",
        calibration.impostor_mean, calibration.impostor_sd, calibration.slope, calibration.midpoint
    );
    println!(
        "Chosen threshold at FMR {} (impostor normal fit): distance {threshold:.4}; on this set TAR {tar_at_threshold:.4}, FAR {far_at_threshold:.4}",
        fmr.get()
    );
    let defaults = matcher.config().calibration;
    println!("  (the crate's Calibration::DEFAULT gives threshold {:.4})", defaults.threshold(fmr));

    // Multi-face rejection on the labelled group photos.
    let mut multi_total = 0;
    let mut multi_flagged = 0;
    for row in &labels {
        let (Some(file), Some(n)) = (row.get("file"), row.get("n_faces")) else { continue };
        if n.parse::<u32>().unwrap_or(1) < 2 {
            continue;
        }
        let Ok(img) = image::open(faces.join(file)) else { continue };
        let img = img.to_rgb8();
        let pixels = rgba(&img);
        let Ok(frame) = Frame::packed(&pixels, img.width(), img.height()) else { continue };
        let a = matcher.analyze(&frame, Role::Selfie).map_err(|e| e.to_string())?;
        multi_total += 1;
        multi_flagged += usize::from(a.reasons.contains(&Reason::MultipleFaces));
        println!("  multi-face photo {file}: {} faces found, reasons {:?}", a.faces, a.reasons);
    }
    println!("Multi-face photos flagged: {multi_flagged}/{multi_total}");
    println!("Wrote distances.csv, roc.csv, histogram.png and the chips to {}", args.out.display());

    let json = serde_json::json!({
        "auc": all.auc,
        "eer": all.eer,
        "tar_far_1e-2": all.tar_far_1e2,
        "tar_far_1e-3": all.tar_far_1e3,
        "threshold": threshold,
        "threshold_fmr": fmr.get(),
        "eer_threshold": all.eer_threshold,
        "genuine_pairs": gen_all.len(),
        "impostor_pairs": imp_all.len(),
        "unscorable_pairs": unscorable,
        "gated_rejected_pairs": rejected,
        "gated_auc": gated.as_ref().map(|g| g.auc),
        "gated_eer": gated.as_ref().map(|g| g.eer),
        "multi_face_flagged": multi_flagged,
        "multi_face_photos": multi_total,
        "calibration": calibration,
        "ms_per_photo": total_ms / photos,
        "front128_runs_per_photo": runs.front128 as f64 / photos,
        "back256_runs_per_photo": runs.back256 as f64 / photos,
    });
    println!("{json}");
    Ok(())
}

fn reason_name(r: Reason) -> &'static str {
    match r {
        Reason::NoFace => "no_face",
        Reason::MultipleFaces => "multiple_faces",
        Reason::FaceTooSmall => "too_small",
        Reason::FaceTooBlurred => "too_blurred",
    }
}
