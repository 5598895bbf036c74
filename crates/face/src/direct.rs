//! The network run on `trustcap-conv`'s direct convolution kernels instead of tract: the fast
//! engine on CPUs with AVX-512 or AVX2 and FMA.
//!
//! Values are interleaved (`[row][col][channel]`), the layout the tile kernel reads. The
//! network's affine layers are folded into the convolutions first ([`Network::fold_affine`]),
//! a ReLU whose only input is a convolution or an add (and that value's only reader) runs
//! inside it, and so does an add of a convolution's output (its only reader) and a value of the
//! same rows and columns: dlib's ResNet runs as 29 convolutions (10 adding a skip connection),
//! 4 adds, 6 pools and a fully connected layer. Every value stays allocated between runs
//! ([`DirectNet::run`] reuses them).
//!
//! [`crate::graph`] (tract) stays the engine elsewhere and the second opinion here: the tests
//! check both against [`crate::reference`].

use std::sync::Mutex;

use trustcap_conv::{Backend, Conv2d, ConvError, ConvSpec, Residual, Workspace};

use crate::dlib::model::{Fc, Pool};
use crate::network::{Network, Op, ShapeError};

/// Why the direct engine cannot load or run a network.
#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    /// The network does not fit together.
    #[error(transparent)]
    Shape(#[from] ShapeError),
    /// A convolution was rejected.
    #[error("node {node}: {source}")]
    Conv {
        /// Node index.
        node: usize,
        /// The cause.
        source: ConvError,
    },
    /// The input has the wrong length.
    #[error("input has {got} values, expected {expected}")]
    Input {
        /// Values given.
        got: usize,
        /// Values expected.
        expected: usize,
    },
}

/// Each node's label and time, from [`DirectNet::run_timed`].
pub type NodeTimes = Vec<(String, f64)>;

/// A clock and where to put each node's time.
type Timing<'a> = Option<(&'a mut dyn FnMut() -> f64, &'a mut Vec<f64>)>;

