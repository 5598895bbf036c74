//! BlazeFace without tract: the ONNX graph compiled into a list of direct convolutions
//! (`trustcap-conv`), run on interleaved (`[row][col][channel]`) values.
//!
//! BlazeFace is a MobileNet-like network: a 5×5 stride-2 convolution, then blocks of a 3×3
//! depthwise convolution, a 1×1 convolution and a residual add (with a 2×2 max pool and zero
//! channels appended where a block shrinks the map or widens it), then 1×1 heads reshaped into
//! the score and regressor tensors. [`DirectGraph::compile`] accepts exactly the ONNX operators
//! such a graph uses (`Transpose`, `Conv` plain or depthwise, `Relu`, `Add`, `MaxPool`,
//! `ConstantOfShape`, `Concat`, `Reshape`) and refuses anything else with a typed error, so a
//! caller can fall back to tract.
//!
//! How the ONNX tensors map onto interleaved buffers:
//! - the NHWC input is already interleaved; the `Transpose` to NCHW only changes how the
//!   following operators index it, never the bytes (so is the `Transpose` back to NHWC before
//!   each head);
//! - a `Conv` reads and writes interleaved values; a `Relu` whose input has no other use runs
//!   inside the convolution or add before it;
//! - `Concat` of a value with a `ConstantOfShape` zero along the channels appends zero channels
//!   to every pixel, unless only a residual add reads it: then the add reads the value itself
//!   and leaves the other channels alone (`narrow_residuals`); `Reshape` of an NHWC value keeps
//!   its bytes; `Concat` of flattened heads joins them.
//!
//! Buffers are assigned by liveness, allocated on the first run and reused afterwards.

use std::collections::HashMap;

use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, TensorProto};
use trustcap_conv::{Backend, Conv2d, ConvSpec, Depthwise, DepthwiseSpec, Residual, Workspace};

use super::{FaceModelError, RawOutputs};

fn refuse(what: impl Into<String>) -> FaceModelError {
    FaceModelError::Model(format!("direct engine: {}", what.into()))
}

/// How a value's logical dimensions map onto its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Row-major in its logical dimensions (NHWC images, reshaped heads).
    RowMajor,
    /// Logically NCHW `[1, C, H, W]`, stored interleaved (`H × W × C`).
    Interleaved,
}

/// A value of the graph during compilation.
#[derive(Debug, Clone)]
enum Value {
    /// Held in a buffer.
    Buffer { id: usize, dims: Vec<usize>, order: Order },
    /// All zeros (`ConstantOfShape`), never materialised.
    Zeros { dims: Vec<usize> },
}

/// What one step computes.
#[derive(Debug)]
enum Op {
    /// A direct convolution of an input of `size`, first extended by `extend` zero rows and
    /// columns at the bottom and right (TensorFlow's larger padding after).
    /// With `residual: Some(channels)`, the step's second input (`channels` per pixel, the
    /// output's or fewer) is added to the first channels of the sums before the ReLU: an `Add`
    /// fused into the convolution that produced one of its operands, its other operand read
    /// without the zero channels a `Concat` appended to it (see [`narrow_residuals`]).
    Conv {
        conv: Box<Conv2d>,
        size: [usize; 2],
        extend: [usize; 2],
        relu: bool,
        residual: Option<usize>,
    },
    Depthwise {
        conv: Box<Depthwise>,
        size: [usize; 2],
        relu: bool,
    },
    Add {
        relu: bool,
    },
    Relu,
    MaxPool {
        size: [usize; 2],
        channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
    },
    /// Channel concatenation of interleaved values; `None` parts are zeros.
    ConcatChannels {
        pixels: usize,
        parts: Vec<(Option<usize>, usize)>,
    },
    /// Flat concatenation of row-major values.
    ConcatFlat,
}

/// One step of the compiled graph: its operation, the value ids it reads and the one it writes.
#[derive(Debug)]
struct Step {
    op: Op,
    inputs: Vec<usize>,
    output: usize,
}

/// The compiled graph with its buffers.
#[derive(Debug)]
pub struct DirectGraph {
    steps: Vec<Step>,
    /// Buffer slot of every value id.
    slot: Vec<usize>,
    input: usize,
    input_len: usize,
    /// Each graph output: its dimensions and value id.
    outputs: Vec<(Vec<usize>, usize)>,
    buffers: Vec<Vec<f32>>,
    scratch: Vec<f32>,
    workspace: Workspace,
    backend: Backend,
}

/// Reads an initializer as f32 (`float_data` or little-endian `raw_data`).
fn floats(t: &TensorProto) -> Result<Vec<f32>, FaceModelError> {
    if t.data_type != 1 {
        return Err(refuse(format!("initializer {} is not float32", t.name)));
    }
    if !t.float_data.is_empty() {
        return Ok(t.float_data.clone());
    }
    if !t.raw_data.len().is_multiple_of(4) {
        return Err(refuse(format!("initializer {} has a partial value", t.name)));
    }
    Ok(t.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

/// Reads an initializer as i64 (`int64_data` or little-endian `raw_data`).
fn ints(t: &TensorProto) -> Result<Vec<i64>, FaceModelError> {
    if t.data_type != 7 {
        return Err(refuse(format!("initializer {} is not int64", t.name)));
    }
    if !t.int64_data.is_empty() {
        return Ok(t.int64_data.clone());
    }
    if !t.raw_data.len().is_multiple_of(8) {
        return Err(refuse(format!("initializer {} has a partial value", t.name)));
    }
    Ok(t.raw_data.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8]))).collect())
}

