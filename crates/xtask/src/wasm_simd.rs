//! SIMD in a WebAssembly module: which functions use it ([`scan`]), a copy in which those
//! functions trap instead ([`stub_simd`]), and the check that a module validates without SIMD
//! ([`check_no_simd`]).
//!
//! Why the face module contains SIMD even when built without `simd128`: tract-core 0.23.9 turns
//! on rustfft's `wasm_simd` feature, whose FFT butterflies are `#[target_feature(enable =
//! "simd128")]` functions, and LLVM's WebAssembly backend cannot mix feature sets in one module:
//! before code generation it gives every function of a module the union of the features of all
//! its functions (`CoalesceFeaturesAndStripAtomics` in `WebAssemblyTargetMachine.cpp`). With fat
//! LTO the whole program is one module, so rustfft's attribute switched `simd128` on everywhere
//! and instruction selection used `v128` loads and stores for ordinary copies of 16 bytes and
//! more in thousands of functions (tract's model loading among them; loops are not vectorised,
//! that is decided earlier, per function). With ThinLTO and many code units per crate
//! (`sdk_face::PLAIN`), rustfft's SIMD code stays in code units of its own and every other
//! function is compiled without SIMD.
//!
//! What is left is rustfft's SIMD planner: `FftPlanner::new()` picks it on every wasm32 build
//! with the feature, so it cannot be configured away. tract reaches it only from its `Fft` and
//! `Stft` operators (ONNX `DFT`, `STFT`), which BlazeFace does not contain (and
//! `trustcap_vision::face::load_model` refuses models that do). [`stub_simd`] replaces each
//! function that still uses SIMD by `unreachable`, but only when its name (the build keeps its
//! name section for this) says it belongs to rustfft, and fails otherwise, so SIMD that creeps
//! into other code fails the build instead of trapping in a browser.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use wasmparser::{BlockType, Name, Operator, Parser, Payload, ValType, Validator, WasmFeatures};

/// One function that uses SIMD.
#[derive(Debug, Clone)]
pub struct SimdFunction {
    /// Index in the module's function index space.
    pub index: u32,
    /// Demangled name from the name section (`func[<index>]` without one).
    pub name: String,
    /// SIMD instructions in its body.
    pub simd_ops: u32,
    /// Whether it has `v128` parameters, results or locals, or calls a function that does.
    pub v128_values: bool,
}

/// What [`parse`] gathers from a module.
struct Module {
    /// Byte range of each type section entry, and whether it mentions `v128`.
    types: Vec<(Range<usize>, bool)>,
    /// Type index of every function, imports first.
    func_types: Vec<u32>,
    /// Number of imported functions.
    imported: u32,
    /// Byte range of each local function's body (without its size prefix).
    bodies: Vec<Range<usize>>,
    /// Names from the name section.
    names: HashMap<u32, String>,
    /// Functions referenced other than by a direct call: exported, in a table, `ref.func`, start.
    external: HashSet<u32>,
}

