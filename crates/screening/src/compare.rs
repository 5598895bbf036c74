//! Comparing two prepared names: every token of one is paired with at most one token (or two
//! written together) of the other, best pairs first, whatever the order of the names; each
//! pair says how it matched (exact, name variant or nickname, initial, phonetic, consonants of
//! an abjad transliteration, fuzzy, joined words, number, legal form). The score weighs how
//! much of the shorter name is covered most, and how much of the longer name a little, so
//! extra middle names cost little and a different family name costs a lot.

use serde::{Deserialize, Serialize};

use crate::model::EntityKind;
use crate::prepared::{PreparedName, Token, TokenKind};
use crate::similarity::edit_ratio;
use crate::terms;

/// How two name parts matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchHow {
    /// Same normalised text (after transliteration and diacritic folding).
    Exact,
    /// Variants of one given name, or a nickname (`Bill`/`William`, `Sasha`/`Alexander`).
    Variant,
    /// An initial and a word that starts with it.
    Initial,
    /// Same phonetic key (`Qaddafi`/`Gaddafi`).
    Phonetic,
    /// Same consonants, for names transliterated from Arabic or Hebrew script.
    Consonants,
    /// Similar spelling (edit distance).
    Fuzzy,
    /// Two words on one side written as one on the other (`AlisherUsmanov`).
    Joined,
    /// The same number (digits, words or Roman numerals).
    Number,
    /// Legal forms (`AG`/`Aktiengesellschaft`, `OAO`/`JSC`).
    LegalForm,
}

/// One matched part of the two names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartMatch {
    /// The part of the first (query) name.
    pub query: String,
    /// The part of the second (listed) name.
    pub candidate: String,
    /// How they matched.
    pub how: MatchHow,
    /// Their similarity, 0..1.
    pub similarity: f32,
}

/// The comparison of two names, with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameComparison {
    /// 0..1.
    pub score: f32,
    /// The matched parts.
    pub parts: Vec<PartMatch>,
    /// Words of the query name that matched nothing.
    pub unmatched_query: Vec<String>,
    /// Words of the listed name that matched nothing.
    pub unmatched_candidate: Vec<String>,
}

/// Pairs below this similarity are not matches.
const MIN_PAIR: f32 = 0.6;
/// Names with more tokens than this are not tried for joined words.
const MAX_JOIN_TOKENS: usize = 8;

/// Similarity of two tokens and how they matched.
pub fn token_similarity(a: &Token, b: &Token) -> (f32, MatchHow) {
    use TokenKind::*;
    match (a.kind, b.kind) {
        (LegalForm, LegalForm) => {
            return if a.text == b.text {
                (1.0, MatchHow::LegalForm)
            } else if terms::GENERIC_FORMS.contains(&a.text.as_str()) || terms::GENERIC_FORMS.contains(&b.text.as_str())
            {
                (0.8, MatchHow::LegalForm)
            } else {
                (0.0, MatchHow::LegalForm)
            };
        }
        (LegalForm, _) | (_, LegalForm) => return (0.0, MatchHow::Fuzzy),
        (Number, Number) => return (if a.text == b.text { 1.0 } else { 0.0 }, MatchHow::Number),
        (Number, _) | (_, Number) => return (0.0, MatchHow::Fuzzy),
        (Stop, _) | (_, Stop) => return (if a.text == b.text { 1.0 } else { 0.0 }, MatchHow::Exact),
        _ => {}
    }
    if a.text == b.text {
        return (1.0, MatchHow::Exact);
    }
    if a.kind == Initial || b.kind == Initial {
        let (i, w) = if a.kind == Initial { (a, b) } else { (b, a) };
        return if w.text.as_bytes().first() == i.text.as_bytes().first() {
            (0.9, MatchHow::Initial)
        } else {
            (0.0, MatchHow::Initial)
        };
    }
    if !a.groups.is_empty() && a.groups.iter().any(|g| b.groups.contains(g)) {
        return (0.95, MatchHow::Variant);
    }
    let same_key = !a.key.is_empty() && a.key == b.key;
    // Words of very different lengths cannot be similar enough: skip the edit distance.
    let (la, lb) = (a.text.len(), b.text.len());
    let bound = la.min(lb) as f32 / la.max(lb).max(1) as f32;
    let skeletons = (a.abjad || b.abjad) && !a.skeleton.is_empty();
    if bound < MIN_PAIR && !same_key && !skeletons {
        return (bound, MatchHow::Fuzzy);
    }
    let mut best = (edit_ratio(&a.text, &b.text), MatchHow::Fuzzy);
    if skeletons {
        let s = edit_ratio(&a.skeleton, &b.skeleton) * 0.95;
        if s > best.0 {
            best = (s, MatchHow::Consonants);
        }
    }
    if same_key && best.0 < 0.93 {
        // Same sound: raise the spelling similarity, but not beyond what short words can bear.
        let cap = if a.text.len() <= 3 || b.text.len() <= 3 { 0.85 } else { 0.93 };
        best = ((best.0 + 0.3).min(cap), MatchHow::Phonetic);
    }
    best
}

