//! The two tamper signals on synthetic photos built here: a document-like image photographed "through a
//! screen" (sampled off a sub-pixel RGB grid, with gamma, blur and noise) against the same document
//! photographed directly, and a JPEG with a region pasted from a low-quality JPEG against the clean JPEG.
#![cfg(feature = "ocr")]

use image::{Rgb, RgbImage};
use trustcap_document::checks::{
    ApplicantData, DocumentChecks, DocumentInput, MemorySeen, Outcome, TenantPolicy, VisualFields,
};
use trustcap_document::mrz::Date;
use trustcap_document::signals::{self, jpeg_regions, recapture};
use trustcap_document::tamper::JpegRegionsSignal;

/// Deterministic pseudo-random numbers in `0..1`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 1_000_000) as f64 / 1_000_000.0
    }
}

/// A document-like image: tinted card with a gradient, a portrait blob, coloured bands, a textured
/// background print, and lines of "text" (dark bars of random word lengths).
fn document(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut img = RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (f64::from(x) / f64::from(w), f64::from(y) / f64::from(h));
        let base = [225.0 - 30.0 * fy, 215.0 - 10.0 * fx, 190.0 + 20.0 * fx * fy];
        Rgb(base.map(|v| v as u8))
    });
    // Background print: smooth random blotches (not periodic).
    for _ in 0..40 {
        let (cx, cy, r) = (rng.next() * f64::from(w), rng.next() * f64::from(h), 10.0 + 40.0 * rng.next());
        let tint = [rng.next() * 30.0 - 15.0, rng.next() * 30.0 - 15.0, rng.next() * 30.0 - 15.0];
        for (x, y, p) in img.enumerate_pixels_mut() {
            let d2 = (f64::from(x) - cx).powi(2) + (f64::from(y) - cy).powi(2);
            let k = (-d2 / (r * r)).exp();
            for (c, t) in p.0.iter_mut().zip(tint) {
                *c = (f64::from(*c) + k * t).clamp(0.0, 255.0) as u8;
            }
        }
    }
    // Portrait.
    let (px, py, pw, ph) = (w / 16, h / 5, w / 4, h * 3 / 5);
    for y in py..py + ph {
        for x in px..px + pw {
            let (u, v) =
                ((f64::from(x - px) / f64::from(pw) - 0.5) * 2.0, (f64::from(y - py) / f64::from(ph) - 0.45) * 2.0);
            let face = u * u / 0.45 + v * v / 0.7 < 1.0;
            let c = if face { [196.0, 150.0, 128.0] } else { [120.0, 140.0, 170.0] };
            let shade = 1.0 - 0.25 * u.abs();
            img.put_pixel(x, y, Rgb(c.map(|c| (c * shade) as u8)));
        }
    }
    // Text lines.
    let mut y = h / 6;
    while y + 14 < h * 9 / 10 {
        let mut x = w * 3 / 8;
        while x + 30 < w - w / 20 {
            let word = (3.0 + rng.next() * 9.0) as u32;
            for _ in 0..word {
                let cw = 6 + (rng.next() * 4.0) as u32;
                let ch = 9 + (rng.next() * 5.0) as u32;
                for yy in y + 14 - ch..y + 14 {
                    for xx in x..(x + cw - 2).min(w - 1) {
                        if rng.next() < 0.7 {
                            img.put_pixel(xx, yy, Rgb([30, 30, 40]));
                        }
                    }
                }
                x += cw;
            }
            x += 8 + (rng.next() * 6.0) as u32;
        }
        y += 22 + (rng.next() * 8.0) as u32;
    }
    img
}

fn to_linear(v: u8) -> f64 {
    (f64::from(v) / 255.0).powf(2.2)
}

/// A camera's view: rotation `angle`, `scale` source pixels per camera pixel; `emit(sx, sy)` gives the
/// linear light at a source point. 3×3 samples per camera pixel, then gamma, a [1 2 1] blur, noise.
fn camera(w: u32, h: u32, angle: f64, scale: f64, seed: u64, emit: impl Fn(f64, f64) -> [f64; 3]) -> RgbImage {
    let (s, c) = angle.sin_cos();
    let mut lin = vec![[0.0f64; 3]; (w * h) as usize];
    for cy in 0..h {
        for cx in 0..w {
            let mut acc = [0.0; 3];
            for sy in 0..3 {
                for sx in 0..3 {
                    let (x, y) =
                        (f64::from(cx) + (f64::from(sx) + 0.5) / 3.0, f64::from(cy) + (f64::from(sy) + 0.5) / 3.0);
                    let (u, v) = (scale * (x * c - y * s) + 12.0, scale * (x * s + y * c) + 6.0);
                    let e = emit(u, v);
                    for k in 0..3 {
                        acc[k] += e[k] / 9.0;
                    }
                }
            }
            lin[(cy * w + cx) as usize] = acc;
        }
    }
    let gamma: Vec<[f64; 3]> = lin.iter().map(|p| p.map(|v| 255.0 * v.clamp(0.0, 1.0).powf(1.0 / 2.2))).collect();
    let at =
        |x: i64, y: i64| gamma[(y.clamp(0, i64::from(h) - 1) * i64::from(w) + x.clamp(0, i64::from(w) - 1)) as usize];
    let mut rng = Rng(seed | 1);
    RgbImage::from_fn(w, h, |x, y| {
        let (x, y) = (i64::from(x), i64::from(y));
        let mut out = [0.0; 3];
        for (dy, wy) in [(-1, 1.0), (0, 2.0), (1, 1.0)] {
            for (dx, wx) in [(-1, 1.0), (0, 2.0), (1, 1.0)] {
                let p = at(x + dx, y + dy);
                for k in 0..3 {
                    out[k] += p[k] * wx * wy / 16.0;
                }
            }
        }
        Rgb(out.map(|v| (v + 4.0 * (rng.next() - 0.5)).round().clamp(0.0, 255.0) as u8))
    })
}

