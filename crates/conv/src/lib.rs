//! Direct 2-D convolution in f32 for small CNNs, the kind run once per face on one core.
//!
//! A [`Conv2d`] holds one layer's filters packed for its kernel; [`Conv2d::run`] convolves an
//! interleaved (`[row][col][channel]`, "HWC") input into an interleaved output, with the bias
//! added and optionally a ReLU, through a [`Workspace`] whose buffers are reused between calls.
//! A [`Depthwise`] layer (one filter per channel, as in MobileNet-style networks such as
//! BlazeFace) is in [`depthwise`].
//!
//! How it works (no im2col matrix is built):
//! - the input is copied once into a zero-bordered buffer ([`geometry`]), so no tap ever needs a
//!   bounds test;
//! - the output is cut into tiles of `PX` output pixels × `NV × 16` output channels ([`Tile`],
//!   chosen per layer); a tile's `PX × NV` vectors of 16 sums stay in registers for the whole
//!   reduction over the taps and input channels: each step loads `NV` filter vectors and
//!   broadcasts `PX` input values ([`kernel`]);
//! - for a stride-1 convolution the padded input is read as one long row: output pixel `q` reads
//!   input pixels `q + tap`, so tiles run across row ends and only the `2 × padding` border
//!   columns per row are computed in vain;
//! - taps that only ever read the zero border are skipped ([`geometry::Geometry::taps`]);
//! - the filters are packed per tile of output channels in the order the kernel reads them
//!   ([`pack`]), and the x86 kernels prefetch them a page ahead;
//! - the x86 kernels write whole tiles into a tiled buffer that a gather copies out (adding a
//!   skip connection on the way); the `simd128` and portable ones write exact tiles
//!   ([`kernel::TileArgs::exact`]) straight into the output, with the skip connection's add,
//!   wherever the tiles' pixels are the output's (strided layers, 1×1 layers, and with the
//!   portable kernel's runs every layer), and an unpadded layer's tiles read the input itself.
//!
//! The tile kernel is written in portable Rust ([`kernel::portable`]) and with intrinsics on
//! x86-64: AVX-512 (`avx512` module) and, for CPUs without it, AVX2 with FMA (`avx2` module:
//! blocks of 16 channels × 6 pixels), chosen at run time by CPU feature detection
//! ([`Backend::detect`]). All make the same fused multiply-adds in the same order, so they agree
//! to the bit (tested). The portable kernel is the oracle, not a fast path: without hardware
//! FMA its `mul_add` is a library call, tens of times slower than the SIMD kernels. A fourth
//! version, with WebAssembly SIMD (`simd128` module, compiled into wasm builds with the
//! `simd128` target feature), runs the browser's face module; wasm has no fused multiply-add,
//! so it agrees with an f64 reference to rounding (tested in Chromium by `wasm-tests`).
//!
//! ```
//! use trustcap_conv::{Conv2d, ConvSpec, Workspace};
//! // 1 input channel, 1 output channel, 3×3 box filter, stride 1, padding 1.
//! let spec = ConvSpec { in_channels: 1, out_channels: 1, kernel: [3, 3], stride: [1, 1], padding: [1, 1] };
//! let conv = Conv2d::new(spec, &[1.0; 9], &[0.0]).unwrap();
//! let mut ws = Workspace::default();
//! let mut out = Vec::new();
//! let [oh, ow] = conv.run(&[1.0; 4], [2, 2], false, &mut ws, &mut out).unwrap();
//! assert_eq!((oh, ow), (2, 2));
//! assert_eq!(out, vec![4.0; 4]); // every pixel sees the 2×2 image once
//! ```

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
pub mod depthwise;
pub mod geometry;
pub mod kernel;
pub mod lanes;
pub mod pack;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;
pub mod winograd;

pub use depthwise::{Depthwise, DepthwiseSpec};
use geometry::Geometry;
pub use kernel::Tile;
use kernel::TileArgs;

/// Output channels per vector: one AVX-512 register of f32.
pub const LANES: usize = 16;

/// Largest filter tensor accepted, in values (the largest layer of dlib's face ResNet has 590k).
pub const MAX_WEIGHTS: usize = 1 << 26;

/// Largest input or output accepted, in values.
pub const MAX_VALUES: usize = 1 << 28;

/// Filters of this size (bytes) or more are assumed not to stay in L2 from one tile to the next
/// ([`Conv2d::for_input`] then reads them in one sequential pass).
pub const LARGE_FILTERS_BYTES: usize = 1 << 20;

/// How far ahead of the filter row being read the x86 kernels ask for the filters to be loaded
/// into L1 (values): 4 KB, a page. A deep layer's filters (2.4 MB for a 256-channel 3×3 layer)
/// do not stay in L2 between runs, and the hardware prefetchers stop at page boundaries; with
/// this, ten such layers run in turn took 0.34 ms each instead of 0.59 (mean over 12 alternating
/// runs of each run's fastest round; `docs/bench/faces.md`). A prefetch never faults, so the
/// address may lie past the filters.
#[cfg(target_arch = "x86_64")]
pub(crate) const PREFETCH_AHEAD: usize = 1024;

/// Smallest input (pixels) on which [`Conv2d::for_input`] picks [`Algorithm::Winograd`] where it
/// applies.
pub const WINOGRAD_MIN_PIXELS: usize = 64;

/// Most channels (in and out) for which [`Conv2d::for_input`] picks [`Algorithm::Winograd4`]
/// over [`Algorithm::Winograd`]. F(4×4, 3×3) has 36 transformed filters per layer instead of
/// 16: on dlib's 32-channel 35×35 layers it took 24–30 % less time than F(2×2, 3×3) (AVX2, AMD
/// EPYC). On the 64-channel 17×17 layers (590 KB of transformed filters, more than the core's
/// 512 KB L2 cache) it was no faster, and on the 128-channel 8×8 layers slower than F(2×2, 3×3)
/// with the same 16-channel tiles.
pub const WINOGRAD4_MAX_CHANNELS: usize = 32;

/// The shape of one convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel rows and columns.
    pub kernel: [usize; 2],
    /// Stride in rows and columns.
    pub stride: [usize; 2],
    /// Zero padding on both sides, rows and columns.
    pub padding: [usize; 2],
}

impl ConvSpec {
    /// Filter values: `out × in × rows × cols`.
    pub fn weight_count(&self) -> Option<usize> {
        [self.in_channels, self.kernel[0], self.kernel[1]].iter().try_fold(self.out_channels, |a, &d| a.checked_mul(d))
    }

