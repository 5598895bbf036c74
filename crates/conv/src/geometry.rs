//! Where every tile reads and writes: the zero-bordered input, the tile rows, and the output.
//!
//! The padded input is `padded_rows × padded_cols × channels` with the image at
//! `[padding_y.., padding_x..]` and zeros around it, `padded_cols` rounded up to a multiple of
//! the column stride.
//!
//! - **Stride 1 in both directions**: output pixel `(y, x)` reads padded pixels `(y + ky, x + kx)`,
//!   i.e. at linear index `y × padded_cols + x + (ky × padded_cols + kx)`. Reading the output on
//!   the same grid as the padded input (`padded_cols` columns per row, the last
//!   `padded_cols − out_cols` of them unused) makes the tap a constant offset, so the whole
//!   output is one tile row and a tile may cross row ends.
//! - **Otherwise** each output row is a tile row: pixel `x` of row `y` reads padded pixel
//!   `(y × stride_y + ky, x × stride_x + kx)`.
//!
//!   With [`Geometry::with_runs`], the tiles take only the output's pixels instead: each
//!   output row is a run of `out_cols` pixels, and a tile that crosses a row end skips the
//!   border columns ([`crate::kernel::TileArgs::run_skip`]). On dlib's 4×4 maps (6 padded
//!   columns) that is 16 pixels computed instead of 22.
//!
//! Tile rows are rounded up to whole tiles; the extra pixels read zeros (the buffer has the slack)
//! and their sums are dropped by [`Geometry::gather_output`].

use crate::{ConvSpec, Residual, lanes};

/// The layout of one convolution call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    /// Input channels.
    pub channels: usize,
    /// Input `[rows, cols]`.
    pub input: [usize; 2],
    /// Output `[rows, cols]`.
    pub output: [usize; 2],
    /// Padding `[rows, cols]`.
    pub padding: [usize; 2],
    /// Kernel `[rows, cols]`.
    pub kernel: [usize; 2],
    /// Stride `[rows, cols]`.
    pub stride: [usize; 2],
    /// Columns of the padded input.
    pub padded_cols: usize,
    /// Values in the padded input buffer, slack included.
    pub padded_len: usize,
    /// Tile rows.
    pub rows: usize,
    /// Output pixels per tile row (the last tile may run past them).
    pub row_len: usize,
    /// `row_len` rounded up to whole tiles.
    pub row_len_tiled: usize,
    /// Padded-input offset between tile rows.
    pub row_in_step: usize,
    /// Padded-input offset between neighbouring output pixels of a tile row.
    pub pixel_in_step: usize,
    /// Whether the stride-1 single-row layout is used.
    pub linear: bool,
    /// Pixels per run of the tile row ([`crate::kernel::NO_RUNS`] unless the stride-1 layout
    /// skips the border columns: then the output columns).
    pub run_len: usize,
    /// Input offset skipped at each run end (the border columns' values; 0 without runs).
    pub run_skip: usize,
}

impl Geometry {
    /// The layout for `spec` on an input of `[rows, cols]`, tiles of `tile_pixels` pixels; `None`
    /// if the kernel is empty or does not fit, or a size overflows.
    pub fn new(spec: &ConvSpec, input: [usize; 2], tile_pixels: usize) -> Option<Geometry> {
        Self::with_runs(spec, input, tile_pixels, false)
    }

    /// Like [`Geometry::new`]; with `runs`, a stride-1 layer whose padded rows are wider than
    /// its output rows is tiled over the output pixels only, in runs of one output row.
    pub fn with_runs(spec: &ConvSpec, input: [usize; 2], tile_pixels: usize, runs: bool) -> Option<Geometry> {
        let output = spec.output_size(input)?;
        let c = spec.in_channels;
        let [sy, sx] = spec.stride;
        let padded_rows = input[0].checked_add(2 * spec.padding[0])?;
        let padded_cols = input[1].checked_add(2 * spec.padding[1])?.div_ceil(sx).checked_mul(sx)?;
        let linear = sy == 1 && sx == 1;
        let runs = runs && linear && padded_cols > output[1];
        let (rows, row_len, row_in_step) = if runs {
            (1, output[0].checked_mul(output[1])?, 0)
        } else if linear {
            (1, output[0].checked_mul(padded_cols)?, 0)
        } else {
            (output[0], output[1], sy.checked_mul(padded_cols)?.checked_mul(c)?)
        };
        let (run_len, run_skip) =
            if runs { (output[1], (padded_cols - output[1]).checked_mul(c)?) } else { (crate::kernel::NO_RUNS, 0) };
        let row_len_tiled = row_len.div_ceil(tile_pixels).checked_mul(tile_pixels)?;
        let pixel_in_step = sx.checked_mul(c)?;
        let [kh, kw] = [spec.kernel[0].checked_sub(1)?, spec.kernel[1].checked_sub(1)?];
        let last_tap = (kh.checked_mul(padded_cols)?.checked_add(kw)?).checked_mul(c)?;
        // The last pixel of the last tile (slack included), on the padded grid.
        let last_pixel = if runs {
            let r = row_len_tiled - 1;
            (r / run_len).checked_mul(padded_cols)?.checked_add(r % run_len)?
        } else {
            row_len_tiled - 1
        };
        let last_read = (rows - 1)
            .checked_mul(row_in_step)?
            .checked_add(last_pixel.checked_mul(pixel_in_step)?)?
            .checked_add(last_tap)?
            .checked_add(c)?;
        let image_len = padded_rows.checked_mul(padded_cols)?.checked_mul(c)?;
        Some(Geometry {
            channels: c,
            input,
            output,
            padding: spec.padding,
            kernel: spec.kernel,
            stride: spec.stride,
            padded_cols,
            padded_len: image_len.max(last_read),
            rows,
            row_len,
            row_len_tiled,
            row_in_step,
            pixel_in_step,
            linear,
            run_len,
            run_skip,
        })
    }

