//! Synthetic bursts for testing and evaluating liveness: a bona fide presentation and four attacks, all
//! made from one still photo of a face.
//!
//! These are *simulations*, not recordings. They exist so the liveness signals can be tested without a lab of
//! printed masks and screens, and so `cargo xtask eval liveness` can report error rates on data anyone has.
//! What each one imitates:
//!
//! - [`Presentation::BonaFide`]: a live head in front of a static background. The face turns a little (yaw
//!   and pitch of about 2–3°) over an ellipsoid depth model, so its points show parallax; fresh sensor noise
//!   in every frame; jittered timestamps.
//! - [`Presentation::Replay`]: the photo shown on a screen: the screen's RGB sub-pixel grid at a pitch of
//!   1.6–2.6 camera pixels and a small angle (so it beats into moiré), a gamma change, a reflection glare
//!   spot, refresh flicker, and the screen held by a hand (moves as a plane).
//! - [`Presentation::Print`]: the photo printed: desaturated, an ordered halftone screen, paper texture, and
//!   the sheet held by a hand.
//! - [`Presentation::FlatPhoto`]: a high-quality photo moved as a flat plane like a hand would (tilt,
//!   rotation, shift, small scale changes), with sensor noise: only the geometry gives it away.
//! - [`Presentation::StillFrame`]: one frame repeated (a virtual camera playing a still).
//!
//! Everything is deterministic for a seed.

use super::FaceBox;
use crate::geometry::{Homography, PI, Point, sin_cos};

/// What is presented to the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presentation {
    /// A live person.
    BonaFide,
    /// The face shown on a screen.
    Replay,
    /// The face printed on paper.
    Print,
    /// A photo moved as a flat plane.
    FlatPhoto,
    /// A single frame repeated.
    StillFrame,
}

impl Presentation {
    /// Every presentation, bona fide first.
    pub const ALL: [Presentation; 5] = [
        Presentation::BonaFide,
        Presentation::Replay,
        Presentation::Print,
        Presentation::FlatPhoto,
        Presentation::StillFrame,
    ];

    /// Stable name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::BonaFide => "bona_fide",
            Self::Replay => "replay",
            Self::Print => "print",
            Self::FlatPhoto => "flat_photo",
            Self::StillFrame => "still_frame",
        }
    }

    /// Whether this is an attack.
    pub const fn is_attack(self) -> bool {
        !matches!(self, Self::BonaFide)
    }
}

/// An RGBA photo with the face box the detector found in it.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// Packed RGBA pixels.
    pub rgba: &'a [u8],
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// The face in the photo.
    pub face: FaceBox,
}

/// A simulated burst.
#[derive(Debug, Clone)]
pub struct Burst {
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Packed RGBA frames.
    pub frames: Vec<Vec<u8>>,
    /// The face box in each frame.
    pub faces: Vec<FaceBox>,
    /// Timestamps, milliseconds.
    pub timestamps_ms: Vec<f64>,
}

/// A small deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `[-1, 1)`.
    fn signed(&mut self) -> f64 {
        2.0 * self.unit() - 1.0
    }
    /// Roughly normal (sum of four uniforms), unit variance.
    fn normal(&mut self) -> f64 {
        (self.unit() + self.unit() + self.unit() + self.unit() - 2.0) * 1.732
    }
}

/// Bilinear RGB sample of the source at continuous coordinates (border pixels repeat).
fn sample(src: &Source<'_>, x: f64, y: f64) -> [f64; 3] {
    let (w, h) = (src.width as i64, src.height as i64);
    let (fx, fy) = (x - 0.5, y - 0.5);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (ax, ay) = (fx - x0, fy - y0);
    let px = |xx: i64, yy: i64| {
        let i = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1)) as usize * 4;
        [f64::from(src.rgba[i]), f64::from(src.rgba[i + 1]), f64::from(src.rgba[i + 2])]
    };
    let (x0, y0) = (x0 as i64, y0 as i64);
    let (a, b, c, d) = (px(x0, y0), px(x0 + 1, y0), px(x0, y0 + 1), px(x0 + 1, y0 + 1));
    let mut out = [0.0; 3];
    for k in 0..3 {
        out[k] = (a[k] * (1.0 - ax) + b[k] * ax) * (1.0 - ay) + (c[k] * (1.0 - ax) + d[k] * ax) * ay;
    }
    out
}