/// Largest tensor of a compiled graph, in values (64 MB; BlazeFace-256's largest is 0.4 M).
pub const MAX_TENSOR: usize = 1 << 24;

/// Values in a tensor of `dims`, refused above a bound (no buffer of the graph may be that large).
fn checked_len(dims: &[usize]) -> Result<usize, FaceModelError> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_TENSOR)
        .ok_or_else(|| refuse(format!("a tensor of {dims:?} is too large")))
}

fn dims_of(t: &TensorProto) -> Result<Vec<usize>, FaceModelError> {
    t.dims.iter().map(|&d| usize::try_from(d).map_err(|_| refuse(format!("{}: negative dimension", t.name)))).collect()
}

fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.ints.clone())
}

fn attr_int(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

fn usizes(v: &[i64], what: &str) -> Result<Vec<usize>, FaceModelError> {
    v.iter()
        .map(|&d| usize::try_from(d).ok().filter(|&d| d <= 1 << 16).ok_or_else(|| refuse(what.to_string())))
        .collect()
}

fn pair(v: &[usize], what: &str) -> Result<[usize; 2], FaceModelError> {
    match v {
        [a, b] => Ok([*a, *b]),
        _ => Err(refuse(format!("{what} must have two values"))),
    }
}

/// Builder state: values by name, the steps, how many values exist.
struct Compiler<'a> {
    inits: HashMap<&'a str, &'a TensorProto>,
    values: HashMap<String, Value>,
    steps: Vec<Step>,
    next_id: usize,
    /// How many nodes and graph outputs read each value name.
    uses: HashMap<&'a str, usize>,
    backend: Backend,
}

impl<'a> Compiler<'a> {
    fn new_id(&mut self) -> usize {
        self.next_id += 1;
        self.next_id - 1
    }

    fn value(&self, name: &str) -> Result<Value, FaceModelError> {
        self.values.get(name).cloned().ok_or_else(|| refuse(format!("unknown or unsupported input {name}")))
    }

