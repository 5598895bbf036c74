//! `cargo xtask <task>`: the project's own tasks.
//!
//! ```text
//! cargo xtask demo            set up, build the SDK, start the verifier (SQLite) and the demo page
//! cargo xtask test            set up, then run every test: lint, unit, integration, wasm in Chromium, end-to-end
//! cargo xtask setup           install what is missing (idempotent; also run by demo and test)
//! cargo xtask models          fetch the pinned models into the cache and check their SHA-256
//! cargo xtask build-sdk       build the npm package from pkg-template/ into target/sdk/package
//! cargo xtask e2e-assets DIR  write the fake-camera Y4M files the end-to-end test uses
//! cargo xtask eval <area>     accuracy evaluations on real data (--data DIR, default ../shared/data)
//! cargo xtask bench <area>    benchmarks (native criterion, wasm in Chromium, peers side by side)
//! cargo xtask fuzz <target>   run a cargo-fuzz target for a bounded time
//! cargo xtask wasm-simd FILE  which functions of a wasm module use SIMD, by crate
//! ```

mod bench;
mod bench_document;
mod bench_faces;
mod bench_facewasm;
mod bench_first_guidance;
mod bench_intake;
mod bench_screening;
mod demo;
mod eval;
mod fuzz;
mod models;
mod sdk;
mod sdk_budget;
mod sdk_face;
mod selfie_clips;
mod setup;
mod test;
mod util;
mod wasm_simd;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("setup") => setup::run(setup::Needs::all()),
        Some("models") => models::fetch_all().map(|_| ()),
        Some("build-sdk") => sdk::build().map(|_| ()),
        Some("e2e") => test::e2e(&args[1..]),
        Some("e2e-assets") => test::write_e2e_assets(args.get(1).map(String::as_str)),
        Some("eval") => eval::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("wasm-simd") => wasm_simd::report(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            println!("{}", include_str!("usage.txt"));
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`; run `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            if matches!(args.first().map(String::as_str), Some("test" | "e2e")) {
                util::step_report();
            }
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}
