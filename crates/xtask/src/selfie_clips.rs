//! The fake-camera clips of the end-to-end selfie tests, rendered from `astronaut.png` (fetched with
//! the models by `cargo xtask models`, pinned by its SHA-256), so the suite reads no data files:
//!
//! - `selfie_flat_photo.y4m`: the photo held in front of the camera as a flat plane and moved like a
//!   hand would (small translation, rotation, perspective tilt and scale, on a smooth path that returns
//!   to its start, since Chromium's fake camera loops the file), with fresh sensor noise in every frame;
//! - `selfie_still_frame.y4m`: one frame of it repeated, bit for bit (a virtual camera playing a still).
//!
//! Neither may pass liveness: the first moves exactly as one homography (no parallax), the second has
//! no sensor noise and no motion at all.

use std::path::Path;

use trustcap_vision::geometry::{Homography, PI, Point, sin_cos};
use trustcap_vision::synth;

use crate::test::write_atomic;

/// Frame size of the selfie clips (4:3, like a front camera's preview stream; small enough that the
/// 512-pixel photo is barely enlarged).
pub const WIDTH: u32 = 480;
/// Frame height.
pub const HEIGHT: u32 = 360;
/// Frames per second.
pub const FPS: u32 = 30;
/// Frames of one loop of the flat-photo path (2 s).
pub const LOOP_FRAMES: u32 = 60;

/// The face in `astronaut.png` (512×512), in photo pixels: the centre and width of the box BlazeFace-128
/// gives it (within the bounds crates/wasm-face/tests/real_model.rs checks; only used to frame the face
/// in the SDK's oval).
const FACE_CENTRE: (f64, f64) = (228.0, 135.0);
/// The face box's width in photo pixels.
const FACE_WIDTH: f64 = 100.0;
/// The face's width in the clip as a share of the frame width (the SDK's oval wants 25–50 %).
const FACE_SHARE: f64 = 0.3;

/// Renders both clips into `dir`.
pub fn write(dir: &Path) -> Result<(), String> {
    let path = crate::models::model_dir().join("astronaut.png");
    let photo =
        image::open(&path).map_err(|e| format!("{}: {e} (run `cargo xtask models`)", path.display()))?.to_rgba8();
    let (pw, ph) = photo.dimensions();
    let photo = Photo { rgba: photo.as_raw(), width: pw, height: ph };

    let flat: Vec<Vec<u8>> = (0..LOOP_FRAMES)
        .map(|k| {
            let mut frame = photo.render(hand_path(f64::from(k) / f64::from(LOOP_FRAMES)));
            synth::add_noise_rgba(&mut frame, 3000 + u64::from(k), 2);
            frame
        })
        .collect();
    let y4m = |frames: &[Vec<u8>]| synth::write_y4m(frames, WIDTH, HEIGHT, FPS).map_err(|e| format!("{e:?}"));
    write_atomic(&dir.join("selfie_flat_photo.y4m"), &y4m(&flat)?)?;

    let mut still = photo.render(hand_path(0.0));
    synth::add_noise_rgba(&mut still, 4000, 2);
    // The same frame as a photo for the file-input fallback (`Capture#submitFile` in a selfie step).
    crate::test::write_png(&dir.join("selfie_still.png"), WIDTH, HEIGHT, still.clone())?;
    let still: Vec<Vec<u8>> = (0..8).map(|_| still.clone()).collect();
    write_atomic(&dir.join("selfie_still_frame.y4m"), &y4m(&still)?)?;
    println!(
        "  selfie_flat_photo.y4m ({WIDTH}x{HEIGHT}, {LOOP_FRAMES} frames), selfie_still_frame.y4m (one frame), selfie_still.png"
    );
    Ok(())
}

/// Where the hand holds the photo at phase `p` (0..1 over one loop): how a point of the photo's resting
/// position moves in the frame. Every term is periodic in `p`, so the loop has no jump.
fn hand_path(p: f64) -> Homography {
    let (w, h) = (f64::from(WIDTH), f64::from(HEIGHT));
    let (cx, cy) = (w / 2.0, h / 2.0);
    let wave = |harmonic: f64, phase: f64| sin_cos(2.0 * PI * harmonic * p + phase).0;
    // The amounts of `trustcap_vision::liveness::simulate`'s hand wobble (the flat-photo attack the
    // liveness evaluation measures), on a 2 s loop.
    let (dx, dy) = (6.0 * wave(1.0, 0.0), 4.0 * wave(2.0, 1.0));
    let rot = 0.02 * wave(1.0, 0.6);
    let zoom = 1.0 + 0.02 * wave(1.0, 2.0);
    let (tilt_x, tilt_y) = (0.00012 * wave(1.0, 1.3), 0.00012 * wave(2.0, 0.2));
    let corners = [Point::new(0.0, 0.0), Point::new(w, 0.0), Point::new(w, h), Point::new(0.0, h)];
    let (s, c) = sin_cos(rot);
    let moved = corners.map(|q| {
        let (x, y) = ((q.x - cx) * zoom, (q.y - cy) * zoom);
        let (x, y) = (c * x - s * y, s * x + c * y);
        let d = 1.0 + tilt_x * x + tilt_y * y;
        Point::new(cx + x / d + dx, cy + y / d + dy)
    });
    // The corners are never degenerate for these small amounts; identity is a safe fallback.
    Homography::from_points(&corners, &moved).unwrap_or(Homography { h: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0] })
}

