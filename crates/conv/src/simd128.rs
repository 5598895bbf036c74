//! The tile and depthwise kernels with WebAssembly SIMD (`simd128`): what the browser's face
//! module runs.
//!
//! A wasm engine maps a `v128` onto an SSE/NEON register of 4 f32 and has about 15 of them
//! (V8 on x86-64 keeps one of its 16 as scratch), so a tile's sums cannot all stay in registers
//! as on AVX-512. The tile kernel therefore walks a tile's live channels
//! ([`TileArgs::live_channels`]) in blocks of 16 channels × 2 pixels (8 sums, 4 filter
//! vectors) and a last block of 8 channels × 3 pixels, each block's sums in registers over the
//! whole reduction: per input channel, `NV` filter loads and one broadcast load per pixel feed
//! the multiplies and adds. The filters are packed as for the other kernels, so the same
//! [`Conv2d`](crate::Conv2d) runs here. The blocks are small because V8 keeps a block's sums,
//! filter vectors, the broadcast pixel and the product in registers only if they fit in its
//! 15: 16 × 3 (12 sums) spilled. Measured in Chromium 156 on BlazeFace-128's dense layers
//! (`docs/bench/facewasm.md`): 16 × 2 with 8 × 3 took 30 % less time than 16 × 3 with 8 × 6,
//! and beat 16 × 2 with 8 × 6 (by 8 %) and 8 × 3 alone (by 5 %).
//!
//! Where the tiles' pixels are the output's (BlazeFace's 1×1 layers and its strided stem), the
//! tiles are [exact](TileArgs::exact): they write only the live pixels and channels straight into
//! the output, adding the skip connection first, so no tiled buffer is gathered afterwards (and
//! a 1×1 layer's input is not copied). Under Node's V8 (a scratch A/B harness in the face
//! module's settings) that took 10–16 % off the 64 × 64 1×1 layers and about 5 % off
//! BlazeFace-128's dense layers in all.
//!
//! The depthwise kernel keeps a 3×3 layer's nine weight vectors in registers along each row
//! whose taps all read the image, like the AVX-512 one.
//!
//! WebAssembly SIMD has no fused multiply-add (only the "relaxed" proposal, which not every
//! browser has; `docs/bench/facewasm.md` measures what it would give), so the sums round twice
//! per step: results agree with the portable kernel to rounding, not to the bit (tested against
//! the f64 reference instead).
//!
//! Compiled only for `wasm32` with the `simd128` target feature, which a wasm module either has
//! everywhere or nowhere: there is nothing to detect at run time. Safety of the `unsafe` code
//! rests on [`TileArgs::in_bounds`] and [`Layer::in_bounds`], checked once per call before any
//! pointer is formed, exactly as in the AVX-512 module.

use core::arch::wasm32::{
    f32x4_add, f32x4_extract_lane, f32x4_mul, f32x4_pmax, f32x4_splat, v128, v128_load, v128_load32_splat, v128_store,
};

use crate::depthwise::Layer;
use crate::kernel::{Tile, TileArgs, portable};

/// `a · b + c`, rounded twice (wasm SIMD has no fused multiply-add).
#[inline(always)]
fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_add(f32x4_mul(a, b), c)
}

/// Runs one tile; out-of-bounds arguments go to the portable kernel (which panics rather than
/// reading outside the slices).
pub fn run_tile(tile: Tile, a: TileArgs<'_>, out: &mut [f32]) {
    // Tiles in runs are the AVX2 kernel's layout; the conv never gives them to this one.
    if !a.in_bounds(tile, out.len()) || !a.uniform() {
        return portable::run_tile(tile, a, out);
    }
    match tile {
        Tile::C64P6 => channel_blocks::<64, 6>(a, out),
        Tile::C32P12 => channel_blocks::<32, 12>(a, out),
        Tile::C16P24 => channel_blocks::<16, 24>(a, out),
    }
}

