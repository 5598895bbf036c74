//! Depthwise 2-D convolution: each channel convolved with its own `rows × cols` filter
//! (ONNX `Conv` with `group` equal to the channel count), as in MobileNet-style networks such
//! as BlazeFace.
//!
//! Interleaved (`[row][col][channel]`) input and output, read in place. Padding may differ
//! before and after (`[top, left, bottom, right]`, as TensorFlow's "same" padding exports to
//! ONNX); for each output pixel the taps that fall on the padding are skipped, the others run
//! in kernel order. Each output pixel's channels, 16 at a time, take one multiply-add per tap:
//! input vector times the tap's weight vector. The AVX-512 kernel (crate-private `avx512`
//! module) does exactly that with masked loads and stores for the last, partial block of
//! channels, the AVX2 one (`avx2`) 8 channels at a time and the rest one by one;
//! [`Layer::run_portable`] is the same loop in plain Rust with `mul_add`, the oracle: all make
//! the same fused multiply-adds in the same order and agree to the bit (tested).

use crate::{Backend, ConvError, LANES, MAX_VALUES, MAX_WEIGHTS};

/// The shape of one depthwise convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthwiseSpec {
    /// Channels, in and out.
    pub channels: usize,
    /// Kernel rows and columns.
    pub kernel: [usize; 2],
    /// Stride in rows and columns.
    pub stride: [usize; 2],
    /// Zero padding `[top, left, bottom, right]`.
    pub padding: [usize; 4],
}

impl DepthwiseSpec {
    /// Output rows and columns for an input of `[rows, cols]`, or `None` if the kernel does not
    /// fit in the padded input.
    pub fn output_size(&self, input: [usize; 2]) -> Option<[usize; 2]> {
        let dim = |i: usize| {
            let padded = input[i].checked_add(self.padding[i])?.checked_add(self.padding[i + 2])?;
            (padded >= self.kernel[i] && self.stride[i] > 0).then(|| (padded - self.kernel[i]) / self.stride[i] + 1)
        };
        Some([dim(0)?, dim(1)?])
    }

    /// Channels rounded up to whole vectors of [`LANES`].
    fn padded_channels(&self) -> usize {
        self.channels.div_ceil(LANES) * LANES
    }
}

/// One depthwise layer: its filters stored tap by tap, channels side by side.
#[derive(Debug, Clone)]
pub struct Depthwise {
    spec: DepthwiseSpec,
    backend: Backend,
    /// `rows × cols × padded channels`: tap `(ky, kx)`'s weight for every channel, contiguous,
    /// zeros after the last channel.
    taps: Vec<f32>,
    /// One per padded channel.
    bias: Vec<f32>,
}

impl Depthwise {
    /// Builds the layer from `weights` (`channels × 1 × rows × cols`, as in ONNX) and one bias
    /// per channel, for the fastest backend of this CPU.
    pub fn new(spec: DepthwiseSpec, weights: &[f32], bias: &[f32]) -> Result<Self, ConvError> {
        Self::with_backend(spec, weights, bias, Backend::detect())
    }

    /// Like [`Depthwise::new`] with a chosen backend; an unsupported one falls back to
    /// [`Backend::Portable`].
    pub fn with_backend(
        spec: DepthwiseSpec,
        weights: &[f32],
        bias: &[f32],
        backend: Backend,
    ) -> Result<Self, ConvError> {
        let dims = [spec.channels, spec.kernel[0], spec.kernel[1], spec.stride[0], spec.stride[1]];
        if dims.contains(&0) {
            return Err(ConvError::Spec("a channel count, kernel size or stride is zero"));
        }
        if dims.iter().chain(&spec.padding).any(|&d| d > 1 << 16) {
            return Err(ConvError::Spec("a dimension is above 65536"));
        }
        let [kh, kw] = spec.kernel;
        let expected = spec.channels * kh * kw;
        if spec.padded_channels() * kh * kw > MAX_WEIGHTS {
            return Err(ConvError::Spec("too many weights"));
        }
        if weights.len() != expected {
            return Err(ConvError::Length { what: "weights", got: weights.len(), expected });
        }
        if bias.len() != spec.channels {
            return Err(ConvError::Length { what: "bias", got: bias.len(), expected: spec.channels });
        }
        let cp = spec.padded_channels();
        let mut taps = vec![0.0; kh * kw * cp];
        for (tap, row) in taps.chunks_exact_mut(cp).enumerate() {
            for (c, w) in row.iter_mut().take(spec.channels).enumerate() {
                *w = weights[c * kh * kw + tap];
            }
        }
        let mut padded_bias = bias.to_vec();
        padded_bias.resize(cp, 0.0);
        Ok(Depthwise {
            spec,
            backend: if backend.is_supported() { backend } else { Backend::Portable },
            taps,
            bias: padded_bias,
        })
    }

