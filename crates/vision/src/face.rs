//! Face detection with MediaPipe BlazeFace (feature `face`), run by tract-onnx or, where
//! `trustcap-conv` has SIMD kernels (AVX-512 or AVX2 natively, `simd128` in the browser), by the direct
//! engine ([`direct`]: the same ONNX graph on `trustcap-conv`, 2–3× faster natively, about 1.8×
//! in wasm); [`FaceEngine`] chooses, [`FaceEngine::Auto`] by default.
//!
//! The models come from the model-fetch step (`cargo xtask models`), never from the
//! repository. As shipped, BlazeFace has `ConstantOfShape` nodes without a `value`
//! attribute; ONNX says the default is a float32 zero, but tract 0.23.9 defaults to an
//! f64 zero and then fails with "Impossible to unify F32 with F64". [`load_model`] reads
//! the protobuf, adds the float32 zero the specification implies, then builds the model.
//!
//! Input: NHWC float, RGB scaled to [-1, 1], the frame letterboxed to a square (padding
//! right and bottom) and resized to the model size ([`letterbox`]). Outputs: a score tensor
//! and a regressor tensor for each of two feature maps ([`anchors`]); [`BlazeFace::detect`]
//! decodes them into boxes and six keypoints, merges overlaps with weighted NMS ([`decode`](mod@decode))
//! and maps the coordinates back to frame pixels. [`BlazeFace::best_score`] gives just the
//! strongest face score in a frame.
//!
//! This code is behind the `face` feature and uses ordinary float math (`exp`); it is not part
//! of the crate's bit-exact determinism promise for quality metrics.

use std::path::{Path, PathBuf};

use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{AttributeProto, ModelProto, TensorProto};
use tract_onnx::prelude::*;

pub mod anchors;
pub mod decode;
pub mod direct;
pub mod letterbox;

use crate::frame::Frame;
pub use crate::model_cache::default_model_dir;
use anchors::{Anchor, BLAZEFACE_MAPS, map_anchors};
pub use decode::{BoundingBox, Detection, Keypoint, NMS_IOU, Point};
use decode::{REGRESSOR_VALUES, decode, weighted_nms};

/// Default minimum face score for [`BlazeFace::detect`] (MediaPipe uses 0.75 for the front
/// model; 0.5 keeps weaker candidates such as small document portraits).
pub const DEFAULT_MIN_SCORE: f32 = 0.5;

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

/// ONNX operators that tract runs through rustfft. BlazeFace (a convolutional network) has
/// none. The SDK's face module built without WebAssembly SIMD has rustfft's SIMD-only FFT code
/// replaced by traps (`crates/xtask/src/wasm_simd.rs`), so such a model must be refused up front.
pub const FFT_OPS: [&str; 2] = ["DFT", "STFT"];

/// Refuses a model with an operator of [`FFT_OPS`], in its graph or any subgraph.
pub fn refuse_fft_ops(proto: &ModelProto) -> Result<(), FaceModelError> {
    fn walk(graph: &tract_onnx::pb::GraphProto, depth: usize) -> Result<(), FaceModelError> {
        if depth > 16 {
            return Err(FaceModelError::Model("subgraphs nested too deeply".into()));
        }
        for node in &graph.node {
            if FFT_OPS.contains(&node.op_type.as_str()) {
                return Err(FaceModelError::Model(format!("unexpected {} operator in a face detector", node.op_type)));
            }
            for attribute in &node.attribute {
                for sub in attribute.g.iter().chain(&attribute.graphs) {
                    walk(sub, depth + 1)?;
                }
            }
        }
        Ok(())
    }
    proto.graph.as_ref().map_or(Ok(()), |g| walk(g, 0))
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

/// Which inference engine runs BlazeFace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaceEngine {
    /// [`FaceEngine::Direct`] where `trustcap-conv` has a SIMD backend (AVX-512 or AVX2 CPUs, wasm
    /// built with `simd128`), else [`FaceEngine::Tract`]; tract also if the direct engine
    /// refuses the graph.
    #[default]
    Auto,
    /// tract-onnx's optimised plan (every target, the browser's included).
    Tract,
    /// The graph compiled onto `trustcap-conv`'s direct convolutions ([`direct`]), on the
    /// fastest backend of the target (portable Rust where it has no SIMD one). An error if the
    /// graph has an operator it does not know.
    Direct,
}