/// The live channels of a tile in blocks of 16 (`4 vectors × 2 pixels`: 8 sums, 4 filter
/// vectors), and a last block of 8 (`2 vectors × 3 pixels`) where at most 8 channels remain.
///
/// The caller has checked `a.in_bounds` for the tile of `CH` channels and `PX` pixels.
#[inline(always)]
fn channel_blocks<const CH: usize, const PX: usize>(a: TileArgs<'_>, out: &mut [f32]) {
    let live = a.live_channels.min(CH);
    let mut cb = 0;
    while cb < live {
        if live - cb <= 8 {
            // SAFETY: in_bounds holds (the caller) and cb + 8 ≤ CH (CH is a multiple of 16 and
            // cb of 8, below live ≤ CH).
            unsafe { block::<CH, PX, 2, 3>(a, out, cb) };
            cb += 8;
        } else {
            // SAFETY: in_bounds holds and cb + 16 ≤ CH (cb is a multiple of 16 here).
            unsafe { block::<CH, PX, 4, 2>(a, out, cb) };
            cb += 16;
        }
    }
}

/// Channels `cb..cb + 4·NV` of a tile of `CH` channels × `PX` pixels, `G` pixels at a time
/// (`G` divides `PX`) up to the last group with a live pixel ([`TileArgs::live_pixels`]); an
/// [`exact`](TileArgs::exact) tile's last group takes only the live pixels left.
///
/// # Safety
/// `a.in_bounds(tile, out.len())` holds for the tile of `CH` channels and `PX` pixels,
/// `cb + 4·NV ≤ CH`, and `G ≤ 3`.
#[inline(always)]
unsafe fn block<const CH: usize, const PX: usize, const NV: usize, const G: usize>(
    a: TileArgs<'_>,
    out: &mut [f32],
    cb: usize,
) {
    let live = a.live_pixels.min(PX);
    if !a.exact {
        // The live pixels rounded up to whole groups (at most PX: G divides PX).
        for p0 in (0..live).step_by(G) {
            // SAFETY: the caller's guarantees, and p0 + G ≤ PX.
            unsafe { group::<CH, NV, G, false>(a, out, cb, p0) };
        }
        return;
    }
    let whole = live / G * G;
    for p0 in (0..whole).step_by(G) {
        // SAFETY: the caller's guarantees, and p0 + G ≤ live, the pixels in bounds.
        unsafe { group::<CH, NV, G, true>(a, out, cb, p0) };
    }
    if live > whole {
        // SAFETY: as above, for the `live − whole < G ≤ 3` pixels left.
        unsafe { last_group::<CH, NV>(a, out, cb, whole) };
    }
}

/// The last 1 or 2 live pixels of an exact tile (from `p0`), out of line: inlined beside the
/// whole groups, they made V8 compile the tile kernel into much slower code.
///
/// # Safety
/// As for [`group`] with `G = a.live_pixels − p0`, which is 1 or 2.
#[inline(never)]
unsafe fn last_group<const CH: usize, const NV: usize>(a: TileArgs<'_>, out: &mut [f32], cb: usize, p0: usize) {
    // SAFETY: the caller's guarantees.
    unsafe {
        match a.live_pixels - p0 {
            1 => group::<CH, NV, 1, true>(a, out, cb, p0),
            _ => group::<CH, NV, 2, true>(a, out, cb, p0),
        }
    }
}

