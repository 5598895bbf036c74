//! The candidate index: every listed name's tokens are kept once in a vocabulary, with
//! postings (which names hold the token), and the vocabulary is reachable by exact text,
//! phonetic key, name-variant group and character trigrams. A query token finds similar
//! vocabulary tokens through these, and names sharing rare similar tokens are ranked by an
//! IDF-weighted sum, so each query fully scores only a few names.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::compare::token_similarity;
use crate::model::EntityKind;
use crate::prepared::{PreparedName, Token, TokenKind};
use crate::terms;

/// A listed name in the index: its tokens as vocabulary ids.
#[derive(Debug, Clone)]
pub struct IndexedName {
    /// Index of the entity in the screener.
    pub entity: u32,
    /// Index of the name within the entity.
    pub name: u16,
    /// The kind the name was prepared for.
    pub kind: EntityKind,
    /// Vocabulary ids of its tokens.
    pub tokens: Box<[u32]>,
}

/// The index.
#[derive(Debug, Default)]
pub struct CandidateIndex {
    vocab: Vec<Token>,
    by_token: HashMap<(String, TokenKind, bool), u32>,
    by_text: HashMap<String, Vec<u32>>,
    by_key: HashMap<String, Vec<u32>>,
    by_group: HashMap<u16, Vec<u32>>,
    by_trigram: HashMap<[u8; 3], Vec<u32>>,
    postings: Vec<Vec<u32>>,
    names: Vec<IndexedName>,
}

/// How many names a query fully scores, at most.
pub const MAX_CANDIDATES: usize = 40;
/// Similar vocabulary tokens followed per query token, at most.
const MAX_SIMILAR: usize = 12;
/// Once this many names are under consideration, further query tokens only raise them (this
/// bounds the work of queries made of words common across the lists).
const MAX_TOUCHED: usize = 20_000;
/// Query tokens must be at least this similar to a vocabulary token to follow it.
const MIN_TOKEN_SIM: f32 = 0.7;