/// One node, ready to run.
#[derive(Debug)]
enum Step {
    Conv {
        conv: Box<Conv2d>,
        /// A value the convolution adds to its sums (before the ReLU): the add node after it.
        residual: Option<usize>,
        relu: bool,
    },
    /// A ReLU or an add (named) already applied by the node before it: takes over that node's
    /// buffer.
    Fused(&'static str),
    Affine {
        gamma: Vec<f32>,
        beta: Vec<f32>,
    },
    Relu,
    MaxPool(Pool),
    AvgPool(Pool),
    Add {
        other: usize,
        relu: bool,
    },
    Fc(Fc),
}

/// The values of one run and the convolution workspace, kept between runs.
#[derive(Debug, Default)]
struct State {
    values: Vec<Vec<f32>>,
    workspace: Workspace,
}

/// A network prepared for the direct engine.
#[derive(Debug)]
pub struct DirectNet {
    input: [usize; 3],
    /// Node `i` reads value `inputs[i]` (and an add also its `other`); writes value `i + 1`.
    inputs: Vec<usize>,
    steps: Vec<Step>,
    shapes: Vec<[usize; 3]>,
    state: Mutex<State>,
}

impl DirectNet {
    /// Prepares `network` for `backend` (see [`Backend::detect`]; an unsupported backend falls
    /// back to the portable kernel, which is much slower than tract: use it for tests).
    pub fn new(network: &Network, backend: Backend) -> Result<Self, DirectError> {
        let network = network.fold_affine();
        let shapes = network.shapes()?;
        let readers = |value: usize| {
            network
                .nodes
                .iter()
                .filter(|n| n.input == value || matches!(n.op, Op::Add { other } if other == value))
                .count()
        };
        // fused[i]: node i is a ReLU that node i − 1 applies.
        let fused: Vec<bool> = (0..network.nodes.len())
            .map(|i| {
                i > 0
                    && network.nodes[i].op == Op::Relu
                    && network.nodes[i].input == i
                    && readers(i) == 1
                    && matches!(network.nodes[i - 1].op, Op::Conv(_) | Op::Add { .. })
            })
            .collect();
        // adds[i]: node i is an add of node i − 1's output (its only reader, a convolution's)
        // and a value of the same rows and columns and no more channels: the convolution adds
        // it while writing its output ([`Conv2d::run_adding`]), saving a pass over both.
        let adds: Vec<Option<usize>> = (0..network.nodes.len())
            .map(|i| {
                let Op::Add { other } = network.nodes[i].op else { return None };
                let conv = i.checked_sub(1).map(|c| &network.nodes[c].op);
                let ([oc, oh, ow], [sc, sh, sw]) = (shapes[i], shapes[other]);
                (matches!(conv, Some(Op::Conv(_)))
                    && network.nodes[i].input == i
                    && other != i
                    && readers(i) == 1
                    && [oh, ow] == [sh, sw]
                    && (1..=oc).contains(&sc))
                .then_some(other)
            })
            .collect();
        let mut steps = Vec::with_capacity(network.nodes.len());
        for (i, node) in network.nodes.iter().enumerate() {
            let relu_next = fused.get(i + 1).copied().unwrap_or(false);
            let residual = adds.get(i + 1).copied().flatten();
            steps.push(match &node.op {
                Op::Conv(c) => {
                    let spec = ConvSpec {
                        in_channels: c.in_channels,
                        out_channels: c.out_channels,
                        kernel: c.kernel,
                        stride: c.stride,
                        padding: c.padding,
                    };
                    let [_, h, w] = shapes[node.input];
                    let conv = Conv2d::for_input(spec, &c.weights, &c.bias, backend, [h, w])
                        .map_err(|source| DirectError::Conv { node: i, source })?;
                    // With an add fused in, the ReLU after the add is the convolution's too.
                    let relu = if residual.is_some() { fused.get(i + 2).copied().unwrap_or(false) } else { relu_next };
                    Step::Conv { conv: Box::new(conv), residual, relu }
                }
                Op::Add { .. } if adds[i].is_some() => Step::Fused("add"),
                Op::Relu if fused[i] => Step::Fused("relu"),
                Op::Relu => Step::Relu,
                Op::Affine { gamma, beta } => Step::Affine { gamma: gamma.clone(), beta: beta.clone() },
                Op::MaxPool(p) => Step::MaxPool(*p),
                Op::AvgPool(p) => Step::AvgPool(*p),
                Op::Add { other } => Step::Add { other: *other, relu: relu_next },
                Op::Fc(fc) => Step::Fc(fc.clone()),
            });
        }
        Ok(DirectNet {
            input: network.input,
            inputs: network.nodes.iter().map(|n| n.input).collect(),
            steps,
            shapes,
            state: Mutex::new(State::default()),
        })
    }

    /// Input shape `[C, H, W]`.
    pub fn input_shape(&self) -> [usize; 3] {
        self.input
    }

    /// The backend of the first convolution (all share it).
    pub fn backend(&self) -> Backend {
        self.steps
            .iter()
            .find_map(|s| match s {
                Step::Conv { conv, .. } => Some(conv.backend()),
                _ => None,
            })
            .unwrap_or(Backend::Portable)
    }

    /// Runs on planar `[C][H][W]` values (like [`crate::graph::Compiled::run`]); returns the
    /// output flattened in planar order.
    pub fn run(&self, input: &[f32]) -> Result<Vec<f32>, DirectError> {
        self.run_inner(input, None)
    }

    /// [`DirectNet::run`], also reading `clock` (milliseconds) around every node: returns each
    /// node's label (operation and output shape) and time. For profiles.
    pub fn run_timed(
        &self,
        input: &[f32],
        clock: &mut dyn FnMut() -> f64,
    ) -> Result<(Vec<f32>, NodeTimes), DirectError> {
        let mut times = Vec::with_capacity(self.steps.len());
        let out = self.run_inner(input, Some((clock, &mut times)))?;
        let labelled = times.into_iter().enumerate().map(|(i, ms)| (self.label(i), ms)).collect();
        Ok((out, labelled))
    }

