//! The convolution kernels of `trustcap-conv` inside Chromium. `cargo xtask test` runs this crate
//! twice: as is, where [`Backend::detect`] gives the portable kernels, and built with
//! `-C target-feature=+simd128`, where it gives the WebAssembly SIMD kernels the shipped face
//! module runs. Each run checks the detected backend against a plain f64 convolution, on the
//! shapes BlazeFace uses and on awkward ones (channel counts that are not multiples of 4,
//! strides, asymmetric padding, every tile shape, ReLU), a fused residual add (full and narrow)
//! against the convolution plus the add, and `trustcap_conv::lanes` against its scalar
//! definitions, to the bit.

#![cfg(target_arch = "wasm32")]

use trustcap_conv::{
    Algorithm, Backend, Conv2d, ConvSpec, Depthwise, DepthwiseSpec, Residual, Tile, Workspace, relu,
    test_values as values,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A plain convolution with f64 sums over `[top, left, bottom, right]` zero padding and
/// `groups` equal to 1 (dense) or to the channel count (depthwise).
#[allow(clippy::too_many_arguments)]
fn reference(
    input: &[f32],
    size: [usize; 2],
    channels: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 4],
    depthwise: bool,
    weights: &[f32],
    bias: &[f32],
    relu: bool,
) -> Vec<f32> {
    let [ci, co] = channels;
    let oh = (size[0] + padding[0] + padding[2] - kernel[0]) / stride[0] + 1;
    let ow = (size[1] + padding[1] + padding[3] - kernel[1]) / stride[1] + 1;
    let mut out = Vec::with_capacity(oh * ow * co);
    for y in 0..oh {
        for x in 0..ow {
            for o in 0..co {
                let mut acc = f64::from(bias[o]);
                let inputs = if depthwise { o..o + 1 } else { 0..ci };
                for i in inputs {
                    for ky in 0..kernel[0] {
                        for kx in 0..kernel[1] {
                            let iy = (y * stride[0] + ky).checked_sub(padding[0]).filter(|&v| v < size[0]);
                            let ix = (x * stride[1] + kx).checked_sub(padding[1]).filter(|&v| v < size[1]);
                            let (Some(iy), Some(ix)) = (iy, ix) else { continue };
                            let w = if depthwise {
                                weights[(o * kernel[0] + ky) * kernel[1] + kx]
                            } else {
                                weights[((o * ci + i) * kernel[0] + ky) * kernel[1] + kx]
                            };
                            acc += f64::from(w) * f64::from(input[(iy * size[1] + ix) * ci + i]);
                        }
                    }
                }
                let v = acc as f32;
                out.push(if relu { v.max(0.0) } else { v });
            }
        }
    }
    out
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{what}: value {i} is {g}, expected {w}");
    }
}

#[wasm_bindgen_test]
fn the_detected_backend_is_simd128_exactly_in_a_simd128_build() {
    let expected = if cfg!(target_feature = "simd128") { Backend::Simd128 } else { Backend::Portable };
    assert_eq!(Backend::detect(), expected);
    assert!(Backend::Portable.is_supported());
    assert!(!Backend::Avx512.is_supported());
    assert!(!Backend::Avx2.is_supported());
    assert_eq!(Backend::Simd128.is_supported(), cfg!(target_feature = "simd128"));
}

