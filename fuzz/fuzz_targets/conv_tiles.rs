//! The direct convolution (`trustcap_conv`) on shapes, sizes, tiles and values taken from the
//! input: never panics on a valid spec, and its AVX-512 and AVX2 kernels (the crate's
//! `unsafe` code, run here under the fuzzer's address sanitizer) give exactly what the portable
//! kernels give: the tile kernel of a direct convolution, the depthwise kernel (with padding that
//! differs before and after), and Winograd's products and transforms. Invalid specs are typed
//! errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_conv::{Algorithm, Backend, Conv2d, ConvSpec, Depthwise, DepthwiseSpec, Tile, Workspace};

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<12>() else { return };
    let b = |i: usize, m: u8| usize::from(head[i] % m);
    let spec = ConvSpec {
        in_channels: b(0, 9),
        out_channels: b(1, 80),
        kernel: [b(2, 8), b(3, 8)],
        stride: [b(4, 5), b(5, 5)],
        padding: [b(6, 4), b(7, 4)],
    };
    let size = [b(8, 24), b(9, 24)];
    let tile = [Tile::C64P6, Tile::C32P12, Tile::C16P24][b(10, 3)];
    let relu = head[11] & 1 == 1;
    // Values from the rest of the input, repeated as needed (small integers and fractions).
    let value = |i: usize| rest.get(i % rest.len().max(1)).map_or(0.5, |v| f32::from(*v as i8) / 16.0);
    let weights: Vec<f32> = (0..spec.weight_count().unwrap_or(0)).map(value).collect();
    let bias: Vec<f32> = (0..spec.out_channels).map(|i| value(i + 7)).collect();
    let input: Vec<f32> = (0..size[0] * size[1] * spec.in_channels).map(|i| value(i + 3)).collect();

    depthwise(head, &value, size, relu);
    winograd(head, &value, size, tile, relu);

    let Ok(portable) = Conv2d::with_tile(spec, &weights, &bias, Backend::Portable, tile) else {
        assert!(spec.weight_count().unwrap_or(0) == 0 || spec.stride.contains(&0));
        return;
    };
    let mut expected = Vec::new();
    let result = portable.run(&input, size, relu, &mut Workspace::default(), &mut expected);
    assert_eq!(result.as_ref().ok().copied(), spec.output_size(size));
    let Ok([oh, ow]) = result else { return };
    assert_eq!(expected.len(), oh * ow * spec.out_channels);

    // AVX2 tiles stride-1 layers in runs that skip the border columns and computes only the
    // live pixels, in uneven groups: the same sums as the portable kernel's long rows.
    for backend in [Backend::Avx512, Backend::Avx2] {
        let simd = Conv2d::with_tile(spec, &weights, &bias, backend, tile).expect("same spec");
        let mut got = vec![f32::NAN; 5];
        // A workspace dirtied by a differently shaped run first.
        let mut ws = Workspace::default();
        let _ = simd.run(&input[..input.len() / 2], [size[0] / 2, size[1]], relu, &mut ws, &mut got);
        simd.run(&input, size, relu, &mut ws, &mut got).expect("same input");
        assert_eq!(got, expected, "{backend:?}");
    }
});

/// A depthwise layer from the same bytes: every backend agrees to the bit.
fn depthwise(head: &[u8; 12], value: &dyn Fn(usize) -> f32, size: [usize; 2], relu: bool) {
    let b = |i: usize, m: u8| usize::from(head[i] % m);
    let spec = DepthwiseSpec {
        channels: b(1, 80),
        kernel: [b(2, 8), b(3, 8)],
        stride: [b(4, 5), b(5, 5)],
        padding: [b(6, 4), b(7, 4), usize::from(head[6] / 4 % 4), usize::from(head[7] / 4 % 4)],
    };
    let n = spec.channels * spec.kernel[0] * spec.kernel[1];
    let weights: Vec<f32> = (0..n).map(|i| value(i + 1)).collect();
    let bias: Vec<f32> = (0..spec.channels).map(|i| value(i + 5)).collect();
    let input: Vec<f32> = (0..size[0] * size[1] * spec.channels).map(|i| value(i + 2)).collect();
    let Ok(portable) = Depthwise::with_backend(spec, &weights, &bias, Backend::Portable) else {
        assert!(n == 0 || spec.stride.contains(&0));
        return;
    };
    let mut expected = Vec::new();
    let result = portable.run(&input, size, relu, &mut expected);
    assert_eq!(result.as_ref().ok().copied(), spec.output_size(size));
    if result.is_err() {
        return;
    }
    for backend in [Backend::Avx512, Backend::Avx2] {
        let simd = Depthwise::with_backend(spec, &weights, &bias, backend).expect("same spec");
        let mut got = vec![f32::NAN; 3];
        simd.run(&input, size, relu, &mut got).expect("same input");
        assert_eq!(got, expected, "{backend:?}");
    }
}

/// A Winograd layer (3×3, stride 1, padding 1, channels in multiples of 16; F(2×2, 3×3) or
/// F(4×4, 3×3)) from the same bytes: every backend agrees to the bit.
fn winograd(head: &[u8; 12], value: &dyn Fn(usize) -> f32, size: [usize; 2], tile: Tile, relu: bool) {
    let spec = ConvSpec {
        in_channels: 16 * (1 + usize::from(head[0] % 3)),
        out_channels: 16 * (1 + usize::from(head[1] % 4)),
        kernel: [3, 3],
        stride: [1, 1],
        padding: [1, 1],
    };
    let n = spec.weight_count().unwrap_or(0);
    let weights: Vec<f32> = (0..n).map(|i| value(i + 11)).collect();
    let bias: Vec<f32> = (0..spec.out_channels).map(|i| value(i + 13)).collect();
    let input: Vec<f32> = (0..size[0] * size[1] * spec.in_channels).map(|i| value(i + 17)).collect();
    let algorithm = if head[2] % 2 == 0 { Algorithm::Winograd } else { Algorithm::Winograd4 };
    let mut outputs = Vec::new();
    for backend in [Backend::Portable, Backend::Avx512, Backend::Avx2] {
        let conv = Conv2d::with_algorithm(spec, &weights, &bias, backend, tile, algorithm).expect("applies");
        let mut out = vec![f32::NAN; 2];
        let result = conv.run(&input, size, relu, &mut Workspace::default(), &mut out);
        assert_eq!(result.as_ref().ok().copied(), spec.output_size(size));
        // Bits, not values: NaN == NaN here (an error leaves the NaN-filled buffer as it was).
        outputs.push(out.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }
    assert_eq!(outputs[0], outputs[1], "Avx512");
    assert_eq!(outputs[0], outputs[2], "Avx2");
}