    fn init(&self, name: &str) -> Result<&'a TensorProto, FaceModelError> {
        self.inits.get(name).copied().ok_or_else(|| refuse(format!("{name} is not a constant")))
    }

    /// An interleaved `[1, C, H, W]` buffer value: (id, channels, [rows, cols]).
    fn image(&self, name: &str) -> Result<(usize, usize, [usize; 2]), FaceModelError> {
        match self.value(name)? {
            Value::Buffer { id, dims, order: Order::Interleaved } if dims.len() == 4 && dims[0] == 1 => {
                Ok((id, dims[1], [dims[2], dims[3]]))
            }
            _ => Err(refuse(format!("{name} is not an NCHW image"))),
        }
    }

    fn push(
        &mut self,
        op: Op,
        inputs: Vec<usize>,
        output_name: &str,
        dims: Vec<usize>,
        order: Order,
    ) -> Result<(), FaceModelError> {
        checked_len(&dims)?;
        let output = self.new_id();
        self.steps.push(Step { op, inputs, output });
        self.values.insert(output_name.to_string(), Value::Buffer { id: output, dims, order });
        Ok(())
    }

    /// Whether `name` is read exactly once, by a `Relu`: then the ReLU runs inside its producer.
    fn feeds_only_a_relu(&self, name: &str, graph: &GraphProto) -> bool {
        self.uses.get(name) == Some(&1)
            && graph.node.iter().any(|n| n.op_type == "Relu" && n.input.first().map(String::as_str) == Some(name))
    }

    fn node(&mut self, node: &NodeProto, graph: &GraphProto) -> Result<(), FaceModelError> {
        let input =
            |i: usize| node.input.get(i).map(String::as_str).ok_or_else(|| refuse(format!("{} input", node.op_type)));
        let out = node.output.first().ok_or_else(|| refuse("node without output"))?.clone();
        match node.op_type.as_str() {
            "Transpose" => {
                let perm = attr_ints(node, "perm").unwrap_or_default();
                let v = match self.value(input(0)?)? {
                    Value::Buffer { id, dims, order: Order::RowMajor } if perm == [0, 3, 1, 2] && dims.len() == 4 => {
                        Value::Buffer { id, dims: vec![dims[0], dims[3], dims[1], dims[2]], order: Order::Interleaved }
                    }
                    Value::Buffer { id, dims, order: Order::Interleaved } if perm == [0, 2, 3, 1] => {
                        Value::Buffer { id, dims: vec![dims[0], dims[2], dims[3], dims[1]], order: Order::RowMajor }
                    }
                    _ => return Err(refuse(format!("Transpose {perm:?}"))),
                };
                self.values.insert(out, v);
            }
            "Conv" => self.conv(node, &out)?,
            "Relu" => {
                let name = input(0)?;
                let v = self.value(name)?;
                let fused = self.feeds_only_a_relu(name, graph)
                    && self.steps.last().is_some_and(|s| matches!(&v, Value::Buffer { id, .. } if *id == s.output))
                    && self.steps.last_mut().is_some_and(|s| match &mut s.op {
                        Op::Conv { relu, .. } | Op::Depthwise { relu, .. } | Op::Add { relu } => {
                            *relu = true;
                            true
                        }
                        _ => false,
                    });
                if fused {
                    self.values.insert(out, v);
                } else {
                    let Value::Buffer { id, dims, order } = v else { return Err(refuse("Relu of a constant")) };
                    self.push(Op::Relu, vec![id], &out, dims, order)?;
                }
            }
            "Add" => {
                let (a, b) = (self.value(input(0)?)?, self.value(input(1)?)?);
                match (a, b) {
                    (Value::Buffer { id: x, dims, order }, Value::Buffer { id: y, dims: d2, order: o2 })
                        if dims == d2 && order == o2 =>
                    {
                        let single_use = |k: usize| input(k).is_ok_and(|n| self.uses.get(n) == Some(&1));
                        let once = [single_use(0), single_use(1)];
                        let fusable = |s: &Step, id: usize| {
                            s.output == id && matches!(s.op, Op::Conv { relu: false, residual: None, .. })
                        };
                        // The convolution just computed, read by this add alone, takes the other
                        // operand as its residual.
                        let last = self.steps.last_mut();
                        let fused = match last {
                            Some(s) if order == Order::Interleaved && fusable(s, x) && once[0] => Some((s, y)),
                            Some(s) if order == Order::Interleaved && fusable(s, y) && once[1] => Some((s, x)),
                            _ => None,
                        };
                        match fused {
                            Some((step, other)) => {
                                if let Op::Conv { residual, conv, .. } = &mut step.op {
                                    *residual = Some(conv.spec().out_channels);
                                }
                                step.inputs.push(other);
                                let id = step.output;
                                self.values.insert(out, Value::Buffer { id, dims, order });
                            }
                            None => self.push(Op::Add { relu: false }, vec![x, y], &out, dims, order)?,
                        }
                    }
                    _ => return Err(refuse("Add of values of different shapes")),
                }
            }
            "MaxPool" => {
                let (id, channels, size) = self.image(input(0)?)?;
                let kernel = pair(&usizes(&attr_ints(node, "kernel_shape").unwrap_or_default(), "kernel")?, "kernel")?;
                let stride = pair(&usizes(&attr_ints(node, "strides").unwrap_or(vec![1, 1]), "strides")?, "strides")?;
                let pads = attr_ints(node, "pads").unwrap_or_default();
                if pads.iter().any(|&p| p != 0) || kernel.contains(&0) || stride.contains(&0) {
                    return Err(refuse("MaxPool with padding"));
                }
                if size[0] < kernel[0] || size[1] < kernel[1] {
                    return Err(refuse("MaxPool kernel larger than its input"));
                }
                let o = [(size[0] - kernel[0]) / stride[0] + 1, (size[1] - kernel[1]) / stride[1] + 1];
                let op = Op::MaxPool { size, channels, kernel, stride };
                self.push(op, vec![id], &out, vec![1, channels, o[0], o[1]], Order::Interleaved)?;
            }
            "ConstantOfShape" => {
                let shape = usizes(&ints(self.init(input(0)?)?)?, "ConstantOfShape shape")?;
                let zero = node.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref());
                if let Some(t) = zero
                    && floats(t)?.iter().any(|&v| v != 0.0)
                {
                    return Err(refuse("ConstantOfShape with a non-zero value"));
                }
                checked_len(&shape)?;
                self.values.insert(out, Value::Zeros { dims: shape });
            }
            "Concat" => self.concat(node, &out)?,
            "Reshape" => {
                let Value::Buffer { id, dims, order: Order::RowMajor } = self.value(input(0)?)? else {
                    return Err(refuse("Reshape of an NCHW value"));
                };
                let total = checked_len(&dims)?;
                let shape = ints(self.init(input(1)?)?)?;
                let mut new: Vec<usize> = Vec::with_capacity(shape.len());
                let mut infer = None;
                for (i, &d) in shape.iter().enumerate() {
                    match d {
                        -1 if infer.is_none() => {
                            infer = Some(i);
                            new.push(1);
                        }
                        0 => new.push(*dims.get(i).ok_or_else(|| refuse("Reshape 0 past the input rank"))?),
                        d if d > 0 => new.push(usize::try_from(d).map_err(|_| refuse("Reshape size"))?),
                        _ => return Err(refuse("Reshape shape")),
                    }
                }
                let known: usize = new.iter().product();
                if let Some(i) = infer {
                    if known == 0 || !total.is_multiple_of(known) {
                        return Err(refuse("Reshape cannot infer a dimension"));
                    }
                    new[i] = total / known;
                }
                if new.iter().product::<usize>() != total {
                    return Err(refuse("Reshape changes the number of values"));
                }
                self.values.insert(out, Value::Buffer { id, dims: new, order: Order::RowMajor });
            }
            other => return Err(refuse(format!("operator {other}"))),
        }
        Ok(())
    }

    fn conv(&mut self, node: &NodeProto, out: &str) -> Result<(), FaceModelError> {
        let (id, channels, size) = self.image(node.input.first().ok_or_else(|| refuse("Conv without input"))?)?;
        let w = self.init(node.input.get(1).ok_or_else(|| refuse("Conv without weights"))?)?;
        let wdims = dims_of(w)?;
        let weights = floats(w)?;
        let [co, ci_g, kh, kw] = wdims[..] else { return Err(refuse("Conv weights are not 4-D")) };
        let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
            Some(name) => floats(self.init(name)?)?,
            None => vec![0.0; co],
        };
        if attr_ints(node, "dilations").is_some_and(|d| d.iter().any(|&v| v != 1)) {
            return Err(refuse("dilated Conv"));
        }
        if node.attribute.iter().any(|a| a.name == "auto_pad" && !a.s.is_empty() && a.s != b"NOTSET") {
            return Err(refuse("Conv auto_pad"));
        }
        let kernel = [kh, kw];
        if attr_ints(node, "kernel_shape").is_some_and(|k| usizes(&k, "kernel").ok() != Some(kernel.to_vec())) {
            return Err(refuse("Conv kernel_shape differs from its weights"));
        }
        let stride = pair(&usizes(&attr_ints(node, "strides").unwrap_or(vec![1, 1]), "strides")?, "strides")?;
        let pads = usizes(&attr_ints(node, "pads").unwrap_or(vec![0; 4]), "pads")?;
        let [top, left, bottom, right] = pads[..] else { return Err(refuse("Conv pads")) };
        let group = usize::try_from(attr_int(node, "group").unwrap_or(1)).map_err(|_| refuse("Conv group"))?;
        if group == 1 && ci_g == channels {
            // Padding after ≥ padding before: symmetric padding on an input extended with zero
            // rows and columns at the end.
            if bottom < top || right < left {
                return Err(refuse("Conv with more padding before than after"));
            }
            let spec = ConvSpec { in_channels: channels, out_channels: co, kernel, stride, padding: [top, left] };
            let extend = [bottom - top, right - left];
            let padded_size = [size[0] + extend[0], size[1] + extend[1]];
            let o = spec.output_size(padded_size).ok_or_else(|| refuse("Conv kernel larger than its input"))?;
            let conv = Conv2d::for_input(spec, &weights, &bias, self.backend, padded_size)
                .map_err(|e| refuse(e.to_string()))?;
            let op = Op::Conv { conv: Box::new(conv), size, extend, relu: false, residual: None };
            self.push(op, vec![id], out, vec![1, co, o[0], o[1]], Order::Interleaved)?;
        } else if group == channels && ci_g == 1 && co == channels {
            let spec = DepthwiseSpec { channels, kernel, stride, padding: [top, left, bottom, right] };
            let o = spec.output_size(size).ok_or_else(|| refuse("Conv kernel larger than its input"))?;
            let conv =
                Depthwise::with_backend(spec, &weights, &bias, self.backend).map_err(|e| refuse(e.to_string()))?;
            self.push(
                Op::Depthwise { conv: Box::new(conv), size, relu: false },
                vec![id],
                out,
                vec![1, co, o[0], o[1]],
                Order::Interleaved,
            )?;
        } else {
            return Err(refuse(format!("grouped Conv (group {group})")));
        }
        Ok(())
    }

    fn concat(&mut self, node: &NodeProto, out: &str) -> Result<(), FaceModelError> {
        let axis = attr_int(node, "axis").unwrap_or(0);
        let parts = node.input.iter().map(|n| self.value(n)).collect::<Result<Vec<_>, _>>()?;
        let first_dims = match parts.first() {
            Some(Value::Buffer { dims, .. } | Value::Zeros { dims }) => dims.clone(),
            None => return Err(refuse("empty Concat")),
        };
        let interleaved =
            parts.iter().all(|p| matches!(p, Value::Zeros { .. } | Value::Buffer { order: Order::Interleaved, .. }));
        if axis == 1 && first_dims.len() == 4 && interleaved {
            // Channels of NCHW images.
            let mut channels = 0usize;
            let mut list = Vec::new();
            let mut inputs = Vec::new();
            for p in &parts {
                let (id, dims) = match p {
                    Value::Buffer { id, dims, .. } => (Some(*id), dims),
                    Value::Zeros { dims } => (None, dims),
                };
                if dims.len() != 4 || dims[0] != 1 || dims[2..] != first_dims[2..] {
                    return Err(refuse("Concat of images of different sizes"));
                }
                list.push((id, dims[1]));
                inputs.extend(id);
                channels = channels.saturating_add(dims[1]);
            }
            if inputs.is_empty() {
                return Err(refuse("Concat of constants"));
            }
            let pixels = first_dims[2] * first_dims[3];
            let op = Op::ConcatChannels { pixels, parts: list };
            self.push(op, inputs, out, vec![1, channels, first_dims[2], first_dims[3]], Order::Interleaved)?;
            return Ok(());
        }
        // Row-major values joined along an axis with nothing but ones before it: their bytes in turn.
        let axis = usize::try_from(axis).map_err(|_| refuse("negative Concat axis"))?;
        let mut dims = first_dims.clone();
        let mut inputs = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let Value::Buffer { id, dims: d, order: Order::RowMajor } = p else {
                return Err(refuse("Concat of NCHW values along a non-channel axis"));
            };
            let same_but_axis =
                d.len() == dims.len() && d.iter().zip(&first_dims).enumerate().all(|(k, (a, b))| k == axis || a == b);
            if axis >= d.len() || d[..axis].iter().any(|&v| v != 1) || !same_but_axis {
                return Err(refuse("Concat of row-major values that do not join end to end"));
            }
            if i > 0 {
                dims[axis] = dims[axis].saturating_add(d[axis]);
            }
            inputs.push(*id);
        }
        self.push(Op::ConcatFlat, inputs, out, dims, Order::RowMajor)?;
        Ok(())
    }
}

