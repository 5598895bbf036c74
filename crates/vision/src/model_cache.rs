//! Where the fetched models live. `cargo xtask models` writes them here and the model
//! loaders read them from here, so both use this one function.

use std::path::PathBuf;

/// The model cache: `TRUSTCAP_MODEL_DIR`, else `$XDG_CACHE_HOME/trustcap/models`, else
/// `~/.cache/trustcap/models`.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TRUSTCAP_MODEL_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join("trustcap/models")
}
