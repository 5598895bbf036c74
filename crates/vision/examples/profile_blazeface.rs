//! BlazeFace-128 and -256 through both engines, timed in turn in one process (thread CPU time,
//! `CLOCK_THREAD_CPUTIME_ID`), on the astronaut portrait letterboxed to each model's input.
//!
//! `cargo run --release -p trustcap-vision --features face --example profile_blazeface [-- --iterations N]`
//! (models from `cargo xtask models`). Prints the minimum and median per engine and the ratio;
//! the last line is one JSON object.

use std::hint::black_box;

use tract_onnx::prelude::Framework;
use trustcap_cputime::{interleaved, load_average_text, thread_cpu_ms};
use trustcap_vision::Frame;
use trustcap_vision::face::{BlazeFace, BlazeFaceVariant, FaceEngine, default_model_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut iterations = 40usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iterations" => iterations = args.next().ok_or("--iterations needs a value")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = default_model_dir();
    let astronaut = image::open(dir.join("astronaut.png"))?.to_rgba8();
    let frame = Frame::packed(astronaut.as_raw(), astronaut.width(), astronaut.height())?;
    let mut json = serde_json::Map::new();
    println!(
        "BlazeFace per frame, thread CPU ms, the engines in turn ({iterations} runs each; load average {})",
        load_average_text()
    );
    for (variant, key) in [(BlazeFaceVariant::Front128, "front128"), (BlazeFaceVariant::Back256, "back256")] {
        let mut direct = BlazeFace::from_dir_with(&dir, variant, FaceEngine::Direct)?;
        let mut tract = BlazeFace::from_dir_with(&dir, variant, FaceEngine::Tract)?;
        let t = interleaved(
            iterations,
            &mut [&mut || drop(black_box(direct.detect(&frame))), &mut || drop(black_box(tract.detect(&frame)))],
        );
        let ((d_min, d_med), (t_min, t_med)) = (t[0], t[1]);
        println!(
            "  {variant:?} detect: direct min {d_min:.3} median {d_med:.3}; tract min {t_min:.3} median {t_med:.3}; tract / direct {:.2}x (min)",
            t_min / d_min
        );
        json.insert(format!("{key}_direct_ms"), d_min.into());
        json.insert(format!("{key}_tract_ms"), t_min.into());
        json.insert(format!("{key}_speedup"), (t_min / d_min).into());
    }
    // The direct engine per operator kind on BlazeFace-256 (the heavier model).
    let bytes = std::fs::read(dir.join(BlazeFaceVariant::Back256.file_name()))?;
    let mut proto = tract_onnx::onnx().proto_model_for_read(&mut std::io::Cursor::new(&bytes))?;
    trustcap_vision::face::fix_constant_of_shape(&mut proto);
    let mut graph = trustcap_vision::face::direct::DirectGraph::compile(&proto, 256, trustcap_conv::Backend::detect())?;
    let input = vec![0.25f32; 256 * 256 * 3];
    let mut kinds: std::collections::BTreeMap<&'static str, (usize, f64)> = Default::default();
    for run in 0..iterations.min(20) + 2 {
        let mut last = thread_cpu_ms();
        graph.run_with(&input, |_, label| {
            let now = thread_cpu_ms();
            if run >= 2 {
                let e = kinds.entry(label).or_default();
                e.0 += 1;
                e.1 += now - last;
            }
            last = now;
        })?;
    }
    let runs = iterations.min(20) as f64;
    println!("  Back256 direct engine per operator kind (thread CPU ms per run):");
    for (label, (count, ms)) in &kinds {
        println!("    {label:<16} x{:<3} {:>7.3}", *count as f64 / runs, ms / runs);
    }
    json.insert("load_average".into(), load_average_text().into());
    println!("{}", serde_json::Value::Object(json));
    Ok(())
}
