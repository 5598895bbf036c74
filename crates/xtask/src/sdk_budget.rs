//! Size budgets of the SDK package, checked by `cargo xtask test` and reported by
//! `cargo xtask bench size`: the gzipped bytes of what a page downloads.
//!
//! - **Core SDK**: what a document step loads: `index.js` and every package module it imports
//!   statically (following `import … from './…'`, `export … from './…'` and worker scripts named
//!   with `new URL('./….js', import.meta.url)`), plus the core WebAssembly module. Budget 400 kB.
//! - **Full flow** (document + selfie): the core plus the modules imported on demand
//!   (`import('./…')`, the face module's glue) with their static imports, the face module's
//!   WebAssembly and the selfie's BlazeFace model (front-128). Budget 3 MB. A page loads one of
//!   the two face builds (with or without SIMD); the larger one present is counted.
//!
//! The import graph is read from the built package, so a module added to `pkg-template/` counts
//! as soon as something imports it. kB and MB are decimal (1 kB = 1000 bytes): the stricter reading.

use std::collections::BTreeSet;
use std::path::Path;

use crate::sdk::FileSize;

/// Budget of the core SDK, gzipped bytes.
pub const CORE_BUDGET: u64 = 400_000;
/// Budget of everything a document + selfie flow loads, gzipped bytes.
pub const FULL_FLOW_BUDGET: u64 = 3_000_000;
/// The core WebAssembly module (package-relative).
pub const CORE_WASM: &str = "wasm/trustcap_wasm_bg.wasm";
/// The face module's WebAssembly builds (with SIMD, without); a page loads one of them.
pub const FACE_WASM_BUILDS: [&str; 2] =
    ["wasm-face-simd/trustcap_wasm_face_bg.wasm", "wasm-face/trustcap_wasm_face_bg.wasm"];
/// The selfie step's BlazeFace model.
pub const SELFIE_MODEL: &str = "models/blazeface_front_128.onnx";
/// Entry point of the package.
const ENTRY: &str = "index.js";
/// Largest JS file read while following imports (the package's are tens of kB).
const MAX_JS_BYTES: u64 = 8 << 20;

/// The files of each budget with their sizes.
#[derive(Debug)]
pub struct Budgets {
    /// What the core SDK loads.
    pub core: Vec<FileSize>,
    /// What a document + selfie flow loads (includes `core`).
    pub full_flow: Vec<FileSize>,
}

impl Budgets {
    /// Gzipped bytes of the core SDK.
    pub fn core_gzip(&self) -> u64 {
        self.core.iter().map(|f| f.gzip).sum()
    }

    /// Gzipped bytes of the full flow.
    pub fn full_flow_gzip(&self) -> u64 {
        self.full_flow.iter().map(|f| f.gzip).sum()
    }

    /// Prints both lists and totals against their budgets.
    pub fn print(&self) {
        for (title, files, total, budget) in [
            ("core SDK (JS + core wasm)", &self.core, self.core_gzip(), CORE_BUDGET),
            ("full document + selfie flow", &self.full_flow, self.full_flow_gzip(), FULL_FLOW_BUDGET),
        ] {
            println!("  {title}: {total} bytes gzipped (budget {budget}), {} files", files.len());
            for f in files {
                println!("    {:<46} {:>9} raw {:>9} gzipped", f.path, f.raw, f.gzip);
            }
        }
    }

    /// An error naming every budget that is exceeded.
    pub fn check(&self) -> Result<(), String> {
        let mut over = Vec::new();
        if self.core_gzip() > CORE_BUDGET {
            over.push(format!("core SDK {} bytes gzipped > {CORE_BUDGET}", self.core_gzip()));
        }
        if self.full_flow_gzip() > FULL_FLOW_BUDGET {
            over.push(format!("full flow {} bytes gzipped > {FULL_FLOW_BUDGET}", self.full_flow_gzip()));
        }
        if over.is_empty() { Ok(()) } else { Err(format!("SDK size budget exceeded: {}", over.join("; "))) }
    }
}

