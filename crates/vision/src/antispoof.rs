//! A slot for a deployment's own ONNX anti-spoofing model (feature `face`), as one more liveness signal.
//!
//! Passive liveness ([`crate::liveness`]) judges a burst with hand-built signals. A deployment that has a
//! trained presentation-attack classifier (a MiniFASNet-style network, say) declares it in an
//! [`AntiSpoofConfig`]: the file, its input size and tensor layout, colour order, pixel scaling and
//! per-channel mean/std, how much context around the face box the crop takes, and what its output means —
//! the softmax index of the *live* class, or one sigmoid *spoof* score. [`AntiSpoofModel`] loads it with
//! tract, crops and normalises the face of each frame the way the config says, runs the model, and turns the
//! median spoof probability over the frames into a [`Signal`] named [`SIGNAL_NAME`] in the same shape as the
//! built-in signals.
//!
//! The model's own threshold is mapped to an attack likelihood of 0.5 (piecewise linear on both sides), so
//! with the liveness analyser's default threshold (0.5) "the model says spoof" and "the signal decides
//! against the burst" coincide.
//!
//! Every failure is typed ([`AntiSpoofError`]): a config out of range, an unreadable or oversized file,
//! bytes that are not an ONNX model tract accepts, an output that does not fit the declared meaning.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tract_onnx::prelude::*;

use crate::frame::Frame;
use crate::liveness::{FaceBox, Signal};

/// Name of the signal this model produces.
pub const SIGNAL_NAME: &str = "anti_spoof_model";
/// Largest model file accepted.
pub const MAX_MODEL_BYTES: u64 = 256 * 1024 * 1024;
/// Largest input side accepted in a config.
pub const MAX_INPUT_SIDE: u32 = 1024;
/// Most frames of a burst the model is run on (evenly spread over the burst).
pub const MAX_MODEL_FRAMES: usize = 8;

/// Tensor layout of the model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// `[1, 3, H, W]`.
    Nchw,
    /// `[1, H, W, 3]`.
    Nhwc,
}

/// Channel order of the model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColourOrder {
    /// Red, green, blue.
    Rgb,
    /// Blue, green, red (OpenCV-trained models).
    Bgr,
}

/// What the model's output means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OutputMeaning {
    /// A vector of class scores; `live_index` is the live class. With `logits`, softmax is applied first.
    Softmax {
        /// Index of the live class.
        live_index: usize,
        /// The values are logits (apply softmax) rather than probabilities.
        logits: bool,
    },
    /// One value: the spoof score. With `logit`, the sigmoid is applied first.
    SpoofScore {
        /// The value is a logit (apply the sigmoid) rather than a probability.
        logit: bool,
    },
}

/// A deployment's anti-spoofing model, as declared in its configuration (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntiSpoofConfig {
    /// The ONNX file (relative paths are taken from the model folder by [`AntiSpoofModel::load`]).
    pub model_path: PathBuf,
    /// Input width, pixels.
    pub input_width: u32,
    /// Input height, pixels.
    pub input_height: u32,
    /// Input tensor layout.
    pub layout: Layout,
    /// Channel order.
    pub colour_order: ColourOrder,
    /// Pixel values (0..=255) are multiplied by this first (`1/255` for models trained on 0..1).
    pub pixel_scale: f32,
    /// Then this is subtracted, per channel in model channel order.
    pub mean: [f32; 3],
    /// Then the result is divided by this, per channel.
    pub std: [f32; 3],
    /// The crop is a square of side `crop_scale × max(face width, face height)` around the face centre
    /// (pixels outside the frame are black).
    pub crop_scale: f32,
    /// What the output means.
    pub output: OutputMeaning,
    /// Spoof probability at and above which the model calls the face an attack.
    pub threshold: f32,
}

