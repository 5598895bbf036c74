//! Winograd F(2×2, 3×3) and F(4×4, 3×3) for 3×3 stride-1 convolutions with padding 1 (Lavin
//! and Gray, "Fast Algorithms for Convolutional Neural Networks", 2015).
//!
//! Each `m×m` block of outputs ("tile") comes from an `n×n` patch `d` of the input, `n = m + 2`:
//! `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`, with `n²` multiplies per tile, input channel and output
//! channel instead of `9m²`: 16 for 4 outputs ([`F2`]) or 36 for 16 ([`F4`]). Over all channels
//! the `⊙` becomes `n²` independent matrix products, one per position of the transformed patch:
//! `M[pos] = V[pos] · U[pos]`, tiles × input channels times input channels × output channels.
//! They run on the crate's tile kernel as 1×1 convolutions, so the register blocking, the
//! filter packing and the SIMD code are shared with the direct convolution.
//!
//! - `U = G g Gᵀ` is computed once per layer (in f64, stored as f32);
//! - `V = Bᵀ d B` and the output transform use additions, subtractions and (for [`F4`])
//!   multiplications by small integers; every backend runs the same Rust code for them, so the
//!   backends agree to the bit.
//!
//! [`F4`] does 44 % fewer multiply-adds than [`F2`] but its transforms mix values of different
//! magnitudes (the factors 4, 5 and 8, the filters' 1/6 and 1/24), so its outputs carry a few
//! more units of rounding; [`F2`]'s `G` has only 0, ±½ and 1 and its transforms only sums.
//!
//! Used by [`Conv2d`](crate::Conv2d) for 3×3 stride-1 padding-1 layers whose channel counts are
//! multiples of 16 (the transforms work on 16 channels at a time); everything else runs direct.

use crate::kernel::{Tile, TileArgs};
use crate::{ConvSpec, LANES, pack};

/// Zero biases for the matrix products (the real bias is added by the output transform).
pub(crate) const ZEROS: [f32; 64] = [0.0; 64];

/// 16 channels of one pixel, the unit the transforms work on: each operation is a loop over
/// the lanes, which the optimiser turns into one or two vector instructions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Lanes(pub [f32; LANES]);

impl Lanes {
    /// All zeros.
    pub const ZERO: Lanes = Lanes([0.0; LANES]);

    /// The 16 values at the front of `values`.
    #[inline(always)]
    fn load(values: &[f32]) -> Lanes {
        let mut l = Lanes::ZERO;
        l.0.copy_from_slice(&values[..LANES]);
        l
    }
}

impl std::ops::Add for Lanes {
    type Output = Lanes;
    #[inline(always)]
    fn add(mut self, o: Lanes) -> Lanes {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a += b;
        }
        self
    }
}

impl std::ops::Sub for Lanes {
    type Output = Lanes;
    #[inline(always)]
    fn sub(mut self, o: Lanes) -> Lanes {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a -= b;
        }
        self
    }
}

impl std::ops::Mul<Lanes> for f32 {
    type Output = Lanes;
    #[inline(always)]
    fn mul(self, mut o: Lanes) -> Lanes {
        for a in o.0.iter_mut() {
            *a *= self;
        }
        o
    }
}

/// One Winograd algorithm F(m×m, 3×3) on `n = m + 2` interpolation points: its three transforms.
pub(crate) trait Points<const N: usize, const M: usize> {
    /// `G`, the filter transform (`n × 3`).
    const G: [[f64; 3]; N];
    /// `Bᵀ a`, the input transform of one row or column.
    fn bt(a: [Lanes; N]) -> [Lanes; N];
    /// `Aᵀ a`, the output transform of one row or column.
    fn at(a: [Lanes; N]) -> [Lanes; M];
}

/// F(2×2, 3×3): 4×4 patches, points 0, 1, −1 and ∞.
pub(crate) struct F2;

impl Points<4, 2> for F2 {
    const G: [[f64; 3]; 4] = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]];

    /// `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]`.
    #[inline(always)]
    fn bt(a: [Lanes; 4]) -> [Lanes; 4] {
        [a[0] - a[2], a[1] + a[2], a[2] - a[1], a[1] - a[3]]
    }

    /// `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]`.
    #[inline(always)]
    fn at(a: [Lanes; 4]) -> [Lanes; 2] {
        [a[0] + a[1] + a[2], a[1] - a[2] - a[3]]
    }
}

/// F(4×4, 3×3): 6×6 patches, points 0, 1, −1, 2, −2 and ∞.
pub(crate) struct F4;

