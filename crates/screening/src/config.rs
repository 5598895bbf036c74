//! Per-tenant screening configuration: the matching mode (the default tuned mode or the
//! OFAC-parity mode), the match threshold, and whether the tenant opted in to ongoing
//! monitoring.

use serde::{Deserialize, Serialize};

/// The match threshold of the default mode, fixed before evaluation (see `docs/bench/screening.md`).
pub const DEFAULT_THRESHOLD: f32 = 0.80;
/// The match threshold of the OFAC-parity mode (OFAC's Sanctions List Search slider default
/// area: names scoring 85 or more are shown).
pub const OFAC_PARITY_THRESHOLD: f32 = 0.85;

/// How names are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Token alignment with variants, initials, phonetics and transliteration, qualifiers
    /// (birth date, nationality, gender) raising or lowering the score, weak aliases only with
    /// corroboration.
    #[default]
    Default,
    /// Close to OFAC's Sanctions List Search: Jaro-Winkler similarity of the whole name (and of
    /// its sorted words), no qualifiers, weak aliases not screened.
    OfacParity,
}

/// A tenant's screening settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreeningConfig {
    /// The matching mode.
    pub mode: Mode,
    /// Hits scoring at least this are reported (0..1).
    pub threshold: f32,
    /// At most this many hits are returned, best first.
    pub max_hits: usize,
    /// Whether approved applicants are re-screened when a list is updated.
    pub monitoring: bool,
}

impl Default for ScreeningConfig {
    fn default() -> Self {
        Self { mode: Mode::Default, threshold: DEFAULT_THRESHOLD, max_hits: 10, monitoring: false }
    }
}

impl ScreeningConfig {
    /// The OFAC-parity settings.
    pub fn ofac_parity() -> Self {
        Self { mode: Mode::OfacParity, threshold: OFAC_PARITY_THRESHOLD, ..Self::default() }
    }

    /// Checks the settings: a threshold in 0..=1 and 1..=100 hits.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.threshold) || self.threshold.is_nan() {
            return Err(format!("threshold {} is not within 0..1", self.threshold));
        }
        if !(1..=100).contains(&self.max_hits) {
            return Err(format!("max_hits {} is not within 1..100", self.max_hits));
        }
        Ok(())
    }
}