    /// Output rows and columns for an input of `[rows, cols]`, or `None` if the kernel does not
    /// fit in the padded input.
    pub fn output_size(&self, input: [usize; 2]) -> Option<[usize; 2]> {
        let dim = |i: usize| {
            let padded = input[i].checked_add(self.padding[i].checked_mul(2)?)?;
            (padded >= self.kernel[i] && self.stride[i] > 0).then(|| (padded - self.kernel[i]) / self.stride[i] + 1)
        };
        Some([dim(0)?, dim(1)?])
    }
}

/// Why a convolution cannot be built or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvError {
    /// A zero or oversized dimension in the spec.
    #[error("invalid convolution: {0}")]
    Spec(&'static str),
    /// The filter or bias slice has the wrong length.
    #[error("{what} has {got} values, expected {expected}")]
    Length {
        /// Which slice.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The length the spec implies.
        expected: usize,
    },
    /// The input is too small for the kernel or too large to handle.
    #[error("input {rows}x{cols}: {reason}")]
    Input {
        /// Input rows.
        rows: usize,
        /// Input columns.
        cols: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Which tile kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Portable Rust.
    Portable,
    /// AVX-512 intrinsics (x86-64 with `avx512f`).
    Avx512,
    /// AVX2 and FMA intrinsics (x86-64 without AVX-512: AMD Zen 1–3, Intel client cores since
    /// Haswell; the `avx2` module): the same fused multiply-adds as [`Backend::Portable`].
    Avx2,
    /// WebAssembly SIMD (a wasm32 build with the `simd128` target feature; the `simd128`
    /// module): no fused multiply-add, so it agrees with the others to rounding.
    Simd128,
}

impl Backend {
    /// The fastest backend this CPU supports.
    pub fn detect() -> Backend {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Backend::Avx512;
        }
        #[cfg(target_arch = "x86_64")]
        if avx2::supported() {
            return Backend::Avx2;
        }
        if Backend::Simd128.is_supported() {
            return Backend::Simd128;
        }
        Backend::Portable
    }

    /// Whether this CPU can run the backend.
    pub fn is_supported(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::supported(),
            #[cfg(not(target_arch = "x86_64"))]
            Backend::Avx512 | Backend::Avx2 => false,
            Backend::Simd128 => cfg!(all(target_arch = "wasm32", target_feature = "simd128")),
        }
    }
}

/// What [`Conv2d::run_adding`] adds to a convolution's sums: an interleaved image of the
/// output's rows and columns with `channels` values per pixel, added to the first `channels`
/// output channels (the others pass unchanged). Fewer channels than the output is a residual
/// block's skip connection that the network widens with zero channels: adding the narrow
/// image saves building the padded one.
#[derive(Debug, Clone, Copy)]
pub struct Residual<'a> {
    /// The values, `out_rows × out_cols × channels`.
    pub values: &'a [f32],
    /// Channels per pixel (at least 1, at most the output's).
    pub channels: usize,
}

impl Residual<'_> {
    /// Adds the values to the first `channels` of each pixel of `out` (`out_channels` values per
    /// pixel), for as many pixels as both have: after a Winograd output transform, or row by row
    /// in the direct convolution's gather.
    pub(crate) fn add_to(&self, out: &mut [f32], out_channels: usize) {
        let rc = self.channels;
        if rc == out_channels {
            lanes::add_assign(out, self.values);
        } else {
            for (o, r) in out.chunks_exact_mut(out_channels.max(1)).zip(self.values.chunks_exact(rc.max(1))) {
                lanes::add_assign(&mut o[..rc.min(out_channels)], r);
            }
        }
    }
}

/// Buffers a convolution reuses between calls: the zero-bordered input and the tiled output
/// (direct), the transformed input and products (Winograd).
#[derive(Debug, Default, Clone)]
pub struct Workspace {
    padded: Vec<f32>,
    tiled: Vec<f32>,
    transformed: Vec<f32>,
    products: Vec<f32>,
}

/// How a [`Conv2d`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Every multiply-add of the convolution, on the tile kernel.
    Direct,
    /// Winograd F(2×2, 3×3) ([`winograd`]): 16 multiplies per 2×2 outputs instead of 36, for
    /// 3×3 stride-1 padding-1 layers with channel counts in multiples of 16.
    Winograd,
    /// Winograd F(4×4, 3×3) ([`winograd`]): 36 multiplies per 4×4 outputs instead of 144, for
    /// the same layers as [`Algorithm::Winograd`], with a few more units of rounding.
    Winograd4,
}

impl Algorithm {
    /// The side of the output tile a Winograd algorithm computes at once (`None` for
    /// [`Algorithm::Direct`]).
    pub fn winograd_tile(self) -> Option<usize> {
        match self {
            Algorithm::Direct => None,
            Algorithm::Winograd => Some(2),
            Algorithm::Winograd4 => Some(4),
        }
    }
}

/// One convolution layer, filters packed for the tile kernel.
#[derive(Debug, Clone)]
pub struct Conv2d {
    spec: ConvSpec,
    tile: Tile,
    backend: Backend,
    algorithm: Algorithm,
    /// Output channels rounded up to a whole number of tiles.
    out_padded: usize,
    packed: Vec<f32>,
    bias: Vec<f32>,
}

impl Conv2d {
    /// Packs `weights` (`out × in × rows × cols`, as in ONNX and dlib) and `bias` (one per output
    /// channel) for the fastest backend of this CPU.
    pub fn new(spec: ConvSpec, weights: &[f32], bias: &[f32]) -> Result<Self, ConvError> {
        Self::with_backend(spec, weights, bias, Backend::detect())
    }

    /// Like [`Conv2d::new`] with a chosen backend; an unsupported one falls back to
    /// [`Backend::Portable`].
    pub fn with_backend(spec: ConvSpec, weights: &[f32], bias: &[f32], backend: Backend) -> Result<Self, ConvError> {
        Self::with_tile(spec, weights, bias, backend, Tile::for_out_channels(spec.out_channels))
    }