/// The source image sampled bilinearly in linear light (the document itself in front of the camera).
fn paper_emit(doc: &RgbImage) -> impl Fn(f64, f64) -> [f64; 3] + '_ {
    move |u, v| {
        let (x0, y0) = (u.floor(), v.floor());
        let (fx, fy) = (u - x0, v - y0);
        let px = |x: f64, y: f64| {
            let x = (x.max(0.0) as u32).min(doc.width() - 1);
            let y = (y.max(0.0) as u32).min(doc.height() - 1);
            doc.get_pixel(x, y).0.map(to_linear)
        };
        let (a, b, c, d) = (px(x0, y0), px(x0 + 1.0, y0), px(x0, y0 + 1.0), px(x0 + 1.0, y0 + 1.0));
        std::array::from_fn(|k| (a[k] * (1.0 - fx) + b[k] * fx) * (1.0 - fy) + (c[k] * (1.0 - fx) + d[k] * fx) * fy)
    }
}

/// The source image shown on a screen: each source pixel is a screen pixel of three vertical R, G, B
/// stripes (80 % fill) with a dark row gap (90 % fill).
fn screen_emit(doc: &RgbImage) -> impl Fn(f64, f64) -> [f64; 3] + '_ {
    move |u, v| {
        let (x, y) = (u.floor(), v.floor());
        let (fx, fy) = (u - x, v - y);
        if fy > 0.9 {
            return [0.0; 3];
        }
        let p = doc.get_pixel((x.max(0.0) as u32).min(doc.width() - 1), (y.max(0.0) as u32).min(doc.height() - 1));
        let stripe = ((fx * 3.0) as usize).min(2);
        let within = fx * 3.0 - stripe as f64;
        let mut e = [0.0; 3];
        if within < 0.8 {
            // Three stripes each lit 80 % of a third: scale so a white pixel averages to white.
            e[stripe] = to_linear(p.0[stripe]) * 3.0 / 0.8 / 0.9;
        }
        e
    }
}

fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(img).expect("encode");
    out
}

fn decode(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes).expect("decode").to_rgb8()
}

/// Noise-textured document (photo grain), so that DCT coefficients are not all zero.
fn grainy_document(seed: u64) -> RgbImage {
    let mut img = document(512, 384, seed);
    let mut rng = Rng(seed.wrapping_mul(31) | 1);
    for p in img.pixels_mut() {
        let n = 10.0 * (rng.next() - 0.5);
        p.0 = p.0.map(|c| (f64::from(c) + n).round().clamp(0.0, 255.0) as u8);
    }
    img
}

#[test]
fn a_screen_recapture_is_flagged_and_the_direct_photo_is_not() {
    let doc = document(560, 420, 7);
    for (angle, scale) in [(0.035, 0.72), (-0.02, 0.61), (0.06, 0.83)] {
        let (w, h) = ((520.0 / scale) as u32, (380.0 / scale) as u32);
        let direct = camera(w, h, angle, scale, 11, paper_emit(&doc));
        let screen = camera(w, h, angle, scale, 11, screen_emit(&doc));
        let d = recapture::measure(&direct);
        let s = recapture::measure(&screen);
        assert!(d.applicable() && !d.is_recapture(), "direct photo at {angle}/{scale}: {d:?}");
        assert!(s.is_recapture(), "screen photo at {angle}/{scale}: {s:?}");
        // The same after a JPEG save, as an upload would be.
        let dj = recapture::measure(&decode(&jpeg(&direct, 85)));
        let sj = recapture::measure(&decode(&jpeg(&screen, 85)));
        assert!(!dj.is_recapture(), "direct photo, JPEG: {dj:?}");
        assert!(sj.is_recapture(), "screen photo, JPEG: {sj:?}");
    }
}

