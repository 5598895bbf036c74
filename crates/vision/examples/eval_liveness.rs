//! `cargo xtask eval liveness --data DIR`: passive liveness on synthetic attacks built from real faces.
//!
//! For every single-face photo of `DIR/faces/labels.csv` (BlazeFace finds the face), the simulator in
//! `trustcap_vision::liveness::simulate` builds one bona fide burst and one burst per attack type (screen
//! replay, print, flat photo moved by hand, a still frame repeated). Each burst goes through the
//! `LivenessAnalyzer` exactly as camera frames would. **The attacks are synthetic**: the figures say how the
//! signals separate these simulations, not how they fare against real attackers.
//!
//! Also judged: the real replay sample `DIR/faces/deepface/img11_reflection.jpg` (a mirrored, enlarged copy of
//! `deepface/img11.jpg`, with no screen in it), at its own resolution, presented with a live head's motion, beside
//! the bona fide photos treated the same way; and against a known-image gallery of the bona fide photos
//! (`liveness::known_image`): it counts as rejected if its liveness score is below the threshold or it matches a
//! known image. Bona fide photos matching another one (leave-one-out) are reported as a dataset note. With `--bursts DIR2`, real labelled bursts are judged too:
//! `DIR2/bona_fide/<burst>/*.png|jpg` and `DIR2/attack/<type>/<burst>/*.png|jpg` (frames in name order,
//! 30 fps assumed).
//!
//! The faces are found once per photo (the simulated bursts carry their own face boxes), then the bursts of
//! different photos run on `--threads N` threads (default: the machine's cores); results are gathered in
//! photo order, so the output does not depend on the thread count. The report gives wall and CPU time.
//!
//! Output: a readable report, `det.png` (the DET curve: APCER against BPCER as the threshold moves) and
//! `scores.csv` in `--out`; the last line is one JSON object.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};
use trustcap_vision::Frame;
use trustcap_vision::face::{BlazeFace, BlazeFaceVariant};
use trustcap_vision::liveness::known_image::{
    DEFAULT_MAX_DISTANCE, HASH_BITS, ImageFingerprint, KnownImages, Match, compare,
};
use trustcap_vision::liveness::simulate::{BurstSpec, Presentation, Source, burst};
use trustcap_vision::liveness::{FaceBox, LivenessAnalyzer, LivenessConfig, LivenessReport};

const FRAMES: usize = 10;

struct Args {
    data: PathBuf,
    out: PathBuf,
    bursts: Option<PathBuf>,
    threads: usize,
}

