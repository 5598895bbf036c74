//! The dlib model reader (`trustcap_face::dlib`) on arbitrary bytes: never panics, never
//! allocates more than the input holds; a file that parses has one layer per data wrapper plus
//! the innermost one and self-consistent layer shapes, and a file that also passes the
//! architecture check gives a network whose shapes infer to the 128-D embedding, before and
//! after folding the affine layers into the convolutions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcap_face::architecture::{EMBEDDING_DIM, dlib_resnet};
use trustcap_face::dlib::model::{DlibModel, Layer, Wrapper};
use trustcap_face::dlib::serialize::Reader;

fuzz_target!(|data: &[u8]| {
    // The primitive decoders from the first byte.
    let mut r = Reader::new(data);
    let _ = r.tensor();
    let _ = r.string();
    let _ = r.float();
    let _ = r.shape();
    assert!(r.offset() <= data.len());

    let Ok(model) = DlibModel::parse(data) else { return };
    let data_wrappers = model.structure.iter().filter(|w| **w == Wrapper::Layer).count();
    assert_eq!(model.layers.len(), data_wrappers + 1);
    // Every learned value came from four bytes of the input.
    assert!(model.parameter_count() * 4 <= data.len());
    for layer in &model.layers {
        match layer {
            Layer::Conv(c) => {
                let per_filter = c.in_channels * c.kernel[0] * c.kernel[1];
                assert_eq!(c.weights.len(), c.out_channels * per_filter);
                assert_eq!(c.bias.len(), c.out_channels);
            }
            Layer::Affine { gamma, beta } => assert_eq!(gamma.len(), beta.len()),
            Layer::Fc(f) => {
                assert_eq!(f.weights.len(), f.inputs * f.outputs);
                assert!(f.bias.as_ref().is_none_or(|b| b.len() == f.outputs));
            }
            _ => {}
        }
    }
    let Ok(network) = dlib_resnet(&model) else { return };
    assert_eq!(network.output_shape(), Ok([EMBEDDING_DIM, 1, 1]));
    assert_eq!(network.fold_affine().output_shape(), Ok([EMBEDDING_DIM, 1, 1]));
});