    /// Like [`Conv2d::with_backend`], with the tile shape chosen for inputs of `[rows, cols]`
    /// ([`Tile::for_layer`]); other input sizes still work.
    pub fn for_input(
        spec: ConvSpec,
        weights: &[f32],
        bias: &[f32],
        backend: Backend,
        input: [usize; 2],
    ) -> Result<Self, ConvError> {
        // Filters too large to stay in L2 between tiles stream from L3 or memory: 16-channel
        // tiles read them in one sequential pass (wider tiles read 16-channel slices of every
        // row, a stride the prefetchers follow less well). On dlib's layers of 1 MB or more
        // (AVX2, AMD EPYC): the 256-channel direct layers and the 128-channel Winograd layers
        // (16 transformed filters of 64 KB) ran 10–40 % faster than with the cost model's tile.
        let streamed = |bytes: usize| bytes >= LARGE_FILTERS_BYTES;
        if winograd::applies(&spec) && input[0] * input[1] >= WINOGRAD_MIN_PIXELS && spec.in_channels <= 128 {
            let algorithm = if spec.in_channels.max(spec.out_channels) <= WINOGRAD4_MAX_CHANNELS {
                Algorithm::Winograd4
            } else {
                Algorithm::Winograd
            };
            let m = algorithm.winograd_tile().unwrap_or(2);
            let positions = (m + 2) * (m + 2);
            let tiles = input[0].div_ceil(m) * input[1].div_ceil(m);
            let tile = if streamed(positions * spec.in_channels * spec.out_channels * 4) {
                Tile::C16P24
            } else {
                Tile::for_layer(spec.out_channels, tiles)
            };
            return Self::with_algorithm(spec, weights, bias, backend, tile, algorithm);
        }
        let row_len = Geometry::new(&spec, input, 1).map_or(0, |g| g.row_len);
        let [oh, ow] = spec.output_size(input).unwrap_or([0, 0]);
        // A single output pixel (dlib's last 1×1 layer) keeps the cost model's tile.
        let tile = if streamed(spec.weight_count().unwrap_or(0) * 4) && oh * ow > 1 {
            Tile::C16P24
        } else {
            Tile::for_layer(spec.out_channels, row_len)
        };
        Self::with_tile(spec, weights, bias, backend, tile)
    }

    /// Like [`Conv2d::with_backend`] with a chosen tile shape (see [`Tile::for_layer`]).
    pub fn with_tile(
        spec: ConvSpec,
        weights: &[f32],
        bias: &[f32],
        backend: Backend,
        tile: Tile,
    ) -> Result<Self, ConvError> {
        Self::with_algorithm(spec, weights, bias, backend, tile, Algorithm::Direct)
    }

    /// Like [`Conv2d::with_tile`] with a chosen algorithm; [`Algorithm::Winograd`] for a layer it
    /// does not apply to ([`winograd::applies`]) is a [`ConvError::Spec`].
    pub fn with_algorithm(
        spec: ConvSpec,
        weights: &[f32],
        bias: &[f32],
        backend: Backend,
        tile: Tile,
        algorithm: Algorithm,
    ) -> Result<Self, ConvError> {
        if algorithm != Algorithm::Direct && !winograd::applies(&spec) {
            return Err(ConvError::Spec(
                "Winograd needs a 3×3 stride-1 padding-1 layer with channels in multiples of 16",
            ));
        }
        let dims =
            [spec.in_channels, spec.out_channels, spec.kernel[0], spec.kernel[1], spec.stride[0], spec.stride[1]];
        if dims.contains(&0) {
            return Err(ConvError::Spec("a channel count, kernel size or stride is zero"));
        }
        if dims.iter().chain(&spec.padding).any(|&d| d > 1 << 16) {
            return Err(ConvError::Spec("a dimension is above 65536"));
        }
        let expected = spec.weight_count().filter(|&n| n <= MAX_WEIGHTS).ok_or(ConvError::Spec("too many weights"))?;
        if weights.len() != expected {
            return Err(ConvError::Length { what: "weights", got: weights.len(), expected });
        }
        if bias.len() != spec.out_channels {
            return Err(ConvError::Length { what: "bias", got: bias.len(), expected: spec.out_channels });
        }
        let out_padded = spec.out_channels.div_ceil(tile.channels()) * tile.channels();
        let mut padded_bias = bias.to_vec();
        padded_bias.resize(out_padded, 0.0);
        let packed = match algorithm {
            Algorithm::Direct => pack::filters(&spec, weights, tile, out_padded),
            Algorithm::Winograd => winograd::transform_filters::<4, 2, winograd::F2>(&spec, weights, tile, out_padded),
            Algorithm::Winograd4 => winograd::transform_filters::<6, 4, winograd::F4>(&spec, weights, tile, out_padded),
        };
        Ok(Conv2d {
            spec,
            tile,
            backend: if backend.is_supported() { backend } else { Backend::Portable },
            algorithm,
            out_padded,
            packed,
            bias: padded_bias,
        })
    }

    /// The layer's shape.
    pub fn spec(&self) -> &ConvSpec {
        &self.spec
    }

    /// The tile shape it runs with.
    pub fn tile(&self) -> Tile {
        self.tile
    }

    /// The backend that runs it.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How it computes.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Multiply-adds for an input of `[rows, cols]` (what the layer computes, not counting the
    /// border columns that the stride-1 layout computes in vain).
    pub fn multiply_adds(&self, input: [usize; 2]) -> usize {
        let [oh, ow] = self.spec.output_size(input).unwrap_or([0, 0]);
        oh * ow * self.spec.weight_count().unwrap_or(0)
    }

    /// Convolves `input` (`rows × cols × in_channels`, interleaved) into `out`
    /// (`out_rows × out_cols × out_channels`, interleaved; resized), adding the bias and, with
    /// `relu`, replacing negative sums by 0. Returns `[out_rows, out_cols]`.
    pub fn run(
        &self,
        input: &[f32],
        size: [usize; 2],
        relu: bool,
        ws: &mut Workspace,
        out: &mut Vec<f32>,
    ) -> Result<[usize; 2], ConvError> {
        self.run_adding(input, size, None, relu, ws, out)
    }