    /// The layer's shape.
    pub fn spec(&self) -> &DepthwiseSpec {
        &self.spec
    }

    /// The backend that runs it.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Convolves `input` (`rows × cols × channels`, interleaved) into `out`
    /// (`out_rows × out_cols × channels`; resized), adding the bias and, with `relu`, replacing
    /// negative sums by 0. Returns `[out_rows, out_cols]`.
    pub fn run(
        &self,
        input: &[f32],
        size: [usize; 2],
        relu: bool,
        out: &mut Vec<f32>,
    ) -> Result<[usize; 2], ConvError> {
        let [rows, cols] = size;
        let bad = |reason| ConvError::Input { rows, cols, reason };
        let s = &self.spec;
        let c = s.channels;
        if rows.checked_mul(cols).and_then(|n| n.checked_mul(c)) != Some(input.len()) {
            return Err(bad("length is not rows × cols × channels"));
        }
        let [oh, ow] = s.output_size(size).ok_or(bad("kernel larger than the padded input"))?;
        let out_len = oh.checked_mul(ow).and_then(|n| n.checked_mul(c)).filter(|&n| n <= MAX_VALUES);
        let out_len = out_len.ok_or(bad("too large"))?;
        if input.len() > MAX_VALUES {
            return Err(bad("too large"));
        }
        out.clear();
        out.resize(out_len, 0.0);
        let layer = Layer {
            input,
            size,
            padding: [s.padding[0], s.padding[1]],
            channels: c,
            kernel: s.kernel,
            stride: s.stride,
            output: [oh, ow],
            taps: &self.taps,
            bias: &self.bias,
            relu,
        };
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => crate::avx512::depthwise(layer, out),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => crate::avx2::depthwise(layer, out),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Backend::Simd128 => crate::simd128::depthwise(layer, out),
            _ => layer.run_portable(out),
        }
        Ok([oh, ow])
    }
}

/// One call of a depthwise layer, as the kernels see it.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    /// The input, `rows × cols × channels`.
    pub input: &'a [f32],
    /// Input rows and columns.
    pub size: [usize; 2],
    /// Padding before, rows and columns (the padding after only shows in `output`).
    pub padding: [usize; 2],
    /// Channels.
    pub channels: usize,
    /// Kernel rows and columns.
    pub kernel: [usize; 2],
    /// Stride in rows and columns.
    pub stride: [usize; 2],
    /// Output rows and columns.
    pub output: [usize; 2],
    /// `kernel rows × kernel cols × padded channels` weights.
    pub taps: &'a [f32],
    /// Padded-channel biases.
    pub bias: &'a [f32],
    /// Replace negative sums by 0.
    pub relu: bool,
}

