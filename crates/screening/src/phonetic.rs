//! A phonetic key for name tokens, built for transliteration variants rather than English
//! spelling: similar-sounding consonants share a class (`q`/`k`/`c`/`g`, `z`/`s`/`x`, `w`/`v`,
//! `ph`/`f`, `dh`/`d`, `th`/`t`, `zh`/`j`), vowels after the first letter are dropped and
//! doubled consonants collapse, so `Qaddafi`/`Gaddafi`, `Usama`/`Osama`, `Mohammed`/`Muhammad`
//! and `Shi`/`Xi` agree. Also the consonant skeleton used to compare names transliterated from
//! abjads (Arabic, Hebrew), where short vowels are not written.

/// The phonetic key of an ASCII lower-case token (empty for tokens without letters).
pub fn key(token: &str) -> String {
    let b = token.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    while i < b.len() {
        let c = at(i);
        let next = at(i + 1);
        let (code, skip) = match (c, next) {
            (b'p', b'h') => (b'f', 2),
            (b's', b'c') if at(i + 2) == b'h' => (b's', 3),
            (b's', b'h') => (b's', 2),
            (b'z', b'h') | (b'd', b'j') => (b'j', 2),
            (b'k', b'h') => (b'h', 2),
            (b'g', b'h') | (b'c', b'k') => (b'k', 2),
            (b'd', b'h') => (b'd', 2),
            (b't', b'h') | (b't', b'z') | (b't', b's') => (if next == b'h' { b't' } else { b's' }, 2),
            (b'c', b'h') | (b't', b'c') => (b'c', 2),
            (b'c', b'e' | b'i' | b'y') => (b's', 1),
            (b'c' | b'q' | b'g' | b'k', _) => (b'k', 1),
            (b'x', _) if i == 0 => (b's', 1),
            (b'x', _) => (b'x', 1),
            (b'z', _) => (b's', 1),
            (b'w', _) => (b'v', 1),
            (b'j', _) => (b'j', 1),
            (b'y', _) if i == 0 => (b'a', 1),
            (b'a' | b'e' | b'i' | b'o' | b'u' | b'y', _) => (if i == 0 { b'a' } else { b'*' }, 1),
            (b'h', _) if i > 0 => (b'*', 1),
            (c, _) if c.is_ascii_lowercase() => (c, 1),
            (c, _) if c.is_ascii_digit() => (c, 1),
            _ => (b'*', 1),
        };
        if code != b'*' && out.last() != Some(&code) {
            out.push(code);
        }
        i += skip;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The consonant skeleton: letters other than vowels, `y`, `w` and `h`, doubled letters collapsed.
pub fn skeleton(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for c in token.chars() {
        if matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'w' | 'h') {
            continue;
        }
        let c = match c {
            'q' | 'g' | 'c' => 'k',
            'z' => 's',
            'v' => 'f',
            other => other,
        };
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_share_a_key() {
        assert_eq!(key("qaddafi"), key("gaddafi"));
        assert_eq!(key("usama"), key("osama"));
        assert_eq!(key("mohammed"), key("muhammad"));
        assert_eq!(key("shi"), key("xi"));
        assert_eq!(key("husayn"), key("hussein"));
        assert_eq!(key("ahmadinezhad"), key("ahmadinejad"));
        assert_ne!(key("putin"), key("medvedev"));
        assert_eq!(key(""), "");
    }

    #[test]
    fn skeletons_drop_vowels() {
        assert_eq!(skeleton("mari"), skeleton("mry"));
        assert_eq!(skeleton("abdallah"), "bdl");
    }
}