    /// Like [`Conv2d::run`], adding `residual` to the sums before the ReLU: a residual block's
    /// `relu(conv(x) + skip)` in one call, the add done while the output is gathered instead of
    /// in a pass of its own. A residual of the wrong length, or with no channels or more than
    /// the output, is a [`ConvError::Input`].
    pub fn run_adding(
        &self,
        input: &[f32],
        size: [usize; 2],
        residual: Option<Residual<'_>>,
        relu: bool,
        ws: &mut Workspace,
        out: &mut Vec<f32>,
    ) -> Result<[usize; 2], ConvError> {
        let [rows, cols] = size;
        let bad = |reason| ConvError::Input { rows, cols, reason };
        let expected = rows.checked_mul(cols).and_then(|n| n.checked_mul(self.spec.in_channels));
        if expected != Some(input.len()) {
            return Err(bad("length is not rows × cols × channels"));
        }
        if let Some(r) = residual {
            if r.channels == 0 || r.channels > self.spec.out_channels {
                return Err(bad("the residual has no channels or more than the output"));
            }
            let [oh, ow] = self.spec.output_size(size).ok_or(bad("kernel larger than the padded input"))?;
            if oh.checked_mul(ow).and_then(|n| n.checked_mul(r.channels)) != Some(r.values.len()) {
                return Err(bad("the residual is not the output's size"));
            }
        }
        if self.algorithm != Algorithm::Direct {
            // A skip connection of whole 16-channel vectors is added by the output transform;
            // another one after it, in a pass of its own.
            let (fused, after) = match residual {
                Some(r) if r.channels.is_multiple_of(LANES) => (Some(r), None),
                other => (None, other),
            };
            let relu_now = relu && after.is_none();
            let size = match self.algorithm {
                Algorithm::Winograd4 => {
                    self.run_winograd::<6, 4, winograd::F4>(input, size, fused, relu_now, ws, out)?
                }
                _ => self.run_winograd::<4, 2, winograd::F2>(input, size, fused, relu_now, ws, out)?,
            };
            if let Some(skip) = after {
                skip.add_to(out, self.spec.out_channels);
                if relu {
                    lanes::relu_assign(out);
                }
            }
            return Ok(size);
        }
        // The AVX2 kernel (and the portable one, its oracle) takes pixels in runs, so a small
        // map's border columns are not computed; the AVX-512 and simd128 kernels keep every
        // pixel `pixel_step` apart.
        let runs = matches!(self.backend, Backend::Avx2 | Backend::Portable);
        let g = Geometry::with_runs(&self.spec, size, self.tile.pixels(), runs)
            .ok_or(bad("kernel larger than the padded input"))?;
        if g.padded_len > MAX_VALUES || g.tiled_len(self.out_padded) > MAX_VALUES {
            return Err(bad("too large"));
        }
        // The `simd128` and portable kernels write exact tiles straight into the output where
        // the tiles' pixels are the output's, with the residual's add: no tiled buffer, no
        // gather. Without padding, such tiles read the input itself: no copy either.
        let exact = matches!(self.backend, Backend::Simd128 | Backend::Portable) && g.tiles_are_output_pixels();
        let unpadded = exact && self.spec.padding == [0, 0] && g.padded_cols == cols;
        let co = self.spec.out_channels;
        let Workspace { padded, tiled, .. } = ws;
        let source: &[f32] = if unpadded {
            input
        } else {
            g.fill_padded(input, padded);
            padded
        };
        let dest: &mut Vec<f32> = if exact {
            // Every output value is written by exactly one tile: no need to clear it.
            let [oh, ow] = g.output;
            out.resize(oh * ow * co, 0.0);
            out
        } else {
            // Every value of the tiled output that the gather reads is written by exactly one
            // tile: no need to clear it.
            tiled.resize(g.tiled_len(self.out_padded), 0.0);
            tiled
        };
        let live = g.row_live();

        let co_tile = self.tile.channels();
        let (taps, in_channels) = merge_tap_rows(g.taps(), self.spec.kernel, self.spec.in_channels);
        let block = self.spec.kernel[0] * self.spec.kernel[1] * self.spec.in_channels * co_tile;
        for (cb, (filters, bias)) in self.packed.chunks_exact(block).zip(self.bias.chunks_exact(co_tile)).enumerate() {
            let first_channel = cb * co_tile;
            for row in 0..g.rows {
                for start in (0..live).step_by(self.tile.pixels()) {
                    let (first, run_phase) = g.tile_start(row, start);
                    let pixel = g.output_pixel(row, start);
                    // An exact tile adds the residual to those of its channels that have one.
                    let (skip, skip_step, skip_channels) = match residual {
                        Some(r) if exact && r.channels > first_channel => (
                            r.values.get(pixel * r.channels + first_channel..).unwrap_or_default(),
                            r.channels,
                            (r.channels - first_channel).min(co_tile),
                        ),
                        _ => (&[][..], 0, 0),
                    };
                    let (out_offset, out_step) = if exact {
                        (pixel * co + first_channel, co)
                    } else {
                        ((row * g.row_len_tiled + start) * self.out_padded + first_channel, self.out_padded)
                    };
                    let args = TileArgs {
                        input: source,
                        start: first,
                        pixel_step: g.pixel_in_step,
                        taps: &taps,
                        in_channels,
                        filters,
                        bias,
                        out_offset,
                        out_step,
                        relu: relu && (exact || residual.is_none()),
                        live_channels: (co - first_channel).min(co_tile),
                        live_pixels: (live - start).min(self.tile.pixels()),
                        run_len: g.run_len,
                        run_phase,
                        run_skip: g.run_skip,
                        exact,
                        residual: skip,
                        residual_step: skip_step,
                        residual_channels: skip_channels,
                    };
                    self.run_tile(args, dest);
                }
            }
        }
        if exact {
            return Ok(g.output);
        }
        match residual {
            Some(r) => g.gather_output_adding(tiled, self.out_padded, co, r, relu, out),
            None => g.gather_output(tiled, self.out_padded, co, out),
        }
        Ok(g.output)
    }