impl DirectGraph {
    /// Compiles a BlazeFace-like ONNX model for an NHWC input of `[1, size, size, 3]`, with the
    /// tile kernels of `backend`.
    pub fn compile(proto: &ModelProto, size: usize, backend: Backend) -> Result<DirectGraph, FaceModelError> {
        let graph = proto.graph.as_ref().ok_or_else(|| refuse("no graph"))?;
        let inits: HashMap<&str, &TensorProto> = graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
        let mut uses: HashMap<&str, usize> = HashMap::new();
        for name in graph.node.iter().flat_map(|n| &n.input).chain(graph.output.iter().map(|o| &o.name)) {
            *uses.entry(name.as_str()).or_default() += 1;
        }
        let real_inputs: Vec<_> = graph.input.iter().filter(|i| !inits.contains_key(i.name.as_str())).collect();
        let [input] = real_inputs[..] else { return Err(refuse("the graph must have one input")) };
        let mut c = Compiler { inits, values: HashMap::new(), steps: Vec::new(), next_id: 0, uses, backend };
        let input_id = c.new_id();
        c.values.insert(
            input.name.clone(),
            Value::Buffer { id: input_id, dims: vec![1, size, size, 3], order: Order::RowMajor },
        );
        for node in &graph.node {
            c.node(node, graph)?;
        }
        let mut outputs = Vec::new();
        for o in &graph.output {
            match c.value(&o.name)? {
                Value::Buffer { id, dims, order: Order::RowMajor } => outputs.push((dims, id)),
                _ => return Err(refuse(format!("output {} is not row-major", o.name))),
            }
        }
        narrow_residuals(&mut c.steps, &outputs);
        // Buffers by liveness: a value's buffer is free after its last reader (outputs never).
        let values = c.next_id;
        let mut last_use = vec![0usize; values];
        for (i, s) in c.steps.iter().enumerate() {
            for &v in &s.inputs {
                last_use[v] = i;
            }
        }
        for &(_, id) in &outputs {
            last_use[id] = usize::MAX;
        }
        let mut slot = vec![usize::MAX; values];
        let mut free: Vec<usize> = Vec::new();
        let mut slots = 1;
        slot[input_id] = 0;
        for (i, s) in c.steps.iter().enumerate() {
            slot[s.output] = free.pop().unwrap_or_else(|| {
                slots += 1;
                slots - 1
            });
            for &v in &s.inputs {
                if last_use[v] == i && !free.contains(&slot[v]) {
                    free.push(slot[v]);
                }
            }
        }
        Ok(DirectGraph {
            steps: c.steps,
            slot,
            input: input_id,
            input_len: size * size * 3,
            outputs,
            buffers: vec![Vec::new(); slots],
            scratch: Vec::new(),
            workspace: Workspace::default(),
            backend,
        })
    }

