//! The slot end to end with tiny ONNX models built in code: a red face is live, a blue one a spoof.

use prost::Message as _;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto, type_proto,
};

use super::*;

const SIDE: u32 = 16;

fn tensor(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        float_data: values.to_vec(),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: output.into(),
        input: inputs.iter().map(|s| (*s).to_owned()).collect(),
        output: vec![output.into()],
        attribute,
        ..Default::default()
    }
}

fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Int as i32, i, ..Default::default() }
}

/// Mean colour → Gemm with `weights` (3 × outputs) and `bias` → optional Softmax. NCHW pools with
/// GlobalAveragePool; NHWC averages over H and W with ReduceMean.
fn model(layout: Layout, weights: &[f32], bias: &[f32], softmax: bool) -> Vec<u8> {
    let outputs = bias.len() as i64;
    let dims: Vec<i64> = match layout {
        Layout::Nchw => vec![1, 3, SIDE.into(), SIDE.into()],
        Layout::Nhwc => vec![1, SIDE.into(), SIDE.into(), 3],
    };
    let mut nodes = match layout {
        Layout::Nchw => vec![
            node("GlobalAveragePool", &["input"], "pooled", vec![]),
            node("Flatten", &["pooled"], "flat", vec![int_attr("axis", 1)]),
        ],
        Layout::Nhwc => vec![node(
            "ReduceMean",
            &["input"],
            "flat",
            vec![
                AttributeProto {
                    name: "axes".into(),
                    r#type: AttributeType::Ints as i32,
                    ints: vec![1, 2],
                    ..Default::default()
                },
                int_attr("keepdims", 0),
            ],
        )],
    };
    nodes.push(node("Gemm", &["flat", "w", "b"], if softmax { "logits" } else { "output" }, vec![]));
    if softmax {
        nodes.push(node("Softmax", &["logits"], "output", vec![int_attr("axis", 1)]));
    }
    let shape = TensorShapeProto {
        dim: dims
            .iter()
            .map(|&d| Dimension { value: Some(dimension::Value::DimValue(d)), ..Default::default() })
            .collect(),
    };
    let input_type = TypeProto {
        value: Some(type_proto::Value::TensorType(type_proto::Tensor {
            elem_type: DataType::Float as i32,
            shape: Some(shape),
        })),
        ..Default::default()
    };
    let graph = GraphProto {
        name: "tiny_antispoof".into(),
        node: nodes,
        initializer: vec![tensor("w", &[3, outputs], weights), tensor("b", &[outputs], bias)],
        input: vec![ValueInfoProto { name: "input".into(), r#type: Some(input_type), ..Default::default() }],
        output: vec![ValueInfoProto { name: "output".into(), ..Default::default() }],
        ..Default::default()
    };
    ModelProto {
        ir_version: 7,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
        producer_name: "trustcap-vision-tests".into(),
        graph: Some(graph),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Two classes, live first: live ∝ red − blue.
fn two_class(layout: Layout) -> Vec<u8> {
    model(layout, &[6.0, -6.0, 0.0, 0.0, -6.0, 6.0], &[0.0, 0.0], true)
}

fn config(layout: Layout) -> AntiSpoofConfig {
    AntiSpoofConfig {
        model_path: "tiny.onnx".into(),
        input_width: SIDE,
        input_height: SIDE,
        layout,
        colour_order: ColourOrder::Rgb,
        pixel_scale: 1.0 / 255.0,
        mean: [0.0; 3],
        std: [1.0; 3],
        crop_scale: 1.0,
        output: OutputMeaning::Softmax { live_index: 0, logits: false },
        threshold: 0.5,
    }
}

/// A 96×96 grey frame with a 40×40 face of `rgb` at (28, 28).
fn scene(rgb: [u8; 3]) -> (Vec<u8>, FaceBox) {
    let mut px = Vec::with_capacity(96 * 96 * 4);
    for y in 0..96 {
        for x in 0..96 {
            let inside = (28..68).contains(&x) && (28..68).contains(&y);
            px.extend(if inside { [rgb[0], rgb[1], rgb[2], 255] } else { [128, 128, 128, 255] });
        }
    }
    (px, FaceBox { x: 28.0, y: 28.0, width: 40.0, height: 40.0 })
}

fn spoof(model: &mut AntiSpoofModel, rgb: [u8; 3]) -> f32 {
    let (px, face) = scene(rgb);
    model.spoof_probability(&Frame::packed(&px, 96, 96).unwrap(), face).unwrap()
}

#[test]
fn red_is_live_and_blue_is_a_spoof_in_both_layouts() {
    for layout in [Layout::Nchw, Layout::Nhwc] {
        let mut m = AntiSpoofModel::from_bytes(&two_class(layout), config(layout)).unwrap();
        let (red, blue) = (spoof(&mut m, [220, 60, 60]), spoof(&mut m, [60, 60, 220]));
        // Softmax of ±6·(160/255) ≈ ±3.76: probabilities 0.0005 and 0.9995.
        assert!(red < 0.01 && blue > 0.99, "{layout:?}: red {red}, blue {blue}");
        let grey = spoof(&mut m, [128, 128, 128]);
        assert!((grey - 0.5).abs() < 1e-4, "{grey}");
    }
}

#[test]
fn colour_order_mean_std_and_crop_are_applied() {
    // The same model told its input is BGR sees a red face as blue.
    let mut bgr = AntiSpoofModel::from_bytes(
        &two_class(Layout::Nchw),
        AntiSpoofConfig { colour_order: ColourOrder::Bgr, ..config(Layout::Nchw) },
    )
    .unwrap();
    assert!(spoof(&mut bgr, [220, 60, 60]) > 0.99);

    // Normalisation: (v · scale − mean) / std per model channel.
    let cfg = AntiSpoofConfig { mean: [0.5, 0.25, 0.0], std: [0.5, 0.25, 2.0], ..config(Layout::Nchw) };
    let mut m = AntiSpoofModel::from_bytes(&two_class(Layout::Nchw), cfg).unwrap();
    let (px, face) = scene([255, 51, 102]);
    let input = m.preprocess(&Frame::packed(&px, 96, 96).unwrap(), face).unwrap().to_vec();
    let plane = (SIDE * SIDE) as usize;
    let centre = (SIDE / 2 * SIDE + SIDE / 2) as usize;
    assert!((input[centre] - 1.0).abs() < 1e-5, "{}", input[centre]);
    assert!((input[plane + centre] - (0.2 - 0.25) / 0.25).abs() < 1e-5);
    assert!((input[2 * plane + centre] - 0.2).abs() < 1e-5);

    // A crop twice the face reaches into the grey background; a face at the frame corner into black.
    let cfg = AntiSpoofConfig { crop_scale: 2.0, ..config(Layout::Nhwc) };
    let mut m = AntiSpoofModel::from_bytes(&two_class(Layout::Nhwc), cfg).unwrap();
    let frame = Frame::packed(&px, 96, 96).unwrap();
    let corner = m.preprocess(&frame, face).unwrap()[0];
    assert!((corner - 128.0 / 255.0).abs() < 1e-5, "{corner}");
    let edge = m.preprocess(&frame, FaceBox { x: -10.0, y: -10.0, width: 20.0, height: 20.0 }).unwrap()[0];
    assert_eq!(edge, 0.0);
    assert!(matches!(m.preprocess(&frame, FaceBox { width: f64::NAN, ..face }), Err(AntiSpoofError::BadFaceBox)));
}

#[test]
fn a_sigmoid_spoof_score_and_the_burst_signal() {
    // One logit: 8·(blue − red).
    let bytes = model(Layout::Nchw, &[-8.0, 0.0, 8.0], &[0.0], false);
    let cfg =
        AntiSpoofConfig { output: OutputMeaning::SpoofScore { logit: true }, threshold: 0.8, ..config(Layout::Nchw) };
    let mut m = AntiSpoofModel::from_bytes(&bytes, cfg).unwrap();
    assert!(spoof(&mut m, [220, 60, 60]) < 0.01 && spoof(&mut m, [60, 60, 220]) > 0.99);

    let (red, face) = scene([220, 60, 60]);
    let (blue, _) = scene([60, 60, 220]);
    let frames = |px: &[u8]| -> Vec<Vec<u8>> { (0..12).map(|_| px.to_vec()).collect() };
    let (reds, blues) = (frames(&red), frames(&blue));
    fn view(v: &[Vec<u8>], face: FaceBox) -> Vec<(Frame<'_>, FaceBox)> {
        v.iter().map(|p| (Frame::packed(p, 96, 96).unwrap(), face)).collect()
    }
    let live = m.signal(&view(&reds, face)).unwrap();
    assert_eq!((live.name, live.judged), (SIGNAL_NAME, true));
    assert!(live.attack < 0.01, "{live:?}");
    assert!(live.explanation.contains("over 8 frames"), "{}", live.explanation);
    let attack = m.signal(&view(&blues, face)).unwrap();
    // Spoof probability sigmoid(8 · 160/255) ≈ 0.993, above the threshold 0.8: attack ≈ 0.98.
    assert!(attack.attack > 0.95, "{attack:?}");
    assert!(!m.signal(&[]).unwrap().judged);

    // The threshold maps to 0.5.
    let c = m.config();
    assert!((c.attack_likelihood(0.8) - 0.5).abs() < 1e-9);
    assert!((c.attack_likelihood(0.4) - 0.25).abs() < 1e-9);
    assert!((c.attack_likelihood(0.9) - 0.75).abs() < 1e-6);
}

#[test]
fn outputs_that_do_not_fit_the_meaning_are_refused_at_load() {
    let two = two_class(Layout::Nchw);
    let wrong_index =
        AntiSpoofConfig { output: OutputMeaning::Softmax { live_index: 2, logits: true }, ..config(Layout::Nchw) };
    assert!(matches!(AntiSpoofModel::from_bytes(&two, wrong_index), Err(AntiSpoofError::Output(_))));
    let not_one = AntiSpoofConfig { output: OutputMeaning::SpoofScore { logit: false }, ..config(Layout::Nchw) };
    assert!(matches!(AntiSpoofModel::from_bytes(&two, not_one), Err(AntiSpoofError::Output(_))));
    // An NHWC config on an NCHW model: tract refuses the input shape.
    assert!(matches!(AntiSpoofModel::from_bytes(&two, config(Layout::Nhwc)), Err(AntiSpoofError::Model(_))));
    // Direct interpretation.
    assert!(matches!(
        interpret(&[f32::NAN, 0.0], OutputMeaning::Softmax { live_index: 0, logits: true }),
        Err(AntiSpoofError::Output(_))
    ));
    assert!(matches!(
        interpret(&[-0.5, 1.5], OutputMeaning::Softmax { live_index: 0, logits: false }),
        Err(AntiSpoofError::Output(_))
    ));
    let p = interpret(&[2.0, 0.0], OutputMeaning::Softmax { live_index: 1, logits: true }).unwrap();
    assert!((p - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
}

#[test]
fn bad_configs_and_bad_bytes_are_typed_errors() {
    let base = config(Layout::Nchw);
    let bad = [
        AntiSpoofConfig { input_width: 0, ..base.clone() },
        AntiSpoofConfig { input_height: 5000, ..base.clone() },
        AntiSpoofConfig { pixel_scale: 0.0, ..base.clone() },
        AntiSpoofConfig { std: [1.0, 0.0, 1.0], ..base.clone() },
        AntiSpoofConfig { mean: [f32::NAN, 0.0, 0.0], ..base.clone() },
        AntiSpoofConfig { crop_scale: 20.0, ..base.clone() },
        AntiSpoofConfig { threshold: 1.0, ..base.clone() },
        AntiSpoofConfig { output: OutputMeaning::Softmax { live_index: 5000, logits: true }, ..base.clone() },
    ];
    for c in bad {
        assert!(
            matches!(AntiSpoofModel::from_bytes(&two_class(Layout::Nchw), c.clone()), Err(AntiSpoofError::Config(_))),
            "{c:?}"
        );
    }
    for bytes in [&b""[..], b"not an onnx model at all", &[0xff; 64]] {
        assert!(matches!(AntiSpoofModel::from_bytes(bytes, base.clone()), Err(AntiSpoofError::Model(_))));
    }
    let truncated = two_class(Layout::Nchw);
    assert!(AntiSpoofModel::from_bytes(&truncated[..truncated.len() / 2], base.clone()).is_err());
}

#[test]
fn loads_from_a_json_config_and_a_file() {
    let dir = std::env::temp_dir().join(format!("trustcap-antispoof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tiny.onnx"), two_class(Layout::Nchw)).unwrap();
    let json = r#"{"model_path": "tiny.onnx", "input_width": 16, "input_height": 16, "layout": "nchw",
        "colour_order": "rgb", "pixel_scale": 0.00392156862745098, "mean": [0, 0, 0], "std": [1, 1, 1],
        "crop_scale": 1.0, "output": {"kind": "softmax", "live_index": 0, "logits": false}, "threshold": 0.5}"#;
    let cfg: AntiSpoofConfig = serde_json::from_str(json).unwrap();
    assert_eq!(cfg, config(Layout::Nchw));
    let mut m = AntiSpoofModel::load(cfg.clone(), &dir).unwrap();
    assert!(spoof(&mut m, [60, 60, 220]) > 0.99);
    let missing = AntiSpoofConfig { model_path: "absent.onnx".into(), ..cfg };
    assert!(matches!(AntiSpoofModel::load(missing, &dir), Err(AntiSpoofError::Io { .. })));
    assert!(serde_json::from_str::<AntiSpoofConfig>(&json.replace("\"nchw\"", "\"nwhc\"")).is_err());
    std::fs::remove_dir_all(&dir).ok();
}
