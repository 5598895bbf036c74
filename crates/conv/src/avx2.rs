//! The tile and depthwise kernels with AVX2 and FMA: x86-64 CPUs without AVX-512 (AMD Zen 1–3,
//! Intel client cores since Haswell).
//!
//! AVX2 has 16 `ymm` registers of 8 f32, so a tile's sums cannot all stay in registers as with
//! AVX-512's 32 `zmm`. The tile kernel walks a tile's live channels
//! ([`TileArgs::live_channels`]) in blocks of 16 channels × 6 pixels (12 sums, 2 filter
//! vectors and one broadcast: 15 registers; the shape of the classic 6 × 16 single-precision
//! GEMM kernel for this register file) and a last block of 8 channels where at most 8 remain,
//! each block's sums in registers over the whole reduction. Only a tile's live pixels
//! ([`TileArgs::live_pixels`]) are computed, in groups as even as possible, and a stride-1
//! layer's tiles take the output pixels in runs that skip the padded grid's border columns
//! ([`TileArgs::run_len`]): dlib's 3×3 map costs 9 pixels of work where a 24-pixel tile used
//! to compute 24, and its 1×1 map one where a 6-pixel tile computed six. The filters are
//! packed as for the
//! other kernels, so the same [`Conv2d`](crate::Conv2d) runs here. The depthwise kernel takes 8
//! channels per vector and keeps a 3×3 layer's nine weight vectors in registers along each row
//! whose taps all read the image, like the AVX-512 one; channels past the last whole vector take
//! scalar fused multiply-adds.
//!
//! Every sum is the same chain of fused multiply-adds, in the same order, as in the portable
//! kernels, so the results agree with them to the bit (tested), as the AVX-512 ones do.
//!
//! Safety rests on two checks made before any pointer is formed: the CPU has `avx2` and `fma`
//! (checked on every call, a cached load), and [`TileArgs::in_bounds`] or [`Layer::in_bounds`]
//! holds for the call, which bounds every offset the loops compute.

use std::arch::x86_64::{
    __m256, _MM_HINT_T0, _mm_prefetch, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_max_ps,
    _mm256_setzero_ps, _mm256_storeu_ps,
};

use crate::depthwise::Layer;
use crate::kernel::{Tile, TileArgs, portable};

/// Whether this CPU has AVX2 and FMA.
pub(crate) fn supported() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Runs one tile; out-of-bounds arguments or a CPU without AVX2 and FMA go to the portable
/// kernel (which panics on out-of-bounds arguments rather than reading outside the slices).
pub fn run_tile(tile: Tile, a: TileArgs<'_>, out: &mut [f32]) {
    // Exact tiles are the `simd128` kernel's (`Conv2d` never gives them to this one).
    if !supported() || a.exact || !a.in_bounds(tile, out.len()) {
        return portable::run_tile(tile, a, out);
    }
    // SAFETY: avx2 and fma are present, and every access of the tile is in bounds (both
    // checked above).
    unsafe {
        match tile {
            Tile::C64P6 => channel_blocks::<64, 6, 6>(a, out),
            Tile::C32P12 => channel_blocks::<32, 12, 12>(a, out),
            Tile::C16P24 => channel_blocks::<16, 24, 12>(a, out),
        }
    }
}

/// The live channels of a tile of `CH` channels × `PX` pixels in blocks of 16 (`2 vectors × 6
/// pixels`), and a last block of 8 (`1 vector × G8 pixels`) where at most 8 channels remain.
///
/// # Safety
/// The CPU supports `avx2` and `fma`, `a.in_bounds(tile, out.len())` holds for the tile, and
/// `G8` divides `PX`.
#[target_feature(enable = "avx2,fma")]
unsafe fn channel_blocks<const CH: usize, const PX: usize, const G8: usize>(a: TileArgs<'_>, out: &mut [f32]) {
    let live = a.live_channels.min(CH);
    let mut cb = 0;
    while cb < live {
        if live - cb <= 8 {
            // SAFETY: the caller's guarantees, and cb + 8 ≤ CH (CH is a multiple of 16 and cb of
            // 8, below live ≤ CH).
            unsafe { block::<CH, PX, 1, G8>(a, out, cb) };
            cb += 8;
        } else {
            // SAFETY: the caller's guarantees, and cb + 16 ≤ CH (cb is a multiple of 16 here).
            unsafe { block::<CH, PX, 2, 6>(a, out, cb) };
            cb += 16;
        }
    }
}