fn args() -> Args {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let mut a = Args {
        data: PathBuf::from("../shared/data"),
        out: PathBuf::from("target/eval/liveness"),
        bursts: None,
        threads,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--data" => a.data = it.next().map(PathBuf::from).unwrap_or(a.data),
            "--out" => a.out = it.next().map(PathBuf::from).unwrap_or(a.out),
            "--bursts" => a.bursts = it.next().map(PathBuf::from),
            "--threads" => a.threads = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.threads).max(1),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

struct Detector {
    front: BlazeFace,
    back: BlazeFace,
}

impl Detector {
    /// The most confident face of an RGBA image, from the front model, else the back model.
    fn face(&mut self, rgba: &[u8], w: u32, h: u32) -> Option<FaceBox> {
        let frame = Frame::packed(rgba, w, h).ok()?;
        let mut dets = self.front.detect(&frame).ok()?;
        if dets.is_empty() {
            dets = self.back.detect(&frame).ok()?;
        }
        let d = dets.into_iter().max_by(|a, b| a.score.total_cmp(&b.score))?;
        Some(FaceBox {
            x: f64::from(d.bbox.x_min),
            y: f64::from(d.bbox.y_min),
            width: f64::from(d.bbox.width()),
            height: f64::from(d.bbox.height()),
        })
    }
}

fn judge(frames: &[Vec<u8>], faces: &[FaceBox], times: &[f64], w: u32, h: u32) -> Option<LivenessReport> {
    let mut an = LivenessAnalyzer::new(LivenessConfig::default());
    for ((f, face), t) in frames.iter().zip(faces).zip(times) {
        let frame = Frame::packed(f, w, h).ok()?;
        an.push(&frame, *face, *t).ok()?;
    }
    Some(an.report())
}

fn load(path: &Path) -> Option<(Vec<u8>, u32, u32)> {
    let img = image::open(path).ok()?.to_rgba8();
    let (w, h) = img.dimensions();
    Some((img.into_raw(), w, h))
}

/// Share of `scores` at or above `t` (accepted).
fn accept_rate(scores: &[f64], t: f64) -> f64 {
    if scores.is_empty() { 0.0 } else { scores.iter().filter(|s| **s >= t).count() as f64 / scores.len() as f64 }
}

fn draw_det(path: &Path, bona: &[f64], attacks: &[f64]) {
    let (w, h) = (480u32, 480u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    for i in 0..=10 {
        let p = i * (w - 1) / 10;
        for q in 0..h {
            img.put_pixel(p, q, Rgb([225, 225, 225]));
            img.put_pixel(q.min(w - 1), p, Rgb([225, 225, 225]));
        }
    }
    // x: BPCER (bona fide rejected), y: APCER (attacks accepted), both 0..1, origin bottom-left.
    let mut prev: Option<(i64, i64)> = None;
    for k in 0..=1000 {
        let t = f64::from(k) / 1000.0;
        let (bpcer, apcer) = (1.0 - accept_rate(bona, t), accept_rate(attacks, t));
        let p = ((bpcer * f64::from(w - 1)) as i64, (f64::from(h - 1) * (1.0 - apcer)) as i64);
        if let Some(q) = prev {
            let steps = (p.0 - q.0).abs().max((p.1 - q.1).abs()).max(1);
            for s in 0..=steps {
                let x = q.0 + (p.0 - q.0) * s / steps;
                let y = q.1 + (p.1 - q.1) * s / steps;
                for (dx, dy) in [(0, 0), (1, 0), (0, 1)] {
                    if let (Ok(x), Ok(y)) = (u32::try_from(x + dx), u32::try_from(y + dy))
                        && x < w
                        && y < h
                    {
                        img.put_pixel(x, y, Rgb([200, 30, 30]));
                    }
                }
            }
        }
        prev = Some(p);
    }
    let _ = img.save(path);
}

fn main() {
    let args = args();
    std::fs::create_dir_all(&args.out).expect("create the output folder");
    let models = trustcap_vision::model_cache::default_model_dir();
    let mut det = Detector {
        front: BlazeFace::from_dir(&models, BlazeFaceVariant::Front128)
            .expect("BlazeFace 128 (run `cargo xtask models`)"),
        back: BlazeFace::from_dir(&models, BlazeFaceVariant::Back256)
            .expect("BlazeFace 256 (run `cargo xtask models`)"),
    };
    let faces_dir = args.data.join("faces");
    let labels = std::fs::read_to_string(faces_dir.join("labels.csv")).expect("faces/labels.csv");
    let mut photos = Vec::new();
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.splitn(5, ',').collect();
        if cols.len() >= 3 && cols[2] == "1" && !cols[0].contains("reflection") {
            photos.push(cols[0].to_owned());
        }
    }
    println!("liveness evaluation: {} single-face photos from {}", photos.len(), faces_dir.display());
    println!("(the attacks are SYNTHETIC: simulated screen replay, print, flat photo and still frame)\n");

    // Faces first (BlazeFace once per photo: the simulated bursts carry their own face boxes), then the
    // bursts of different photos in parallel; results are gathered in photo order, so the output does not
    // depend on the thread count.
    let started = std::time::Instant::now();
    let cpu_started = process_cpu_seconds();
    let mut sources = Vec::new();
    for (i, name) in photos.iter().enumerate() {
        let Some((rgba, w, h)) = load(&faces_dir.join(name)) else {
            println!("  {name}: unreadable, skipped");
            continue;
        };
        let Some(face) = det.face(&rgba, w, h) else {
            println!("  {name}: no face found, skipped");
            continue;
        };
        sources.push(Photo { seed: i as u64, name: name.clone(), rgba, width: w, height: h, face });
    }
    // The real replay sample, found the same way.
    let replay_name = "deepface/img11_reflection.jpg";
    let replay_img = load(&faces_dir.join(replay_name)).and_then(|(rgba, w, h)| {
        let face = det.face(&rgba, w, h)?;
        Some((rgba, w, h, face))
    });
    let detect_seconds = started.elapsed().as_secs_f64();
    let known =
        known_images(&sources, replay_img.as_ref().map(|(rgba, w, h, face)| (replay_name, &rgba[..], *w, *h, *face)));
    let results = run_parallel(&sources, args.threads);

    let config = LivenessConfig::default();
    let mut scores: BTreeMap<Presentation, Vec<f64>> = BTreeMap::new();
    let mut csv = String::from(
        "photo,presentation,score,passed,decisive,residual_ratio,mean_residual_ratio,max_motion,points,pattern_ratio,screen_cue\n",
    );
    let mut native_bona = Vec::new();
    let used = sources.len();
    let mut analysed_frames = 0usize;
    let mut missed_flat = Vec::new();
    for (photo, result) in sources.iter().zip(&results) {
        let name = &photo.name;
        for (p, r) in &result.bursts {
            analysed_frames += r.frames;
            csv += &format!(
                "{name},{},{:.4},{},{},{},{},{:.2},{},{:.1},{}\n",
                p.name(),
                r.score,
                r.passed,
                r.decisive.unwrap_or(""),
                opt(r.planar.residual_ratio),
                opt(r.planar.mean_residual_ratio),
                r.planar.max_motion,
                r.planar.points,
                r.pattern.ratio,
                screen_cue_text(r),
            );
            scores.entry(*p).or_default().push(r.score);
            if *p == Presentation::FlatPhoto && r.passed {
                missed_flat.push(format!(
                    "{name} (score {:.2}, residual {}, motion {:.1} px, {} points)",
                    r.score,
                    opt(r.planar.residual_ratio),
                    r.planar.max_motion,
                    r.planar.points
                ));
            }
        }
        if let Some(r) = &result.native {
            analysed_frames += r.frames;
            native_bona.push((name.clone(), r.clone()));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds().zip(cpu_started).map(|(b, a)| b - a);

    let bona = scores.get(&Presentation::BonaFide).cloned().unwrap_or_default();
    let t = config.threshold;
    let bpcer = 1.0 - accept_rate(&bona, t);
    println!("{:<12} {:>6} {:>10}", "presentation", "bursts", "error");
    println!("{:<12} {:>6} {:>9.1}%  (BPCER: bona fide rejected)", "bona_fide", bona.len(), 100.0 * bpcer);
    let mut apcer = BTreeMap::new();
    let mut all_attacks = Vec::new();
    for (p, s) in &scores {
        if p.is_attack() {
            let a = accept_rate(s, t);
            apcer.insert(p.name(), a);
            all_attacks.extend_from_slice(s);
            println!("{:<12} {:>6} {:>9.1}%  (APCER: attacks accepted)", p.name(), s.len(), 100.0 * a);
        }
    }
    let apcer_max = apcer.values().copied().fold(0.0, f64::max);
    let acer = (apcer_max + bpcer) / 2.0;
    println!(
        "\nthreshold {t:.2}: APCER(max over types) {:.1}%, BPCER {:.1}%, ACER {:.1}%",
        100.0 * apcer_max,
        100.0 * bpcer,
        100.0 * acer
    );

    if !missed_flat.is_empty() {
        println!("flat photos accepted: {}", missed_flat.join("; "));
    }

    // The real replay sample, beside the bona fide photos treated the same way (own resolution, a live head's
    // motion, so only the image itself can give it away).
    let mut replay_score = None;
    if let Some((rgba, w, h, face)) = &replay_img {
        let src = Source { rgba, width: *w, height: *h, face: *face };
        if let Some(r) = native_burst(&src, 999) {
            println!(
                "\nreal replay sample deepface/img11_reflection.jpg (own resolution, live-head motion): liveness score {:.3}, {} (decisive: {})",
                r.score,
                if r.passed { "passed by liveness" } else { "rejected by liveness" },
                r.decisive.unwrap_or("-")
            );
            for s in &r.signals {
                println!("    {:<24} attack {:.2}  {}", s.name, s.attack, s.explanation);
            }
            replay_score = Some(r);
        }
    }
    let native_scores: Vec<f64> = native_bona.iter().map(|(_, r)| r.score).collect();
    let native_bpcer = 1.0 - accept_rate(&native_scores, t);
    let lowest = native_bona.iter().min_by(|a, b| a.1.score.total_cmp(&b.1.score));
    println!(
        "bona fide photos treated the same way: {} bursts, {:.1}% rejected, lowest score {:.3} ({})",
        native_bona.len(),
        100.0 * native_bpcer,
        lowest.map_or(1.0, |l| l.1.score),
        lowest.map_or("-", |l| l.0.as_str())
    );
    let cue_margin = recapture_margin(&native_bona, replay_score.as_ref());
    // Real labelled bursts, if given.
    let mut real = (0usize, 0usize, 0usize, 0usize); // bona, bona rejected, attacks, attacks accepted
    if let Some(dir) = &args.bursts {
        for (label, is_attack) in [("bona_fide", false), ("attack", true)] {
            for burst_dir in burst_dirs(&dir.join(label)) {
                if let Some(r) = judge_folder(&burst_dir, &mut det) {
                    if is_attack {
                        real.2 += 1;
                        real.3 += usize::from(r.passed);
                    } else {
                        real.0 += 1;
                        real.1 += usize::from(!r.passed);
                    }
                }
            }
        }
        println!("real bursts: {} bona fide ({} rejected), {} attacks ({} accepted)", real.0, real.1, real.2, real.3);
    }

    draw_det(&args.out.join("det.png"), &bona, &all_attacks);
    let _ = std::fs::write(args.out.join("scores.csv"), csv);
    println!(
        "\n{used} photos ({detect_seconds:.1} s to load and detect faces), {} bursts, {analysed_frames} frames \
         simulated and analysed in {elapsed:.1} s wall on {} threads, {} s CPU; det.png and scores.csv in {}",
        scores.values().map(Vec::len).sum::<usize>() + native_bona.len(),
        args.threads,
        cpu.map_or("?".to_owned(), |c| format!("{c:.1}")),
        args.out.display()
    );
    // Rejected if either the liveness score is below the threshold or the picture is a known image.
    let liveness_rejects = replay_score.as_ref().map(|r| !r.passed);
    let replay_signal = if known.replay_match.is_some() {
        Some("known_image")
    } else if liveness_rejects == Some(true) {
        Some("liveness")
    } else {
        None
    };
    let replay_rejected = match (liveness_rejects, &known.replay_fingerprint) {
        (None, None) => None,
        _ => Some(replay_signal.is_some()),
    };
    let liveness_text = replay_score.as_ref().map_or("liveness not judged".to_owned(), |r| {
        format!(
            "liveness score {:.2}: {}",
            r.score,
            if r.passed { "no screen cue".to_owned() } else { format!("rejected by {}", r.decisive.unwrap_or("-")) }
        )
    });
    match &known.replay_match {
        Some((id, m)) => println!(
            "\n{replay_name}: known-image replay of {id}{}, distance {}/{HASH_BITS}; {liveness_text} -> rejected ({})",
            if m.mirrored { " (mirrored)" } else { "" },
            m.distance,
            replay_signal.unwrap_or("-"),
        ),
        None => println!(
            "\n{replay_name}: no known image within {DEFAULT_MAX_DISTANCE}/{HASH_BITS} (nearest {}); {liveness_text} -> {}",
            known.replay_nearest.map_or("-".to_owned(), |d| d.to_string()),
            if replay_rejected == Some(true) { "rejected" } else { "NOT rejected" }
        ),
    }
    let json = serde_json::json!({
        "apcer_max": apcer_max,
        "apcer": apcer,
        "bpcer": bpcer,
        "acer": acer,
        "threshold": t,
        "replay_sample_rejected": replay_rejected,
        "replay_sample_score": replay_score.map(|r| r.score),
        "replay_sample_signal": replay_signal,
        "known_image_distance": known.replay_match.as_ref().map(|(_, m)| m.distance).or(known.replay_nearest),
        "known_image_max_distance": DEFAULT_MAX_DISTANCE,
        "known_image_min_distinct_distance": known.min_distinct,
        "known_image_bona_fide_matches": known.bona_fide_matches,
        "native_scale_bpcer": native_bpcer,
        "recapture_cue": cue_margin,
        "eval_seconds": elapsed,
        "cpu_seconds": cpu,
        "photos": used,
        "synthetic_attacks": true,
        "real_bursts": if args.bursts.is_some() { serde_json::json!({"bona_fide": real.0, "bona_fide_rejected": real.1, "attacks": real.2, "attacks_accepted": real.3}) } else { serde_json::Value::Null },
    });
    println!("{json}");
}

/// A photo with its face, ready for simulation.
struct Photo {
    seed: u64,
    name: String,
    rgba: Vec<u8>,
    width: u32,
    height: u32,
    face: FaceBox,
}

/// The reports of one photo: one burst per presentation at the common scale, and a bona fide burst at the
/// photo's own resolution.
#[derive(Default)]
struct PhotoResult {
    bursts: Vec<(Presentation, LivenessReport)>,
    native: Option<LivenessReport>,
}

/// Every burst of one photo.
fn simulate_photo(photo: &Photo) -> PhotoResult {
    let src = Source { rgba: &photo.rgba, width: photo.width, height: photo.height, face: photo.face };
    let mut out = PhotoResult::default();
    for p in Presentation::ALL {
        let spec = BurstSpec { width: 640, height: 480, frames: FRAMES, face_share: Some(0.4), seed: photo.seed + 1 };
        let b = burst(&src, p, spec);
        if let Some(r) = judge(&b.frames, &b.faces, &b.timestamps_ms, b.width, b.height) {
            out.bursts.push((p, r));
        } else {
            println!("  {}: the {} burst was refused by the analyser", photo.name, p.name());
        }
    }
    out.native = native_burst(&src, photo.seed);
    out
}

/// [`simulate_photo`] for every photo on `threads` threads, results in photo order.
fn run_parallel(photos: &[Photo], threads: usize) -> Vec<PhotoResult> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<PhotoResult> = Vec::new();
    results.resize_with(photos.len(), PhotoResult::default);
    let done = std::sync::Mutex::new(results);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(photo) = photos.get(i) else { break };
                    let r = simulate_photo(photo);
                    if let Ok(mut d) = done.lock()
                        && let Some(slot) = d.get_mut(i)
                    {
                        *slot = r;
                    }
                }
            });
        }
    });
    done.into_inner().unwrap_or_default()
}

