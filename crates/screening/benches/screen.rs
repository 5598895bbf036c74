//! Criterion benchmarks of the screening hot paths: name preparation, one name comparison, and
//! one full screening query against every list in `../shared/data/screening` (or
//! `$TRUSTCAP_SCREENING_DATA`; without it, against a small built-in list).

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use trustcap_screening::import::dir::load_dir;
use trustcap_screening::{
    Entity, EntityKind, ListSource, NameStrength, Query, Screener, ScreeningConfig, compare_names, prepare,
};

fn screener() -> Screener {
    let dir = std::env::var_os("TRUSTCAP_SCREENING_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/screening"));
    if let Ok(reports) = load_dir(&dir)
        && !reports.is_empty()
    {
        return Screener::from_reports(reports);
    }
    let names = ["Vladimir Putin", "Muammar Gaddafi", "Osama bin Laden", "Kim Jong Un", "Gazprom Neft JSC"];
    let v: Arc<str> = Arc::from("builtin@1");
    let entities = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut e = Entity::new(ListSource::OpenSanctions, &i.to_string(), v.clone(), EntityKind::Unknown);
            e.add_name_str(n, NameStrength::Primary);
            e
        })
        .collect();
    Screener::new(entities, Vec::new())
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("screening");
    g.bench_function("prepare_name", |b| {
        b.iter(|| prepare(black_box("Usāma bin Muhammad ibn Awad ibn Lādin"), EntityKind::Person))
    });
    g.bench_function("compare_names", |b| {
        b.iter(|| {
            compare_names(
                black_box("Moammar Qaddafi"),
                black_box("Muammar Muhammad Abu Minyar al-Gaddafi"),
                EntityKind::Person,
            )
        })
    });
    let s = screener();
    let config = ScreeningConfig::default();
    let queries: Vec<Query> = ["Vladimir Putin", "Mohammed Ali Hassan", "Gazprom Neft", "Kim Jong-un", "John Smith"]
        .iter()
        .map(|n| Query::name(*n))
        .collect();
    g.bench_function("screen_query", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % queries.len();
            s.screen(black_box(&queries[i]), &config)
        })
    });
    g.finish();
}

criterion_group!(screening, benches);
criterion_main!(screening);