/// Channels `cb..cb + 8·NV` of a tile of `CH` channels × `PX` pixels: its live pixels
/// ([`TileArgs::live_pixels`]) in groups of at most `G` (`G` divides `PX`), as even as possible,
/// so that a short last tile keeps enough independent sums to hide the multiply-add latency
/// (13 live pixels in groups of 6 run as 5 + 4 + 4, not 6 + 6 + 1). Pixels in runs
/// ([`TileArgs::run_len`]) go in groups of at most 6, whose input offsets are computed once per
/// group.
///
/// # Safety
/// The CPU supports `avx2` and `fma`, `a.in_bounds(tile, out.len())` holds for the tile of `CH`
/// channels and `PX` pixels, `cb + 8·NV ≤ CH`, and `G ≤ 12`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn block<const CH: usize, const PX: usize, const NV: usize, const G: usize>(
    a: TileArgs<'_>,
    out: &mut [f32],
    cb: usize,
) {
    let live = a.live_pixels.min(PX);
    let uniform = a.uniform();
    if live == PX && uniform {
        for p0 in (0..PX).step_by(G) {
            // SAFETY: the caller's guarantees, and p0 + G ≤ PX (G divides PX).
            unsafe { group::<CH, NV, G, false>(a, out, cb, p0) };
        }
        return;
    }
    let most = if uniform { G } else { G.min(6) };
    let groups = live.div_ceil(most);
    let mut p0 = 0;
    for k in 0..groups {
        // The first `live % groups` groups take one pixel more; every size is at most `most`.
        let n = live / groups + usize::from(k < live % groups);
        // SAFETY: the caller's guarantees, and p0 + n ≤ live ≤ PX, n ≤ most.
        unsafe {
            if uniform {
                group_of::<CH, NV, false>(n, a, out, cb, p0);
            } else {
                group_of::<CH, NV, true>(n, a, out, cb, p0);
            }
        }
        p0 += n;
    }
}

/// [`group`] for a run-time group size `n`: 1 to 6, or up to 12 for one-vector blocks of
/// uniform pixels.
///
/// # Safety
/// As for [`group`] with `G = n`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn group_of<const CH: usize, const NV: usize, const RUNS: bool>(
    n: usize,
    a: TileArgs<'_>,
    out: &mut [f32],
    cb: usize,
    p0: usize,
) {
    // SAFETY: the caller's guarantees for a group of n pixels.
    unsafe {
        match n {
            1 => group::<CH, NV, 1, RUNS>(a, out, cb, p0),
            2 => group::<CH, NV, 2, RUNS>(a, out, cb, p0),
            3 => group::<CH, NV, 3, RUNS>(a, out, cb, p0),
            4 => group::<CH, NV, 4, RUNS>(a, out, cb, p0),
            5 => group::<CH, NV, 5, RUNS>(a, out, cb, p0),
            6 => group::<CH, NV, 6, RUNS>(a, out, cb, p0),
            // Only the one-vector blocks of uniform pixels take more than 6 at a time.
            7 if NV == 1 && !RUNS => group::<CH, 1, 7, false>(a, out, cb, p0),
            8 if NV == 1 && !RUNS => group::<CH, 1, 8, false>(a, out, cb, p0),
            9 if NV == 1 && !RUNS => group::<CH, 1, 9, false>(a, out, cb, p0),
            10 if NV == 1 && !RUNS => group::<CH, 1, 10, false>(a, out, cb, p0),
            11 if NV == 1 && !RUNS => group::<CH, 1, 11, false>(a, out, cb, p0),
            12 if NV == 1 && !RUNS => group::<CH, 1, 12, false>(a, out, cb, p0),
            _ => unreachable!("a group of {n} pixels with {NV} vectors"),
        }
    }
}

