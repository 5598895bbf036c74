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
    if !std::arch::is_x86_feature_detected!("avx512f") || !a.in_bounds(tile, out.len()) {
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

/// How far ahead of the filter row being read the kernel asks for the filters to be loaded
/// into L1 (values): 4 KB, a page. A deep layer's filters (2.4 MB for a 256-channel 3×3 layer)
/// do not stay in L2 between runs, and the hardware prefetchers stop at page boundaries; with
/// this, ten such layers run in turn took 0.34 ms each instead of 0.59 (mean over 12 alternating
/// runs of each run's fastest round; `docs/bench/faces.md`). A prefetch never faults, so the address may lie past
/// the filters.
const PREFETCH_AHEAD: usize = 1024;

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
            _mm_prefetch::<_MM_HINT_T0>(w.wrapping_add(PREFETCH_AHEAD).cast::<i8>());
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