/// A q=90 JPEG with a 128×128 region pasted from a q=40 JPEG at `shift` px off its grid, re-saved at q=90.
fn spliced(shift: u32) -> (Vec<u8>, (u32, u32)) {
    let a = decode(&jpeg(&grainy_document(1), 90));
    let b = decode(&jpeg(&grainy_document(2), 40));
    let (sx, sy, dx, dy) = (96, 96, 192 + shift, 128 + shift);
    let mut out = a.clone();
    for y in 0..128 {
        for x in 0..128 {
            out.put_pixel(dx + x, dy + y, *b.get_pixel(sx + x, sy + y));
        }
    }
    (jpeg(&out, 90), (dx, dy))
}

fn regions(bytes: &[u8]) -> trustcap_document::tamper::JpegRegions {
    match jpeg_regions::measure(bytes, &decode(bytes)) {
        JpegRegionsSignal::Measured(m) => m,
        JpegRegionsSignal::NotJpeg => panic!("a JPEG was not recognised"),
    }
}

// Reason: the q=40 region pasted 3 px off the grid and re-saved at q=90 is not yet flagged: the cells' grid
// contrast at phase (3, 3) stays under GRID_CONTRAST, and lowering it flagged the clean TD3 fixture. Tried on
// 27 Nov: the strongest phase besides the photo's own (0, 0) grid shows (3, 3) above the clean cells' highest
// such contrast (0.22) in only 2 cells, short of the 3-cell cluster.
// Plan: measure the old grid where q=40 left flat blocks (AC energy inside the old blocks against across their
// borders), then un-ignore this test and let tenants enforce the check (issue 8). Run with --ignored.
#[test]
#[ignore = "reason: an off-grid q=40 paste re-saved at q=90 is not yet flagged; plan: measure the old grid in flat blocks (issue 8)"]
fn a_pasted_misaligned_region_is_flagged_where_it_is() {
    let (bytes, (dx, dy)) = spliced(3);
    let r = regions(&bytes);
    assert!(r.is_inconsistent(), "{r:?}");
    assert_eq!(r.grid_phase, (0, 0));
    for f in &r.flagged {
        // Every flagged cell overlaps the pasted region.
        let overlap = f.x < dx + 128 && f.x + f.size > dx && f.y < dy + 128 && f.y + f.size > dy;
        assert!(overlap, "cell at ({}, {}) is outside the pasted region: {r:?}", f.x, f.y);
    }
    assert!(r.flagged.iter().any(|f| f.grid_phase == Some((3, 3))), "{r:?}");
}

#[test]
fn the_clean_jpegs_are_not_flagged() {
    let once = jpeg(&grainy_document(1), 90);
    let twice = jpeg(&decode(&once), 90);
    for (name, bytes) in [("q90", once), ("q90 re-saved", twice)] {
        let r = regions(&bytes);
        assert!(r.applicable() && !r.is_inconsistent(), "{name}: {r:?}");
        assert!(r.flagged.is_empty(), "{name}: {r:?}");
    }
}

#[test]
fn png_input_is_not_applicable() {
    let img = grainy_document(3);
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).expect("png");
    assert_eq!(jpeg_regions::measure(&png, &img), JpegRegionsSignal::NotJpeg);
}

#[test]
fn the_checks_report_both_signals_with_stable_reasons() {
    let today = Date::new(2026, 11, 26).expect("date");
    let run = |bytes: &[u8]| {
        let img = decode(bytes);
        let s = signals::analyze(bytes, &img, None, 0.0).expect("signals");
        let input = DocumentInput {
            mrz: None,
            visual: VisualFields::default(),
            applicant: ApplicantData::default(),
            policy: TenantPolicy::default(),
            signals: Some(s),
            today,
        };
        DocumentChecks::run(&input, &MemorySeen::default())
    };
    let get = |rep: &trustcap_document::checks::DocumentReport, c: &str| rep.get(c).map(|r| (r.outcome, r.reason));
    let clean = run(&jpeg(&grainy_document(1), 90));
    assert_eq!(get(&clean, "jpeg_regions"), Some((Outcome::Pass, "ok")));
    assert_eq!(get(&clean, "screen_recapture"), Some((Outcome::Pass, "ok")));

    let doc = document(560, 420, 7);
    let screen = camera(722, 527, 0.035, 0.72, 11, screen_emit(&doc));
    let rep = run(&jpeg(&screen, 90));
    assert_eq!(get(&rep, "screen_recapture"), Some((Outcome::Fail, "screen_recapture")));
}

#[test]
fn the_synthetic_td3_fixture_passes_both_signals() {
    let bytes = include_bytes!("fixtures/synthetic_td3.jpg");
    let img = decode(bytes);
    let s = recapture::measure(&img);
    assert!(!s.is_recapture(), "{s:?}");
    match jpeg_regions::measure(bytes, &img) {
        JpegRegionsSignal::Measured(r) => assert!(!r.is_inconsistent(), "{r:?}"),
        JpegRegionsSignal::NotJpeg => panic!("the fixture is a JPEG"),
    }
}
