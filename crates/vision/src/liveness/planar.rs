//! Planar-motion test: does the face move like a flat picture?
//!
//! Points of a photo or a screen all lie on one plane, so between any two frames they move by a single
//! homography, however the attacker tilts or shakes it. A real head is a 3-D object: when it turns, or the
//! phone moves, the nose, cheeks and ears move by different amounts (parallax) and no single homography
//! explains them.
//!
//! [`MotionTracker`] picks textured points on a grid inside the face of the first frame (preferring
//! two-dimensional texture: an edge such as a hair strand cannot be located along itself, and the slide
//! along it would look like parallax), follows each by
//! zero-mean block matching (the template always comes from the first frame, so there is no drift; the
//! search starts where the point was last seen) with sub-pixel refinement, and for each frame fits one
//! homography to all followed points ([`Homography::fit`], one round of outlier removal). The coherent
//! residual after the fit (each point's residual replaced by the median over its grid neighbourhood),
//! relative to how far the points moved, is the signal: near zero for a flat picture, clearly
//! above the tracking noise for a face. Too little motion to tell is reported as such, not guessed.
//!
//! Images are luma `f32` planes of one fixed size in one fixed coordinate frame for the whole burst (the
//! caller resamples a fixed region of each frame, see [`super::LivenessAnalyzer`]).

use crate::geometry::{Homography, Point};

/// Half-size of the matched patch (patches are `2r+1` square).
const PATCH: i64 = 4;
/// Search radius around the last position, in pixels.
const SEARCH: i64 = 5;
/// Spacing of the point grid, in pixels.
const GRID: usize = 9;
/// A point whose best mean absolute difference exceeds this (grey levels) is lost.
const MAX_MATCH_ERROR: f64 = 14.0;
/// Minimum mean absolute gradient in a patch for it to be trackable.
const MIN_TEXTURE: f64 = 2.5;
/// Smallest ratio of the structure tensor's eigenvalues (weak over strong direction) for a preferred point:
/// below it the patch is an edge (a hair strand, an eyelid), whose position along the edge block matching
/// cannot pin down, and the slide along the edge is shared by its neighbours: a coherent residual that a
/// flat picture does not have.
const MIN_ISOTROPY: f64 = 0.1;
/// With fewer preferred (two-dimensionally textured) points than this, edge points are used as well.
const MIN_PREFERRED_POINTS: usize = 3 * MIN_POINTS;
/// Fewest points a homography is fitted to.
const MIN_POINTS: usize = 8;
/// Root-mean-square motion (pixels) below which a frame says nothing about planarity.
pub const MIN_MOTION: f64 = 0.8;

/// A rectangle in working-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// One followed point.
#[derive(Debug, Clone, Copy)]
struct Track {
    origin: Point,
    current: Point,
    alive: bool,
}

/// How one frame's points moved relative to the first frame.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct FrameMotion {
    /// Root-mean-square displacement of the followed points, pixels.
    pub motion: f64,
    /// Root-mean-square distance of the points from the best single homography after replacing each
    /// point's residual vector by the component-wise median over it and its grid neighbours (the *coherent*
    /// part of the residual), pixels.
    pub residual: f64,
    /// The same with the neighbourhood mean instead of the median (more sensitive to single bad tracks).
    pub mean_residual: f64,
    /// Points used in the fit.
    pub points: usize,
}

/// The planarity verdict over a burst.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct PlanarReport {
    /// Largest root-mean-square motion seen, pixels.
    pub max_motion: f64,
    /// `sqrt(Σ residual² / Σ motion²)` over the frames that moved at least [`MIN_MOTION`]; `None` when no
    /// frame did (nothing to judge).
    pub residual_ratio: Option<f64>,
    /// The same ratio from the neighbourhood-mean residual ([`FrameMotion::mean_residual`]).
    pub mean_residual_ratio: Option<f64>,
    /// Frames that moved enough to count.
    pub frames_judged: usize,
    /// Points followed in the first frame.
    pub points: usize,
}

/// Follows face points through a burst and measures how planar their motion is.
#[derive(Debug, Clone)]
pub struct MotionTracker {
    width: usize,
    height: usize,
    reference: Vec<f32>,
    tracks: Vec<Track>,
    frames: Vec<FrameMotion>,
}

