//! The tile kernel with AVX-512 intrinsics: the portable kernel's loop with each pixel's
//! `channels / 16` sums in `zmm` registers, one filter load per 16 channels and one broadcast
//! per pixel and input channel (folded into the multiply-add), and a software prefetch of the
//! filters a page ahead.
//!
//! The only `unsafe` code of the crate. Safety rests on two checks made before any pointer is
//! formed: the CPU has `avx512f` (a [`Conv2d`](crate::Conv2d) only selects this backend after
//! run-time detection, and [`run_tile`] checks again), and [`TileArgs::in_bounds`] holds for the
//! call, which bounds every offset the loop computes.

use std::arch::x86_64::{
    __m512, _MM_HINT_T0, _mm_prefetch, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_max_ps, _mm512_set1_ps,
    _mm512_setzero_ps, _mm512_storeu_ps,
};

use crate::kernel::{Tile, TileArgs, portable};

/// Runs one tile; out-of-bounds arguments or a CPU without AVX-512 go to the portable kernel
/// (which panics on out-of-bounds arguments rather than reading outside the slices).
pub fn run_tile(tile: Tile, a: TileArgs<'_>, out: &mut [f32]) {
    // Tiles in runs are the AVX2 kernel's layout and exact tiles the `simd128` kernel's; the
    // conv never gives them to this one.
    if !std::arch::is_x86_feature_detected!("avx512f") || a.exact || !a.in_bounds(tile, out.len()) || !a.uniform() {
        return portable::run_tile(tile, a, out);
    }
    // SAFETY: avx512f is present and every access of the tile is in bounds (checked above).
    unsafe {
        match tile {
            Tile::C64P6 => tile_impl::<4, 6>(a, out),
            Tile::C32P12 => tile_impl::<2, 12>(a, out),
            Tile::C16P24 => tile_impl::<1, 24>(a, out),
        }
    }
}

/// # Safety
/// The CPU supports `avx512f`, and `a.in_bounds(tile, out.len())` holds for the tile with `NV`
/// vectors of channels and `PX` pixels.
#[target_feature(enable = "avx512f")]
unsafe fn tile_impl<const NV: usize, const PX: usize>(a: TileArgs<'_>, out: &mut [f32]) {
    let input = a.input.as_ptr();
    let mut acc = [[_mm512_setzero_ps(); NV]; PX];
    for v in 0..NV {
        // SAFETY: bias has at least NV × 16 values (in_bounds).
        let b = unsafe { _mm512_loadu_ps(a.bias.as_ptr().add(v * 16)) };
        for sums in acc.iter_mut() {
            sums[v] = b;
        }
    }
    for &(tap, index) in a.taps {
        // SAFETY: (index + 1) × in_channels × NV × 16 ≤ filters.len() (in_bounds).
        let mut w = unsafe { a.filters.as_ptr().add(index * a.in_channels * NV * 16) };
        // SAFETY: start + tap + (PX − 1)·pixel_step + in_channels ≤ input.len() (in_bounds), so
        // this pointer and every `pixel + ci` below stay inside the input.
        let base = unsafe { input.add(a.start + tap) };
        for ci in 0..a.in_channels {
            _mm_prefetch::<_MM_HINT_T0>(w.wrapping_add(crate::PREFETCH_AHEAD).cast::<i8>());
            let mut wv = [_mm512_setzero_ps(); NV];
            for (v, slot) in wv.iter_mut().enumerate() {
                // SAFETY: `w` starts at this tap's filters (above) and advances NV × 16 per input
                // channel, in_channels times.
                *slot = unsafe { _mm512_loadu_ps(w.add(v * 16)) };
            }
            // SAFETY: as above; after the last step `w` points one past this tap's filters.
            w = unsafe { w.add(NV * 16) };
            for (p, sums) in acc.iter_mut().enumerate() {
                // SAFETY: p < PX, ci < in_channels: within the input (see `base`).
                let x = _mm512_set1_ps(unsafe { *base.add(p * a.pixel_step + ci) });
                for v in 0..NV {
                    sums[v] = _mm512_fmadd_ps(wv[v], x, sums[v]);
                }
            }
        }
    }
    let zero = _mm512_setzero_ps();
    let dst = out.as_mut_ptr();
    for (p, sums) in acc.iter().enumerate() {
        for (v, s) in sums.iter().enumerate() {
            let s: __m512 = if a.relu { _mm512_max_ps(*s, zero) } else { *s };
            // SAFETY: out_offset + p·out_step + NV × 16 ≤ out.len() (in_bounds).
            unsafe { _mm512_storeu_ps(dst.add(a.out_offset + p * a.out_step + v * 16), s) };
        }
    }
}

