//! Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions with padding 1 (Lavin and Gray, "Fast
//! Algorithms for Convolutional Neural Networks", 2015).
//!
//! Each 2×2 block of outputs ("tile") comes from a 4×4 patch `d` of the input:
//! `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`, with 16 multiplies per tile, input channel and output
//! channel instead of 36. Over all channels the `⊙` becomes 16 independent matrix products,
//! one per position of the 4×4 transformed patch: `M[pos] = V[pos] · U[pos]`, tiles × input
//! channels times input channels × output channels. They run on the crate's tile kernel as
//! 1×1 convolutions, so the register blocking, the filter packing and the AVX-512 code are
//! shared with the direct convolution.
//!
//! - `U = G g Gᵀ` is computed once per layer (in f64, stored as f32);
//! - `V = Bᵀ d B` and the output transform use only additions and subtractions;
//! - the entries of `G` are 0, ±½ and 1, so the transforms add no rounding beyond the sums'.
//!
//! Used by [`Conv2d`](crate::Conv2d) for 3×3 stride-1 padding-1 layers whose channel counts are
//! multiples of 16 (the transforms work on 16 channels at a time); everything else runs direct.

use crate::kernel::{Tile, TileArgs};
use crate::{ConvSpec, LANES, pack};

/// Zero biases for the matrix products (the real bias is added by the output transform).
pub(crate) const ZEROS: [f32; 64] = [0.0; 64];

/// `Bᵀ a` for `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]`.
#[inline(always)]
fn bt(a: [f32; 4]) -> [f32; 4] {
    [a[0] - a[2], a[1] + a[2], a[2] - a[1], a[1] - a[3]]
}

/// G: the filter transform, 4×3.
const G: [[f64; 3]; 4] = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]];

/// Whether a layer runs with Winograd: 3×3, stride 1, padding 1, channels in whole vectors.
pub fn applies(spec: &ConvSpec) -> bool {
    spec.kernel == [3, 3]
        && spec.stride == [1, 1]
        && spec.padding == [1, 1]
        && spec.in_channels.is_multiple_of(LANES)
        && spec.out_channels.is_multiple_of(LANES)
}

/// The 16 transformed filters `U[pos]` (`pos = 4·i + j`), each packed as a 1×1 convolution from
/// the input channels to the output channels for `tile` (see [`pack::filters`]).
pub fn transform_filters(spec: &ConvSpec, weights: &[f32], tile: Tile, out_padded: usize) -> Vec<f32> {
    let (ci_n, co_n) = (spec.in_channels, spec.out_channels);
    let one = ConvSpec { kernel: [1, 1], padding: [0, 0], ..*spec };
    let mut u = vec![vec![0f32; co_n * ci_n]; 16];
    for o in 0..co_n {
        for c in 0..ci_n {
            let g = |y: usize, x: usize| f64::from(weights[((o * ci_n + c) * 3 + y) * 3 + x]);
            // G g Gᵀ.
            for i in 0..4 {
                for j in 0..4 {
                    let mut s = 0.0;
                    for (y, gy) in G[i].iter().enumerate() {
                        for (x, gx) in G[j].iter().enumerate() {
                            s += gy * g(y, x) * gx;
                        }
                    }
                    u[4 * i + j][o * ci_n + c] = s as f32;
                }
            }
        }
    }
    u.iter().flat_map(|w| pack::filters(&one, w, tile, out_padded)).collect()
}

/// Tiles of one call: `[tile rows, tile columns]` and their count rounded up to whole kernel
/// tiles of `pixels`.
pub fn tiles(size: [usize; 2], pixels: usize) -> ([usize; 2], usize) {
    let t = [size[0].div_ceil(2), size[1].div_ceil(2)];
    (t, (t[0] * t[1]).div_ceil(pixels) * pixels)
}