/// Credit a pair earns for its similarity: near-identical pairs earn it all, weaker pairs
/// progressively less, so that one fuzzy pair cannot carry a name.
fn credit(sim: f32) -> f32 {
    if sim >= 0.95 { sim } else { (sim - 1.6 * (0.95 - sim)).max(0.0) }
}

/// A candidate pair, its weight, and its tie-breaking texts.
type Keyed<'t> = (Unit, f32, ([&'t str; 2], [&'t str; 2]));

#[derive(Clone, Copy)]
struct Unit {
    a: [usize; 2],
    a_len: usize,
    b: [usize; 2],
    b_len: usize,
    sim: f32,
    how: MatchHow,
}

fn texts(tokens: &[&Token], idx: &[usize]) -> String {
    idx.iter().filter_map(|i| tokens.get(*i)).map(|t| t.text.as_str()).collect::<Vec<_>>().join(" ")
}

fn joinable(t: &Token) -> bool {
    matches!(t.kind, TokenKind::Word | TokenKind::Particle | TokenKind::Initial)
}

/// Candidate pairs of joined words on side `x` (two tokens) against one token of side `y`.
fn joined_units(x: &[&Token], y: &[&Token], swap: bool, out: &mut Vec<Unit>) {
    if x.len() > MAX_JOIN_TOKENS || x.len() < 2 {
        return;
    }
    for (i, ti) in x.iter().enumerate() {
        for (k, tk) in x.iter().enumerate() {
            if i == k || !joinable(ti) || !joinable(tk) {
                continue;
            }
            let joined_len = ti.text.len() + tk.text.len();
            let mut joined: Option<String> = None;
            for (j, tj) in y.iter().enumerate() {
                // Only a word about as long as the two together can be them written as one.
                if tj.kind != TokenKind::Word || tj.text.len().abs_diff(joined_len) * 7 > joined_len {
                    continue;
                }
                let joined = joined.get_or_insert_with(|| format!("{}{}", ti.text, tk.text));
                let sim = edit_ratio(joined, &tj.text);
                if sim >= 0.85 {
                    let unit = if swap {
                        Unit { a: [j, 0], a_len: 1, b: [i, k], b_len: 2, sim, how: MatchHow::Joined }
                    } else {
                        Unit { a: [i, k], a_len: 2, b: [j, 0], b_len: 1, sim, how: MatchHow::Joined }
                    };
                    out.push(unit);
                }
            }
        }
    }
}

/// The score factor for each part left unmatched on both sides (at most two count).
const CONFLICT_FACTOR: f32 = 0.88;

/// Tokens whose absence from a match can be a conflict.
fn significant(t: &Token) -> bool {
    match t.kind {
        TokenKind::Word | TokenKind::Initial => true,
        TokenKind::LegalForm => !terms::GENERIC_FORMS.contains(&t.text.as_str()),
        TokenKind::Number => true,
        TokenKind::Particle | TokenKind::Stop => false,
    }
}

/// Whether one name is the other's words and particles written together (`vanderbilt` /
/// `van der bilt`), in any order of the words, so the rule never depends on word order.
fn written_together(a: &[&Token], b: &[&Token]) -> bool {
    let parts = |t: &[&Token]| -> Vec<String> {
        t.iter().filter(|t| !matches!(t.kind, TokenKind::LegalForm | TokenKind::Stop)).map(|t| t.text.clone()).collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    let (one, many) = match (pa.len(), pb.len()) {
        (1, 2..=4) => (&pa, &pb),
        (2..=4, 1) => (&pb, &pa),
        _ => return false,
    };
    let Some(single) = one.first() else { return false };
    if single.len() != many.iter().map(String::len).sum::<usize>() {
        return false;
    }
    // Every order of at most four words (24 orders).
    let mut idx: Vec<usize> = (0..many.len()).collect();
    loop {
        let joined: String = idx.iter().filter_map(|i| many.get(*i)).map(String::as_str).collect();
        if joined == *single {
            return true;
        }
        // Next permutation (lexicographic); stop after the last.
        let Some(k) = (0..idx.len().saturating_sub(1)).rev().find(|&k| idx.get(k) < idx.get(k + 1)) else {
            return false;
        };
        let Some(l) = (k + 1..idx.len()).rev().find(|&l| idx.get(k) < idx.get(l)) else { return false };
        idx.swap(k, l);
        if let Some(tail) = idx.get_mut(k + 1..) {
            tail.reverse();
        }
    }
}

/// Compares two prepared names. Symmetric in its score, and independent of word order.
pub fn compare(q: &PreparedName, c: &PreparedName) -> NameComparison {
    let qa: Vec<&Token> = q.tokens.iter().collect();
    let cb: Vec<&Token> = c.tokens.iter().collect();
    compare_tokens(&qa, q.kind, &cb, c.kind, true)
}

/// Compares two names given as their tokens (the index keeps tokens once, in a vocabulary).
/// Without `explain`, only the score is computed (the parts and unmatched lists stay empty).
pub fn compare_tokens(
    qa: &[&Token],
    q_kind: EntityKind,
    cb: &[&Token],
    c_kind: EntityKind,
    explain: bool,
) -> NameComparison {
    if qa.is_empty() || cb.is_empty() {
        return NameComparison {
            score: 0.0,
            parts: Vec::new(),
            unmatched_query: qa.iter().map(|t| t.text.clone()).collect(),
            unmatched_candidate: cb.iter().map(|t| t.text.clone()).collect(),
        };
    }
    let mut units: Vec<Unit> = Vec::with_capacity(qa.len() * cb.len());
    for (i, a) in qa.iter().enumerate() {
        for (j, b) in cb.iter().enumerate() {
            let (sim, how) = token_similarity(a, b);
            if sim >= MIN_PAIR {
                units.push(Unit { a: [i, 0], a_len: 1, b: [j, 0], b_len: 1, sim, how });
            }
        }
    }
    joined_units(qa, cb, false, &mut units);
    joined_units(cb, qa, true, &mut units);
    // Best first; ties broken by the texts (not positions), so order never matters.
    let key = |u: &Unit| {
        fn side<'t>(tokens: &[&'t Token], idx: &[usize]) -> [&'t str; 2] {
            let t = |k: usize| idx.get(k).and_then(|i| tokens.get(*i)).map_or("", |t| t.text.as_str());
            [t(0), t(1)]
        }
        let at = side(qa, u.a.get(..u.a_len).unwrap_or(&[]));
        let bt = side(cb, u.b.get(..u.b_len).unwrap_or(&[]));
        if at <= bt { (at, bt) } else { (bt, at) }
    };
    let weight = |u: &Unit| -> f32 {
        u.a.get(..u.a_len).unwrap_or(&[]).iter().filter_map(|i| qa.get(*i)).map(|t| t.weight).sum::<f32>()
            + u.b.get(..u.b_len).unwrap_or(&[]).iter().filter_map(|j| cb.get(*j)).map(|t| t.weight).sum::<f32>()
    };
    let mut keyed: Vec<Keyed<'_>> = units.into_iter().map(|u| (u, weight(&u), key(&u))).collect();
    keyed.sort_by(|x, y| y.0.sim.total_cmp(&x.0.sim).then(y.1.total_cmp(&x.1)).then_with(|| x.2.cmp(&y.2)));
    let mut used_a = vec![false; qa.len()];
    let mut used_b = vec![false; cb.len()];
    let mut parts = Vec::new();
    let (mut got_a, mut got_b) = (0.0f32, 0.0f32);
    for (u, _, _) in keyed {
        let ia = u.a.get(..u.a_len).unwrap_or(&[]);
        let jb = u.b.get(..u.b_len).unwrap_or(&[]);
        if ia.iter().any(|i| used_a.get(*i).copied().unwrap_or(true))
            || jb.iter().any(|j| used_b.get(*j).copied().unwrap_or(true))
        {
            continue;
        }
        let g = credit(u.sim);
        for i in ia {
            if let Some(slot) = used_a.get_mut(*i) {
                *slot = true;
            }
            got_a += qa.get(*i).map_or(0.0, |t| t.weight) * g;
        }
        for j in jb {
            if let Some(slot) = used_b.get_mut(*j) {
                *slot = true;
            }
            got_b += cb.get(*j).map_or(0.0, |t| t.weight) * g;
        }
        if explain {
            parts.push(PartMatch { query: texts(qa, ia), candidate: texts(cb, jb), how: u.how, similarity: u.sim });
        }
    }
    let (wa, wb) = (qa.iter().map(|t| t.weight).sum::<f32>(), cb.iter().map(|t| t.weight).sum::<f32>());
    let (cov_a, cov_b) = ((got_a / wa).min(1.0), (got_b / wb).min(1.0));
    let (small, large) = if (wa - wb).abs() < 1e-6 {
        (cov_a.min(cov_b), cov_a.max(cov_b))
    } else if wa < wb {
        (cov_a, cov_b)
    } else {
        (cov_b, cov_a)
    };
    let mut score = 0.8 * small + 0.2 * large;
    let person = q_kind == EntityKind::Person || c_kind == EntityKind::Person;
    let org = q_kind == EntityKind::Organization || c_kind == EntityKind::Organization;
    let words = |tokens: &[&Token]| tokens.iter().filter(|t| t.kind == TokenKind::Word).count();
    let (wq, wc) = (words(qa), words(cb));
    if person && wq.min(wc) == 1 && wq.max(wc) >= 2 {
        score *= 0.85;
    }
    // A part left over on both sides is a conflict (another family name, another legal form),
    // which says more than a part missing on one side (a middle name left out).
    let left =
        |tokens: &[&Token], used: &[bool]| tokens.iter().zip(used).filter(|(t, u)| !**u && significant(t)).count();
    let conflicts = left(qa, &used_a).min(left(cb, &used_b)).min(2);
    score *= CONFLICT_FACTOR.powi(conflicts as i32);
    // In organisation names a number on one side only marks another member of a series.
    if org {
        let numbers = |tokens: &[&Token], used: &[bool]| {
            tokens.iter().zip(used).filter(|(t, u)| !**u && t.kind == TokenKind::Number).count()
        };
        if numbers(qa, &used_a).max(numbers(cb, &used_b)) > 0 && conflicts == 0 {
            score *= CONFLICT_FACTOR;
        }
    }
    // Written together, unless the legal forms disagree (`ANO X` is not `LLC X`).
    let forms = |tokens: &[&Token], used: &[bool]| {
        tokens.iter().zip(used).any(|(t, u)| !*u && t.kind == TokenKind::LegalForm && significant(t))
    };
    let form_conflict = forms(qa, &used_a) && forms(cb, &used_b);
    if score < 0.98 && !form_conflict && written_together(qa, cb) {
        score = 0.98;
    }
    let unmatched = |tokens: &[&Token], used: &[bool]| -> Vec<String> {
        if !explain {
            return Vec::new();
        }
        tokens.iter().zip(used).filter(|(_, u)| !**u).map(|(t, _)| t.text.clone()).collect()
    };
    NameComparison {
        score: score.clamp(0.0, 1.0),
        parts,
        unmatched_query: unmatched(qa, &used_a),
        unmatched_candidate: unmatched(cb, &used_b),
    }
}

