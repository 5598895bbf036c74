//! String similarity on ASCII tokens: optimal-string-alignment edit distance (Levenshtein with
//! adjacent transpositions) as a 0..1 ratio, and Jaro-Winkler (used by the OFAC-parity mode).

/// Edit distance with adjacent transpositions (optimal string alignment), on bytes.
///
/// The row buffers are sized `b.len() + 1` right here, so the indexing below stays in bounds
/// for any input.
pub fn osa_distance(a: &[u8], b: &[u8]) -> usize {
    if a.is_empty() {
        return b.len();
    }
    if b.is_empty() {
        return a.len();
    }
    let n = b.len();
    // Three rows; on the stack for the short strings names are made of.
    const STACK: usize = 48;
    let mut stack = [[0usize; STACK + 1]; 3];
    let mut heap: Vec<Vec<usize>>;
    let (prev2, rest) = if n < STACK {
        let (x, y) = stack.split_at_mut(1);
        (&mut x[0][..=n], y)
    } else {
        heap = vec![vec![0; n + 1]; 3];
        let (x, y) = heap.split_at_mut(1);
        return osa_rows(a, b, &mut x[0], y);
    };
    let (p, c) = rest.split_at_mut(1);
    osa_core(a, b, prev2, &mut p[0][..=n], &mut c[0][..=n])
}

fn osa_rows(a: &[u8], b: &[u8], prev2: &mut [usize], rest: &mut [Vec<usize>]) -> usize {
    let (p, c) = rest.split_at_mut(1);
    osa_core(a, b, prev2, &mut p[0], &mut c[0])
}

fn osa_core<'a>(
    a: &[u8],
    b: &[u8],
    mut prev2: &'a mut [usize],
    mut prev: &'a mut [usize],
    mut cur: &'a mut [usize],
) -> usize {
    let n = b.len();
    for (j, v) in prev.iter_mut().enumerate() {
        *v = j;
    }
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let mut v = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a.get(i - 1) == Some(&cb) && b.get(j - 1) == Some(&ca) {
                v = v.min(prev2[j - 1] + 1);
            }
            cur[j + 1] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[n]
}

/// `1 - distance / longer length`: 1 for equal strings, 0 for nothing in common.
pub fn edit_ratio(a: &str, b: &str) -> f32 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    1.0 - osa_distance(a.as_bytes(), b.as_bytes()) as f32 / longest as f32
}

/// Jaro-Winkler similarity (prefix scale 0.1, prefix up to 4).
pub fn jaro_winkler(a: &str, b: &str) -> f32 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut b_used = vec![false; b.len()];
    let mut a_matched = Vec::with_capacity(a.len());
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_used[j] && b[j] == ca {
                b_used[j] = true;
                a_matched.push(ca);
                break;
            }
        }
    }
    let m = a_matched.len();
    if m == 0 {
        return 0.0;
    }
    let b_matched = b.iter().zip(&b_used).filter(|(_, u)| **u).map(|(c, _)| *c);
    let transpositions = a_matched.iter().zip(b_matched).filter(|(x, y)| **x != *y).count() / 2;
    let m = m as f32;
    let jaro = (m / a.len() as f32 + m / b.len() as f32 + (m - transpositions as f32) / m) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f32;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(osa_distance(b"kitten", b"sitting"), 3);
        assert_eq!(osa_distance(b"ab", b"ba"), 1);
        assert_eq!(osa_distance(b"", b"abc"), 3);
        assert!((edit_ratio("scholz", "scholz") - 1.0).abs() < 1e-6);
        assert!((edit_ratio("lukashnko", "lukashenko") - 0.9).abs() < 1e-6);
    }

    #[test]
    fn jaro_winkler_known_values() {
        assert!((jaro_winkler("martha", "marhta") - 0.961).abs() < 0.01);
        assert!((jaro_winkler("dixon", "dicksonx") - 0.813).abs() < 0.01);
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("abc", ""), 0.0);
    }

    #[test]
    fn symmetric() {
        for (a, b) in [("vladimir", "wladimir"), ("abc", "bca"), ("x", "xyz")] {
            assert_eq!(osa_distance(a.as_bytes(), b.as_bytes()), osa_distance(b.as_bytes(), a.as_bytes()));
            assert!((jaro_winkler(a, b) - jaro_winkler(b, a)).abs() < 1e-6);
        }
    }
}
