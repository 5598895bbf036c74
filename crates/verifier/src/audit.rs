//! The audit trail: an append-only, hash-chained log of every session state change,
//! decision, rule change and key creation.
//!
//! Each tenant has its own chain (`chain` = the tenant id; events without a tenant, such as
//! creating one, go to the `system` chain). Entry `n` of a chain stores the hash of entry
//! `n - 1` and its own hash, an HMAC-SHA256 under a key derived from the service secret over
//! every field (chain, position, time, actor, action, subject, details, previous hash). The
//! newest position and hash of each chain are kept in `audit_heads`, updated in the same
//! transaction as the change they record, which also serialises appends to one chain.
//!
//! [`verify`] walks the chains and says where they break: an edited or forged entry fails its
//! HMAC, a deleted one leaves a gap, an inserted one has a position the head never issued or
//! does not link to its predecessor, and entries deleted from the end leave the head ahead
//! of the log. Someone who can write to the database but does not hold the service secret
//! cannot recompute the hashes. The one change the chain alone cannot see is a rollback of
//! both the log and its head to an earlier consistent state; keeping the printed head of
//! `verify-audit` outside the database (for example in the operations log) detects that too.
//!
//! Details never carry applicant data: states, reason codes, versions and identifiers only.

use hmac::{Hmac, Mac as _};
use serde::Serialize;
use sha2::Sha256;
use sqlx::{AnyConnection, Row as _};

use crate::db::Db;
use crate::error::AppError;

/// The chain of events that belong to no tenant (tenant creation).
pub const SYSTEM_CHAIN: &str = "system";

/// The "previous hash" of a chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Entries read per query while verifying, so memory stays bounded on long chains.
const PAGE: i64 = 1000;

/// The key that seals audit entries (derived from the service secret).
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

impl AuditKey {
    /// Wraps 32 key bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The hex HMAC of one entry's fields, each length-prefixed so no two entries encode alike.
    fn seal(&self, entry: &StoredEntry) -> String {
        let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        let seq = entry.seq.to_string();
        let at = entry.at.to_string();
        for field in [
            entry.chain.as_str(),
            &seq,
            &at,
            &entry.actor,
            &entry.action,
            &entry.subject,
            &entry.details,
            &entry.prev_hash,
        ] {
            mac.update(&(field.len() as u64).to_le_bytes());
            mac.update(field.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Who caused an audited change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// The service itself (pipeline, expiry, list monitoring).
    System,
    /// An operator at the command line.
    Cli,
    /// A customer backend, through its API key.
    Api,
    /// The applicant's capture client, through its session token.
    Client,
    /// A reviewer, by account id.
    Reviewer(&'a str),
}

impl Actor<'_> {
    fn label(&self) -> String {
        match self {
            Actor::System => "system".into(),
            Actor::Cli => "cli".into(),
            Actor::Api => "api".into(),
            Actor::Client => "client".into(),
            Actor::Reviewer(id) => format!("reviewer:{id}"),
        }
    }
}

/// What to record: appended with [`append`] inside the transaction of the change itself.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The tenant id, or [`SYSTEM_CHAIN`].
    pub chain: &'a str,
    /// Who did it.
    pub actor: Actor<'a>,
    /// Stable action name, e.g. `session.transition`, `rule_set.created`.
    pub action: &'a str,
    /// What it was done to: a session id, a key prefix, a rule-set version.
    pub subject: &'a str,
    /// Machine-readable details without applicant data.
    pub details: serde_json::Value,
}

/// An audit key with the actor of the change at hand: what code that records a change needs.
#[derive(Debug, Clone, Copy)]
pub struct Auditor<'a> {
    key: &'a AuditKey,
    actor: Actor<'a>,
}

impl<'a> Auditor<'a> {
    /// An auditor for `actor`'s changes.
    pub fn new(key: &'a AuditKey, actor: Actor<'a>) -> Self {
        Self { key, actor }
    }