/// Channels `cb..cb + 4·NV` of pixels `p0..p0 + G`, the `NV × G` sums in registers over the
/// whole reduction: per input channel, `NV` filter loads and one broadcast load per pixel feed
/// the multiplies and adds. With `EXACT` ([`TileArgs::exact`]) only the live channels are
/// written, after the residual's add.
///
/// # Safety
/// `a.in_bounds(tile, out.len())` holds for the tile of `CH` channels and `PX` pixels,
/// `cb + 4·NV ≤ CH`, and `p0 + G` is at most `PX`, and with `EXACT` at most `a.live_pixels`.
#[inline(always)]
unsafe fn group<const CH: usize, const NV: usize, const G: usize, const EXACT: bool>(
    a: TileArgs<'_>,
    out: &mut [f32],
    cb: usize,
    p0: usize,
) {
    let zero = f32x4_splat(0.0);
    let (input, filters, bias, dst) = (a.input.as_ptr(), a.filters.as_ptr(), a.bias.as_ptr(), out.as_mut_ptr());
    let mut b = [zero; NV];
    for (v, slot) in b.iter_mut().enumerate() {
        // SAFETY: bias has at least CH values (in_bounds) and cb + 4·NV ≤ CH.
        *slot = unsafe { v128_load(bias.add(cb + 4 * v).cast::<v128>()) };
    }
    let mut acc = [b; G];
    for &(tap, index) in a.taps {
        // SAFETY: (index + 1) × in_channels × CH ≤ filters.len() (in_bounds); `w` advances CH
        // per input channel and reads 4·NV values at cb ≤ CH − 4·NV.
        let mut w = unsafe { filters.add(index * a.in_channels * CH + cb) };
        // SAFETY: start + tap + (n − 1)·pixel_step + in_channels ≤ input.len() for the n pixels
        // in_bounds checks (PX, or the live ones of an exact tile), and p0 + g < n, ci <
        // in_channels below.
        let base = unsafe { input.add(a.start + tap + p0 * a.pixel_step) };
        for ci in 0..a.in_channels {
            let mut wv = [zero; NV];
            for (v, slot) in wv.iter_mut().enumerate() {
                // SAFETY: see `w`.
                *slot = unsafe { v128_load(w.add(4 * v).cast::<v128>()) };
            }
            w = w.wrapping_add(CH);
            for (g, sums) in acc.iter_mut().enumerate() {
                // SAFETY: see `base`.
                let x = unsafe { v128_load32_splat(base.add(g * a.pixel_step + ci).cast::<u32>()) };
                for v in 0..NV {
                    sums[v] = madd(wv[v], x, sums[v]);
                }
            }
        }
    }
    // Channels written, and those with a residual value (local to the tile).
    let (written, with_residual) = if EXACT { (a.live_channels, a.residual_channels) } else { (CH, 0) };
    for (g, sums) in acc.iter().enumerate() {
        let p = p0 + g;
        let at = a.out_offset + p * a.out_step;
        // SAFETY (for `res` and every read through it): p < live_pixels, so p·residual_step
        // + residual_channels ≤ residual.len() (in_bounds) and the reads below stay below
        // that; the pointer is not formed without EXACT.
        let res = if EXACT { a.residual.as_ptr().wrapping_add(p * a.residual_step) } else { a.residual.as_ptr() };
        for (v, &s) in sums.iter().enumerate() {
            let c = cb + 4 * v;
            if c >= written {
                break;
            }
            let whole_residual = c + 4 <= with_residual || c >= with_residual;
            if c + 4 <= written && whole_residual {
                let s = if c + 4 <= with_residual {
                    // SAFETY: see `res`; c + 4 ≤ residual_channels.
                    f32x4_add(s, unsafe { v128_load(res.add(c).cast::<v128>()) })
                } else {
                    s
                };
                let s = if a.relu { f32x4_pmax(zero, s) } else { s };
                // SAFETY: out_offset + p·out_step + written ≤ out.len() (in_bounds: CH, or the
                // live channels of an exact tile), and c + 4 ≤ written.
                unsafe { v128_store(dst.add(at + c).cast::<v128>(), s) };
            } else {
                // A vector cut by the live channels or the residual's end: one value at a time,
                // the same adds and ReLU.
                let lanes = lanes_of(s);
                for (j, &x) in lanes.iter().enumerate().take(written - c) {
                    // SAFETY: see `res`; c + j < residual_channels.
                    let x = if c + j < with_residual { x + unsafe { *res.add(c + j) } } else { x };
                    let x = if a.relu { crate::relu(x) } else { x };
                    // SAFETY: c + j < written, as above.
                    unsafe { *dst.add(at + c + j) = x };
                }
            }
        }
    }
}

/// The four values of a vector.
#[inline(always)]
fn lanes_of(v: v128) -> [f32; 4] {
    [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)]
}

