//! BlazeFace SSD anchors: one anchor centre per cell and per slot of each feature map.
//!
//! Both shipped models (front 128 and back 256) use two feature maps, 16×16 cells with 2 anchors
//! each and 8×8 cells with 6 anchors each (896 anchors), with fixed unit anchor sizes, so an anchor
//! is just its centre `((cx + 0.5) / cells, (cy + 0.5) / cells)` in normalised input coordinates.

/// One feature map of the detector: `cells × cells` grid, `per_cell` anchors in each cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureMap {
    /// Grid side in cells.
    pub cells: usize,
    /// Anchors in each cell.
    pub per_cell: usize,
}

impl FeatureMap {
    /// Number of anchors of this map (`cells² × per_cell`).
    pub const fn anchor_count(self) -> usize {
        self.cells * self.cells * self.per_cell
    }
}

/// The feature maps of both BlazeFace variants, in output order.
pub const BLAZEFACE_MAPS: [FeatureMap; 2] =
    [FeatureMap { cells: 16, per_cell: 2 }, FeatureMap { cells: 8, per_cell: 6 }];

/// An anchor centre in normalised input coordinates (0..1, x right, y down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    /// Centre x.
    pub x: f32,
    /// Centre y.
    pub y: f32,
}

/// The anchors of one feature map, row by row, then cell by cell, then slot by slot.
pub fn map_anchors(map: FeatureMap) -> Vec<Anchor> {
    let cells = map.cells as f32;
    let mut out = Vec::with_capacity(map.anchor_count());
    for cy in 0..map.cells {
        for cx in 0..map.cells {
            let anchor = Anchor { x: (cx as f32 + 0.5) / cells, y: (cy as f32 + 0.5) / cells };
            out.extend(std::iter::repeat_n(anchor, map.per_cell));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blazeface_maps_have_896_anchors() {
        assert_eq!(BLAZEFACE_MAPS.iter().map(|m| m.anchor_count()).sum::<usize>(), 896);
        assert_eq!(map_anchors(BLAZEFACE_MAPS[0]).len(), 512);
        assert_eq!(map_anchors(BLAZEFACE_MAPS[1]).len(), 384);
    }

    #[test]
    fn anchors_are_cell_centres_row_major() {
        let a = map_anchors(FeatureMap { cells: 4, per_cell: 2 });
        assert_eq!(a.len(), 32);
        assert_eq!(a[0], Anchor { x: 0.125, y: 0.125 });
        assert_eq!(a[1], a[0]);
        // Third anchor: second cell of the first row.
        assert_eq!(a[2], Anchor { x: 0.375, y: 0.125 });
        // First anchor of the second row.
        assert_eq!(a[8], Anchor { x: 0.125, y: 0.375 });
        assert_eq!(a[31], Anchor { x: 0.875, y: 0.875 });
    }
}
