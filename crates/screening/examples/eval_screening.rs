//! `cargo xtask eval screening --data DIR`: precision, recall and F1 of the name matcher on the
//! labelled pairs in `DIR/screening/name_pairs`, side by side with the frozen LogicV2 scores of
//! the same pairs. The threshold is the a-priori default (`DEFAULT_THRESHOLD`); a 10-fold
//! cross-validated threshold is reported as well. Writes every pair's score and explanation to
//! `OUT/pairs.csv`. The last line printed is one JSON object.

use std::path::PathBuf;

use trustcap_screening::config::DEFAULT_THRESHOLD;
use trustcap_screening::{EntityKind, compare_names};

struct Case {
    group: String,
    kind: EntityKind,
    name1: String,
    name2: String,
    is_match: bool,
    quality: String,
    logic_score: f32,
    logic_match: bool,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: u32,
    fp: u32,
    tn: u32,
    fn_: u32,
}

impl Counts {
    fn add(&mut self, truth: bool, predicted: bool) {
        match (truth, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }
    fn precision(&self) -> f64 {
        f64::from(self.tp) / f64::from((self.tp + self.fp).max(1))
    }
    fn recall(&self) -> f64 {
        f64::from(self.tp) / f64::from((self.tp + self.fn_).max(1))
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

fn kind_of(schema: &str) -> EntityKind {
    match schema {
        "Person" => EntityKind::Person,
        "Vessel" => EntityKind::Vessel,
        "Company" | "Organization" | "LegalEntity" => EntityKind::Organization,
        _ => EntityKind::Unknown,
    }
}

fn load(dir: &std::path::Path) -> Result<Vec<Case>, String> {
    let cases_path = dir.join("nomenklatura_name_bench_cases.csv");
    let logic_path = dir.join("nomenklatura_logicv2_frozen_scores.csv");
    let mut cases = csv::Reader::from_path(&cases_path).map_err(|e| format!("{}: {e}", cases_path.display()))?;
    let mut logic = csv::Reader::from_path(&logic_path).map_err(|e| format!("{}: {e}", logic_path.display()))?;
    let ch = cases.headers().map_err(|e| e.to_string())?.clone();
    let lh = logic.headers().map_err(|e| e.to_string())?.clone();
    let col = |h: &csv::StringRecord, name: &str| h.iter().position(|c| c == name).ok_or(format!("no column {name}"));
    let (g, s, n1, n2, m, q) = (
        col(&ch, "case_group")?,
        col(&ch, "schema")?,
        col(&ch, "name1")?,
        col(&ch, "name2")?,
        col(&ch, "is_match")?,
        col(&ch, "quality")?,
    );
    let (ln1, ln2, ls, lp) = (col(&lh, "name1")?, col(&lh, "name2")?, col(&lh, "score")?, col(&lh, "predicted_match")?);
    let mut out = Vec::new();
    for (a, b) in cases.records().zip(logic.records()) {
        let (a, b) = (a.map_err(|e| e.to_string())?, b.map_err(|e| e.to_string())?);
        let get = |r: &csv::StringRecord, i: usize| r.get(i).unwrap_or("").to_string();
        if get(&a, n1) != get(&b, ln1) || get(&a, n2) != get(&b, ln2) {
            return Err(format!("the two files disagree at pair {}", out.len() + 1));
        }
        out.push(Case {
            group: get(&a, g),
            kind: kind_of(&get(&a, s)),
            name1: get(&a, n1),
            name2: get(&a, n2),
            is_match: get(&a, m) == "true",
            quality: get(&a, q),
            logic_score: get(&b, ls).parse().map_err(|e| format!("LogicV2 score: {e}"))?,
            logic_match: get(&b, lp) == "true",
        });
    }
    Ok(out)
}

fn best_threshold(pairs: &[(f32, bool)]) -> f32 {
    let mut best = (0.0, DEFAULT_THRESHOLD);
    for step in 50..=98 {
        let t = step as f32 / 100.0;
        let mut c = Counts::default();
        for (s, truth) in pairs {
            c.add(*truth, *s >= t);
        }
        if c.f1() > best.0 {
            best = (c.f1(), t);
        }
    }
    best.1
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let data = arg("--data").unwrap_or_else(|| PathBuf::from("../shared/data"));
    let out = arg("--out").unwrap_or_else(|| PathBuf::from("target/eval/screening"));
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let cases = load(&data.join("screening").join("name_pairs"))?;

    // One pass to build the lookup tables, then the timed pass.
    for c in &cases {
        std::hint::black_box(compare_names(&c.name1, &c.name2, c.kind));
    }
    let start = std::time::Instant::now();
    let results: Vec<_> = cases.iter().map(|c| compare_names(&c.name1, &c.name2, c.kind)).collect();
    let per_pair_us = start.elapsed().as_secs_f64() * 1e6 / cases.len().max(1) as f64;

    let (mut ours, mut logic) = (Counts::default(), Counts::default());
    let mut groups: std::collections::BTreeMap<String, (Counts, Counts)> = Default::default();
    let mut csv_out = csv::Writer::from_path(out.join("pairs.csv")).map_err(|e| e.to_string())?;
    csv_out
        .write_record([
            "case_group",
            "name1",
            "name2",
            "is_match",
            "quality",
            "score",
            "predicted",
            "logicv2_score",
            "logicv2_predicted",
            "explanation",
        ])
        .map_err(|e| e.to_string())?;
    let mut mistakes = Vec::new();
    for (c, r) in cases.iter().zip(&results) {
        let predicted = r.score >= DEFAULT_THRESHOLD;
        ours.add(c.is_match, predicted);
        logic.add(c.is_match, c.logic_match);
        let g = groups.entry(c.group.clone()).or_default();
        g.0.add(c.is_match, predicted);
        g.1.add(c.is_match, c.logic_match);
        let explanation: Vec<String> =
            r.parts.iter().map(|p| format!("{}~{} {:?} {:.2}", p.query, p.candidate, p.how, p.similarity)).collect();
        csv_out
            .write_record([
                c.group.as_str(),
                &c.name1,
                &c.name2,
                &c.is_match.to_string(),
                &c.quality,
                &format!("{:.4}", r.score),
                &predicted.to_string(),
                &format!("{:.4}", c.logic_score),
                &c.logic_match.to_string(),
                &explanation.join("; "),
            ])
            .map_err(|e| e.to_string())?;
        if predicted != c.is_match {
            mistakes.push(format!(
                "  {} {:.3} (LogicV2 {:.3})  {} | {}",
                if c.is_match { "FN" } else { "FP" },
                r.score,
                c.logic_score,
                c.name1,
                c.name2
            ));
        }
    }
    csv_out.flush().map_err(|e| e.to_string())?;

    // 10-fold cross-validation of the threshold: each pair is predicted with a threshold
    // chosen (best F1) on the other nine folds.
    let scored: Vec<(f32, bool)> = cases.iter().zip(&results).map(|(c, r)| (r.score, c.is_match)).collect();
    let mut cv = Counts::default();
    let mut cv_thresholds = Vec::new();
    for fold in 0..10 {
        let train: Vec<(f32, bool)> =
            scored.iter().enumerate().filter(|(i, _)| i % 10 != fold).map(|(_, p)| *p).collect();
        let t = best_threshold(&train);
        cv_thresholds.push(t);
        for (_, (s, truth)) in scored.iter().enumerate().filter(|(i, _)| i % 10 == fold) {
            cv.add(*truth, *s >= t);
        }
    }

    println!("Screening name matcher on {} labelled pairs ({})", cases.len(), data.display());
    println!("threshold {DEFAULT_THRESHOLD} (fixed a priori; LogicV2 at its default 0.7)\n");
    println!("{:<24} {:>6} {:>6} {:>6}   {:>6} {:>6} {:>6}", "", "P", "R", "F1", "LV2 P", "LV2 R", "LV2 F1");
    let row = |name: &str, a: &Counts, b: &Counts| {
        println!(
            "{:<24} {:>6.3} {:>6.3} {:>6.3}   {:>6.3} {:>6.3} {:>6.3}",
            name,
            a.precision(),
            a.recall(),
            a.f1(),
            b.precision(),
            b.recall(),
            b.f1()
        )
    };
    row("all pairs", &ours, &logic);
    for (g, (a, b)) in &groups {
        row(&format!("  {g}"), a, b);
    }
    println!(
        "\n10-fold cross-validated threshold (chosen per fold on the other nine): F1 {:.3} (thresholds {:?})",
        cv.f1(),
        cv_thresholds
    );
    println!("mean time per comparison, both names prepared from text: {per_pair_us:.1} µs");
    println!("\nMistakes at the default threshold ({}):", mistakes.len());
    for m in &mistakes {
        println!("{m}");
    }
    println!("\nPer-pair scores and explanations: {}", out.join("pairs.csv").display());
    let json = serde_json::json!({
        "pairs": cases.len(),
        "threshold": DEFAULT_THRESHOLD,
        "precision": ours.precision(),
        "recall": ours.recall(),
        "f1": ours.f1(),
        "cv_f1": cv.f1(),
        "logicv2_precision": logic.precision(),
        "logicv2_recall": logic.recall(),
        "logicv2_f1": logic.f1(),
        "us_per_comparison": per_pair_us,
    });
    println!("{json}");
    Ok(())
}