    /// Each output's dimensions, in the graph's output order.
    pub fn output_shapes(&self) -> Vec<Vec<usize>> {
        self.outputs.iter().map(|o| o.0.clone()).collect()
    }

    /// The tile kernel backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs the graph on an NHWC input and returns each output's dimensions and values.
    pub fn run(&mut self, input: &[f32]) -> Result<RawOutputs, FaceModelError> {
        self.run_with(input, |_, _| {})
    }

    /// Like [`DirectGraph::run`], calling `each` after every step with its index and a label
    /// (for profiles).
    pub fn run_with(
        &mut self,
        input: &[f32],
        mut each: impl FnMut(usize, &'static str),
    ) -> Result<RawOutputs, FaceModelError> {
        if input.len() != self.input_len {
            return Err(refuse(format!("the input has {} values, the graph takes {}", input.len(), self.input_len)));
        }
        let slot = &self.slot;
        let buffers = &mut self.buffers;
        let in_slot = slot[self.input];
        buffers[in_slot].clear();
        buffers[in_slot].extend_from_slice(input);
        for (i, step) in self.steps.iter().enumerate() {
            let mut out = std::mem::take(&mut buffers[slot[step.output]]);
            let arg = |k: usize| -> &[f32] { step.inputs.get(k).map_or(&[][..], |&v| &buffers[slot[v]]) };
            let label = match &step.op {
                Op::Conv { conv, size, extend, relu, residual } => {
                    let x = arg(0);
                    let residual = residual.map(|channels| Residual { values: arg(1), channels });
                    let size = if *extend == [0, 0] {
                        *size
                    } else {
                        extend_zeros(x, *size, conv.spec().in_channels, *extend, &mut self.scratch)
                    };
                    let x = if *extend == [0, 0] { x } else { &self.scratch[..] };
                    conv.run_adding(x, size, residual, *relu, &mut self.workspace, &mut out)
                        .map_err(|e| refuse(e.to_string()))?;
                    "conv"
                }
                Op::Depthwise { conv, size, relu } => {
                    conv.run(arg(0), *size, *relu, &mut out).map_err(|e| refuse(e.to_string()))?;
                    "depthwise"
                }
                Op::Add { relu } => {
                    let (a, b) = (arg(0), arg(1));
                    out.clear();
                    out.resize(a.len().min(b.len()), 0.0);
                    let sums = out.iter_mut().zip(a.iter().zip(b));
                    if *relu {
                        sums.for_each(|(o, (x, y))| *o = trustcap_conv::relu(x + y));
                    } else {
                        sums.for_each(|(o, (x, y))| *o = x + y);
                    }
                    "add"
                }
                Op::Relu => {
                    out.clear();
                    out.extend(arg(0).iter().copied().map(trustcap_conv::relu));
                    "relu"
                }
                Op::MaxPool { size, channels, kernel, stride } => {
                    max_pool(arg(0), *size, *channels, *kernel, *stride, &mut out);
                    "max_pool"
                }
                Op::ConcatChannels { pixels, parts } => {
                    out.clear();
                    let total: usize = parts.iter().map(|p| p.1).sum();
                    out.resize(pixels * total, 0.0);
                    let mut at = 0;
                    let mut next_input = 0;
                    for &(id, c) in parts {
                        if id.is_some() {
                            let src = arg(next_input);
                            next_input += 1;
                            for (dst, s) in out.chunks_exact_mut(total).zip(src.chunks_exact(c)) {
                                dst[at..at + c].copy_from_slice(s);
                            }
                        }
                        at += c;
                    }
                    "concat_channels"
                }
                Op::ConcatFlat => {
                    out.clear();
                    for k in 0..step.inputs.len() {
                        out.extend_from_slice(arg(k));
                    }
                    "concat"
                }
            };
            buffers[slot[step.output]] = out;
            each(i, label);
        }
        Ok(self.outputs.iter().map(|(dims, id)| (dims.clone(), self.buffers[self.slot[*id]].clone())).collect())
    }
}

/// Lets each fused residual add read its skip connection without the zero channels a `Concat`
/// appended to it: where a convolution's residual is a [`Op::ConcatChannels`] of one value and
/// zeros, read by nothing else, the convolution adds that value to its first channels and the
/// concatenation is dropped. BlazeFace widens its skip connections this way in every block that
/// adds channels. Building the padded copies took 0.47–0.66 ms of a BlazeFace-128 frame under
/// Node's V8 (a build with the face module's settings); without them, and with the adds through
/// [`trustcap_conv::lanes`], the frame took 3.4 ms instead of 4.6 ms at best.
fn narrow_residuals(steps: &mut Vec<Step>, outputs: &[(Vec<usize>, usize)]) {
    let readers = |steps: &[Step], id: usize| {
        steps.iter().flat_map(|s| &s.inputs).filter(|&&v| v == id).count()
            + outputs.iter().filter(|o| o.1 == id).count()
    };
    let mut dropped = Vec::new();
    for i in 0..steps.len() {
        let Op::Conv { residual: Some(_), .. } = steps[i].op else { continue };
        let Some(&skip) = steps[i].inputs.get(1) else { continue };
        let Some(j) = steps.iter().position(|s| s.output == skip) else { continue };
        let Op::ConcatChannels { parts, .. } = &steps[j].op else { continue };
        let Some((&(Some(value), channels), zeros)) = parts.split_first() else { continue };
        if zeros.iter().any(|p| p.0.is_some()) || readers(steps, skip) != 1 {
            continue;
        }
        steps[i].inputs[1] = value;
        if let Op::Conv { residual, .. } = &mut steps[i].op {
            *residual = Some(channels);
        }
        dropped.push(j);
    }
    let mut index = 0;
    steps.retain(|_| {
        index += 1;
        !dropped.contains(&(index - 1))
    });
}

/// Copies an interleaved `size` image into `out` with `extend` zero rows and columns appended
/// at the bottom and right; returns the new size.
fn extend_zeros(x: &[f32], size: [usize; 2], c: usize, extend: [usize; 2], out: &mut Vec<f32>) -> [usize; 2] {
    let [h, w] = size;
    let new = [h + extend[0], w + extend[1]];
    out.clear();
    out.reserve(new[0] * new[1] * c);
    for row in x.chunks_exact(w * c).take(h) {
        out.extend_from_slice(row);
        out.resize(out.len() + extend[1] * c, 0.0);
    }
    out.resize(new[0] * new[1] * c, 0.0);
    new
}

/// Max pooling without padding on an interleaved image, through
/// [`trustcap_conv::lanes::max_assign`] (explicit SIMD in the browser build). It compares rather
/// than calling `f32::max` (see [`trustcap_conv::relu`]); a NaN input is skipped, as `f32::max`
/// would skip it.
fn max_pool(x: &[f32], size: [usize; 2], c: usize, kernel: [usize; 2], stride: [usize; 2], out: &mut Vec<f32>) {
    let [h, w] = size;
    let oh = (h - kernel[0]) / stride[0] + 1;
    let ow = (w - kernel[1]) / stride[1] + 1;
    out.clear();
    out.resize(oh * ow * c, f32::NEG_INFINITY);
    for (y, row) in out.chunks_exact_mut(ow * c).enumerate() {
        for ky in 0..kernel[0] {
            let src_row = &x[(y * stride[0] + ky) * w * c..][..w * c];
            for (ox, dst) in row.chunks_exact_mut(c).enumerate() {
                for kx in 0..kernel[1] {
                    trustcap_conv::lanes::max_assign(dst, &src_row[(ox * stride[1] + kx) * c..][..c]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Tiny BlazeFace-shaped graphs built in code, run by the direct engine and by tract.
    use super::*;
    use tract_onnx::pb::{AttributeProto, OperatorSetIdProto, ValueInfoProto};
    use tract_onnx::prelude::*;

    /// Values in [-0.5, 0.5).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        trustcap_conv::test_values(n, seed).into_iter().map(|v| v * 0.5).collect()
    }

    fn ints_attr(name: &str, v: &[i64]) -> AttributeProto {
        AttributeProto { name: name.into(), r#type: 7, ints: v.to_vec(), ..Default::default() }
    }

    fn int_attr(name: &str, v: i64) -> AttributeProto {
        AttributeProto { name: name.into(), r#type: 2, i: v, ..Default::default() }
    }

    fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            attribute,
            ..Default::default()
        }
    }

    /// A graph builder: initializers get fresh names.
    #[derive(Default)]
    struct G {
        graph: GraphProto,
        seed: u64,
    }

    impl G {
        fn weights(&mut self, dims: &[i64]) -> String {
            self.seed += 1;
            let n: i64 = dims.iter().product();
            let name = format!("w{}", self.seed);
            let raw = values(n as usize, self.seed).iter().flat_map(|v| v.to_le_bytes()).collect();
            self.graph.initializer.push(TensorProto {
                name: name.clone(),
                dims: dims.to_vec(),
                data_type: 1,
                raw_data: raw,
                ..Default::default()
            });
            name
        }

        fn shape(&mut self, v: &[i64]) -> String {
            self.seed += 1;
            let name = format!("s{}", self.seed);
            self.graph.initializer.push(TensorProto {
                name: name.clone(),
                dims: vec![v.len() as i64],
                data_type: 7,
                int64_data: v.to_vec(),
                ..Default::default()
            });
            name
        }

        /// A convolution `[in, out, kernel, stride, group]` with ONNX pads.
        fn conv(&mut self, x: &str, out: &str, [ci, co, k, stride, group]: [i64; 5], pads: [i64; 4]) -> String {
            let w = self.weights(&[co, ci / group, k, k]);
            let mut inputs = vec![x.to_string(), w];
            if group == 1 {
                inputs.push(self.weights(&[co]));
            }
            let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            let mut attrs = vec![
                ints_attr("kernel_shape", &[k, k]),
                ints_attr("strides", &[stride, stride]),
                ints_attr("pads", &pads),
            ];
            if group != 1 {
                attrs.push(int_attr("group", group));
            }
            self.graph.node.push(node("Conv", &refs, out, attrs));
            out.to_string()
        }

        fn model(self, outputs: &[&str]) -> ModelProto {
            let mut graph = self.graph;
            use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
            use tract_onnx::pb::{TensorShapeProto, TypeProto, type_proto};
            let dim = |d: i64| Dimension { value: Some(dimension::Value::DimValue(d)), ..Default::default() };
            let input_type = TypeProto {
                value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                    elem_type: 1,
                    shape: Some(TensorShapeProto { dim: vec![dim(1), dim(16), dim(16), dim(3)] }),
                })),
                ..Default::default()
            };
            graph.input.push(ValueInfoProto { name: "input".into(), r#type: Some(input_type), ..Default::default() });
            graph.output =
                outputs.iter().map(|o| ValueInfoProto { name: o.to_string(), ..Default::default() }).collect();
            ModelProto {
                ir_version: 7,
                opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
                graph: Some(graph),
                ..Default::default()
            }
        }
    }

    /// Input 16×16×3: a 5×5 stride-2 stem with TensorFlow padding, a residual block, a
    /// shrinking block (depthwise stride 2, max pool, zero channels appended), and two heads
    /// reshaped and joined.
    fn blazeface_like() -> ModelProto {
        let mut g = G::default();
        g.graph.node.push(node("Transpose", &["input"], "nchw", vec![ints_attr("perm", &[0, 3, 1, 2])]));
        g.conv("nchw", "stem", [3, 8, 5, 2, 1], [1, 1, 2, 2]);
        g.graph.node.push(node("Relu", &["stem"], "stem_r", vec![]));
        g.conv("stem_r", "dw1", [8, 8, 3, 1, 8], [1, 1, 1, 1]);
        g.conv("dw1", "pw1", [8, 8, 1, 1, 1], [0; 4]);
        g.graph.node.push(node("Add", &["stem_r", "pw1"], "add1", vec![]));
        g.graph.node.push(node("Relu", &["add1"], "b1", vec![]));
        // Shrink to 4×4 and widen to 20 channels.
        g.graph.node.push(node(
            "MaxPool",
            &["b1"],
            "pool",
            vec![ints_attr("kernel_shape", &[2, 2]), ints_attr("strides", &[2, 2])],
        ));
        let zeros_shape = g.shape(&[1, 12, 4, 4]);
        g.graph.node.push(node("ConstantOfShape", &[&zeros_shape], "zeros", vec![]));
        g.graph.node.push(node("Concat", &["pool", "zeros"], "skip", vec![int_attr("axis", 1)]));
        g.conv("b1", "dw2", [8, 8, 3, 2, 8], [0, 0, 1, 1]);
        g.conv("dw2", "pw2", [8, 20, 1, 1, 1], [0; 4]);
        g.graph.node.push(node("Add", &["pw2", "skip"], "add2", vec![]));
        g.graph.node.push(node("Relu", &["add2"], "b2", vec![]));
        // Heads: 2 anchors × 3 values per cell on both maps.
        g.conv("b1", "h1", [8, 6, 1, 1, 1], [0; 4]);
        g.conv("b2", "h2", [20, 6, 1, 1, 1], [0; 4]);
        for (h, out) in [("h1", "r1"), ("h2", "r2")] {
            let t = format!("{h}_t");
            g.graph.node.push(node("Transpose", &[h], &t, vec![ints_attr("perm", &[0, 2, 3, 1])]));
            let shape = g.shape(&[1, -1, 3]);
            g.graph.node.push(node("Reshape", &[&t, &shape], out, vec![]));
        }
        g.graph.node.push(node("Concat", &["r1", "r2"], "regressors", vec![int_attr("axis", 1)]));
        g.model(&["regressors", "r2"])
    }

    fn tract_outputs(proto: &ModelProto, input: &[f32]) -> Vec<(Vec<usize>, Vec<f32>)> {
        let mut proto = proto.clone();
        super::super::fix_constant_of_shape(&mut proto);
        let plan = tract_onnx::onnx()
            .model_for_proto_model(&proto)
            .unwrap()
            .with_input_fact(0, f32::fact([1, 16, 16, 3]).into())
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let out = plan.run(tvec!(Tensor::from_shape(&[1, 16, 16, 3], input).unwrap().into())).unwrap();
        out.iter()
            .map(|t| {
                let v = t.to_plain_array_view::<f32>().unwrap();
                (v.shape().to_vec(), v.iter().copied().collect())
            })
            .collect()
    }

    #[test]
    fn a_blazeface_like_graph_gives_tracts_outputs_on_every_backend() {
        let proto = blazeface_like();
        let input = values(16 * 16 * 3, 99);
        let want = tract_outputs(&proto, &input);
        for backend in [Backend::Portable, Backend::Avx512, Backend::Avx2] {
            let mut graph = DirectGraph::compile(&proto, 16, backend).unwrap();
            // The stem's ReLU runs inside it, both residual adds and their ReLUs inside the 1×1
            // convolutions before them (one add reads the convolution first, the other second):
            // no separate ReLU or add step. The widening block's 1×1 convolution adds the pooled
            // 8 channels to its first 8 of 20: the zero-padded copy is never built.
            assert!(graph.steps.iter().all(|s| !matches!(s.op, super::Op::Relu | super::Op::Add { .. })));
            let residuals: Vec<_> = graph
                .steps
                .iter()
                .filter_map(|s| match s.op {
                    super::Op::Conv { residual: Some(c), .. } => Some(c),
                    _ => None,
                })
                .collect();
            assert_eq!(residuals, [8, 8]);
            assert!(graph.steps.iter().all(|s| !matches!(s.op, super::Op::ConcatChannels { .. })));
            assert_matches_tract(&mut graph, &input, &want, backend);
        }
    }

    fn assert_matches_tract(graph: &mut DirectGraph, input: &[f32], want: &RawOutputs, backend: Backend) {
        for _ in 0..2 {
            let got = graph.run(input).unwrap();
            assert_eq!(got.len(), want.len());
            for ((ws, wv), (gs, gv)) in want.iter().zip(&got) {
                assert_eq!(ws, gs);
                for (a, b) in wv.iter().zip(gv) {
                    assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{backend:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn a_widened_skip_read_elsewhere_too_is_built_in_full() {
        // A head on the zero-padded skip connection: the concatenation has a second reader, so
        // it stays, and the residual add reads all 20 channels.
        let mut proto = blazeface_like();
        let mut g = G { graph: proto.graph.take().unwrap(), seed: 1000 };
        g.conv("skip", "h3", [20, 6, 1, 1, 1], [0; 4]);
        g.graph.node.push(node("Transpose", &["h3"], "h3_t", vec![ints_attr("perm", &[0, 2, 3, 1])]));
        let shape = g.shape(&[1, -1, 3]);
        g.graph.node.push(node("Reshape", &["h3_t", &shape], "r3", vec![]));
        g.graph.output.push(ValueInfoProto { name: "r3".into(), ..Default::default() });
        proto.graph = Some(g.graph);
        let input = values(16 * 16 * 3, 98);
        let want = tract_outputs(&proto, &input);
        let mut graph = DirectGraph::compile(&proto, 16, Backend::Portable).unwrap();
        let concats = graph.steps.iter().filter(|s| matches!(s.op, super::Op::ConcatChannels { .. })).count();
        assert_eq!(concats, 1);
        let widest = graph.steps.iter().filter_map(|s| match s.op {
            super::Op::Conv { residual: Some(c), .. } => Some(c),
            _ => None,
        });
        assert_eq!(widest.max(), Some(20));
        assert_matches_tract(&mut graph, &input, &want, Backend::Portable);
    }

    #[test]
    fn unknown_operators_and_bad_inputs_are_refused() {
        let mut proto = blazeface_like();
        // Sigmoid is not a BlazeFace operator.
        let graph = proto.graph.as_mut().unwrap();
        graph.node.push(node("Sigmoid", &["r2"], "sig", vec![]));
        graph.output.push(ValueInfoProto { name: "sig".into(), ..Default::default() });
        let err = DirectGraph::compile(&proto, 16, Backend::Portable).unwrap_err();
        assert!(err.to_string().contains("operator Sigmoid"), "{err}");
        // An NCHW output (kept interleaved inside) is refused rather than returned in the wrong order.
        let mut nchw = blazeface_like();
        nchw.graph.as_mut().unwrap().output.push(ValueInfoProto { name: "b2".into(), ..Default::default() });
        assert!(DirectGraph::compile(&nchw, 16, Backend::Portable).is_err());
        // An input of the wrong length is an error, not a panic.
        let mut ok = DirectGraph::compile(&blazeface_like(), 16, Backend::Portable).unwrap();
        assert!(ok.run(&[0.0; 10]).is_err());
        // A constant too large for any buffer is refused at compile time, not allocated.
        let mut huge = G::default();
        let shape = huge.shape(&[1, 65536, 65536, 16]);
        huge.graph.node.push(node("ConstantOfShape", &[&shape], "zeros", vec![]));
        let err = DirectGraph::compile(&huge.model(&[]), 16, Backend::Portable).unwrap_err();
        assert!(err.to_string().contains("too large"), "{err}");
        // A grouped (not depthwise) convolution is refused.
        let mut g = G::default();
        g.graph.node.push(node("Transpose", &["input"], "nchw", vec![ints_attr("perm", &[0, 3, 1, 2])]));
        g.conv("nchw", "stem", [3, 8, 3, 1, 1], [1, 1, 1, 1]);
        g.conv("stem", "grouped", [8, 8, 3, 1, 2], [1, 1, 1, 1]);
        assert!(DirectGraph::compile(&g.model(&[]), 16, Backend::Portable).is_err());
    }
}