    /// [`Conv2d::run`] for [`Algorithm::Winograd`] and [`Algorithm::Winograd4`] (input length
    /// already checked): F(m×m, 3×3) on `n = m + 2` points.
    fn run_winograd<const N: usize, const M: usize, P: winograd::Points<N, M>>(
        &self,
        input: &[f32],
        size: [usize; 2],
        residual: Option<Residual<'_>>,
        relu: bool,
        ws: &mut Workspace,
        out: &mut Vec<f32>,
    ) -> Result<[usize; 2], ConvError> {
        let bad = |reason| ConvError::Input { rows: size[0], cols: size[1], reason };
        // Same answer as the direct convolution on an empty input: the kernel does not fit.
        if self.spec.output_size(size) != Some(size) {
            return Err(bad("kernel larger than the padded input"));
        }
        let ([th, tw], tiled) = winograd::tiles(size, M, self.tile.pixels());
        let (ci, co) = (self.spec.in_channels, self.spec.out_channels);
        let positions = N * N;
        let v_len = tiled.checked_mul(positions * ci).filter(|&n| n <= MAX_VALUES).ok_or(bad("too large"))?;
        let m_len =
            tiled.checked_mul(positions * self.out_padded).filter(|&n| n <= MAX_VALUES).ok_or(bad("too large"))?;
        let out_len = size[0] * size[1] * co;
        if out_len > MAX_VALUES {
            return Err(bad("too large"));
        }
        ws.transformed.resize(v_len, 0.0);
        ws.products.resize(m_len, 0.0);
        out.clear();
        out.resize(out_len, 0.0);
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => avx512::winograd_input::<N, M, P>(input, size, ci, tiled, &mut ws.transformed),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::winograd_input::<N, M, P>(input, size, ci, tiled, &mut ws.transformed),
            _ => winograd::input_transform::<N, M, P>(input, size, ci, tiled, &mut ws.transformed),
        }
        winograd::products(
            positions,
            &ws.transformed,
            &self.packed,
            ci,
            tiled,
            th * tw,
            self.tile,
            self.out_padded,
            &winograd::ZEROS,
            &mut ws.products,
            |a, m| self.run_tile(a, m),
        );
        let products = winograd::Products {
            m: &ws.products,
            size,
            tiled,
            out_padded: self.out_padded,
            out_channels: co,
            bias: &self.bias,
            residual,
            relu,
        };
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => avx512::winograd_output::<N, M, P>(products, out),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::winograd_output::<N, M, P>(products, out),
            _ => winograd::output_transform::<N, M, P>(products, out),
        }
        Ok(size)
    }

    fn run_tile(&self, args: TileArgs<'_>, out: &mut [f32]) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => avx512::run_tile(self.tile, args, out),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::run_tile(self.tile, args, out),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Backend::Simd128 => simd128::run_tile(self.tile, args, out),
            _ => kernel::portable::run_tile(self.tile, args, out),
        }
    }
}

/// `max(v, 0)`, NaN giving 0 as with `f32::max`, written as a comparison: `f32::max` is IEEE
/// maxNum, which WebAssembly has no instruction for (a call to `fmaxf` per value in the
/// browser), while a comparison and a select vectorise on every target. The ReLU of the
/// kernels' scalar paths and of the engines built on this crate.
#[inline(always)]
pub fn relu(v: f32) -> f32 {
    if v > 0.0 { v } else { 0.0 }
}

