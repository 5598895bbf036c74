//! Sanctions and PEP screening: list importers into one normalised entity model, name
//! normalisation and transliteration, a candidate index, fuzzy matching with explanations,
//! per-tenant modes and thresholds, and the diff that drives ongoing monitoring.
//!
//! How a service uses it:
//! - **Load**: import each published list ([`import`]: OFAC legacy CSV, UN XML, BIS DPL, CSL
//!   CSV, FtM JSON lines, Senzing JSON, EU FSF XML, UK OFSI CSV; or
//!   [`import::dir::load_dir`] for a folder), check each [`ImportReport`]'s bad rows, and build
//!   a [`Screener`] with [`Screener::from_reports`]. Share it as `Arc<Screener>`; on a list
//!   update build a new one and swap it in.
//! - **Screen** (pipeline check and the stand-alone endpoint): [`Screener::screen`] with a
//!   [`Query`] (name, kind, birth date, nationalities, gender, identifiers) and the tenant's
//!   [`ScreeningConfig`] (mode, threshold). The [`ScreeningResult`] (serde) lists the hits with
//!   score, explanation and list version, and every list version screened against.
//! - **Monitor**: after an update, [`monitor::rescreen`] the approved applicants of opted-in
//!   tenants with their stored [`HitRecord`]s; outcomes with `opens_case` open a review case
//!   and send a webhook; store `current` for the next update.
//!
//! Transliteration uses [`any_ascii`]: one small table-driven crate without dependencies that
//! covers every script (Cyrillic, Greek, Arabic, Hebrew, CJK, Georgian, Armenian, ...), is kept
//! in step with Unicode releases, and is fast enough to run on every name at index time.
//!
//! ```
//! use trustcap_screening::{EntityKind, compare_names};
//! let c = compare_names("Muammar Qaddafi", "GADDAFI, Muammar", EntityKind::Person);
//! assert!(c.score > 0.85);
//! ```
#![warn(missing_docs)]

pub mod compare;
pub mod config;
pub mod country;
pub mod date;
pub mod import;
pub mod index;
pub mod model;
pub mod monitor;
pub mod normalize;
pub mod phonetic;
pub mod prepared;
pub mod screener;
pub mod similarity;
pub mod terms;

pub use compare::{MatchHow, NameComparison, PartMatch, compare, compare_names};
pub use config::{Mode, ScreeningConfig};
pub use country::Country;
pub use date::{BirthDate, DateAgreement};
pub use import::{BadRow, ImportError, ImportOptions, ImportReport, Limits};
pub use model::{
    Entity, EntityId, EntityKind, Gender, Identifier, ListSource, ListVersion, Name, NameParts, NameStrength,
};
pub use monitor::{HitChange, HitRecord, MonitoredApplicant, MonitoringOutcome, diff_hits, rescreen};
pub use prepared::{PreparedName, TokenKind, prepare};
pub use screener::{Explanation, Hit, Qualifier, QualifierEffect, Query, Screener, ScreeningResult};