    /// Appends `action` on `subject` to `chain` in the caller's transaction.
    pub async fn record(
        &self,
        conn: &mut AnyConnection,
        chain: &str,
        action: &str,
        subject: &str,
        details: serde_json::Value,
        now: i64,
    ) -> Result<i64, AppError> {
        append(conn, self.key, &Entry { chain, actor: self.actor, action, subject, details }, now).await
    }
}

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEntry {
    /// The chain (tenant id or `system`).
    pub chain: String,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who did it (`system`, `cli`, `api`, `client`, `reviewer:<id>`).
    pub actor: String,
    /// The action name.
    pub action: String,
    /// What it was done to.
    pub subject: String,
    /// Details as the JSON text that was sealed.
    pub details: String,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's HMAC.
    pub hash: String,
}

/// Appends `entry` to its chain in the caller's transaction; returns its position.
///
/// The head row is updated first, so concurrent appends to the same chain wait for each
/// other's commit (a row lock on PostgreSQL, the database write lock on SQLite).
pub async fn append(conn: &mut AnyConnection, key: &AuditKey, entry: &Entry<'_>, now: i64) -> Result<i64, AppError> {
    sqlx::query("INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING")
        .bind(entry.chain)
        .bind(GENESIS)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE audit_heads SET seq = seq + 1 WHERE chain = $1").bind(entry.chain).execute(&mut *conn).await?;
    let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE chain = $1")
        .bind(entry.chain)
        .fetch_one(&mut *conn)
        .await?;
    let mut stored = StoredEntry {
        chain: entry.chain.to_owned(),
        seq: head.try_get("seq")?,
        at: now,
        actor: entry.actor.label(),
        action: entry.action.to_owned(),
        subject: entry.subject.to_owned(),
        details: serde_json::to_string(&entry.details).map_err(AppError::internal)?,
        prev_hash: head.try_get("hash")?,
        hash: String::new(),
    };
    stored.hash = key.seal(&stored);
    sqlx::query(
        "INSERT INTO audit_log (chain, seq, at, actor, action, subject, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&stored.chain)
    .bind(stored.seq)
    .bind(stored.at)
    .bind(&stored.actor)
    .bind(&stored.action)
    .bind(&stored.subject)
    .bind(&stored.details)
    .bind(&stored.prev_hash)
    .bind(&stored.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_heads SET hash = $1 WHERE chain = $2")
        .bind(&stored.hash)
        .bind(entry.chain)
        .execute(&mut *conn)
        .await?;
    Ok(stored.seq)
}

/// What is wrong at a position of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The entry's hash does not match its content: it was edited, or written by someone
    /// without the key.
    Altered,
    /// Positions are missing before this entry: entries were deleted.
    Missing,
    /// The entry has a position its chain's head never issued: it was inserted.
    Inserted,
    /// The entry's "previous hash" is not its predecessor's hash: entries were inserted,
    /// replaced or reordered before it.
    BrokenLink,
    /// The head records more entries (or another last hash) than the log holds: entries were
    /// deleted from the end.
    Truncated,
    /// Entries of a chain that has no head.
    NoHead,
}

/// One break in a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The chain.
    pub chain: String,
    /// The position where it shows (for [`ProblemKind::Missing`], the first missing one).
    pub seq: i64,
    /// What it is.
    pub kind: ProblemKind,
    /// A sentence for operators.
    pub message: String,
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Chains checked.
    pub chains: usize,
    /// Entries checked.
    pub entries: u64,
    /// Every break found, in chain and position order.
    pub problems: Vec<Problem>,
    /// Each chain's head as `chain:seq:hash`, to keep outside the database.
    pub heads: Vec<String>,
}

impl AuditReport {
    /// True if no problem was found.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks one chain (`Some(tenant)`) or every chain (`None`).
pub async fn verify(db: &Db, key: &AuditKey, chain: Option<&str>) -> Result<AuditReport, AppError> {
    let mut conn = db.pool().acquire().await?;
    let heads: Vec<(String, i64, String)> = match chain {
        Some(chain) => sqlx::query("SELECT chain, seq, hash FROM audit_heads WHERE chain = $1").bind(chain),
        None => sqlx::query("SELECT chain, seq, hash FROM audit_heads ORDER BY chain"),
    }
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("chain")?, row.try_get("seq")?, row.try_get("hash")?)))
    .collect::<Result<_, sqlx::Error>>()?;

    let mut report = AuditReport::default();
    let headless: Vec<String> = match chain {
        Some(chain) if heads.is_empty() => {
            sqlx::query_scalar("SELECT DISTINCT chain FROM audit_log WHERE chain = $1")
                .bind(chain)
                .fetch_all(&mut *conn)
                .await?
        }
        Some(_) => Vec::new(),
        None => sqlx::query_scalar(
            "SELECT DISTINCT chain FROM audit_log WHERE chain NOT IN (SELECT chain FROM audit_heads) ORDER BY chain",
        )
        .fetch_all(&mut *conn)
        .await?,
    };
    for chain in headless {
        report.problems.push(Problem {
            message: format!("chain {chain} has entries but no head"),
            chain,
            seq: 1,
            kind: ProblemKind::NoHead,
        });
    }
    for (chain, head_seq, head_hash) in heads {
        report.chains += 1;
        let mut walk = ChainWalk::new(key, &chain, head_seq);
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT chain, seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log \
                 WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(&chain)
            .bind(after)
            .bind(PAGE)
            .fetch_all(&mut *conn)
            .await?;
            for row in &rows {
                let entry = StoredEntry {
                    chain: row.try_get("chain")?,
                    seq: row.try_get("seq")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    subject: row.try_get("subject")?,
                    details: row.try_get("details")?,
                    prev_hash: row.try_get("prev_hash")?,
                    hash: row.try_get("hash")?,
                };
                after = entry.seq;
                walk.step(&entry, &mut report.problems);
                report.entries += 1;
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        walk.finish(&head_hash, &mut report.problems);
        report.heads.push(format!("{chain}:{head_seq}:{head_hash}"));
    }
    Ok(report)
}

