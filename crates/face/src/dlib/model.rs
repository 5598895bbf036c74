//! The layers of a dlib DNN file (`net_type` serialized with `dlib::serialize`).
//!
//! The file is a prefix of version integers (one per wrapper, outermost first: `1` for the
//! loss layer, `2` for an ordinary layer, `1` for a tag or skip layer, `3` for the innermost
//! layer), the loss settings right after the loss's `1`, then the input layer and every layer's
//! data innermost first, i.e. in execution order. Tags and skips store nothing after the prefix,
//! so connections are not in the file: [`crate::architecture`] checks the layer kinds against
//! the known network.

use super::serialize::{DecodeError, Reader, Tensor};

/// Upper bound on layers in a file (the face model has 131 wrappers).
pub const MAX_LAYERS: usize = 4096;
/// Upper bound on any layer dimension (filters, kernel size, stride, padding, fc width).
pub const MAX_DIM: usize = 1 << 16;

/// Why a dlib model could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// A low-level decoding error.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A layer this reader does not know.
    #[error("unsupported layer {name:?} at byte {offset}")]
    UnknownLayer {
        /// The layer's serialized name.
        name: String,
        /// Byte offset of the name.
        offset: usize,
    },
    /// A wrapper version other than 1, 2 or 3, or too many wrappers.
    #[error("unexpected network structure at byte {offset}: {reason}")]
    Structure {
        /// Byte offset.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
    /// A layer's parameters disagree with its declared shapes.
    #[error("layer {index} ({kind}): {reason}")]
    Layer {
        /// Layer index in execution order.
        index: usize,
        /// Layer kind.
        kind: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// Bytes were left after the last layer.
    #[error("{0} trailing bytes after the network")]
    Trailing(usize),
}

/// Window, stride and padding of a pooling layer; a 0×0 window pools the whole input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// Window rows and columns.
    pub window: [usize; 2],
    /// Stride y and x.
    pub stride: [usize; 2],
    /// Padding y and x.
    pub padding: [usize; 2],
}

impl Pool {
    /// Whether the window covers the whole input.
    pub fn is_global(&self) -> bool {
        self.window == [0, 0]
    }
}

/// A 2-D convolution (cross-correlation) with bias.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv {
    /// Output channels.
    pub out_channels: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Kernel rows and columns.
    pub kernel: [usize; 2],
    /// Stride y and x.
    pub stride: [usize; 2],
    /// Padding y and x (both sides).
    pub padding: [usize; 2],
    /// Filters, `out × in × kh × kw` (OIHW).
    pub weights: Vec<f32>,
    /// One bias per output channel.
    pub bias: Vec<f32>,
}

/// A fully connected layer: `out = x W (+ b)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fc {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// `inputs × outputs`, row-major.
    pub weights: Vec<f32>,
    /// Bias (`outputs` values) or none.
    pub bias: Option<Vec<f32>>,
}

/// One layer with data, in execution order.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// `con_4`.
    Conv(Conv),
    /// `affine_`, per channel: `y = gamma × x + beta`.
    Affine {
        /// Scale per channel.
        gamma: Vec<f32>,
        /// Offset per channel.
        beta: Vec<f32>,
    },
    /// `relu_`.
    Relu,
    /// `add_prev_`: adds the output of the most recent tag (connections are implied).
    AddPrev,
    /// `max_pool_2`.
    MaxPool(Pool),
    /// `avg_pool_2`.
    AvgPool(Pool),
    /// `fc_2`.
    Fc(Fc),
}

impl Layer {
    /// Short kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Conv(_) => "conv",
            Layer::Affine { .. } => "affine",
            Layer::Relu => "relu",
            Layer::AddPrev => "add_prev",
            Layer::MaxPool(_) => "max_pool",
            Layer::AvgPool(_) => "avg_pool",
            Layer::Fc(_) => "fc",
        }
    }

    /// Number of learned values.
    pub fn parameter_count(&self) -> usize {
        match self {
            Layer::Conv(c) => c.weights.len() + c.bias.len(),
            Layer::Affine { gamma, beta } => gamma.len() + beta.len(),
            Layer::Fc(f) => f.weights.len() + f.bias.as_ref().map_or(0, Vec::len),
            _ => 0,
        }
    }
}

