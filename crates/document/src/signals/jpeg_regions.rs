//! JPEG compression history per region: does a part of the photo come from another JPEG?
//!
//! A JPEG is cut into 8×8 blocks on a grid anchored at the top-left corner; each block's DCT coefficients
//! are divided by a quantisation step and rounded. Decoded pixels keep both traces, even though the `image`
//! crate does not expose the coefficients:
//!
//! * **Block grid.** Rounding makes small steps at block borders, so pixel differences across columns
//!   (rows) `x ≡ phase (mod 8)` are larger on average. A region pasted from another JPEG at a shift that is
//!   not a multiple of 8 carries its old grid at another phase.
//! * **Quantisation step.** Re-computing the DCT of each block *on the file's grid* gives coefficients close
//!   to multiples of the step (within pixel rounding). A region that went through a coarser JPEG on the same
//!   grid and was re-saved keeps only the multiples of the coarse step: its estimated step is a multiple of
//!   the photo's.
//!
//! [`measure`] computes, per aligned block, the five lowest AC coefficients and the border-difference
//! profiles; cells of [`CELL`]×[`CELL`] pixels (overlapping by half) then get a grid phase and a step per
//! coefficient, and cells that disagree with the photo's majority are flagged with their location.
//! Blocks touching clipped pixels (0 or 255) are skipped: clipping breaks both traces.
//!
//! Limits: an edit saved as a whole at a *coarser* quality than the pasted region hides the step trace;
//! a pasted region shifted by exactly a multiple of 8 px from a similar-quality JPEG leaves neither trace;
//! a photo resized after its last JPEG save has no grid at all (then nothing is measured, and nothing is
//! flagged).

use image::RgbImage;

use crate::tamper::{FlaggedCell, JpegRegions, JpegRegionsSignal};

/// Cell side, pixels (a multiple of 8).
pub const CELL: usize = 64;
/// Cell stride, pixels (cells overlap by half).
pub const STRIDE: usize = 32;
/// Border differences are clipped here (grey levels) so that content edges do not swamp block edges.
pub const DIFF_CLIP: f32 = 12.0;
/// A cell's grid is visible when, along both axes, the border difference at its phase exceeds the median of
/// the eight phases by this share (the median, because a re-saved pasted region shows two grids).
pub const GRID_CONTRAST: f32 = 0.4;
/// Largest quantisation step tried.
pub const MAX_STEP: u16 = 48;
/// Fewest coefficients (away from zero) for a step estimate.
pub const MIN_SAMPLES: usize = 12;
/// Share of coefficients that must lie on the step's multiples for the step to fit.
pub const FIT_SHARE: f64 = 0.8;
/// A cell's step is *coarser* from this multiple of the photo's step on.
pub const COARSER_FACTOR: u16 = 4;
/// A step estimate needs coefficients on at least this many different multiples of the step (blocks cut by
/// the same straight edge repeat one value, which fits any step).
pub const MIN_DISTINCT_MULTIPLES: usize = 3;
/// A coefficient fits a step `q` within `max(floor, TOL_SHARE · q)` (decoders round and clip; the error grows
/// with the step's coefficient range).
pub const TOL_SHARE: f64 = 0.12;
/// Disagreeing cells count only in groups of at least this many overlapping or touching cells that disagree
/// the same way (a pasted region spans several cells; text or noise trips single cells).
pub const MIN_CLUSTER: usize = 3;
/// Coefficients, as `(row, column)` = (vertical, horizontal) frequency, whose steps are estimated.
pub const COEFFICIENTS: [(usize, usize); 5] = [(0, 1), (1, 0), (1, 1), (0, 2), (2, 0)];