/// Loads a BlazeFace ONNX file (with the `ConstantOfShape` fix) and optimises it for a
/// batch of one NHWC image, on the engine [`FaceEngine::Auto`] picks. Checks that the outputs
/// are one score tensor `[1, n, 1]` and one regressor tensor `[1, n, 16]` for each known
/// feature map.
pub fn load_model(bytes: &[u8], variant: BlazeFaceVariant) -> Result<BlazeFace, FaceModelError> {
    load_model_with(bytes, variant, FaceEngine::Auto)
}

/// Like [`load_model`] on a chosen engine.
pub fn load_model_with(
    bytes: &[u8],
    variant: BlazeFaceVariant,
    engine: FaceEngine,
) -> Result<BlazeFace, FaceModelError> {
    let onnx = tract_onnx::onnx();
    let mut proto = onnx.proto_model_for_read(&mut std::io::Cursor::new(bytes))?;
    refuse_fft_ops(&proto)?;
    fix_constant_of_shape(&mut proto);
    let size = variant.size();
    let (engine, shapes) = match direct_engine(&proto, size, engine)? {
        Some(direct) => direct,
        None => {
            let plan = onnx
                .model_for_proto_model(&proto)?
                .with_input_fact(0, f32::fact([1, size, size, 3]).into())?
                .into_optimized()?
                .into_runnable()?;
            let model = plan.model();
            let shapes = (0..model.outputs.len())
                .map(|i| {
                    let fact = model.output_fact(i)?;
                    Ok(fact.shape.as_concrete().map(<[usize]>::to_vec).unwrap_or_default())
                })
                .collect::<TractResult<Vec<_>>>()?;
            (Engine::Tract(plan), shapes)
        }
    };
    let layout = OutputLayout::from_shapes(&shapes)?;
    let anchors = BLAZEFACE_MAPS.iter().flat_map(|&m| map_anchors(m)).collect();
    Ok(BlazeFace { engine, variant, input: Vec::new(), shapes, layout, anchors, min_score: DEFAULT_MIN_SCORE })
}

/// An engine and its output shapes.
type EngineAndShapes = (Engine, Vec<Vec<usize>>);

/// The direct engine for `choice` with its output shapes, or `None` for tract. [`FaceEngine::Auto`]
/// takes the direct engine where it has a SIMD kernel (AVX-512 or AVX2 natively, `simd128` in the
/// browser) and tract elsewhere, or if the graph is one the direct engine refuses.
fn direct_engine(
    proto: &ModelProto,
    size: usize,
    choice: FaceEngine,
) -> Result<Option<EngineAndShapes>, FaceModelError> {
    use trustcap_conv::Backend;
    let backend = Backend::detect();
    let compiled = match choice {
        FaceEngine::Tract => return Ok(None),
        FaceEngine::Auto if backend == Backend::Portable => return Ok(None),
        FaceEngine::Auto => direct::DirectGraph::compile(proto, size, backend).ok(),
        FaceEngine::Direct => Some(direct::DirectGraph::compile(proto, size, backend)?),
    };
    Ok(compiled.map(|g| {
        let shapes = g.output_shapes();
        (Engine::Direct(Box::new(g)), shapes)
    }))
}

/// The engine a [`BlazeFace`] runs on.
enum Engine {
    Tract(std::sync::Arc<TypedRunnableModel>),
    Direct(Box<direct::DirectGraph>),
}

/// Which output tensor holds the scores and the regressors of each feature map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OutputLayout {
    scores: [usize; 2],
    regressors: [usize; 2],
}