/// Channels `cb..cb + 8·NV` of pixels `p0..p0 + G` of a tile of `CH` channels, the `NV × G`
/// sums in registers over the whole reduction: per input channel, `NV` filter loads and `G`
/// broadcasts feed `NV × G` fused multiply-adds. With `RUNS` the pixels' input offsets come
/// from [`TileArgs::pixel_offset`] (computed once); without, they are `pixel_step` apart.
///
/// # Safety
/// The CPU supports `avx2` and `fma`, `a.in_bounds(tile, out.len())` holds for the tile of `CH`
/// channels and at least `p0 + G` pixels, `cb + 8·NV ≤ CH`, and without `RUNS` the tile's
/// pixels are uniform ([`TileArgs::uniform`]).
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn group<const CH: usize, const NV: usize, const G: usize, const RUNS: bool>(
    a: TileArgs<'_>,
    out: &mut [f32],
    cb: usize,
    p0: usize,
) {
    let zero = _mm256_setzero_ps();
    let (input, filters, bias, dst) = (a.input.as_ptr(), a.filters.as_ptr(), a.bias.as_ptr(), out.as_mut_ptr());
    let mut b = [zero; NV];
    for (v, slot) in b.iter_mut().enumerate() {
        // SAFETY: bias has at least CH values (in_bounds) and cb + 8·NV ≤ CH.
        *slot = unsafe { _mm256_loadu_ps(bias.add(cb + 8 * v)) };
    }
    // Pixel p0's input offset, and each pixel's from it (RUNS; else `g · pixel_step`, and no
    // division by the run length).
    let first = if RUNS { a.pixel_offset(p0) } else { p0 * a.pixel_step };
    let offsets: [usize; G] = std::array::from_fn(|g| if RUNS { a.pixel_offset(p0 + g) - first } else { 0 });
    let mut acc = [b; G];
    for &(tap, index) in a.taps {
        // SAFETY: (index + 1) × in_channels × CH ≤ filters.len() (in_bounds); `w` advances CH
        // per input channel and reads 8·NV values at cb ≤ CH − 8·NV.
        let mut w = unsafe { filters.add(index * a.in_channels * CH + cb) };
        // SAFETY: start + tap + pixel_offset(PX − 1) + in_channels ≤ input.len() (in_bounds);
        // offsets grow with the pixel, and p0 + g < PX, ci < in_channels below.
        let base = unsafe { input.add(a.start + tap + first) };
        for ci in 0..a.in_channels {
            // As in the AVX-512 kernel: a deep layer's filters come from memory, a page ahead.
            _mm_prefetch::<_MM_HINT_T0>(w.wrapping_add(crate::PREFETCH_AHEAD).cast::<i8>());
            let mut wv = [zero; NV];
            for (v, slot) in wv.iter_mut().enumerate() {
                // SAFETY: see `w`.
                *slot = unsafe { _mm256_loadu_ps(w.add(8 * v)) };
            }
            w = w.wrapping_add(CH);
            for (g, sums) in acc.iter_mut().enumerate() {
                let at = if RUNS { offsets[g] } else { g * a.pixel_step };
                // SAFETY: see `base`.
                let x = _mm256_broadcast_ss(unsafe { &*base.add(at + ci) });
                for v in 0..NV {
                    sums[v] = _mm256_fmadd_ps(wv[v], x, sums[v]);
                }
            }
        }
    }
    for (g, sums) in acc.iter().enumerate() {
        let at = a.out_offset + (p0 + g) * a.out_step + cb;
        for (v, s) in sums.iter().enumerate() {
            // `max(s, 0)` gives 0 for NaN, as `crate::relu` does in the portable kernel.
            let s: __m256 = if a.relu { _mm256_max_ps(*s, zero) } else { *s };
            // SAFETY: out_offset + p·out_step + CH ≤ out.len() (in_bounds), cb + 8·NV ≤ CH.
            unsafe { _mm256_storeu_ps(dst.add(at + v * 8), s) };
        }
    }
}

/// Runs a depthwise layer: for each output pixel and group of 8 channels, one fused
/// multiply-add per tap that reads the image; the last `channels % 8` channels in scalar code.
/// Out-of-bounds arguments or a CPU without AVX2 and FMA go to the portable kernel.
pub(crate) fn depthwise(layer: Layer<'_>, out: &mut [f32]) {
    if !supported() || !layer.in_bounds(out.len()) {
        return layer.run_portable(out);
    }
    // SAFETY: avx2 and fma are present and every access is in bounds (both checked above).
    unsafe { depthwise_impl(layer, out) }
}

