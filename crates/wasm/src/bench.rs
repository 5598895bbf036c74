//! Per-check entry points for the browser benchmark harness (feature `bench`, never in the
//! published package): the harness times each stage of the document-capture bundle on its own.

use trustcap_vision::document::DocumentAnalyzer;
use trustcap_vision::geometry::{Homography, Point, Quad};
use trustcap_vision::glare::GlareScratch;
use trustcap_vision::luma::{WORKING_MAX_SIDE, WorkingImage, downscale_factor};
use trustcap_vision::region::RowSpans;
use trustcap_vision::{BoundaryDetector, exposure, glare};
use wasm_bindgen::prelude::*;

use crate::frame;

/// Holds the working image, the boundary and the scratch buffers between stages so each can be
/// timed on its own.
#[wasm_bindgen]
pub struct CheckBench {
    work: WorkingImage,
    detector: BoundaryDetector,
    quad: Option<Quad>,
    region: RowSpans,
    scratch: GlareScratch,
    analyzer: DocumentAnalyzer,
}

impl Default for CheckBench {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl CheckBench {
    /// An empty bench.
    #[wasm_bindgen(constructor)]
    pub fn new() -> CheckBench {
        CheckBench {
            work: WorkingImage::new(),
            detector: BoundaryDetector::new(),
            quad: None,
            region: RowSpans::new(),
            scratch: GlareScratch::new(),
            analyzer: DocumentAnalyzer::new(),
        }
    }

    /// Stage 1: copies the frame in and builds the working luma image.
    pub fn luma(&mut self, data: &[u8], width: u32, height: u32, stride: u32) -> Result<(), JsError> {
        let frame = frame(data, width, height, stride)?;
        self.work.fill_from_frame(&frame, downscale_factor(width, height, WORKING_MAX_SIDE));
        Ok(())
    }

    /// Stage 2: the document boundary on the working image; its confidence (0 when none).
    pub fn boundary(&mut self) -> f32 {
        let found = self.detector.detect(&self.work);
        self.quad = found.map(|b| b.quad);
        let working = self.quad.map(|q| q.scaled(1.0 / f64::from(self.work.factor())));
        match working {
            Some(q) => self.region.fill_from_quad(&q, self.work.width(), self.work.height()),
            None => self.region.fill_full(self.work.width(), self.work.height()),
        }
        found.map_or(0.0, |b| b.confidence)
    }

    /// Stage 3: in-document sharpness at document resolution (copies the frame in again).
    pub fn sharpness(&mut self, data: &[u8], width: u32, height: u32, stride: u32) -> Result<f32, JsError> {
        let frame = frame(data, width, height, stride)?;
        Ok(self.quad.map_or(0.0, |q| self.analyzer.document_sharpness(&frame, &q).score))
    }

    /// Stage 4: glare inside the document, with zones.
    pub fn glare(&mut self) -> f32 {
        let unit = [Point::new(0.0, 0.0), Point::new(1.0, 0.0), Point::new(1.0, 1.0), Point::new(0.0, 1.0)];
        let to_doc = self
            .quad
            .map(|q| q.scaled(1.0 / f64::from(self.work.factor())))
            .and_then(|q| Homography::from_points(&q.corners, &unit));
        glare::measure_region(&self.work, &self.region, to_doc.as_ref(), &mut self.scratch).area_share
    }

    /// Stage 5: exposure inside the document.
    pub fn exposure(&self) -> f32 {
        exposure::measure_region(&self.work, &self.region).mean
    }
}
