//! Repair of OCR confusions by field type. Numeric positions (dates, check digits) take the
//! digit a letter is confused with (O/Q/D→0, I/L→1, Z→2, S→5, G→6, B→8); alphanumeric positions
//! (document number, optional data) may swap either way (0↔O, 1↔I, 2↔Z, 5↔S, 6↔G, 8↔B); a
//! repair of a check-digit-covered group is kept only when it makes that check pass, and only
//! if exactly one candidate with the fewest changes does. Country codes are repaired only into
//! a code on the ICAO list; names and the document code (covered by no check digit) take
//! letters for digits and are reported as repaired by field type only.

use super::countries::{self, CountryStatus};
use super::format::{MrzFormat, Span};
use super::parse::{CheckKind, Field, Repair, doc_number, evaluate, field_at, get};

/// Most alphanumeric positions changed at once in one group.
const MAX_CHANGES: usize = 3;

/// The digit a letter is confused with.
pub fn digit_for(c: u8) -> Option<u8> {
    Some(match c {
        b'O' | b'Q' | b'D' => b'0',
        b'I' | b'L' => b'1',
        b'Z' => b'2',
        b'S' => b'5',
        b'G' => b'6',
        b'B' => b'8',
        _ => return None,
    })
}

/// The letter a digit is confused with.
pub fn letter_for(c: u8) -> Option<u8> {
    Some(match c {
        b'0' => b'O',
        b'1' => b'I',
        b'2' => b'Z',
        b'5' => b'S',
        b'6' => b'G',
        b'8' => b'B',
        _ => return None,
    })
}

/// The other reading of an alphanumeric character.
fn swap(c: u8) -> Option<u8> {
    digit_for(c).filter(|_| matches!(c, b'O' | b'I' | b'Z' | b'S' | b'G' | b'B')).or_else(|| letter_for(c))
}

fn byte(lines: &[Vec<u8>], (l, c): (usize, usize)) -> u8 {
    lines.get(l).and_then(|x| x.get(c)).copied().unwrap_or(b'<')
}

fn set(lines: &mut [Vec<u8>], (l, c): (usize, usize), v: u8) {
    if let Some(slot) = lines.get_mut(l).and_then(|x| x.get_mut(c)) {
        *slot = v;
    }
}

fn positions(span: Span) -> impl Iterator<Item = (usize, usize)> {
    (span.start..span.start + span.len).map(move |c| (span.line, c))
}

fn passes(format: MrzFormat, lines: &[Vec<u8>], kind: CheckKind) -> bool {
    evaluate(format, lines).iter().any(|c| c.kind == kind && c.pass)
}

/// Tries to make `kind` pass by changing `numeric` positions to digits and up to
/// [`MAX_CHANGES`] of the `alnum` positions to their other reading. Applies the unique
/// minimal candidate; returns whether the check passes afterwards.
fn repair_group(
    format: MrzFormat,
    lines: &mut [Vec<u8>],
    kind: CheckKind,
    numeric: &[(usize, usize)],
    alnum: &[(usize, usize)],
) -> bool {
    if passes(format, lines, kind) {
        return true;
    }
    let mut base = lines.to_vec();
    for &p in numeric {
        if let Some(d) = digit_for(byte(&base, p)) {
            set(&mut base, p, d);
        }
    }
    let swappable: Vec<((usize, usize), u8)> =
        alnum.iter().filter_map(|&p| swap(byte(&base, p)).map(|v| (p, v))).collect();
    for changes in 0..=MAX_CHANGES.min(swappable.len()) {
        let mut found: Option<Vec<Vec<u8>>> = None;
        let mut count = 0usize;
        for_each_combination(swappable.len(), changes, &mut |idx| {
            let mut cand = base.clone();
            for &i in idx {
                if let Some(&(p, v)) = swappable.get(i) {
                    set(&mut cand, p, v);
                }
            }
            if passes(format, &cand, kind) {
                count += 1;
                found = Some(cand);
            }
        });
        if count == 1
            && let Some(c) = found
        {
            lines.clone_from_slice(&c);
            return true;
        }
        if count > 1 {
            return false;
        }
    }
    false
}