    /// Where the tile that starts at pixel `start` of tile row `row` reads its pixel 0 in the
    /// padded input, and where that pixel falls in its run
    /// ([`crate::kernel::TileArgs::run_phase`]).
    pub fn tile_start(&self, row: usize, start: usize) -> (usize, usize) {
        let (grid, phase) = if self.run_len == crate::kernel::NO_RUNS {
            (start, 0)
        } else {
            (start / self.run_len * self.padded_cols + start % self.run_len, start % self.run_len)
        };
        (row * self.row_in_step + grid * self.pixel_in_step, phase)
    }

    /// The taps that read the image for at least one output pixel, as (padded-input offset, tap
    /// index `ky × kernel_cols + kx`), kernel row by kernel row. A tap that only ever reads the
    /// zero border adds nothing and is left out: with a 1×1 input and padding 1, a 3×3 kernel
    /// keeps only its centre.
    pub fn taps(&self) -> Vec<(usize, usize)> {
        let live = |axis: usize, k: usize| {
            (0..self.output[axis]).any(|o| {
                let at = o * self.stride[axis] + k;
                at >= self.padding[axis] && at < self.padding[axis] + self.input[axis]
            })
        };
        let mut taps = Vec::with_capacity(self.kernel[0] * self.kernel[1]);
        for ky in (0..self.kernel[0]).filter(|&ky| live(0, ky)) {
            for kx in (0..self.kernel[1]).filter(|&kx| live(1, kx)) {
                taps.push(((ky * self.padded_cols + kx) * self.channels, ky * self.kernel[1] + kx));
            }
        }
        taps
    }

    /// The pixels of each tile row that [`Geometry::gather_output`] reads, from the first: up
    /// to the last output pixel of the row (on the stride-1 layout, the last row's border
    /// columns and the rounding to whole tiles are left out; on the other, the rounding).
    pub fn row_live(&self) -> usize {
        if self.linear && self.run_len == crate::kernel::NO_RUNS {
            self.row_len - (self.padded_cols - self.output[1])
        } else {
            self.row_len
        }
    }

    /// Whether the tiles' pixels are the output's pixels in order (with runs, on the strided
    /// layout, or on the stride-1 one when the padded rows are no wider than the output's), so
    /// that a tile can write straight into the interleaved output
    /// ([`crate::kernel::TileArgs::exact`]) at [`Geometry::output_pixel`].
    pub fn tiles_are_output_pixels(&self) -> bool {
        self.run_len != crate::kernel::NO_RUNS || !self.linear || self.padded_cols == self.output[1]
    }

    /// The output pixel (`y × out_cols + x`) of pixel `start` of tile row `row`, where
    /// [`Geometry::tiles_are_output_pixels`].
    pub fn output_pixel(&self, row: usize, start: usize) -> usize {
        row * self.row_len + start
    }

    /// Values in the tiled output for `out_channels` (padded) channels.
    pub fn tiled_len(&self, out_channels: usize) -> usize {
        self.rows.saturating_mul(self.row_len_tiled).saturating_mul(out_channels)
    }