/// Whether the bytes are a JPEG file (SOI marker followed by another marker).
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// JPEG's 1-D DCT basis: `basis[u][x] = C(u)/2 · cos((2x+1)uπ/16)`, `C(0) = 1/√2`, `C(u>0) = 1`.
fn basis() -> [[f64; 8]; 8] {
    let mut b = [[0.0; 8]; 8];
    for (u, row) in b.iter_mut().enumerate() {
        let c = if u == 0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
        for (x, v) in row.iter_mut().enumerate() {
            *v = c / 2.0 * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos();
        }
    }
    b
}

/// What one aligned 8×8 block contributes.
#[derive(Debug, Clone, Copy, Default)]
struct Block {
    /// The block touches a clipped pixel (skipped).
    clipped: bool,
    /// Coefficients [`COEFFICIENTS`] in JPEG's scale.
    coef: [f32; 5],
    /// Sum of clipped absolute differences across the column border at each phase (`x−1 | x`).
    cols: [f32; 8],
    /// The same across row borders.
    rows: [f32; 8],
}

/// Luma plane and size.
struct Plane {
    w: usize,
    h: usize,
    y: Vec<f32>,
}

impl Plane {
    fn of(img: &RgbImage) -> Self {
        let y = img
            .pixels()
            .map(|p| 0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2]))
            .collect();
        Self { w: img.width() as usize, h: img.height() as usize, y }
    }

    fn at(&self, x: usize, y: usize) -> f32 {
        self.y.get(y * self.w + x).copied().unwrap_or(0.0)
    }
}

/// Measures the block at block coordinates `(bx, by)`.
fn block(p: &Plane, b: &[[f64; 8]; 8], bx: usize, by: usize) -> Block {
    let (x0, y0) = (bx * 8, by * 8);
    let mut out = Block::default();
    let mut px = [[0.0f64; 8]; 8];
    for (dy, row) in px.iter_mut().enumerate() {
        for (dx, v) in row.iter_mut().enumerate() {
            let l = p.at(x0 + dx, y0 + dy);
            out.clipped |= !(0.5..=254.5).contains(&l);
            *v = f64::from(l);
        }
    }
    for (k, &(v, u)) in COEFFICIENTS.iter().enumerate() {
        let mut s = 0.0;
        for (y, row) in px.iter().enumerate() {
            let by_ = b[v][y];
            for (x, &val) in row.iter().enumerate() {
                s += val * b[u][x] * by_;
            }
        }
        out.coef[k] = s as f32;
    }
    for k in 0..8 {
        let x = x0 + k;
        if x >= 1 {
            out.cols[k] = (0..8).map(|d| (p.at(x, y0 + d) - p.at(x - 1, y0 + d)).abs().min(DIFF_CLIP)).sum();
        }
        let y = y0 + k;
        if y >= 1 {
            out.rows[k] = (0..8).map(|d| (p.at(x0 + d, y) - p.at(x0 + d, y - 1)).abs().min(DIFF_CLIP)).sum();
        }
    }
    out
}

/// The phase with the largest border difference and its contrast over the median of the eight phases.
fn phase(profile: &[f32; 8]) -> (u8, f32) {
    let (best, &top) = profile.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap_or((0, &0.0));
    let mut sorted = *profile;
    sorted.sort_by(f32::total_cmp);
    let median = (sorted[3] + sorted[4]) / 2.0;
    (best as u8, if median > 0.0 { top / median - 1.0 } else { 0.0 })
}

/// The largest step `q ≥ min_q` on whose multiples at least [`FIT_SHARE`] of the coefficients away from
/// zero lie (within `max(tol, TOL_SHARE · q)`). `Some(1)` when no step fits but there were enough
/// coefficients; `None` when there were too few to tell.
fn estimate_step(values: &[f32], min_q: u16, tol: f64) -> Option<u16> {
    let nonzero = values.iter().filter(|v| v.abs() >= 1.0).count();
    for q in (min_q.max(2)..=MAX_STEP).rev() {
        let qf = f64::from(q);
        let tol = tol.max(TOL_SHARE * qf);
        let (mut n, mut fit) = (0usize, 0usize);
        for &v in values {
            let v = f64::from(v);
            if v.abs() >= qf / 2.0 {
                n += 1;
                if (v - qf * (v / qf).round()).abs() <= tol {
                    fit += 1;
                }
            }
        }
        if n >= MIN_SAMPLES && fit as f64 >= FIT_SHARE * n as f64 {
            let mut multiples: Vec<i64> = values
                .iter()
                .filter(|v| f64::from(v.abs()) >= qf / 2.0)
                .map(|&v| (f64::from(v) / qf).round() as i64)
                .collect();
            multiples.sort_unstable();
            multiples.dedup();
            if multiples.len() >= MIN_DISTINCT_MULTIPLES {
                return Some(q);
            }
        }
    }
    (nonzero >= MIN_SAMPLES).then_some(1)
}

