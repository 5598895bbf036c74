//! Reading dlib's serialized DNN files: the primitive encodings ([`serialize`]) and the layer
//! list of a metric-learning network ([`model`]).

pub mod model;
pub mod serialize;