    /// Copies the interleaved input into `padded` (resized) with its zero border and slack.
    /// Every value is written once: the buffer may hold another layer's values before.
    pub fn fill_padded(&self, input: &[f32], padded: &mut Vec<f32>) {
        padded.resize(self.padded_len, 0.0);
        let c = self.channels;
        let padded_row = self.padded_cols * c;
        let [py, px] = self.padding;
        let image_row = self.input[1] * c;
        let mut rows = padded.chunks_exact_mut(padded_row.max(1));
        for (y, row) in rows.by_ref().take(py + self.input[0] + py).enumerate() {
            match y.checked_sub(py).filter(|&iy| iy < self.input[0]) {
                Some(iy) => {
                    let (left, rest) = row.split_at_mut(px * c);
                    let (image, right) = rest.split_at_mut(image_row);
                    left.fill(0.0);
                    image.copy_from_slice(&input[iy * image_row..][..image_row]);
                    right.fill(0.0);
                }
                None => row.fill(0.0),
            }
        }
        let written = (py + self.input[0] + py) * padded_row;
        padded[written.min(self.padded_len)..].fill(0.0);
    }

    /// Copies the valid pixels and channels of the tiled output (`out_padded` channels per pixel)
    /// into `out`, interleaved `out_rows × out_cols × out_channels`.
    pub fn gather_output(&self, tiled: &[f32], out_padded: usize, out_channels: usize, out: &mut Vec<f32>) {
        let [oh, ow] = self.output;
        out.clear();
        out.reserve(oh * ow * out_channels);
        for y in 0..oh {
            self.push_row(tiled, y, out_padded, out_channels, out);
        }
    }

    /// Like [`Geometry::gather_output`], adding `residual` (the output's rows and columns; its
    /// length is the caller's to check) to each pixel's first `residual.channels` values on the
    /// way and then, with `relu`, replacing negative sums by 0: a residual block's add and ReLU
    /// in the same pass, row by row through [`crate::lanes`].
    pub fn gather_output_adding(
        &self,
        tiled: &[f32],
        out_padded: usize,
        out_channels: usize,
        residual: Residual<'_>,
        relu: bool,
        out: &mut Vec<f32>,
    ) {
        let [oh, ow] = self.output;
        out.clear();
        out.reserve(oh * ow * out_channels);
        let rc = residual.channels;
        for (y, res) in (0..oh).zip(residual.values.chunks_exact((ow * rc).max(1))) {
            let start = out.len();
            self.push_row(tiled, y, out_padded, out_channels, out);
            let row = &mut out[start..];
            Residual { values: res, channels: rc }.add_to(row, out_channels);
            if relu {
                lanes::relu_assign(row);
            }
        }
    }

    /// Appends output row `y`'s valid pixels and channels to `out`.
    fn push_row(&self, tiled: &[f32], y: usize, out_padded: usize, out_channels: usize, out: &mut Vec<f32>) {
        let pixels = self.tiled_row(tiled, y, out_padded);
        if out_padded == out_channels {
            out.extend_from_slice(pixels);
        } else {
            for px in pixels.chunks_exact(out_padded) {
                out.extend_from_slice(&px[..out_channels]);
            }
        }
    }

