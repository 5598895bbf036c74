//! The screening benchmark behind `cargo xtask bench screening`: loads every list under
//! `--data DIR` (default `../shared/data/screening`), reports the import (entities, names, bad
//! rows per list), then screens generated queries on one thread and reports queries per
//! second and p50/p99 latency. `--pairs FILE` writes the query/candidate name pairs of the
//! first queries for the LogicV2 side-by-side; `--scale N` repeats the run over N synthetic
//! entities built from the real names, and reports peak RSS. The last line is one JSON object.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use trustcap_cputime::thread_cpu_ms;
use trustcap_screening::import::dir::load_dir;
use trustcap_screening::{Entity, EntityKind, ListSource, ListVersion, NameStrength, Query, Screener, ScreeningConfig};

/// A small deterministic generator (xorshift64*), so every run screens the same queries.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn typo(word: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 4 {
        return word.to_string();
    }
    let i = 1 + rng.below(chars.len() - 2);
    match rng.below(3) {
        0 => {
            chars.remove(i);
        }
        1 => chars.swap(i, i + 1),
        _ => chars.insert(i, chars[i]),
    }
    chars.into_iter().collect()
}

/// Queries: a third exact listed names, a third perturbed (typo, reordered words, a word
/// dropped), a third recombined words of different entities (mostly no match).
fn queries(entities: &[Entity], n: usize, rng: &mut Rng) -> Vec<Query> {
    let words: Vec<&str> =
        entities.iter().filter_map(|e| e.primary_name()).flat_map(|n| n.split_whitespace()).collect();
    (0..n)
        .map(|i| {
            let e = &entities[rng.below(entities.len())];
            let name = e.names.get(rng.below(e.names.len())).map_or("", |n| n.full.as_str());
            let text = match i % 3 {
                0 => name.to_string(),
                1 => {
                    let mut w: Vec<String> = name.replace(',', "").split_whitespace().map(String::from).collect();
                    if w.len() > 1 {
                        let j = rng.below(w.len());
                        w[j] = typo(&w[j], rng);
                        if rng.below(2) == 0 {
                            w.reverse();
                        }
                        if w.len() > 3 {
                            w.remove(1);
                        }
                    }
                    w.join(" ")
                }
                _ => (0..2 + rng.below(2)).map(|_| words[rng.below(words.len())]).collect::<Vec<_>>().join(" "),
            };
            Query::name(text)
        })
        .collect()
}

/// Entities built from the real names: each takes words from several real names, so the
/// vocabulary stays realistic while the names are new.
fn synthetic(base: &[Entity], n: usize, rng: &mut Rng) -> Vec<Entity> {
    let persons: Vec<&Entity> = base.iter().filter(|e| e.kind == EntityKind::Person).collect();
    let orgs: Vec<&Entity> = base.iter().filter(|e| e.kind != EntityKind::Person).collect();
    let words = |set: &[&Entity]| -> Vec<String> {
        set.iter()
            .filter_map(|e| e.primary_name())
            .flat_map(|n| n.replace(',', "").split_whitespace().map(String::from).collect::<Vec<_>>())
            .collect()
    };
    let (pw, ow) = (words(&persons), words(&orgs));
    let version: std::sync::Arc<str> = std::sync::Arc::from("synthetic@1");
    (0..n)
        .map(|i| {
            let person = rng.below(3) < 2;
            let pool = if person { &pw } else { &ow };
            let kind = if person { EntityKind::Person } else { EntityKind::Organization };
            let mut e = Entity::new(ListSource::OpenSanctions, &format!("synth-{i}"), version.clone(), kind);
            let len = 2 + rng.below(3);
            let name: Vec<&str> = (0..len).map(|_| pool[rng.below(pool.len())].as_str()).collect();
            e.add_name_str(&name.join(" "), NameStrength::Primary);
            if rng.below(2) == 0 {
                let alias: Vec<&str> = (0..len).map(|_| pool[rng.below(pool.len())].as_str()).collect();
                e.add_name_str(&alias.join(" "), NameStrength::Strong);
            }
            e
        })
        .collect()
}

