//! The name field: primary and secondary identifiers split on `<<`, fillers removed.

/// Splits a name field into (surname, given names): the primary identifier is everything before
/// the first `<<`; single `<` become spaces and runs of fillers disappear.
pub fn split(field: &[u8]) -> (String, String) {
    let (primary, secondary) = match field.windows(2).position(|w| w == b"<<") {
        Some(i) => (field.get(..i).unwrap_or_default(), field.get(i + 2..).unwrap_or_default()),
        None => (field, &[][..]),
    };
    (join(primary), join(secondary))
}

/// Words separated by fillers, joined with single spaces.
fn join(part: &[u8]) -> String {
    let mut out = String::with_capacity(part.len());
    for word in part.split(|&c| c == b'<').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.iter().map(|&c| char::from(c)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn icao_names() {
        assert_eq!(split(b"ERIKSSON<<ANNA<MARIA<<<<<<<<"), ("ERIKSSON".into(), "ANNA MARIA".into()));
        assert_eq!(split(b"CACADOR<DE<ARAUJO<<ANDRE<ESTEV"), ("CACADOR DE ARAUJO".into(), "ANDRE ESTEV".into()));
        assert_eq!(split(b"<<FIRST<NAME<<<<"), (String::new(), "FIRST NAME".into()));
        assert_eq!(split(b"SINGLENAME<<<<<<"), ("SINGLENAME".into(), String::new()));
        assert_eq!(split(b"NOFILLER"), ("NOFILLER".into(), String::new()));
        assert_eq!(split(b""), (String::new(), String::new()));
    }
}