impl MotionTracker {
    /// Starts from the first frame (`width × height` luma) and the face rectangle in it. Returns `None` if the
    /// image size does not match the slice.
    pub fn new(first: &[f32], width: usize, height: usize, face: Rect) -> Option<Self> {
        if width == 0 || height == 0 || first.len() != width * height {
            return None;
        }
        let (mut tracks, mut edges) = (Vec::new(), Vec::new());
        let margin = (PATCH + SEARCH + 2) as f64;
        let (x0, x1) = ((face.x + 0.1 * face.w).max(margin), (face.x + 0.9 * face.w).min(width as f64 - margin));
        let (y0, y1) = ((face.y + 0.1 * face.h).max(margin), (face.y + 0.95 * face.h).min(height as f64 - margin));
        let mut y = y0;
        while y < y1 {
            let mut x = x0;
            while x < x1 {
                let (cx, cy) = (x.round() as i64, y.round() as i64);
                if texture(first, width, cx, cy) >= MIN_TEXTURE {
                    let p = Point::new(cx as f64, cy as f64);
                    let track = Track { origin: p, current: p, alive: true };
                    if isotropy(first, width, cx, cy) >= MIN_ISOTROPY { tracks.push(track) } else { edges.push(track) }
                }
                x += GRID as f64;
            }
            y += GRID as f64;
        }
        if tracks.len() < MIN_PREFERRED_POINTS {
            tracks.append(&mut edges);
        }
        Some(MotionTracker { width, height, reference: first.to_vec(), tracks, frames: Vec::new() })
    }

    /// Points followed from the first frame.
    pub fn points(&self) -> usize {
        self.tracks.len()
    }

    /// Follows the points into the next frame (same size as the first). `None` if the size is wrong or too
    /// few points are left to fit a homography.
    pub fn track(&mut self, image: &[f32]) -> Option<FrameMotion> {
        if image.len() != self.width * self.height {
            return None;
        }
        for t in self.tracks.iter_mut().filter(|t| t.alive) {
            match best_match(&self.reference, image, self.width, self.height, t.origin, t.current) {
                Some(p) => t.current = p,
                None => t.alive = false,
            }
        }
        let mut pairs: Vec<(Point, Point)> =
            self.tracks.iter().filter(|t| t.alive).map(|t| (t.origin, t.current)).collect();
        let motion = fit_motion(&mut pairs)?;
        self.frames.push(motion);
        Some(motion)
    }

    /// The verdict so far.
    pub fn report(&self) -> PlanarReport {
        let (mut res, mut res_mean, mut mot, mut judged, mut max_motion) = (0.0, 0.0, 0.0, 0, 0.0f64);
        for f in &self.frames {
            max_motion = max_motion.max(f.motion);
            if f.motion >= MIN_MOTION {
                res += f.residual * f.residual;
                res_mean += f.mean_residual * f.mean_residual;
                mot += f.motion * f.motion;
                judged += 1;
            }
        }
        PlanarReport {
            max_motion,
            residual_ratio: (judged > 0).then(|| (res / mot).sqrt()),
            mean_residual_ratio: (judged > 0).then(|| (res_mean / mot).sqrt()),
            frames_judged: judged,
            points: self.tracks.len(),
        }
    }
}