/// The state of a walk along one chain, entry by entry in position order.
struct ChainWalk<'a> {
    key: &'a AuditKey,
    chain: &'a str,
    head_seq: i64,
    expected: i64,
    prev_hash: String,
}

impl<'a> ChainWalk<'a> {
    fn new(key: &'a AuditKey, chain: &'a str, head_seq: i64) -> Self {
        Self { key, chain, head_seq, expected: 1, prev_hash: GENESIS.to_owned() }
    }

    fn problem(&self, seq: i64, kind: ProblemKind, message: String) -> Problem {
        Problem { chain: self.chain.to_owned(), seq, kind, message }
    }

    fn step(&mut self, entry: &StoredEntry, problems: &mut Vec<Problem>) {
        let gap = entry.seq > self.expected;
        if entry.seq > self.head_seq {
            problems.push(self.problem(
                entry.seq,
                ProblemKind::Inserted,
                format!("entry {} lies beyond the chain's head ({}): it was inserted", entry.seq, self.head_seq),
            ));
        } else if gap {
            problems.push(self.problem(
                self.expected,
                ProblemKind::Missing,
                format!("entries {}..{} are missing: they were deleted", self.expected, entry.seq - 1),
            ));
        }
        if self.key.seal(entry) != entry.hash {
            problems.push(self.problem(
                entry.seq,
                ProblemKind::Altered,
                format!("entry {} does not match its hash: it was edited or forged", entry.seq),
            ));
        } else if !gap && entry.prev_hash != self.prev_hash {
            problems.push(self.problem(
                entry.seq,
                ProblemKind::BrokenLink,
                format!(
                    "entry {} does not follow entry {}: entries were inserted or replaced",
                    entry.seq,
                    entry.seq - 1
                ),
            ));
        }
        self.expected = entry.seq + 1;
        self.prev_hash = entry.hash.clone();
    }