/// One wrapper of the file's prefix, outermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapper {
    /// A layer with data (`add_layer`, version 2).
    Layer,
    /// A tag or skip layer (version 1).
    TagOrSkip,
}

/// The input layer `input_rgb_image_sized`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputLayer {
    /// Mean of R, G, B subtracted from each pixel.
    pub mean: [f32; 3],
    /// Image rows.
    pub rows: usize,
    /// Image columns.
    pub cols: usize,
}

/// A parsed dlib metric-learning network.
#[derive(Debug, Clone, PartialEq)]
pub struct DlibModel {
    /// `loss_metric_2` margin.
    pub margin: f64,
    /// `loss_metric_2` distance threshold (dlib's same-person threshold, 0.6).
    pub distance_threshold: f64,
    /// The input layer.
    pub input: InputLayer,
    /// Wrappers below the loss layer, outermost first, excluding the innermost layer.
    pub structure: Vec<Wrapper>,
    /// Layers with data, in execution order.
    pub layers: Vec<Layer>,
}

impl DlibModel {
    /// Total learned values.
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(Layer::parameter_count).sum()
    }

    /// Parses a whole file; every byte must be consumed.
    pub fn parse(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = Reader::new(bytes);
        let offset = r.offset();
        if r.i64()? != 1 {
            return Err(ModelError::Structure { offset, reason: "expected a loss layer (version 1)".into() });
        }
        let offset = r.offset();
        let name = r.string()?;
        if name != "loss_metric_2" {
            return Err(ModelError::UnknownLayer { name: name.into(), offset });
        }
        let margin = r.float()?;
        let distance_threshold = r.float()?;

        let mut structure = Vec::new();
        loop {
            let offset = r.offset();
            match r.i64()? {
                1 => structure.push(Wrapper::TagOrSkip),
                2 => structure.push(Wrapper::Layer),
                3 => break,
                v => return Err(ModelError::Structure { offset, reason: format!("wrapper version {v}") }),
            }
            if structure.len() > MAX_LAYERS {
                return Err(ModelError::Structure { offset, reason: "too many layers".into() });
            }
        }

        let input = read_input(&mut r)?;
        let mut layers = Vec::new();
        layers.push(read_layer(&mut r, 0)?);
        read_layer_state(&mut r)?;
        r.u64()?; // sample_expansion_factor
        let data_layers = structure.iter().filter(|w| **w == Wrapper::Layer).count();
        for index in 1..=data_layers {
            layers.push(read_layer(&mut r, index)?);
            read_layer_state(&mut r)?;
        }
        if r.remaining() != 0 {
            return Err(ModelError::Trailing(r.remaining()));
        }
        Ok(DlibModel { margin, distance_threshold, input, structure, layers })
    }
}

fn read_input(r: &mut Reader<'_>) -> Result<InputLayer, ModelError> {
    let offset = r.offset();
    let name = r.string()?;
    if name != "input_rgb_image_sized" {
        return Err(ModelError::UnknownLayer { name: name.into(), offset });
    }
    let mut mean = [0f32; 3];
    for m in &mut mean {
        *m = r.float()? as f32;
    }
    let rows = r.count(MAX_DIM, "input rows")?;
    let cols = r.count(MAX_DIM, "input columns")?;
    Ok(InputLayer { mean, rows, cols })
}

/// The state dlib stores after every layer's data: three bools and three (training) tensors.
fn read_layer_state(r: &mut Reader<'_>) -> Result<(), ModelError> {
    for _ in 0..3 {
        r.bool()?;
    }
    for _ in 0..3 {
        r.tensor()?;
    }
    Ok(())
}