/// The frame geometry: the scale that makes the face `face_share` of the frame width (1 when `None`), and
/// the offsets that centre the face.
fn layout(src: &Source<'_>, width: u32, height: u32, face_share: Option<f64>) -> (f64, f64, f64) {
    let scale = face_share.map_or(1.0, |share| share * f64::from(width) / src.face.width.max(1.0));
    let (fcx, fcy) = (src.face.x + src.face.width / 2.0, src.face.y + src.face.height / 2.0);
    // Output pixel (x, y) shows source pixel ((x - ox) / scale, (y - oy) / scale); the face is centred.
    let ox = f64::from(width) / 2.0 - fcx * scale;
    let oy = f64::from(height) / 2.0 - fcy * scale;
    (scale, ox, oy)
}

/// Renders one frame: `map` takes an output pixel centre to source coordinates; `post` edits the RGB value
/// at an output pixel.
fn render(
    src: &Source<'_>,
    width: u32,
    height: u32,
    map: impl Fn(f64, f64) -> (f64, f64),
    mut post: impl FnMut(u32, u32, [f64; 3]) -> [f64; 3],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(width as usize * height as usize * 4);
    for y in 0..height {
        for x in 0..width {
            let (sx, sy) = map(f64::from(x) + 0.5, f64::from(y) + 0.5);
            let rgb = post(x, y, sample(src, sx, sy));
            out.extend(rgb.iter().map(|v| v.round().clamp(0.0, 255.0) as u8));
            out.push(255);
        }
    }
    out
}

/// `255 · (v / 255)^gamma` for `v` in `0..=255`, tabulated every quarter grey level and interpolated
/// linearly (the error is far below a grey level).
#[derive(Debug, Clone)]
struct GammaCurve(Vec<f64>);

impl GammaCurve {
    const STEPS_PER_LEVEL: f64 = 4.0;

    fn new(gamma: f64) -> Self {
        let n = (255.0 * Self::STEPS_PER_LEVEL) as usize;
        GammaCurve((0..=n + 1).map(|i| 255.0 * (i as f64 / n as f64).min(1.0).powf(gamma)).collect())
    }

    fn apply(&self, v: f64) -> f64 {
        let pos = (v.clamp(0.0, 255.0)) * Self::STEPS_PER_LEVEL;
        let i = pos.floor() as usize;
        let a = pos - pos.floor();
        match (self.0.get(i), self.0.get(i + 1)) {
            (Some(lo), Some(hi)) => lo + (hi - lo) * a,
            (Some(lo), None) => *lo,
            _ => 255.0,
        }
    }
}

/// A hand's slow wobble: a homography (tilt, rotation, shift, scale) for frame `t` of a burst, about the
/// frame centre.
fn hand_wobble(rng_phase: &[f64; 6], t: f64, width: u32, height: u32, amount: f64) -> Option<Homography> {
    let (cx, cy) = (f64::from(width) / 2.0, f64::from(height) / 2.0);
    let wave = |k: usize| sin_cos(2.0 * PI * (0.35 * t * (1.0 + 0.3 * k as f64)) + rng_phase[k]).0;
    let (dx, dy) = (6.0 * amount * wave(0), 4.0 * amount * wave(1));
    let rot = 0.02 * amount * wave(2);
    let (tilt_x, tilt_y) = (0.00012 * amount * wave(3), 0.00012 * amount * wave(4));
    let zoom = 1.0 + 0.02 * amount * wave(5);
    let corners = [
        Point::new(0.0, 0.0),
        Point::new(f64::from(width), 0.0),
        Point::new(f64::from(width), f64::from(height)),
        Point::new(0.0, f64::from(height)),
    ];
    let (s, c) = sin_cos(rot);
    let moved = corners.map(|p| {
        let (x, y) = ((p.x - cx) * zoom, (p.y - cy) * zoom);
        let (x, y) = (c * x - s * y, s * x + c * y);
        let w = 1.0 + tilt_x * x + tilt_y * y;
        Point::new(cx + x / w + dx, cy + y / w + dy)
    });
    Homography::from_points(&corners, &moved)
}