/// Calls `f` with every `k`-subset of `0..n` (as sorted indices).
fn for_each_combination(n: usize, k: usize, f: &mut dyn FnMut(&[usize])) {
    fn rec(start: usize, n: usize, k: usize, cur: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
        if cur.len() == k {
            f(cur);
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(i + 1, n, k, cur, f);
            cur.pop();
        }
    }
    rec(0, n, k, &mut Vec::with_capacity(k), f);
}

/// Repairs `lines` in place and lists the characters changed.
pub fn repair(format: MrzFormat, lines: &mut [Vec<u8>]) -> Vec<Repair> {
    let original = lines.to_vec();
    let l = format.layout();

    let dn = doc_number(l, lines);
    repair_group(format, lines, CheckKind::DocumentNumber, &[dn.check_pos], &dn.positions);
    let date_group = |s: Span, c: Span| positions(s).chain(positions(c)).collect::<Vec<_>>();
    repair_group(format, lines, CheckKind::BirthDate, &date_group(l.birth_date, l.birth_date_check), &[]);
    repair_group(format, lines, CheckKind::ExpiryDate, &date_group(l.expiry_date, l.expiry_date_check), &[]);
    if let Some(cs) = l.optional_1_check {
        let opt: Vec<_> = positions(l.optional_1).collect();
        repair_group(format, lines, CheckKind::PersonalNumber, &positions(cs).collect::<Vec<_>>(), &opt);
    }
    if let Some((cs, _)) = l.composite {
        let dn = doc_number(l, lines);
        let mut free: Vec<(usize, usize)> = Vec::new();
        if format == MrzFormat::Td1 {
            let used: Vec<(usize, usize)> = dn.positions.iter().copied().chain([dn.check_pos]).collect();
            free.extend(positions(l.optional_1).filter(|p| !used.contains(p)));
            free.extend(l.optional_2.into_iter().flat_map(positions));
        }
        repair_group(format, lines, CheckKind::Composite, &positions(cs).collect::<Vec<_>>(), &free);
    }

    // Country codes: only into a code on the list.
    for span in [l.issuing_state, l.nationality] {
        let read = get(lines, span).to_vec();
        let mut fixed = read.clone();
        for c in &mut fixed {
            if let Some(v) = letter_for(*c) {
                *c = v;
            }
        }
        let code = |b: &[u8]| String::from_utf8_lossy(b).trim_end_matches('<').to_string();
        if countries::lookup(&code(&read)) == CountryStatus::Unknown
            && countries::lookup(&code(&fixed)) != CountryStatus::Unknown
        {
            for (p, v) in positions(span).zip(fixed) {
                set(lines, p, v);
            }
        }
    }
    // Document code and names: letters only.
    for p in positions(l.document_code).chain(positions(l.name)) {
        if let Some(v) = letter_for(byte(lines, p)) {
            set(lines, p, v);
        }
    }

    let mut out = Vec::new();
    for (li, (a, b)) in original.iter().zip(lines.iter()).enumerate() {
        for (col, (&x, &y)) in a.iter().zip(b.iter()).enumerate() {
            if x != y {
                let mut field = field_at(format, li, col);
                if dn.positions.contains(&(li, col)) {
                    field = Field::DocumentNumber;
                } else if dn.check_pos == (li, col) {
                    field = Field::CheckDigit(CheckKind::DocumentNumber);
                }
                out.push(Repair { line: li, column: col, from: char::from(x), to: char::from(y), field });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_tables_are_inverse_on_the_issue_pairs() {
        for (l, d) in [(b'O', b'0'), (b'I', b'1'), (b'S', b'5'), (b'B', b'8'), (b'Z', b'2'), (b'G', b'6')] {
            assert_eq!(digit_for(l), Some(d));
            assert_eq!(letter_for(d), Some(l));
            assert_eq!(swap(l), Some(d));
            assert_eq!(swap(d), Some(l));
        }
        assert_eq!(swap(b'A'), None);
        assert_eq!(swap(b'D'), None);
    }

    #[test]
    fn combinations() {
        let mut seen = Vec::new();
        for_each_combination(4, 2, &mut |c| seen.push(c.to_vec()));
        assert_eq!(seen.len(), 6);
        let mut n = 0;
        for_each_combination(3, 0, &mut |_| n += 1);
        assert_eq!(n, 1);
    }
}
