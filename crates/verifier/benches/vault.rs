//! Cost of encryption at rest: sealing and opening a 1 MiB capture image with a session's
//! data key, and unwrapping a data key (what every read of a session pays once).
//!
//! `cargo bench -p trustcap-verifier --bench vault`. After criterion's figures it prints the
//! per-thread CPU time of the same work (from `/proc/thread-self/schedstat`), which a busy
//! machine inflates less than wall-clock time.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trustcap_verifier::vault::{KeyRing, Purpose};

const IMAGE_BYTES: usize = 1 << 20;

fn ring() -> KeyRing {
    KeyRing::new(vec![("k1".to_owned(), [7; 32])]).expect("a valid ring")
}

fn image() -> Vec<u8> {
    (0..IMAGE_BYTES).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// Nanoseconds this thread has run on a CPU (Linux), if known.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn cpu_per_iteration(label: &str, iterations: u32, mut work: impl FnMut()) {
    let (Some(start), wall) = (thread_cpu_ns(), std::time::Instant::now()) else {
        println!("{label}: per-thread CPU time unavailable");
        return;
    };
    for _ in 0..iterations {
        work();
    }
    let wall = wall.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
    let cpu = thread_cpu_ns().map_or(0.0, |end| (end - start) as f64 / 1e3 / f64::from(iterations));
    println!("{label}: {cpu:.1} µs CPU per iteration ({wall:.1} µs wall)");
}

fn bench(c: &mut Criterion) {
    let ring = ring();
    let (vault, wrapped) = ring.new_key("ten_bench", "ses_bench");
    let image = image();
    let sealed = vault.seal(Purpose::CaptureImage("ab"), &image);

    let mut group = c.benchmark_group("vault");
    group.throughput(Throughput::Bytes(IMAGE_BYTES as u64));
    group.bench_function("seal_1mib", |b| b.iter(|| vault.seal(Purpose::CaptureImage("ab"), black_box(&image))));
    group.bench_function("open_1mib", |b| b.iter(|| vault.open(Purpose::CaptureImage("ab"), black_box(&sealed))));
    group.finish();
    c.bench_function("vault/unwrap_data_key", |b| {
        b.iter(|| ring.vault("ten_bench", "ses_bench", black_box(&wrapped)).expect("unwraps"))
    });

    cpu_per_iteration("seal 1 MiB", 200, || {
        black_box(vault.seal(Purpose::CaptureImage("ab"), black_box(&image)));
    });
    cpu_per_iteration("open 1 MiB", 200, || {
        black_box(vault.open(Purpose::CaptureImage("ab"), black_box(&sealed)).ok());
    });
    cpu_per_iteration("unwrap data key", 20_000, || {
        black_box(ring.vault("ten_bench", "ses_bench", black_box(&wrapped)).ok());
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