/// The shape of a simulated burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstSpec {
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Number of frames (about 30 fps).
    pub frames: usize,
    /// The face's width as a share of the frame width; `None` keeps the photo's own scale (so fine
    /// patterns in it survive, as for a real re-captured photo).
    pub face_share: Option<f64>,
    /// Seed.
    pub seed: u64,
}

/// Simulates a burst of `presentation` made from `src`.
pub fn burst(src: &Source<'_>, presentation: Presentation, spec: BurstSpec) -> Burst {
    let BurstSpec { width, height, frames, face_share, seed } = spec;
    let mut rng = Rng::new(seed ^ (presentation as u64).wrapping_mul(0x51_7CC1_B727_220A));
    let (scale, ox, oy) = layout(src, width, height, face_share);
    let to_src = move |x: f64, y: f64| ((x - ox) / scale, (y - oy) / scale);
    let face0 = FaceBox {
        x: src.face.x * scale + ox,
        y: src.face.y * scale + oy,
        width: src.face.width * scale,
        height: src.face.height * scale,
    };
    let phase: [f64; 6] = std::array::from_fn(|_| rng.unit() * 2.0 * PI);
    let mut out = Burst { width, height, frames: Vec::new(), faces: Vec::new(), timestamps_ms: Vec::new() };
    let mut clock = 0.0;
    // Screen and print parameters, fixed for the burst.
    let pitch = 1.6 + rng.unit();
    let angle = 0.05 + 0.25 * rng.unit();
    let (sa, ca) = sin_cos(angle);
    let gamma = 1.15 + 0.2 * rng.unit();
    let glare = (f64::from(width) * (0.3 + 0.4 * rng.unit()), f64::from(height) * (0.3 + 0.4 * rng.unit()));
    let dot = 3.0 + 1.5 * rng.unit();
    // The screen's gamma curve and the glare spot are fixed for the burst: tabulate them once (a `powf` and an
    // `exp` per pixel and frame were most of the simulator's time). The glare spot is a separable Gaussian.
    let gamma_curve = GammaCurve::new(gamma);
    let glare_x: Vec<f64> = (0..width).map(|x| (-((f64::from(x) - glare.0) / 60.0).powi(2)).exp()).collect();
    let glare_y: Vec<f64> = (0..height).map(|y| (-((f64::from(y) - glare.1) / 45.0).powi(2)).exp()).collect();
    let still = match presentation {
        Presentation::StillFrame => render(src, width, height, to_src, |_, _, rgb| rgb),
        _ => Vec::new(),
    };
    for k in 0..frames {
        let t = k as f64 / 30.0;
        clock += 33.33 + 1.5 * rng.signed();
        out.timestamps_ms.push(clock);
        let mut noise = Rng::new(seed.wrapping_add(1000 + k as u64));
        // Where the hand holds the picture in this frame (used by the flat presentations).
        let wobble = hand_wobble(&phase, t, width, height, 1.0);
        let frame = match presentation {
            Presentation::StillFrame => still.clone(),
            Presentation::BonaFide => {
                // Head turn over an ellipsoid depth model: displacement grows with depth.
                let (fcx, fcy) = (face0.x + face0.width / 2.0, face0.y + face0.height * 0.55);
                let (a, b) = (face0.width * 0.62, face0.height * 0.75);
                let depth_scale = 0.55 * face0.width;
                let yaw = 0.045 * sin_cos(2.0 * PI * 0.6 * t + phase[0]).0;
                let pitch_angle = 0.03 * sin_cos(2.0 * PI * 0.45 * t + phase[1]).0;
                let (tx, ty) =
                    (1.5 * sin_cos(2.0 * PI * 0.3 * t + phase[2]).0, 1.0 * sin_cos(2.0 * PI * 0.25 * t + phase[3]).0);
                render(
                    src,
                    width,
                    height,
                    |x, y| {
                        let (u, v) = ((x - fcx) / a, (y - fcy) / b);
                        let r2 = u * u + v * v;
                        let z = if r2 < 1.0 { depth_scale * (1.0 - r2).sqrt() } else { 0.0 };
                        // Head points (inside the ellipse, and the head's edge) move; the background stays.
                        let head = if r2 < 1.3 { 1.0 } else { 0.0 };
                        let dx = head * (tx + z * yaw);
                        let dy = head * (ty + z * pitch_angle);
                        to_src(x - dx, y - dy)
                    },
                    |_, _, rgb| rgb.map(|v| v + 2.0 * noise.normal()),
                )
            }
            Presentation::FlatPhoto | Presentation::Replay | Presentation::Print => {
                let h = wobble.and_then(|h| h.inverse());
                let map = |x: f64, y: f64| {
                    let p = h.and_then(|h| h.apply(Point::new(x, y))).unwrap_or(Point::new(x, y));
                    to_src(p.x, p.y)
                };
                let flicker = 1.0 + 0.03 * sin_cos(2.0 * PI * 0.47 * k as f64 + phase[4]).0;
                render(src, width, height, map, |x, y, rgb| {
                    let (fx, fy) = (f64::from(x), f64::from(y));
                    let mut v = rgb;
                    match presentation {
                        Presentation::Replay => {
                            // Screen coordinates of this camera pixel; each screen pixel has R, G, B stripes.
                            let (u, w) = ((ca * fx + sa * fy) / pitch, (-sa * fx + ca * fy) / pitch);
                            let sub = ((u - u.floor()) * 3.0) as usize;
                            let row_gap = if w - w.floor() > 0.85 { 0.55 } else { 1.0 };
                            for (c, value) in v.iter_mut().enumerate() {
                                let lit = if c == sub.min(2) { 1.0 } else { 0.78 };
                                *value = gamma_curve.apply(*value) * lit * row_gap * flicker * 1.08;
                            }
                            let spot = 90.0
                                * glare_x.get(x as usize).copied().unwrap_or(0.0)
                                * glare_y.get(y as usize).copied().unwrap_or(0.0);
                            v = v.map(|c| c + spot);
                        }
                        Presentation::Print => {
                            let grey = 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
                            // 45° ordered dot screen.
                            let (u, w) = ((fx + fy) / (dot * 1.414), (fx - fy) / (dot * 1.414));
                            let (su, _) = sin_cos(2.0 * PI * u);
                            let (sw, _) = sin_cos(2.0 * PI * w);
                            let screen = 0.5 + 0.25 * (su + sw);
                            let paper = 0.96 + 0.04 * sin_cos(0.07 * fx + 0.05 * fy).0;
                            for value in v.iter_mut() {
                                let washed = 0.35 * *value + 0.65 * grey;
                                let ink = if washed / 255.0 > screen { 1.0 } else { 0.35 };
                                *value = (0.5 * washed + 0.5 * 255.0 * ink * washed / 255.0 * 1.4) * paper;
                            }
                        }
                        _ => {}
                    }
                    v.map(|c| c + 2.0 * noise.normal())
                })
            }
        };
        let face = match presentation {
            Presentation::FlatPhoto | Presentation::Replay | Presentation::Print => {
                let centre = Point::new(face0.x + face0.width / 2.0, face0.y + face0.height / 2.0);
                let c = wobble.and_then(|h| h.apply(centre)).unwrap_or(centre);
                FaceBox { x: c.x - face0.width / 2.0, y: c.y - face0.height / 2.0, ..face0 }
            }
            _ => face0,
        };
        out.frames.push(frame);
        out.faces.push(face);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tabulated_gamma_curve_matches_powf() {
        for gamma in [1.15, 1.25, 1.35] {
            let curve = GammaCurve::new(gamma);
            for k in 0..=2550 {
                let v = f64::from(k) / 10.0;
                let exact = 255.0 * (v / 255.0).powf(gamma);
                assert!((curve.apply(v) - exact).abs() < 0.01, "gamma {gamma} at {v}");
            }
            assert_eq!(curve.apply(-3.0), 0.0);
            assert!((curve.apply(300.0) - 255.0).abs() < 1e-9);
        }
    }
}