    fn label(&self, i: usize) -> String {
        let [c, h, w] = self.shapes[i + 1];
        let what = match &self.steps[i] {
            Step::Conv { conv, residual, relu } => {
                let s = conv.spec();
                format!(
                    "conv {}x{} s{} {}->{}{}{}",
                    s.kernel[0],
                    s.kernel[1],
                    s.stride[0],
                    s.in_channels,
                    s.out_channels,
                    if residual.is_some() { " +add" } else { "" },
                    if *relu { " +relu" } else { "" }
                )
            }
            Step::Fused(what) => format!("{what} (fused)"),
            Step::Affine { .. } => "affine".into(),
            Step::Relu => "relu".into(),
            Step::MaxPool(_) => "max_pool".into(),
            Step::AvgPool(_) => "avg_pool".into(),
            Step::Add { relu, .. } => format!("add{}", if *relu { " +relu" } else { "" }),
            Step::Fc(_) => "fc".into(),
        };
        format!("{what} -> {c}x{h}x{w}")
    }

    fn run_inner(&self, input: &[f32], mut timing: Timing<'_>) -> Result<Vec<f32>, DirectError> {
        let [c, h, w] = self.input;
        if input.len() != c * h * w {
            return Err(DirectError::Input { got: input.len(), expected: c * h * w });
        }
        // A concurrent caller gets fresh buffers rather than waiting.
        let mut fresh = State::default();
        let mut guard = self.state.try_lock().ok();
        let state = match guard.as_deref_mut() {
            Some(s) => s,
            None => &mut fresh,
        };
        state.values.resize_with(self.steps.len() + 1, Vec::new);
        interleave(input, self.input, &mut state.values[0]);
        for (i, step) in self.steps.iter().enumerate() {
            match timing.as_mut() {
                Some((clock, times)) => {
                    let start = clock();
                    self.run_step(i, step, state)?;
                    times.push(clock() - start);
                }
                None => self.run_step(i, step, state)?,
            }
        }
        let last = state.values.last().map(Vec::as_slice).unwrap_or_default();
        Ok(planar(last, *self.shapes.last().unwrap_or(&self.input)))
    }