/// `dst[i] = op(dst[i], src[i])` for `i` below both lengths: 4 values per `op` on `v128`, the
/// last `len % 4` by `tail` (the scalar definition).
#[inline(always)]
fn zip_assign(dst: &mut [f32], src: &[f32], op: impl Fn(v128, v128) -> v128, tail: fn(&mut [f32], &[f32])) {
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    let mut d4 = dst.chunks_exact_mut(4);
    let mut s4 = src.chunks_exact(4);
    for (d, s) in (&mut d4).zip(&mut s4) {
        // SAFETY: both chunks hold exactly 4 f32 (16 bytes); wasm loads and stores need no alignment.
        unsafe {
            let v = op(v128_load(d.as_ptr().cast::<v128>()), v128_load(s.as_ptr().cast::<v128>()));
            v128_store(d.as_mut_ptr().cast::<v128>(), v);
        }
    }
    tail(d4.into_remainder(), s4.remainder());
}

/// [`crate::lanes::max_assign`]: `pmax(d, s)` is `d < s ? s : d`, the scalar definition, NaN
/// included.
pub(crate) fn max_assign(dst: &mut [f32], src: &[f32]) {
    zip_assign(dst, src, |d, s| f32x4_pmax(d, s), crate::lanes::max_assign_scalar);
}

/// [`crate::lanes::add_assign`] with `f32x4_add`.
pub(crate) fn add_assign(dst: &mut [f32], src: &[f32]) {
    zip_assign(dst, src, |d, s| f32x4_add(d, s), crate::lanes::add_assign_scalar);
}

/// [`crate::lanes::relu_assign`]: `pmax(0, v)` is `0 < v ? v : 0`, the scalar definition (NaN
/// and −0 give +0); the last `len % 4` in scalar code.
pub(crate) fn relu_assign(dst: &mut [f32]) {
    let zero = f32x4_splat(0.0);
    let mut d4 = dst.chunks_exact_mut(4);
    for d in &mut d4 {
        // SAFETY: the chunk holds exactly 4 f32 (16 bytes); wasm loads and stores need no alignment.
        unsafe {
            let v = f32x4_pmax(zero, v128_load(d.as_ptr().cast::<v128>()));
            v128_store(d.as_mut_ptr().cast::<v128>(), v);
        }
    }
    crate::lanes::relu_assign_scalar(d4.into_remainder());
}

/// Runs a depthwise layer: for each output pixel and group of 4 channels, one multiply and one
/// add per tap that reads the image; the last `channels % 4` channels in scalar code. Arguments
/// out of bounds go to the portable kernel.
pub(crate) fn depthwise(layer: Layer<'_>, out: &mut [f32]) {
    if !layer.in_bounds(out.len()) {
        return layer.run_portable(out);
    }
    // SAFETY: every access is in bounds (checked above).
    unsafe { depthwise_impl(layer, out) }
}

/// # Safety
/// `l.in_bounds(out.len())` holds.
unsafe fn depthwise_impl(l: Layer<'_>, out: &mut [f32]) {
    let c = l.channels;
    let [oh, ow] = l.output;
    let [sy, sx] = l.stride;
    let [top, left] = l.padding;
    let cols = l.size[1];
    let (input, taps, bias) = (l.input.as_ptr(), l.taps.as_ptr(), l.bias.as_ptr());
    let cp = l.padded_channels();
    let zero = f32x4_splat(0.0);
    let inner = l.inner_columns_3x3();
    for y in 0..oh {
        let full_rows = l.taps_of(y, 0).0 == [0, 3];
        let fast = inner.filter(|_| full_rows);
        if let Some((first, last)) = fast {
            let dst = out.as_mut_ptr();
            // A row of 3×3 taps that all read the image: each group of 4 channels keeps its nine
            // weight vectors in registers along the row.
            for ch in (0..c - c % 4).step_by(4) {
                // SAFETY: taps has 9 × cp values and ch + 4 ≤ c ≤ cp; bias has cp values.
                let w: [v128; 9] = core::array::from_fn(|t| unsafe { v128_load(taps.add(t * cp + ch).cast::<v128>()) });
                // SAFETY: as above.
                let b = unsafe { v128_load(bias.add(ch).cast::<v128>()) };
                for x in first..last {
                    // Input pixel of tap (0, 0): inside the image with all its taps (the row test
                    // and the column range), so every read below ends inside rows × cols × c.
                    let origin = ((y * sy - top) * cols + x * sx - left) * c + ch;
                    let mut acc = b;
                    for ky in 0..3 {
                        for kx in 0..3 {
                            // SAFETY: see `origin`.
                            let xv = unsafe { v128_load(input.add(origin + (ky * cols + kx) * c).cast::<v128>()) };
                            acc = madd(xv, w[ky * 3 + kx], acc);
                        }
                    }
                    if l.relu {
                        acc = f32x4_pmax(zero, acc);
                    }
                    // SAFETY: (y·ow + x)·c + ch + 4 ≤ oh × ow × c ≤ out.len() (in_bounds).
                    unsafe { v128_store(dst.add((y * ow + x) * c + ch).cast::<v128>(), acc) };
                }
            }
        }
        for x in 0..ow {
            if fast.is_some_and(|(first, last)| (first..last).contains(&x)) {
                if c.is_multiple_of(4) {
                    continue;
                }
                // SAFETY: as for any pixel (in_bounds); only the channels past the last group of 4.
                unsafe { pixel(&l, y, x, c - c % 4, out) };
            } else {
                // SAFETY: as above.
                unsafe { pixel(&l, y, x, 0, out) };
            }
        }
    }
}