/// Why the model could not be configured, loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum AntiSpoofError {
    /// A configuration value is out of range.
    #[error("anti-spoof config: {0}")]
    Config(&'static str),
    /// The model file could not be read.
    #[error("cannot read anti-spoof model {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The model file is larger than [`MAX_MODEL_BYTES`].
    #[error("anti-spoof model {0} is larger than {MAX_MODEL_BYTES} bytes")]
    TooLarge(PathBuf),
    /// tract refused the model or failed to run it.
    #[error("anti-spoof model: {0}")]
    Model(String),
    /// The output does not fit the declared meaning.
    #[error("anti-spoof model output: {0}")]
    Output(String),
    /// The face box is empty or not finite.
    #[error("anti-spoof: the face box is empty or not finite")]
    BadFaceBox,
}

impl From<TractError> for AntiSpoofError {
    fn from(e: TractError) -> Self {
        AntiSpoofError::Model(format!("{e:#}"))
    }
}

impl AntiSpoofConfig {
    /// Checks every value.
    pub fn validate(&self) -> Result<(), AntiSpoofError> {
        let side = 1..=MAX_INPUT_SIDE;
        if !side.contains(&self.input_width) || !side.contains(&self.input_height) {
            return Err(AntiSpoofError::Config("input size must be 1..=1024 pixels a side"));
        }
        if !(self.pixel_scale.is_finite() && self.pixel_scale > 0.0) {
            return Err(AntiSpoofError::Config("pixel_scale must be finite and positive"));
        }
        if !self.mean.iter().all(|m| m.is_finite()) || !self.std.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(AntiSpoofError::Config("mean must be finite and std finite and positive"));
        }
        if !(self.crop_scale.is_finite() && (0.5..=8.0).contains(&self.crop_scale)) {
            return Err(AntiSpoofError::Config("crop_scale must be within 0.5..=8"));
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(AntiSpoofError::Config("threshold must be strictly between 0 and 1"));
        }
        if let OutputMeaning::Softmax { live_index, .. } = self.output
            && live_index >= 1024
        {
            return Err(AntiSpoofError::Config("live_index is implausibly large"));
        }
        Ok(())
    }

    /// The model's input shape.
    pub fn input_shape(&self) -> [usize; 4] {
        let (w, h) = (self.input_width as usize, self.input_height as usize);
        match self.layout {
            Layout::Nchw => [1, 3, h, w],
            Layout::Nhwc => [1, h, w, 3],
        }
    }

    /// The model's spoof probability as an attack likelihood: `threshold` maps to 0.5, 0 to 0 and 1 to 1,
    /// linearly on either side.
    pub fn attack_likelihood(&self, spoof: f32) -> f64 {
        let (p, t) = (f64::from(spoof.clamp(0.0, 1.0)), f64::from(self.threshold));
        if p.is_nan() {
            return 1.0;
        }
        if p < t { 0.5 * p / t } else { 0.5 + 0.5 * (p - t) / (1.0 - t) }
    }
}

/// A loaded anti-spoofing model.
pub struct AntiSpoofModel {
    config: AntiSpoofConfig,
    plan: std::sync::Arc<TypedRunnableModel>,
    input: Vec<f32>,
}

impl std::fmt::Debug for AntiSpoofModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AntiSpoofModel").field("config", &self.config).finish_non_exhaustive()
    }
}

impl AntiSpoofModel {
    /// Loads the configured file (a relative `model_path` is taken from `model_dir`).
    pub fn load(config: AntiSpoofConfig, model_dir: &Path) -> Result<Self, AntiSpoofError> {
        config.validate()?;
        let path = if config.model_path.is_absolute() {
            config.model_path.clone()
        } else {
            model_dir.join(&config.model_path)
        };
        let len = std::fs::metadata(&path).map_err(|source| AntiSpoofError::Io { path: path.clone(), source })?.len();
        if len > MAX_MODEL_BYTES {
            return Err(AntiSpoofError::TooLarge(path));
        }
        let bytes = std::fs::read(&path).map_err(|source| AntiSpoofError::Io { path, source })?;
        Self::from_bytes(&bytes, config)
    }