/// Deterministic pseudo-random values in [-1, 1) (xorshift64 from `seed`), for the tests and
/// benchmarks of this crate and of the engines built on it, native and in the browser.
pub fn test_values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// When every tap of a `kernel` is live, the taps of one kernel row read `kernel cols ×
/// in_channels` consecutive input values (the row's pixels are adjacent in the padded input),
/// and their packed filters are consecutive too: the row becomes one tap of that many input
/// channels. Same multiply-adds in the same order, fewer loop trips: a stem convolution of 3
/// input channels reduces over runs of 15 values instead of 3. Otherwise the taps are returned
/// as they are.
fn merge_tap_rows(taps: Vec<(usize, usize)>, kernel: [usize; 2], in_channels: usize) -> (Vec<(usize, usize)>, usize) {
    let [kh, kw] = kernel;
    if kw < 2 || taps.len() != kh * kw {
        return (taps, in_channels);
    }
    let rows = taps.chunks_exact(kw).enumerate().map(|(ky, row)| (row[0].0, ky)).collect();
    (rows, kw * in_channels)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain convolution on interleaved data, f64 sums: the oracle.
    pub(crate) fn reference(
        spec: &ConvSpec,
        w: &[f32],
        b: &[f32],
        input: &[f32],
        size: [usize; 2],
        relu: bool,
    ) -> Vec<f32> {
        let [oh, ow] = spec.output_size(size).unwrap();
        let [h, wd] = size;
        let (ci_n, co_n) = (spec.in_channels, spec.out_channels);
        let mut out = vec![0f32; oh * ow * co_n];
        for y in 0..oh {
            for x in 0..ow {
                for o in 0..co_n {
                    let mut acc = f64::from(b[o]);
                    for ky in 0..spec.kernel[0] {
                        for kx in 0..spec.kernel[1] {
                            let iy = (y * spec.stride[0] + ky).checked_sub(spec.padding[0]).filter(|&v| v < h);
                            let ix = (x * spec.stride[1] + kx).checked_sub(spec.padding[1]).filter(|&v| v < wd);
                            let (Some(iy), Some(ix)) = (iy, ix) else { continue };
                            for c in 0..ci_n {
                                let wv = w[((o * ci_n + c) * spec.kernel[0] + ky) * spec.kernel[1] + kx];
                                acc += f64::from(wv) * f64::from(input[(iy * wd + ix) * ci_n + c]);
                            }
                        }
                    }
                    let v = acc as f32;
                    out[(y * ow + x) * co_n + o] = if relu { v.max(0.0) } else { v };
                }
            }
        }
        out
    }

    use crate::test_values as values;

    fn check(spec: ConvSpec, size: [usize; 2], relu: bool, backend: Backend) {
        for tile in [Tile::C64P6, Tile::C32P12, Tile::C16P24] {
            check_tile(spec, size, relu, backend, tile);
        }
    }

    fn check_tile(spec: ConvSpec, size: [usize; 2], relu: bool, backend: Backend, tile: Tile) {
        let w = values(spec.weight_count().unwrap(), 1);
        let b = values(spec.out_channels, 2);
        let input = values(size[0] * size[1] * spec.in_channels, 3);
        let conv = Conv2d::with_tile(spec, &w, &b, backend, tile).unwrap();
        let mut ws = Workspace::default();
        let mut out = vec![7.0; 3];
        let got_size = conv.run(&input, size, relu, &mut ws, &mut out).unwrap();
        assert_eq!(Some(got_size), spec.output_size(size));
        let want = reference(&spec, &w, &b, &input, size, relu);
        assert_eq!(out.len(), want.len());
        let k = spec.weight_count().unwrap() / spec.out_channels;
        let tol = 1e-5 * (k as f32).sqrt().max(1.0) * 4.0;
        for (i, (g, e)) in out.iter().zip(&want).enumerate() {
            assert!((g - e).abs() <= tol, "{spec:?} {size:?} {backend:?}: value {i}: {g} vs {e}");
        }
        // The x86 kernels make the same fused multiply-adds in the same order as the portable
        // one: equal to the bit.
        if conv.backend() != Backend::Portable {
            let portable = Conv2d::with_tile(spec, &w, &b, Backend::Portable, tile).unwrap();
            let mut expected = Vec::new();
            portable.run(&input, size, relu, &mut Workspace::default(), &mut expected).unwrap();
            assert_eq!(out, expected, "{spec:?} {size:?} {tile:?}: {backend:?} and portable differ");
        }
        // A second run on the same workspace gives the same answer.
        let mut again = Vec::new();
        conv.run(&input, size, relu, &mut ws, &mut again).unwrap();
        assert_eq!(again, out);
    }

    /// Both Winograd algorithms against the reference, and bit-equal across backends.
    fn check_winograd(ci: usize, co: usize, size: [usize; 2], relu: bool) {
        check_winograd_with(Algorithm::Winograd, ci, co, size, relu);
        check_winograd_with(Algorithm::Winograd4, ci, co, size, relu);
    }

    fn check_winograd_with(algorithm: Algorithm, ci: usize, co: usize, size: [usize; 2], relu: bool) {
        let spec = spec(ci, co, 3, 1, 1);
        let w = values(spec.weight_count().unwrap(), 4);
        let b = values(co, 5);
        let input = values(size[0] * size[1] * ci, 6);
        let want = reference(&spec, &w, &b, &input, size, relu);
        let mut results = Vec::new();
        for tile in [Tile::C64P6, Tile::C32P12, Tile::C16P24] {
            for backend in [Backend::Portable, Backend::Avx512, Backend::Avx2] {
                let conv = Conv2d::with_algorithm(spec, &w, &b, backend, tile, algorithm).unwrap();
                let mut ws = Workspace::default();
                let mut out = vec![3.0; 5];
                assert_eq!(conv.run(&input, size, relu, &mut ws, &mut out).unwrap(), size);
                let tol = 1e-5 * ((9 * ci) as f32).sqrt() * 8.0;
                for (i, (g, e)) in out.iter().zip(&want).enumerate() {
                    assert!(
                        (g - e).abs() <= tol,
                        "{algorithm:?} {ci}->{co} {size:?} {tile:?} {backend:?}: {i}: {g} vs {e}"
                    );
                }
                let mut again = Vec::new();
                conv.run(&input, size, relu, &mut ws, &mut again).unwrap();
                assert_eq!(again, out);
                results.push((tile, out));
            }
        }
        for same_tile in results.chunks_exact(3) {
            for other in &same_tile[1..] {
                assert_eq!(same_tile[0].1, other.1, "{:?}: the backends differ", same_tile[0].0);
            }
        }
    }

    #[test]
    fn detect_picks_the_widest_simd_the_cpu_has() {
        let backend = Backend::detect();
        assert!(backend.is_supported());
        #[cfg(target_arch = "x86_64")]
        {
            let want = if std::arch::is_x86_feature_detected!("avx512f") {
                Backend::Avx512
            } else if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                Backend::Avx2
            } else {
                Backend::Portable
            };
            assert_eq!(backend, want);
        }
        // A backend the CPU lacks falls back to the portable kernel instead of faulting.
        let spec = spec(1, 1, 1, 1, 0);
        for b in [Backend::Avx512, Backend::Avx2, Backend::Simd128] {
            let conv = Conv2d::with_backend(spec, &[1.0], &[0.0], b).unwrap();
            assert_eq!(conv.backend(), if b.is_supported() { b } else { Backend::Portable });
        }
    }

    /// A backend's tile kernel.
    type RunTile = fn(Tile, TileArgs<'_>, &mut [f32]);

    #[test]
    fn the_x86_kernels_compute_every_live_pixel_of_a_partial_tile_like_the_portable_one() {
        // Two taps of 5 input channels, pixels 7 values apart (in runs or not); every tile
        // shape, every count of live pixels and of live channels. The live sums must equal the
        // portable kernel's to the bit; the rest may be anything.
        let taps = [(0, 0), (3, 1)];
        for tile in [Tile::C64P6, Tile::C32P12, Tile::C16P24] {
            let (px, ch) = (tile.pixels(), tile.channels());
            let input = values(px * 11 + 8, 50);
            let filters = values(2 * 5 * ch, 51);
            let bias = values(ch, 52);
            // No runs, then runs of 5 pixels that skip 4 values at each end, from each phase.
            let runs = [(kernel::NO_RUNS, 0, 0)].into_iter().chain((0..5).map(|phase| (5, phase, 4)));
            for ((run_len, run_phase, run_skip), live_pixels) in runs.flat_map(|r| (1..=px).map(move |n| (r, n))) {
                for live_channels in [ch, ch - 8, 8, 1] {
                    let args = TileArgs {
                        input: &input,
                        start: 0,
                        pixel_step: 7,
                        taps: &taps,
                        in_channels: 5,
                        filters: &filters,
                        bias: &bias,
                        out_offset: 3,
                        out_step: ch + 1,
                        relu: live_pixels % 2 == 0,
                        live_channels,
                        live_pixels,
                        run_len,
                        run_phase,
                        run_skip,
                        exact: false,
                        residual: &[],
                        residual_step: 0,
                        residual_channels: 0,
                    };
                    let len = 3 + px * (ch + 1);
                    // In bounds, so the SIMD kernels run rather than fall back to the portable one.
                    assert!(args.in_bounds(tile, len));
                    let mut want = vec![0.0; len];
                    kernel::portable::run_tile(tile, args, &mut want);
                    let mut runs: Vec<(&str, RunTile)> = Vec::new();
                    #[cfg(target_arch = "x86_64")]
                    runs.extend([("avx2", avx2::run_tile as RunTile), ("avx512", avx512::run_tile)]);
                    for (name, run) in runs {
                        let mut got = vec![f32::NAN; len];
                        run(tile, args, &mut got);
                        for p in 0..live_pixels {
                            let at = 3 + p * (ch + 1);
                            let live = at..at + live_channels;
                            assert_eq!(
                                got[live.clone()],
                                want[live],
                                "{name} {tile:?} pixel {p} of {live_pixels}, runs of {run_len} from {run_phase}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn an_exact_tile_writes_its_live_pixels_and_channels_with_the_residual_and_nothing_else() {
        let taps = [(0, 0), (3, 1)];
        let tile = Tile::C32P12;
        let (px, ch) = (tile.pixels(), tile.channels());
        let input = values(7 * (px - 1) + 8, 60);
        let filters = values(2 * 5 * ch, 61);
        let bias = values(ch, 62);
        let residual = values(px * 9, 63);
        for (live_pixels, live_channels, residual_channels) in [(12, 32, 9), (5, 20, 9), (1, 1, 1), (7, 13, 0)] {
            let plain = TileArgs {
                input: &input,
                start: 0,
                pixel_step: 7,
                taps: &taps,
                in_channels: 5,
                filters: &filters,
                bias: &bias,
                out_offset: 0,
                out_step: ch,
                relu: true,
                live_channels,
                live_pixels: px,
                run_len: kernel::NO_RUNS,
                run_phase: 0,
                run_skip: 0,
                exact: false,
                residual: &[],
                residual_step: 0,
                residual_channels: 0,
            };
            let mut sums = vec![0.0; px * ch];
            kernel::portable::run_tile(tile, TileArgs { relu: false, ..plain }, &mut sums);
            // Pixels `live_channels` apart after 2 values of other data, as in an output.
            let exact = TileArgs {
                out_offset: 2,
                out_step: live_channels,
                live_pixels,
                exact: true,
                residual: &residual,
                residual_step: 9,
                residual_channels: residual_channels.min(live_channels),
                ..plain
            };
            let len = 2 + px * live_channels + 3;
            assert!(exact.in_bounds(tile, len));
            let mut out = vec![-9.0; len];
            kernel::portable::run_tile(tile, exact, &mut out);
            let mut want = vec![-9.0; len];
            for p in 0..live_pixels {
                for c in 0..live_channels {
                    let skip = if c < exact.residual_channels { residual[p * 9 + c] } else { 0.0 };
                    want[2 + p * live_channels + c] = relu(sums[p * ch + c] + skip);
                }
            }
            assert_eq!(out, want, "{live_pixels} pixels, {live_channels} channels");
            // Bounds are those of the live pixels and channels, and of the residual.
            assert!(!exact.in_bounds(tile, len - 4 - (px - live_pixels) * live_channels));
            let short =
                TileArgs { residual: &residual[..(live_pixels - 1) * 9 + exact.residual_channels - 1], ..exact };
            assert_eq!(short.in_bounds(tile, len), exact.residual_channels == 0);
            assert!(!TileArgs { live_pixels: 0, ..exact }.in_bounds(tile, len));
            assert!(!TileArgs { live_channels: ch + 1, ..exact }.in_bounds(tile, len));
        }
    }

    #[test]
    fn winograd_matches_the_reference_on_even_and_odd_sizes() {
        check_winograd(32, 32, [9, 11], true);
        check_winograd(16, 48, [1, 1], false);
        check_winograd(64, 64, [6, 5], false);
        check_winograd(16, 16, [2, 7], true);
    }

    #[test]
    fn winograd_refuses_an_empty_input_as_the_direct_convolution_does() {
        // Found by the fuzz target: a 9×0 input gave Ok([9, 0]) where the direct path refuses it.
        let spec = spec(16, 16, 3, 1, 1);
        let (w, b) = (vec![0.0; 16 * 16 * 9], vec![0.0; 16]);
        for algorithm in [Algorithm::Direct, Algorithm::Winograd, Algorithm::Winograd4] {
            let conv = Conv2d::with_algorithm(spec, &w, &b, Backend::Portable, Tile::C16P24, algorithm).unwrap();
            let got = conv.run(&[], [9, 0], false, &mut Workspace::default(), &mut Vec::new());
            assert!(matches!(got, Err(ConvError::Input { .. })), "{algorithm:?}: {got:?}");
        }
    }

    #[test]
    fn winograd_is_refused_where_it_does_not_apply_and_chosen_where_it_pays() {
        let w = vec![0.0; 32 * 32 * 9];
        let b = vec![0.0; 32];
        let stride2 = ConvSpec { stride: [2, 2], ..spec(32, 32, 3, 1, 1) };
        let algo = |s: ConvSpec, n: usize| {
            Conv2d::with_algorithm(s, &w[..n], &b, Backend::Portable, Tile::C32P12, Algorithm::Winograd)
        };
        assert!(matches!(algo(stride2, 32 * 32 * 9), Err(ConvError::Spec(_))));
        assert!(matches!(algo(spec(32, 32, 5, 1, 1), 32 * 32 * 9), Err(ConvError::Spec(_))));
        let for_input =
            |size| Conv2d::for_input(spec(32, 32, 3, 1, 1), &w, &b, Backend::Portable, size).unwrap().algorithm();
        assert_eq!(for_input([35, 35]), Algorithm::Winograd4);
        assert_eq!(for_input([4, 4]), Algorithm::Direct);
        let w64 = vec![0.0; 64 * 64 * 9];
        let wide = Conv2d::for_input(spec(64, 64, 3, 1, 1), &w64, &[0.0; 64], Backend::Portable, [17, 17]).unwrap();
        assert_eq!(wide.algorithm(), Algorithm::Winograd);
        for algorithm in [Algorithm::Winograd, Algorithm::Winograd4] {
            let conv = Conv2d::with_algorithm(stride2, &w, &b, Backend::Portable, Tile::C32P12, algorithm);
            assert!(matches!(conv, Err(ConvError::Spec(_))), "{algorithm:?}");
        }
    }

    #[test]
    fn large_filters_are_read_in_one_pass_by_16_channel_tiles() {
        let w = vec![0.0; 256 * 256 * 9];
        let b = vec![0.0; 256];
        let conv = |s: ConvSpec, size| {
            Conv2d::for_input(s, &w[..s.weight_count().unwrap()], &b[..s.out_channels], Backend::Portable, size)
                .unwrap()
        };
        let tile = |s, size| conv(s, size).tile();
        // 256 → 256 on 4×4 and 128 → 256 stride 2 on 8×8: 2.4 and 1.2 MB of filters.
        assert_eq!(tile(spec(256, 256, 3, 1, 1), [4, 4]), Tile::C16P24);
        assert_eq!(tile(spec(128, 256, 3, 2, 0), [8, 8]), Tile::C16P24);
        // ... but a single output pixel keeps the cost model's tile.
        assert_eq!(tile(spec(256, 256, 3, 1, 1), [1, 1]), Tile::for_layer(256, 3));
        // 32 → 64 stride 2 on 35×35: rows of 17, but 74 KB of filters: the cost model's tile.
        assert_eq!(tile(spec(32, 64, 3, 2, 0), [35, 35]), Tile::for_layer(64, 17));
        // Winograd 128 → 128 on 8×8: 16 transformed filters of 64 KB; 64 → 64: 16 of 16 KB.
        let wide = conv(spec(128, 128, 3, 1, 1), [8, 8]);
        assert_eq!((wide.algorithm(), wide.tile()), (Algorithm::Winograd, Tile::C16P24));
        let narrow = conv(spec(64, 64, 3, 1, 1), [17, 17]);
        assert_eq!((narrow.algorithm(), narrow.tile()), (Algorithm::Winograd, Tile::for_layer(64, 81)));
    }

    fn spec(ci: usize, co: usize, k: usize, s: usize, p: usize) -> ConvSpec {
        ConvSpec { in_channels: ci, out_channels: co, kernel: [k, k], stride: [s, s], padding: [p, p] }
    }

    #[test]
    fn the_shapes_of_dlibs_resnet_match_the_reference() {
        for backend in [Backend::Portable, Backend::Avx512, Backend::Avx2] {
            check(spec(3, 32, 7, 2, 0), [21, 19], false, backend);
            check(spec(32, 32, 3, 1, 1), [9, 11], true, backend);
            check(spec(32, 64, 3, 2, 0), [11, 9], false, backend);
            check(spec(64, 64, 3, 1, 1), [5, 5], true, backend);
            check(spec(128, 256, 3, 2, 0), [7, 7], false, backend);
            check(spec(256, 256, 3, 1, 1), [4, 4], true, backend);
            check(spec(256, 256, 3, 1, 1), [1, 1], false, backend);
        }
    }

    #[test]
    fn odd_channel_counts_kernels_and_strides_match_the_reference() {
        for backend in [Backend::Portable, Backend::Avx512, Backend::Avx2] {
            check(spec(1, 1, 1, 1, 0), [1, 1], false, backend);
            check(spec(2, 3, 3, 1, 1), [5, 4], true, backend);
            check(spec(5, 17, 2, 3, 2), [8, 13], false, backend);
            check(
                ConvSpec { in_channels: 4, out_channels: 40, kernel: [1, 5], stride: [2, 1], padding: [0, 2] },
                [6, 7],
                true,
                backend,
            );
            check(
                ConvSpec { in_channels: 3, out_channels: 48, kernel: [4, 2], stride: [1, 3], padding: [3, 0] },
                [2, 9],
                false,
                backend,
            );
        }
    }

    #[test]
    fn a_fused_residual_add_equals_the_convolution_plus_the_residual() {
        // 1×1 (a BlazeFace block's), 3×3 strided, and 3×3 on both Winograd algorithms; 24
        // channels leave a partial tile. Residuals with every channel, and narrower ones (a skip
        // connection widened by zero channels) that only reach the first channels: whole
        // 16-channel vectors (added by the Winograd output transform) and not.
        let layers = [
            (spec(24, 24, 1, 1, 0), [9, 7], Algorithm::Direct),
            (spec(5, 24, 3, 2, 1), [9, 7], Algorithm::Direct),
            (spec(16, 32, 3, 1, 1), [9, 7], Algorithm::Winograd),
            (spec(16, 32, 3, 1, 1), [9, 7], Algorithm::Winograd4),
        ];
        for (n, (s, size, algorithm)) in layers.into_iter().enumerate() {
            let co = s.out_channels;
            let w = values(s.weight_count().unwrap(), n as u64);
            let b = values(co, 10 + n as u64);
            let input = values(size[0] * size[1] * s.in_channels, 20 + n as u64);
            let [oh, ow] = s.output_size(size).unwrap();
            for backend in [Backend::Portable, Backend::Avx512, Backend::Avx2] {
                let conv = Conv2d::with_algorithm(s, &w, &b, backend, Tile::C32P12, algorithm).unwrap();
                let mut ws = Workspace::default();
                let (mut plain, mut fused) = (Vec::new(), Vec::new());
                conv.run(&input, size, false, &mut ws, &mut plain).unwrap();
                for rc in [co, co - 4, 16, 7, 1] {
                    let skip = values(oh * ow * rc, 30 + n as u64);
                    for relu in [false, true] {
                        let residual = Residual { values: &skip, channels: rc };
                        conv.run_adding(&input, size, Some(residual), relu, &mut ws, &mut fused).unwrap();
                        let want: Vec<f32> = plain
                            .iter()
                            .enumerate()
                            .map(|(i, &p)| {
                                let v = if i % co < rc { p + skip[i / co * rc + i % co] } else { p };
                                if relu { v.max(0.0) } else { v }
                            })
                            .collect();
                        assert_eq!(fused, want, "layer {n} {backend:?} residual channels {rc} relu {relu}");
                    }
                }
                let skip = values(oh * ow * co, 40);
                let bad = [(&skip[1..], co), (&skip[..], 0), (&skip[..], co + 1), (&skip[..], co - 1)];
                for (values, channels) in bad {
                    let residual = Some(Residual { values, channels });
                    let err = conv.run_adding(&input, size, residual, true, &mut ws, &mut fused).unwrap_err();
                    assert!(matches!(err, ConvError::Input { .. }), "{err}");
                }
            }
        }
    }

    #[test]
    fn bad_specs_and_inputs_are_typed_errors() {
        let s = spec(2, 2, 3, 1, 0);
        assert!(matches!(Conv2d::new(s, &[0.0; 35], &[0.0; 2]), Err(ConvError::Length { what: "weights", .. })));
        assert!(matches!(Conv2d::new(s, &[0.0; 36], &[0.0; 3]), Err(ConvError::Length { what: "bias", .. })));
        assert!(matches!(Conv2d::new(spec(2, 2, 3, 0, 0), &[0.0; 36], &[0.0; 2]), Err(ConvError::Spec(_))));
        assert!(matches!(Conv2d::new(spec(0, 2, 3, 1, 0), &[], &[0.0; 2]), Err(ConvError::Spec(_))));
        let conv = Conv2d::new(s, &[0.0; 36], &[0.0; 2]).unwrap();
        let mut ws = Workspace::default();
        let mut out = Vec::new();
        assert!(matches!(conv.run(&[0.0; 8], [2, 2], false, &mut ws, &mut out), Err(ConvError::Input { .. })));
        assert!(matches!(conv.run(&[0.0; 7], [2, 2], false, &mut ws, &mut out), Err(ConvError::Input { .. })));
        assert!(matches!(conv.run(&[], [usize::MAX, 2], false, &mut ws, &mut out), Err(ConvError::Input { .. })));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn any_small_convolution_matches_the_reference(
            ci in 1usize..6, co in 1usize..70, kh in 1usize..5, kw in 1usize..5,
            sy in 1usize..4, sx in 1usize..4, py in 0usize..3, px in 0usize..3,
            h in 1usize..12, w in 1usize..12, relu: bool,
        ) {
            let s = ConvSpec { in_channels: ci, out_channels: co, kernel: [kh, kw], stride: [sy, sx], padding: [py, px] };
            proptest::prop_assume!(s.output_size([h, w]).is_some());
            for backend in [Backend::Portable, Backend::Avx512, Backend::Avx2] {
                check(s, [h, w], relu, backend);
            }
        }
    }
}
