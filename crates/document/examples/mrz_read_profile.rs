//! Where the time of an MRZ read goes, in wall-clock and per-thread CPU time (the machine may be
//! shared; CPU time of the reading thread is what one core costs).
//!
//! `cargo run --release -p trustcap-document --example mrz_read_profile -- [--photo FILE] [--width W]
//! [--iters N] [--det-side PX] [--locator on|off] [--growth X] [--dump-lines on|off] [--sweep DIR]`
//!
//! Without `--sweep`: the photo (default: the TD3 specimen in `../shared/data`) is resized to
//! `W` pixels wide (default 1000), read once to warm the model plans, then `N` times (default 10);
//! each stage is timed separately as well. The last stdout line is one JSON object. `--locator off`
//! starts every read with the text detector instead of the classical MRZ band locator (the
//! default), `--growth X` sets how much taller a located line's crop may grow; `--dump-lines on`
//! prints the locator's lines next to the detector's.
//! With `--sweep DIR`: every image under `DIR` is read once and the read (valid or not, rotation,
//! time) is printed, to compare pipelines on photos without ground truth.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;
use trustcap_cputime::thread_cpu_ms;
use trustcap_document::mrz::Date;
use trustcap_document::ocr::{OcrEngine, decode_image};

/// Runs `f`, returning its result, wall-clock ms and thread CPU ms.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (t, c) = (Instant::now(), thread_cpu_ms());
    let r = f();
    (r, t.elapsed().as_secs_f64() * 1e3, thread_cpu_ms() - c)
}

struct Args {
    photo: PathBuf,
    width: u32,
    iters: usize,
    sweep: Option<PathBuf>,
    det_side: Option<u32>,
    locator: Option<bool>,
    dump_lines: bool,
    growth: Option<f32>,
    dump_crops: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        photo: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/mrz/images/passporteye_tests/passport-td3.jpg"),
        width: 1000,
        iters: 10,
        sweep: None,
        det_side: None,
        locator: None,
        dump_lines: false,
        growth: None,
        dump_crops: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or(format!("{k} needs a value"))?;
        match k.as_str() {
            "--photo" => a.photo = PathBuf::from(v),
            "--width" => a.width = v.parse().map_err(|_| "--width: a number")?,
            "--iters" => a.iters = v.parse().map_err(|_| "--iters: a number")?,
            "--sweep" => a.sweep = Some(PathBuf::from(v)),
            "--det-side" => a.det_side = Some(v.parse().map_err(|_| "--det-side: a number")?),
            "--locator" => a.locator = Some(v == "on"),
            "--dump-lines" => a.dump_lines = v == "on",
            "--growth" => a.growth = Some(v.parse().map_err(|_| "--growth: a number")?),
            "--dump-crops" => a.dump_crops = Some(PathBuf::from(v)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn sweep(engine: &mut OcrEngine, dir: &Path, today: Date) -> Result<(), String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| e.to_string())?.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jpg" || x == "png") {
                files.push(p);
            }
        }
    }
    files.sort();
    let (mut valid, mut total_ms) = (0usize, 0f64);
    for f in &files {
        let Ok(img) =
            std::fs::read(f).map_err(|e| e.to_string()).and_then(|b| decode_image(&b).map_err(|e| e.to_string()))
        else {
            println!("{}: cannot decode", f.display());
            continue;
        };
        let (read, ms, cpu) = timed(|| engine.read_mrz(&img, today));
        let read = read.map_err(|e| e.to_string())?;
        total_ms += cpu;
        let ok = read.as_ref().is_some_and(|r| r.mrz.is_valid());
        valid += usize::from(ok);
        println!(
            "{:<45} {:>5}x{:<5} {:>6.0} ms wall {:>6.0} ms cpu  valid {:<5} rot {} {:?}",
            f.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
            img.width(),
            img.height(),
            ms,
            cpu,
            ok,
            read.as_ref().map_or(9, |r| r.rotation),
            read.as_ref().map(|r| r.mrz.lines.clone()).unwrap_or_default()
        );
    }
    println!(
        "{}",
        json!({"images": files.len(), "valid": valid, "cpu_ms_total": total_ms, "load_avg": trustcap_cputime::load_average_text()})
    );
    Ok(())
}