/// CPU time of this process (all threads, user + system) from `/proc/self/stat`, seconds; `None` off Linux.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((utime + stime) / 100.0)
}

/// `v` with four decimals, or empty.
fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v:.4}"))
}

/// A live-head burst of the photo at its own resolution (cropped around the face to at most 960×960).
fn native_burst(src: &Source<'_>, seed: u64) -> Option<LivenessReport> {
    let side = (src.face.width.max(src.face.height) * 2.2).clamp(64.0, 960.0) as u32;
    let (w, h) = (side.min(src.width), side.min(src.height));
    let spec = BurstSpec { width: w, height: h, frames: FRAMES, face_share: None, seed: seed + 7 };
    let b = burst(src, Presentation::BonaFide, spec);
    judge(&b.frames, &b.faces, &b.timestamps_ms, b.width, b.height)
}

fn burst_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if !p.is_dir() {
            continue;
        }
        let has_frames = std::fs::read_dir(&p).map(|d| d.flatten().any(|f| f.path().is_file())).unwrap_or(false);
        if has_frames { out.push(p) } else { out.extend(burst_dirs(&p)) }
    }
    out.sort();
    out
}

fn judge_folder(dir: &Path, det: &mut Detector) -> Option<LivenessReport> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
    files.sort();
    let mut an = LivenessAnalyzer::new(LivenessConfig::default());
    for (k, f) in files.iter().enumerate() {
        let Some((rgba, w, h)) = load(f) else { continue };
        let Some(face) = det.face(&rgba, w, h) else { continue };
        let frame = Frame::packed(&rgba, w, h).ok()?;
        an.push(&frame, face, k as f64 * 33.3).ok()?;
    }
    Some(an.report())
}

