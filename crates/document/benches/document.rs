//! MRZ parsing throughput and the MRZ read from a 1000-pixel-wide document photo (one core).
//! The photo is `$TRUSTCAP_BENCH_PHOTO` or the TD3 specimen in `../shared/data` when present.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trustcap_document::mrz::{Date, ParseOptions, parse_lines};

const TD3: [&str; 2] = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"];
const TD1: [&str; 3] =
    ["I<UTOD23145890<1233<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<2", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"];

fn parse(c: &mut Criterion) {
    let today = Date::new(2026, 11, 26).unwrap_or_else(Date::today_utc);
    let mut g = c.benchmark_group("mrz_parse");
    g.throughput(Throughput::Elements(2));
    g.bench_function("td3_2_lines", |b| b.iter(|| parse_lines(black_box(&TD3), ParseOptions::strict(today))));
    g.throughput(Throughput::Elements(3));
    g.bench_function("td1_3_lines", |b| b.iter(|| parse_lines(black_box(&TD1), ParseOptions::strict(today))));
    g.finish();
}

#[cfg(feature = "ocr")]
fn read(c: &mut Criterion) {
    use trustcap_document::ocr::{OcrEngine, decode_image};
    let photo = std::env::var("TRUSTCAP_BENCH_PHOTO").map(std::path::PathBuf::from).unwrap_or_else(|_| {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/mrz/images/passporteye_tests/passport-td3.jpg")
    });
    let (Ok(bytes), Ok(mut engine)) =
        (std::fs::read(&photo), OcrEngine::from_dir(&trustcap_vision::model_cache::default_model_dir()))
    else {
        eprintln!("mrz_read: no photo at {} or no models; skipped", photo.display());
        return;
    };
    let Ok(img) = decode_image(&bytes) else { return };
    let h = (img.height() as f32 * 1000.0 / img.width() as f32).round() as u32;
    let img = image::imageops::resize(&img, 1000, h, image::imageops::FilterType::Triangle);
    let today = Date::new(2026, 11, 26).unwrap_or_else(Date::today_utc);
    let mut g = c.benchmark_group("mrz_read");
    g.sample_size(10);
    g.bench_function("photo_1000px", |b| b.iter(|| engine.read_mrz(black_box(&img), today)));
    g.finish();
    write_cpu_time(&mut engine, &img, today);
}

/// Per-thread CPU time of the same read (the machine may be shared, inflating wall-clock time),
/// written next to criterion's results for `cargo xtask bench document`.
#[cfg(feature = "ocr")]
fn write_cpu_time(engine: &mut trustcap_document::ocr::OcrEngine, img: &image::RgbImage, today: Date) {
    const READS: usize = 10;
    let mut per_read = Vec::with_capacity(READS);
    for _ in 0..READS {
        let t = trustcap_cputime::thread_cpu_ms();
        let _ = black_box(engine.read_mrz(black_box(img), today));
        per_read.push(trustcap_cputime::thread_cpu_ms() - t);
    }
    let mean = per_read.iter().sum::<f64>() / READS as f64;
    let min = per_read.iter().copied().fold(f64::INFINITY, f64::min);
    let load = trustcap_cputime::load_average_text();
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("criterion").join("mrz_read");
    let json =
        format!("{{\"reads\":{READS},\"cpu_ms_mean\":{mean:.3},\"cpu_ms_min\":{min:.3},\"load_avg\":\"{}\"}}", load);
    eprintln!("mrz_read/photo_1000px thread CPU time: mean {mean:.1} ms, min {min:.1} ms over {READS} reads");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("thread_cpu.json"), json);
    }
}

#[cfg(not(feature = "ocr"))]
fn read(_: &mut Criterion) {}

criterion_group!(benches, parse, read);
criterion_main!(benches);