/// Fits one homography to the pairs, drops gross outliers (tracking failures) once, refits, and reports
/// motion and residual. `None` with fewer than [`MIN_POINTS`] pairs or a degenerate fit.
fn fit_motion(pairs: &mut Vec<(Point, Point)>) -> Option<FrameMotion> {
    if pairs.len() < MIN_POINTS {
        return None;
    }
    let h = Homography::fit(pairs)?;
    let residuals: Vec<f64> = pairs.iter().map(|(a, b)| h.apply(*a).map_or(f64::MAX, |p| p.distance(*b))).collect();
    let mut sorted = residuals.clone();
    sorted.sort_by(f64::total_cmp);
    let limit = (3.0 * sorted[sorted.len() / 2]).max(1.0);
    let mut keep = residuals.iter().map(|r| *r <= limit);
    pairs.retain(|_| keep.next().unwrap_or(false));
    if pairs.len() < MIN_POINTS {
        return None;
    }
    let h = Homography::fit(pairs)?;
    // Residual vectors; then the coherent part of each: the component-wise median of its own and its grid
    // neighbours' residuals. Parallax is a smooth field and survives; tracking noise is independent from point
    // to point and shrinks, and one badly tracked point (a large error that escaped the outlier cut) no longer
    // leaks into its eight neighbours as it did with a plain mean.
    let errors: Vec<(Point, f64, f64)> = pairs
        .iter()
        .map(|(a, b)| {
            let p = h.apply(*a).unwrap_or(*b);
            (*a, b.x - p.x, b.y - p.y)
        })
        .collect();
    let reach = 1.5 * GRID as f64;
    let (mut r2, mut r2_mean, mut m2) = (0.0, 0.0, 0.0);
    let (mut xs, mut ys) = (Vec::with_capacity(9), Vec::with_capacity(9));
    for ((a, b), (origin, ..)) in pairs.iter().zip(&errors) {
        xs.clear();
        ys.clear();
        for (o, ex, ey) in &errors {
            if (o.x - origin.x).abs() <= reach && (o.y - origin.y).abs() <= reach {
                xs.push(*ex);
                ys.push(*ey);
            }
        }
        let (mx, my) = (median(&mut xs), median(&mut ys));
        r2 += mx * mx + my * my;
        let k = xs.len().max(1) as f64;
        let (ax, ay) = (xs.iter().sum::<f64>() / k, ys.iter().sum::<f64>() / k);
        r2_mean += ax * ax + ay * ay;
        m2 += a.distance(*b) * a.distance(*b);
    }
    let n = pairs.len() as f64;
    Some(FrameMotion {
        motion: (m2 / n).sqrt(),
        residual: (r2 / n).sqrt(),
        mean_residual: (r2_mean / n).sqrt(),
        points: pairs.len(),
    })
}

/// The median of `values` (reordered in place); 0 when empty.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => 0.5 * (values[n / 2 - 1] + values[n / 2]),
    }
}

/// Ratio of the smaller to the larger eigenvalue of the patch's structure tensor (central differences): near
/// 0 for an edge, up to 1 for a corner or a blob; 0 for a flat patch.
fn isotropy(img: &[f32], width: usize, cx: i64, cy: i64) -> f64 {
    let (mut gxx, mut gxy, mut gyy) = (0.0f64, 0.0f64, 0.0f64);
    for dy in -PATCH..=PATCH {
        for dx in -PATCH..=PATCH {
            let i = ((cy + dy) as usize) * width + (cx + dx) as usize;
            let gx = 0.5 * f64::from(img[i + 1] - img[i - 1]);
            let gy = 0.5 * f64::from(img[i + width] - img[i - width]);
            gxx += gx * gx;
            gxy += gx * gy;
            gyy += gy * gy;
        }
    }
    let (mean, diff) = (0.5 * (gxx + gyy), (0.25 * (gxx - gyy) * (gxx - gyy) + gxy * gxy).sqrt());
    if mean + diff <= 1e-12 { 0.0 } else { (mean - diff).max(0.0) / (mean + diff) }
}

/// Mean absolute horizontal plus vertical difference inside the patch at `(cx, cy)`.
fn texture(img: &[f32], width: usize, cx: i64, cy: i64) -> f64 {
    let mut sum = 0.0;
    for dy in -PATCH..=PATCH {
        for dx in -PATCH..=PATCH {
            let i = ((cy + dy) as usize) * width + (cx + dx) as usize;
            sum += f64::from((img[i + 1] - img[i]).abs() + (img[i + width] - img[i]).abs());
        }
    }
    sum / ((2 * PATCH + 1) * (2 * PATCH + 1)) as f64
}

/// Side of a matched patch.
const PATCH_SIDE: usize = (2 * PATCH + 1) as usize;

/// Whether the patch centred at `(x, y)` lies inside a `width × height` image.
fn patch_inside((x, y): (i64, i64), width: usize, height: usize) -> bool {
    x - PATCH >= 0 && y - PATCH >= 0 && x + PATCH < width as i64 && y + PATCH < height as i64
}

