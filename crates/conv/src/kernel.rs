//! The tile kernel: `pixels × channels` output sums kept in registers over the whole reduction.
//!
//! One call computes, for `tile.pixels()` output pixels spaced `pixel_step` apart in the padded
//! input (plus `run_skip` at each run end, [`TileArgs::pixel_offset`]) and `tile.channels()`
//! output channels,
//! `out[p][o] = bias[o] + Σ_tap Σ_ci input[start + offset(p) + tap + ci] · filters[tap][ci][o]`,
//! then stores it (with `max(·, 0)` for a fused ReLU) at `out_offset + p·out_step + o`.
//! [`portable`] is the plain Rust version; the AVX-512 one (crate-private `avx512` module) is the
//! same loop with the sums in `zmm` registers; the AVX2 and `simd128` ones walk a tile in blocks
//! of channels that fit their smaller register files.

/// A tile shape: `vectors × 16` output channels by `pixels` output pixels. Each keeps 24
/// vectors of sums in registers (AVX-512 has 32), the rest for filter vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tile {
    /// 64 channels × 6 pixels: 4 filter loads and 6 broadcasts per 24 multiply-adds.
    C64P6,
    /// 32 channels × 12 pixels.
    C32P12,
    /// 16 channels × 24 pixels.
    C16P24,
}

impl Tile {
    /// The widest tile that divides the output channels rounded up to 16.
    pub fn for_out_channels(out_channels: usize) -> Tile {
        let padded = out_channels.div_ceil(16) * 16;
        if padded.is_multiple_of(64) {
            Tile::C64P6
        } else if padded.is_multiple_of(32) {
            Tile::C32P12
        } else {
            Tile::C16P24
        }
    }

    /// The tile for a layer with `out_channels` outputs and `row_len` output pixels per tile row
    /// (see [`crate::geometry::Geometry`]): the one that computes the fewest padded channels and
    /// pixels, weighted by how fast each shape runs on full tiles (32 × 12 fastest; 64 × 6 about
    /// 12 % and 16 × 24 about 19 % slower per multiply-add, `cargo bench -p trustcap-conv`).
    /// Short rows (a strided layer's 3-pixel rows, a 1×1 map) thus get 6-pixel tiles.
    pub fn for_layer(out_channels: usize, row_len: usize) -> Tile {
        let cost = |t: Tile| {
            let channels = out_channels.div_ceil(t.channels()) * t.channels();
            let pixels = row_len.max(1).div_ceil(t.pixels()) * t.pixels();
            let speed = match t {
                Tile::C32P12 => 1.0,
                Tile::C64P6 => 1.12,
                Tile::C16P24 => 1.19,
            };
            (channels * pixels) as f64 * speed
        };
        [Tile::C32P12, Tile::C64P6, Tile::C16P24]
            .into_iter()
            .min_by(|a, b| cost(*a).total_cmp(&cost(*b)))
            .unwrap_or(Tile::C32P12)
    }

    /// Vectors of 16 output channels.
    pub const fn vectors(self) -> usize {
        match self {
            Tile::C64P6 => 4,
            Tile::C32P12 => 2,
            Tile::C16P24 => 1,
        }
    }

    /// Output channels.
    pub const fn channels(self) -> usize {
        self.vectors() * crate::LANES
    }