/// # Safety
/// The CPU supports `avx2` and `fma`, and `l.in_bounds(out.len())` holds.
#[target_feature(enable = "avx2,fma")]
unsafe fn depthwise_impl(l: Layer<'_>, out: &mut [f32]) {
    let c = l.channels;
    let [oh, ow] = l.output;
    let [sy, sx] = l.stride;
    let [top, left] = l.padding;
    let cols = l.size[1];
    let (input, taps, bias) = (l.input.as_ptr(), l.taps.as_ptr(), l.bias.as_ptr());
    let cp = l.padded_channels();
    let zero = _mm256_setzero_ps();
    let inner = l.inner_columns_3x3();
    for y in 0..oh {
        let full_rows = l.taps_of(y, 0).0 == [0, 3];
        let fast = inner.filter(|_| full_rows);
        if let Some((first, last)) = fast {
            let dst = out.as_mut_ptr();
            // A row of 3×3 taps that all read the image: each group of 8 channels keeps its nine
            // weight vectors in registers along the row; the same multiply-adds in the same
            // order as in `pixel`.
            for ch in (0..c - c % 8).step_by(8) {
                // SAFETY: taps has 9 × cp values and ch + 8 ≤ c ≤ cp; bias has cp values.
                let w: [__m256; 9] = std::array::from_fn(|t| unsafe { _mm256_loadu_ps(taps.add(t * cp + ch)) });
                // SAFETY: as above.
                let b = unsafe { _mm256_loadu_ps(bias.add(ch)) };
                for x in first..last {
                    // Input pixel of tap (0, 0): inside the image with all its taps (the row test
                    // and the column range), so every read below ends inside rows × cols × c.
                    let origin = ((y * sy - top) * cols + x * sx - left) * c + ch;
                    let mut acc = b;
                    for ky in 0..3 {
                        for kx in 0..3 {
                            // SAFETY: see `origin`.
                            let xv = unsafe { _mm256_loadu_ps(input.add(origin + (ky * cols + kx) * c)) };
                            acc = _mm256_fmadd_ps(xv, w[ky * 3 + kx], acc);
                        }
                    }
                    if l.relu {
                        acc = _mm256_max_ps(acc, zero);
                    }
                    // SAFETY: (y·ow + x)·c + ch + 8 ≤ oh × ow × c ≤ out.len() (in_bounds).
                    unsafe { _mm256_storeu_ps(dst.add((y * ow + x) * c + ch), acc) };
                }
            }
        }
        for x in 0..ow {
            if fast.is_some_and(|(first, last)| (first..last).contains(&x)) {
                if c.is_multiple_of(8) {
                    continue;
                }
                // SAFETY: as for any pixel (in_bounds); only the channels past the last group of 8.
                unsafe { pixel(&l, y, x, c - c % 8, out) };
            } else {
                // SAFETY: as above.
                unsafe { pixel(&l, y, x, 0, out) };
            }
        }
    }
}

/// One output pixel of a depthwise layer, channels `from..`: groups of 8 with AVX2, the rest
/// one at a time, each sum the portable kernel's chain of fused multiply-adds.
///
/// # Safety
/// The CPU supports `avx2` and `fma`, `l.in_bounds(out.len())` holds, `y < out rows`,
/// `x < out cols`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn pixel(l: &Layer<'_>, y: usize, x: usize, from: usize, out: &mut [f32]) {
    let c = l.channels;
    let cp = l.padded_channels();
    let cols = l.size[1];
    let kw = l.kernel[1];
    let (input, taps, bias, dst) = (l.input.as_ptr(), l.taps.as_ptr(), l.bias.as_ptr(), out.as_mut_ptr());
    let zero = _mm256_setzero_ps();
    let ([ky0, ky1], [kx0, kx1]) = l.taps_of(y, x);
    // Input pixel of tap (ky0, kx0); inside the image (taps_of).
    let iy0 = y * l.stride[0] + ky0 - l.padding[0];
    let ix0 = x * l.stride[1] + kx0 - l.padding[1];
    let o = (y * l.output[1] + x) * c;
    let mut ch = from;
    while ch + 8 <= c {
        // SAFETY: bias has cp ≥ c values (in_bounds); ch + 8 ≤ c.
        let mut acc = unsafe { _mm256_loadu_ps(bias.add(ch)) };
        for ky in ky0..ky1 {
            let row = (iy0 + ky - ky0) * cols;
            for kx in kx0..kx1 {
                let ix = ix0 + kx - kx0;
                // SAFETY: (row, ix) is an image pixel (taps_of) and ch + 8 ≤ c, so the read ends
                // inside rows × cols × c; the tap index < kh × kw and ch + 8 ≤ cp.
                let (xv, wv) = unsafe {
                    (
                        _mm256_loadu_ps(input.add((row + ix) * c + ch)),
                        _mm256_loadu_ps(taps.add((ky * kw + kx) * cp + ch)),
                    )
                };
                acc = _mm256_fmadd_ps(xv, wv, acc);
            }
        }
        if l.relu {
            acc = _mm256_max_ps(acc, zero);
        }
        // SAFETY: o + ch + 8 ≤ oh × ow × c ≤ out.len() (in_bounds).
        unsafe { _mm256_storeu_ps(dst.add(o + ch), acc) };
        ch += 8;
    }
    for ch in ch..c {
        // SAFETY: as above, one value at a time.
        let mut acc = unsafe { *bias.add(ch) };
        for ky in ky0..ky1 {
            let row = (iy0 + ky - ky0) * cols;
            for kx in kx0..kx1 {
                let ix = ix0 + kx - kx0;
                // SAFETY: as above.
                let (v, w) = unsafe { (*input.add((row + ix) * c + ch), *taps.add((ky * kw + kx) * cp + ch)) };
                acc = v.mul_add(w, acc);
            }
        }
        // SAFETY: as above.
        unsafe { *dst.add(o + ch) = if l.relu { acc.max(0.0) } else { acc } };
    }
}

crate::winograd::transforms_for!("avx2,fma", supported());
