//! Measuring aids for TrustCap's benchmarks and profilers.
//!
//! The project's machines are small and shared, so wall-clock timings swing with the
//! load. The benchmarks therefore also report the CPU time the measuring thread itself
//! used ([`thread_cpu_ms`]), which a loaded machine inflates far less, next to the load
//! average at the time ([`load_average`]).

#![warn(missing_docs)]

/// CPU time consumed so far by the calling thread, in milliseconds; `NaN` where the
/// platform has no per-thread CPU clock.
///
/// Take the difference of two readings around the work to measure.
pub fn thread_cpu_ms() -> f64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec and the clock id is a constant the
        // kernel knows; the call writes only into `ts`.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc == 0 { ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6 } else { f64::NAN }
    }
    #[cfg(not(unix))]
    {
        f64::NAN
    }
}

/// Minimum and median thread-CPU time ([`thread_cpu_ms`]) of each closure over `n` runs,
/// the closures taking turns so that a change of machine load hits them alike, after two
/// warm-up rounds. One `(min, median)` per closure, in order; `NaN` for `n == 0`.
pub fn interleaved(n: usize, fs: &mut [&mut dyn FnMut()]) -> Vec<(f64, f64)> {
    let mut times = vec![Vec::with_capacity(n); fs.len()];
    for round in 0..n + 2 {
        for (f, t) in fs.iter_mut().zip(times.iter_mut()) {
            let start = thread_cpu_ms();
            f();
            if round >= 2 {
                t.push(thread_cpu_ms() - start);
            }
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            (t.first().copied().unwrap_or(f64::NAN), t.get(n / 2).copied().unwrap_or(f64::NAN))
        })
        .collect()
}

/// The 1-, 5- and 15-minute load averages from `/proc/loadavg`, or `None` where that
/// file does not exist or cannot be read.
pub fn load_average() -> Option<[f64; 3]> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

/// The load averages as text for a report, e.g. `"1.32 1.74 1.82"`; `"unknown"` where
/// they cannot be read.
pub fn load_average_text() -> String {
    match load_average() {
        Some([a, b, c]) => format!("{a:.2} {b:.2} {c:.2}"),
        None => "unknown".to_owned(),
    }
}

fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut fields = text.split_whitespace().map(str::parse::<f64>);
    Some([fields.next()?.ok()?, fields.next()?.ok()?, fields.next()?.ok()?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_runs_each_closure_in_turn_and_reports_min_and_median() {
        let (mut a, mut b) = (0, 0);
        let spin = |k: u64| (0..k).fold(0u64, |x, i| std::hint::black_box(x ^ i));
        let times = interleaved(
            5,
            &mut [
                &mut || {
                    std::hint::black_box(spin(1000));
                    a += 1
                },
                &mut || {
                    std::hint::black_box(spin(100_000));
                    b += 1
                },
            ],
        );
        // Two warm-up rounds and five timed ones each.
        assert_eq!((a, b), (7, 7));
        assert_eq!(times.len(), 2);
        for (min, median) in &times {
            assert!(*min >= 0.0 && min <= median, "{min} {median}");
        }
        // No runs: no figure.
        let none = interleaved(0, &mut [&mut || ()]);
        assert!(none[0].0.is_nan() && none[0].1.is_nan());
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let before = thread_cpu_ms();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        std::hint::black_box(x);
        let after = thread_cpu_ms();
        assert!(after > before, "{before} -> {after}");
    }

    #[test]
    fn loadavg_parsing() {
        assert_eq!(parse_loadavg("1.32 1.74 1.82 2/300 1234\n"), Some([1.32, 1.74, 1.82]));
        assert_eq!(parse_loadavg("1.32 x 1.82"), None);
        assert_eq!(parse_loadavg(""), None);
    }
}
