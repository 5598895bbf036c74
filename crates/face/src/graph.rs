//! Builds an ONNX graph (opset 13) from a [`Network`] in memory with `tract_onnx::pb` and
//! loads it into tract, optimised for a batch of one planar `[1, C, H, W]` input.
//!
//! Affine layers that follow a convolution are folded into it first
//! ([`Network::fold_affine`]); the rest maps one to one: `Conv`, `Mul`/`Add` (a lone affine),
//! `Relu`, `MaxPool`, `AveragePool`, `GlobalMaxPool`/`GlobalAveragePool`, `Pad` then `Add`
//! (inputs of different shapes are zero-padded at the end), `Flatten` then `MatMul` (fc).

use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto, type_proto,
};
use tract_onnx::prelude::*;

use crate::network::{Network, Op, ShapeError};

/// Name of the graph input.
pub const INPUT: &str = "input";
/// Name of the graph output.
pub const OUTPUT: &str = "output";

/// Why a network could not be turned into a runnable model.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The network does not fit together.
    #[error(transparent)]
    Shape(#[from] ShapeError),
    /// tract refused or failed to run the graph.
    #[error("tract: {0}")]
    Tract(String),
}

impl From<TractError> for GraphError {
    fn from(e: TractError) -> Self {
        GraphError::Tract(format!("{e:#}"))
    }
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values.to_vec(),
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Int as i32, i: value, ..Default::default() }
}

fn string(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: value.as_bytes().to_vec(),
        ..Default::default()
    }
}

struct GraphBuilder {
    graph: GraphProto,
    counter: usize,
}

impl GraphBuilder {
    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_{}", self.counter)
    }

    fn floats(&mut self, dims: &[usize], values: &[f32]) -> String {
        let name = self.fresh("w");
        self.graph.initializer.push(TensorProto {
            name: name.clone(),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: DataType::Float as i32,
            float_data: values.to_vec(),
            ..Default::default()
        });
        name
    }

    fn int64s(&mut self, values: &[i64]) -> String {
        let name = self.fresh("i");
        self.graph.initializer.push(TensorProto {
            name: name.clone(),
            dims: vec![values.len() as i64],
            data_type: DataType::Int64 as i32,
            int64_data: values.to_vec(),
            ..Default::default()
        });
        name
    }

    fn node(&mut self, op: &str, inputs: Vec<String>, attribute: Vec<AttributeProto>) -> String {
        let output = self.fresh(&op.to_lowercase());
        self.graph.node.push(NodeProto {
            op_type: op.into(),
            name: output.clone(),
            input: inputs,
            output: vec![output.clone()],
            attribute,
            ..Default::default()
        });
        output
    }

    /// Zero-pads `value` of shape `from` at the end of C, H, W up to `to`.
    fn pad_to(&mut self, value: String, from: [usize; 3], to: [usize; 3]) -> String {
        if from == to {
            return value;
        }
        let mut pads = vec![0i64; 4];
        pads.extend([0, to[0] - from[0], to[1] - from[1], to[2] - from[2]].map(|v| v as i64));
        let pads = self.int64s(&pads);
        self.node("Pad", vec![value, pads], vec![string("mode", "constant")])
    }
}