    /// Builds the model from ONNX bytes; checks that the output fits the declared meaning.
    pub fn from_bytes(bytes: &[u8], config: AntiSpoofConfig) -> Result<Self, AntiSpoofError> {
        config.validate()?;
        if bytes.len() as u64 > MAX_MODEL_BYTES {
            return Err(AntiSpoofError::TooLarge(config.model_path.clone()));
        }
        let plan = tract_onnx::onnx()
            .model_for_read(&mut std::io::Cursor::new(bytes))?
            .with_input_fact(0, f32::fact(config.input_shape()).into())?
            .into_optimized()?
            .into_runnable()?;
        let mut model = AntiSpoofModel { config, plan, input: Vec::new() };
        // One run on a grey square proves that the output fits the declared meaning.
        let grey = vec![128u8; 64 * 64 * 4];
        let frame = Frame::packed(&grey, 64, 64).map_err(|e| AntiSpoofError::Model(e.to_string()))?;
        model.spoof_probability(&frame, FaceBox { x: 16.0, y: 16.0, width: 32.0, height: 32.0 })?;
        Ok(model)
    }

    /// The configuration.
    pub fn config(&self) -> &AntiSpoofConfig {
        &self.config
    }

    /// Fills the input tensor with the face crop of `frame`, scaled and normalised as configured
    /// (bilinear sampling; pixels outside the frame are black).
    pub fn preprocess(&mut self, frame: &Frame<'_>, face: FaceBox) -> Result<&[f32], AntiSpoofError> {
        let valid = [face.x, face.y, face.width, face.height].iter().all(|v| v.is_finite())
            && face.width > 0.0
            && face.height > 0.0;
        if !valid {
            return Err(AntiSpoofError::BadFaceBox);
        }
        let c = &self.config;
        let side = f64::from(c.crop_scale) * face.width.max(face.height);
        let (x0, y0) = (face.x + face.width / 2.0 - side / 2.0, face.y + face.height / 2.0 - side / 2.0);
        let (iw, ih) = (c.input_width as usize, c.input_height as usize);
        let (sx, sy) = (side / iw as f64, side / ih as f64);
        let order: [usize; 3] = match c.colour_order {
            ColourOrder::Rgb => [0, 1, 2],
            ColourOrder::Bgr => [2, 1, 0],
        };
        self.input.clear();
        self.input.resize(iw * ih * 3, 0.0);
        let (fw, fh) = (i64::from(frame.width()), i64::from(frame.height()));
        let pixel = |x: i64, y: i64| -> [f32; 3] {
            if x < 0 || y < 0 || x >= fw || y >= fh {
                return [0.0; 3];
            }
            frame
                .row(y as u32)
                .and_then(|row| row.get(x as usize * 4..x as usize * 4 + 3))
                .map_or([0.0; 3], |p| [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])])
        };
        for oy in 0..ih {
            let fy = y0 + (oy as f64 + 0.5) * sy - 0.5;
            let (ya, ay) = (fy.floor(), (fy - fy.floor()) as f32);
            for ox in 0..iw {
                let fx = x0 + (ox as f64 + 0.5) * sx - 0.5;
                let (xa, ax) = (fx.floor(), (fx - fx.floor()) as f32);
                let (xi, yi) = (xa as i64, ya as i64);
                let (p00, p10, p01, p11) = (pixel(xi, yi), pixel(xi + 1, yi), pixel(xi, yi + 1), pixel(xi + 1, yi + 1));
                for (k, &src) in order.iter().enumerate() {
                    let top = p00[src] * (1.0 - ax) + p10[src] * ax;
                    let bottom = p01[src] * (1.0 - ax) + p11[src] * ax;
                    let v = (top * (1.0 - ay) + bottom * ay) * c.pixel_scale;
                    let v = (v - c.mean[k]) / c.std[k];
                    let at = match c.layout {
                        Layout::Nchw => k * iw * ih + oy * iw + ox,
                        Layout::Nhwc => (oy * iw + ox) * 3 + k,
                    };
                    self.input[at] = v;
                }
            }
        }
        Ok(&self.input)
    }

    /// The model's spoof probability for the face in one frame, in `[0, 1]`.
    pub fn spoof_probability(&mut self, frame: &Frame<'_>, face: FaceBox) -> Result<f32, AntiSpoofError> {
        self.preprocess(frame, face)?;
        let tensor = Tensor::from_shape(&self.config.input_shape(), &self.input)?;
        let outputs = self.plan.run(tvec!(tensor.into()))?;
        let first = outputs.first().ok_or_else(|| AntiSpoofError::Output("the model has no output".into()))?;
        let values: Vec<f32> = first
            .to_plain_array_view::<f32>()
            .map_err(|e| AntiSpoofError::Output(format!("not float32: {e}")))?
            .iter()
            .copied()
            .collect();
        interpret(&values, self.config.output)
    }

    /// The model's signal over a burst: the median spoof probability over at most [`MAX_MODEL_FRAMES`]
    /// frames spread evenly over `frames`, as an attack likelihood ([`AntiSpoofConfig::attack_likelihood`]).
    pub fn signal(&mut self, frames: &[(Frame<'_>, FaceBox)]) -> Result<Signal, AntiSpoofError> {
        if frames.is_empty() {
            return Ok(Signal {
                name: SIGNAL_NAME,
                attack: 0.0,
                judged: false,
                explanation: "no frame to run the anti-spoofing model on".into(),
            });
        }
        let n = frames.len().min(MAX_MODEL_FRAMES);
        let mut probs = Vec::with_capacity(n);
        for i in 0..n {
            let Some((frame, face)) = frames.get(i * frames.len() / n) else { continue };
            probs.push(self.spoof_probability(frame, *face)?);
        }
        probs.sort_by(f32::total_cmp);
        let median = probs.get(probs.len() / 2).copied().unwrap_or(0.0);
        let attack = self.config.attack_likelihood(median);
        Ok(Signal {
            name: SIGNAL_NAME,
            attack,
            judged: true,
            explanation: format!(
                "the deployment's anti-spoofing model gives a median spoof probability of {median:.2} over {} \
                 frames (it calls an attack from {:.2})",
                probs.len(),
                self.config.threshold
            ),
        })
    }
}

/// The spoof probability from the raw output, per the declared meaning.
pub fn interpret(values: &[f32], meaning: OutputMeaning) -> Result<f32, AntiSpoofError> {
    if values.iter().any(|v| !v.is_finite()) {
        return Err(AntiSpoofError::Output("the model produced a value that is not finite".into()));
    }
    let p = match meaning {
        OutputMeaning::Softmax { live_index, logits } => {
            if values.len() < 2 || live_index >= values.len() {
                return Err(AntiSpoofError::Output(format!(
                    "{} class scores cannot hold the live class {live_index}",
                    values.len()
                )));
            }
            let live = if logits {
                let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = values.iter().map(|v| (v - max).exp()).sum();
                (values[live_index] - max).exp() / sum
            } else {
                let sum: f32 = values.iter().sum();
                if sum <= 0.0 || values.iter().any(|v| *v < 0.0) {
                    return Err(AntiSpoofError::Output("class probabilities are negative or sum to zero".into()));
                }
                values[live_index] / sum
            };
            1.0 - live
        }
        OutputMeaning::SpoofScore { logit } => {
            let [v] = values else {
                return Err(AntiSpoofError::Output(format!("expected one spoof score, got {} values", values.len())));
            };
            if logit { 1.0 / (1.0 + (-v.clamp(-80.0, 80.0)).exp()) } else { *v }
        }
    };
    Ok(p.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests;