/// The share of spectral power above half of Nyquist in the middle of the face (the `high_band_share` of the
/// pattern signal), for the scores file: a re-captured or digitally enlarged picture keeps little there.
fn screen_cue_text(r: &LivenessReport) -> String {
    format!("{:.5}", r.pattern.high_band_share)
}

/// How the real replay sample compares with the bona fide photos at their own resolution on the fine-detail
/// measure (`high_band_share`): the sample's value, the bona fide photos' lowest, and which photo that is.
/// Informational: the measure is not one of the decision's signals (see the report).
fn recapture_margin(native: &[(String, LivenessReport)], replay: Option<&LivenessReport>) -> serde_json::Value {
    let lowest = native.iter().min_by(|a, b| a.1.pattern.high_band_share.total_cmp(&b.1.pattern.high_band_share));
    let sample = replay.map(|r| r.pattern.high_band_share);
    if let (Some(s), Some((name, r))) = (sample, lowest) {
        println!(
            "fine detail (power above half of Nyquist in the face): replay sample {:.5}, bona fide lowest {:.5} ({name}), ratio {:.2}",
            s,
            r.pattern.high_band_share,
            r.pattern.high_band_share / s.max(1e-12)
        );
    }
    serde_json::json!({
        "measure": "high_band_share",
        "replay_sample": sample,
        "bona_fide_lowest": lowest.map(|l| l.1.pattern.high_band_share),
        "bona_fide_lowest_photo": lowest.map(|l| l.0.clone()),
        "replay_pattern_ratio": replay.map(|r| r.pattern.ratio),
        "bona_fide_highest_pattern_ratio": native.iter().map(|l| l.1.pattern.ratio).fold(0.0, f64::max),
    })
}