fn parse(wasm: &[u8]) -> Result<Module, String> {
    let err = |e: wasmparser::BinaryReaderError| format!("wasm: {e}");
    let mut m = Module {
        types: Vec::new(),
        func_types: Vec::new(),
        imported: 0,
        bodies: Vec::new(),
        names: HashMap::new(),
        external: HashSet::new(),
    };
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(err)? {
            Payload::TypeSection(reader) => {
                let end = reader.range().end;
                let mut starts = Vec::new();
                let mut v128 = Vec::new();
                for entry in reader.into_iter_with_offsets() {
                    let (offset, group) = entry.map_err(err)?;
                    if group.is_explicit_rec_group() {
                        return Err("wasm: recursive type groups are not supported".into());
                    }
                    let mut mentions = false;
                    for sub in group.types() {
                        let func = sub.composite_type.inner.clone();
                        let wasmparser::CompositeInnerType::Func(f) = func else {
                            return Err("wasm: only function types are supported".into());
                        };
                        mentions |= f.params().iter().chain(f.results()).any(|t| *t == ValType::V128);
                    }
                    starts.push(offset);
                    v128.push(mentions);
                }
                for (i, &start) in starts.iter().enumerate() {
                    let stop = starts.get(i + 1).copied().unwrap_or(end);
                    m.types.push((start..stop, v128[i]));
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let wasmparser::TypeRef::Func(t) = import.map_err(err)?.ty {
                        m.func_types.push(t);
                        m.imported += 1;
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    m.func_types.push(t.map_err(err)?);
                }
            }
            Payload::CodeSectionEntry(body) => m.bodies.push(body.range()),
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(err)?;
                    if export.kind == wasmparser::ExternalKind::Func {
                        m.external.insert(export.index);
                    }
                }
            }
            Payload::StartSection { func, .. } => {
                m.external.insert(func);
            }
            Payload::ElementSection(reader) => {
                for element in reader {
                    match element.map_err(err)?.items {
                        wasmparser::ElementItems::Functions(funcs) => {
                            for f in funcs {
                                m.external.insert(f.map_err(err)?);
                            }
                        }
                        wasmparser::ElementItems::Expressions(_, exprs) => {
                            for expr in exprs {
                                let mut ops = expr.map_err(err)?.get_operators_reader();
                                while !ops.eof() {
                                    if let Operator::RefFunc { function_index } = ops.read().map_err(err)? {
                                        m.external.insert(function_index);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Payload::CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                    for name in names {
                        if let Ok(Name::Function(map)) = name {
                            for naming in map.into_iter().flatten() {
                                m.names.insert(naming.index, rustc_demangle::demangle(naming.name).to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(m)
}

impl Module {
    fn type_has_v128(&self, type_index: u32) -> bool {
        self.types.get(type_index as usize).is_some_and(|t| t.1)
    }

    fn func_has_v128_type(&self, func: u32) -> bool {
        self.func_types.get(func as usize).is_some_and(|&t| self.type_has_v128(t))
    }

    fn name(&self, func: u32) -> String {
        self.names.get(&func).cloned().unwrap_or_else(|| format!("func[{func}]"))
    }

    /// SIMD use of local function `i` (0-based among the local functions), and the functions it
    /// calls directly; `ref.func` targets go into `external`.
    fn inspect(
        &self,
        wasm: &[u8],
        i: usize,
        calls: &mut Vec<u32>,
        external: &mut HashSet<u32>,
    ) -> Result<Option<SimdFunction>, String> {
        let err = |e: wasmparser::BinaryReaderError| format!("wasm: {e}");
        let index = self.imported + i as u32;
        let range = self.bodies.get(i).ok_or("wasm: missing body")?.clone();
        let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(&wasm[range.clone()], range.start));
        let mut v128 = self.func_has_v128_type(index);
        for local in body.get_locals_reader().map_err(err)? {
            v128 |= local.map_err(err)?.1 == ValType::V128;
        }
        let mut simd_ops = 0;
        let mut ops = body.get_operators_reader().map_err(err)?;
        while !ops.eof() {
            let (op, offset) = ops.read_with_offset().map_err(err)?;
            // Every SIMD instruction, and only those, has the prefix byte 0xfd.
            if wasm.get(offset) == Some(&0xfd) {
                simd_ops += 1;
            }
            v128 |= match op {
                Operator::Call { function_index } | Operator::ReturnCall { function_index } => {
                    calls.push(function_index);
                    self.func_has_v128_type(function_index)
                }
                Operator::RefFunc { function_index } => {
                    external.insert(function_index);
                    self.func_has_v128_type(function_index)
                }
                Operator::CallIndirect { type_index, .. } | Operator::ReturnCallIndirect { type_index, .. } => {
                    self.type_has_v128(type_index)
                }
                Operator::Block { blockty } | Operator::Loop { blockty } | Operator::If { blockty } => match blockty {
                    BlockType::Type(t) => t == ValType::V128,
                    BlockType::FuncType(t) => self.type_has_v128(t),
                    BlockType::Empty => false,
                },
                Operator::TypedSelect { ty } => ty == ValType::V128,
                _ => false,
            };
        }
        Ok((simd_ops > 0 || v128).then(|| SimdFunction { index, name: self.name(index), simd_ops, v128_values: v128 }))
    }
}

/// The functions that use SIMD, and for every function the functions that call it directly.
struct Analysis {
    simd: Vec<SimdFunction>,
    callers: HashMap<u32, Vec<u32>>,
}

fn analyse(wasm: &[u8], m: &mut Module) -> Result<Analysis, String> {
    let mut simd = Vec::new();
    let mut callers: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut external = std::mem::take(&mut m.external);
    let mut calls = Vec::new();
    for i in 0..m.bodies.len() {
        calls.clear();
        simd.extend(m.inspect(wasm, i, &mut calls, &mut external)?);
        let caller = m.imported + i as u32;
        for &callee in &calls {
            callers.entry(callee).or_default().push(caller);
        }
    }
    m.external = external;
    Ok(Analysis { simd, callers })
}

/// Every function of `wasm` that uses SIMD.
pub fn scan(wasm: &[u8]) -> Result<Vec<SimdFunction>, String> {
    let mut m = parse(wasm)?;
    Ok(analyse(wasm, &mut m)?.simd)
}

/// The functions that belong to the `allowed` code: those whose name is allowed, and, repeatedly,
/// those that only allowed functions call (directly; never exported, in a table or `ref.func`).
fn allowed_closure(m: &Module, a: &Analysis, allowed: &dyn Fn(&str) -> bool) -> HashSet<u32> {
    let total = m.imported + m.bodies.len() as u32;
    let mut set: HashSet<u32> = (m.imported..total).filter(|f| m.names.get(f).is_some_and(|n| allowed(n))).collect();
    loop {
        let before = set.len();
        for f in m.imported..total {
            if set.contains(&f) || m.external.contains(&f) {
                continue;
            }
            if let Some(callers) = a.callers.get(&f)
                && callers.iter().all(|c| set.contains(c))
            {
                set.insert(f);
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

/// The crate a demangled function name belongs to: the first path segment, looking through
/// `<T as Trait>` and `core::ptr::drop_in_place::<T>`-style wrappers to the type they are about.
pub fn owner_crate(name: &str) -> String {
    let inner = name.strip_prefix('<').unwrap_or(name);
    let head: String = inner.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    if matches!(head.as_str(), "core" | "alloc" | "std")
        && let Some(start) = inner.find('<')
    {
        let generic = &inner[start + 1..];
        let first: String =
            generic.trim_start_matches('<').chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !first.is_empty() && generic.trim_start_matches('<')[first.len()..].starts_with("::") {
            let owner = owner_crate(generic);
            if owner != head {
                return format!("{head}<{owner}>");
            }
        }
    }
    if head.is_empty() { "(unnamed)".to_owned() } else { head }
}

/// Functions and SIMD instructions per owning crate ([`owner_crate`]), most functions first.
pub fn by_crate(functions: &[SimdFunction]) -> Vec<(String, usize, u64)> {
    let mut map: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for f in functions {
        let e = map.entry(owner_crate(&f.name)).or_default();
        e.0 += 1;
        e.1 += u64::from(f.simd_ops);
    }
    let mut rows: Vec<_> = map.into_iter().map(|(k, (n, ops))| (k, n, ops)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

fn leb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The `target_features` custom section without `simd128` and `relaxed-simd`.
fn target_features_without_simd(data: &[u8], offset: usize) -> Result<Vec<u8>, String> {
    let err = |e: wasmparser::BinaryReaderError| format!("wasm target_features: {e}");
    let mut reader = wasmparser::BinaryReader::new(data, offset);
    let count = reader.read_var_u32().map_err(err)?;
    let mut kept = Vec::new();
    for _ in 0..count {
        let prefix = reader.read_u8().map_err(err)?;
        let name = reader.read_string().map_err(err)?;
        if name != "simd128" && name != "relaxed-simd" {
            kept.push((prefix, name));
        }
    }
    let mut out = Vec::new();
    leb(kept.len() as u64, &mut out);
    for (prefix, name) in kept {
        out.push(prefix);
        leb(name.len() as u64, &mut out);
        out.extend_from_slice(name.as_bytes());
    }
    Ok(out)
}

/// A copy of `wasm` in which every function that uses SIMD is `unreachable` (and function types
/// with `v128` become `[] -> []`), so that it validates without SIMD; returns it and the stubbed
/// functions. Fails, naming them, if a function that uses SIMD is neither `allowed` by its name
/// nor called only by allowed functions (e.g. a SIMD intrinsic or a `HashMap::new` compiled in
/// rustfft's code units).
pub fn stub_simd(wasm: &[u8], allowed: &dyn Fn(&str) -> bool) -> Result<(Vec<u8>, Vec<SimdFunction>), String> {
    let mut m = parse(wasm)?;
    let analysis = analyse(wasm, &mut m)?;
    let closure = allowed_closure(&m, &analysis, allowed);
    let stubbed = analysis.simd;
    let refused: Vec<&SimdFunction> = stubbed.iter().filter(|f| !closure.contains(&f.index)).collect();
    if !refused.is_empty() {
        let sample: Vec<&str> = refused.iter().take(20).map(|f| f.name.as_str()).collect();
        let crates: Vec<String> = by_crate(&refused.iter().map(|f| (*f).clone()).collect::<Vec<_>>())
            .iter()
            .map(|r| format!("{} {}", r.0, r.1))
            .collect();
        return Err(format!(
            "{} functions outside the allowed code (or reachable from outside it) use SIMD (by crate: {}); e.g.\n  {}",
            refused.len(),
            crates.join(", "),
            sample.join("\n  ")
        ));
    }
    let stub: std::collections::HashSet<u32> = stubbed.iter().map(|f| f.index).collect();

    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| format!("wasm: {e}"))?;
        match &payload {
            Payload::TypeSection(_) => {
                let mut data = Vec::new();
                leb(m.types.len() as u64, &mut data);
                for (range, v128) in &m.types {
                    if *v128 {
                        data.extend_from_slice(&[0x60, 0, 0]);
                    } else {
                        data.extend_from_slice(&wasm[range.clone()]);
                    }
                }
                module.section(&wasm_encoder::RawSection { id: 1, data: &data });
            }
            Payload::CodeSectionStart { .. } => {
                let mut code = wasm_encoder::CodeSection::new();
                for (i, range) in m.bodies.iter().enumerate() {
                    if stub.contains(&(m.imported + i as u32)) {
                        let mut f = wasm_encoder::Function::new([]);
                        f.instructions().unreachable().end();
                        code.function(&f);
                    } else {
                        code.raw(&wasm[range.clone()]);
                    }
                }
                module.section(&code);
            }
            Payload::CodeSectionEntry(_) | Payload::Version { .. } | Payload::End(_) => {}
            Payload::CustomSection(c) if c.name() == "target_features" => {
                let data = target_features_without_simd(c.data(), c.data_offset())?;
                module.section(&wasm_encoder::CustomSection { name: "target_features".into(), data: data.into() });
            }
            other => {
                let (id, range) = other.as_section().ok_or("wasm: unexpected payload")?;
                module.section(&wasm_encoder::RawSection { id, data: &wasm[range] });
            }
        }
    }
    let out = module.finish();
    check_no_simd(&out)?;
    Ok((out, stubbed))
}

/// Fails unless `wasm` validates with SIMD (and relaxed SIMD) turned off.
pub fn check_no_simd(wasm: &[u8]) -> Result<(), String> {
    let features = WasmFeatures::default() - WasmFeatures::SIMD - WasmFeatures::RELAXED_SIMD;
    Validator::new_with_features(features)
        .validate_all(wasm)
        .map(|_| ())
        .map_err(|e| format!("the module does not validate without SIMD: {e}"))
}

/// Whether a function belongs to rustfft, whose SIMD planner BlazeFace never reaches (see the
/// module docs): its demangled name mentions the crate.
pub fn is_rustfft(name: &str) -> bool {
    name.contains("rustfft::")
}

/// `cargo xtask wasm-simd FILE [--list]`: the functions of a module that use SIMD, by crate
/// (names need a build with its name section, e.g. `cargo rustc ... -- -C strip=none`), and with
/// `--list` each of them.
pub fn report(args: &[String]) -> Result<(), String> {
    let file = args.first().ok_or("usage: cargo xtask wasm-simd FILE.wasm [--list]")?;
    let wasm = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    let functions = scan(&wasm)?;
    let total = parse(&wasm)?.bodies.len();
    let ops: u64 = functions.iter().map(|f| u64::from(f.simd_ops)).sum();
    println!("{file}: {} of {total} functions use SIMD ({ops} SIMD instructions)", functions.len());
    println!("  {:<48} {:>9} {:>9}", "crate", "functions", "SIMD ops");
    for (name, n, ops) in by_crate(&functions) {
        println!("  {name:<48} {n:>9} {ops:>9}");
    }
    if args.iter().any(|a| a == "--list") {
        for f in &functions {
            println!("  {:>6} {:>5}{} {}", f.index, f.simd_ops, if f.v128_values { " v128" } else { "     " }, f.name);
        }
    }
    match check_no_simd(&wasm) {
        Ok(()) => println!("  validates without SIMD"),
        Err(e) => println!("  {e}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with one plain function, one with a SIMD instruction, one whose type has `v128`
    /// (called only by the SIMD one), and one with a SIMD instruction called by the SIMD one
    /// and, if `plain_calls_it`, by the plain one; names from a name section.
    fn sample(plain_calls_it: bool) -> Vec<u8> {
        use wasm_encoder::{
            CodeSection, ExportKind, ExportSection, Function, FunctionSection, IndirectNameMap, NameMap, NameSection,
            TypeSection, ValType as V,
        };
        let mut types = TypeSection::new();
        types.ty().function([V::I32], [V::I32]);
        types.ty().function([V::V128], [V::V128]);
        let mut funcs = FunctionSection::new();
        funcs.function(0).function(0).function(1).function(0);
        let mut code = CodeSection::new();
        let mut plain = Function::new([]);
        plain.instructions().local_get(0).i32_const(1).i32_add().end();
        if plain_calls_it {
            plain = Function::new([]);
            plain.instructions().local_get(0).call(3).end();
        }
        code.function(&plain);
        let mut simd = Function::new([]);
        simd.instructions().v128_const(0).call(2).drop().local_get(0).call(3).end();
        code.function(&simd);
        let mut takes = Function::new([]);
        takes.instructions().local_get(0).end();
        code.function(&takes);
        let mut helper = Function::new([]);
        helper.instructions().v128_const(0).drop().local_get(0).end();
        code.function(&helper);
        let mut exports = ExportSection::new();
        exports.export("plain", ExportKind::Func, 0).export("simd", ExportKind::Func, 1);
        let mut names = NameMap::new();
        names.append(0, "app::plain");
        names.append(1, "rustfft::butterfly");
        names.append(2, "rustfft::helper");
        names.append(3, "std::collections::HashMap<K,V>::new");
        let mut name_section = NameSection::new();
        name_section.functions(&names);
        name_section.locals(&IndirectNameMap::new());
        let mut module = wasm_encoder::Module::new();
        module.section(&types).section(&funcs).section(&exports).section(&code).section(&name_section);
        module.finish()
    }

    #[test]
    fn scan_finds_simd_instructions_and_v128_signatures() {
        let wasm = sample(false);
        assert!(check_no_simd(&wasm).is_err(), "the sample must need SIMD, or the test is void");
        let found = scan(&wasm).unwrap();
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["rustfft::butterfly", "rustfft::helper", "std::collections::HashMap<K,V>::new"]);
        assert_eq!(found[0].simd_ops, 1);
        assert_eq!(found[1].simd_ops, 0);
        assert!(found[1].v128_values);
    }

    #[test]
    fn stubbing_gives_a_module_without_simd_that_keeps_plain_functions() {
        let (out, stubbed) = stub_simd(&sample(false), &is_rustfft).unwrap();
        // The HashMap function is stubbed too: only rustfft calls it.
        assert_eq!(stubbed.len(), 3);
        check_no_simd(&out).unwrap();
        assert!(scan(&out).unwrap().is_empty());
        // The plain function's body is unchanged.
        let plain = [0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b];
        assert!(out.windows(plain.len()).any(|w| w == plain));
    }

    #[test]
    fn simd_outside_the_allowed_code_fails() {
        // Exported, so reachable from outside whatever its callers.
        let e = stub_simd(&sample(false), &|name: &str| name == "rustfft::helper").unwrap_err();
        assert!(e.contains("2 functions outside") && e.contains("rustfft::butterfly"), "{e}");
        // Called by plain code.
        let e = stub_simd(&sample(true), &is_rustfft).unwrap_err();
        assert!(e.contains("1 functions outside") && e.contains("HashMap"), "{e}");
    }

    #[test]
    fn target_features_lose_simd() {
        let mut data = Vec::new();
        leb(2, &mut data);
        for name in ["simd128", "bulk-memory"] {
            data.push(b'+');
            leb(name.len() as u64, &mut data);
            data.extend_from_slice(name.as_bytes());
        }
        let out = target_features_without_simd(&data, 0).unwrap();
        assert_eq!(out, [1, b'+', 11, b'b', b'u', b'l', b'k', b'-', b'm', b'e', b'm', b'o', b'r', b'y']);
    }

    #[test]
    fn owner_crates_look_through_wrappers() {
        assert_eq!(owner_crate("tract_core::model::typed::foo"), "tract_core");
        assert_eq!(owner_crate("<rustfft::x::Butterfly2<T> as rustfft::Fft<T>>::process"), "rustfft");
        assert_eq!(owner_crate("core::ptr::drop_in_place<tract_data::tensor::Tensor>"), "core<tract_data>");
        assert_eq!(owner_crate("alloc::vec::Vec<T>::push"), "alloc");
        assert_eq!(owner_crate("func[12]"), "func");
    }
}
