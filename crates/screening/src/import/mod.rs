//! List importers. Each reads its published format as a stream, validates every record,
//! reports bad records (with their position and the reason) instead of aborting, and returns
//! the entities in the normalised model together with the list version they came from.

pub mod bis;
pub mod csl;
pub mod dir;
pub mod eu;
pub mod ftm;
pub mod ofac;
pub mod senzing;
pub mod uk;
pub mod un;
mod xml;

use std::io::{self, Read};
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{Entity, ListSource, ListVersion};

/// Bounds that keep an import of an untrusted file within memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes read over all files of one import, at most.
    pub max_input_bytes: u64,
    /// Bad records kept in the report (all are counted).
    pub max_bad_rows_kept: usize,
    /// Characters kept of any one field (longer ones are cut).
    pub max_field_chars: usize,
    /// Entities per import, at most.
    pub max_entities: usize,
    /// Names per entity, at most.
    pub max_names_per_entity: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 1 << 30,
            max_bad_rows_kept: 1000,
            max_field_chars: 16 * 1024,
            max_entities: 5_000_000,
            max_names_per_entity: 512,
        }
    }
}

/// Options of one import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The version label to record; when `None`, the publisher's label in the file (generation
    /// date), else `sha256:<16 hex digits>` of the bytes read.
    pub version: Option<String>,
    /// Memory bounds.
    pub limits: Limits,
}

/// A record that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRow {
    /// Which file of the import (e.g. "sdn.csv", "alt.csv").
    pub file: String,
    /// The 1-based record (line for line-based formats, entity element for XML).
    pub record: u64,
    /// Why it was refused.
    pub reason: String,
}

/// The outcome of one import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The list and version imported.
    pub version: ListVersion,
    /// Every entity imported.
    pub entities: Vec<Entity>,
    /// Records read (rows, lines or entity elements).
    pub records_read: u64,
    /// Records skipped on purpose (e.g. FtM addresses and payments, which are not parties).
    pub skipped: u64,
    /// The first bad records (see `Limits::max_bad_rows_kept`).
    pub bad_rows: Vec<BadRow>,
    /// How many records were bad in all.
    pub bad_row_count: u64,
    /// Whether reading stopped early (unreadable structure, or a limit reached); entities read
    /// before that point are kept.
    pub truncated: bool,
}

/// An import that could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Reading failed.
    #[error("reading the list failed: {0}")]
    Io(#[from] io::Error),
    /// The files hold more bytes than the limit.
    #[error("the list is larger than the limit of {0} bytes")]
    TooLarge(u64),
}

/// A reader that hashes what it reads and refuses to read past a byte budget shared by every
/// file of one import.
pub(crate) struct Metered<'a, R> {
    inner: R,
    state: &'a mut MeterState,
}

/// The hash and byte count of one import.
pub(crate) struct MeterState {
    hasher: Sha256,
    read: u64,
    limit: u64,
    exceeded: bool,
}

impl MeterState {
    pub(crate) fn new(limit: u64) -> Self {
        Self { hasher: Sha256::new(), read: 0, limit, exceeded: false }
    }

    pub(crate) fn wrap<R: Read>(&mut self, inner: R) -> Metered<'_, R> {
        Metered { inner, state: self }
    }

    fn digest(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.state.read += n as u64;
        if self.state.read > self.state.limit {
            self.state.exceeded = true;
            return Err(io::Error::other(format!("input larger than {} bytes", self.state.limit)));
        }
        if let Some(read) = buf.get(..n) {
            self.state.hasher.update(read);
        }
        Ok(n)
    }
}

/// Accumulates what an importer finds; turned into an [`ImportReport`] at the end.
pub(crate) struct Sink {
    pub(crate) source: ListSource,
    pub(crate) limits: Limits,
    pub(crate) entities: Vec<Entity>,
    pub(crate) records_read: u64,
    pub(crate) skipped: u64,
    pub(crate) bad_rows: Vec<BadRow>,
    pub(crate) bad_row_count: u64,
    pub(crate) truncated: bool,
    pub(crate) publisher_version: Option<String>,
    pub(crate) placeholder: Arc<str>,
}

impl Sink {
    pub(crate) fn new(source: ListSource, limits: Limits) -> Self {
        Self {
            source,
            limits,
            entities: Vec::new(),
            records_read: 0,
            skipped: 0,
            bad_rows: Vec::new(),
            bad_row_count: 0,
            truncated: false,
            publisher_version: None,
            placeholder: Arc::from(""),
        }
    }

    /// Records a bad record.
    pub(crate) fn bad(&mut self, file: &str, record: u64, reason: impl Into<String>) {
        self.bad_row_count += 1;
        if self.bad_rows.len() < self.limits.max_bad_rows_kept {
            self.bad_rows.push(BadRow { file: file.to_string(), record, reason: reason.into() });
        }
    }