fn dims(r: &mut Reader<'_>, what: &'static str) -> Result<usize, ModelError> {
    Ok(r.count(MAX_DIM, what)?)
}

fn pair(r: &mut Reader<'_>, what: &'static str) -> Result<[usize; 2], ModelError> {
    Ok([dims(r, what)?, dims(r, what)?])
}

fn read_layer(r: &mut Reader<'_>, index: usize) -> Result<Layer, ModelError> {
    let offset = r.offset();
    let name = r.string()?;
    let bad = |kind: &'static str, reason: String| ModelError::Layer { index, kind, reason };
    match name {
        "con_4" => {
            let params = r.tensor()?;
            let out_channels = dims(r, "filters")?;
            let kernel = pair(r, "kernel")?;
            let stride = pair(r, "stride")?;
            let padding = pair(r, "padding")?;
            let filter_shape = r.shape()?;
            let bias_shape = r.shape()?;
            for _ in 0..4 {
                r.float()?;
            }
            let [o, in_channels, kh, kw] = filter_shape;
            if o != out_channels || [kh, kw] != kernel || bias_shape != [1, o, 1, 1] {
                return Err(bad("conv", format!("shapes {filter_shape:?} / {bias_shape:?} disagree")));
            }
            if stride.contains(&0) || kernel.contains(&0) || in_channels == 0 {
                return Err(bad("conv", "zero kernel, stride or channels".into()));
            }
            let n_weights = [in_channels, kh, kw].iter().try_fold(o, |acc, &d| acc.checked_mul(d));
            let Some(n_weights) = n_weights.filter(|n| n.checked_add(o) == Some(params.data.len())) else {
                return Err(bad("conv", format!("{} values for filters {filter_shape:?}", params.data.len())));
            };
            let Tensor { mut data, .. } = params;
            let bias = data.split_off(n_weights);
            Ok(Layer::Conv(Conv { out_channels, in_channels, kernel, stride, padding, weights: data, bias }))
        }
        "affine_" => {
            let params = r.tensor()?;
            let gamma_shape = r.shape()?;
            let beta_shape = r.shape()?;
            let mode = r.i64()?;
            let channels = gamma_shape[1];
            if mode != 0 || gamma_shape != [1, channels, 1, 1] || beta_shape != gamma_shape {
                return Err(bad("affine", format!("mode {mode}, shapes {gamma_shape:?} / {beta_shape:?}")));
            }
            if params.data.len() != 2 * channels {
                return Err(bad("affine", format!("{} values for {channels} channels", params.data.len())));
            }
            let Tensor { data: mut gamma, .. } = params;
            let beta = gamma.split_off(channels);
            Ok(Layer::Affine { gamma, beta })
        }
        "relu_" => Ok(Layer::Relu),
        "add_prev_" => Ok(Layer::AddPrev),
        "max_pool_2" | "avg_pool_2" => {
            let window = pair(r, "pool window")?;
            let stride = pair(r, "pool stride")?;
            let padding = pair(r, "pool padding")?;
            if stride.contains(&0) {
                return Err(bad("pool", "zero stride".into()));
            }
            let pool = Pool { window, stride, padding };
            Ok(if name == "max_pool_2" { Layer::MaxPool(pool) } else { Layer::AvgPool(pool) })
        }
        "fc_2" => {
            let outputs = dims(r, "fc outputs")?;
            let inputs = dims(r, "fc inputs")?;
            let params = r.tensor()?;
            let _w_shape = r.shape()?;
            let _b_shape = r.shape()?;
            let bias_mode = r.i64()?;
            for _ in 0..4 {
                r.float()?;
            }
            let n = inputs.saturating_mul(outputs);
            let Tensor { mut data, .. } = params;
            let bias = match bias_mode {
                // FC_HAS_BIAS: an extra row of biases after W.
                0 if data.len() == n + outputs => Some(data.split_off(n)),
                1 if data.len() == n => None,
                _ => {
                    return Err(bad(
                        "fc",
                        format!("bias mode {bias_mode}, {} values for {inputs}x{outputs}", data.len()),
                    ));
                }
            };
            Ok(Layer::Fc(Fc { inputs, outputs, weights: data, bias }))
        }
        other => Err(ModelError::UnknownLayer { name: other.into(), offset }),
    }
}