/// The photo and where it rests in the frame: scaled so the face is [`FACE_SHARE`] of the frame width,
/// the face centred a little above the middle, on a plain wall.
struct Photo<'a> {
    rgba: &'a [u8],
    width: u32,
    height: u32,
}

impl Photo<'_> {
    /// One frame with the photo moved by `motion` from its resting position.
    fn render(&self, motion: Homography) -> Vec<u8> {
        let scale = FACE_SHARE * f64::from(WIDTH) / FACE_WIDTH;
        let ox = f64::from(WIDTH) / 2.0 - FACE_CENTRE.0 * scale;
        let oy = f64::from(HEIGHT) * 0.48 - FACE_CENTRE.1 * scale;
        let back = motion.inverse();
        let mut out = Vec::with_capacity((WIDTH * HEIGHT * 4) as usize);
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let at = Point::new(f64::from(x) + 0.5, f64::from(y) + 0.5);
                let rest = back.and_then(|b| b.apply(at)).unwrap_or(at);
                let (sx, sy) = ((rest.x - ox) / scale, (rest.y - oy) / scale);
                let rgb = self.sample(sx, sy).unwrap_or_else(|| wall(x, y));
                out.extend_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
            }
        }
        out
    }

    /// Bilinear sample at photo coordinates; `None` outside the photo.
    fn sample(&self, x: f64, y: f64) -> Option<[u8; 3]> {
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        if !(0.0..w).contains(&x) || !(0.0..h).contains(&y) {
            return None;
        }
        let (fx, fy) = ((x - 0.5).max(0.0), (y - 0.5).max(0.0));
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (ax, ay) = (fx - fx.floor(), fy - fy.floor());
        let (pw, ph) = (self.width as usize, self.height as usize);
        let (x1, y1) = ((x0 + 1).min(pw - 1), (y0 + 1).min(ph - 1));
        let px =
            |xx: usize, yy: usize, c: usize| f64::from(self.rgba.get((yy * pw + xx) * 4 + c).copied().unwrap_or(0));
        let mut out = [0u8; 3];
        for (c, v) in out.iter_mut().enumerate() {
            let top = px(x0, y0, c) * (1.0 - ax) + px(x1, y0, c) * ax;
            let bottom = px(x0, y1, c) * (1.0 - ax) + px(x1, y1, c) * ax;
            *v = (top * (1.0 - ay) + bottom * ay).round().clamp(0.0, 255.0) as u8;
        }
        Some(out)
    }
}

/// A plain, slightly shaded wall behind the photo.
fn wall(x: u32, y: u32) -> [u8; 3] {
    let shade = 150.0 + 30.0 * f64::from(x) / f64::from(WIDTH) - 20.0 * f64::from(y) / f64::from(HEIGHT);
    let v = shade.round().clamp(0.0, 255.0) as u8;
    [v, v.saturating_sub(6), v.saturating_sub(14)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_path_loops_without_a_jump_and_moves_smoothly() {
        let centre = Point::new(f64::from(WIDTH) / 2.0, f64::from(HEIGHT) / 2.0);
        let at = |p: f64| hand_path(p).apply(centre).unwrap();
        let (a, b) = (at(0.0), at(1.0));
        assert!(a.distance(b) < 1e-6, "the loop closes");
        let mut largest_step: f64 = 0.0;
        let mut travel: f64 = 0.0;
        for k in 0..LOOP_FRAMES {
            let (p, q) = (at(f64::from(k) / f64::from(LOOP_FRAMES)), at(f64::from(k + 1) / f64::from(LOOP_FRAMES)));
            largest_step = largest_step.max(p.distance(q));
            travel = travel.max(p.distance(a));
        }
        // Slow enough for the guidance's steadiness check, yet far over a burst for the planar test.
        assert!(largest_step < 3.0, "{largest_step} px per frame");
        assert!(travel > 5.0, "{travel} px");
    }
}
