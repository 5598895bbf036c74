//! Face embeddings: the dlib model file parsed, checked against the architecture, compiled
//! (by tract, or for the direct engine where the CPU has AVX-512 or AVX2, see [`EmbedEngine`]), and
//! run on 150×150 chips.

use std::path::{Path, PathBuf};

use image::RgbImage;
use sha2::{Digest, Sha256};

use crate::align::CHIP_SIZE;
use crate::architecture::{ArchitectureError, EMBEDDING_DIM, dlib_resnet};
use crate::direct::{DirectError, DirectNet};
use crate::dlib::model::{DlibModel, ModelError};
use crate::graph::{Compiled, GraphError};

/// File name of the model in the model cache.
pub const MODEL_FILE: &str = "dlib_face_recognition_resnet_model_v1.dat";

/// Largest model file accepted (the real one is 22.5 MB).
pub const MAX_MODEL_BYTES: u64 = 64 << 20;

/// Why the embedding model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model file could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
    /// The file is not a valid dlib network.
    #[error("dlib model: {0}")]
    Model(#[from] ModelError),
    /// The network is not the expected architecture.
    #[error("dlib architecture: {0}")]
    Architecture(#[from] ArchitectureError),
    /// tract failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The direct engine failed.
    #[error(transparent)]
    Direct(#[from] DirectError),
    /// The chip is not 150×150.
    #[error("chip is {width}x{height}, expected {CHIP_SIZE}x{CHIP_SIZE}")]
    ChipSize {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
}

/// A 128-D face embedding (raw dlib output, norm about 1.3 on faces).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Embedding(#[serde(with = "embedding_serde")] pub [f32; EMBEDDING_DIM]);

mod embedding_serde {
    use super::EMBEDDING_DIM;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f32; EMBEDDING_DIM], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[f32; EMBEDDING_DIM], D::Error> {
        let v = Vec::<f32>::deserialize(d)?;
        v.try_into().map_err(|v: Vec<f32>| serde::de::Error::invalid_length(v.len(), &"128 values"))
    }
}

impl Embedding {
    /// Euclidean distance (dlib's comparison; same person below about 0.6).
    pub fn distance(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2)).sum::<f64>().sqrt() as f32
    }

    /// Euclidean norm.
    pub fn norm(&self) -> f32 {
        self.0.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt() as f32
    }
}

/// Which engine runs the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbedEngine {
    /// [`EmbedEngine::Direct`] where `trustcap-conv` has a SIMD kernel for the CPU (AVX-512, or
    /// AVX2 with FMA), else [`EmbedEngine::Tract`].
    #[default]
    Auto,
    /// tract's optimised plan ([`crate::graph`]).
    Tract,
    /// `trustcap-conv`'s direct convolution ([`crate::direct`]); on a CPU without AVX2 and FMA
    /// it runs the portable kernel, far slower than tract (for tests).
    Direct,
}

impl EmbedEngine {
    /// What `Auto` means on this CPU.
    pub fn resolve(self) -> EmbedEngine {
        match self {
            EmbedEngine::Auto if trustcap_conv::Backend::detect() != trustcap_conv::Backend::Portable => {
                EmbedEngine::Direct
            }
            EmbedEngine::Auto => EmbedEngine::Tract,
            other => other,
        }
    }
}

#[derive(Debug)]
enum Runner {
    Tract(Compiled),
    Direct(DirectNet),
}

/// The dlib face-embedding network, ready to run.
#[derive(Debug)]
pub struct FaceEmbedder {
    runner: Runner,
    mean: [f32; 3],
    version: String,
    layers: usize,
    parameters: usize,
}

impl FaceEmbedder {
    /// Loads [`MODEL_FILE`] from a model folder (see `trustcap_vision::model_cache::default_model_dir`).
    pub fn from_dir(dir: &Path) -> Result<Self, EmbedError> {
        Self::from_dir_with(dir, EmbedEngine::Auto)
    }

    /// Loads [`MODEL_FILE`] from a model folder for `engine`.
    pub fn from_dir_with(dir: &Path, engine: EmbedEngine) -> Result<Self, EmbedError> {
        let path = dir.join(MODEL_FILE);
        let io = |reason: String| EmbedError::Io { path: path.clone(), reason };
        let len = std::fs::metadata(&path).map_err(|e| io(e.to_string()))?.len();
        if len > MAX_MODEL_BYTES {
            return Err(io(format!("{len} bytes is larger than {MAX_MODEL_BYTES}")));
        }
        let bytes = std::fs::read(&path).map_err(|e| io(e.to_string()))?;
        Self::from_bytes_with(&bytes, engine)
    }

    /// Parses, checks and compiles a model file's bytes for [`EmbedEngine::Auto`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EmbedError> {
        Self::from_bytes_with(bytes, EmbedEngine::Auto)
    }

    /// Parses, checks and compiles a model file's bytes for `engine`.
    pub fn from_bytes_with(bytes: &[u8], engine: EmbedEngine) -> Result<Self, EmbedError> {
        let model = DlibModel::parse(bytes)?;
        let network = dlib_resnet(&model)?;
        let runner = match engine.resolve() {
            EmbedEngine::Direct => Runner::Direct(DirectNet::new(&network, trustcap_conv::Backend::detect())?),
            _ => Runner::Tract(Compiled::new(&network)?),
        };
        let digest = Sha256::digest(bytes);
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Ok(FaceEmbedder {
            runner,
            mean: model.input.mean,
            version: format!("dlib_face_recognition_resnet_model_v1@sha256:{hex}"),
            layers: model.layers.len(),
            parameters: model.parameter_count(),
        })
    }

    /// The engine that runs the network ([`EmbedEngine::Tract`] or [`EmbedEngine::Direct`]).
    pub fn engine(&self) -> EmbedEngine {
        match self.runner {
            Runner::Tract(_) => EmbedEngine::Tract,
            Runner::Direct(_) => EmbedEngine::Direct,
        }
    }

    /// Model version: name and the start of the file's SHA-256.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Layers with data in the parsed file.
    pub fn layer_count(&self) -> usize {
        self.layers
    }

    /// Learned values in the parsed file.
    pub fn parameter_count(&self) -> usize {
        self.parameters
    }

    /// The network input for a chip: planar RGB, `(value - channel mean) / 256`.
    pub fn chip_input(&self, chip: &RgbImage) -> Result<Vec<f32>, EmbedError> {
        if chip.dimensions() != (CHIP_SIZE, CHIP_SIZE) {
            return Err(EmbedError::ChipSize { width: chip.width(), height: chip.height() });
        }
        let plane = (CHIP_SIZE * CHIP_SIZE) as usize;
        let mut input = vec![0f32; 3 * plane];
        for (i, px) in chip.pixels().enumerate() {
            for ch in 0..3 {
                input[ch * plane + i] = (f32::from(px.0[ch]) - self.mean[ch]) / 256.0;
            }
        }
        Ok(input)
    }

    /// Embeds a 150×150 chip.
    pub fn embed(&self, chip: &RgbImage) -> Result<Embedding, EmbedError> {
        let input = self.chip_input(chip)?;
        let out = match &self.runner {
            Runner::Tract(compiled) => compiled.run(&input)?,
            Runner::Direct(net) => net.run(&input)?,
        };
        let values: [f32; EMBEDDING_DIM] =
            out.try_into().map_err(|_| GraphError::Tract("embedding has the wrong length".into()))?;
        Ok(Embedding(values))
    }
}