impl OutputLayout {
    /// Finds, for each of [`BLAZEFACE_MAPS`], the output `[1, n, 1]` and the output `[1, n, 16]`.
    fn from_shapes(shapes: &[Vec<usize>]) -> Result<Self, FaceModelError> {
        let find = |n: usize, last: usize| {
            shapes
                .iter()
                .position(|s| s.as_slice() == [1, n, last])
                .ok_or_else(|| FaceModelError::Model(format!("no output of shape [1, {n}, {last}] among {shapes:?}")))
        };
        let mut layout = OutputLayout { scores: [0; 2], regressors: [0; 2] };
        for (i, map) in BLAZEFACE_MAPS.iter().enumerate() {
            layout.scores[i] = find(map.anchor_count(), 1)?;
            layout.regressors[i] = find(map.anchor_count(), REGRESSOR_VALUES)?;
        }
        Ok(layout)
    }
}

/// A loaded BlazeFace detector.
pub struct BlazeFace {
    engine: Engine,
    variant: BlazeFaceVariant,
    input: Vec<f32>,
    /// Each output's shape.
    shapes: Vec<Vec<usize>>,
    layout: OutputLayout,
    anchors: Vec<Anchor>,
    min_score: f32,
}

impl std::fmt::Debug for BlazeFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlazeFace")
            .field("variant", &self.variant)
            .field("engine", &self.engine())
            .finish_non_exhaustive()
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

    /// Like [`BlazeFace::from_dir`] on a chosen engine.
    pub fn from_dir_with(dir: &Path, variant: BlazeFaceVariant, engine: FaceEngine) -> Result<Self, FaceModelError> {
        let path = dir.join(variant.file_name());
        let bytes = std::fs::read(&path).map_err(|source| FaceModelError::Io { path, source })?;
        load_model_with(&bytes, variant, engine)
    }

    /// The variant.
    pub fn variant(&self) -> BlazeFaceVariant {
        self.variant
    }

    /// The engine it runs on ([`FaceEngine::Tract`] or [`FaceEngine::Direct`]).
    pub fn engine(&self) -> FaceEngine {
        match self.engine {
            Engine::Tract(_) => FaceEngine::Tract,
            Engine::Direct(_) => FaceEngine::Direct,
        }
    }

    /// Minimum face score of [`BlazeFace::detect`] (default [`DEFAULT_MIN_SCORE`]).
    pub fn min_score(&self) -> f32 {
        self.min_score
    }

    /// Sets the minimum face score of [`BlazeFace::detect`] (clamped to [0, 1]; NaN keeps the current value).
    pub fn set_min_score(&mut self, min_score: f32) {
        if !min_score.is_nan() {
            self.min_score = min_score.clamp(0.0, 1.0);
        }
    }

    /// Runs the model on an input tensor (`1 × size × size × 3`) and returns every output's values.
    fn forward(engine: &mut Engine, size: usize, input: &[f32]) -> Result<Vec<Vec<f32>>, FaceModelError> {
        match engine {
            Engine::Tract(plan) => {
                let outputs = plan.run(tvec!(Tensor::from_shape(&[1, size, size, 3], input)?.into()))?;
                outputs
                    .iter()
                    .map(|t| Ok(t.to_plain_array_view::<f32>()?.iter().copied().collect()))
                    .collect::<TractResult<_>>()
                    .map_err(Into::into)
            }
            Engine::Direct(graph) => Ok(graph.run(input)?.into_iter().map(|(_, values)| values).collect()),
        }
    }

    fn infer(&mut self, frame: &Frame<'_>) -> Result<Vec<Vec<f32>>, FaceModelError> {
        let size = self.variant.size();
        letterbox::letterbox_into(frame, size, &mut self.input);
        Self::forward(&mut self.engine, size, &self.input)
    }

    /// Runs the model on a frame and returns every output tensor.
    pub fn run(&mut self, frame: &Frame<'_>) -> Result<RawOutputs, FaceModelError> {
        let outputs = self.infer(frame)?;
        Ok(self.shapes.iter().cloned().zip(outputs).collect())
    }

    /// Runs the model alone on an input tensor already in its layout (`1 × size × size × 3`,
    /// RGB in [-1, 1], row-major) and returns every output tensor.
    pub fn run_tensor(&mut self, input: &[f32]) -> Result<RawOutputs, FaceModelError> {
        let size = self.variant.size();
        if input.len() != size * size * 3 {
            return Err(FaceModelError::Model(format!(
                "the input tensor has {} values, the model takes {size}×{size}×3",
                input.len()
            )));
        }
        let outputs = Self::forward(&mut self.engine, size, input)?;
        Ok(self.shapes.iter().cloned().zip(outputs).collect())
    }

    /// Detects faces: decoded boxes and keypoints in frame pixels, merged by weighted NMS,
    /// best first, each with a score of at least [`BlazeFace::min_score`]. Detections whose
    /// centre lies in the letterbox padding are dropped.
    pub fn detect(&mut self, frame: &Frame<'_>) -> Result<Vec<Detection>, FaceModelError> {
        let outputs = self.infer(frame)?;
        let size = self.variant.size() as f32;
        let mut candidates = Vec::new();
        let mut offset = 0;
        for (i, map) in BLAZEFACE_MAPS.iter().enumerate() {
            let n = map.anchor_count();
            let (Some(scores), Some(regs)) =
                (outputs.get(self.layout.scores[i]), outputs.get(self.layout.regressors[i]))
            else {
                return Err(FaceModelError::Model("the model returned fewer outputs than at load".into()));
            };
            let anchors = self.anchors.get(offset..offset + n).unwrap_or_default();
            candidates.extend(decode(scores, regs, anchors, size, self.min_score));
            offset += n;
        }
        let side = letterbox::square_side(frame) as f32;
        let (w, h) = (frame.width() as f32, frame.height() as f32);
        Ok(weighted_nms(candidates, NMS_IOU)
            .into_iter()
            .map(|d| d.scaled(side))
            .filter(|d| {
                let c = d.bbox.centre();
                (0.0..w).contains(&c.x) && (0.0..h).contains(&c.y)
            })
            .collect())
    }

    /// Runs the model alone on an input tensor already in its layout (`1 × size × size × 3`,
    /// RGB in [-1, 1], row-major): no letterboxing, decoding or NMS, the part an inference
    /// engine's own `run` covers (for benchmarks against one). Returns the best face score
    /// (sigmoid of the highest score logit), in [0, 1].
    pub fn best_score_of_tensor(&mut self, input: &[f32]) -> Result<f32, FaceModelError> {
        let outputs = self.run_tensor(input)?;
        let mut best = f32::NEG_INFINITY;
        for &i in &self.layout.scores {
            if let Some((_, t)) = outputs.get(i) {
                best = t.iter().copied().fold(best, f32::max);
            }
        }
        if !best.is_finite() {
            return Err(FaceModelError::Model("the model produced no finite face score".into()));
        }
        Ok(decode::sigmoid(best))
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

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::{GraphProto, NodeProto};

    fn node(op: &str) -> NodeProto {
        NodeProto { op_type: op.into(), ..Default::default() }
    }

    fn model(nodes: Vec<NodeProto>) -> ModelProto {
        ModelProto { graph: Some(GraphProto { node: nodes, ..Default::default() }), ..Default::default() }
    }

    #[test]
    fn fft_operators_are_refused_also_in_subgraphs() {
        assert!(refuse_fft_ops(&model(vec![node("Conv"), node("Relu")])).is_ok());
        assert!(refuse_fft_ops(&ModelProto::default()).is_ok());
        for op in FFT_OPS {
            let e = refuse_fft_ops(&model(vec![node("Conv"), node(op)])).unwrap_err();
            assert!(e.to_string().contains(op), "{e}");
            let inner = GraphProto { node: vec![node(op)], ..Default::default() };
            let mut branch = node("If");
            branch.attribute.push(AttributeProto { name: "then_branch".into(), g: Some(inner), ..Default::default() });
            assert!(refuse_fft_ops(&model(vec![branch])).is_err());
        }
    }
}
