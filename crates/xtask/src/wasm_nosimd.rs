//! Makes the face module's fallback build (compiled without `+simd128`) valid where WebAssembly
//! SIMD is missing.
//!
//! Even without `-C target-feature=+simd128` a tract build contains SIMD code: tract-core 0.23.9
//! enables rustfft's `wasm_simd` feature, whose butterflies are `#[target_feature(enable =
//! "simd128")]` functions, and a browser without SIMD refuses the whole module. BlazeFace and the
//! liveness signals never run an FFT through rustfft (liveness has its own), so this pass replaces
//! the body of every function that uses a SIMD instruction or a `v128` value with `unreachable`,
//! then drops whatever became unreferenced. What remains must be SIMD-free: a `v128` left in a
//! function type, a global or a table function is an error, and binaryen's `wasm-opt` without
//! `--enable-simd` validates the result afterwards. Should a stubbed function ever run, the module
//! traps, which the loader reports as `face_module_crashed`.

use std::path::Path;

use walrus::ir::{Instr, Visitor};
use walrus::{FunctionKind, LocalId, ModuleLocals, ValType};

/// What [`strip_simd`] did.
#[derive(Debug, Default)]
pub struct Stripped {
    /// Functions whose bodies became `unreachable`.
    pub stubbed: usize,
    /// Their names where the module has a name section (empty otherwise).
    pub names: Vec<String>,
    /// Functions before and after (the pass also drops functions only stubs called).
    pub functions: (usize, usize),
}

/// Whether an instruction is a SIMD one: every SIMD operator of walrus is named after its lane
/// shape (`I8x16`, `I16x8`, `I32x4`, `I64x2`, `F32x4`, `F64x2`) or `V128`; scalar ones never are.
fn is_simd_instr(instr: &Instr) -> bool {
    match instr {
        Instr::Const(c) => matches!(c.value, walrus::ir::Value::V128(_)),
        Instr::Binop(b) => simd_name(&format!("{:?}", b.op)),
        Instr::Unop(u) => simd_name(&format!("{:?}", u.op)),
        Instr::Load(l) => simd_name(&format!("{:?}", l.kind)),
        Instr::Store(s) => simd_name(&format!("{:?}", s.kind)),
        Instr::V128Bitselect(_)
        | Instr::I8x16Swizzle(_)
        | Instr::I8x16Shuffle(_)
        | Instr::LoadSimd(_)
        | Instr::TernOp(_) => true,
        _ => false,
    }
}

fn simd_name(name: &str) -> bool {
    ["x16", "x8", "x4", "x2", "V128"].iter().any(|shape| name.contains(shape))
}

/// Finds SIMD instructions and `v128` locals in one function.
struct SimdFinder<'a> {
    locals: &'a ModuleLocals,
    found: bool,
}

impl<'instr> Visitor<'instr> for SimdFinder<'_> {
    fn visit_instr(&mut self, instr: &'instr Instr, _: &'instr walrus::InstrLocId) {
        self.found |= is_simd_instr(instr);
    }

    fn visit_local_id(&mut self, local: &LocalId) {
        self.found |= self.locals.get(*local).ty() == ValType::V128;
    }
}

fn type_has_v128(module: &walrus::Module, ty: walrus::TypeId) -> bool {
    let t = module.types.get(ty);
    t.params().iter().chain(t.results()).any(|v| *v == ValType::V128)
}

