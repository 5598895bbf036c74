//! What a utility bill or bank statement says, from its OCR lines: the addressee line (the
//! line that best names the applicant), the address block (the left-aligned lines under it, or
//! without a name line the block of lines that best matches the declared address), and the
//! statement or issue date (by its label, else the latest date not in the future that is not a
//! due date).

use serde::Serialize;

use super::normalize::address_tokens;
use super::similarity::{AddressSimilarity, compare_addresses, name_similarity};
use crate::mrz::Date;
use crate::viz::date::find_dates;
use crate::viz::{OcrLine, fold_words};

/// Most lines in an address block (after the name line).
pub const MAX_BLOCK_LINES: usize = 5;

/// Words of a line that ends an address block (account details, amounts, headings).
const BLOCK_END_WORDS: &[&str] = &[
    "account",
    "date",
    "statement",
    "invoice",
    "bill",
    "amount",
    "total",
    "due",
    "balance",
    "page",
    "customer",
    "reference",
    "period",
    "payment",
    "iban",
    "tel",
    "phone",
    "email",
    "www",
    "fecha",
    "datum",
    "facture",
];

/// Label words of the statement (issue) date, folded.
const DATE_LABELS: &[&str] = &[
    "statement date",
    "date of issue",
    "issue date",
    "issued",
    "bill date",
    "billing date",
    "invoice date",
    "date of statement",
    "date d emission",
    "date de facture",
    "fecha de emision",
    "fecha de factura",
    "rechnungsdatum",
    "ausstellungsdatum",
    "datum",
    "date",
    "fecha",
];

/// Label words of dates that are not the issue date.
const OTHER_DATE_WORDS: &[&str] =
    &["due", "payment", "pay", "period", "from", "until", "birth", "faellig", "vencimiento", "echeance", "next"];

/// What was read from the bill (PII: never log it).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BillReading {
    /// The addressee line, if one names the applicant well enough to be picked.
    pub name_line: Option<String>,
    /// How well that line names the applicant, 0-1.
    pub name_score: f32,
    /// The address block's lines.
    pub address_lines: Vec<String>,
    /// The statement or issue date.
    pub statement_date: Option<Date>,
}

fn phrase_in(words: &[String], phrase: &str) -> bool {
    let p: Vec<&str> = phrase.split(' ').collect();
    words.windows(p.len()).any(|w| w.iter().zip(&p).all(|(a, b)| a == b))
}

fn ends_block(text: &str) -> bool {
    fold_words(text).iter().any(|w| BLOCK_END_WORDS.contains(&w.as_str()))
}

/// The left-aligned lines right under line `i` (gap under 1.2 line heights), up to
/// [`MAX_BLOCK_LINES`], stopping at account details or headings.
fn block_under(lines: &[OcrLine], i: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(mut prev) = lines.get(i) else { return out };
    let x0 = prev.x0;
    while out.len() < MAX_BLOCK_LINES {
        let h = (prev.y1 - prev.y0).max(1.0);
        let next = lines
            .iter()
            .enumerate()
            .filter(|(j, l)| !out.contains(j) && *j != i && l.y0 > prev.y0 + 0.5 * h && l.y0 - prev.y1 < 1.2 * h)
            .filter(|(_, l)| (l.x0 - x0).abs() < 2.0 * h)
            .min_by(|a, b| a.1.y0.total_cmp(&b.1.y0));
        match next {
            Some((j, l)) if !ends_block(&l.text) => {
                out.push(j);
                prev = l;
            }
            _ => break,
        }
    }
    out
}

fn block_text(lines: &[OcrLine], idx: &[usize]) -> Vec<String> {
    idx.iter().filter_map(|&j| lines.get(j)).map(|l| l.text.clone()).collect()
}

/// The statement date: after a date label on its line or the next one, else the latest date
/// no later than `today` on a line that does not name another kind of date.
fn statement_date(lines: &[OcrLine], today: Date) -> Option<Date> {
    let other = |words: &[String]| words.iter().any(|w| OTHER_DATE_WORDS.contains(&w.as_str()));
    for (i, l) in lines.iter().enumerate() {
        let words = fold_words(&l.text);
        if other(&words) || !DATE_LABELS.iter().any(|p| phrase_in(&words, p)) {
            continue;
        }
        if let Some(d) = find_dates(&l.text).into_iter().next() {
            return Some(d);
        }
        // The value to the right or below.
        let h = (l.y1 - l.y0).max(1.0);
        let near = lines.iter().enumerate().filter(|(j, m)| {
            *j != i
                && (((m.y0 + m.y1) / 2.0 - (l.y0 + l.y1) / 2.0).abs() < 0.5 * h && m.x0 >= l.x1 - h
                    || m.y0 >= l.y0 + 0.5 * h && m.y0 - l.y1 < 1.2 * h && (m.x0 - l.x0).abs() < 3.0 * h)
        });
        if let Some(d) =
            near.filter(|(_, m)| !other(&fold_words(&m.text))).find_map(|(_, m)| find_dates(&m.text).into_iter().next())
        {
            return Some(d);
        }
    }
    lines
        .iter()
        .filter(|l| !other(&fold_words(&l.text)))
        .flat_map(|l| find_dates(&l.text))
        .filter(|d| *d <= today)
        .max()
}

/// Reads a bill: the applicant's name line, the address block and the statement date.
/// `declared_address` picks the block when no line names the applicant.
pub fn read_bill(
    lines: &[OcrLine],
    given: &str,
    family: &str,
    declared_address: &str,
    today: Date,
) -> (BillReading, AddressSimilarity) {
    let declared = address_tokens(declared_address);
    let named = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i, name_similarity(given, family, &l.text)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let compare = |idx: &[usize]| {
        let tokens: Vec<String> = block_text(lines, idx).iter().flat_map(|t| address_tokens(t)).collect();
        compare_addresses(&declared, &tokens)
    };
    let mut reading = BillReading { statement_date: statement_date(lines, today), ..BillReading::default() };
    if let Some((i, score)) = named {
        reading.name_score = score;
        if score >= super::NAME_MIN_SCORE {
            let block = block_under(lines, i);
            reading.name_line = lines.get(i).map(|l| l.text.clone());
            reading.address_lines = block_text(lines, &block);
            let sim = compare(&block);
            return (reading, sim);
        }
    }
    // No addressee line: the block (a line and the lines under it) that matches best.
    let best = (0..lines.len())
        .map(|i| {
            let mut idx = vec![i];
            idx.extend(block_under(lines, i));
            let sim = compare(&idx);
            (idx, sim)
        })
        .max_by(|a, b| {
            (a.1.numbers_match, a.1.score)
                .partial_cmp(&(b.1.numbers_match, b.1.score))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    match best {
        Some((idx, sim)) => {
            reading.address_lines = block_text(lines, &idx);
            (reading, sim)
        }
        None => (reading, compare_addresses(&declared, &[])),
    }
}