    fn run_step(&self, i: usize, step: &Step, state: &mut State) -> Result<(), DirectError> {
        let from = self.inputs[i];
        let [ic, ih, iw] = self.shapes[from];
        let out_shape = self.shapes[i + 1];
        // Values before i + 1 are read; value i + 1 is written.
        let (done, rest) = state.values.split_at_mut(i + 1);
        let out = &mut rest[0];
        let x = &done[from];
        match step {
            Step::Conv { conv, residual, relu } => {
                let residual = residual.map(|r| Residual { values: &done[r], channels: self.shapes[r][0] });
                conv.run_adding(x, [ih, iw], residual, *relu, &mut state.workspace, out)
                    .map_err(|source| DirectError::Conv { node: i, source })?;
            }
            // The fused node's input (the node before it) has no other reader: swap buffers
            // instead of copying.
            Step::Fused(_) => std::mem::swap(out, &mut done[from]),
            Step::Relu => {
                out.clear();
                out.extend(x.iter().map(|v| v.max(0.0)));
            }
            Step::Affine { gamma, beta } => {
                out.clear();
                out.extend(
                    x.chunks_exact(ic)
                        .flat_map(|px| px.iter().zip(gamma.iter().zip(beta)).map(|(v, (g, b))| g * v + b)),
                );
            }
            Step::MaxPool(p) | Step::AvgPool(p) => {
                pool(x, [ic, ih, iw], *p, matches!(step, Step::MaxPool(_)), out_shape, out);
            }
            Step::Add { other, relu } => {
                add(x, [ic, ih, iw], &done[*other], self.shapes[*other], out_shape, out);
                if *relu {
                    out.iter_mut().for_each(|v| *v = v.max(0.0));
                }
            }
            Step::Fc(fc) => fully_connected(x, [ic, ih, iw], fc, out),
        }
        Ok(())
    }
}

/// Planar `[C][H][W]` → interleaved `[H][W][C]`.
fn interleave(planar: &[f32], [c, h, w]: [usize; 3], out: &mut Vec<f32>) {
    out.clear();
    out.resize(c * h * w, 0.0);
    for (ch, plane) in planar.chunks_exact(h * w).enumerate() {
        for (px, v) in plane.iter().enumerate() {
            out[px * c + ch] = *v;
        }
    }
}

/// Interleaved `[H][W][C]` → planar `[C][H][W]`.
fn planar(interleaved: &[f32], [c, h, w]: [usize; 3]) -> Vec<f32> {
    let mut out = vec![0.0; c * h * w];
    for (px, values) in interleaved.chunks_exact(c.max(1)).enumerate() {
        for (ch, v) in values.iter().enumerate() {
            out[ch * h * w + px] = *v;
        }
    }
    out
}

/// Max or average pooling without padding; a 0×0 window pools the whole plane.
fn pool(x: &[f32], [c, h, w]: [usize; 3], p: Pool, max: bool, [_, oh, ow]: [usize; 3], out: &mut Vec<f32>) {
    let ([wh, ww], [sy, sx]) = if p.is_global() { ([h, w], [1, 1]) } else { (p.window, p.stride) };
    out.clear();
    out.resize(oh * ow * c, if max { f32::NEG_INFINITY } else { 0.0 });
    let scale = 1.0 / (wh * ww).max(1) as f32;
    for y in 0..oh {
        for xo in 0..ow {
            let acc = &mut out[(y * ow + xo) * c..][..c];
            for ky in 0..wh {
                let row = (y * sy + ky) * w;
                for kx in 0..ww {
                    let px = &x[(row + xo * sx + kx) * c..][..c];
                    if max {
                        // `if` rather than `f32::max`: compiles to one vector max (no NaN fix-up).
                        acc.iter_mut().zip(px).for_each(|(a, v)| *a = if *v > *a { *v } else { *a });
                    } else {
                        acc.iter_mut().zip(px).for_each(|(a, v)| *a += v);
                    }
                }
            }
            if !max {
                acc.iter_mut().for_each(|a| *a *= scale);
            }
        }
    }
}

/// `a + b` where the smaller operand is zero-padded at the end of C, H and W.
fn add(a: &[f32], sa: [usize; 3], b: &[f32], sb: [usize; 3], [c, h, w]: [usize; 3], out: &mut Vec<f32>) {
    out.clear();
    if sa == sb {
        out.extend(a.iter().zip(b).map(|(x, y)| x + y));
        return;
    }
    out.resize(c * h * w, 0.0);
    for (values, [vc, vh, vw]) in [(a, sa), (b, sb)] {
        for y in 0..vh {
            for x in 0..vw {
                let src = &values[(y * vw + x) * vc..][..vc];
                let dst = &mut out[(y * w + x) * c..][..vc];
                dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
            }
        }
    }
}

/// Flattens in planar order (as the network defines it), then `x W + b`.
fn fully_connected(x: &[f32], [c, h, w]: [usize; 3], fc: &Fc, out: &mut Vec<f32>) {
    out.clear();
    match &fc.bias {
        Some(b) => out.extend_from_slice(b),
        None => out.resize(fc.outputs, 0.0),
    }
    for (px, values) in x.chunks_exact(c.max(1)).enumerate() {
        for (ch, v) in values.iter().enumerate() {
            let k = ch * h * w + px;
            let row = &fc.weights[k * fc.outputs..][..fc.outputs];
            out.iter_mut().zip(row).for_each(|(o, wv)| *o += v * wv);
        }
    }
}