/// `V = Bᵀ d B` for every tile and input channel: `v[pos][tile][channel]`, `tiled` tiles per
/// position. The patch of tile `(ty, tx)` starts at input pixel `(2ty − 1, 2tx − 1)`; pixels
/// outside the image are zero. Inlined into each backend's wrapper.
#[inline(always)]
pub(crate) fn input_transform(input: &[f32], size: [usize; 2], channels: usize, tiled: usize, v: &mut [f32]) {
    let [h, w] = size;
    let [th, tw] = [h.div_ceil(2), w.div_ceil(2)];
    let plane = tiled * channels;
    for ty in 0..th {
        for tx in 0..tw {
            let t = ty * tw + tx;
            for c0 in (0..channels).step_by(LANES) {
                // d[k] = 16 channels of patch pixel k (row-major 4×4).
                let mut d = [[0f32; LANES]; 16];
                for (k, dk) in d.iter_mut().enumerate() {
                    let (y, x) = ((2 * ty + k / 4).wrapping_sub(1), (2 * tx + k % 4).wrapping_sub(1));
                    if y < h && x < w {
                        dk.copy_from_slice(&input[(y * w + x) * channels + c0..][..LANES]);
                    }
                }
                // Rows then columns: tmp = Bᵀ d, V = tmp B (Bᵀ written out: only sums).
                let mut tmp = [[0f32; LANES]; 16];
                for j in 0..4 {
                    for l in 0..LANES {
                        let col = bt([d[j][l], d[4 + j][l], d[8 + j][l], d[12 + j][l]]);
                        for (i, value) in col.into_iter().enumerate() {
                            tmp[4 * i + j][l] = value;
                        }
                    }
                }
                for i in 0..4 {
                    let mut row = [[0f32; LANES]; 4];
                    for l in 0..LANES {
                        let r = bt([tmp[4 * i][l], tmp[4 * i + 1][l], tmp[4 * i + 2][l], tmp[4 * i + 3][l]]);
                        for (j, value) in r.into_iter().enumerate() {
                            row[j][l] = value;
                        }
                    }
                    for (j, r) in row.iter().enumerate() {
                        v[(4 * i + j) * plane + t * channels + c0..][..LANES].copy_from_slice(r);
                    }
                }
            }
        }
    }
}

/// What [`output_transform`] turns into a layer's output: the products `m[pos][tile][out_padded]`
/// for an output of `size` with `tiled` tiles per position, and the bias and ReLU to apply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Products<'a> {
    /// The 16 products, `m[pos][tile][out_padded]`.
    pub m: &'a [f32],
    /// Output rows and columns.
    pub size: [usize; 2],
    /// Tiles per position (rounded up to whole kernel tiles).
    pub tiled: usize,
    /// Output channels rounded up to whole tiles.
    pub out_padded: usize,
    /// Output channels.
    pub out_channels: usize,
    /// One bias per padded output channel.
    pub bias: &'a [f32],
    /// Replace negative sums by 0.
    pub relu: bool,
}

/// `Y = Aᵀ m A` plus the bias (and the ReLU) for every tile and output channel, written to the
/// interleaved output. Inlined into each backend's wrapper.
#[inline(always)]
pub(crate) fn output_transform(p: Products<'_>, out: &mut [f32]) {
    let Products { m, size, tiled, out_padded, out_channels, bias, relu } = p;
    let [h, w] = size;
    let [th, tw] = [h.div_ceil(2), w.div_ceil(2)];
    let plane = tiled * out_padded;
    for ty in 0..th {
        for tx in 0..tw {
            let t = ty * tw + tx;
            for c0 in (0..out_channels).step_by(LANES) {
                let at = |pos: usize| &m[pos * plane + t * out_padded + c0..][..LANES];
                // Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]: rows then columns.
                let mut r = [[0f32; LANES]; 8];
                for j in 0..4 {
                    let (m0, m1, m2, m3) = (at(j), at(4 + j), at(8 + j), at(12 + j));
                    for l in 0..LANES {
                        r[j][l] = m0[l] + m1[l] + m2[l];
                        r[4 + j][l] = m1[l] - m2[l] - m3[l];
                    }
                }
                let b = &bias[c0..c0 + LANES];
                for i in 0..2 {
                    let y = 2 * ty + i;
                    if y >= h {
                        continue;
                    }
                    let row = &r[4 * i..4 * i + 4];
                    for jx in 0..2 {
                        let x = 2 * tx + jx;
                        if x >= w {
                            continue;
                        }
                        let dst = &mut out[(y * w + x) * out_channels + c0..][..LANES];
                        for (l, o) in dst.iter_mut().enumerate() {
                            let s = if jx == 0 {
                                row[0][l] + row[1][l] + row[2][l]
                            } else {
                                row[1][l] - row[2][l] - row[3][l]
                            };
                            let s = s + b[l];
                            *o = if relu { crate::relu(s) } else { s };
                        }
                    }
                }
            }
        }
    }
}

