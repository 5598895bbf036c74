//! Tamper-signal measurements as plain data, and the thresholds the checks apply to them.
//!
//! Two signals, measured on the pixels by `signals::recapture` and `signals::jpeg_regions` (feature `ocr`)
//! and judged here without any image code, so the rules compile everywhere and tests can feed them
//! directly:
//!
//! * [`RecaptureSignal`]: a document photographed off a screen. The display's pixel grid, sampled by the
//!   camera's own grid, aliases into moiré: isolated peaks in the 2-D spectrum of many tiles of the photo.
//! * [`JpegRegions`]: a JPEG whose 64×64-px cells disagree on their compression history: a block grid at a
//!   different 8-px phase (a region pasted from another JPEG, misaligned) or a coarser quantisation step on
//!   the low-frequency DCT coefficients (a region that went through a lower-quality JPEG on the same grid).
//!
//! Both are indicators, not proof: a genuine photo of a document that itself carries a fine periodic print
//! (guilloche, halftone) can raise the first; an image edited as a whole (resized, cropped, re-saved)
//! passes the second, since only *local* disagreement counts.

use serde::Serialize;

/// A tile counts as periodic when its strongest off-axis spectral peak is this many times the mean power
/// of the ring of bins around it (luma or chroma).
pub const RECAPTURE_TILE_PEAK_RATIO: f64 = 60.0;
/// Share of the analysed tiles that must be periodic for the photo to count as a screen re-capture.
pub const RECAPTURE_MIN_SHARE: f64 = 0.35;
/// Fewest analysed tiles for the re-capture rule to apply.
pub const RECAPTURE_MIN_TILES: u32 = 4;

/// Fewest cells with a measured compression history for the JPEG-regions rule to apply.
pub const JPEG_MIN_MEASURED_CELLS: u32 = 6;
/// Fewest disagreeing cells for the photo to count as locally edited.
pub const JPEG_MIN_FLAGGED_CELLS: u32 = 3;
/// Most disagreeing share of the measured cells: beyond it the photo has no clear majority to disagree
/// with (a photo re-encoded or resized as a whole), and the rule does not apply.
pub const JPEG_MAX_FLAGGED_SHARE: f64 = 0.34;

/// Screen re-capture (moiré) measured on a photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecaptureSignal {
    /// Tiles analysed (textured enough to judge).
    pub tiles: u32,
    /// Tiles whose luma or chroma spectrum has a periodic peak of at least [`RECAPTURE_TILE_PEAK_RATIO`].
    pub periodic_tiles: u32,
    /// Tiles whose *chroma* spectrum has such a peak (the colour fringes of a sub-pixel grid).
    pub chroma_tiles: u32,
    /// `periodic_tiles / tiles` (0 when no tile was analysed).
    pub score: f64,
    /// Median over the tiles of the strongest peak ratio (luma or chroma).
    pub median_peak_ratio: f64,
    /// Frequency of the strongest peak over all tiles, cycles per pixel `(fx, fy)`.
    pub strongest_peak: (f64, f64),
    /// One readable sentence.
    pub explanation: String,
}

impl RecaptureSignal {
    /// Whether the rule applies (enough tiles were analysed).
    pub fn applicable(&self) -> bool {
        self.tiles >= RECAPTURE_MIN_TILES
    }

    /// Whether the photo counts as a screen re-capture.
    pub fn is_recapture(&self) -> bool {
        self.applicable() && self.score >= RECAPTURE_MIN_SHARE
    }
}

/// A cell (in image pixels) whose compression history disagrees with the photo's majority.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlaggedCell {
    /// Left edge, pixels.
    pub x: u32,
    /// Top edge, pixels.
    pub y: u32,
    /// Width and height, pixels.
    pub size: u32,
    /// Why: `grid_misaligned` or `quantisation_coarser`.
    pub reason: &'static str,
    /// The cell's block-grid phase `(x, y)` in `0..8` (when visible).
    pub grid_phase: Option<(u8, u8)>,
    /// How clearly: the grid's contrast over the other phases (`grid_misaligned`), or the cell's step over
    /// the photo's (`quantisation_coarser`).
    pub strength: f64,
}