/// Measures both budgets of the built package in `pkg`.
pub fn measure(pkg: &Path) -> Result<Budgets, String> {
    let (core_js, lazy_roots) = closure(pkg, &[ENTRY.to_owned()])?;
    let (lazy_js, _) = closure(pkg, &lazy_roots)?;
    let mut core = core_js.clone();
    core.insert(CORE_WASM.to_owned());
    let mut full = core.clone();
    full.extend(lazy_js);
    full.insert(SELFIE_MODEL.to_owned());
    let mut full_flow = sized(pkg, &full)?;
    let builds: BTreeSet<String> =
        FACE_WASM_BUILDS.iter().filter(|b| pkg.join(b).is_file()).map(|b| (*b).to_owned()).collect();
    let largest = sized(pkg, &builds)?.into_iter().max_by_key(|f| f.gzip).ok_or("the package has no face module")?;
    full_flow.push(largest);
    full_flow.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Budgets { core: sized(pkg, &core)?, full_flow })
}

/// Measures and checks the budgets, printing the figures (the test command's step).
pub fn check(pkg: &Path) -> Result<Budgets, String> {
    let budgets = measure(pkg)?;
    budgets.print();
    budgets.check()?;
    Ok(budgets)
}

fn sized(pkg: &Path, files: &BTreeSet<String>) -> Result<Vec<FileSize>, String> {
    files
        .iter()
        .map(|rel| {
            let data = std::fs::read(pkg.join(rel)).map_err(|e| format!("{rel}: {e}"))?;
            Ok(FileSize { path: rel.clone(), raw: data.len() as u64, gzip: crate::sdk::gzip_len(&data) })
        })
        .collect()
}

/// The package JS files reachable from `roots` through static imports, and the targets of the
/// dynamic imports met on the way (not followed).
fn closure(pkg: &Path, roots: &[String]) -> Result<(BTreeSet<String>, Vec<String>), String> {
    let mut seen = BTreeSet::new();
    let mut dynamic = Vec::new();
    let mut stack: Vec<String> = roots.to_vec();
    while let Some(rel) = stack.pop() {
        if !seen.insert(rel.clone()) {
            continue;
        }
        let path = pkg.join(&rel);
        let len = std::fs::metadata(&path).map_err(|e| format!("{rel}: {e}"))?.len();
        if len > MAX_JS_BYTES {
            return Err(format!("{rel} is {len} bytes, more than a package module may be"));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{rel}: {e}"))?;
        let imports = scan(&text);
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
        for spec in imports.r#static {
            stack.push(join(dir, &spec).ok_or_else(|| format!("{rel}: import {spec} leaves the package"))?);
        }
        for spec in imports.dynamic {
            dynamic.push(join(dir, &spec).ok_or_else(|| format!("{rel}: import({spec}) leaves the package"))?);
        }
    }
    Ok((seen, dynamic))
}

/// A module's relative JS imports.
#[derive(Debug, Default, PartialEq)]
struct Imports {
    /// `import … from './x.js'`, `export … from './x.js'`, `import './x.js'`, worker scripts.
    r#static: Vec<String>,
    /// `import('./x.js')`.
    dynamic: Vec<String>,
}