#[wasm_bindgen_test]
fn dense_convolutions_on_every_tile_match_the_reference() {
    // (in, out, kernel, stride, padding, size): BlazeFace's stem and 1×1 layers, then odd shapes.
    let cases = [
        (3, 24, 5, 2, 2, [32, 32]),
        (24, 24, 1, 1, 0, [16, 16]),
        (28, 32, 1, 1, 0, [8, 8]),
        (96, 96, 1, 1, 0, [4, 4]),
        (5, 7, 3, 1, 1, [9, 11]),
        (16, 48, 3, 2, 1, [10, 7]),
        (17, 33, 3, 1, 0, [6, 13]),
        (32, 16, 3, 1, 1, [12, 12]),
    ];
    let backend = Backend::detect();
    let mut ws = Workspace::default();
    for (n, &(ci, co, k, s, p, size)) in cases.iter().enumerate() {
        let spec = ConvSpec { in_channels: ci, out_channels: co, kernel: [k, k], stride: [s, s], padding: [p, p] };
        let w = values(spec.weight_count().unwrap(), n as u64);
        let b = values(co, 100 + n as u64);
        let input = values(size[0] * size[1] * ci, 200 + n as u64);
        for relu in [false, true] {
            let want = reference(&input, size, [ci, co], [k, k], [s, s], [p, p, p, p], false, &w, &b, relu);
            for tile in [Tile::C64P6, Tile::C32P12, Tile::C16P24] {
                let conv = Conv2d::with_tile(spec, &w, &b, backend, tile).unwrap();
                assert_eq!(conv.backend(), backend);
                let mut out = Vec::new();
                conv.run(&input, size, relu, &mut ws, &mut out).unwrap();
                assert_close(&out, &want, &format!("case {n} {tile:?} relu {relu}"));
            }
            let algorithm = if spec.kernel == [3, 3] && s == 1 && p == 1 && ci % 16 == 0 && co % 16 == 0 {
                Algorithm::Winograd
            } else {
                Algorithm::Direct
            };
            let conv = Conv2d::with_algorithm(spec, &w, &b, backend, Tile::C32P12, algorithm).unwrap();
            let mut out = Vec::new();
            conv.run(&input, size, relu, &mut ws, &mut out).unwrap();
            assert_close(&out, &want, &format!("case {n} {algorithm:?} relu {relu}"));
        }
    }
}

#[wasm_bindgen_test]
fn depthwise_convolutions_match_the_reference() {
    // (channels, kernel, stride, [top, left, bottom, right], size)
    let cases = [
        (24, 3, 1, [1, 1, 1, 1], [16, 16]),
        (24, 3, 2, [0, 0, 1, 1], [16, 16]),
        (88, 3, 1, [1, 1, 1, 1], [8, 8]),
        (6, 3, 2, [1, 1, 1, 1], [7, 9]),
        (7, 5, 1, [2, 1, 2, 3], [6, 5]),
        (1, 3, 1, [1, 1, 1, 1], [3, 3]),
        (19, 2, 3, [0, 1, 1, 0], [11, 4]),
    ];
    let backend = Backend::detect();
    for (n, &(c, k, s, padding, size)) in cases.iter().enumerate() {
        let spec = DepthwiseSpec { channels: c, kernel: [k, k], stride: [s, s], padding };
        let w = values(c * k * k, n as u64);
        let b = values(c, 100 + n as u64);
        let input = values(size[0] * size[1] * c, 200 + n as u64);
        let layer = Depthwise::with_backend(spec, &w, &b, backend).unwrap();
        assert_eq!(layer.backend(), backend);
        for relu in [false, true] {
            let want = reference(&input, size, [c, c], [k, k], [s, s], padding, true, &w, &b, relu);
            let mut out = Vec::new();
            layer.run(&input, size, relu, &mut out).unwrap();
            assert_close(&out, &want, &format!("case {n} relu {relu}"));
        }
    }
}

#[wasm_bindgen_test]
fn bad_inputs_are_typed_errors_not_traps() {
    let spec = ConvSpec { in_channels: 4, out_channels: 8, kernel: [3, 3], stride: [1, 1], padding: [0, 0] };
    let conv = Conv2d::new(spec, &values(288, 1), &values(8, 2)).unwrap();
    let mut out = Vec::new();
    assert!(conv.run(&values(4 * 2 * 2, 3), [2, 2], false, &mut Workspace::default(), &mut out).is_err());
    assert!(conv.run(&values(5, 3), [2, 2], false, &mut Workspace::default(), &mut out).is_err());
    let dw = DepthwiseSpec { channels: 4, kernel: [3, 3], stride: [1, 1], padding: [0; 4] };
    let layer = Depthwise::new(dw, &values(36, 1), &values(4, 2)).unwrap();
    assert!(layer.run(&values(4 * 2 * 2, 3), [2, 2], false, &mut out).is_err());
    assert!(layer.run(&values(7, 3), [3, 3], false, &mut out).is_err());
}