/// The reference patch at `origin` (row-major) and the sum of its values; `None` outside the image.
fn reference_patch(
    reference: &[f32],
    width: usize,
    height: usize,
    origin: (i64, i64),
) -> Option<([f32; PATCH_SIDE * PATCH_SIDE], f32)> {
    if !patch_inside(origin, width, height) {
        return None;
    }
    let mut patch = [0.0f32; PATCH_SIDE * PATCH_SIDE];
    let mut sum = 0.0f32;
    let x0 = (origin.0 - PATCH) as usize;
    for (dy, out) in patch.chunks_exact_mut(PATCH_SIDE).enumerate() {
        let start = (origin.1 - PATCH) as usize + dy;
        let row = reference.get(start * width + x0..start * width + x0 + PATCH_SIDE)?;
        out.copy_from_slice(row);
        // The sum in the same order as the image patch's in `patch_cost`.
        sum = row.iter().fold(sum, |acc, v| acc + v);
    }
    Some((patch, sum))
}

/// Zero-mean mean absolute difference between the reference patch (from [`reference_patch`]: values and
/// sum) and the image patch at `(x, y)`; `None` outside the image.
fn patch_cost(
    (patch, reference_sum): &([f32; PATCH_SIDE * PATCH_SIDE], f32),
    image: &[f32],
    width: usize,
    height: usize,
    at: (i64, i64),
) -> Option<f64> {
    if !patch_inside(at, width, height) {
        return None;
    }
    let n = (PATCH_SIDE * PATCH_SIDE) as f32;
    let x0 = (at.0 - PATCH) as usize;
    let rows = |dy: usize| {
        let start = ((at.1 - PATCH) as usize + dy) * width + x0;
        image.get(start..start + PATCH_SIDE)
    };
    let mut mb = 0.0f32;
    for dy in 0..PATCH_SIDE {
        mb = rows(dy)?.iter().fold(mb, |acc, v| acc + v);
    }
    let offset = (mb - reference_sum) / n;
    let mut cost = 0.0f32;
    for (dy, reference_row) in patch.chunks_exact(PATCH_SIDE).enumerate() {
        for (v, r) in rows(dy)?.iter().zip(reference_row) {
            cost += (v - offset - r).abs();
        }
    }
    Some(f64::from(cost / n))
}

/// The sub-pixel position in `image` of the reference patch at `origin`, searched around `last`.
fn best_match(
    reference: &[f32],
    image: &[f32],
    width: usize,
    height: usize,
    origin: Point,
    last: Point,
) -> Option<Point> {
    let o = (origin.x as i64, origin.y as i64);
    let template = reference_patch(reference, width, height, o)?;
    let (lx, ly) = (last.x.round() as i64, last.y.round() as i64);
    let mut best: Option<(f64, i64, i64)> = None;
    for y in ly - SEARCH..=ly + SEARCH {
        for x in lx - SEARCH..=lx + SEARCH {
            if let Some(c) = patch_cost(&template, image, width, height, (x, y))
                && best.is_none_or(|(b, _, _)| c < b)
            {
                best = Some((c, x, y));
            }
        }
    }
    let (c, x, y) = best?;
    if c > MAX_MATCH_ERROR {
        return None;
    }
    refine(reference, image, width, height, o, Point::new(x as f64, y as f64))
}