impl Points<6, 4> for F4 {
    const G: [[f64; 3]; 6] = [
        [1.0 / 4.0, 0.0, 0.0],
        [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
        [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
        [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
        [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
        [0.0, 0.0, 1.0],
    ];

    /// `Bᵀ` = `[4, 0, −5, 0, 1, 0]`, `[0, −4, −4, 1, 1, 0]`, `[0, 4, −4, −1, 1, 0]`,
    /// `[0, −2, −1, 2, 1, 0]`, `[0, 2, −1, −2, 1, 0]`, `[0, 4, 0, −5, 0, 1]`, with the sums that
    /// rows share computed once.
    #[inline(always)]
    fn bt(a: [Lanes; 6]) -> [Lanes; 6] {
        let (p, q) = (a[4] - 4.0 * a[2], a[3] - 4.0 * a[1]);
        let (r, s) = (a[4] - a[2], 2.0 * (a[3] - a[1]));
        [4.0 * a[0] - 5.0 * a[2] + a[4], p + q, p - q, r + s, r - s, 4.0 * a[1] - 5.0 * a[3] + a[5]]
    }

    /// `Aᵀ` = `[1, 1, 1, 1, 1, 0]`, `[0, 1, −1, 2, −2, 0]`, `[0, 1, 1, 4, 4, 0]`,
    /// `[0, 1, −1, 8, −8, 1]`.
    #[inline(always)]
    fn at(a: [Lanes; 6]) -> [Lanes; 4] {
        let (s12, d12, s34, d34) = (a[1] + a[2], a[1] - a[2], a[3] + a[4], a[3] - a[4]);
        [a[0] + s12 + s34, d12 + 2.0 * d34, s12 + 4.0 * s34, d12 + 8.0 * d34 + a[5]]
    }
}

/// Whether a layer runs with Winograd: 3×3, stride 1, padding 1, channels in whole vectors.
pub fn applies(spec: &ConvSpec) -> bool {
    spec.kernel == [3, 3]
        && spec.stride == [1, 1]
        && spec.padding == [1, 1]
        && spec.in_channels.is_multiple_of(LANES)
        && spec.out_channels.is_multiple_of(LANES)
}

/// The `n²` transformed filters `U[pos]` (`pos = n·i + j`), each packed as a 1×1 convolution
/// from the input channels to the output channels for `tile` (see [`pack::filters`]).
pub(crate) fn transform_filters<const N: usize, const M: usize, P: Points<N, M>>(
    spec: &ConvSpec,
    weights: &[f32],
    tile: Tile,
    out_padded: usize,
) -> Vec<f32> {
    let (ci_n, co_n) = (spec.in_channels, spec.out_channels);
    let one = ConvSpec { kernel: [1, 1], padding: [0, 0], ..*spec };
    let mut u = vec![vec![0f32; co_n * ci_n]; N * N];
    for o in 0..co_n {
        for c in 0..ci_n {
            let g = |y: usize, x: usize| f64::from(weights[((o * ci_n + c) * 3 + y) * 3 + x]);
            // G g Gᵀ.
            for (i, gi) in P::G.iter().enumerate() {
                for (j, gj) in P::G.iter().enumerate() {
                    let mut s = 0.0;
                    for (y, gy) in gi.iter().enumerate() {
                        for (x, gx) in gj.iter().enumerate() {
                            s += gy * g(y, x) * gx;
                        }
                    }
                    u[N * i + j][o * ci_n + c] = s as f32;
                }
            }
        }
    }
    u.iter().flat_map(|w| pack::filters(&one, w, tile, out_padded)).collect()
}

/// Tiles of `m×m` outputs for one call: `[tile rows, tile columns]` and their count rounded up
/// to whole kernel tiles of `pixels`.
pub fn tiles(size: [usize; 2], m: usize, pixels: usize) -> ([usize; 2], usize) {
    let t = [size[0].div_ceil(m), size[1].div_ceil(m)];
    (t, (t[0] * t[1]).div_ceil(pixels) * pixels)
}

/// `V = Bᵀ d B` for every tile and input channel: `v[pos][tile][channel]`, `tiled` tiles per
/// position. The patch of tile `(ty, tx)` starts at input pixel `(m·ty − 1, m·tx − 1)`; pixels
/// outside the image are zero. Inlined into each backend's wrapper.
#[inline(always)]
pub(crate) fn input_transform<const N: usize, const M: usize, P: Points<N, M>>(
    input: &[f32],
    size: [usize; 2],
    channels: usize,
    tiled: usize,
    v: &mut [f32],
) {
    let [h, w] = size;
    let [th, tw] = [h.div_ceil(M), w.div_ceil(M)];
    let plane = tiled * channels;
    for ty in 0..th {
        for tx in 0..tw {
            let t = ty * tw + tx;
            for c0 in (0..channels).step_by(LANES) {
                // Columns then rows: tmp = Bᵀ d, V = tmp B, where d[k][j] is 16 channels of
                // patch pixel (k, j), zero outside the image.
                let mut tmp = [[Lanes::ZERO; N]; N];
                #[allow(clippy::needless_range_loop)] // `j` is a column of `tmp`: a transpose.
                for j in 0..N {
                    let x = (M * tx + j).wrapping_sub(1);
                    let col: [Lanes; N] = std::array::from_fn(|k| {
                        let y = (M * ty + k).wrapping_sub(1);
                        if y < h && x < w { Lanes::load(&input[(y * w + x) * channels + c0..]) } else { Lanes::ZERO }
                    });
                    for (i, value) in P::bt(col).into_iter().enumerate() {
                        tmp[i][j] = value;
                    }
                }
                for (i, t_row) in tmp.into_iter().enumerate() {
                    for (j, value) in P::bt(t_row).into_iter().enumerate() {
                        v[(N * i + j) * plane + t * channels + c0..][..LANES].copy_from_slice(&value.0);
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
    /// The `n²` products, `m[pos][tile][out_padded]`.
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
    /// Values added to the first `channels` (a multiple of 16) of each output pixel, after the
    /// bias and before the ReLU: a residual block's skip connection.
    pub residual: Option<crate::Residual<'a>>,
    /// Replace negative sums by 0.
    pub relu: bool,
}

/// `Y = Aᵀ m A` plus the bias (and the ReLU) for every tile and output channel, written to the
/// interleaved output. Inlined into each backend's wrapper.
#[inline(always)]
pub(crate) fn output_transform<const N: usize, const M: usize, P: Points<N, M>>(p: Products<'_>, out: &mut [f32]) {
    let Products { m, size, tiled, out_padded, out_channels, bias, residual, relu } = p;
    let [h, w] = size;
    let [th, tw] = [h.div_ceil(M), w.div_ceil(M)];
    let plane = tiled * out_padded;
    for ty in 0..th {
        for tx in 0..tw {
            let t = ty * tw + tx;
            for c0 in (0..out_channels).step_by(LANES) {
                let at = |pos: usize| Lanes::load(&m[pos * plane + t * out_padded + c0..]);
                // Columns then rows: r = Aᵀ m (M × N), then each row times A.
                let mut r = [[Lanes::ZERO; N]; M];
                #[allow(clippy::needless_range_loop)] // `j` is a column of `r`: a transpose.
                for j in 0..N {
                    for (i, value) in P::at(std::array::from_fn(|k| at(N * k + j))).into_iter().enumerate() {
                        r[i][j] = value;
                    }
                }
                let b = Lanes::load(&bias[c0..]);
                for (i, r_row) in r.into_iter().enumerate() {
                    let y = M * ty + i;
                    if y >= h {
                        break;
                    }
                    for (jx, value) in P::at(r_row).into_iter().enumerate() {
                        let x = M * tx + jx;
                        if x >= w {
                            break;
                        }
                        let mut sum = value + b;
                        if let Some(r) = residual.filter(|r| c0 < r.channels) {
                            sum = sum + Lanes::load(&r.values[(y * w + x) * r.channels + c0..]);
                        }
                        let dst = &mut out[(y * w + x) * out_channels + c0..][..LANES];
                        for (o, s) in dst.iter_mut().zip(sum.0) {
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
        pub(crate) fn winograd_input<const N: usize, const M: usize, P: crate::winograd::Points<N, M>>(
            input: &[f32],
            size: [usize; 2],
            channels: usize,
            tiled: usize,
            v: &mut [f32],
        ) {
            #[target_feature(enable = $features)]
            fn compiled<const N: usize, const M: usize, P: crate::winograd::Points<N, M>>(
                input: &[f32],
                size: [usize; 2],
                channels: usize,
                tiled: usize,
                v: &mut [f32],
            ) {
                crate::winograd::input_transform::<N, M, P>(input, size, channels, tiled, v);
            }
            if !$supported {
                return crate::winograd::input_transform::<N, M, P>(input, size, channels, tiled, v);
            }
            // SAFETY: the CPU has the features (checked above).
            unsafe { compiled::<N, M, P>(input, size, channels, tiled, v) }
        }

        /// The Winograd output transform compiled for this module's instruction set (see
        /// [`crate::winograd`]).
        pub(crate) fn winograd_output<const N: usize, const M: usize, P: crate::winograd::Points<N, M>>(
            p: crate::winograd::Products<'_>,
            out: &mut [f32],
        ) {
            #[target_feature(enable = $features)]
            fn compiled<const N: usize, const M: usize, P: crate::winograd::Points<N, M>>(
                p: crate::winograd::Products<'_>,
                out: &mut [f32],
            ) {
                crate::winograd::output_transform::<N, M, P>(p, out);
            }
            if !$supported {
                return crate::winograd::output_transform::<N, M, P>(p, out);
            }
            // SAFETY: the CPU has the features (checked above).
            unsafe { compiled::<N, M, P>(p, out) }
        }
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use transforms_for;

/// The `positions` (`n²`) matrix products `M[pos] = V[pos] · U[pos]` on the tile kernel: for
/// each position, a 1×1 convolution over `tiled` "pixels" (the tiles), of which the first `live`
/// are the image's (the rest round up to whole tiles). `run_tile` is the backend's kernel.
#[allow(clippy::too_many_arguments)]
pub(crate) fn products(
    positions: usize,
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
    for pos in 0..positions {
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
                    exact: false,
                    residual: &[],
                    residual_step: 0,
                    residual_channels: 0,
                };
                run_tile(args, m);
            }
        }
    }
}