/// Replaces every SIMD function of `input` by a trap and writes the module to `output`.
pub fn strip_simd(input: &Path, output: &Path) -> Result<Stripped, String> {
    let mut module = walrus::ModuleConfig::new()
        .generate_name_section(true)
        .parse_file(input)
        .map_err(|e| format!("{}: {e:#}", input.display()))?;
    let before = module.funcs.iter().count();
    let simd: Vec<walrus::FunctionId> = module
        .funcs
        .iter_local()
        .filter(|(_, f)| {
            let mut finder = SimdFinder { locals: &module.locals, found: type_has_v128(&module, f.ty()) };
            walrus::ir::dfs_in_order(&mut finder, f, f.entry_block());
            finder.found
        })
        .map(|(id, _)| id)
        .collect();
    let mut names = Vec::new();
    for &id in &simd {
        let ty = module.funcs.get(id).ty();
        let (params, results) = {
            let t = module.types.get(ty);
            (t.params().to_vec(), t.results().to_vec())
        };
        let args: Vec<LocalId> = params.iter().map(|&p| module.locals.add(p)).collect();
        let mut builder = walrus::FunctionBuilder::new(&mut module.types, &params, &results);
        builder.func_body().unreachable();
        let stub = builder.local_func(args);
        let func = module.funcs.get_mut(id);
        if let Some(name) = &func.name {
            names.push(name.clone());
        }
        func.kind = FunctionKind::Local(stub);
    }
    walrus::passes::gc::run(&mut module);

    // What is left must not mention v128 at all.
    let mut left = Vec::new();
    for f in module.funcs.iter() {
        if type_has_v128(&module, f.ty()) {
            left.push(f.name.clone().unwrap_or_else(|| format!("function {}", f.id().index())));
        }
    }
    for g in module.globals.iter() {
        if g.ty == ValType::V128 {
            left.push(format!("global {}", g.id().index()));
        }
    }
    if !left.is_empty() {
        return Err(format!(
            "{}: {} item(s) still use v128 after stubbing the SIMD functions: {}",
            input.display(),
            left.len(),
            left.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let after = module.funcs.iter().count();
    module.emit_wasm_file(output).map_err(|e| format!("{}: {e:#}", output.display()))?;
    Ok(Stripped { stubbed: simd.len(), names, functions: (before, after) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use walrus::ir::{BinaryOp, UnaryOp};

    fn validates_without_simd(bytes: &[u8]) -> Result<(), String> {
        let features = wasmparser::WasmFeatures::default() - wasmparser::WasmFeatures::SIMD;
        wasmparser::Validator::new_with_features(features).validate_all(bytes).map(|_| ()).map_err(|e| e.to_string())
    }

    /// A module with a scalar function, a SIMD function it calls, and a v128 helper only the SIMD
    /// function calls.
    fn module_with_simd() -> Vec<u8> {
        let mut m = walrus::Module::default();
        let mut helper = walrus::FunctionBuilder::new(&mut m.types, &[ValType::V128], &[ValType::V128]);
        let v = m.locals.add(ValType::V128);
        helper.func_body().local_get(v).local_get(v).binop(BinaryOp::F32x4Add);
        let helper = helper.finish(vec![v], &mut m.funcs);

        let mut simd = walrus::FunctionBuilder::new(&mut m.types, &[ValType::F32], &[ValType::F32]);
        let x = m.locals.add(ValType::F32);
        simd.func_body().local_get(x).unop(UnaryOp::F32x4Splat).call(helper).unop(UnaryOp::F32x4ExtractLane { idx: 0 });
        let simd = simd.finish(vec![x], &mut m.funcs);

        let mut scalar = walrus::FunctionBuilder::new(&mut m.types, &[ValType::F32], &[ValType::F32]);
        let y = m.locals.add(ValType::F32);
        scalar.func_body().local_get(y).f32_const(2.0).binop(BinaryOp::F32Mul).call(simd);
        let scalar = scalar.finish(vec![y], &mut m.funcs);
        m.exports.add("scalar", scalar);
        m.exports.add("simd", simd);
        m.emit_wasm()
    }

    #[test]
    fn simd_functions_become_traps_and_the_module_validates_without_simd() {
        let dir = tempfile_dir();
        let (input, output) = (dir.join("in.wasm"), dir.join("out.wasm"));
        std::fs::write(&input, module_with_simd()).unwrap();
        assert!(validates_without_simd(&std::fs::read(&input).unwrap()).is_err(), "the fixture must use SIMD");

        let s = strip_simd(&input, &output).unwrap();
        assert_eq!(s.stubbed, 2, "{s:?}");
        assert_eq!(s.functions, (3, 2), "the v128 helper is dropped once nothing calls it");
        let bytes = std::fs::read(&output).unwrap();
        validates_without_simd(&bytes).unwrap();

        // The scalar function is untouched; the exported SIMD function is a trap of the same type.
        let m = walrus::Module::from_buffer(&bytes).unwrap();
        let body = |name: &str| {
            let id = m.exports.get_func(name).unwrap();
            let f = m.funcs.get(id).kind.unwrap_local();
            f.block(f.entry_block()).instrs.iter().map(|(i, _)| format!("{i:?}")).collect::<Vec<_>>()
        };
        assert!(body("scalar").iter().any(|i| i.contains("F32Mul")), "{:?}", body("scalar"));
        assert_eq!(body("simd").len(), 1);
        assert!(body("simd")[0].starts_with("Unreachable"), "{:?}", body("simd"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_module_without_simd_is_left_alone() {
        let mut m = walrus::Module::default();
        let mut f = walrus::FunctionBuilder::new(&mut m.types, &[ValType::I32], &[ValType::I32]);
        let x = m.locals.add(ValType::I32);
        f.func_body().local_get(x).i32_const(3).binop(BinaryOp::I32Add);
        let f = f.finish(vec![x], &mut m.funcs);
        m.exports.add("add3", f);
        let dir = tempfile_dir();
        let (input, output) = (dir.join("in.wasm"), dir.join("out.wasm"));
        std::fs::write(&input, m.emit_wasm()).unwrap();
        let s = strip_simd(&input, &output).unwrap();
        assert_eq!((s.stubbed, s.functions), (0, (1, 1)));
        validates_without_simd(&std::fs::read(&output).unwrap()).unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "xtask-nosimd-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
