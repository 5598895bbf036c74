//! The direct convolution (`trustcap_conv`) on shapes, sizes, tiles and values taken from the
//! input: never panics on a valid spec, and its AVX-512 kernel (the crate's only `unsafe`
//! code, run here under the fuzzer's address sanitizer) gives exactly what the portable kernel
//! gives. Invalid specs are typed errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_conv::{Backend, Conv2d, ConvSpec, Tile, Workspace};

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

    let Ok(portable) = Conv2d::with_tile(spec, &weights, &bias, Backend::Portable, tile) else {
        assert!(spec.weight_count().unwrap_or(0) == 0 || spec.stride.contains(&0));
        return;
    };
    let mut expected = Vec::new();
    let result = portable.run(&input, size, relu, &mut Workspace::default(), &mut expected);
    assert_eq!(result.as_ref().ok().copied(), spec.output_size(size));
    let Ok([oh, ow]) = result else { return };
    assert_eq!(expected.len(), oh * ow * spec.out_channels);

    let simd = Conv2d::with_tile(spec, &weights, &bias, Backend::Avx512, tile).expect("same spec");
    let mut got = vec![f32::NAN; 5];
    // A workspace dirtied by a differently shaped run first.
    let mut ws = Workspace::default();
    let _ = simd.run(&input[..input.len() / 2], [size[0] / 2, size[1]], relu, &mut ws, &mut got);
    simd.run(&input, size, relu, &mut ws, &mut got).expect("same input");
    assert_eq!(got, expected);
});
