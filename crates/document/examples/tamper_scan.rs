//! `cargo run --release -p trustcap-document --example tamper_scan -- --data DIR [--out OUT]`: the two tamper
//! signals (screen re-capture, JPEG regions) on every genuine photo under `DIR/docs/**` and
//! `DIR/mrz/images/**`, their false-positive rate, and the CPU cost of each signal on the photo scaled to
//! 1000 px (per-thread CPU time from `/proc/thread-self/schedstat`, which a loaded machine inflates far less
//! than wall time). Writes `OUT/tamper_scan.csv`; the last stdout line is one JSON object.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;
use trustcap_cputime::thread_cpu_ms;
use trustcap_document::ocr::decode_image;
use trustcap_document::signals::{jpeg_regions, recapture};
use trustcap_document::tamper::JpegRegionsSignal;

fn args() -> Result<(PathBuf, PathBuf), String> {
    let mut data = PathBuf::from("../shared/data");
    let mut out = PathBuf::from("target/eval/tamper");
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => data = it.next().map(PathBuf::from).ok_or("--data needs a value")?,
            "--out" => out = it.next().map(PathBuf::from).ok_or("--out needs a value")?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok((data, out))
}

/// Runs `f` `n` times; mean (wall ms, CPU ms).
fn timed<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    let (wall, cpu) = (Instant::now(), thread_cpu_ms());
    for _ in 0..n {
        std::hint::black_box(f());
    }
    (wall.elapsed().as_secs_f64() * 1e3 / n as f64, (thread_cpu_ms() - cpu) / n as f64)
}

fn images(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            images(&p, out);
        } else if p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            let e = e.to_ascii_lowercase();
            e == "jpg" || e == "jpeg" || e == "png"
        }) {
            out.push(p);
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() -> Result<(), String> {
    let (data, out) = args()?;
    let mut files = Vec::new();
    images(&data.join("docs"), &mut files);
    images(&data.join("mrz/images"), &mut files);
    if files.is_empty() {
        return Err(format!("no photos under {}/docs or {}/mrz/images", data.display(), data.display()));
    }
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let mut csv = String::from(
        "file,width,height,recapture_tiles,recapture_periodic,recapture_chroma,recapture_score,recapture_median_ratio,\
         recapture_flag,jpeg_status,jpeg_measured_cells,jpeg_flagged_cells,jpeg_flag,first_flag\n",
    );
    let (mut re_n, mut re_flag, mut jp_n, mut jp_flag, mut not_jpeg) = (0, 0, 0, 0, 0);
    let (mut re_cpu, mut jp_cpu, mut re_wall, mut jp_wall) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut re_flagged, mut jp_flagged) = (Vec::new(), Vec::new());
    println!("{:<58} {:>11} {:>22} {:>26}", "photo", "size", "re-capture", "JPEG regions");
    for path in &files {
        let name = path.strip_prefix(&data).unwrap_or(path).display().to_string();
        let bytes = std::fs::read(path).map_err(|e| format!("{name}: {e}"))?;
        let img = match decode_image(&bytes) {
            Ok(i) => i,
            Err(e) => {
                println!("{name}: not decoded ({e})");
                continue;
            }
        };
        let rc = recapture::measure(&img);
        let jr = jpeg_regions::measure(&bytes, &img);
        if rc.applicable() {
            re_n += 1;
            if rc.is_recapture() {
                re_flag += 1;
                re_flagged.push(name.clone());
            }
        }
        let (jstatus, jmeasured, jflagged, jflag, first) = match &jr {
            JpegRegionsSignal::NotJpeg => {
                not_jpeg += 1;
                ("not_jpeg", 0, 0, false, String::new())
            }
            JpegRegionsSignal::Measured(m) => {
                if m.applicable() {
                    jp_n += 1;
                }
                if m.is_inconsistent() {
                    jp_flag += 1;
                    jp_flagged.push(name.clone());
                }
                let first = m.flagged.first().map(|f| format!("{}@{},{}", f.reason, f.x, f.y)).unwrap_or_default();
                let status = if m.applicable() { "measured" } else { "too_few_cells" };
                (status, m.measured_cells, m.flagged.len(), m.is_inconsistent(), first)
            }
        };
        println!(
            "{:<58} {:>5}x{:<5} {:>3}/{:<3} med {:>5.0} {:<5} {:<13} {:>3}/{:<4} {}",
            name,
            img.width(),
            img.height(),
            rc.periodic_tiles,
            rc.tiles,
            rc.median_peak_ratio,
            if rc.is_recapture() { "FLAG" } else { "" },
            jstatus,
            jflagged,
            jmeasured,
            if jflag { format!("FLAG {first}") } else { first.clone() }
        );
        csv.push_str(&format!(
            "{name},{},{},{},{},{},{:.4},{:.1},{},{jstatus},{jmeasured},{jflagged},{jflag},{first}\n",
            img.width(),
            img.height(),
            rc.tiles,
            rc.periodic_tiles,
            rc.chroma_tiles,
            rc.score,
            rc.median_peak_ratio,
            rc.is_recapture()
        ));
        // CPU cost on the photo scaled so its longer side is 1000 px.
        let scale = 1000.0 / f64::from(img.width().max(img.height()));
        let (w, h) =
            ((f64::from(img.width()) * scale).round() as u32, (f64::from(img.height()) * scale).round() as u32);
        let small = image::imageops::resize(&img, w.max(1), h.max(1), image::imageops::FilterType::Triangle);
        let (rw, rcpu) = timed(3, || recapture::measure(&small));
        let (jw, jcpu) = timed(3, || jpeg_regions::measure_pixels(&small));
        re_wall.push(rw);
        re_cpu.push(rcpu);
        jp_wall.push(jw);
        jp_cpu.push(jcpu);
    }
    std::fs::write(out.join("tamper_scan.csv"), csv).map_err(|e| e.to_string())?;
    let rate = |k: usize, n: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    println!();
    println!("photos: {} ({} not JPEG)", files.len(), not_jpeg);
    println!("screen re-capture: {re_flag} of {re_n} applicable photos flagged {re_flagged:?}");
    println!("JPEG regions: {jp_flag} of {jp_n} applicable JPEGs flagged {jp_flagged:?}");
    let (rcpu, jcpu) = (median(re_cpu), median(jp_cpu));
    let (rwall, jwall) = (median(re_wall), median(jp_wall));
    println!(
        "CPU per 1000-px photo (median, one thread): re-capture {rcpu:.1} ms (wall {rwall:.1} ms), JPEG regions \
         {jcpu:.1} ms (wall {jwall:.1} ms)"
    );
    println!("load average: {}", trustcap_cputime::load_average_text());
    println!("CSV: {}", out.join("tamper_scan.csv").display());
    println!(
        "{}",
        json!({
            "photos": files.len(),
            "recapture_applicable": re_n,
            "recapture_flagged": re_flag,
            "recapture_false_positive_rate": rate(re_flag, re_n),
            "jpeg_applicable": jp_n,
            "jpeg_flagged": jp_flag,
            "jpeg_false_positive_rate": rate(jp_flag, jp_n),
            "not_jpeg": not_jpeg,
            "recapture_cpu_ms_1000px": (rcpu * 100.0).round() / 100.0,
            "jpeg_regions_cpu_ms_1000px": (jcpu * 100.0).round() / 100.0,
        })
    );
    Ok(())
}