/// What the known-image check found.
struct KnownImageResult {
    /// The replay sample's fingerprint, if it could be computed.
    replay_fingerprint: Option<ImageFingerprint>,
    /// The known bona fide photo the replay sample matches, and how.
    replay_match: Option<(String, Match)>,
    /// The replay sample's distance to its nearest bona fide photo.
    replay_nearest: Option<u32>,
    /// The smallest distance between two bona fide photos that do not match (the margin above the threshold).
    min_distinct: Option<u32>,
    /// Bona fide photos that match another bona fide photo (leave-one-out), as "a ~ b (distance)".
    bona_fide_matches: Vec<String>,
}

/// Fingerprints the face region of every bona fide photo into a gallery (in processing order), then checks
/// the replay sample against it, and each bona fide photo against all the others (leave-one-out).
fn known_images(photos: &[Photo], replay: Option<(&str, &[u8], u32, u32, FaceBox)>) -> KnownImageResult {
    let fingerprint = |rgba: &[u8], w: u32, h: u32, face: FaceBox| {
        Frame::packed(rgba, w, h).ok().and_then(|f| ImageFingerprint::of(&f, Some(face)).ok())
    };
    let mut gallery = KnownImages::new();
    for p in photos {
        match fingerprint(&p.rgba, p.width, p.height, p.face) {
            Some(fp) => gallery.insert(p.name.clone(), fp),
            None => println!("  {}: no fingerprint", p.name),
        }
    }
    // Every pair of bona fide photos.
    let entries: Vec<(&String, &ImageFingerprint)> = gallery.iter().collect();
    let mut pairs = Vec::new();
    for (i, (a, fa)) in entries.iter().enumerate() {
        for (b, fb) in entries.iter().skip(i + 1) {
            pairs.push((compare(fa, fb).distance, (*a).clone(), (*b).clone()));
        }
    }
    pairs.sort();
    let bona_fide_matches: Vec<String> = pairs
        .iter()
        .filter(|(d, _, _)| *d <= DEFAULT_MAX_DISTANCE)
        .map(|(d, a, b)| format!("{a} ~ {b} ({d})"))
        .collect();
    let min_distinct = pairs.iter().map(|(d, _, _)| *d).find(|d| *d > DEFAULT_MAX_DISTANCE);
    println!(
        "\nknown-image check: face-region 256-bit dHash (and its mirror) of {} bona fide photos, {} pairs; \
         match if within {DEFAULT_MAX_DISTANCE}/{HASH_BITS} bits",
        gallery.len(),
        pairs.len()
    );
    let closest: Vec<String> = pairs.iter().take(6).map(|(d, a, b)| format!("{d} ({a} ~ {b})")).collect();
    println!("  closest bona fide pairs: {}", closest.join(", "));
    if bona_fide_matches.is_empty() {
        println!("  dataset note: no bona fide photo matches another");
    } else {
        println!(
            "  dataset note (not counted in BPCER): bona fide photos matching another bona fide photo: {}",
            bona_fide_matches.join("; ")
        );
    }
    println!(
        "  smallest distance between non-matching photos: {}",
        min_distinct.map_or("-".to_owned(), |d| d.to_string())
    );
    let replay_fingerprint = replay.and_then(|(_, rgba, w, h, face)| fingerprint(rgba, w, h, face));
    let replay_nearest = replay_fingerprint.as_ref().and_then(|fp| gallery.nearest(fp)).map(|(_, m)| m.distance);
    let replay_match = replay_fingerprint
        .as_ref()
        .and_then(|fp| gallery.find(fp, DEFAULT_MAX_DISTANCE))
        .map(|(id, m)| (id.clone(), m));
    if let (Some((name, ..)), Some(fp)) = (replay, &replay_fingerprint) {
        let mut by_distance: Vec<(u32, &String)> =
            entries.iter().map(|(id, f)| (compare(fp, f).distance, *id)).collect();
        by_distance.sort();
        let near: Vec<String> = by_distance.iter().take(3).map(|(d, id)| format!("{id} {d}")).collect();
        println!("  {name}: nearest bona fide photos {}", near.join(", "));
    }
    KnownImageResult { replay_fingerprint, replay_match, replay_nearest, min_distinct, bona_fide_matches }
}
