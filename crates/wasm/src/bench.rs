//! Per-check entry points for the browser benchmark harness (feature `bench`, never in the
//! published package): the harness times each stage of the quality bundle separately.

use trustcap_vision::glare::GlareScratch;
use trustcap_vision::luma::{WORKING_MAX_SIDE, WorkingImage, downscale_factor};
use trustcap_vision::{exposure, glare, sharpness};
use wasm_bindgen::prelude::*;

use crate::frame;

/// Holds the working image between stages so each can be timed on its own.
#[wasm_bindgen]
pub struct CheckBench {
    work: WorkingImage,
    scratch: GlareScratch,
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
        CheckBench { work: WorkingImage::new(), scratch: GlareScratch::new() }
    }

    /// Stage 1: copies the frame in and builds the working luma image.
    pub fn luma(&mut self, data: &[u8], width: u32, height: u32, stride: u32) -> Result<(), JsError> {
        let frame = frame(data, width, height, stride)?;
        self.work.fill_from_frame(&frame, downscale_factor(width, height, WORKING_MAX_SIDE));
        Ok(())
    }

    /// Stage 2: sharpness score of the working image.
    pub fn sharpness(&self) -> f32 {
        sharpness::measure(&self.work).score
    }

    /// Stage 3: glare area share of the working image.
    pub fn glare(&mut self) -> f32 {
        glare::measure_with(&self.work, &mut self.scratch).area_share
    }

    /// Stage 4: mean luma of the working image.
    pub fn exposure(&self) -> f32 {
        exposure::measure(&self.work).mean
    }
}