impl Layer<'_> {
    /// Channels rounded up to whole vectors.
    pub fn padded_channels(&self) -> usize {
        self.channels.div_ceil(LANES) * LANES
    }

    /// Whether the slices hold what the shapes say: the input `rows × cols × channels`, an
    /// output of `out_len ≥ out_rows × out_cols × channels` values, the taps and biases for
    /// the padded channels. With [`Layer::taps_of`] this bounds every access of the kernels.
    pub fn in_bounds(&self, out_len: usize) -> bool {
        let [oh, ow] = self.output;
        let [kh, kw] = self.kernel;
        let cp = self.padded_channels();
        self.size[0].checked_mul(self.size[1]).and_then(|n| n.checked_mul(self.channels)) == Some(self.input.len())
            && oh.checked_mul(ow).and_then(|n| n.checked_mul(self.channels)).is_some_and(|n| n <= out_len)
            && kh.checked_mul(kw).and_then(|n| n.checked_mul(cp)).is_some_and(|n| n <= self.taps.len())
            && self.bias.len() >= cp
            && self.stride[0] > 0
            && self.stride[1] > 0
    }

    /// For a 3×3 kernel, the output columns `first..last` whose taps all read image columns
    /// (`x·sx ≥ left` and `x·sx + 3 − left ≤ cols`), if any: along a row whose taps all read
    /// image rows, the kernels keep the nine weight vectors in registers there.
    pub fn inner_columns_3x3(&self) -> Option<(usize, usize)> {
        let ([cols, sx], left) = ([self.size[1], self.stride[1]], self.padding[1]);
        if self.kernel != [3, 3] || cols + left < 3 {
            return None;
        }
        let first = left.div_ceil(sx);
        let last = ((cols + left - 3) / sx + 1).min(self.output[1]);
        (first < last).then_some((first, last))
    }

    /// For output pixel `(y, x)`: the kernel rows and columns whose taps read the image (not
    /// the padding), and the input pixel that tap `(0, 0)` would read, as a signed offset in
    /// pixels (it may lie in the padding). Every tap in the ranges reads input pixel
    /// `(y·sy + ky − top, x·sx + kx − left)`, inside the image.
    #[inline(always)]
    pub fn taps_of(&self, y: usize, x: usize) -> ([usize; 2], [usize; 2]) {
        let range = |o: usize, axis: usize| {
            let start = o * self.stride[axis];
            let pad = self.padding[axis];
            let first = pad.saturating_sub(start);
            // Tap k reads row start + k − pad, inside while < size.
            let last = (self.size[axis] + pad).saturating_sub(start).min(self.kernel[axis]);
            [first, last.max(first)]
        };
        (range(y, 0), range(x, 1))
    }

    /// The plain Rust kernel (any CPU; the oracle for the SIMD ones). Panics if out of bounds.
    pub fn run_portable(&self, out: &mut [f32]) {
        let c = self.channels;
        let cp = self.padded_channels();
        let [_, ow] = self.output;
        let kw = self.kernel[1];
        let cols = self.size[1];
        for (p, dst) in out.chunks_exact_mut(c).enumerate().take(self.output[0] * ow) {
            let (y, x) = (p / ow, p % ow);
            let ([ky0, ky1], [kx0, kx1]) = self.taps_of(y, x);
            for (ch, d) in dst.iter_mut().enumerate() {
                let mut acc = self.bias[ch];
                for ky in ky0..ky1 {
                    let iy = y * self.stride[0] + ky - self.padding[0];
                    for kx in kx0..kx1 {
                        let ix = x * self.stride[1] + kx - self.padding[1];
                        let v = self.input[(iy * cols + ix) * c + ch];
                        acc = v.mul_add(self.taps[(ky * kw + kx) * cp + ch], acc);
                    }
                }
                *d = if self.relu { acc.max(0.0) } else { acc };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain depthwise convolution with f64 sums: the oracle.
    fn reference(s: &DepthwiseSpec, w: &[f32], b: &[f32], input: &[f32], size: [usize; 2], relu: bool) -> Vec<f32> {
        let [oh, ow] = s.output_size(size).unwrap();
        let c = s.channels;
        let [kh, kw] = s.kernel;
        let mut out = Vec::with_capacity(oh * ow * c);
        for y in 0..oh {
            for x in 0..ow {
                for ch in 0..c {
                    let mut acc = f64::from(b[ch]);
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (y * s.stride[0] + ky).checked_sub(s.padding[0]).filter(|&v| v < size[0]);
                            let ix = (x * s.stride[1] + kx).checked_sub(s.padding[1]).filter(|&v| v < size[1]);
                            let (Some(iy), Some(ix)) = (iy, ix) else { continue };
                            acc +=
                                f64::from(w[(ch * kh + ky) * kw + kx]) * f64::from(input[(iy * size[1] + ix) * c + ch]);
                        }
                    }
                    let v = acc as f32;
                    out.push(if relu { v.max(0.0) } else { v });
                }
            }
        }
        out
    }

    use crate::test_values as values;

    fn check(s: DepthwiseSpec, size: [usize; 2], relu: bool) {
        let [kh, kw] = s.kernel;
        let w = values(s.channels * kh * kw, 1);
        let b = values(s.channels, 2);
        let input = values(size[0] * size[1] * s.channels, 3);
        let want = reference(&s, &w, &b, &input, size, relu);
        let mut outputs = Vec::new();
        for backend in [Backend::Portable, Backend::Avx512, Backend::Avx2] {
            let layer = Depthwise::with_backend(s, &w, &b, backend).unwrap();
            let mut out = vec![5.0; 7];
            assert_eq!(Some(layer.run(&input, size, relu, &mut out).unwrap()), s.output_size(size));
            // A second run into a used buffer gives the same values.
            let mut again = vec![f32::NAN; 3];
            layer.run(&input, size, relu, &mut again).unwrap();
            assert_eq!(again, out);
            assert_eq!(out.len(), want.len());
            for (i, (g, e)) in out.iter().zip(&want).enumerate() {
                assert!((g - e).abs() <= 1e-5 * (kh * kw) as f32, "{s:?} {size:?} {backend:?}: value {i}: {g} vs {e}");
            }
            outputs.push(out);
        }
        // The same fused multiply-adds in the same order on every backend: equal to the bit.
        for (backend, out) in [Backend::Avx512, Backend::Avx2].iter().zip(&outputs[1..]) {
            assert_eq!(&outputs[0], out, "{s:?} {size:?}: {backend:?} and portable differ");
        }
    }

    #[test]
    fn the_shapes_of_blazeface_match_the_reference() {
        let s1 = DepthwiseSpec { channels: 24, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1] };
        check(s1, [9, 7], false);
        // Stride 2 with TensorFlow's "same" padding: nothing before, one after.
        let s2 = DepthwiseSpec { channels: 28, kernel: [3, 3], stride: [2, 2], padding: [0, 0, 1, 1] };
        check(s2, [8, 8], true);
        check(DepthwiseSpec { channels: 96, ..s1 }, [4, 5], true);
    }

    #[test]
    fn bad_specs_and_inputs_are_typed_errors() {
        let s = DepthwiseSpec { channels: 2, kernel: [3, 3], stride: [1, 1], padding: [0; 4] };
        assert!(matches!(Depthwise::new(s, &[0.0; 17], &[0.0; 2]), Err(ConvError::Length { what: "weights", .. })));
        assert!(matches!(Depthwise::new(s, &[0.0; 18], &[0.0; 1]), Err(ConvError::Length { what: "bias", .. })));
        let zero = DepthwiseSpec { stride: [0, 1], ..s };
        assert!(matches!(Depthwise::new(zero, &[0.0; 18], &[0.0; 2]), Err(ConvError::Spec(_))));
        let layer = Depthwise::new(s, &[0.0; 18], &[0.0; 2]).unwrap();
        let mut out = Vec::new();
        // 2×2 input: the 3×3 kernel does not fit without padding.
        assert!(matches!(layer.run(&[0.0; 8], [2, 2], false, &mut out), Err(ConvError::Input { .. })));
        assert!(matches!(layer.run(&[0.0; 7], [2, 2], false, &mut out), Err(ConvError::Input { .. })));
        assert!(matches!(layer.run(&[], [usize::MAX, 2], false, &mut out), Err(ConvError::Input { .. })));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_small_depthwise_convolution_matches_the_reference(
            c in 1usize..40, kh in 1usize..6, kw in 1usize..6, sy in 1usize..4, sx in 1usize..4,
            pt in 0usize..3, pl in 0usize..3, pb in 0usize..3, pr in 0usize..3,
            h in 1usize..12, w in 1usize..12, relu: bool,
        ) {
            let s = DepthwiseSpec { channels: c, kernel: [kh, kw], stride: [sy, sx], padding: [pt, pl, pb, pr] };
            proptest::prop_assume!(s.output_size([h, w]).is_some());
            check(s, [h, w], relu);
        }
    }
}
