//! Loads every list found in a folder with one subfolder per list (`ofac_sdn_2021/`, `un/`, `us_bis_dpl/`, ...;
//! or one holding the published files directly): OFAC SDN and consolidated legacy CSV, UN XML, BIS DPL, CSL
//! CSV, FtM JSON lines, Senzing JSON, EU FSF XML, UK OFSI CSV. Missing lists are skipped.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::import::{ImportError, ImportOptions, ImportReport, bis, csl, eu, ftm, ofac, senzing, uk, un};
use crate::model::ListSource;

fn open(path: &Path) -> Result<Option<BufReader<File>>, ImportError> {
    if path.is_file() { Ok(Some(BufReader::new(File::open(path)?))) } else { Ok(None) }
}

fn files_with(dir: &Path, ext: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
                    ext.iter().any(|e| name.ends_with(e))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn ofac_in(dir: &Path, source: ListSource, names: [&str; 4]) -> Result<Option<ImportReport>, ImportError> {
    let [main, alt, add, comments] = names.map(|n| dir.join(n));
    let Some(main) = open(&main)? else { return Ok(None) };
    let files = ofac::OfacFiles { main, alt: open(&alt)?, add: open(&add)?, comments: open(&comments)? };
    Ok(Some(ofac::import(source, files, &ImportOptions::default())?))
}

/// Imports every list under `root`. The labelled name pairs and examples are not lists and are
/// ignored; so is the mini SDN sample when the full SDN list is there.
pub fn load_dir(root: &Path) -> Result<Vec<ImportReport>, ImportError> {
    let opts = ImportOptions::default();
    let mut reports = Vec::new();
    let sdn = ["sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"];
    let sdn_report = ofac_in(&root.join("ofac_sdn_2021"), ListSource::OfacSdn, sdn)?.map(Some).unwrap_or(ofac_in(
        root,
        ListSource::OfacSdn,
        sdn,
    )?);
    reports.extend(sdn_report);
    let cons = ["cons_prim.csv", "cons_alt.csv", "cons_add.csv", "cons_comments.csv"];
    reports.extend(ofac_in(&root.join("ofac_consolidated_nonsdn"), ListSource::OfacConsolidated, cons)?);
    reports.extend(ofac_in(root, ListSource::OfacConsolidated, cons)?);
    for path in files_with(&root.join("un"), &[".xml"]) {
        reports.push(un::import(BufReader::new(File::open(&path)?), &opts)?);
    }
    if let Some(f) = open(&root.join("us_bis_dpl").join("dpl.txt"))? {
        reports.push(bis::import(f, &opts)?);
    }
    for path in files_with(&root.join("us_csl"), &[".csv"]) {
        reports.push(csl::import(BufReader::new(File::open(&path)?), &opts)?);
    }
    for path in files_with(&root.join("ftm_entities"), &[".json", ".jsonl", ".ftm"]) {
        reports.push(ftm::import(BufReader::new(File::open(&path)?), &opts)?);
    }
    for path in files_with(&root.join("opensanctions_senzing"), &[".json", ".jsonl"]) {
        if path.file_name().is_some_and(|n| n.to_string_lossy().contains("format")) {
            continue;
        }
        reports.push(senzing::import(BufReader::new(File::open(&path)?), &opts)?);
    }
    for path in files_with(&root.join("eu"), &[".xml"]) {
        reports.push(eu::import(BufReader::new(File::open(&path)?), &opts)?);
    }
    for path in files_with(&root.join("uk"), &[".csv"]) {
        reports.push(uk::import(BufReader::new(File::open(&path)?), &opts)?);
    }
    Ok(reports)
}
