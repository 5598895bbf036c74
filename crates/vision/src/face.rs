//! Face detection with MediaPipe BlazeFace through tract-onnx (feature `face`).
//!
//! The models come from the model-fetch step (`cargo xtask models`), never from the
//! repository. As shipped, BlazeFace has `ConstantOfShape` nodes without a `value`
//! attribute; ONNX says the default is a float32 zero, but tract 0.23.9 defaults to an
//! f64 zero and then fails with "Impossible to unify F32 with F64". [`load_model`] reads
//! the protobuf, adds the float32 zero the specification implies, then builds the model.
//!
//! Input: NHWC float, RGB scaled to [-1, 1], the frame letterboxed to a square (padding
//! right and bottom) and resized to the model size. Decoding of boxes and keypoints with
//! weighted NMS comes with the selfie-capture work; [`BlazeFace::best_score`] already
//! gives the strongest face score in a frame.

use std::path::{Path, PathBuf};

use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{AttributeProto, ModelProto, TensorProto};
use tract_onnx::prelude::*;

use crate::frame::Frame;
pub use crate::model_cache::default_model_dir;

/// Why a face model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum FaceModelError {
    /// The model file could not be read.
    #[error("cannot read model {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// tract refused the model or failed to run it.
    #[error("face model error: {0}")]
    Model(String),
}

impl From<TractError> for FaceModelError {
    fn from(e: TractError) -> Self {
        FaceModelError::Model(format!("{e:#}"))
    }
}

/// Which BlazeFace variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlazeFaceVariant {
    /// 128×128 front-camera model, for selfies.
    Front128,
    /// 256×256 back-camera (full range) model, for small faces such as a document portrait.
    Back256,
}

impl BlazeFaceVariant {
    /// File name in the model cache.
    pub const fn file_name(self) -> &'static str {
        match self {
            Self::Front128 => "blazeface_front_128.onnx",
            Self::Back256 => "blazeface_back_256.onnx",
        }
    }

    /// Input side in pixels.
    pub const fn size(self) -> usize {
        match self {
            Self::Front128 => 128,
            Self::Back256 => 256,
        }
    }
}

/// Adds `value = float32[0]` to every `ConstantOfShape` node that has none (the ONNX
/// default, which tract 0.23.9 gets wrong). Returns how many nodes were fixed.
pub fn fix_constant_of_shape(proto: &mut ModelProto) -> usize {
    let Some(graph) = proto.graph.as_mut() else { return 0 };
    let mut fixed = 0;
    for node in graph.node.iter_mut().filter(|n| n.op_type == "ConstantOfShape") {
        if node.attribute.iter().any(|a| a.name == "value") {
            continue;
        }
        node.attribute.push(AttributeProto {
            name: "value".into(),
            r#type: AttributeType::Tensor as i32,
            t: Some(TensorProto {
                dims: vec![1],
                data_type: DataType::Float as i32,
                float_data: vec![0.0],
                ..Default::default()
            }),
            ..Default::default()
        });
        fixed += 1;
    }
    fixed
}

/// Loads a BlazeFace ONNX file (with the `ConstantOfShape` fix) and optimises it for a
/// batch of one NHWC image.
pub fn load_model(bytes: &[u8], variant: BlazeFaceVariant) -> Result<BlazeFace, FaceModelError> {
    let onnx = tract_onnx::onnx();
    let mut proto = onnx.proto_model_for_read(&mut std::io::Cursor::new(bytes))?;
    fix_constant_of_shape(&mut proto);
    let size = variant.size();
    let plan = onnx
        .model_for_proto_model(&proto)?
        .with_input_fact(0, f32::fact([1, size, size, 3]).into())?
        .into_optimized()?
        .into_runnable()?;
    Ok(BlazeFace { plan, variant, input: vec![0.0; size * size * 3] })
}

/// A loaded BlazeFace detector.
pub struct BlazeFace {
    plan: std::sync::Arc<TypedRunnableModel>,
    variant: BlazeFaceVariant,
    input: Vec<f32>,
}

impl std::fmt::Debug for BlazeFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlazeFace").field("variant", &self.variant).finish_non_exhaustive()
    }
}

/// Raw model outputs: each tensor's shape and values.
pub type RawOutputs = Vec<(Vec<usize>, Vec<f32>)>;

impl BlazeFace {
    /// Loads a variant from a model folder (see [`default_model_dir`]).
    pub fn from_dir(dir: &Path, variant: BlazeFaceVariant) -> Result<Self, FaceModelError> {
        let path = dir.join(variant.file_name());
        let bytes = std::fs::read(&path).map_err(|source| FaceModelError::Io { path, source })?;
        load_model(&bytes, variant)
    }

    /// The variant.
    pub fn variant(&self) -> BlazeFaceVariant {
        self.variant
    }

    /// Letterboxes the frame to a square (padding right and bottom with black), resizes it
    /// to the model size (nearest sample of the area centre) and scales RGB to [-1, 1].
    fn prepare(&mut self, frame: &Frame<'_>) {
        let size = self.variant.size();
        let side = frame.width().max(frame.height()) as usize;
        let (w, h, stride, data) = (frame.width() as usize, frame.height() as usize, frame.stride(), frame.data());
        for y in 0..size {
            let sy = (2 * y + 1) * side / (2 * size);
            for x in 0..size {
                let sx = (2 * x + 1) * side / (2 * size);
                let out = &mut self.input[(y * size + x) * 3..][..3];
                if sx < w && sy < h {
                    let px = &data[sy * stride + sx * 4..][..3];
                    for (value, &channel) in out.iter_mut().zip(px) {
                        *value = channel as f32 / 127.5 - 1.0;
                    }
                } else {
                    out.fill(-1.0);
                }
            }
        }
    }

    /// Runs the model on a frame and returns every output tensor.
    pub fn run(&mut self, frame: &Frame<'_>) -> Result<RawOutputs, FaceModelError> {
        self.prepare(frame);
        let size = self.variant.size();
        let input = Tensor::from_shape(&[1, size, size, 3], &self.input)?;
        let outputs = self.plan.run(tvec!(input.into()))?;
        outputs
            .iter()
            .map(|t| {
                let view = t.to_plain_array_view::<f32>()?;
                Ok((view.shape().to_vec(), view.iter().copied().collect()))
            })
            .collect::<TractResult<_>>()
            .map_err(Into::into)
    }

    /// The strongest face score in the frame (sigmoid of the best anchor's logit), in [0, 1].
    /// Score tensors are the outputs with one value per anchor.
    pub fn best_score(&mut self, frame: &Frame<'_>) -> Result<f32, FaceModelError> {
        let outputs = self.run(frame)?;
        let best = outputs
            .iter()
            .filter(|(shape, _)| shape.last() == Some(&1))
            .flat_map(|(_, values)| values.iter().copied())
            .fold(f32::NEG_INFINITY, f32::max);
        if !best.is_finite() {
            return Err(FaceModelError::Model("the model produced no finite face score".into()));
        }
        Ok(1.0 / (1.0 + (-best.clamp(-80.0, 80.0)).exp()))
    }
}