/// Writes the line crops the locator and the detector paths hand the recogniser as PNGs into
/// `dir`, with what the recogniser reads from each.
fn dump_crops(engine: &mut OcrEngine, img: &image::RgbImage, dir: &Path, growth: f32) -> Result<(), String> {
    use trustcap_document::ocr::{mrz_band, mrz_locate, rec};
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let located: Vec<_> = mrz_locate::long_lines(img)
        .iter()
        .map(|b| mrz_locate::fit_to_width(b, img.width(), img.height(), rec::HEIGHT, &rec::WIDTH_BUCKETS, growth))
        .collect();
    let detected: Vec<_> = mrz_band::merge_rows(&engine.detect_within(img, 640).map_err(|e| e.to_string())?)
        .into_iter()
        .filter(|b| b.width() >= 7.0 * b.height())
        .collect();
    for (kind, boxes) in [("locator", located), ("detector", detected)] {
        for (i, b) in boxes.iter().enumerate() {
            let Some(crop) = OcrEngine::crop(img, b) else { continue };
            let (text, conf) = engine.recognize(&crop).map_err(|e| e.to_string())?;
            let path = dir.join(format!("{kind}_{i}.png"));
            crop.save(&path).map_err(|e| e.to_string())?;
            println!(
                "  {kind:<8} {:7.1} {:7.1} {:7.1} {:7.1} crop {}x{} conf {conf:.3} {text}",
                b.x0,
                b.y0,
                b.x1,
                b.y1,
                crop.width(),
                crop.height()
            );
        }
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("mrz_read_profile: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let a = args()?;
    let dir = trustcap_vision::model_cache::default_model_dir();
    let (engine, ms, cpu) = timed(|| OcrEngine::from_dir(&dir));
    let mut engine = engine.map_err(|e| e.to_string())?;
    engine.set_stage_clock(thread_cpu_ms);
    if let Some(side) = a.det_side {
        engine.set_mrz_detector_side(side);
    }
    if let Some(on) = a.locator {
        engine.set_mrz_locator(on);
    }
    if let Some(g) = a.growth {
        engine.set_mrz_locator_growth(g);
    }
    println!("load models: {ms:.0} ms wall, {cpu:.0} ms cpu");
    let today = Date::new(2026, 11, 26).unwrap_or_else(Date::today_utc);
    if let Some(d) = &a.sweep {
        return sweep(&mut engine, d, today);
    }
    let bytes = std::fs::read(&a.photo).map_err(|e| format!("{}: {e}", a.photo.display()))?;
    let img = decode_image(&bytes).map_err(|e| e.to_string())?;
    let img = if a.width == 0 {
        img
    } else {
        let h = (img.height() as f32 * a.width as f32 / img.width() as f32).round().max(1.0) as u32;
        image::imageops::resize(&img, a.width, h, image::imageops::FilterType::Triangle)
    };
    if let Some(dir) = &a.dump_crops {
        dump_crops(&mut engine, &img, dir, a.growth.unwrap_or(1.0))?;
    }
    println!(
        "photo {} resized to {}x{}; load average {}",
        a.photo.display(),
        img.width(),
        img.height(),
        trustcap_cputime::load_average_text()
    );
    if a.dump_lines {
        // The classical locator's long lines next to the detector's boxes (to compare margins).
        for b in trustcap_document::ocr::mrz_locate::long_lines(&img) {
            println!("  locator  {:7.1} {:7.1} {:7.1} {:7.1}  h {:5.1}", b.x0, b.y0, b.x1, b.y1, b.height());
        }
        let boxes = engine.detect_within(&img, 640).map_err(|e| e.to_string())?;
        for b in boxes.iter().filter(|b| b.width() > 7.0 * b.height()) {
            println!("  detector {:7.1} {:7.1} {:7.1} {:7.1}  h {:5.1}", b.x0, b.y0, b.x1, b.y1, b.height());
        }
    }

    let (first, ms, cpu) = timed(|| engine.read_mrz(&img, today));
    let first = first.map_err(|e| e.to_string())?;
    println!(
        "first read (plans built): {ms:.0} ms wall, {cpu:.0} ms cpu; valid {}",
        first.as_ref().is_some_and(|r| r.mrz.is_valid())
    );
    println!("stages of the first read (thread cpu ms, calls):");
    for (stage, ms, n) in engine.take_timings() {
        println!("  {stage:<28} {ms:>8.1} {n:>4}");
    }
    let (r, _, cpu) = timed(|| engine.read_mrz(&img, today));
    r.map_err(|e| e.to_string())?;
    let profile = engine.take_timings();
    println!("stages of a warm read (thread cpu ms, calls), total {cpu:.1} ms:");
    for (stage, ms, n) in &profile {
        println!("  {stage:<28} {ms:>8.1} {n:>4}");
    }
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..a.iters {
        let (r, w, c) = timed(|| engine.read_mrz(&img, today));
        r.map_err(|e| e.to_string())?;
        wall.push(w);
        cpu.push(c);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "read x{}: wall mean {:.1} ms (min {:.1}), thread cpu mean {:.1} ms (min {:.1}); load average {}",
        a.iters,
        mean(&wall),
        min(&wall),
        mean(&cpu),
        min(&cpu),
        trustcap_cputime::load_average_text()
    );
    println!(
        "{}",
        json!({
            "mrz_read_wall_ms": mean(&wall), "mrz_read_cpu_ms": mean(&cpu), "mrz_read_cpu_ms_min": min(&cpu),
            "width": img.width(), "height": img.height(), "iters": a.iters, "load_avg": trustcap_cputime::load_average_text(),
            "stages_cpu_ms": profile.iter().map(|(k, v, n)| json!({"stage": k, "cpu_ms": v, "calls": n})).collect::<Vec<_>>(),
        })
    );
    Ok(())
}