/// The ONNX model of a network (after folding affine layers into convolutions).
pub fn to_onnx(network: &Network) -> Result<ModelProto, GraphError> {
    let network = network.fold_affine();
    let shapes = network.shapes()?;
    let mut b = GraphBuilder { graph: GraphProto { name: "dlib_resnet".into(), ..Default::default() }, counter: 0 };
    let mut names = vec![INPUT.to_string()];
    for (i, node) in network.nodes.iter().enumerate() {
        let x = names[node.input].clone();
        let out = match &node.op {
            Op::Conv(c) => {
                let w = b.floats(&[c.out_channels, c.in_channels, c.kernel[0], c.kernel[1]], &c.weights);
                let bias = b.floats(&[c.out_channels], &c.bias);
                let [py, px] = c.padding.map(|p| p as i64);
                let attrs = vec![
                    ints("kernel_shape", &c.kernel.map(|k| k as i64)),
                    ints("strides", &c.stride.map(|s| s as i64)),
                    ints("pads", &[py, px, py, px]),
                ];
                b.node("Conv", vec![x, w, bias], attrs)
            }
            Op::Affine { gamma, beta } => {
                let g = b.floats(&[1, gamma.len(), 1, 1], gamma);
                let be = b.floats(&[1, beta.len(), 1, 1], beta);
                let scaled = b.node("Mul", vec![x, g], vec![]);
                b.node("Add", vec![scaled, be], vec![])
            }
            Op::Relu => b.node("Relu", vec![x], vec![]),
            Op::MaxPool(p) | Op::AvgPool(p) => {
                let max = matches!(node.op, Op::MaxPool(_));
                if p.is_global() {
                    b.node(if max { "GlobalMaxPool" } else { "GlobalAveragePool" }, vec![x], vec![])
                } else {
                    let attrs = vec![
                        ints("kernel_shape", &p.window.map(|k| k as i64)),
                        ints("strides", &p.stride.map(|s| s as i64)),
                    ];
                    b.node(if max { "MaxPool" } else { "AveragePool" }, vec![x], attrs)
                }
            }
            Op::Add { other } => {
                let out_shape = shapes[i + 1];
                let left = b.pad_to(x, shapes[node.input], out_shape);
                let right = b.pad_to(names[*other].clone(), shapes[*other], out_shape);
                b.node("Add", vec![left, right], vec![])
            }
            Op::Fc(fc) => {
                let flat = b.node("Flatten", vec![x], vec![int("axis", 1)]);
                let w = b.floats(&[fc.inputs, fc.outputs], &fc.weights);
                let product = b.node("MatMul", vec![flat, w], vec![]);
                match &fc.bias {
                    Some(bias) => {
                        let bias = b.floats(&[1, fc.outputs], bias);
                        b.node("Add", vec![product, bias], vec![])
                    }
                    None => product,
                }
            }
        };
        names.push(out);
    }
    // Rename the last value to the graph output.
    if let Some(last) = b.graph.node.last_mut() {
        last.output = vec![OUTPUT.into()];
    } else {
        b.node("Identity", vec![INPUT.into()], vec![]);
        if let Some(last) = b.graph.node.last_mut() {
            last.output = vec![OUTPUT.into()];
        }
    }
    let dims = [1, network.input[0], network.input[1], network.input[2]];
    let shape = TensorShapeProto {
        dim: dims
            .iter()
            .map(|&d| Dimension { value: Some(dimension::Value::DimValue(d as i64)), ..Default::default() })
            .collect(),
    };
    let input_type = TypeProto {
        value: Some(type_proto::Value::TensorType(type_proto::Tensor {
            elem_type: DataType::Float as i32,
            shape: Some(shape),
        })),
        ..Default::default()
    };
    b.graph.input.push(ValueInfoProto { name: INPUT.into(), r#type: Some(input_type), ..Default::default() });
    b.graph.output.push(ValueInfoProto { name: OUTPUT.into(), ..Default::default() });
    Ok(ModelProto {
        ir_version: 7,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
        producer_name: "trustcap-face".into(),
        graph: Some(b.graph),
        ..Default::default()
    })
}

/// A network compiled by tract for one `[1, C, H, W]` input.
pub struct Compiled {
    plan: std::sync::Arc<TypedRunnableModel>,
    input: [usize; 3],
    output_len: usize,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("input", &self.input)
            .field("output_len", &self.output_len)
            .finish_non_exhaustive()
    }
}

impl Compiled {
    /// Builds, loads and optimises the network.
    pub fn new(network: &Network) -> Result<Self, GraphError> {
        let [c, h, w] = network.input;
        let out = network.output_shape()?;
        let proto = to_onnx(network)?;
        let plan = tract_onnx::onnx()
            .model_for_proto_model(&proto)?
            .with_input_fact(0, f32::fact([1, c, h, w]).into())?
            .into_optimized()?
            .into_runnable()?;
        Ok(Compiled { plan, input: network.input, output_len: out[0] * out[1] * out[2] })
    }

    /// Input shape `[C, H, W]`.
    pub fn input_shape(&self) -> [usize; 3] {
        self.input
    }

    /// The optimised tract plan (for profiling).
    pub fn plan(&self) -> &std::sync::Arc<TypedRunnableModel> {
        &self.plan
    }

    /// The plan's input tensor for planar `[C][H][W]` values.
    pub fn input_tensor(&self, input: &[f32]) -> Result<Tensor, GraphError> {
        let [c, h, w] = self.input;
        Ok(Tensor::from_shape(&[1, c, h, w], input)?)
    }

    /// Runs on planar `[C][H][W]` values; returns the flattened output.
    pub fn run(&self, input: &[f32]) -> Result<Vec<f32>, GraphError> {
        let tensor = self.input_tensor(input)?;
        let outputs = self.plan.run(tvec!(tensor.into()))?;
        let first = outputs.first().ok_or_else(|| GraphError::Tract("no output".into()))?;
        let values: Vec<f32> = first.to_plain_array_view::<f32>()?.iter().copied().collect();
        if values.len() != self.output_len {
            return Err(GraphError::Tract(format!("output has {} values, expected {}", values.len(), self.output_len)));
        }
        Ok(values)
    }
}