/// Writers for small dlib-format network files (tests and fuzz seeds).
pub mod write {
    use super::super::serialize::write::{bool, float, int, shape, string, tensor};
    use super::{Conv, Fc, InputLayer, Layer, Wrapper};

    fn layer(out: &mut Vec<u8>, layer: &Layer) {
        match layer {
            Layer::Conv(c) => {
                string(out, "con_4");
                let mut params = c.weights.clone();
                params.extend_from_slice(&c.bias);
                tensor(out, [params.len(), 1, 1, 1], &params);
                let Conv { out_channels, in_channels, kernel, stride, padding, .. } = c;
                for v in [*out_channels, kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1]] {
                    int(out, v as i64);
                }
                shape(out, [*out_channels, *in_channels, kernel[0], kernel[1]]);
                shape(out, [1, *out_channels, 1, 1]);
                for v in [1.0, 1.0, 1.0, 0.0] {
                    float(out, v);
                }
            }
            Layer::Affine { gamma, beta } => {
                string(out, "affine_");
                let mut params = gamma.clone();
                params.extend_from_slice(beta);
                tensor(out, [params.len(), 1, 1, 1], &params);
                shape(out, [1, gamma.len(), 1, 1]);
                shape(out, [1, gamma.len(), 1, 1]);
                int(out, 0);
            }
            Layer::Relu => string(out, "relu_"),
            Layer::AddPrev => string(out, "add_prev_"),
            Layer::MaxPool(p) | Layer::AvgPool(p) => {
                string(out, if matches!(layer, Layer::MaxPool(_)) { "max_pool_2" } else { "avg_pool_2" });
                for v in [p.window[0], p.window[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1]] {
                    int(out, v as i64);
                }
            }
            Layer::Fc(Fc { inputs, outputs, weights, bias }) => {
                string(out, "fc_2");
                int(out, *outputs as i64);
                int(out, *inputs as i64);
                let mut params = weights.clone();
                params.extend(bias.iter().flatten());
                tensor(out, [params.len(), 1, 1, 1], &params);
                shape(out, [*inputs, *outputs, 1, 1]);
                shape(out, [1, *outputs, 1, 1]);
                int(out, if bias.is_some() { 0 } else { 1 });
                for v in [1.0, 1.0, 1.0, 0.0] {
                    float(out, v);
                }
            }
        }
    }

    fn state(out: &mut Vec<u8>) {
        for _ in 0..3 {
            bool(out, false);
        }
        for _ in 0..3 {
            tensor(out, [0, 0, 0, 0], &[]);
        }
    }

    /// Serializes a network: `structure` lists the wrappers below the loss layer (outermost
    /// first, without the innermost layer); `layers` are in execution order and their count
    /// must be one more than the [`Wrapper::Layer`] entries.
    pub fn network(input: &InputLayer, structure: &[Wrapper], layers: &[Layer]) -> Vec<u8> {
        let mut out = Vec::new();
        int(&mut out, 1);
        string(&mut out, "loss_metric_2");
        float(&mut out, 0.04);
        float(&mut out, 0.6);
        for w in structure {
            int(&mut out, if *w == Wrapper::Layer { 2 } else { 1 });
        }
        int(&mut out, 3);
        string(&mut out, "input_rgb_image_sized");
        for m in input.mean {
            float(&mut out, f64::from(m));
        }
        int(&mut out, input.rows as i64);
        int(&mut out, input.cols as i64);
        for (i, l) in layers.iter().enumerate() {
            layer(&mut out, l);
            state(&mut out);
            if i == 0 {
                int(&mut out, 1);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_layers() -> Vec<Layer> {
        vec![
            Layer::Conv(Conv {
                out_channels: 2,
                in_channels: 3,
                kernel: [3, 3],
                stride: [2, 2],
                padding: [0, 0],
                weights: (0..54).map(|i| i as f32 * 0.01).collect(),
                bias: vec![0.5, -0.5],
            }),
            Layer::Affine { gamma: vec![1.5, 2.0], beta: vec![0.25, -1.0] },
            Layer::Relu,
            Layer::MaxPool(Pool { window: [2, 2], stride: [2, 2], padding: [0, 0] }),
            Layer::AddPrev,
            Layer::AvgPool(Pool { window: [0, 0], stride: [1, 1], padding: [0, 0] }),
            Layer::Fc(Fc { inputs: 2, outputs: 3, weights: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], bias: None }),
            Layer::Fc(Fc { inputs: 3, outputs: 1, weights: vec![1.0, 1.0, 1.0], bias: Some(vec![0.5]) }),
        ]
    }

    fn structure() -> Vec<Wrapper> {
        let mut s = vec![Wrapper::Layer; 7];
        s.insert(3, Wrapper::TagOrSkip);
        s
    }

    #[test]
    fn round_trip_of_a_small_network_file() {
        let input = InputLayer { mean: [122.5, 117.0, 104.25], rows: 8, cols: 8 };
        let bytes = write::network(&input, &structure(), &small_layers());
        let model = DlibModel::parse(&bytes).unwrap();
        assert_eq!(model.input, input);
        assert_eq!(model.structure, structure());
        assert_eq!(model.layers, small_layers());
        assert!((model.margin - 0.04).abs() < 1e-9 && (model.distance_threshold - 0.6).abs() < 1e-9);
        assert_eq!(model.parameter_count(), 54 + 2 + 4 + 6 + 4);
    }

    #[test]
    fn every_truncation_and_extra_byte_is_an_error() {
        let input = InputLayer { mean: [1.0, 2.0, 3.0], rows: 8, cols: 8 };
        let bytes = write::network(&input, &structure(), &small_layers());
        for len in 0..bytes.len() {
            assert!(DlibModel::parse(&bytes[..len]).is_err(), "prefix of {len} bytes parsed");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(DlibModel::parse(&longer), Err(ModelError::Trailing(1)));
    }

    proptest::proptest! {
        /// Corrupting any bytes of a valid file gives an error or a model, never a panic.
        #[test]
        fn corrupted_files_never_panic(edits in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 1..8)) {
            let input = InputLayer { mean: [1.0, 2.0, 3.0], rows: 8, cols: 8 };
            let mut bytes = write::network(&input, &structure(), &small_layers());
            for (at, value) in edits {
                let len = bytes.len();
                bytes[at % len] = value;
            }
            let _ = DlibModel::parse(&bytes);
        }
    }

    #[test]
    fn inconsistent_shapes_and_unknown_layers_are_rejected() {
        let input = InputLayer { mean: [0.0; 3], rows: 8, cols: 8 };
        let mut layers = small_layers();
        if let Layer::Conv(c) = &mut layers[0] {
            c.weights.pop();
        }
        let bytes = write::network(&input, &structure(), &layers);
        assert!(matches!(DlibModel::parse(&bytes), Err(ModelError::Layer { index: 0, .. })));

        let good = write::network(&input, &structure(), &small_layers());
        let patched: Vec<u8> = good
            .windows(5)
            .position(|w| w == b"relu_")
            .map(|p| {
                let mut b = good.clone();
                b[p + 4] = b'9';
                b
            })
            .unwrap();
        assert!(matches!(DlibModel::parse(&patched), Err(ModelError::UnknownLayer { .. })));
    }
}
