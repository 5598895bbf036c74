//! The tract graph built from a network computes what the plain reference forward pass
//! computes, on small networks with random weights (no real model needed).

mod common;

use common::{Rng, affine, conv, fc, pool};
use trustcap_face::dlib::model::{Layer, Pool};
use trustcap_face::graph::Compiled;
use trustcap_face::network::{Network, Node, Op};
use trustcap_face::reference::forward;

fn op(layer: Layer) -> Op {
    match layer {
        Layer::Affine { gamma, beta } => Op::Affine { gamma, beta },
        _ => unreachable!("only affine layers are converted here"),
    }
}

/// Every operation kind: convolutions with and without padding and stride, folded and lone
/// affine layers, both pools, adds of unequal shapes (zero padding at the end), global pools,
/// and fully connected layers with and without bias.
fn small_network(rng: &mut Rng) -> Network {
    let nodes = vec![
        Node { input: 0, op: Op::Conv(conv(rng, 3, 4, 3, 1, 1)) }, // 1: 4x11x11
        Node { input: 1, op: op(affine(rng, 4)) },                 // 2: folded into 1
        Node { input: 2, op: Op::Relu },                           // 3
        Node { input: 3, op: Op::MaxPool(pool(3, 2)) },            // 4: 4x5x5
        Node { input: 4, op: Op::Conv(conv(rng, 4, 6, 3, 2, 0)) }, // 5: 6x2x2
        Node { input: 4, op: Op::AvgPool(pool(2, 2)) },            // 6: 4x2x2
        Node { input: 5, op: Op::Add { other: 6 } },               // 7: 6x2x2 (4 channels padded)
        Node { input: 4, op: op(affine(rng, 4)) },                 // 8: lone affine on 4x5x5
        Node { input: 7, op: Op::Add { other: 8 } },               // 9: 6x5x5 (both padded)
        Node { input: 9, op: Op::Relu },                           // 10
        Node { input: 10, op: Op::Conv(conv(rng, 6, 8, 1, 1, 0)) }, // 11: 8x5x5
        Node { input: 11, op: Op::AvgPool(Pool { window: [0, 0], stride: [1, 1], padding: [0, 0] }) }, // 12: 8x1x1
        Node { input: 12, op: Op::Fc(fc(rng, 8, 5, true)) },       // 13
        Node { input: 13, op: Op::Fc(fc(rng, 5, 3, false)) },      // 14
    ];
    Network { input: [3, 11, 11], nodes }
}

#[test]
fn shapes_of_the_small_network() {
    let net = small_network(&mut Rng(7));
    let shapes = net.shapes().unwrap();
    assert_eq!(shapes[4], [4, 5, 5]);
    assert_eq!(shapes[7], [6, 2, 2]);
    assert_eq!(shapes[9], [6, 5, 5]);
    assert_eq!(net.output_shape().unwrap(), [3, 1, 1]);
    // Folding removes exactly the affine that follows a convolution.
    assert_eq!(net.fold_affine().nodes.len(), net.nodes.len() - 1);
}

#[test]
fn folding_affine_into_conv_keeps_the_function() {
    let mut rng = Rng(11);
    let net = small_network(&mut rng);
    let input = rng.vec(3 * 11 * 11, 1.0);
    let a = forward(&net, &input).unwrap();
    let b = forward(&net.fold_affine(), &input).unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-4, "{a:?} vs {b:?}");
    }
}

#[test]
fn tract_graph_matches_the_reference_forward_pass() {
    for seed in [1u64, 2, 3] {
        let mut rng = Rng(seed);
        let net = small_network(&mut rng);
        let compiled = Compiled::new(&net).unwrap();
        for _ in 0..3 {
            let input = rng.vec(3 * 11 * 11, 2.0);
            let expected = forward(&net, &input).unwrap();
            let got = compiled.run(&input).unwrap();
            assert_eq!(got.len(), 3);
            assert!(expected.iter().any(|v| v.abs() > 1e-3), "degenerate test output {expected:?}");
            for (x, y) in got.iter().zip(&expected) {
                assert!((x - y).abs() < 1e-4 * (1.0 + y.abs()), "seed {seed}: tract {got:?} vs reference {expected:?}");
            }
        }
    }
}

#[test]
fn a_changed_weight_changes_the_output() {
    // Guards against a builder that ignores weights (the comparison above would then fail too,
    // but this names the failure).
    let mut rng = Rng(5);
    let net = small_network(&mut rng);
    let input = rng.vec(3 * 11 * 11, 1.0);
    let before = Compiled::new(&net).unwrap().run(&input).unwrap();
    let mut changed = net.clone();
    if let Op::Fc(fc) = &mut changed.nodes[13].op {
        fc.weights[0] += 1.0;
    }
    let after = Compiled::new(&changed).unwrap().run(&input).unwrap();
    assert_ne!(before, after);
}

#[test]
fn inconsistent_networks_are_rejected() {
    let mut rng = Rng(3);
    let mut net = small_network(&mut rng);
    net.nodes[4].input = 40;
    assert!(net.shapes().is_err());
    assert!(Compiled::new(&net).is_err());
    let mut net = small_network(&mut rng);
    if let Op::Conv(c) = &mut net.nodes[0].op {
        c.in_channels = 2;
    }
    assert!(net.shapes().is_err());
}