struct Run {
    qps: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_p50_ms: f64,
    cpu_p99_ms: f64,
    mean_names_scored: f64,
    hits_per_query: f64,
}

fn run(screener: &Screener, qs: &[Query]) -> Run {
    let config = ScreeningConfig::default();
    // Warm up the thread's scratch buffers and caches.
    for q in qs.iter().take(50) {
        std::hint::black_box(screener.screen(q, &config));
    }
    let mut lat = Vec::with_capacity(qs.len());
    let mut cpu = Vec::with_capacity(qs.len());
    let (mut scored, mut hits) = (0usize, 0usize);
    let mut slowest: Vec<(f64, &str)> = Vec::new();
    let start = Instant::now();
    for q in qs {
        let t = Instant::now();
        let c = thread_cpu_ms();
        let r = screener.screen(q, &config);
        cpu.push(thread_cpu_ms() - c);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        lat.push(ms);
        slowest.push((ms, q.name.as_str()));
        scored += r.names_scored;
        hits += r.hits.len();
    }
    let total = start.elapsed().as_secs_f64();
    if std::env::var_os("SCREENING_BENCH_SLOWEST").is_some() {
        slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (ms, name) in slowest.iter().take(8) {
            println!("    slow query {ms:.2} ms: {name}");
        }
    }
    lat.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let pct = |v: &[f64], p: f64| v.get(((v.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
    Run {
        qps: qs.len() as f64 / total,
        p50_ms: pct(&lat, 0.5),
        p99_ms: pct(&lat, 0.99),
        cpu_p50_ms: pct(&cpu, 0.5),
        cpu_p99_ms: pct(&cpu, 0.99),
        mean_names_scored: scored as f64 / qs.len().max(1) as f64,
        hits_per_query: hits as f64 / qs.len().max(1) as f64,
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let data = arg("--data").map_or_else(|| PathBuf::from("../shared/data/screening"), PathBuf::from);
    let n_queries: usize = arg("--queries").and_then(|v| v.parse().ok()).unwrap_or(5000);
    let scale: usize = arg("--scale").and_then(|v| v.parse().ok()).unwrap_or(0);

    let t = Instant::now();
    let reports = load_dir(&data).map_err(|e| e.to_string())?;
    let import_s = t.elapsed().as_secs_f64();
    println!("Lists in {} (imported in {import_s:.2} s):", data.display());
    let mut bad_total = 0;
    for r in &reports {
        let names: usize = r.entities.iter().map(|e| e.names.len()).sum();
        bad_total += r.bad_row_count;
        println!(
            "  {:<44} {:>6} entities {:>6} names {:>5} bad records {:>5} skipped",
            r.version.to_string(),
            r.entities.len(),
            names,
            r.bad_row_count,
            r.skipped
        );
        for b in r.bad_rows.iter().take(3) {
            println!("      bad: {} record {}: {}", b.file, b.record, b.reason);
        }
    }
    let t = Instant::now();
    let screener = Screener::from_reports(reports);
    let build_s = t.elapsed().as_secs_f64();
    println!("Screener: {} entities, {} names indexed, built in {build_s:.2} s", screener.len(), screener.name_count());
    if screener.is_empty() {
        return Err(format!("no list found under {}", data.display()));
    }
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let qs = queries(screener.entities(), n_queries, &mut rng);
    let real = run(&screener, &qs);
    println!(
        "Real lists, {} queries on one thread: {:.0} queries/s, p50 {:.3} ms, p99 {:.3} ms wall clock; \
         thread CPU time p50 {:.3} ms, p99 {:.3} ms ({:.1} names scored and {:.2} hits per query)",
        qs.len(),
        real.qps,
        real.p50_ms,
        real.p99_ms,
        real.cpu_p50_ms,
        real.cpu_p99_ms,
        real.mean_names_scored,
        real.hits_per_query
    );
    let load1 = trustcap_cputime::load_average().map_or(f64::NAN, |l| l[0]);
    println!("  (load average during the run: {})", trustcap_cputime::load_average_text());
    let mut figures = serde_json::json!({
        "entities": screener.len(),
        "names": screener.name_count(),
        "bad_records": bad_total,
        "build_s": build_s,
        "queries": qs.len(),
        "qps_per_core": real.qps,
        "p50_ms": real.p50_ms,
        "p99_ms": real.p99_ms,
        "cpu_p50_ms": real.cpu_p50_ms,
        "cpu_p99_ms": real.cpu_p99_ms,
        "load_average_1m": load1,
        "names_scored_per_query": real.mean_names_scored,
    });

    if let Some(path) = arg("--pairs") {
        let n: usize = arg("--pair-queries").and_then(|v| v.parse().ok()).unwrap_or(300);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(|e| e.to_string())?);
        let mut pairs = 0;
        for q in qs.iter().take(n) {
            for (name, kind) in screener.candidate_names(q) {
                let schema = match kind {
                    EntityKind::Person => "Person",
                    EntityKind::Organization => "Organization",
                    EntityKind::Vessel => "Vessel",
                    EntityKind::Aircraft => "Airplane",
                    EntityKind::Unknown => "LegalEntity",
                };
                let line = serde_json::json!([q.name, name, schema]);
                writeln!(out, "{line}").map_err(|e| e.to_string())?;
                pairs += 1;
            }
        }
        out.flush().map_err(|e| e.to_string())?;
        // The same pairs scored by this matcher alone (no index), for the per-comparison cost.
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let parsed: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<(String, String, String)>(l).ok())
            .map(|(a, b, _)| (a, b))
            .collect();
        let t = Instant::now();
        for (a, b) in &parsed {
            std::hint::black_box(trustcap_screening::compare_names(a, b, EntityKind::Unknown));
        }
        let per_pair_ms = t.elapsed().as_secs_f64() * 1e3 / parsed.len().max(1) as f64;
        let per_query_ms = 1e3 / real.qps;
        println!(
            "Pairs for LogicV2: {pairs} query/candidate pairs of the first {n} queries written to {path}; \
             this matcher on the same pairs from text: {per_pair_ms:.4} ms per comparison"
        );
        figures["pairs_queries"] = serde_json::json!(n);
        figures["pairs"] = serde_json::json!(pairs);
        figures["ms_per_comparison_from_text"] = serde_json::json!(per_pair_ms);
        figures["ms_per_query"] = serde_json::json!(per_query_ms);
    }

    if scale > 0 {
        let base: Vec<Entity> = screener.entities().to_vec();
        let versions: Vec<ListVersion> = screener.list_versions().to_vec();
        drop(screener);
        let t = Instant::now();
        let mut entities = synthetic(&base, scale, &mut rng);
        entities.extend(base);
        let big = Screener::new(entities, versions);
        let build = t.elapsed().as_secs_f64();
        let qs = queries(big.entities(), n_queries.min(3000), &mut rng);
        let r = run(&big, &qs);
        let rss = peak_rss_mb();
        println!(
            "Scale run: {} entities ({} names), built in {build:.1} s; {} queries: {:.0} queries/s, p50 {:.3} ms, p99 {:.3} ms \
             (thread CPU p99 {:.3} ms); peak RSS {rss:.0} MB",
            big.len(),
            big.name_count(),
            qs.len(),
            r.qps,
            r.p50_ms,
            r.p99_ms,
            r.cpu_p99_ms
        );
        figures["scale_entities"] = serde_json::json!(big.len());
        figures["scale_names"] = serde_json::json!(big.name_count());
        figures["scale_build_s"] = serde_json::json!(build);
        figures["scale_qps_per_core"] = serde_json::json!(r.qps);
        figures["scale_p50_ms"] = serde_json::json!(r.p50_ms);
        figures["scale_p99_ms"] = serde_json::json!(r.p99_ms);
        figures["scale_cpu_p99_ms"] = serde_json::json!(r.cpu_p99_ms);
        figures["scale_peak_rss_mb"] = serde_json::json!(rss);
    }
    println!("{figures}");
    Ok(())
}
