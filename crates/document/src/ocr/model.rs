//! A tract ONNX model optimised per input shape, with the last few plans kept (PP-OCR models
//! take images of varying size; optimising once per shape keeps each run fast).

use std::sync::Arc;

use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;

use super::OcrError;

/// Plans kept per model unless set with [`ShapeCachedModel::from_bytes_keeping`].
const PLAN_CACHE: usize = 6;

/// An ONNX model with optimised plans for recently used input shapes.
pub struct ShapeCachedModel {
    proto: ModelProto,
    plans: Vec<([usize; 4], Arc<TypedRunnableModel>)>,
    built: usize,
    keep: usize,
}

impl std::fmt::Debug for ShapeCachedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShapeCachedModel").field("plans", &self.plans.len()).finish_non_exhaustive()
    }
}

impl ShapeCachedModel {
    /// Reads an ONNX model.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, OcrError> {
        Self::from_bytes_keeping(bytes, PLAN_CACHE)
    }

    /// Reads an ONNX model that keeps the plans of its `plans` most recent input shapes (at
    /// least one).
    pub fn from_bytes_keeping(bytes: &[u8], plans: usize) -> Result<Self, OcrError> {
        let proto = tract_onnx::onnx()
            .proto_model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(|e| OcrError::Model(e.to_string()))?;
        Ok(Self { proto, plans: Vec::new(), built: 0, keep: plans.max(1) })
    }

    /// A metadata property of the ONNX file.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.proto.metadata_props.iter().find(|p| p.key == key).map(|p| p.value.as_str())
    }

    /// How many plans have been optimised so far (one per new input shape).
    pub fn plans_built(&self) -> usize {
        self.built
    }

    fn plan(&mut self, shape: [usize; 4]) -> Result<Arc<TypedRunnableModel>, OcrError> {
        if let Some(i) = self.plans.iter().position(|(s, _)| *s == shape) {
            let entry = self.plans.remove(i);
            let plan = entry.1.clone();
            self.plans.push(entry);
            return Ok(plan);
        }
        let plan = tract_onnx::onnx()
            .model_for_proto_model(&self.proto)
            .and_then(|m| m.with_input_fact(0, f32::fact(shape).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| OcrError::Model(e.to_string()))?;
        self.built += 1;
        if self.plans.len() >= self.keep {
            self.plans.remove(0);
        }
        self.plans.push((shape, plan.clone()));
        Ok(plan)
    }

    /// Runs the model on one NCHW tensor; returns the first output's shape and values.
    pub fn run(&mut self, shape: [usize; 4], data: Vec<f32>) -> Result<(Vec<usize>, Vec<f32>), OcrError> {
        let plan = self.plan(shape)?;
        let input = Tensor::from_shape(&shape, &data).map_err(|e| OcrError::Model(e.to_string()))?;
        let outputs = plan.run(tvec!(input.into_tvalue())).map_err(|e| OcrError::Model(e.to_string()))?;
        let out = outputs.first().ok_or_else(|| OcrError::Model("no output".into()))?;
        let view = out.to_plain_array_view::<f32>().map_err(|e| OcrError::Model(e.to_string()))?;
        Ok((view.shape().to_vec(), view.iter().copied().collect()))
    }
}