    /// Output pixels.
    pub const fn pixels(self) -> usize {
        match self {
            Tile::C64P6 => 6,
            Tile::C32P12 => 12,
            Tile::C16P24 => 24,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_follow_the_layer_shape() {
        assert_eq!(Tile::for_layer(32, 35 * 37), Tile::C32P12);
        assert_eq!(Tile::for_layer(32, 72), Tile::C32P12);
        assert_eq!(Tile::for_layer(256, 4 * 6), Tile::C32P12);
        assert_eq!(Tile::for_layer(256, 3), Tile::C64P6);
        assert_eq!(Tile::for_layer(256, 1), Tile::C64P6);
        assert_eq!(Tile::for_layer(16, 100), Tile::C16P24);
        // 12 pixels × 32 channels are fewer sums than 24 × 16.
        assert_eq!(Tile::for_layer(3, 8), Tile::C32P12);
    }
}

/// What one tile call reads and where it writes.
#[derive(Debug, Clone, Copy)]
pub struct TileArgs<'a> {
    /// The padded input.
    pub input: &'a [f32],
    /// Offset of pixel 0 at tap 0.
    pub start: usize,
    /// Offset between the tile's pixels.
    pub pixel_step: usize,
    /// Each tap's input offset and index (its filters start at `index × in_channels ×
    /// channels`); see [`crate::geometry::Geometry::taps`].
    pub taps: &'a [(usize, usize)],
    /// Input channels (contiguous at each pixel).
    pub in_channels: usize,
    /// The tile's packed filters, `kernel taps × in_channels × channels`.
    pub filters: &'a [f32],
    /// The tile's biases, `channels`.
    pub bias: &'a [f32],
    /// Where output pixel 0, channel 0 goes.
    pub out_offset: usize,
    /// Offset between output pixels.
    pub out_step: usize,
    /// Replace negative sums by 0.
    pub relu: bool,
    /// How many of the tile's channels (from the first) the caller reads; a kernel may skip
    /// whole vectors past them (the `simd128` one skips blocks of 8 channels, so a layer of 24
    /// channels does not pay for the 8 zero channels of its 32-channel tile). At most
    /// `tile.channels()`; the sums past it are unspecified.
    pub live_channels: usize,
    /// How many of the tile's pixels (from the first) the caller reads; a kernel may skip the
    /// pixels past them (the AVX2 and `simd128` ones do: the last tile of a short row, such as
    /// the single pixel of a 1×1 map in a 6-pixel tile, costs one pixel's work, not six). At
    /// most `tile.pixels()`; the sums past it are unspecified and may be left unwritten.
    pub live_pixels: usize,
    /// Pixels per run ([`NO_RUNS`]: one run). Within a run the tile's pixels lie `pixel_step`
    /// apart; at each run end they skip `run_skip` more: the output rows of a stride-1 layer
    /// read on the padded grid without its border columns ([`crate::geometry::Geometry`]).
    pub run_len: usize,
    /// Where pixel 0 falls in its run (below `run_len`; 0 with [`NO_RUNS`]).
    pub run_phase: usize,
    /// Input offset skipped at each run end.
    pub run_skip: usize,
    /// The tile writes straight into the interleaved output: only its live pixels are read and
    /// computed, and only their live channels written, so that neighbouring pixels may lie
    /// `live_channels` apart (`out_step`). Without it, a tile may compute and write all its
    /// pixels and channels into a tiled buffer that a gather copies out.
    pub exact: bool,
    /// With `exact`: values added to the sums of each live pixel's first `residual_channels`
    /// channels before the ReLU (a skip connection); pixel `p`'s start at `p × residual_step`.
    pub residual: &'a [f32],
    /// Offset between the residual's pixels.
    pub residual_step: usize,
    /// How many of the tile's channels (from the first, at most `live_channels`) get a residual
    /// value; 0 for none.
    pub residual_channels: usize,
}

/// [`TileArgs::run_len`] of a tile whose pixels are all `pixel_step` apart.
pub const NO_RUNS: usize = usize::MAX;

impl TileArgs<'_> {
    /// Input offset of pixel `p` from pixel 0: `p` steps and one `run_skip` per run end
    /// crossed. Increases with `p`; [`TileArgs::in_bounds`] checks the last pixel's, so for a
    /// tile that passes it no pixel's overflows.
    #[inline(always)]
    pub fn pixel_offset(&self, p: usize) -> usize {
        p * self.pixel_step + (self.run_phase + p) / self.run_len * self.run_skip
    }

    /// [`TileArgs::pixel_offset`] with overflow checks.
    fn checked_pixel_offset(&self, p: usize) -> Option<usize> {
        let runs_crossed = self.run_phase.checked_add(p)?.checked_div(self.run_len)?;
        p.checked_mul(self.pixel_step)?.checked_add(runs_crossed.checked_mul(self.run_skip)?)
    }