/// The direct engine (both tile kernels) computes what the reference computes on the small
/// network, and on one whose fully connected layer reads a whole `C × H × W` value (the flatten
/// order differs between the engine's interleaved values and the network's planar definition).
#[test]
fn direct_engine_matches_the_reference_forward_pass() {
    use trustcap_conv::Backend;
    use trustcap_face::direct::DirectNet;
    for seed in [1u64, 2, 3] {
        let mut rng = Rng(seed);
        let net = small_network(&mut rng);
        let mut spatial_fc = net.clone();
        spatial_fc.nodes.truncate(11); // ends with the 8×5×5 convolution
        spatial_fc.nodes.push(Node { input: 11, op: Op::Fc(fc(&mut rng, 8 * 5 * 5, 4, true)) });
        for network in [&net, &spatial_fc] {
            for backend in [Backend::Portable, Backend::Avx512, Backend::Avx2] {
                let direct = DirectNet::new(network, backend).unwrap();
                for _ in 0..3 {
                    let input = rng.vec(3 * 11 * 11, 2.0);
                    let expected = forward(network, &input).unwrap();
                    let got = direct.run(&input).unwrap();
                    assert_eq!(got.len(), expected.len());
                    assert!(expected.iter().any(|v| v.abs() > 1e-3), "degenerate test output {expected:?}");
                    for (x, y) in got.iter().zip(&expected) {
                        assert!(
                            (x - y).abs() < 1e-4 * (1.0 + y.abs()),
                            "seed {seed} {backend:?}: direct {got:?} vs reference {expected:?}"
                        );
                    }
                }
            }
        }
    }
}

/// Residual blocks whose add follows its convolution directly, as in dlib's ResNet: the direct
/// engine adds the skip connection inside the convolution (direct and Winograd layers, a skip of
/// as many channels and a narrower one) and computes what the reference computes.
#[test]
fn direct_engine_fuses_adds_into_convolutions_and_matches_the_reference() {
    use trustcap_conv::Backend;
    use trustcap_face::direct::DirectNet;
    let mut rng = Rng(9);
    let nodes = vec![
        Node { input: 0, op: Op::Conv(conv(&mut rng, 3, 16, 3, 1, 1)) }, // 1: 16x11x11
        Node { input: 1, op: Op::Relu },                                 // 2
        Node { input: 2, op: Op::Conv(conv(&mut rng, 16, 16, 3, 1, 1)) }, // 3: Winograd
        Node { input: 3, op: Op::Add { other: 2 } },                     // 4: fused
        Node { input: 4, op: Op::Relu },                                 // 5: fused into 3
        Node { input: 5, op: Op::Conv(conv(&mut rng, 16, 20, 3, 1, 1)) }, // 6: 20x11x11, direct
        Node { input: 6, op: Op::Add { other: 5 } },                     // 7: 16-channel skip, fused
        Node { input: 7, op: Op::Conv(conv(&mut rng, 20, 20, 1, 1, 0)) }, // 8
        Node { input: 8, op: Op::Add { other: 7 } },                     // 9: fused, no ReLU after
        Node { input: 9, op: Op::AvgPool(Pool { window: [0, 0], stride: [1, 1], padding: [0, 0] }) }, // 10
        Node { input: 10, op: Op::Fc(fc(&mut rng, 20, 4, true)) },       // 11
    ];
    let net = Network { input: [3, 11, 11], nodes };
    for backend in [Backend::Portable, Backend::Avx512, Backend::Avx2] {
        let direct = DirectNet::new(&net, backend).unwrap();
        let input = rng.vec(3 * 11 * 11, 2.0);
        let expected = forward(&net, &input).unwrap();
        let (got, labels) = direct.run_timed(&input, &mut || 0.0).unwrap();
        let fused = labels.iter().filter(|(l, _)| l.starts_with("add (fused)")).count();
        assert_eq!(fused, 3, "{labels:?}");
        assert!(labels[2].0.contains("+add +relu"), "{labels:?}");
        assert!(expected.iter().any(|v| v.abs() > 1e-3), "degenerate test output {expected:?}");
        for (x, y) in got.iter().zip(&expected) {
            assert!((x - y).abs() < 1e-4 * (1.0 + y.abs()), "{backend:?}: direct {got:?} vs reference {expected:?}");
        }
    }
}

#[test]
fn direct_engine_rejects_what_tract_rejects() {
    use trustcap_face::direct::{DirectError, DirectNet};
    let mut rng = Rng(3);
    let mut net = small_network(&mut rng);
    net.nodes[4].input = 40;
    assert!(matches!(DirectNet::new(&net, trustcap_conv::Backend::detect()), Err(DirectError::Shape(_))));
    let net = small_network(&mut rng);
    let direct = DirectNet::new(&net, trustcap_conv::Backend::detect()).unwrap();
    assert!(matches!(direct.run(&[0.0; 10]), Err(DirectError::Input { got: 10, .. })));
}
