//! Deterministic synthetic scenes and degradations for tests, benches, browser tests and fake-camera files.
//!
//! Everything here is a pure function of its arguments (a `u64` seed drives a tiny SplitMix64 generator),
//! so the same call gives the same bytes on every platform, including wasm32. Scenes are drawn with integer
//! geometry relative to the image size, so a 1280x720 scene downscaled 2x looks like the 640x360 one.
//!
//! Buffers are packed RGBA8 (`width * height * 4` bytes). Functions that modify a buffer do nothing if it is
//! shorter than `width * height * 4` (they never panic).

use crate::boundary::DocumentFormat;
use crate::geometry::{self, Homography, Point, Quad};

/// SplitMix64: a tiny, fast, well-mixed deterministic generator (not for cryptography).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Generator seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform integer in `0..n` (`n == 0` gives 0); slight modulo bias is irrelevant here.
    pub fn below(&mut self, n: u32) -> u32 {
        if n == 0 { 0 } else { (self.next_u64() % u64::from(n)) as u32 }
    }
}

/// SplitMix64 finaliser: a stateless 64-bit hash.
const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a pixel position and seed.
fn pixel_hash(x: u32, y: u32, seed: u64) -> u64 {
    mix64(seed ^ (u64::from(x) << 32 | u64::from(y)).wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// `width * height * 4` if it fits in `usize`.
fn rgba_len(width: u32, height: u32) -> Option<usize> {
    (width as usize).checked_mul(height as usize)?.checked_mul(4)
}

/// Simple clipped drawing on a packed RGBA8 canvas.
struct Canvas<'a> {
    px: &'a mut [u8],
    w: i64,
    h: i64,
}

impl Canvas<'_> {
    fn set(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && x < self.w && y < self.h {
            let i = ((y * self.w + x) * 4) as usize;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Fills `[x0, x1) x [y0, y1)`.
    fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
        for y in y0.max(0)..y1.min(self.h) {
            for x in x0.max(0)..x1.min(self.w) {
                self.set(x, y, c);
            }
        }
    }

    /// Fills an axis-aligned ellipse, clipped to `[clip.0, clip.2) x [clip.1, clip.3)`.
    fn ellipse(&mut self, cx: i64, cy: i64, rx: i64, ry: i64, clip: (i64, i64, i64, i64), c: [u8; 3]) {
        let (rx, ry) = (rx.max(1), ry.max(1));
        let (rx2, ry2) = (rx * rx, ry * ry);
        for y in (cy - ry).max(clip.1)..(cy + ry + 1).min(clip.3) {
            for x in (cx - rx).max(clip.0)..(cx + rx + 1).min(clip.2) {
                let (dx, dy) = (x - cx, y - cy);
                if dx * dx * ry2 + dy * dy * rx2 <= rx2 * ry2 {
                    self.set(x, y, c);
                }
            }
        }
    }

    /// Draws a glyph: a 3x5 cell bitmap (`bits`, bit `r * 3 + c`) in the box `(x0, y0, gw, gh)`.
    fn glyph(&mut self, x0: i64, y0: i64, gw: i64, gh: i64, bits: u16, c: [u8; 3]) {
        for r in 0..5 {
            for col in 0..3 {
                if bits >> (r * 3 + col) & 1 == 1 {
                    let (ya, yb) = (y0 + r * gh / 5, y0 + (r + 1) * gh / 5);
                    let (xa, xb) = (x0 + col * gw / 3, x0 + (col + 1) * gw / 3);
                    self.rect(xa, ya, xb.max(xa + 1), yb.max(ya + 1), c);
                }
            }
        }
    }
}

/// A random glyph bitmap with a glyph-like stroke density (never empty).
fn random_glyph(rng: &mut SplitMix64) -> u16 {
    let a = rng.next_u64();
    // AND of two thirds-dense masks plus one guaranteed vertical stroke.
    let bits = ((a | (a >> 15)) & (a >> 30 | a >> 45)) as u16 & 0x7FFF;
    let stroke = [0b001_001_001_001_001u16, 0b010_010_010_010_010, 0b100_100_100_100_100][(a >> 62) as usize % 3];
    bits | stroke
}

/// Draws a line of words starting at `(x0, y)` and not extending past `x_max`.
#[allow(clippy::too_many_arguments)]
fn text_line(
    cv: &mut Canvas<'_>,
    rng: &mut SplitMix64,
    x0: i64,
    x_max: i64,
    y: i64,
    gh: i64,
    fill_pct: u32,
    c: [u8; 3],
) {
    let gh = gh.max(3);
    let gw = (gh * 3 / 5).max(2);
    let pitch = gw + (gw / 3).max(1);
    let end = x0 + (x_max - x0) * i64::from(fill_pct) / 100;
    let mut x = x0;
    while x + gw <= end {
        let word = 2 + rng.below(7);
        for _ in 0..word {
            if x + gw > end {
                break;
            }
            cv.glyph(x, y, gw, gh, random_glyph(rng), c);
            x += pitch;
        }
        x += pitch;
    }
}

/// Packed RGBA of an ID-1 card (85.60 x 53.98 mm) on a mid-tone textured table, well exposed, no glare.
///
/// The card fills about 65% of the width, centred; its body is light (luma ~212-224, never above 228, so
/// even a limited-range YUV interpretation does not clip it). It carries a header band with a title, a
/// portrait with a face-like blob, seven lines of dark glyph "text" and two MRZ-like lines of monospaced
/// glyph blocks. Returns an empty vector if `width` or `height` is 0 or the size overflows `usize`.
pub fn document_scene(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let Some(len) = rgba_len(width, height) else { return Vec::new() };
    if len == 0 {
        return Vec::new();
    }
    let mut px = vec![255u8; len];
    let (w, h) = (i64::from(width), i64::from(height));

    // Table: warm mid-tone with diagonal wood-like grain (scale-relative) and fine per-pixel texture.
    let tex_seed = seed ^ 0x7AB1_E000;
    for y in 0..height {
        for x in 0..width {
            let t = (u64::from(y) * 9 * 128 / u64::from(height) + u64::from(x) * 2 * 128 / u64::from(width)) % 128;
            let grain = (t as i32 - 64).abs() / 4 - 8; // -8..=8
            let noise = (pixel_hash(x, y, tex_seed) % 13) as i32 - 6; // -6..=6
            let i = (y as usize * width as usize + x as usize) * 4;
            for (c, base) in [128i32, 112, 96].into_iter().enumerate() {
                px[i + c] = (base + grain + noise).clamp(0, 255) as u8;
            }
        }
    }

    // Card geometry (ID-1 aspect), centred.
    let mut cw = w * 13 / 20;
    let mut ch = cw * 5398 / 8560;
    if ch > h * 9 / 10 {
        ch = h * 9 / 10;
        cw = ch * 8560 / 5398;
    }
    let (cx0, cy0) = ((w - cw) / 2, (h - ch) / 2);
    draw_card(&mut px, w, h, (cx0, cy0, cw, ch), seed);
    px
}

/// Draws the card of [`document_scene`] into the box `(x0, y0, cw, ch)` of a `w × h` canvas: light body with
/// a faint guilloche and rounded corners, header band, portrait, seven text lines and two MRZ-like lines.
fn draw_card(px: &mut [u8], w: i64, h: i64, card: (i64, i64, i64, i64), seed: u64) {
    let (cx0, cy0, cw, ch) = card;
    let cxp = |permille: i64| cx0 + cw * permille / 1000;
    let cyp = |permille: i64| cy0 + ch * permille / 1000;
    let radius = (cw / 28).max(1);

    // Card body: light, with a faint guilloche-like pattern and fine texture; rounded corners.
    let body_seed = seed ^ 0xCA4D_0000;
    for y in cy0.max(0)..(cy0 + ch).min(h) {
        for x in cx0.max(0)..(cx0 + cw).min(w) {
            let (dx, dy) = ((x - cx0).min(cx0 + cw - 1 - x), (y - cy0).min(cy0 + ch - 1 - y));
            if dx < radius && dy < radius {
                let (ex, ey) = (radius - dx, radius - dy);
                if ex * ex + ey * ey > radius * radius {
                    continue;
                }
            }
            let u = (x - cx0) * 256 / cw.max(1);
            let v = (y - cy0) * 256 / ch.max(1);
            let wave = ((u * 3 + v * 2) % 64 - 32).abs() / 8 - 2; // -2..=2
            let noise = (pixel_hash(x as u32, y as u32, body_seed) % 5) as i64 - 2; // -2..=2
            let i = ((y * w + x) * 4) as usize;
            for (c, base) in [222i64, 220, 214].into_iter().enumerate() {
                px[i + c] = (base + wave + noise) as u8;
            }
            px[i + 3] = 255;
        }
    }

    let mut rng = SplitMix64::new(seed);
    let mut cv = Canvas { px, w, h };
    let ink = [34, 36, 48];
    let clip_all = (0, 0, w, h);

    // Header band with a title.
    cv.rect(cxp(0), cyp(50), cxp(1000), cyp(140), [150, 174, 204]);
    text_line(&mut cv, &mut rng, cxp(50), cxp(700), cyp(70), ch * 55 / 1000, 100, [24, 42, 100]);

    // Portrait: background, hair, face with eyes and mouth, shoulders.
    let (px0, py0, px1, py1) = (cxp(50), cyp(190), cxp(330), cyp(760));
    cv.rect(px0, py0, px1, py1, [176, 186, 200]);
    let clip = (px0, py0, px1, py1);
    let fx = cxp(190);
    cv.ellipse(fx, cyp(700), cw * 120 / 1000, ch * 170 / 1000, clip, [52, 60, 82]);
    cv.ellipse(fx, cyp(380), cw * 78 / 1000, ch * 160 / 1000, clip, [62, 46, 36]);
    cv.ellipse(fx, cyp(430), cw * 62 / 1000, ch * 150 / 1000, clip, [206, 166, 140]);
    cv.ellipse(cxp(165), cyp(410), cw * 11 / 1000, ch * 14 / 1000, clip_all, [40, 30, 30]);
    cv.ellipse(cxp(215), cyp(410), cw * 11 / 1000, ch * 14 / 1000, clip_all, [40, 30, 30]);
    cv.rect(cxp(170), cyp(500), cxp(210), cyp(515).max(cyp(500) + 1), [150, 82, 80]);

    // Data lines to the right of the portrait: small grey labels and larger dark values.
    for line in 0..7 {
        let y = cyp(185 + line * 80);
        let fill = 45 + rng.below(55);
        text_line(&mut cv, &mut rng, cxp(370), cxp(950), y, ch * 45 / 1000, fill, ink);
    }

    // MRZ: two lines of 30 monospaced glyph blocks.
    for y in [cyp(800), cyp(890)] {
        let pitch_num = 900;
        for k in 0..30 {
            let x = cxp(50 + k * pitch_num / 30);
            let gw = cw * 21 / 1000;
            let bits = if rng.below(4) == 0 { 0b001_010_100_010_001 } else { random_glyph(&mut rng) };
            cv.glyph(x, y, gw.max(2), (ch * 62 / 1000).max(3), bits, [20, 20, 24]);
        }
    }
}

/// The standard test frame for benches and browser tests: [`document_scene`].
pub fn test_frame(width: u32, height: u32, seed: u64) -> Vec<u8> {
    document_scene(width, height, seed)
}

/// Separable Gaussian blur of the RGB channels (alpha untouched), clamp-to-edge, radius `ceil(3 sigma)`.
///
/// Test tooling, not a metric: it uses `exp` and `f32`. `sigma <= 0` (or NaN) does nothing.
pub fn gaussian_blur_rgba(rgba: &mut [u8], width: u32, height: u32, sigma: f32) {
    let Some(len) = rgba_len(width, height) else { return };
    if rgba.len() < len || len == 0 || sigma.is_nan() || sigma <= 0.0 {
        return;
    }
    let radius = (3.0 * sigma).ceil().min(4096.0) as usize;
    let kernel: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            let d = i as f32 - radius as f32;
            (-(d * d) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    convolve_1d(&mut rgba[..len], width as usize, height as usize, &kernel, true);
    convolve_1d(&mut rgba[..len], width as usize, height as usize, &kernel, false);
}

/// One clamp-to-edge 1-D convolution pass (centred kernel) along rows or columns.
fn convolve_1d(rgba: &mut [u8], w: usize, h: usize, kernel: &[f32], horizontal: bool) {
    let radius = kernel.len() / 2;
    let (lines, len) = if horizontal { (h, w) } else { (w, h) };
    let index = |line: usize, pos: usize| if horizontal { (line * w + pos) * 4 } else { (pos * w + line) * 4 };
    let mut src = vec![[0u8; 3]; len];
    for line in 0..lines {
        for (pos, s) in src.iter_mut().enumerate() {
            let i = index(line, pos);
            s.copy_from_slice(&rgba[i..i + 3]);
        }
        for pos in 0..len {
            let mut acc = [0f32; 3];
            for (k, &wk) in kernel.iter().enumerate() {
                let p = (pos + k).saturating_sub(radius).min(len - 1);
                for c in 0..3 {
                    acc[c] += wk * f32::from(src[p][c]);
                }
            }
            let i = index(line, pos);
            for c in 0..3 {
                rgba[i + c] = acc[c].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// Horizontal motion blur: a box kernel of `length` pixels (clamp-to-edge), RGB only. `length <= 1` does
/// nothing.
pub fn motion_blur_rgba(rgba: &mut [u8], width: u32, height: u32, length: u32) {
    let Some(len) = rgba_len(width, height) else { return };
    if rgba.len() < len || len == 0 || length <= 1 {
        return;
    }
    let (w, n) = (width as usize, length.min(1 << 20) as usize);
    let before = (n - 1) / 2;
    let mut row = vec![[0u32; 3]; w];
    for y in 0..height as usize {
        for (x, px) in row.iter_mut().enumerate() {
            let i = (y * w + x) * 4;
            *px = [u32::from(rgba[i]), u32::from(rgba[i + 1]), u32::from(rgba[i + 2])];
        }
        for x in 0..w {
            let mut acc = [0u32; 3];
            for k in 0..n {
                let p = (x + k).saturating_sub(before).min(w - 1);
                for c in 0..3 {
                    acc[c] += row[p][c];
                }
            }
            let i = (y * w + x) * 4;
            for c in 0..3 {
                rgba[i + c] = ((acc[c] + n as u32 / 2) / n as u32) as u8;
            }
        }
    }
}

/// Adds a saturated specular blob: a white disc of `radius` around `(cx, cy)` plus a soft halo out to
/// `2 * radius` that brightens at most halfway to white (so the halo of a scene at or below luma 244 stays
/// below the glare level). Returns the number of pixels set to white (the disc, clipped to the image).
pub fn add_glare_rgba(rgba: &mut [u8], width: u32, height: u32, cx: u32, cy: u32, radius: u32) -> u32 {
    let Some(len) = rgba_len(width, height) else { return 0 };
    if rgba.len() < len || len == 0 {
        return 0;
    }
    let r = i64::from(radius);
    let (cx, cy) = (i64::from(cx), i64::from(cy));
    let (r2, outer2) = (r * r, 4 * r * r);
    let mut count = 0u32;
    for y in (cy - 2 * r).max(0)..(cy + 2 * r + 1).min(i64::from(height)) {
        for x in (cx - 2 * r).max(0)..(cx + 2 * r + 1).min(i64::from(width)) {
            let d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
            let i = ((y * i64::from(width) + x) * 4) as usize;
            if d2 <= r2 {
                rgba[i..i + 3].fill(255);
                count += 1;
            } else if d2 <= outer2 {
                let t = 128 * (outer2 - d2) / (3 * r2); // 0..128
                for v in &mut rgba[i..i + 3] {
                    *v += ((255 - i64::from(*v)) * t / 256) as u8;
                }
            }
        }
    }
    count
}

/// Adds uniform noise in `[-amplitude, amplitude]` to every R, G, B byte (saturating), alpha untouched.
pub fn add_noise_rgba(rgba: &mut [u8], seed: u64, amplitude: u8) {
    if amplitude == 0 {
        return;
    }
    let span = 2 * u64::from(amplitude) + 1;
    let mut rng = SplitMix64::new(seed);
    for px in rgba.chunks_exact_mut(4) {
        let bits = rng.next_u64();
        for (c, v) in px[..3].iter_mut().enumerate() {
            let delta = ((bits >> (21 * c)) & 0x1F_FFFF) % span;
            *v = (i64::from(*v) + delta as i64 - i64::from(amplitude)).clamp(0, 255) as u8;
        }
    }
}

/// Multiplies R, G, B by `factor_num / factor_den` (rounded, saturating at 255). `factor_den == 0` does
/// nothing.
pub fn scale_brightness_rgba(rgba: &mut [u8], factor_num: u32, factor_den: u32) {
    if factor_den == 0 {
        return;
    }
    let (num, den) = (u64::from(factor_num), u64::from(factor_den));
    for px in rgba.chunks_exact_mut(4) {
        for v in &mut px[..3] {
            *v = ((u64::from(*v) * num + den / 2) / den).min(255) as u8;
        }
    }
}

/// The true corners of the card in [`document_scene`] (sharp-corner rectangle, continuous pixel coordinates,
/// clockwise from the top-left).
pub fn document_scene_corners(width: u32, height: u32) -> [Point; 4] {
    let (w, h) = (i64::from(width), i64::from(height));
    let mut cw = w * 13 / 20;
    let mut ch = cw * 5398 / 8560;
    if ch > h * 9 / 10 {
        ch = h * 9 / 10;
        cw = ch * 8560 / 5398;
    }
    let (x0, y0) = ((w - cw) / 2, (h - ch) / 2);
    let p = |x: i64, y: i64| Point::new(x as f64, y as f64);
    [p(x0, y0), p(x0 + cw, y0), p(x0 + cw, y0 + ch), p(x0, y0 + ch)]
}

/// A rendered card scene and the card's true corners.
#[derive(Debug, Clone)]
pub struct CardScene {
    /// Packed RGBA8 pixels.
    pub rgba: Vec<u8>,
    /// True corners of the card (sharp-corner outline), clockwise from the top-left, in continuous pixel
    /// coordinates.
    pub corners: [Point; 4],
}

/// The flat card texture of `format` at `width` pixels (landscape): RGBA with alpha 0 outside the rounded
/// corners.
pub fn card_texture(format: DocumentFormat, width: u32, seed: u64) -> (Vec<u8>, u32, u32) {
    let height = ((f64::from(width) / format.aspect()).round() as u32).max(1);
    let Some(len) = rgba_len(width, height) else { return (Vec::new(), 0, 0) };
    let mut px = vec![0u8; len];
    draw_card(&mut px, i64::from(width), i64::from(height), (0, 0, i64::from(width), i64::from(height)), seed);
    (px, width, height)
}

/// A card of `format` seen at an angle on one of five busy backgrounds (chosen by `seed`: wood grain,
/// checkerboard tiles, a low-contrast light table, clutter of papers and objects, diagonal fabric), with
/// in-plane rotation up to ±12°, perspective from corners moved by up to 5% of the card width, and, when
/// `occlude` is set, a hand whose fingers cover one corner. The card covers roughly 20–35% of the frame.
pub fn card_scene(width: u32, height: u32, seed: u64, format: DocumentFormat, occlude: bool) -> CardScene {
    let Some(len) = rgba_len(width, height) else {
        return CardScene { rgba: Vec::new(), corners: [Point::default(); 4] };
    };
    let mut rng = SplitMix64::new(seed ^ 0x5CE7E);
    let mut px = vec![255u8; len];
    paint_background(&mut px, width, height, seed);
    let (w, h) = (f64::from(width), f64::from(height));
    let unit = |rng: &mut SplitMix64| f64::from(rng.below(2001)) / 1000.0 - 1.0; // [-1, 1]
    let card_w = w * (0.48 + 0.12 * (unit(&mut rng) + 1.0) / 2.0);
    let card_h = card_w / format.aspect();
    let (cx, cy) = (w / 2.0 + unit(&mut rng) * 0.08 * w, h / 2.0 + unit(&mut rng) * 0.08 * h);
    let angle = unit(&mut rng) * 12.0 * geometry::PI / 180.0;
    let (sa, ca) = geometry::sin_cos(angle);
    let mut corners = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(sx, sy)| {
        let (dx, dy) = (sx * card_w / 2.0, sy * card_h / 2.0);
        Point::new(cx + dx * ca - dy * sa, cy + dx * sa + dy * ca)
    });
    for c in &mut corners {
        c.x += unit(&mut rng) * 0.05 * card_w;
        c.y += unit(&mut rng) * 0.05 * card_w;
    }
    place_card(&mut px, width, height, format, &corners, seed);
    if occlude {
        let corner = corners[rng.below(4) as usize];
        draw_hand(&mut px, width, height, corner, Point::new(cx, cy), card_w);
    }
    CardScene { rgba: px, corners: Quad::from_cyclic(corners).corners }
}

/// Draws the card texture of `format` (at its rectified size, so a perfect rectification reproduces it)
/// onto the quadrilateral `corners` (clockwise from the card's top-left) of a packed RGBA frame, with
/// anti-aliased edges. Does nothing if the buffer is too short or the corners are degenerate.
pub fn place_card(rgba: &mut [u8], width: u32, height: u32, format: DocumentFormat, corners: &[Point; 4], seed: u64) {
    if rgba_len(width, height).is_none_or(|len| rgba.len() < len) {
        return;
    }
    let (tex, tw, th) = card_texture(format, format.rectified_size().0, seed);
    warp_texture(rgba, width, height, &tex, tw, th, corners);
}

fn paint_background(px: &mut [u8], width: u32, height: u32, seed: u64) {
    let (w, h) = (i64::from(width), i64::from(height));
    let kind = seed % 5;
    let mut rng = SplitMix64::new(seed ^ 0xBAC6);
    for y in 0..h {
        for x in 0..w {
            let noise = (pixel_hash(x as u32, y as u32, seed) % 9) as i64 - 4;
            let c: [i64; 3] = match kind {
                0 => {
                    let t = (y * 9 * 128 / h + x * 2 * 128 / w) % 128;
                    let g = (t - 64).abs() / 3 - 10;
                    [120 + g, 96 + g, 70 + g]
                }
                1 => {
                    let tile = (w / 16).max(2);
                    if (x / tile + y / tile) % 2 == 0 { [70, 72, 78] } else { [150, 150, 146] }
                }
                2 => [186, 184, 178],
                3 => [96, 104, 92],
                _ => {
                    let stripe = ((x + y) / (w / 64).max(1)) % 2;
                    if stripe == 0 { [60, 80, 120] } else { [90, 110, 150] }
                }
            };
            let i = ((y * w + x) * 4) as usize;
            for k in 0..3 {
                px[i + k] = (c[k] + noise).clamp(0, 255) as u8;
            }
            px[i + 3] = 255;
        }
    }
    if kind == 3 {
        // Clutter: overlapping rectangles (papers, a phone, a pen).
        let mut cv = Canvas { px, w, h };
        for _ in 0..9 {
            let (x0, y0) = (i64::from(rng.below(width)) - w / 8, i64::from(rng.below(height)) - h / 8);
            let (rw, rh) = (i64::from(rng.below(width / 4)) + w / 20, i64::from(rng.below(height / 4)) + h / 20);
            let shade = [rng.below(200) as u8 + 30, rng.below(200) as u8 + 30, rng.below(200) as u8 + 30];
            cv.rect(x0, y0, x0 + rw, y0 + rh, shade);
        }
    }
}

/// Warps `tex` (alpha 0 = transparent) onto the quadrilateral `corners` of `px` with 2×2 supersampling.
fn warp_texture(px: &mut [u8], width: u32, height: u32, tex: &[u8], tw: u32, th: u32, corners: &[Point; 4]) {
    let src = [
        Point::new(0.0, 0.0),
        Point::new(f64::from(tw), 0.0),
        Point::new(f64::from(tw), f64::from(th)),
        Point::new(0.0, f64::from(th)),
    ];
    let Some(to_tex) = Homography::from_points(corners, &src) else { return };
    let x0 = corners.iter().map(|c| c.x).fold(f64::INFINITY, f64::min).floor().max(0.0) as u32;
    let x1 = (corners.iter().map(|c| c.x).fold(f64::NEG_INFINITY, f64::max).ceil() as u32).min(width);
    let y0 = corners.iter().map(|c| c.y).fold(f64::INFINITY, f64::min).floor().max(0.0) as u32;
    let y1 = (corners.iter().map(|c| c.y).fold(f64::NEG_INFINITY, f64::max).ceil() as u32).min(height);
    for y in y0..y1 {
        for x in x0..x1 {
            let mut acc = [0u32; 3];
            let mut covered = 0u32;
            for (sx, sy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let Some(t) = to_tex.apply(Point::new(f64::from(x) + sx, f64::from(y) + sy)) else { continue };
                if t.x < 0.0 || t.y < 0.0 || t.x >= f64::from(tw) || t.y >= f64::from(th) {
                    continue;
                }
                let ti = ((t.y as usize) * tw as usize + t.x as usize) * 4;
                if tex[ti + 3] == 0 {
                    continue;
                }
                covered += 1;
                for k in 0..3 {
                    acc[k] += u32::from(tex[ti + k]);
                }
            }
            if covered == 0 {
                continue;
            }
            let i = (y as usize * width as usize + x as usize) * 4;
            for k in 0..3 {
                let bg = u32::from(px[i + k]) * (4 - covered);
                px[i + k] = ((acc[k] + bg + 2) / 4) as u8;
            }
        }
    }
}

/// A hand holding the card: a palm outside `corner` (away from `centre`) and three fingers across it.
fn draw_hand(px: &mut [u8], width: u32, height: u32, corner: Point, centre: Point, card_w: f64) {
    let (dx, dy) = (corner.x - centre.x, corner.y - centre.y);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let skin = [204u8, 150, 124];
    let palm = Point::new(corner.x + ux * 0.16 * card_w, corner.y + uy * 0.16 * card_w);
    let mut disc = |c: Point, r: f64| {
        let (x0, x1) = ((c.x - r).floor().max(0.0) as i64, ((c.x + r).ceil() as i64).min(i64::from(width)));
        let (y0, y1) = ((c.y - r).floor().max(0.0) as i64, ((c.y + r).ceil() as i64).min(i64::from(height)));
        for y in y0..y1 {
            for x in x0..x1 {
                let (ex, ey) = (x as f64 + 0.5 - c.x, y as f64 + 0.5 - c.y);
                if ex * ex + ey * ey <= r * r {
                    let i = ((y * i64::from(width) + x) * 4) as usize;
                    let shade = ((ex * 0.3 + ey * 0.2) as i64).clamp(-20, 20);
                    for k in 0..3 {
                        px[i + k] = (i64::from(skin[k]) + shade).clamp(0, 255) as u8;
                    }
                }
            }
        }
    };
    disc(palm, 0.13 * card_w);
    // Fingers: from the palm towards and past the corner, fanned by ±25°.
    for (k, spread) in [-0.45f64, 0.0, 0.45].iter().enumerate() {
        let (s, c) = geometry::sin_cos(*spread);
        let (fx, fy) = (-(ux * c - uy * s), -(ux * s + uy * c));
        let reach = (0.26 + 0.03 * k as f64) * card_w;
        let steps = 24;
        for i in 0..=steps {
            let t = reach * f64::from(i) / f64::from(steps);
            disc(Point::new(palm.x + fx * t, palm.y + fy * t), 0.035 * card_w);
        }
    }
}

/// Why [`write_y4m`] cannot encode the frames.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Y4mError {
    /// Width or height is zero, or `fps` is zero.
    #[error("y4m width, height and fps must be non-zero")]
    Zero,
    /// 4:2:0 chroma needs even dimensions.
    #[error("y4m 4:2:0 needs even dimensions, got {width}x{height}")]
    OddDimensions {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A frame is not `width * height * 4` bytes.
    #[error("frame {index} has {got} bytes, expected {expected}")]
    FrameSize {
        /// Index of the frame.
        index: usize,
        /// Expected byte count.
        expected: usize,
        /// Actual byte count.
        got: usize,
    },
    /// The output size does not fit in memory addressing.
    #[error("y4m output too large")]
    TooLarge,
}

/// Encodes packed RGBA frames as a YUV4MPEG2 (Y4M) stream for Chromium's fake camera.
///
/// Header `YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n`, then per frame `FRAME\n`, the Y plane
/// (`w * h` bytes), the U (Cb) and V (Cr) planes (`w/2 * h/2` bytes each, 2x2 averaged). Colour conversion is
/// BT.601 full range (JPEG/JFIF), in 16-bit fixed point with rounding. Alpha is ignored.
pub fn write_y4m(frames: &[Vec<u8>], width: u32, height: u32, fps: u32) -> Result<Vec<u8>, Y4mError> {
    if width == 0 || height == 0 || fps == 0 {
        return Err(Y4mError::Zero);
    }
    if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(Y4mError::OddDimensions { width, height });
    }
    let expected = rgba_len(width, height).ok_or(Y4mError::TooLarge)?;
    for (index, f) in frames.iter().enumerate() {
        if f.len() != expected {
            return Err(Y4mError::FrameSize { index, expected, got: f.len() });
        }
    }
    let header = format!("YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n");
    let (w, h) = (width as usize, height as usize);
    let frame_bytes = 6 + w * h + 2 * (w / 2) * (h / 2);
    let total =
        frame_bytes.checked_mul(frames.len()).and_then(|n| n.checked_add(header.len())).ok_or(Y4mError::TooLarge)?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(header.as_bytes());
    for f in frames {
        out.extend_from_slice(b"FRAME\n");
        for p in f.chunks_exact(4) {
            let (r, g, b) = (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
            out.push(((19595 * r + 38470 * g + 7471 * b + 32768) >> 16) as u8);
        }
        let mut cb_plane = Vec::with_capacity((w / 2) * (h / 2));
        let mut cr_plane = Vec::with_capacity((w / 2) * (h / 2));
        for by in 0..h / 2 {
            for bx in 0..w / 2 {
                let (mut cb, mut cr) = (0i32, 0i32);
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let i = ((2 * by + dy) * w + 2 * bx + dx) * 4;
                    let (r, g, b) = (i32::from(f[i]), i32::from(f[i + 1]), i32::from(f[i + 2]));
                    cb += -11059 * r - 21709 * g + 32768 * b;
                    cr += 32768 * r - 27439 * g - 5329 * b;
                }
                let bias = 4 * (128 << 16) + (1 << 17);
                cb_plane.push(((cb + bias) >> 18).clamp(0, 255) as u8);
                cr_plane.push(((cr + bias) >> 18).clamp(0, 255) as u8);
            }
        }
        out.extend_from_slice(&cb_plane);
        out.extend_from_slice(&cr_plane);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::luma::rec601_luma;

    #[test]
    fn scene_is_deterministic_and_seeded() {
        let a = document_scene(160, 90, 1);
        assert_eq!(a, document_scene(160, 90, 1));
        assert_ne!(a, document_scene(160, 90, 2));
        assert_eq!(a.len(), 160 * 90 * 4);
        assert_eq!(test_frame(160, 90, 1), a);
        assert!(document_scene(0, 10, 1).is_empty());
    }

    #[test]
    fn scene_is_well_exposed_and_not_clipped() {
        let (w, h) = (640u32, 360u32);
        let img = document_scene(w, h, 3);
        let luma: Vec<u8> = img.chunks_exact(4).map(|p| rec601_luma(p[0], p[1], p[2])).collect();
        assert!(luma.iter().all(|&l| l <= 228), "max {}", luma.iter().max().unwrap());
        assert!(img.chunks_exact(4).all(|p| p[3] == 255));
        // Card centre row contains the light body.
        let centre = (h as usize / 2) * w as usize + w as usize * 3 / 4;
        assert!(luma[centre - 20..centre + 20].iter().any(|&l| l >= 205));
        let mean = luma.iter().map(|&l| u64::from(l)).sum::<u64>() / luma.len() as u64;
        assert!((100..200).contains(&mean), "mean {mean}");
    }

    #[test]
    fn glare_count_is_truth() {
        let (w, h) = (100u32, 80u32);
        let mut img = document_scene(w, h, 4);
        let n = add_glare_rgba(&mut img, w, h, 50, 40, 10);
        let white = img.chunks_exact(4).filter(|p| p[..3] == [255, 255, 255]).count() as u32;
        assert_eq!(n, white);
        assert!((300..330).contains(&n), "{n}"); // ~ pi * 10^2
        // Halo never reaches the glare level on this scene.
        let near_white = img.chunks_exact(4).filter(|p| rec601_luma(p[0], p[1], p[2]) >= 250).count() as u32;
        assert_eq!(near_white, n);
        // Clipped at the border, never panics.
        let n = add_glare_rgba(&mut img, w, h, 0, 0, 10);
        assert!(n > 70 && n < 100, "{n}");
        assert_eq!(add_glare_rgba(&mut [0u8; 3], w, h, 0, 0, 10), 0);
    }

    #[test]
    fn degradations_keep_size_and_alpha() {
        let (w, h) = (64u32, 36u32);
        let base = document_scene(w, h, 5);
        let mut a = base.clone();
        gaussian_blur_rgba(&mut a, w, h, 1.5);
        motion_blur_rgba(&mut a, w, h, 5);
        add_noise_rgba(&mut a, 1, 6);
        scale_brightness_rgba(&mut a, 3, 2);
        assert_eq!(a.len(), base.len());
        assert!(a.chunks_exact(4).all(|p| p[3] == 255));
        // Degenerate inputs are no-ops.
        let mut b = base.clone();
        gaussian_blur_rgba(&mut b, w, h, 0.0);
        gaussian_blur_rgba(&mut b, w, h, f32::NAN);
        motion_blur_rgba(&mut b, w, h, 1);
        scale_brightness_rgba(&mut b, 5, 0);
        add_noise_rgba(&mut b, 1, 0);
        gaussian_blur_rgba(&mut b[..10], w, h, 2.0);
        assert_eq!(b, base);
    }

    #[test]
    fn blur_preserves_flat_and_noise_is_bounded() {
        let mut flat = vec![100u8; 20 * 10 * 4];
        gaussian_blur_rgba(&mut flat, 20, 10, 3.0);
        motion_blur_rgba(&mut flat, 20, 10, 9);
        assert!(flat.iter().all(|&v| v == 100));
        add_noise_rgba(&mut flat, 7, 6);
        assert!(flat.chunks_exact(4).all(|p| p[..3].iter().all(|&v| (94..=106).contains(&v)) && p[3] == 100));
        scale_brightness_rgba(&mut flat, 0, 1);
        assert!(flat.chunks_exact(4).all(|p| p[..3] == [0, 0, 0]));
    }

    #[test]
    fn y4m_header_and_planes() {
        let (w, h) = (4u32, 2u32);
        let mut f = vec![0u8; 32];
        for p in f.chunks_exact_mut(4) {
            p.copy_from_slice(&[255, 255, 255, 255]);
        }
        let out = write_y4m(&[f.clone(), vec![0u8; 32]], w, h, 30).unwrap();
        let header = b"YUV4MPEG2 W4 H2 F30:1 Ip A1:1 C420jpeg\n";
        assert_eq!(&out[..header.len()], header);
        let frame_len = 6 + 8 + 2 + 2;
        assert_eq!(out.len(), header.len() + 2 * frame_len);
        let f0 = &out[header.len()..header.len() + frame_len];
        assert_eq!(&f0[..6], b"FRAME\n");
        assert_eq!(&f0[6..14], &[255; 8]);
        assert_eq!(&f0[14..], &[128, 128, 128, 128]);
        let f1 = &out[header.len() + frame_len..];
        assert_eq!(&f1[6..14], &[0; 8]);
        assert_eq!(&f1[14..], &[128, 128, 128, 128]);
    }

    #[test]
    fn y4m_colour_values() {
        // Pure red: Y = 76, Cb = 85, Cr = 255 (BT.601 full range).
        let red: Vec<u8> = [255u8, 0, 0, 255].repeat(4);
        let out = write_y4m(&[red], 2, 2, 25).unwrap();
        let data = &out[out.len() - 6..];
        assert_eq!(data, &[76, 76, 76, 76, 85, 255]);
    }

    #[test]
    fn y4m_errors() {
        assert_eq!(write_y4m(&[], 3, 2, 30), Err(Y4mError::OddDimensions { width: 3, height: 2 }));
        assert_eq!(write_y4m(&[], 0, 2, 30), Err(Y4mError::Zero));
        assert_eq!(write_y4m(&[], 2, 2, 0), Err(Y4mError::Zero));
        assert_eq!(write_y4m(&[vec![0; 15]], 2, 2, 30), Err(Y4mError::FrameSize { index: 0, expected: 16, got: 15 }));
        assert_eq!(write_y4m(&[], 2, 2, 30).unwrap(), b"YUV4MPEG2 W2 H2 F30:1 Ip A1:1 C420jpeg\n");
    }

    #[test]
    fn y4m_round_trip_error_is_small() {
        let (w, h) = (64u32, 36u32);
        let img = document_scene(w, h, 9);
        let out = write_y4m(std::slice::from_ref(&img), w, h, 30).unwrap();
        let y_start = out.iter().position(|&b| b == b'\n').unwrap() + 1 + 6;
        // Luma plane: compare with the 16-bit BT.601 luma of the source (within 1 of Rec.601 8-bit weights).
        for (i, p) in img.chunks_exact(4).enumerate() {
            let y = i32::from(out[y_start + i]);
            assert!((y - i32::from(rec601_luma(p[0], p[1], p[2]))).abs() <= 1);
        }
    }
}