/// Sub-pixel refinement of a match by a few inverse-compositional Lucas–Kanade steps (translation and a
/// brightness offset): the template's gradients and their 2×2 Gauss–Newton matrix are fixed, the image is
/// sampled bilinearly at the current estimate, and the estimate moves by the least-squares step. Stops when
/// the step is below 0.01 px; `None` if the template has no texture or the estimate leaves the image.
fn refine(
    reference: &[f32],
    image: &[f32],
    width: usize,
    height: usize,
    origin: (i64, i64),
    start: Point,
) -> Option<Point> {
    let idx = |x: i64, y: i64| y as usize * width + x as usize;
    let n = (2 * PATCH + 1) * (2 * PATCH + 1);
    let (mut gxx, mut gxy, mut gyy) = (0.0f64, 0.0f64, 0.0f64);
    let mut grads = Vec::with_capacity(n as usize);
    let mut template = Vec::with_capacity(n as usize);
    for dy in -PATCH..=PATCH {
        for dx in -PATCH..=PATCH {
            let (x, y) = (origin.0 + dx, origin.1 + dy);
            let gx = 0.5 * f64::from(reference[idx(x + 1, y)] - reference[idx(x - 1, y)]);
            let gy = 0.5 * f64::from(reference[idx(x, y + 1)] - reference[idx(x, y - 1)]);
            gxx += gx * gx;
            gxy += gx * gy;
            gyy += gy * gy;
            grads.push((gx, gy));
            template.push(f64::from(reference[idx(x, y)]));
        }
    }
    let det = gxx * gyy - gxy * gxy;
    if det <= 1e-9 {
        return Some(start);
    }
    let t_mean = template.iter().sum::<f64>() / n as f64;
    let mut p = start;
    let mut warped = vec![0.0f64; n as usize];
    for _ in 0..5 {
        let limit = |v: f64, size: usize| v - PATCH as f64 >= 0.0 && v + PATCH as f64 + 1.0 < size as f64;
        if !limit(p.x, width) || !limit(p.y, height) {
            return None;
        }
        let (x0, y0) = (p.x.floor(), p.y.floor());
        let (ax, ay) = (p.x - x0, p.y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let mut k = 0;
        for dy in -PATCH..=PATCH {
            for dx in -PATCH..=PATCH {
                let (x, y) = (x0 + dx, y0 + dy);
                let top = f64::from(image[idx(x, y)]) * (1.0 - ax) + f64::from(image[idx(x + 1, y)]) * ax;
                let bottom = f64::from(image[idx(x, y + 1)]) * (1.0 - ax) + f64::from(image[idx(x + 1, y + 1)]) * ax;
                warped[k] = top * (1.0 - ay) + bottom * ay;
                k += 1;
            }
        }
        let offset = warped.iter().sum::<f64>() / n as f64 - t_mean;
        let (mut bx, mut by) = (0.0, 0.0);
        for ((w, t), (gx, gy)) in warped.iter().zip(&template).zip(&grads) {
            let e = w - offset - t;
            bx += gx * e;
            by += gy * e;
        }
        let step_x = (gyy * bx - gxy * by) / det;
        let step_y = (gxx * by - gxy * bx) / det;
        p = Point::new(p.x - step_x.clamp(-1.0, 1.0), p.y - step_y.clamp(-1.0, 1.0));
        if step_x.abs() < 0.01 && step_y.abs() < 0.01 {
            break;
        }
    }
    (p.distance(start) <= 1.5).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A textured test pattern evaluated at continuous coordinates (so warps can be sampled exactly).
    fn pattern(x: f64, y: f64) -> f32 {
        let v = 128.0 + 40.0 * ((x * 0.31).sin() * (y * 0.23).cos()) + 30.0 * ((x * 0.11 + y * 0.17).sin());
        v as f32
    }

    fn render(w: usize, h: usize, map: impl Fn(f64, f64) -> (f64, f64)) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                let (x, y) = map((i % w) as f64, (i / w) as f64);
                pattern(x, y)
            })
            .collect()
    }

    const FACE: Rect = Rect { x: 40.0, y: 40.0, w: 120.0, h: 120.0 };

    /// The patch cost as first written (both means summed at every position): the definition the
    /// cached-template version must equal to the bit.
    fn reference_cost(
        reference: &[f32],
        image: &[f32],
        w: usize,
        h: usize,
        o: (i64, i64),
        at: (i64, i64),
    ) -> Option<f64> {
        if !patch_inside(o, w, h) || !patch_inside(at, w, h) {
            return None;
        }
        let n = ((2 * PATCH + 1) * (2 * PATCH + 1)) as f32;
        let (mut ma, mut mb) = (0.0f32, 0.0f32);
        for dy in -PATCH..=PATCH {
            for dx in -PATCH..=PATCH {
                ma += reference[((o.1 + dy) as usize) * w + (o.0 + dx) as usize];
                mb += image[((at.1 + dy) as usize) * w + (at.0 + dx) as usize];
            }
        }
        let offset = (mb - ma) / n;
        let mut cost = 0.0f32;
        for dy in -PATCH..=PATCH {
            for dx in -PATCH..=PATCH {
                let a = reference[((o.1 + dy) as usize) * w + (o.0 + dx) as usize];
                cost += (image[((at.1 + dy) as usize) * w + (at.0 + dx) as usize] - offset - a).abs();
            }
        }
        Some(f64::from(cost / n))
    }

    #[test]
    fn patch_cost_with_a_cached_template_equals_the_definition() {
        let (w, h) = (40, 30);
        let reference = render(w, h, |x, y| (x, y));
        let image = render(w, h, |x, y| (x * 1.02 + 0.7, y * 0.98 - 0.4));
        for o in [(4, 4), (10, 12), (35, 25), (3, 10), (36, 10), (20, 26)] {
            let template = reference_patch(&reference, w, h, o);
            for at in (-2..44).flat_map(|x| (-2..34).map(move |y| (x, y))) {
                let expected = reference_cost(&reference, &image, w, h, o, at);
                let got = template.as_ref().and_then(|t| patch_cost(t, &image, w, h, at));
                assert_eq!(got.map(f64::to_bits), expected.map(f64::to_bits), "origin {o:?} at {at:?}");
            }
        }
    }

    #[test]
    fn a_plane_shaken_by_a_homography_is_planar() {
        let (w, h) = (200, 200);
        let first = render(w, h, |x, y| (x, y));
        let mut tracker = MotionTracker::new(&first, w, h, FACE).unwrap();
        assert!(tracker.points() > 50);
        for k in 1..=6 {
            let t = f64::from(k);
            // The inverse map of a small tilt, rotation and shift.
            let frame = render(w, h, |x, y| {
                let d = 1.0 + 0.0004 * t * (x - 100.0) / 100.0;
                ((x - 0.6 * t + 0.004 * t * (y - 100.0)) / d, (y - 0.4 * t - 0.004 * t * (x - 100.0)) / d)
            });
            tracker.track(&frame).unwrap();
        }
        let r = tracker.report();
        assert!(r.max_motion > 2.0, "{r:?}");
        assert!(r.residual_ratio.unwrap() < 0.04, "{r:?}");
    }

    #[test]
    fn parallax_is_not_planar() {
        let (w, h) = (200, 200);
        // A bump in depth: points near the centre move further than the edges when the view shifts.
        let depth = |x: f64, y: f64| {
            let (dx, dy) = ((x - 100.0) / 60.0, (y - 100.0) / 60.0);
            (1.0 - dx * dx - dy * dy).max(0.0)
        };
        let first = render(w, h, |x, y| (x, y));
        let mut tracker = MotionTracker::new(&first, w, h, FACE).unwrap();
        for k in 1..=6 {
            let t = f64::from(k) * 0.5;
            let frame = render(w, h, |x, y| (x - t * (0.3 + 1.5 * depth(x, y)), y - 0.2 * t));
            tracker.track(&frame).unwrap();
        }
        let r = tracker.report();
        assert!(r.residual_ratio.unwrap() > 0.12, "{r:?}");
    }

    #[test]
    fn a_still_burst_has_nothing_to_judge() {
        let (w, h) = (200, 200);
        let first = render(w, h, |x, y| (x, y));
        let mut tracker = MotionTracker::new(&first, w, h, FACE).unwrap();
        for _ in 0..5 {
            tracker.track(&first).unwrap();
        }
        let r = tracker.report();
        assert_eq!(r.residual_ratio, None);
        assert_eq!(r.max_motion, 0.0);
    }

    #[test]
    fn edges_are_told_from_corners() {
        let w = 32;
        // A vertical edge, a checkerboard corner, and a flat patch.
        let edge: Vec<f32> = (0..w * w).map(|i| if i % w < 16 { 50.0 } else { 200.0 }).collect();
        let corner: Vec<f32> = (0..w * w).map(|i| if (i % w < 16) == (i / w < 16) { 50.0 } else { 200.0 }).collect();
        let flat = vec![90.0f32; w * w];
        assert!(isotropy(&edge, w, 16, 16) < 0.01);
        assert!(isotropy(&corner, w, 16, 16) > 0.5);
        assert_eq!(isotropy(&flat, w, 16, 16), 0.0);
    }

    #[test]
    fn the_median_ignores_one_stray_value() {
        assert_eq!(median(&mut [0.1, 0.0, -0.1, 3.0, 0.05]), 0.05);
        assert_eq!(median(&mut [1.0, 3.0]), 2.0);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn wrong_sizes_are_refused() {
        assert!(MotionTracker::new(&[0.0; 10], 4, 4, FACE).is_none());
        let first = render(64, 64, |x, y| (x, y));
        let mut tracker = MotionTracker::new(&first, 64, 64, Rect { x: 8.0, y: 8.0, w: 48.0, h: 48.0 }).unwrap();
        assert!(tracker.track(&[0.0; 5]).is_none());
    }
}