fn trigrams(text: &str) -> Vec<[u8; 3]> {
    let mut padded = Vec::with_capacity(text.len() + 2);
    padded.push(b' ');
    padded.extend_from_slice(text.as_bytes());
    padded.push(b' ');
    let mut out: Vec<[u8; 3]> = padded.windows(3).filter_map(|w| <[u8; 3]>::try_from(w).ok()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

struct Scratch {
    acc: Vec<f32>,
    touched: Vec<u32>,
    tri: Vec<u16>,
    tri_touched: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> =
        const { RefCell::new(Scratch { acc: Vec::new(), touched: Vec::new(), tri: Vec::new(), tri_touched: Vec::new() }) };
}

impl CandidateIndex {
    fn intern(&mut self, t: &Token, fuzzy: bool) -> u32 {
        let key = (t.text.clone(), t.kind, t.abjad);
        if let Some(id) = self.by_token.get(&key) {
            return *id;
        }
        let id = self.vocab.len() as u32;
        self.vocab.push(t.clone());
        self.postings.push(Vec::new());
        self.by_token.insert(key, id);
        if matches!(t.kind, TokenKind::Word | TokenKind::Number) {
            let by_text = self.by_text.entry(t.text.clone()).or_default();
            by_text.push(id);
            if by_text.len() == 1 && fuzzy {
                for tri in trigrams(&t.text) {
                    self.by_trigram.entry(tri).or_default().push(id);
                }
            }
            if !t.key.is_empty() {
                self.by_key.entry(t.key.clone()).or_default().push(id);
            }
            for g in terms::name_groups(&t.text) {
                self.by_group.entry(*g).or_default().push(id);
            }
        }
        id
    }

    /// Adds a prepared name of entity `entity`; also indexes pairs of words written together.
    pub fn add(&mut self, entity: u32, name: u16, prepared: &PreparedName) {
        let id = self.names.len() as u32;
        let tokens: Box<[u32]> = prepared.tokens.iter().map(|t| self.intern(t, true)).collect();
        for (i, t) in tokens.iter().enumerate() {
            if tokens.get(..i).is_some_and(|before| before.contains(t)) {
                continue;
            }
            if let Some(p) = self.postings.get_mut(*t as usize) {
                p.push(id);
            }
        }
        // "Alisher Usmanov" is also found as "AlisherUsmanov" (both orders for two words).
        let words: Vec<&Token> = prepared.tokens.iter().filter(|t| t.kind == TokenKind::Word).collect();
        if (2..=3).contains(&words.len()) {
            let mut joined: Vec<String> =
                words.windows(2).map(|w| w.iter().map(|t| t.text.as_str()).collect()).collect();
            if let [a, b] = words.as_slice() {
                joined.push(format!("{}{}", b.text, a.text));
            }
            for j in joined {
                let t = crate::prepared::prepare(&j, EntityKind::Organization).tokens.into_iter().next();
                if let Some(mut t) = t {
                    t.kind = TokenKind::Word;
                    // Found by exact text and phonetic key only: joined words are many and
                    // would crowd the trigram index.
                    let v = self.intern(&t, false);
                    if let Some(p) = self.postings.get_mut(v as usize)
                        && p.last() != Some(&id)
                    {
                        p.push(id);
                    }
                }
            }
        }
        self.names.push(IndexedName { entity, name, kind: prepared.kind, tokens });
    }

    /// The indexed names.
    pub fn names(&self) -> &[IndexedName] {
        &self.names
    }

    /// A vocabulary token.
    pub fn token(&self, id: u32) -> Option<&Token> {
        self.vocab.get(id as usize)
    }

    /// The tokens of an indexed name.
    pub fn name_tokens(&self, name: &IndexedName) -> Vec<&Token> {
        name.tokens.iter().filter_map(|t| self.vocab.get(*t as usize)).collect()
    }

    /// Vocabulary size.
    pub fn vocabulary_len(&self) -> usize {
        self.vocab.len()
    }

    /// Vocabulary tokens similar to `q`, best first, with their similarity.
    fn similar(&self, q: &Token, s: &mut Scratch) -> Vec<(u32, f32)> {
        let mut found: Vec<u32> = Vec::new();
        if let Some(ids) = self.by_text.get(&q.text) {
            found.extend(ids);
        }
        if !q.key.is_empty()
            && let Some(ids) = self.by_key.get(&q.key)
        {
            found.extend(ids.iter().take(256));
        }
        for g in terms::name_groups(&q.text) {
            if let Some(ids) = self.by_group.get(g) {
                found.extend(ids.iter().take(256));
            }
        }
        // Trigram overlap (Dice) over the vocabulary.
        let grams = trigrams(&q.text);
        if s.tri.len() < self.vocab.len() {
            s.tri.resize(self.vocab.len(), 0);
        }
        for g in &grams {
            if let Some(ids) = self.by_trigram.get(g) {
                for id in ids {
                    if let Some(c) = s.tri.get_mut(*id as usize) {
                        if *c == 0 {
                            s.tri_touched.push(*id);
                        }
                        *c = c.saturating_add(1);
                    }
                }
            }
        }
        let qn = grams.len() as f32;
        for id in s.tri_touched.drain(..) {
            let shared = s.tri.get(id as usize).copied().unwrap_or(0);
            if let Some(c) = s.tri.get_mut(id as usize) {
                *c = 0;
            }
            let Some(t) = self.vocab.get(id as usize) else { continue };
            let tn = (t.text.len() + 1) as f32;
            if 2.0 * f32::from(shared) / (qn + tn) >= 0.45 {
                found.push(id);
            }
        }
        found.sort_unstable();
        found.dedup();
        let mut scored: Vec<(u32, f32)> = found
            .into_iter()
            .filter_map(|id| {
                let t = self.vocab.get(id as usize)?;
                let (sim, _) = token_similarity(q, t);
                (sim >= MIN_TOKEN_SIM).then_some((id, sim))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(MAX_SIMILAR);
        scored
    }

    /// The names most worth scoring for a query name, best first (at most `limit`).
    pub fn candidates(&self, query: &PreparedName, limit: usize) -> Vec<u32> {
        let n_names = self.names.len().max(1) as f32;
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let s = &mut *guard;
            if s.acc.len() < self.names.len() {
                s.acc.resize(self.names.len(), 0.0);
            }
            // Query tokens worth following, with their similar vocabulary tokens, rarest first.
            let mut followed: Vec<(f32, Vec<(u32, f32)>)> = Vec::new();
            for t in &query.tokens {
                if !matches!(t.kind, TokenKind::Word | TokenKind::Number) {
                    continue;
                }
                let similar = self.similar(t, s);
                let df: usize = similar.iter().map(|(id, _)| self.postings.get(*id as usize).map_or(0, Vec::len)).sum();
                followed.push((df as f32, similar));
            }
            followed.sort_by(|a, b| a.0.total_cmp(&b.0));
            let common = (n_names / 50.0).max(2000.0);
            let mut any = false;
            for (df, similar) in &followed {
                // Tokens common across the lists only raise names that rarer tokens found.
                let add_new = !any || (*df < common && s.touched.len() < MAX_TOUCHED);
                for (id, sim) in similar {
                    let Some(post) = self.postings.get(*id as usize) else { continue };
                    let idf = (n_names / (post.len() as f32 + 1.0)).ln().max(0.1);
                    let gain = idf * sim * sim;
                    for name in post {
                        let Some(a) = s.acc.get_mut(*name as usize) else { continue };
                        if *a == 0.0 {
                            if !add_new || s.touched.len() >= MAX_TOUCHED * 4 {
                                continue;
                            }
                            s.touched.push(*name);
                        }
                        *a += gain;
                    }
                }
                any |= !similar.is_empty();
            }
            let mut ranked: Vec<(f32, u32)> =
                s.touched.iter().map(|n| (s.acc.get(*n as usize).copied().unwrap_or(0.0), *n)).collect();
            for n in s.touched.drain(..) {
                if let Some(a) = s.acc.get_mut(n as usize) {
                    *a = 0.0;
                }
            }
            let k = limit.min(ranked.len());
            if k == 0 {
                return Vec::new();
            }
            if k < ranked.len() {
                ranked.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                ranked.truncate(k);
            }
            ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            // Names far behind the best share only a common word or two with the query.
            let top = ranked.first().map_or(0.0, |r| r.0);
            ranked.into_iter().filter(|(acc, _)| *acc >= top * 0.3).map(|(_, n)| n).collect()
        })
    }
}
