//! A plain, slow forward pass over a [`Network`], written for clarity: the oracle that the
//! tract graph ([`crate::graph`]) is checked against. Values are planar `[C][H][W]` f32 with
//! f64 accumulation.

use crate::network::{Network, Op, ShapeError};

/// A planar tensor `[channels, rows, cols]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Planar {
    /// Shape.
    pub shape: [usize; 3],
    /// `C × H × W` values.
    pub data: Vec<f32>,
}

impl Planar {
    fn zeros(shape: [usize; 3]) -> Self {
        Planar { shape, data: vec![0.0; shape[0] * shape[1] * shape[2]] }
    }

    fn at(&self, c: usize, y: usize, x: usize) -> f32 {
        self.data[(c * self.shape[1] + y) * self.shape[2] + x]
    }
}

/// Runs the network on `input` (`[C][H][W]` values of the network's input shape).
pub fn forward(network: &Network, input: &[f32]) -> Result<Vec<f32>, ShapeError> {
    let shapes = network.shapes()?;
    let [c, h, w] = network.input;
    if input.len() != c * h * w {
        return Err(ShapeError {
            node: 0,
            reason: format!("input has {} values, expected {}", input.len(), c * h * w),
        });
    }
    let mut values = vec![Planar { shape: network.input, data: input.to_vec() }];
    for (i, node) in network.nodes.iter().enumerate() {
        let x = &values[node.input];
        let out_shape = shapes[i + 1];
        let [ic, ih, iw] = x.shape;
        let mut out = Planar::zeros(out_shape);
        let [oc, oh, ow] = out_shape;
        match &node.op {
            Op::Conv(conv) => {
                let [kh, kw] = conv.kernel;
                let [sy, sx] = conv.stride;
                let [py, px] = conv.padding;
                for o in 0..oc {
                    for y in 0..oh {
                        for xo in 0..ow {
                            let mut acc = f64::from(conv.bias[o]);
                            for ci in 0..ic {
                                for ky in 0..kh {
                                    let Some(iy) = (y * sy + ky).checked_sub(py).filter(|&v| v < ih) else { continue };
                                    for kx in 0..kw {
                                        let Some(ix) = (xo * sx + kx).checked_sub(px).filter(|&v| v < iw) else {
                                            continue;
                                        };
                                        let wv = conv.weights[((o * ic + ci) * kh + ky) * kw + kx];
                                        acc += f64::from(wv) * f64::from(x.at(ci, iy, ix));
                                    }
                                }
                            }
                            out.data[(o * oh + y) * ow + xo] = acc as f32;
                        }
                    }
                }
            }
            Op::Affine { gamma, beta } => {
                for (idx, v) in out.data.iter_mut().enumerate() {
                    let ch = idx / (ih * iw);
                    *v = gamma[ch] * x.data[idx] + beta[ch];
                }
            }
            Op::Relu => {
                for (o, v) in out.data.iter_mut().zip(&x.data) {
                    *o = v.max(0.0);
                }
            }
            Op::MaxPool(p) | Op::AvgPool(p) => {
                let is_max = matches!(node.op, Op::MaxPool(_));
                let ([wh, ww], [sy, sx]) = if p.is_global() { ([ih, iw], [1, 1]) } else { (p.window, p.stride) };
                for ch in 0..oc {
                    for y in 0..oh {
                        for xo in 0..ow {
                            let mut max = f32::NEG_INFINITY;
                            let mut sum = 0f64;
                            for ky in 0..wh {
                                for kx in 0..ww {
                                    let v = x.at(ch, y * sy + ky, xo * sx + kx);
                                    max = max.max(v);
                                    sum += f64::from(v);
                                }
                            }
                            out.data[(ch * oh + y) * ow + xo] =
                                if is_max { max } else { (sum / (wh * ww) as f64) as f32 };
                        }
                    }
                }
            }
            Op::Add { other } => {
                for operand in [x, &values[*other]] {
                    let [c2, h2, w2] = operand.shape;
                    for ch in 0..c2 {
                        for y in 0..h2 {
                            for xo in 0..w2 {
                                out.data[(ch * oh + y) * ow + xo] += operand.at(ch, y, xo);
                            }
                        }
                    }
                }
            }
            Op::Fc(fc) => {
                for (o, v) in out.data.iter_mut().enumerate() {
                    let mut acc = fc.bias.as_ref().map_or(0.0, |b| f64::from(b[o]));
                    for (k, xv) in x.data.iter().enumerate() {
                        acc += f64::from(*xv) * f64::from(fc.weights[k * fc.outputs + o]);
                    }
                    *v = acc as f32;
                }
            }
        }
        values.push(out);
    }
    Ok(values.pop().map(|p| p.data).unwrap_or_default())
}