/// Border-difference profiles of the blocks `bx0..bx1 × by0..by1`: for each phase, the *median* over the
/// block columns (rows) of the column's (row's) summed difference, so that one straight content edge (a
/// frame line, a photo border), which sits at one column, does not make a phase; a block grid, at every
/// column of its phase, does. Clipped blocks are skipped.
fn profiles(
    blocks: &[Block],
    nbx: usize,
    (bx0, bx1): (usize, usize),
    (by0, by1): (usize, usize),
) -> ([f32; 8], [f32; 8]) {
    let at = |bx: usize, by: usize| blocks.get(by * nbx + bx).filter(|b| !b.clipped);
    let mut cols = vec![[0.0f32; 8]; bx1.saturating_sub(bx0)];
    let mut rows = vec![[0.0f32; 8]; by1.saturating_sub(by0)];
    for by in by0..by1 {
        for bx in bx0..bx1 {
            if let Some(b) = at(bx, by) {
                for k in 0..8 {
                    if let Some(c) = cols.get_mut(bx - bx0) {
                        c[k] += b.cols[k];
                    }
                    if let Some(r) = rows.get_mut(by - by0) {
                        r[k] += b.rows[k];
                    }
                }
            }
        }
    }
    let median = |lines: &[[f32; 8]], k: usize| {
        let mut v: Vec<f32> = lines.iter().map(|l| l[k]).collect();
        v.sort_by(f32::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    (std::array::from_fn(|k| median(&cols, k)), std::array::from_fn(|k| median(&rows, k)))
}

/// Measures the compression history per region. `bytes` is the file (only its first bytes are read, to
/// tell a JPEG); `img` its decoded pixels.
pub fn measure(bytes: &[u8], img: &RgbImage) -> JpegRegionsSignal {
    if !is_jpeg(bytes) {
        return JpegRegionsSignal::NotJpeg;
    }
    JpegRegionsSignal::Measured(measure_pixels(img))
}

/// Measures the decoded pixels of a JPEG (the grid is anchored at the top-left corner).
pub fn measure_pixels(img: &RgbImage) -> JpegRegions {
    let plane = Plane::of(img);
    let (nbx, nby) = (plane.w / 8, plane.h / 8);
    let b = basis();
    let blocks: Vec<Block> =
        (0..nby).flat_map(|by| (0..nbx).map(move |bx| (bx, by))).map(|(bx, by)| block(&plane, &b, bx, by)).collect();
    let at = |bx: usize, by: usize| blocks.get(by * nbx + bx);
    // The photo's majority: grid phase from all blocks, step per coefficient from all coefficients.
    let (gc, gr) = profiles(&blocks, nbx, (0, nbx), (0, nby));
    let grid = (phase(&gc).0, phase(&gr).0);
    let mut steps = [0u16; 5];
    for (k, s) in steps.iter_mut().enumerate() {
        let values: Vec<f32> = blocks.iter().filter(|b| !b.clipped).map(|b| b.coef[k]).collect();
        *s = estimate_step(&values, 1, 0.6).unwrap_or(0);
    }
    let (cell_blocks, stride_blocks) = (CELL / 8, STRIDE / 8);
    let mut cells = 0u32;
    let mut measured = 0u32;
    let mut flagged = Vec::new();
    let mut cy = 0;
    while cy + cell_blocks <= nby {
        let mut cx = 0;
        while cx + cell_blocks <= nbx {
            cells += 1;
            let members: Vec<&Block> = (cy..cy + cell_blocks)
                .flat_map(|by| (cx..cx + cell_blocks).map(move |bx| (bx, by)))
                .filter_map(|(bx, by)| at(bx, by))
                .filter(|b| !b.clipped)
                .collect();
            let (c, r) = profiles(&blocks, nbx, (cx, cx + cell_blocks), (cy, cy + cell_blocks));
            let ((px, cxs), (py, cys)) = (phase(&c), phase(&r));
            let grid_visible = cxs >= GRID_CONTRAST && cys >= GRID_CONTRAST;
            let mut coarser = 0;
            let mut ratio = 0.0f64;
            let mut step_measured = false;
            for (k, &g) in steps.iter().enumerate() {
                if g < 2 {
                    // No step (or step 1: near-lossless) to be coarser than, reliably.
                    continue;
                }
                let values: Vec<f32> = members.iter().map(|b| b.coef[k]).collect();
                let far = values.iter().filter(|v| f64::from(v.abs()) >= f64::from(g) / 2.0).count();
                step_measured |= far >= MIN_SAMPLES;
                let tol = (0.5 * f64::from(g) + 0.1).max(0.6);
                if let Some(q) = estimate_step(&values, COARSER_FACTOR * g, tol).filter(|&q| q >= COARSER_FACTOR * g) {
                    coarser += 1;
                    ratio = ratio.max(f64::from(q) / f64::from(g));
                }
            }
            if grid_visible || step_measured {
                measured += 1;
            }
            let (x, y) = (u32::try_from(cx * 8).unwrap_or(u32::MAX), u32::try_from(cy * 8).unwrap_or(u32::MAX));
            let size = CELL as u32;
            if grid_visible && (px, py) != grid {
                let strength = f64::from(cxs.min(cys));
                flagged.push(FlaggedCell {
                    x,
                    y,
                    size,
                    reason: "grid_misaligned",
                    grid_phase: Some((px, py)),
                    strength,
                });
            } else if coarser >= 3 {
                let grid_phase = grid_visible.then_some((px, py));
                flagged.push(FlaggedCell { x, y, size, reason: "quantisation_coarser", grid_phase, strength: ratio });
            }
            cx += stride_blocks;
        }
        cy += stride_blocks;
    }
    let flagged = clustered(flagged);
    let score = if measured == 0 { 0.0 } else { flagged.len() as f64 / f64::from(measured) };
    let explanation = match flagged.first() {
        None => format!(
            "{measured} of {cells} cells measured; all agree with the photo's block grid at phase {grid:?} and \
             steps {steps:?}"
        ),
        Some(f) => format!(
            "{} of {measured} measured cells disagree with the photo's block grid at phase {grid:?} / steps \
             {steps:?}; the first at ({}, {}) px: {}",
            flagged.len(),
            f.x,
            f.y,
            f.reason
        ),
    };
    JpegRegions { cells, measured_cells: measured, grid_phase: grid, steps, flagged, score, explanation }
}

/// Keeps the flagged cells that belong to a group of at least [`MIN_CLUSTER`] cells with the same reason and
/// grid phase, each overlapping or touching another of the group.
fn clustered(cells: Vec<FlaggedCell>) -> Vec<FlaggedCell> {
    let n = cells.len();
    let touch = |a: &FlaggedCell, b: &FlaggedCell| {
        a.reason == b.reason
            && a.grid_phase == b.grid_phase
            && a.x.abs_diff(b.x) <= a.size
            && a.y.abs_diff(b.y) <= a.size
    };
    // Connected components by flood fill (cells are few: at most a few thousand flagged).
    let mut group = vec![usize::MAX; n];
    let mut sizes = Vec::new();
    for start in 0..n {
        if group[start] != usize::MAX {
            continue;
        }
        let id = sizes.len();
        let mut stack = vec![start];
        group[start] = id;
        let mut size = 0;
        while let Some(i) = stack.pop() {
            size += 1;
            for j in 0..n {
                if group[j] == usize::MAX && touch(&cells[i], &cells[j]) {
                    group[j] = id;
                    stack.push(j);
                }
            }
        }
        sizes.push(size);
    }
    cells
        .into_iter()
        .zip(group)
        .filter(|(_, g)| sizes.get(*g).is_some_and(|&s| s >= MIN_CLUSTER))
        .map(|(c, _)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_magic() {
        assert!(is_jpeg(&[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(!is_jpeg(b"\x89PNG\r\n\x1a\n"));
        assert!(!is_jpeg(&[0xFF, 0xD8]));
        assert!(matches!(measure(b"\x89PNG", &RgbImage::new(64, 64)), JpegRegionsSignal::NotJpeg));
    }

    #[test]
    fn the_basis_is_orthonormal_in_2d() {
        // JPEG's 1/4·C(u)C(v) scaling makes the 8-point basis orthonormal: Σ_x b[u][x]·b[v][x] = δ(u,v).
        let b = basis();
        for u in 0..8 {
            for v in 0..8 {
                let dot: f64 = (0..8).map(|x| b[u][x] * b[v][x]).sum();
                assert!((dot - if u == v { 1.0 } else { 0.0 }).abs() < 1e-9, "{u} {v} {dot}");
            }
        }
    }

    #[test]
    fn step_estimation() {
        // Multiples of 7 with a little rounding noise, and some zeros.
        let v: Vec<f32> = (0..80).map(|i| ((i % 9) as f32 - 4.0) * 7.0 + ((i * 37 % 11) as f32 - 5.0) / 20.0).collect();
        assert_eq!(estimate_step(&v, 1, 0.6), Some(7));
        assert_eq!(estimate_step(&v, 8, 0.6), Some(1), "nothing from 8 on fits");
        assert_eq!(estimate_step(&v, 7, 0.6), Some(7));
        let dense: Vec<f32> = (0..200).map(|i| (i % 41) as f32 - 20.0 + 0.37).collect();
        assert_eq!(estimate_step(&dense, 1, 0.4), Some(1));
        assert_eq!(estimate_step(&[3.0; 4], 1, 0.6), None, "too few samples");
    }

    #[test]
    fn a_grid_shows_its_phase() {
        let mut p = [10.0f32; 8];
        p[3] = 20.0;
        assert_eq!(phase(&p).0, 3);
        assert!((phase(&p).1 - 1.0).abs() < 1e-6);
        assert_eq!(phase(&[0.0; 8]).1, 0.0);
    }

    #[test]
    fn lone_cells_are_dropped_and_groups_kept() {
        let cell = |x, y, phase| FlaggedCell {
            x,
            y,
            size: 64,
            reason: "grid_misaligned",
            grid_phase: Some(phase),
            strength: 2.0,
        };
        let cells = vec![
            cell(0, 0, (3, 3)),
            cell(32, 0, (3, 3)),
            cell(64, 32, (3, 3)),
            cell(400, 400, (3, 3)),
            cell(32, 32, (5, 1)),
        ];
        let kept = clustered(cells);
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert!(kept.iter().all(|c| c.grid_phase == Some((3, 3)) && c.x < 100));
    }

    #[test]
    fn a_flat_image_measures_nothing() {
        let r = measure_pixels(&RgbImage::from_pixel(256, 256, image::Rgb([120, 120, 120])));
        assert_eq!(r.cells, 49);
        assert_eq!(r.measured_cells, 0);
        assert!(r.flagged.is_empty() && !r.is_inconsistent());
        let tiny = measure_pixels(&RgbImage::new(7, 7));
        assert_eq!((tiny.cells, tiny.measured_cells), (0, 0));
    }
}