/// One output pixel of a depthwise layer, channels `from..`: groups of 4 with SIMD, the rest
/// one at a time.
///
/// # Safety
/// `l.in_bounds(out.len())` holds, `y < out rows`, `x < out cols`.
#[inline(always)]
unsafe fn pixel(l: &Layer<'_>, y: usize, x: usize, from: usize, out: &mut [f32]) {
    let c = l.channels;
    let cp = l.padded_channels();
    let cols = l.size[1];
    let kw = l.kernel[1];
    let (input, taps, bias, dst) = (l.input.as_ptr(), l.taps.as_ptr(), l.bias.as_ptr(), out.as_mut_ptr());
    let zero = f32x4_splat(0.0);
    let ([ky0, ky1], [kx0, kx1]) = l.taps_of(y, x);
    // Input pixel of tap (ky0, kx0); inside the image (taps_of).
    let iy0 = y * l.stride[0] + ky0 - l.padding[0];
    let ix0 = x * l.stride[1] + kx0 - l.padding[1];
    let o = (y * l.output[1] + x) * c;
    let mut ch = from;
    while ch + 4 <= c {
        // SAFETY: bias has cp ≥ c values (in_bounds); ch + 4 ≤ c.
        let mut acc = unsafe { v128_load(bias.add(ch).cast::<v128>()) };
        for ky in ky0..ky1 {
            let row = (iy0 + ky - ky0) * cols;
            for kx in kx0..kx1 {
                let ix = ix0 + kx - kx0;
                // SAFETY: (row, ix) is an image pixel (taps_of) and ch + 4 ≤ c, so the read ends
                // inside rows × cols × c; the tap index < kh × kw and ch + 4 ≤ cp.
                let (xv, wv) = unsafe {
                    (
                        v128_load(input.add((row + ix) * c + ch).cast::<v128>()),
                        v128_load(taps.add((ky * kw + kx) * cp + ch).cast::<v128>()),
                    )
                };
                acc = madd(xv, wv, acc);
            }
        }
        if l.relu {
            acc = f32x4_pmax(zero, acc);
        }
        // SAFETY: o + ch + 4 ≤ oh × ow × c ≤ out.len() (in_bounds).
        unsafe { v128_store(dst.add(o + ch).cast::<v128>(), acc) };
        ch += 4;
    }
    for ch in ch..c {
        // SAFETY: as above, one value at a time.
        let mut acc = unsafe { *bias.add(ch) };
        for ky in ky0..ky1 {
            let row = (iy0 + ky - ky0) * cols;
            for kx in kx0..kx1 {
                let ix = ix0 + kx - kx0;
                // SAFETY: as above.
                acc += unsafe { *input.add((row + ix) * c + ch) * *taps.add((ky * kw + kx) * cp + ch) };
            }
        }
        // (NaN gives 0 under ReLU, as with `f32x4_pmax` above and `f32::max` in the oracle.)
        let acc = if l.relu { crate::relu(acc) } else { acc };
        // SAFETY: as above.
        unsafe { *dst.add(o + ch) = acc };
    }
}
