//! ICAO 9303 check digits: character values (`0`-`9` → 0-9, `A`-`Z` → 10-35, `<` → 0) weighted
//! 7, 3, 1 repeating, summed modulo 10.

/// The value of one MRZ character, or `None` for a byte outside the MRZ alphabet.
pub const fn char_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some((c - b'0') as u32),
        b'A'..=b'Z' => Some((c - b'A') as u32 + 10),
        b'<' => Some(0),
        _ => None,
    }
}

/// The check digit (`b'0'`..=`b'9'`) over `data`, or `None` if `data` holds a byte outside the
/// MRZ alphabet.
pub fn compute(data: &[u8]) -> Option<u8> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    for (i, &c) in data.iter().enumerate() {
        sum += char_value(c)? * WEIGHTS[i % 3];
    }
    Some(b'0' + (sum % 10) as u8)
}

/// The check digit over several slices read as one string (the composite check).
pub fn compute_parts(parts: &[&[u8]]) -> Option<u8> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    let mut i = 0usize;
    for part in parts {
        for &c in *part {
            sum += char_value(c)? * WEIGHTS[i % 3];
            i += 1;
        }
    }
    Some(b'0' + (sum % 10) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icao_examples() {
        // ICAO 9303 Part 3, 4.9: "520727" → 3; the specimen passport number "L898902C3" → 6.
        assert_eq!(compute(b"520727"), Some(b'3'));
        assert_eq!(compute(b"L898902C3"), Some(b'6'));
        assert_eq!(compute(b"740812"), Some(b'2'));
        assert_eq!(compute(b"<<<<"), Some(b'0'));
        assert_eq!(compute(b"ab"), None);
    }

    #[test]
    fn parts_equal_concatenation() {
        assert_eq!(compute_parts(&[b"L898902C36", b"7408122", b"1204159ZE184226B<<<<<1"]), Some(b'0'));
        assert_eq!(compute_parts(&[b"AB", b"C1"]), compute(b"ABC1"));
    }
}
