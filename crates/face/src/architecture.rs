//! The dlib face-recognition ResNet (`dlib_face_recognition_resnet_model_v1`): its known
//! architecture, checked layer by layer against a parsed file and turned into a [`Network`].
//!
//! ```text
//! input 3x150x150 -> conv 32 7x7 s2, affine, relu -> max_pool 3x3 s2
//! 3 x residual(32); residual_down(64), 3 x residual(64); residual_down(128), 2 x residual(128);
//! residual_down(256), 2 x residual(256); residual_down(256); global average pool; fc 256 -> 128
//! residual      = conv3x3 s1, affine, relu, conv3x3 s1, affine, add(input), relu
//! residual_down = conv3x3 s2, affine, relu, conv3x3 s1, affine; add(avg_pool 2x2 s2 of input); relu
//! ```
//! The file stores no connections, only layer kinds in execution order and a prefix with one
//! marker per tag or skip layer; both must match exactly.

use crate::dlib::model::{DlibModel, Layer, Wrapper};
use crate::network::{Network, Node, Op};

/// Residual stages in execution order: (filters, downsampling block first, plain residual blocks).
pub const STAGES: [(usize, bool, usize); 5] =
    [(32, false, 3), (64, true, 3), (128, true, 2), (256, true, 2), (256, true, 0)];

/// Embedding width.
pub const EMBEDDING_DIM: usize = 128;

/// Layers with data in the dlib face model.
pub const LAYER_COUNT: usize = 108;

/// The parsed file is not the expected network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layer {index}: expected {expected}, found {found}")]
pub struct ArchitectureError {
    /// Layer index in execution order (or the layer count for missing layers).
    pub index: usize,
    /// What the architecture requires there.
    pub expected: String,
    /// What the file has.
    pub found: String,
}

struct Builder<'a> {
    layers: &'a [Layer],
    next: usize,
    nodes: Vec<Node>,
    /// Value index of the current output.
    current: usize,
    /// Wrappers in execution order (reversed at the end).
    wrappers: Vec<Wrapper>,
}

impl Builder<'_> {
    fn fail(&self, expected: String) -> ArchitectureError {
        let found = self.layers.get(self.next).map_or_else(|| "end of network".into(), describe);
        ArchitectureError { index: self.next, expected, found }
    }

    fn push(&mut self, op: Op, input: usize) {
        self.nodes.push(Node { input, op });
        self.current = self.nodes.len();
        self.wrappers.push(Wrapper::Layer);
        self.next += 1;
    }

    fn conv(&mut self, filters: usize, kernel: usize, stride: usize) -> Result<(), ArchitectureError> {
        let expected = format!("conv {filters} {kernel}x{kernel} s{stride}");
        match self.layers.get(self.next) {
            Some(Layer::Conv(c)) if c.out_channels == filters && c.kernel == [kernel; 2] && c.stride == [stride; 2] => {
                self.push(Op::Conv(c.clone()), self.current);
                Ok(())
            }
            _ => Err(self.fail(expected)),
        }
    }

    fn simple(&mut self, kind: &str) -> Result<(), ArchitectureError> {
        let op = match (kind, self.layers.get(self.next)) {
            ("affine", Some(Layer::Affine { gamma, beta })) => Op::Affine { gamma: gamma.clone(), beta: beta.clone() },
            ("relu", Some(Layer::Relu)) => Op::Relu,
            _ => return Err(self.fail(kind.into())),
        };
        self.push(op, self.current);
        Ok(())
    }

    fn pool(&mut self, max: bool, window: usize, stride: usize, input: usize) -> Result<(), ArchitectureError> {
        let expected = format!("{} {window}x{window} s{stride}", if max { "max_pool" } else { "avg_pool" });
        let pool = match (max, self.layers.get(self.next)) {
            (true, Some(Layer::MaxPool(p))) | (false, Some(Layer::AvgPool(p))) => *p,
            _ => return Err(self.fail(expected)),
        };
        if pool.window != [window; 2] || (window != 0 && pool.stride != [stride; 2]) || pool.padding != [0, 0] {
            return Err(self.fail(expected));
        }
        self.push(if max { Op::MaxPool(pool) } else { Op::AvgPool(pool) }, input);
        Ok(())
    }

    fn add(&mut self, other: usize) -> Result<(), ArchitectureError> {
        match self.layers.get(self.next) {
            Some(Layer::AddPrev) => {
                self.push(Op::Add { other }, self.current);
                Ok(())
            }
            _ => Err(self.fail("add_prev".into())),
        }
    }

    fn residual(&mut self, filters: usize, down: bool) -> Result<(), ArchitectureError> {
        self.wrappers.push(Wrapper::TagOrSkip); // tag1
        let block_input = self.current;
        self.conv(filters, 3, if down { 2 } else { 1 })?;
        self.simple("affine")?;
        self.simple("relu")?;
        self.conv(filters, 3, 1)?;
        self.simple("affine")?;
        if down {
            self.wrappers.push(Wrapper::TagOrSkip); // tag2
            self.wrappers.push(Wrapper::TagOrSkip); // skip1
            let block_output = self.current;
            self.pool(false, 2, 2, block_input)?;
            self.add(block_output)?;
        } else {
            self.add(block_input)?;
        }
        self.simple("relu")
    }
}