    /// Output row `y`'s pixels in the tiled output.
    fn tiled_row<'t>(&self, tiled: &'t [f32], y: usize, out_padded: usize) -> &'t [f32] {
        let first = if self.run_len != crate::kernel::NO_RUNS {
            y * self.output[1]
        } else if self.linear {
            y * self.padded_cols
        } else {
            y * self.row_len_tiled
        };
        &tiled[first * out_padded..(first + self.output[1]) * out_padded]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stride_one_layer_is_one_long_row_over_the_padded_grid() {
        let spec = ConvSpec { in_channels: 2, out_channels: 32, kernel: [3, 3], stride: [1, 1], padding: [1, 1] };
        let g = Geometry::new(&spec, [4, 5], 12).unwrap();
        assert!(g.linear);
        assert_eq!(g.output, [4, 5]);
        assert_eq!(g.padded_cols, 7);
        assert_eq!((g.rows, g.row_len, g.row_len_tiled), (1, 28, 36));
        // The gather reads up to pixel 3 × 7 + 4 of the row: the last row's two border columns
        // and the rounding to whole tiles are not live.
        assert_eq!(g.row_live(), 26);
        let offsets: Vec<usize> = g.taps().iter().map(|t| t.0).collect();
        assert_eq!(offsets, vec![0, 2, 4, 14, 16, 18, 28, 30, 32]);
        assert_eq!(g.taps().iter().map(|t| t.1).collect::<Vec<_>>(), (0..9).collect::<Vec<_>>());
        // The last tile's last pixel reads up to pixel 35 + the last tap: within the buffer.
        assert_eq!(g.padded_len, 35 * 2 + 32 + 2);
    }

    #[test]
    fn with_runs_a_stride_one_layer_tiles_only_the_output_pixels() {
        // 4×4 map, 3×3 kernel, padding 1 (dlib's 256-channel maps): 6 padded columns.
        let spec = ConvSpec { in_channels: 2, out_channels: 16, kernel: [3, 3], stride: [1, 1], padding: [1, 1] };
        let g = Geometry::with_runs(&spec, [4, 4], 6, true).unwrap();
        assert_eq!((g.rows, g.row_len, g.row_len_tiled, g.row_live()), (1, 16, 18, 16));
        assert_eq!((g.run_len, g.run_skip), (4, 2 * 2));
        // Pixel 6 is output (1, 2): padded-grid pixel 6 + 2 = 8, two pixels into its run.
        assert_eq!(g.tile_start(0, 6), (8 * 2, 2));
        assert_eq!(g.tile_start(0, 0), (0, 0));
        // The last tile's slack pixels 16 and 17 sit at grid pixels 24 and 25: the buffer holds
        // pixel 25's last tap (grid offset 2 × 6 + 2) and channels, past the 6 × 6 × 2 image.
        assert_eq!(g.padded_len, 25 * 2 + (2 * 6 + 2) * 2 + 2);
        // The gather reads output row y from tile pixel 4y.
        let tiled: Vec<f32> = (0..18).map(|v| v as f32).collect();
        let mut out = Vec::new();
        g.gather_output(&tiled, 1, 1, &mut out);
        assert_eq!(out, (0..16).map(|v| v as f32).collect::<Vec<_>>());
        // Without runs, or where the padded rows are no wider: the long row.
        assert_eq!(Geometry::with_runs(&spec, [4, 4], 6, false).unwrap().row_len, 24);
        let no_padding = ConvSpec { padding: [0, 0], kernel: [1, 1], ..spec };
        let g = Geometry::with_runs(&no_padding, [4, 4], 6, true).unwrap();
        assert_eq!((g.row_len, g.run_len), (16, crate::kernel::NO_RUNS));
    }

    #[test]
    fn taps_that_only_read_the_border_are_left_out() {
        // 1×1 input, 3×3 kernel, padding 1: only the centre tap sees the pixel.
        let spec = ConvSpec { in_channels: 4, out_channels: 16, kernel: [3, 3], stride: [1, 1], padding: [1, 1] };
        let g = Geometry::new(&spec, [1, 1], 6).unwrap();
        assert_eq!(g.taps(), vec![((3 + 1) * 4, 4)]);
        // 2×1 input: kernel rows 0..=2 all see a pixel for some output row, columns only the centre.
        let g = Geometry::new(&spec, [2, 1], 6).unwrap();
        assert_eq!(g.taps().iter().map(|t| t.1).collect::<Vec<_>>(), vec![1, 4, 7]);
    }

    #[test]
    fn an_empty_kernel_or_stride_has_no_layout() {
        let spec = ConvSpec { in_channels: 1, out_channels: 1, kernel: [0, 3], stride: [1, 1], padding: [1, 1] };
        assert_eq!(Geometry::new(&spec, [4, 4], 6), None);
        let spec = ConvSpec { kernel: [3, 3], stride: [1, 0], ..spec };
        assert_eq!(Geometry::new(&spec, [4, 4], 6), None);
    }

    #[test]
    fn a_strided_layer_has_one_tile_row_per_output_row() {
        let spec = ConvSpec { in_channels: 3, out_channels: 32, kernel: [7, 7], stride: [2, 2], padding: [0, 0] };
        let g = Geometry::new(&spec, [150, 150], 12).unwrap();
        assert!(!g.linear);
        assert_eq!(g.output, [72, 72]);
        assert_eq!((g.rows, g.row_len, g.row_len_tiled), (72, 72, 72));
        assert_eq!(g.row_live(), 72);
        assert_eq!((g.row_in_step, g.pixel_in_step), (2 * 150 * 3, 6));
        assert_eq!(g.padded_len, 150 * 150 * 3);
    }

    #[test]
    fn padding_and_gathering_round_trip() {
        let spec = ConvSpec { in_channels: 1, out_channels: 1, kernel: [1, 1], stride: [1, 1], padding: [1, 2] };
        let g = Geometry::new(&spec, [2, 3], 4).unwrap();
        let mut padded = Vec::new();
        g.fill_padded(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut padded);
        assert_eq!(g.padded_cols, 7);
        assert_eq!(&padded[7..14], &[0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]);
        assert_eq!(&padded[14..21], &[0.0, 0.0, 4.0, 5.0, 6.0, 0.0, 0.0]);
        // A buffer that held other values is filled the same.
        let mut dirty = vec![f32::NAN; 100];
        g.fill_padded(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut dirty);
        assert_eq!(dirty, padded);
        // Output [4, 7]: a 1×1 kernel copies the padded grid; gather keeps 4 × 7 pixels.
        assert_eq!(g.output, [4, 7]);
        let mut out = Vec::new();
        g.gather_output(&padded[..g.row_len_tiled.min(padded.len())], 1, 1, &mut out);
        assert_eq!(out, padded[..28].to_vec());
    }
}