/// Finds the relative (`./`, `../`) JS specifiers of a module, skipping comment lines and blocks.
fn scan(source: &str) -> Imports {
    let code = strip_comments(source);
    let mut out = Imports::default();
    let quoted = |rest: &str| -> Option<String> {
        let rest = rest.trim_start();
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let body = &rest[1..];
        let end = body.find(quote)?;
        let spec = &body[..end];
        (spec.starts_with("./") || spec.starts_with("../")).then(|| spec.to_owned())
    };
    for (i, _) in code.match_indices("from") {
        let before_ok =
            i == 0 || !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '.');
        if before_ok && let Some(spec) = quoted(&code[i + 4..]) {
            out.r#static.push(spec);
        }
    }
    for (i, _) in code.match_indices("import") {
        let before_ok =
            i == 0 || !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '.');
        if !before_ok {
            continue;
        }
        let rest = &code[i + 6..];
        if let Some(call) = rest.trim_start().strip_prefix('(') {
            if let Some(spec) = quoted(call) {
                out.dynamic.push(spec);
            }
        } else if let Some(spec) = quoted(rest) {
            out.r#static.push(spec);
        }
    }
    for (i, _) in code.match_indices("new URL(") {
        if let Some(spec) = quoted(&code[i + 8..]).filter(|s| s.ends_with(".js") || s.ends_with(".mjs")) {
            out.r#static.push(spec);
        }
    }
    out
}

/// The source without `/* … */` blocks and without lines that start with `//`.
fn strip_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start + 2..].find("*/").map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    out.push_str(rest);
    out.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// `spec` relative to the package folder `dir`; `None` if it leaves the package.
fn join(dir: &str, spec: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in spec.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_static_dynamic_and_worker_imports_but_not_comments() {
        let src = r#"
// import { a } from './commented.js';
/** e.g. import('./doc-example.js') */
import init, { x } from './wasm/glue.js';
import './side-effect.js';
export { y } from "./y.js";
export * from './star.js';
import { ext } from 'some-package';
const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const wasm = new URL('./wasm/core_bg.wasm', import.meta.url);
const glue = () => import('./face/glue.js');
const transform = s.from('./not-an-import.js');
"#;
        let imports = scan(src);
        assert_eq!(imports.r#static, ["./wasm/glue.js", "./y.js", "./star.js", "./side-effect.js", "./worker.js"]);
        assert_eq!(imports.dynamic, ["./face/glue.js"]);
    }

    #[test]
    fn join_resolves_relative_specifiers_inside_the_package_only() {
        assert_eq!(join("", "./index.js").as_deref(), Some("index.js"));
        assert_eq!(join("wasm", "./glue.js").as_deref(), Some("wasm/glue.js"));
        assert_eq!(join("wasm", "../assets.js").as_deref(), Some("assets.js"));
        assert_eq!(join("", "../outside.js"), None);
    }

    #[test]
    fn budgets_follow_the_import_graph_and_fail_when_exceeded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pkg = dir.path();
        let write = |rel: &str, data: &[u8]| {
            let path = pkg.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, data).expect("write");
        };
        write(
            "index.js",
            b"import { a } from './a.js';\nexport const lazy = () => import('./wasm-face-simd/glue.js');\n",
        );
        write("a.js", b"export const a = 1;\n");
        write("unused.js", b"export const u = 2;\n");
        write("wasm-face-simd/glue.js", b"import { b } from '../a.js';\nexport const g = 3;\n");
        // Incompressible bytes, so the gzipped size is about the raw size.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let noise: Vec<u8> = (0..450_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        write(CORE_WASM, &noise[..1000]);
        write(FACE_WASM_BUILDS[0], &noise[..2000]);
        write(FACE_WASM_BUILDS[1], &noise[..2500]);
        write(SELFIE_MODEL, &noise[..3000]);

        let budgets = measure(pkg).expect("measured");
        let names = |files: &[FileSize]| files.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
        assert_eq!(names(&budgets.core), ["a.js", "index.js", CORE_WASM]);
        assert_eq!(
            names(&budgets.full_flow),
            ["a.js", "index.js", SELFIE_MODEL, "wasm-face-simd/glue.js", FACE_WASM_BUILDS[1], CORE_WASM]
        );
        assert!(budgets.check().is_ok());
        assert!(budgets.full_flow_gzip() > budgets.core_gzip());

        // A core module over 400 kB gzipped fails the check, naming the core budget.
        write(CORE_WASM, &noise);
        let err = measure(pkg).expect("measured").check().expect_err("over budget");
        assert!(err.contains("core SDK"), "{err}");
    }
}