/// Scores two raw names as names of a party of `kind`.
pub fn compare_names(a: &str, b: &str, kind: EntityKind) -> NameComparison {
    compare(&crate::prepared::prepare(a, kind), &crate::prepared::prepare(b, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(a: &str, b: &str, kind: EntityKind) -> f32 {
        compare_names(a, b, kind).score
    }

    #[test]
    fn words_written_together() {
        assert!(score("vanderbilt corp", "van der bilt corp", EntityKind::Organization) >= 0.98);
        assert!(score("vanderbilt corp", "bilt der van corp", EntityKind::Organization) >= 0.98);
        assert!(score("AlisherUsmanov", "Alisher Usmanov", EntityKind::Person) >= 0.9);
    }

    #[test]
    fn conflicts_cost_more_than_missing_parts() {
        let missing = score("Vladimir Putin", "Vladimir Vladimirovich Putin", EntityKind::Person);
        let conflict = score("Sergey Ivanovich Lavrov", "Sergey Viktorovich Lavrov", EntityKind::Person);
        assert!(missing >= 0.85, "{missing}");
        assert!(conflict < 0.8, "{conflict}");
        assert!(score("ANO Iskusstvo Krasoty", "LLC Iskusstvo Krasoty", EntityKind::Organization) < 0.9);
    }

    #[test]
    fn explanations_name_the_parts() {
        let c = compare_names("Moammar Qaddafi", "QADHAFI, Muammar", EntityKind::Person);
        assert_eq!(c.parts.len(), 2);
        assert!(c.unmatched_query.is_empty() && c.unmatched_candidate.is_empty());
        let c = compare_names("John Smith", "Jane Smith", EntityKind::Person);
        assert_eq!(c.unmatched_query, vec!["john"]);
    }
}