#[wasm_bindgen_test]
fn lanes_max_assign_matches_its_scalar_definition() {
    // Lengths around the 4-lane groups, with NaNs on either side.
    for n in [0, 1, 3, 4, 5, 8, 23, 88] {
        let src: Vec<f32> =
            values(n, 7).into_iter().enumerate().map(|(i, v)| if i % 5 == 3 { f32::NAN } else { v }).collect();
        let dst: Vec<f32> =
            values(n + 2, 8).into_iter().enumerate().map(|(i, v)| if i % 7 == 2 { f32::NAN } else { v }).collect();
        let mut got = dst.clone();
        trustcap_conv::lanes::max_assign(&mut got, &src);
        for (i, g) in got.iter().enumerate() {
            let want = match (dst[i], src.get(i)) {
                (d, Some(&s)) if s > d => s,
                (d, _) => d,
            };
            assert_eq!(g.to_bits(), want.to_bits(), "max_assign, length {n}, index {i}");
        }
    }
}

#[wasm_bindgen_test]
fn lanes_add_assign_and_relu_assign_match_their_scalar_definitions() {
    for n in [0, 1, 3, 4, 5, 8, 23, 88] {
        let src = values(n, 9);
        let dst: Vec<f32> = values(n + 2, 10)
            .into_iter()
            .enumerate()
            .map(|(i, v)| match i % 6 {
                1 => f32::NAN,
                4 => -0.0,
                _ => v,
            })
            .collect();
        let mut sum = dst.clone();
        trustcap_conv::lanes::add_assign(&mut sum, &src);
        let mut rectified = dst.clone();
        trustcap_conv::lanes::relu_assign(&mut rectified);
        for i in 0..dst.len() {
            let want = dst[i] + src.get(i).copied().unwrap_or(0.0);
            let want = if i < n { want } else { dst[i] };
            assert_eq!(sum[i].to_bits(), want.to_bits(), "add_assign, length {n}, index {i}");
            assert_eq!(rectified[i].to_bits(), relu(dst[i]).to_bits(), "relu_assign, length {n}, index {i}");
        }
    }
}

#[wasm_bindgen_test]
fn a_fused_residual_add_equals_the_convolution_plus_the_residual() {
    // BlazeFace's 1×1 convolutions (a widening block's 24 → 28 and 28 → 32 channels), which the
    // tiles write straight into the output with the add, a strided 3×3 one (the same, with
    // padding) and a stride-1 3×3 one (gathered, then added); residuals of every channel, of the
    // skip connection's narrower width, and of widths that end inside a vector of 4; ReLU on
    // and off; 30 output channels end inside a vector too.
    let cases = [(24, 28, 1, 1, 0), (28, 32, 1, 1, 0), (5, 30, 3, 2, 1), (8, 20, 3, 1, 1)];
    let size = [8, 9];
    for (n, &(ci, co, k, s, p)) in cases.iter().enumerate() {
        let spec = ConvSpec { in_channels: ci, out_channels: co, kernel: [k, k], stride: [s, s], padding: [p, p] };
        let conv = Conv2d::new(spec, &values(spec.weight_count().unwrap(), 11), &values(co, 12)).unwrap();
        let input = values(size[0] * size[1] * ci, 13);
        let [oh, ow] = spec.output_size(size).unwrap();
        let mut ws = Workspace::default();
        let (mut plain, mut fused) = (Vec::new(), Vec::new());
        conv.run(&input, size, false, &mut ws, &mut plain).unwrap();
        for channels in [co, ci.min(co), co - 2, 7, 1] {
            let skip = values(oh * ow * channels, 14);
            for with_relu in [false, true] {
                let residual = Some(Residual { values: &skip, channels });
                conv.run_adding(&input, size, residual, with_relu, &mut ws, &mut fused).unwrap();
                assert_eq!(fused.len(), plain.len());
                for (i, (&f, &p)) in fused.iter().zip(&plain).enumerate() {
                    let c = i % co;
                    let v = if c < channels { p + skip[i / co * channels + c] } else { p };
                    let want = if with_relu { relu(v) } else { v };
                    assert_eq!(
                        f.to_bits(),
                        want.to_bits(),
                        "case {n}: residual channels {channels}, relu {with_relu}, value {i}"
                    );
                }
            }
        }
    }
}
