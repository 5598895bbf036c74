//! The screening lists the service screens against, and how they change without a restart.
//!
//! A list set is a directory in the layout `trustcap_screening::import::dir::load_dir` reads
//! (one folder per list: `ofac_sdn_2021/`, `un/`, `ftm_entities/`, ...). The server starts with
//! the directory of its configuration (`--screening-lists`, `TRUSTCAP_SCREENING_LISTS`);
//! `trustcap-verifier update-lists --dir DIR` records a newer set in the database
//! (`screening_list_sets`). Before each screening the service compares the newest recorded
//! set with the one it holds and, when it changed, loads the new one off the async threads and
//! swaps it in; screenings in flight keep the set they started with.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::Row as _;
use tokio::sync::{Mutex, RwLock};
use trustcap_screening::{ListVersion, Screener};

use crate::db::Db;

/// Why lists could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ListsError {
    /// A list could not be imported.
    #[error("screening lists in {dir}: {message}")]
    Import {
        /// The directory.
        dir: String,
        /// What went wrong.
        message: String,
    },
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// A loaded list set.
#[derive(Debug)]
pub struct ListSet {
    /// The `screening_list_sets` row it came from (0: the configured directory).
    pub generation: i64,
    /// The screener over every list of the set.
    pub screener: Screener,
}

impl ListSet {
    /// The versions of every list in the set.
    pub fn versions(&self) -> &[ListVersion] {
        self.screener.list_versions()
    }
}

/// Imports every list under `dir` (blocking; bad rows are counted and logged, never fatal).
/// A directory without any list is an error, so a typo cannot empty the screening.
pub fn load_dir(dir: &Path) -> Result<Screener, ListsError> {
    let err = |message: String| ListsError::Import { dir: dir.display().to_string(), message };
    let reports = trustcap_screening::import::dir::load_dir(dir).map_err(|e| err(e.to_string()))?;
    if reports.is_empty() {
        return Err(err("no list found (expected folders such as ofac_sdn_2021/, un/, ftm_entities/)".into()));
    }
    for r in &reports {
        if r.bad_row_count > 0 {
            tracing::warn!(list = %r.version, bad_rows = r.bad_row_count, "screening list has rows that were skipped");
        }
    }
    let screener = Screener::from_reports(reports);
    tracing::info!(entities = screener.len(), lists = screener.list_versions().len(), "screening lists loaded");
    Ok(screener)
}

async fn load_blocking(dir: PathBuf) -> Result<Screener, ListsError> {
    tokio::task::spawn_blocking(move || load_dir(&dir))
        .await
        .map_err(|e| ListsError::Import { dir: String::new(), message: format!("loader task: {e}") })?
}

/// The newest recorded list set: `(generation, dir)`.
pub async fn latest_recorded(db: &Db) -> Result<Option<(i64, String)>, sqlx::Error> {
    let row = sqlx::query("SELECT id, dir FROM screening_list_sets ORDER BY id DESC LIMIT 1")
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| Ok((r.try_get::<i64, _>("id")?, r.try_get::<String, _>("dir")?))).transpose()
}

/// Loads `dir` and records it as the newest list set; returns the set.
pub async fn record(db: &Db, dir: &Path, now: i64) -> Result<ListSet, ListsError> {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let screener = load_blocking(dir.clone()).await?;
    let versions = serde_json::to_string(screener.list_versions()).unwrap_or_else(|_| "[]".into());
    let generation: i64 = sqlx::query_scalar(
        "INSERT INTO screening_list_sets (dir, versions, entities, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(dir.display().to_string())
    .bind(versions)
    .bind(i64::try_from(screener.len()).unwrap_or(i64::MAX))
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(ListSet { generation, screener })
}

/// The service's current list set, reloaded when a newer one is recorded.
#[derive(Debug)]
pub struct ScreeningLists {
    db: Db,
    current: RwLock<Option<Arc<ListSet>>>,
    /// Serialises reloads; remembers a generation that failed to load so it is not retried
    /// on every screening.
    reloading: Mutex<Option<i64>>,
}

impl ScreeningLists {
    /// Loads the newest recorded set, else `configured` (if any). A configured directory that
    /// cannot be loaded is an error (the service should not start half-blind).
    pub async fn start(db: Db, configured: Option<&Path>) -> Result<Self, ListsError> {
        let lists = Self { db, current: RwLock::new(None), reloading: Mutex::new(None) };
        if let Some(dir) = configured {
            let screener = load_blocking(dir.to_path_buf()).await?;
            *lists.current.write().await = Some(Arc::new(ListSet { generation: 0, screener }));
        }
        lists.refresh().await?;
        Ok(lists)
    }

    /// A service over an already loaded set (tests, tools).
    pub fn with_set(db: Db, set: ListSet) -> Self {
        Self { db, current: RwLock::new(Some(Arc::new(set))), reloading: Mutex::new(None) }
    }

    /// The database the lists and screening records live in.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Swaps in the newest recorded set if it is newer than the one held. A set that fails to
    /// load is logged and skipped (the previous one stays in force).
    pub async fn refresh(&self) -> Result<(), ListsError> {
        let Some((generation, dir)) = latest_recorded(&self.db).await? else { return Ok(()) };
        let held = self.current.read().await.as_ref().map(|s| s.generation);
        if held.is_some_and(|g| g >= generation) {
            return Ok(());
        }
        let mut failed = self.reloading.lock().await;
        if *failed == Some(generation) {
            return Ok(());
        }
        // Another task may have loaded it while this one waited.
        if self.current.read().await.as_ref().is_some_and(|s| s.generation >= generation) {
            return Ok(());
        }
        match load_blocking(PathBuf::from(&dir)).await {
            Ok(screener) => {
                tracing::info!(generation, "screening lists reloaded");
                *self.current.write().await = Some(Arc::new(ListSet { generation, screener }));
            }
            Err(e) => {
                tracing::error!(generation, error = %e, "the recorded screening lists cannot be loaded; keeping the previous set");
                *failed = Some(generation);
            }
        }
        Ok(())
    }

    /// The current set after a refresh; `None` when no list was ever loaded.
    pub async fn current(&self) -> Result<Option<Arc<ListSet>>, ListsError> {
        self.refresh().await?;
        Ok(self.current.read().await.clone())
    }
}
