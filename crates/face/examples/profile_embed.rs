//! Per-node profile of the dlib embedding in tract, in per-thread CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`).
//!
//! `cargo run --release -p trustcap-face --example profile_embed [-- --iterations N] [-- --nodes]`
//! (model from `cargo xtask models`). Builds the optimised plan exactly as
//! [`trustcap_face::graph::Compiled`] does, runs it on the astronaut's chip with a timing closure
//! around every node, and prints the time per operator kind (and with `--nodes` per node, with the m, k, n and
//! the tract-linalg kernel of every matrix product),
//! then the whole embedding's minimum and median thread CPU time through each engine: tract and
//! the direct convolution (`trustcap_face::direct`, what `FaceEmbedder` runs on CPUs that
//! have AVX-512 or AVX2 with FMA), timed in alternation in one process. Last line: one JSON object.

use std::collections::BTreeMap;
use std::hint::black_box;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::plan::{SimpleState, eval};
use trustcap_cputime::{interleaved, load_average_text, thread_cpu_ms};
use trustcap_face::architecture::dlib_resnet;
use trustcap_face::dlib::model::DlibModel;
use trustcap_face::graph::Compiled;
use trustcap_face::matcher::rgba;
use trustcap_face::{EmbedEngine, FaceEmbedder, FaceMatcher, Role};
use trustcap_vision::Frame;
use trustcap_vision::face::default_model_dir;

/// Minimum and median of `n` thread-CPU timings of `f` (after two warm-up runs).
fn min_median(n: usize, mut f: impl FnMut()) -> (f64, f64) {
    interleaved(n, &mut [&mut f])[0]
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
    let tract = FaceEmbedder::from_bytes_with(&bytes, EmbedEngine::Tract)?;
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
    // The direct engine per node, summed over the runs.
    let direct = trustcap_face::direct::DirectNet::new(&network, trustcap_conv::Backend::detect())?;
    let mut direct_spent: Vec<(String, f64)> = Vec::new();
    for run in 0..iterations + 2 {
        let (_, times) = direct.run_timed(&input, &mut thread_cpu_ms)?;
        if run == 2 {
            direct_spent = times;
        } else if run > 2 {
            direct_spent.iter_mut().zip(times).for_each(|(a, (_, ms))| a.1 += ms);
        }
    }
    let mut direct_kinds: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    println!("Direct engine ({:?}) per node, thread CPU (mean of {iterations} runs):", direct.backend());
    for (label, ms) in &direct_spent {
        let ms = ms / iterations as f64;
        if per_node {
            println!("  {ms:>7.3} ms  {label}");
        }
        let kind = label.split(" -> ").next().unwrap_or(label).to_string();
        let entry = direct_kinds.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += ms;
    }
    for (kind, (count, ms)) in &direct_kinds {
        println!("  {kind:<28} ×{count:<3} {ms:>7.3} ms");
    }
    println!("  sum over nodes {:.3} ms", direct_kinds.values().map(|v| v.1).sum::<f64>());

    let engines = interleaved(
        iterations,
        &mut [&mut || drop(black_box(embedder.embed(&chip))), &mut || drop(black_box(tract.embed(&chip)))],
    );
    let ((embed_min, embed_med), (tract_min, tract_med)) = (engines[0], engines[1]);
    println!("  plan on a kept state: min {plan_min:.3} ms, median {plan_med:.3} ms");
    println!("Whole embedding, thread CPU, the engines taking turns ({iterations} runs each):");
    println!("  FaceEmbedder::embed ({:?}): min {embed_min:.3} ms, median {embed_med:.3} ms", embedder.engine());
    println!("  FaceEmbedder::embed (Tract):  min {tract_min:.3} ms, median {tract_med:.3} ms");
    println!("  tract / default engine: {:.2}x (min), {:.2}x (median)", tract_min / embed_min, tract_med / embed_med);
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
            "embed_engine": format!("{:?}", embedder.engine()),
            "tract_embed_cpu_min_ms": tract_min,
            "tract_embed_cpu_median_ms": tract_med,
            "speedup_vs_tract": tract_min / embed_min,
            "plan_cpu_min_ms": plan_min,
            "load_average": load_average_text(),
        })
    );
    Ok(())
}
