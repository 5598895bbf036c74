//! Where image bytes live: one interface over an object store (`object_store`: local
//! disk, or S3-compatible storage by configuration) or, when none is configured, the
//! database itself. Keys are content-addressed per session, so a retried write of the
//! same image is harmless and several verifier processes can share one store.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The configuration names an unsupported or malformed store.
    #[error("image store configuration: {0}")]
    Config(String),
    /// The backend failed (network, disk); usually worth a retry.
    #[error("image store: {0}")]
    Backend(#[from] object_store::Error),
}

/// The image store.
#[derive(Debug, Clone)]
pub struct ImageStore {
    inner: Option<Arc<dyn ObjectStore>>,
    description: String,
}

impl ImageStore {
    /// Keeps image bytes in the database (no object store).
    pub fn in_database() -> Self {
        Self { inner: None, description: "database".into() }
    }

    /// A store from a URL: `file:///absolute/dir` (created if missing) or
    /// `s3://bucket[/prefix]` (credentials, region and endpoint from the usual `AWS_*`
    /// variables, e.g. `AWS_ENDPOINT` for S3-compatible services), or `database`.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url == "database" {
            return Ok(Self::in_database());
        }
        if let Some(dir) = url.strip_prefix("file://") {
            return Self::local(std::path::Path::new(dir));
        }
        if url.starts_with("s3://") {
            let store = object_store::aws::AmazonS3Builder::from_env().with_url(url).build()?;
            return Ok(Self { inner: Some(Arc::new(store)), description: "s3".into() });
        }
        Err(StoreError::Config("expected file:///dir, s3://bucket or database".into()))
    }

    /// A local-disk store rooted at `dir` (created if missing).
    pub fn local(dir: &std::path::Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Config(format!("{}: {e}", dir.display())))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self { inner: Some(Arc::new(store)), description: "local".into() })
    }

    /// `local`, `s3` or `database` (for logs; never contains credentials).
    pub fn kind(&self) -> &str {
        &self.description
    }

    /// True if bytes go to an object store rather than the database.
    pub fn is_external(&self) -> bool {
        self.inner.is_some()
    }

    /// The key of an image of `session` with this SHA-256.
    pub fn key_for(session: &str, sha256_hex: &str) -> String {
        format!("captures/{session}/{sha256_hex}")
    }

    /// Writes `bytes` under `key`; `Ok(None)` when the database keeps the bytes.
    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<Option<String>, StoreError> {
        let Some(store) = &self.inner else { return Ok(None) };
        let path = ObjectPath::parse(key).map_err(|e| StoreError::Config(e.to_string()))?;
        store.put(&path, bytes.to_vec().into()).await?;
        Ok(Some(key.to_owned()))
    }

    /// Deletes the bytes under `key` (a missing key is not an error); a no-op without an
    /// object store.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let Some(store) = &self.inner else { return Ok(()) };
        let path = ObjectPath::parse(key).map_err(|e| StoreError::Config(e.to_string()))?;
        match store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads the bytes under `key`.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let store = self.inner.as_ref().ok_or_else(|| StoreError::Config("no object store is configured".into()))?;
        let path = ObjectPath::parse(key).map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(store.get(&path).await?.bytes().await?.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_store_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::from_url(&format!("file://{}", dir.path().display())).unwrap();
        assert!(store.is_external());
        let key = ImageStore::key_for("ses_x", "ab12");
        assert_eq!(store.put(&key, b"bytes").await.unwrap().as_deref(), Some(key.as_str()));
        assert_eq!(store.get(&key).await.unwrap(), b"bytes");
        store.delete(&key).await.unwrap();
        assert!(store.get(&key).await.is_err());
        store.delete(&key).await.unwrap();
        assert!(store.get("captures/none").await.is_err());
        let db = ImageStore::from_url("database").unwrap();
        assert_eq!(db.put(&key, b"x").await.unwrap(), None);
        assert!(ImageStore::from_url("ftp://x").is_err());
    }
}