    /// Whether every read and write of a call with `tile` stays inside `input`, `filters`,
    /// `bias` and an output of `out_len` values. The SIMD kernel checks this once per call
    /// instead of once per value.
    ///
    /// An `exact` tile reads and writes only its live pixels and writes only their live
    /// channels, so those bound its reads and writes; it needs at least one of each, and a
    /// residual within the live channels and inside `residual`.
    pub fn in_bounds(&self, tile: Tile, out_len: usize) -> bool {
        let (px, ch) = (tile.pixels(), tile.channels());
        let (px, written) = if self.exact {
            if self.live_pixels == 0 || self.live_pixels > px || self.live_channels == 0 || self.live_channels > ch {
                return false;
            }
            (self.live_pixels, self.live_channels)
        } else {
            (px, ch)
        };
        let last_read = self.taps.iter().map(|t| t.0).max().and_then(|t| {
            self.start.checked_add(self.checked_pixel_offset(px - 1)?)?.checked_add(t)?.checked_add(self.in_channels)
        });
        let last_write =
            (px - 1).checked_mul(self.out_step).and_then(|v| v.checked_add(self.out_offset)?.checked_add(written));
        let filters =
            self.taps.iter().map(|t| t.1).max().and_then(|i| (i + 1).checked_mul(self.in_channels)?.checked_mul(ch));
        let residual = !self.exact
            || self.residual_channels == 0
            || (self.residual_channels <= self.live_channels
                && matches!((px - 1).checked_mul(self.residual_step).and_then(|v| v.checked_add(self.residual_channels)),
                    Some(r) if r <= self.residual.len()));
        matches!(last_read, Some(r) if r <= self.input.len())
            && matches!(last_write, Some(w) if w <= out_len)
            && matches!(filters, Some(f) if f <= self.filters.len())
            && self.bias.len() >= ch
            && self.out_step >= written
            && residual
            && (self.run_len == NO_RUNS || self.run_phase < self.run_len)
    }

    /// Whether the pixels are all `pixel_step` apart (no run ends to skip).
    pub fn uniform(&self) -> bool {
        self.run_len == NO_RUNS || self.run_skip == 0
    }
}

/// The tile kernel in plain Rust (any CPU; the oracle for the SIMD one).
pub mod portable {
    use super::{Tile, TileArgs};

    /// Runs one tile (panics if out of bounds: callers pass a [`TileArgs::in_bounds`] tile).
    pub fn run_tile(tile: Tile, a: TileArgs<'_>, out: &mut [f32]) {
        match tile {
            Tile::C64P6 => tile_impl::<64, 6>(a, out),
            Tile::C32P12 => tile_impl::<32, 12>(a, out),
            Tile::C16P24 => tile_impl::<16, 24>(a, out),
        }
    }

    fn tile_impl<const CH: usize, const PX: usize>(a: TileArgs<'_>, out: &mut [f32]) {
        let mut acc = [[0f32; CH]; PX];
        for sums in acc.iter_mut() {
            sums.copy_from_slice(&a.bias[..CH]);
        }
        // An exact tile reads and writes only its live pixels.
        let pixels = if a.exact { a.live_pixels.min(PX) } else { PX };
        // Each pixel's input offset, once per tile rather than per multiply-add.
        let offsets: [usize; PX] = std::array::from_fn(|p| a.start + a.pixel_offset(p));
        for &(tap, index) in a.taps {
            let filters = &a.filters[index * a.in_channels * CH..][..a.in_channels * CH];
            for (ci, w) in filters.chunks_exact(CH).enumerate() {
                for (offset, sums) in offsets.iter().zip(acc.iter_mut()).take(pixels) {
                    let x = a.input[offset + tap + ci];
                    for (s, wv) in sums.iter_mut().zip(w) {
                        *s = wv.mul_add(x, *s);
                    }
                }
            }
        }
        let written = if a.exact { a.live_channels.min(CH) } else { CH };
        for (p, sums) in acc.iter_mut().enumerate().take(pixels) {
            if a.exact && a.residual_channels > 0 {
                let r = &a.residual[p * a.residual_step..][..a.residual_channels];
                for (s, r) in sums.iter_mut().zip(r) {
                    *s += r;
                }
            }
            let at = a.out_offset + p * a.out_step;
            for (o, s) in out[at..at + written].iter_mut().zip(sums.iter()) {
                *o = if a.relu { crate::relu(*s) } else { *s };
            }
        }
    }
}