/// JPEG compression history per region, measured on a JPEG photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JpegRegions {
    /// Cells analysed (64×64 px, overlapping by half).
    pub cells: u32,
    /// Cells whose grid phase or quantisation step could be measured.
    pub measured_cells: u32,
    /// The photo's majority block-grid phase `(x, y)` (`(0, 0)` for a JPEG decoded as is).
    pub grid_phase: (u8, u8),
    /// The photo's quantisation step for the low-frequency AC coefficients (0,1), (1,0), (1,1), (0,2),
    /// (2,0) in JPEG's DCT scale (0 when it could not be estimated).
    pub steps: [u16; 5],
    /// Cells that disagree with the majority.
    pub flagged: Vec<FlaggedCell>,
    /// `flagged / measured_cells` (0 when nothing was measured).
    pub score: f64,
    /// One readable sentence.
    pub explanation: String,
}

impl JpegRegions {
    /// Whether the rule applies: enough cells were measured, and a clear majority agrees.
    pub fn applicable(&self) -> bool {
        self.not_applicable_reason().is_none()
    }

    /// Why the rule does not apply (`too_few_measured_cells`, `no_clear_majority`), or `None` when it does.
    pub fn not_applicable_reason(&self) -> Option<&'static str> {
        if self.measured_cells < JPEG_MIN_MEASURED_CELLS {
            Some("too_few_measured_cells")
        } else if self.score > JPEG_MAX_FLAGGED_SHARE {
            Some("no_clear_majority")
        } else {
            None
        }
    }

    /// Whether regions of the photo disagree on their compression history.
    pub fn is_inconsistent(&self) -> bool {
        self.applicable() && self.flagged.len() >= JPEG_MIN_FLAGGED_CELLS as usize
    }
}

/// The JPEG-regions measurement, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum JpegRegionsSignal {
    /// The input is not a JPEG (PNG, …): there is no quantisation history to compare.
    NotJpeg,
    /// Measured.
    Measured(JpegRegions),
}

/// Measurements for the checks' unit tests.
#[cfg(test)]
pub(crate) mod samples {
    use super::*;

    /// A re-capture measurement over 20 tiles, periodic (10 tiles) or not (1 tile).
    pub(crate) fn recapture(periodic: bool) -> RecaptureSignal {
        let n = if periodic { 10 } else { 1 };
        RecaptureSignal {
            tiles: 20,
            periodic_tiles: n,
            chroma_tiles: 0,
            score: f64::from(n) / 20.0,
            median_peak_ratio: 12.0,
            strongest_peak: (0.2, 0.1),
            explanation: String::new(),
        }
    }

    /// A JPEG-regions measurement over 30 cells, with three flagged cells or none.
    pub(crate) fn jpeg_regions(inconsistent: bool) -> JpegRegions {
        let cell =
            FlaggedCell { x: 64, y: 96, size: 64, reason: "grid_misaligned", grid_phase: Some((3, 3)), strength: 2.0 };
        let flagged = if inconsistent { vec![cell; 3] } else { Vec::new() };
        JpegRegions {
            cells: 40,
            measured_cells: 30,
            grid_phase: (0, 0),
            steps: [2; 5],
            score: flagged.len() as f64 / 30.0,
            flagged,
            explanation: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recapture(tiles: u32, periodic: u32) -> RecaptureSignal {
        RecaptureSignal {
            tiles,
            periodic_tiles: periodic,
            chroma_tiles: 0,
            score: if tiles == 0 { 0.0 } else { f64::from(periodic) / f64::from(tiles) },
            median_peak_ratio: 1.0,
            strongest_peak: (0.0, 0.0),
            explanation: String::new(),
        }
    }

    #[test]
    fn recapture_rule() {
        assert!(recapture(20, 10).is_recapture());
        assert!(!recapture(20, 2).is_recapture());
        assert!(!recapture(2, 2).is_recapture(), "too few tiles to judge");
        assert!(!recapture(0, 0).applicable());
    }

    #[test]
    fn jpeg_rule() {
        let cell =
            FlaggedCell { x: 0, y: 0, size: 64, reason: "grid_misaligned", grid_phase: Some((3, 3)), strength: 2.0 };
        let mut j = JpegRegions {
            cells: 40,
            measured_cells: 30,
            grid_phase: (0, 0),
            steps: [2; 5],
            flagged: vec![cell.clone()],
            score: 1.0 / 30.0,
            explanation: String::new(),
        };
        j.flagged.push(cell.clone());
        assert!(!j.is_inconsistent(), "two cells are not enough");
        j.flagged.push(cell);
        j.score = 3.0 / 30.0;
        assert!(j.is_inconsistent());
        j.score = 0.5;
        assert!(!j.applicable(), "no clear majority");
        j.score = 3.0 / 30.0;
        j.measured_cells = 3;
        assert!(!j.applicable() && !j.is_inconsistent());
    }
}