/// Defines a SIMD module's `winograd_input` and `winograd_output`: [`input_transform`] and
/// [`output_transform`] compiled with the target features `$features` enabled (LLVM vectorises
/// their 16-lane loops with that instruction set), run when `$supported` (an expression) says the
/// CPU has them, else the baseline build. The transforms are safe, bounds-checked Rust; the only
/// `unsafe` is calling a function compiled for features the CPU has (checked first).
#[cfg(target_arch = "x86_64")]
macro_rules! transforms_for {
    ($features:literal, $supported:expr) => {
        /// The Winograd input transform compiled for this module's instruction set (see
        /// [`crate::winograd`]).
        pub(crate) fn winograd_input(input: &[f32], size: [usize; 2], channels: usize, tiled: usize, v: &mut [f32]) {
            #[target_feature(enable = $features)]
            fn compiled(input: &[f32], size: [usize; 2], channels: usize, tiled: usize, v: &mut [f32]) {
                crate::winograd::input_transform(input, size, channels, tiled, v);
            }
            if !$supported {
                return crate::winograd::input_transform(input, size, channels, tiled, v);
            }
            // SAFETY: the CPU has the features (checked above).
            unsafe { compiled(input, size, channels, tiled, v) }
        }

        /// The Winograd output transform compiled for this module's instruction set (see
        /// [`crate::winograd`]).
        pub(crate) fn winograd_output(p: crate::winograd::Products<'_>, out: &mut [f32]) {
            #[target_feature(enable = $features)]
            fn compiled(p: crate::winograd::Products<'_>, out: &mut [f32]) {
                crate::winograd::output_transform(p, out);
            }
            if !$supported {
                return crate::winograd::output_transform(p, out);
            }
            // SAFETY: the CPU has the features (checked above).
            unsafe { compiled(p, out) }
        }
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use transforms_for;

/// The 16 matrix products `M[pos] = V[pos] · U[pos]` on the tile kernel: for each position,
/// a 1×1 convolution over `tiled` "pixels" (the tiles), of which the first `live` are the
/// image's (the rest round up to whole tiles). `run_tile` is the backend's kernel.
#[allow(clippy::too_many_arguments)]
pub(crate) fn products(
    v: &[f32],
    packed: &[f32],
    in_channels: usize,
    tiled: usize,
    live: usize,
    tile: Tile,
    out_padded: usize,
    zeros: &[f32],
    m: &mut [f32],
    run_tile: impl Fn(TileArgs<'_>, &mut [f32]),
) {
    let ch = tile.channels();
    let block = in_channels * ch;
    let per_pos = in_channels * out_padded;
    for pos in 0..16 {
        let filters = &packed[pos * per_pos..][..per_pos];
        for (cb, f) in filters.chunks_exact(block).enumerate() {
            for start in (0..live.min(tiled)).step_by(tile.pixels()) {
                let args = TileArgs {
                    input: v,
                    start: (pos * tiled + start) * in_channels,
                    pixel_step: in_channels,
                    taps: &[(0, 0)],
                    in_channels,
                    filters: f,
                    bias: &zeros[..ch],
                    out_offset: (pos * tiled + start) * out_padded + cb * ch,
                    out_step: out_padded,
                    relu: false,
                    // The output transform reads every product of the padded channels, and
                    // those of the `live` tiles of the image.
                    live_channels: ch,
                    live_pixels: (live - start).min(tile.pixels()),
                    run_len: crate::kernel::NO_RUNS,
                    run_phase: 0,
                    run_skip: 0,
                };
                run_tile(args, m);
            }
        }
    }
}
