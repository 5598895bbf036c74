//! Per-node profile of the dlib embedding in tract, in per-thread CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`).
//!
//! `cargo run --release -p trustcap-face --example profile_embed [-- --iterations N] [-- --nodes]`
//! (model from `cargo xtask models`). Builds the optimised plan exactly as
//! [`trustcap_face::graph::Compiled`] does, runs it on the astronaut's chip with a timing closure
//! around every node, and prints the time per operator kind (and with `--nodes` per node, with the m, k, n and
//! the tract-linalg kernel of every matrix product),
//! then the whole embedding's minimum and median thread CPU time. Last line: one JSON object.

use std::collections::BTreeMap;
use std::hint::black_box;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::plan::{SimpleState, eval};
use trustcap_cputime::{load_average_text, thread_cpu_ms};
use trustcap_face::architecture::dlib_resnet;
use trustcap_face::dlib::model::DlibModel;
use trustcap_face::graph::Compiled;
use trustcap_face::matcher::rgba;
use trustcap_face::{FaceEmbedder, FaceMatcher, Role};
use trustcap_vision::Frame;
use trustcap_vision::face::default_model_dir;

/// Minimum and median of `n` thread-CPU timings of `f` (after two warm-up runs).
fn min_median(n: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    f();
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let t = thread_cpu_ms();
            f();
            thread_cpu_ms() - t
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times.first().copied().unwrap_or(f64::NAN), times.get(n / 2).copied().unwrap_or(f64::NAN))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut iterations = 30usize;
    let mut per_node = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iterations" => iterations = args.next().ok_or("--iterations needs a value")?.parse()?,
            "--nodes" => per_node = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = default_model_dir();
    let bytes = std::fs::read(dir.join(trustcap_face::embed::MODEL_FILE))?;
    let network = dlib_resnet(&DlibModel::parse(&bytes)?)?;
    let embedder = FaceEmbedder::from_bytes(&bytes)?;
    let astronaut = image::open(dir.join("astronaut.png"))?.to_rgb8();
    let pixels = rgba(&astronaut);
    let frame = Frame::packed(&pixels, 512, 512)?;
    let chip = FaceMatcher::from_dir(&dir)?.analyze(&frame, Role::Selfie)?.chip.ok_or("no chip")?;
    let input = embedder.chip_input(&chip)?;

    let compiled = Compiled::new(&network)?;
    let plan = compiled.plan().clone();
    let tensor: TValue = compiled.input_tensor(&input)?.into();
    let mut state = SimpleState::new(&plan)?;

    // Per-node thread CPU time, summed over the runs.
    let nodes = plan.model().nodes.len();
    let mut spent = vec![0f64; nodes];
    for run in 0..iterations + 2 {
        state.run_plan_with_eval(tvec!(tensor.clone()), |ctx, op_state, node, inputs| {
            let t = thread_cpu_ms();
            let out = eval(ctx, op_state, node, inputs);
            if run >= 2 {
                spent[node.id] += thread_cpu_ms() - t;
            }
            out
        })?;
    }
    let mut by_kind: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    println!("Per-node thread CPU (mean of {iterations} runs; load average {})", load_average_text());
    for node in &plan.model().nodes {
        let ms = spent[node.id] / iterations as f64;
        let op = node.op.to_string();
        let entry = by_kind.entry(node.op.name().to_string()).or_default();
        entry.0 += 1;
        entry.1 += ms;
        if per_node {
            let shape = node.outputs.first().map(|o| format!("{:?}", o.fact.shape)).unwrap_or_default();
            println!("  {:>4} {ms:>7.3} ms  {:<28} {op} -> {shape}", node.id, node.name);
            if node.op.name() == "OptMatMul" {
                // The matrix product's m, k, n and the tract-linalg kernel it runs.
                for line in node.op.info()?.iter().filter(|l| l.starts_with("Mult")) {
                    println!("                {line}");
                }
            }
        }
    }
    let total: f64 = by_kind.values().map(|v| v.1).sum();
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
    for (name, (count, ms)) in &kinds {
        println!("  {name:<28} ×{count:<3} {ms:>7.3} ms  {:>5.1} %", 100.0 * ms / total);
    }
    println!("  sum over nodes {total:.3} ms");

    let (plan_min, plan_med) = min_median(iterations, || drop(black_box(state.run(tvec!(tensor.clone())))));
    let (embed_min, embed_med) = min_median(iterations, || drop(black_box(embedder.embed(&chip))));
    println!("  plan on a kept state: min {plan_min:.3} ms, median {plan_med:.3} ms");
    println!("  FaceEmbedder::embed:  min {embed_min:.3} ms, median {embed_med:.3} ms");
    println!("  load average after: {}", load_average_text());
    let kinds: serde_json::Map<String, serde_json::Value> = kinds
        .iter()
        .map(|(name, (count, ms))| (name.clone(), serde_json::json!({ "nodes": count, "cpu_ms": ms })))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "ops": kinds,
            "embed_cpu_min_ms": embed_min,
            "embed_cpu_median_ms": embed_med,
            "plan_cpu_min_ms": plan_min,
            "load_average": load_average_text(),
        })
    );
    Ok(())
}