    /// Keeps an entity when it has at least one name; otherwise reports it. Returns false once
    /// the entity limit is reached (the import then stops).
    pub(crate) fn push(&mut self, file: &str, record: u64, mut entity: Entity) -> bool {
        if entity.names.is_empty() {
            self.bad(file, record, format!("entity {} has no name", entity.id));
            return true;
        }
        entity.names.truncate(self.limits.max_names_per_entity);
        if self.entities.len() >= self.limits.max_entities {
            self.truncated = true;
            self.bad(file, record, "entity limit reached; the rest of the list was not read");
            return false;
        }
        self.entities.push(entity);
        true
    }

    /// A field, trimmed, cut to the field limit, `None` when blank or OFAC's `-0-`.
    pub(crate) fn field(&self, raw: &str) -> Option<String> {
        clean(raw, self.limits.max_field_chars)
    }

    /// Finishes: settles the version and stamps it on every entity.
    pub(crate) fn finish(mut self, options: &ImportOptions, meter: &MeterState) -> Result<ImportReport, ImportError> {
        if meter.exceeded {
            return Err(ImportError::TooLarge(meter.limit));
        }
        let sha256 = meter.digest();
        let version = options
            .version
            .clone()
            .or(self.publisher_version.take())
            .unwrap_or_else(|| format!("sha256:{}", sha256.get(..16).unwrap_or(&sha256)));
        let label: Arc<str> = Arc::from(format!("{}@{}", self.source.code(), version));
        for e in &mut self.entities {
            e.list_version = label.clone();
        }
        Ok(ImportReport {
            version: ListVersion { source: self.source, version, sha256 },
            entities: self.entities,
            records_read: self.records_read,
            skipped: self.skipped,
            bad_rows: self.bad_rows,
            bad_row_count: self.bad_row_count,
            truncated: self.truncated,
        })
    }
}

/// Trims a field, cuts it to `max` characters, and maps blank and `-0-` to `None`.
pub(crate) fn clean(raw: &str, max: usize) -> Option<String> {
    let t = raw.trim().trim_matches('\u{1a}').trim();
    if t.is_empty() || t == "-0-" {
        return None;
    }
    Some(if t.chars().count() > max { t.chars().take(max).collect() } else { t.to_string() })
}

/// Reads a whole CSV record stream, reporting unreadable records as bad rows. Stops (and marks
/// the report truncated) only when the reader fails.
pub(crate) fn csv_records<R: Read>(
    reader: R,
    delimiter: u8,
    sink: &mut Sink,
    file: &str,
    mut each: impl FnMut(&mut Sink, u64, &csv::StringRecord) -> bool,
) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(csv::Trim::None)
        .from_reader(reader);
    let mut record = csv::StringRecord::new();
    let mut n = 0u64;
    loop {
        n += 1;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(n, |p| p.line());
                if !each(sink, line, &record) {
                    break;
                }
            }
            Err(e) => {
                let line = e.position().map_or(n, |p| p.line());
                match e.kind() {
                    csv::ErrorKind::Io(_) => {
                        sink.truncated = true;
                        sink.bad(file, line, format!("read error: {e}"));
                        break;
                    }
                    csv::ErrorKind::Utf8 { .. } => sink.bad(file, line, "not valid UTF-8"),
                    _ => sink.bad(file, line, format!("malformed record: {e}")),
                }
            }
        }
    }
}

/// Reads newline-delimited records of at most `max` bytes each; longer lines are reported as
/// bad and skipped. Calls `each(sink, line_no, text)` for every non-blank valid UTF-8 line.
pub(crate) fn bounded_lines<R: io::BufRead>(
    mut reader: R,
    max: usize,
    sink: &mut Sink,
    file: &str,
    mut each: impl FnMut(&mut Sink, u64, &str) -> bool,
) {
    let mut line = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        n += 1;
        let mut too_long = false;
        // Read one line in chunks so a line without newlines cannot take all memory.
        loop {
            let buf = match reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    sink.truncated = true;
                    sink.bad(file, n, format!("read error: {e}"));
                    return;
                }
            };
            if buf.is_empty() {
                break;
            }
            let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (buf.get(..=i).unwrap_or(buf), true),
                None => (buf, false),
            };
            let used = chunk.len();
            if !too_long && line.len() + used <= max {
                line.extend_from_slice(chunk);
            } else {
                too_long = true;
                line.clear();
            }
            reader.consume(used);
            if done {
                break;
            }
        }
        if too_long {
            sink.bad(file, n, format!("line longer than {max} bytes"));
            continue;
        }
        if line.is_empty() {
            return;
        }
        match std::str::from_utf8(&line) {
            Ok(text) if text.trim().is_empty() => {}
            Ok(text) => {
                if !each(sink, n, text.trim()) {
                    return;
                }
            }
            Err(_) => sink.bad(file, n, "not valid UTF-8"),
        }
    }
}
