//! Filters in the order the tile kernel reads them.
//!
//! For each tile of output channels (`tile.channels()` of them, the last padded with zero
//! filters), then each tap (kernel row, kernel column), then each input channel: the tile's
//! output channels side by side. One kernel step reads one contiguous run of
//! `tile.channels()` values, and a whole tile's filters are one contiguous block.

use crate::ConvSpec;
use crate::kernel::Tile;

/// Packs `weights` (`out × in × rows × cols`) for `tile`, `out_padded` output channels.
pub fn filters(spec: &ConvSpec, weights: &[f32], tile: Tile, out_padded: usize) -> Vec<f32> {
    let [kh, kw] = spec.kernel;
    let (ci_n, co_n) = (spec.in_channels, spec.out_channels);
    let ch = tile.channels();
    let mut packed = Vec::with_capacity(out_padded * ci_n * kh * kw);
    for first in (0..out_padded).step_by(ch) {
        for ky in 0..kh {
            for kx in 0..kw {
                for ci in 0..ci_n {
                    packed.extend(
                        (first..first + ch)
                            .map(|o| if o < co_n { weights[((o * ci_n + ci) * kh + ky) * kw + kx] } else { 0.0 }),
                    );
                }
            }
        }
    }
    packed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_grouped_by_channel_tile_then_tap_then_input_channel() {
        // 2 input channels, 3 output channels, 1×2 kernel: weight (o, i, 0, x) = 100 o + 10 i + x.
        let spec = ConvSpec { in_channels: 2, out_channels: 3, kernel: [1, 2], stride: [1, 1], padding: [0, 0] };
        let mut w = Vec::new();
        for o in 0..3 {
            for i in 0..2 {
                for x in 0..2 {
                    w.push((100 * o + 10 * i + x) as f32);
                }
            }
        }
        let tile = Tile::for_out_channels(3);
        assert_eq!(tile.channels(), 16);
        let p = filters(&spec, &w, tile, 16);
        assert_eq!(p.len(), 2 * 2 * 16);
        // tap 0, input 1: outputs 0, 1, 2 then zero padding.
        assert_eq!(&p[16..20], &[10.0, 110.0, 210.0, 0.0]);
        // tap 1, input 0.
        assert_eq!(&p[32..35], &[1.0, 101.0, 201.0]);
    }
}