    fn finish(&self, head_hash: &str, problems: &mut Vec<Problem>) {
        let last = self.expected - 1;
        if last < self.head_seq {
            problems.push(self.problem(
                last + 1,
                ProblemKind::Truncated,
                format!("entries {}..{} are missing at the end: they were deleted", last + 1, self.head_seq),
            ));
        } else if last == self.head_seq && self.head_seq > 0 && self.prev_hash != head_hash {
            problems.push(self.problem(
                last,
                ProblemKind::Truncated,
                format!("the last entry {last} is not the one the head recorded"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditKey {
        AuditKey::new([7; 32])
    }

    /// A valid chain of `n` entries, sealed like `append` does.
    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = StoredEntry {
                    chain: "ten_a".into(),
                    seq,
                    at: 1_700_000_000 + seq,
                    actor: "system".into(),
                    action: "session.transition".into(),
                    subject: format!("ses_{seq}"),
                    details: format!("{{\"to\":\"s{seq}\"}}"),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = key().seal(&e);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn walk(entries: &[StoredEntry], head_seq: i64, head_hash: &str) -> Vec<Problem> {
        let key = key();
        let mut walk = ChainWalk::new(&key, "ten_a", head_seq);
        let mut problems = Vec::new();
        for e in entries {
            walk.step(e, &mut problems);
        }
        walk.finish(head_hash, &mut problems);
        problems
    }

    fn kinds(problems: &[Problem]) -> Vec<(i64, ProblemKind)> {
        problems.iter().map(|p| (p.seq, p.kind)).collect()
    }

    #[test]
    fn an_intact_chain_has_no_problem() {
        let c = chain(5);
        assert!(walk(&c, 5, &c[4].hash).is_empty());
        assert!(walk(&[], 0, GENESIS).is_empty());
    }

    #[test]
    fn every_field_is_sealed() {
        let base = chain(1).remove(0);
        let edits: [fn(&mut StoredEntry); 8] = [
            |e| e.chain.push('x'),
            |e| e.seq += 1,
            |e| e.at += 1,
            |e| e.actor.push('x'),
            |e| e.action.push('x'),
            |e| e.subject.push('x'),
            |e| e.details.push(' '),
            |e| e.prev_hash.replace_range(0..1, "1"),
        ];
        for edit in edits {
            let mut e = base.clone();
            edit(&mut e);
            assert_ne!(key().seal(&e), base.hash);
        }
        // Moving bytes between fields changes the encoding too.
        let mut e = base.clone();
        e.actor = "systems".into();
        e.action = "ession.transition".into();
        assert_ne!(key().seal(&e), base.hash);
        // Another key gives another hash.
        assert_ne!(AuditKey::new([8; 32]).seal(&base), base.hash);
    }

    #[test]
    fn an_edit_is_found_where_it_is() {
        let mut c = chain(5);
        c[2].details = "{\"to\":\"approved\"}".into();
        assert_eq!(kinds(&walk(&c, 5, &c[4].hash.clone())), vec![(3, ProblemKind::Altered)]);
    }

    #[test]
    fn a_deletion_in_the_middle_is_found() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(kinds(&walk(&c, 5, &c[3].hash.clone())), vec![(2, ProblemKind::Missing)]);
    }

    #[test]
    fn a_deletion_at_the_end_is_found() {
        let c = chain(5);
        let head = c[4].hash.clone();
        assert_eq!(kinds(&walk(&c[..3], 5, &head)), vec![(4, ProblemKind::Truncated)]);
    }

    #[test]
    fn an_appended_forgery_is_found() {
        let mut c = chain(3);
        let head = c[2].hash.clone();
        let mut forged = c[2].clone();
        forged.seq = 4;
        forged.prev_hash = head.clone();
        c.push(forged);
        assert_eq!(kinds(&walk(&c, 3, &head)), vec![(4, ProblemKind::Inserted), (4, ProblemKind::Altered)]);
    }

    #[test]
    fn an_insertion_with_renumbering_is_found_at_its_position() {
        let original = chain(4);
        let head = original[3].hash.clone();
        let mut c = original[..2].to_vec();
        let mut forged = original[1].clone();
        forged.seq = 3;
        forged.prev_hash = original[1].hash.clone();
        forged.hash = "f".repeat(64);
        c.push(forged);
        for e in &original[2..] {
            let mut moved = e.clone();
            moved.seq += 1;
            c.push(moved);
        }
        let found = walk(&c, 4, &head);
        assert_eq!(found.first().map(|p| (p.seq, p.kind)), Some((3, ProblemKind::Altered)));
        assert!(found.iter().any(|p| p.kind == ProblemKind::Inserted && p.seq == 5));
    }

    #[test]
    fn a_replayed_valid_entry_breaks_the_link() {
        // A valid entry copied from another chain position keeps its own hash but no longer
        // follows its predecessor.
        let a = chain(3);
        let mut c = vec![a[0].clone(), a[0].clone()];
        c[1].seq = 2;
        c[1].hash = key().seal(&c[1]);
        c.push(a[2].clone());
        let found = kinds(&walk(&c, 3, &a[2].hash));
        assert_eq!(found, vec![(2, ProblemKind::BrokenLink), (3, ProblemKind::BrokenLink)]);
    }
}
