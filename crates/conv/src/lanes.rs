//! Element-wise helpers over `f32` slices for the operators around the convolutions (max
//! pooling, residual adds, ReLU), with an explicit `simd128` path in wasm.
//!
//! Why not plain loops: the browser's face module is built for size (opt-level "z") with fat
//! LTO, and there a plain loop ran like scalar code even in a crate built at opt-level 3 (most
//! likely because the link-time pipeline, which runs at the module's "z" level, is where the
//! loops get vectorised). Measured under Node 20's V8 on BlazeFace-128, in a build with the face
//! module's settings:
//! - max pooling took 0.30–0.50 ms per frame, against 0.07–0.08 ms in an opt-level 3 build and
//!   0.06–0.10 ms with [`max_assign`];
//! - with the residual adds and ReLUs of the convolutions' output gathers done by [`add_assign`]
//!   and [`relu_assign`] (and the zero-padded skip connections no longer built), the frame took
//!   3.4 ms at best instead of 4.6 ms.
//!
//! Natively (and in wasm without `simd128`) these are the plain loops, which the optimiser
//! vectorises.

/// `dst[i] = src[i]` where `src[i] > dst[i]`, for `i` below both lengths: the maximum by
/// comparison, not `f32::max` (see [`crate::relu`]). A NaN in `src` is skipped, a NaN in `dst`
/// is kept, the same on every path.
pub fn max_assign(dst: &mut [f32], src: &[f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        crate::simd128::max_assign(dst, src)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        max_assign_scalar(dst, src)
    }
}

/// [`max_assign`] one value at a time: the definition, and the `simd128` path's tail.
pub(crate) fn max_assign_scalar(dst: &mut [f32], src: &[f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = if s > *d { s } else { *d };
    }
}

/// `dst[i] += src[i]`, for `i` below both lengths.
pub fn add_assign(dst: &mut [f32], src: &[f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        crate::simd128::add_assign(dst, src)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        add_assign_scalar(dst, src)
    }
}

/// [`add_assign`] one value at a time: the definition, and the `simd128` path's tail.
pub(crate) fn add_assign_scalar(dst: &mut [f32], src: &[f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

/// `dst[i] = relu(dst[i])` ([`crate::relu`]: NaN and −0 give +0, the same on every path).
pub fn relu_assign(dst: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        crate::simd128::relu_assign(dst)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        relu_assign_scalar(dst)
    }
}

/// [`relu_assign`] one value at a time: the definition, and the `simd128` path's tail.
pub(crate) fn relu_assign_scalar(dst: &mut [f32]) {
    for d in dst {
        *d = crate::relu(*d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_assign_takes_the_larger_and_skips_nan_from_src() {
        let mut dst = vec![1.0, -2.0, f32::NAN, 0.0, 5.0, -0.0, 3.0];
        max_assign(&mut dst, &[0.5, -1.0, 7.0, f32::NAN, 6.0, 0.0]);
        assert_eq!(dst[..2], [1.0, -1.0]);
        assert!(dst[2].is_nan(), "a NaN already in dst stays");
        assert_eq!(dst[3..], [0.0, 6.0, -0.0, 3.0], "NaN from src skipped; -0 vs 0 keeps dst; tail untouched");
    }

    #[test]
    fn add_assign_stops_at_the_shorter_slice() {
        let mut dst = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 9.0];
        add_assign(&mut dst, &[0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
        assert_eq!(dst, [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 9.0]);
    }

    #[test]
    fn relu_assign_gives_positive_zero_for_nan_and_negative_zero() {
        let mut dst = [1.0, -2.0, f32::NAN, -0.0, 0.0, f32::INFINITY, f32::NEG_INFINITY];
        relu_assign(&mut dst);
        let want = [1.0f32, 0.0, 0.0, 0.0, 0.0, f32::INFINITY, 0.0];
        assert_eq!(dst.map(f32::to_bits), want.map(f32::to_bits));
    }
}
