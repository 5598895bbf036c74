//! A small explicit graph of the layers dlib uses, with shape inference.
//!
//! Node `i` reads node `input` (0 is the network input, `j + 1` the output of node `j`); an
//! [`Op::Add`] also reads `other`. Shapes are `[channels, rows, cols]`; a fully connected
//! layer flattens its input and produces `[outputs, 1, 1]`. Both the tract graph builder
//! ([`crate::graph`]) and the plain reference forward pass ([`crate::reference`]) read this.

use crate::dlib::model::{Conv, Fc, Pool};

/// One operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Convolution with bias.
    Conv(Conv),
    /// Per-channel `gamma × x + beta`.
    Affine {
        /// Scale per channel.
        gamma: Vec<f32>,
        /// Offset per channel.
        beta: Vec<f32>,
    },
    /// `max(x, 0)`.
    Relu,
    /// Max pooling (no padding; a 0×0 window pools everything).
    MaxPool(Pool),
    /// Average pooling (no padding; a 0×0 window pools everything).
    AvgPool(Pool),
    /// Element-wise sum with node `other`; the output takes the larger size in each of C, H, W
    /// and the smaller input is zero-padded at the end.
    Add {
        /// The second operand.
        other: usize,
    },
    /// Flatten, then fully connected.
    Fc(Fc),
}

/// One node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The operand (0 = network input, `j + 1` = node `j`).
    pub input: usize,
    /// What the node computes.
    pub op: Op,
}

/// A feed-forward network; its output is the last node.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// Input `[channels, rows, cols]`.
    pub input: [usize; 3],
    /// Nodes in execution order.
    pub nodes: Vec<Node>,
}

/// A network that does not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node {node}: {reason}")]
pub struct ShapeError {
    /// Node index.
    pub node: usize,
    /// What was wrong.
    pub reason: String,
}

fn pooled(len: usize, window: usize, stride: usize, padding: usize) -> Option<usize> {
    let padded = len + 2 * padding;
    (padded >= window && stride > 0).then(|| (padded - window) / stride + 1)
}

impl Network {
    /// The shape of every value: entry 0 is the input, entry `j + 1` node `j`'s output.
    pub fn shapes(&self) -> Result<Vec<[usize; 3]>, ShapeError> {
        let mut shapes = vec![self.input];
        for (i, node) in self.nodes.iter().enumerate() {
            let err = |reason: String| ShapeError { node: i, reason };
            let Some(&[c, h, w]) = shapes.get(node.input) else {
                return Err(err(format!("reads value {} which is not computed yet", node.input)));
            };
            let out = match &node.op {
                Op::Conv(conv) => {
                    if conv.in_channels != c {
                        return Err(err(format!("conv expects {} channels, gets {c}", conv.in_channels)));
                    }
                    let oh = pooled(h, conv.kernel[0], conv.stride[0], conv.padding[0]);
                    let ow = pooled(w, conv.kernel[1], conv.stride[1], conv.padding[1]);
                    let (Some(oh), Some(ow)) = (oh, ow) else {
                        return Err(err("conv kernel larger than input".into()));
                    };
                    [conv.out_channels, oh, ow]
                }
                Op::Affine { gamma, beta } => {
                    if gamma.len() != c || beta.len() != c {
                        return Err(err(format!("affine has {} values for {c} channels", gamma.len())));
                    }
                    [c, h, w]
                }
                Op::Relu => [c, h, w],
                Op::MaxPool(p) | Op::AvgPool(p) => {
                    if p.is_global() {
                        [c, 1, 1]
                    } else {
                        if p.padding != [0, 0] {
                            return Err(err("padded pooling is not supported".into()));
                        }
                        let (Some(oh), Some(ow)) =
                            (pooled(h, p.window[0], p.stride[0], 0), pooled(w, p.window[1], p.stride[1], 0))
                        else {
                            return Err(err("pool window larger than input".into()));
                        };
                        [c, oh, ow]
                    }
                }
                Op::Add { other } => {
                    let Some(&[c2, h2, w2]) = shapes.get(*other) else {
                        return Err(err(format!("adds value {other} which is not computed yet")));
                    };
                    [c.max(c2), h.max(h2), w.max(w2)]
                }
                Op::Fc(fc) => {
                    if Some(fc.inputs) != c.checked_mul(h).and_then(|v| v.checked_mul(w))
                        || Some(fc.weights.len()) != fc.inputs.checked_mul(fc.outputs)
                    {
                        return Err(err(format!("fc expects {} inputs, gets {:?}", fc.inputs, [c, h, w])));
                    }
                    if fc.bias.as_ref().is_some_and(|b| b.len() != fc.outputs) {
                        return Err(err("fc bias length".into()));
                    }
                    [fc.outputs, 1, 1]
                }
            };
            if let Op::Conv(conv) = &node.op
                && (Some(conv.weights.len())
                    != [c, conv.kernel[0], conv.kernel[1]].iter().try_fold(conv.out_channels, |a, &d| a.checked_mul(d))
                    || conv.bias.len() != conv.out_channels)
            {
                return Err(err("conv weight count".into()));
            }
            shapes.push(out);
        }
        Ok(shapes)
    }

    /// Output shape.
    pub fn output_shape(&self) -> Result<[usize; 3], ShapeError> {
        Ok(*self.shapes()?.last().unwrap_or(&self.input))
    }

    /// Folds every affine that directly follows a convolution (and is that convolution's only
    /// reader) into the convolution's weights and bias. The result computes the same function
    /// up to rounding; node indices are renumbered.
    pub fn fold_affine(&self) -> Network {
        let readers = |value: usize| {
            self.nodes
                .iter()
                .filter(|n| n.input == value || matches!(n.op, Op::Add { other } if other == value))
                .count()
        };
        // remap[v] = new value index of old value v.
        let mut remap = vec![0usize];
        let mut nodes: Vec<Node> = Vec::with_capacity(self.nodes.len());
        for (i, node) in self.nodes.iter().enumerate() {
            let input = remap.get(node.input).copied().unwrap_or(node.input);
            let mut op = node.op.clone();
            if let Op::Add { other } = &mut op {
                *other = remap.get(*other).copied().unwrap_or(*other);
            }
            let follows_last = input == nodes.len();
            if let Op::Affine { gamma, beta } = &op
                && node.input == i
                && readers(i) == 1
                && follows_last
                && let Some(Node { op: Op::Conv(conv), .. }) = nodes.last_mut()
                && conv.out_channels == gamma.len()
            {
                let per_filter = conv.weights.len() / conv.out_channels.max(1);
                for (o, (g, b)) in gamma.iter().zip(beta).enumerate() {
                    for w in conv.weights.iter_mut().skip(o * per_filter).take(per_filter) {
                        *w *= g;
                    }
                    if let Some(bias) = conv.bias.get_mut(o) {
                        *bias = *bias * g + b;
                    }
                }
                remap.push(nodes.len());
                continue;
            }
            nodes.push(Node { input, op });
            remap.push(nodes.len());
        }
        Network { input: self.input, nodes }
    }
}