fn describe(layer: &Layer) -> String {
    match layer {
        Layer::Conv(c) => format!("conv {} {}x{} s{}", c.out_channels, c.kernel[0], c.kernel[1], c.stride[0]),
        Layer::MaxPool(p) | Layer::AvgPool(p) => {
            format!("{} {}x{} s{}", layer.kind(), p.window[0], p.window[1], p.stride[0])
        }
        Layer::Fc(f) => format!("fc {}->{}", f.inputs, f.outputs),
        other => other.kind().into(),
    }
}

/// Checks the parsed file against the known architecture and builds the network. The input is
/// `[3, rows, cols]` of the file's input layer (150×150).
pub fn dlib_resnet(model: &DlibModel) -> Result<Network, ArchitectureError> {
    let mut b = Builder { layers: &model.layers, next: 0, nodes: Vec::new(), current: 0, wrappers: Vec::new() };
    b.conv(32, 7, 2)?;
    b.simple("affine")?;
    b.simple("relu")?;
    b.pool(true, 3, 2, b.current)?;
    for (filters, down, plain) in STAGES {
        if down {
            b.residual(filters, true)?;
        }
        for _ in 0..plain {
            b.residual(filters, false)?;
        }
    }
    b.pool(false, 0, 1, b.current)?;
    match model.layers.get(b.next) {
        Some(Layer::Fc(fc)) if fc.inputs == 256 && fc.outputs == EMBEDDING_DIM => {
            b.push(Op::Fc(fc.clone()), b.current);
        }
        _ => return Err(b.fail(format!("fc 256->{EMBEDDING_DIM}"))),
    }
    if b.next != model.layers.len() {
        return Err(ArchitectureError {
            index: b.next,
            expected: "end of network".into(),
            found: format!("{} more layers", model.layers.len() - b.next),
        });
    }
    // The innermost layer (the first conv) is not in the prefix; the rest is outermost first.
    let mut expected: Vec<Wrapper> = b.wrappers[1..].to_vec();
    expected.reverse();
    if model.structure != expected {
        return Err(ArchitectureError {
            index: 0,
            expected: format!("{} wrappers with tags at the residual blocks", expected.len()),
            found: format!("{} wrappers in another arrangement", model.structure.len()),
        });
    }
    let network = Network { input: [3, model.input.rows, model.input.cols], nodes: b.nodes };
    let shape = network.output_shape().map_err(|e| ArchitectureError {
        index: e.node,
        expected: "consistent shapes".into(),
        found: e.reason,
    })?;
    if shape != [EMBEDDING_DIM, 1, 1] {
        return Err(ArchitectureError {
            index: LAYER_COUNT,
            expected: "128-D output".into(),
            found: format!("{shape:?}"),
        });
    }
    Ok(network)
}