/// Runs a depthwise layer: for each output pixel and block of 16 channels, one masked
/// multiply-add per tap. Out-of-bounds arguments or a CPU without AVX-512 go to the portable
/// kernel.
pub(crate) fn depthwise(layer: crate::depthwise::Layer<'_>, out: &mut [f32]) {
    if !std::arch::is_x86_feature_detected!("avx512f") || !layer.in_bounds(out.len()) {
        return layer.run_portable(out);
    }
    // SAFETY: avx512f is present and every access is in bounds (both checked above).
    unsafe { depthwise_impl(layer, out) }
}

/// # Safety
/// The CPU supports `avx512f` and `l.in_bounds(out.len())` holds.
#[target_feature(enable = "avx512f")]
unsafe fn depthwise_impl(l: crate::depthwise::Layer<'_>, out: &mut [f32]) {
    use std::arch::x86_64::{__mmask16, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps};
    let c = l.channels;
    let cp = l.padded_channels();
    let blocks = cp / 16;
    let tail = c - (blocks - 1) * 16;
    let last_mask: __mmask16 = if tail == 16 { 0xFFFF } else { (1u16 << tail) - 1 };
    let [oh, ow] = l.output;
    let [cols, kw] = [l.size[1], l.kernel[1]];
    let (input, taps, bias, dst) = (l.input.as_ptr(), l.taps.as_ptr(), l.bias.as_ptr(), out.as_mut_ptr());
    let zero = _mm512_setzero_ps();
    let [sy, sx] = l.stride;
    let [top, left] = l.padding;
    let inner = l.inner_columns_3x3();
    for y in 0..oh {
        let full_rows = l.taps_of(y, 0).0 == [0, 3];
        if let (Some((first, last)), true) = (inner, full_rows) {
            // A row of 3×3 taps that all read the image: the block's nine weight vectors stay
            // in registers along the row; the same multiply-adds in the same order as below.
            for b in 0..blocks {
                let m = if b + 1 == blocks { last_mask } else { 0xFFFF };
                // SAFETY: as below; taps (ky, kx) < (3, 3) exist for every block (in_bounds).
                let w: [__m512; 9] = std::array::from_fn(|t| unsafe { _mm512_loadu_ps(taps.add(t * cp + b * 16)) });
                let bv = unsafe { _mm512_loadu_ps(bias.add(b * 16)) };
                for x in first..last {
                    // Input pixel of tap (0, 0); every tap of this pixel reads the image (the row
                    // test above and the column range).
                    let origin = ((y * sy - top) * cols + x * sx - left) * c + b * 16;
                    let mut acc = bv;
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let v = unsafe { _mm512_maskz_loadu_ps(m, input.add(origin + (ky * cols + kx) * c)) };
                            acc = _mm512_fmadd_ps(v, w[ky * 3 + kx], acc);
                        }
                    }
                    if l.relu {
                        acc = _mm512_max_ps(acc, zero);
                    }
                    unsafe { _mm512_mask_storeu_ps(dst.add((y * ow + x) * c + b * 16), m, acc) };
                }
            }
        }
        for x in 0..ow {
            if full_rows && inner.is_some_and(|(first, last)| (first..last).contains(&x)) {
                continue;
            }
            let ([ky0, ky1], [kx0, kx1]) = l.taps_of(y, x);
            let at = (y * ow + x) * c;
            for b in 0..blocks {
                // Whole vectors except the last block, masked to the channels that exist.
                let m = if b + 1 == blocks { last_mask } else { 0xFFFF };
                // SAFETY (every access): in_bounds gives the taps and biases for cp channels
                // and an output of oh × ow × c values; taps_of keeps every read on an input
                // pixel; the mask keeps the last block's reads and writes inside the pixel.
                let mut acc = unsafe { _mm512_loadu_ps(bias.add(b * 16)) };
                for ky in ky0..ky1 {
                    let row = (y * sy + ky - top) * cols;
                    for kx in kx0..kx1 {
                        let pixel = row + x * sx + kx - left;
                        let v = unsafe { _mm512_maskz_loadu_ps(m, input.add(pixel * c + b * 16)) };
                        let w = unsafe { _mm512_loadu_ps(taps.add((ky * kw + kx) * cp + b * 16)) };
                        acc = _mm512_fmadd_ps(v, w, acc);
                    }
                }
                if l.relu {
                    acc = _mm512_max_ps(acc, zero);
                }
                unsafe { _mm512_mask_storeu_ps(dst.add(at + b * 16), m, acc) };
            }
        }
    }
}

crate::winograd::transforms_for!("avx512f", std::arch::is_x86_feature_detected!("avx512f"));
