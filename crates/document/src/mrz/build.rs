//! Writing MRZ lines from field values, with every check digit computed (ICAO convention for
//! long document numbers). Used to make specimens, test data and benchmarks.

use thiserror::Error;

use super::check_digit;
use super::format::{MrzFormat, Span};

/// Field values for [`MrzFields::to_lines`]; text uses the MRZ alphabet (`A`-`Z`, `0`-`9`,
/// spaces in names become `<`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrzFields {
    /// Format to write.
    pub format: MrzFormat,
    /// Document code, one or two characters.
    pub document_code: String,
    /// Issuing state, one to three letters.
    pub issuing_state: String,
    /// Primary identifier (spaces allowed).
    pub surname: String,
    /// Secondary identifiers (spaces allowed).
    pub given_names: String,
    /// Document number (TD1/TD2 may exceed nine characters).
    pub document_number: String,
    /// Nationality, one to three letters.
    pub nationality: String,
    /// `YYMMDD`.
    pub birth_date: String,
    /// `M`, `F` or `<`.
    pub sex: char,
    /// `YYMMDD`.
    pub expiry_date: String,
    /// Optional data (TD3 personal number).
    pub optional_data: String,
    /// TD1 second optional field.
    pub optional_data_2: String,
}

/// Why fields cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BuildError {
    /// A value is too long for its field.
    #[error("{0} does not fit its field")]
    TooLong(&'static str),
    /// A value has a character outside the MRZ alphabet.
    #[error("{0} has a character outside the MRZ alphabet")]
    BadCharacter(&'static str),
}

fn clean(name: &'static str, v: &str, allow_space: bool) -> Result<Vec<u8>, BuildError> {
    v.bytes()
        .map(|c| match c {
            b' ' if allow_space => Ok(b'<'),
            b'A'..=b'Z' | b'0'..=b'9' | b'<' => Ok(c),
            _ => Err(BuildError::BadCharacter(name)),
        })
        .collect()
}

fn put(lines: &mut [Vec<u8>], span: Span, name: &'static str, v: &[u8]) -> Result<(), BuildError> {
    if v.len() > span.len {
        return Err(BuildError::TooLong(name));
    }
    let line = lines.get_mut(span.line).ok_or(BuildError::TooLong(name))?;
    for (i, &c) in v.iter().enumerate() {
        if let Some(slot) = line.get_mut(span.start + i) {
            *slot = c;
        }
    }
    Ok(())
}

fn digit(data: &[u8]) -> u8 {
    check_digit::compute(data).unwrap_or(b'0')
}

impl MrzFields {
    /// The MRZ lines.
    pub fn to_lines(&self) -> Result<Vec<String>, BuildError> {
        let f = self.format;
        let l = f.layout();
        let mut lines = vec![vec![b'<'; f.line_len()]; f.line_count()];
        put(&mut lines, l.document_code, "document_code", &clean("document_code", &self.document_code, false)?)?;
        put(&mut lines, l.issuing_state, "issuing_state", &clean("issuing_state", &self.issuing_state, false)?)?;
        let mut name = clean("surname", &self.surname, true)?;
        name.extend_from_slice(b"<<");
        name.extend(clean("given_names", &self.given_names, true)?);
        name.truncate(l.name.len);
        put(&mut lines, l.name, "name", &name)?;
        let number = clean("document_number", &self.document_number, false)?;
        let mut optional = clean("optional_data", &self.optional_data, false)?;
        if number.len() > 9 {
            if !l.long_number {
                return Err(BuildError::TooLong("document_number"));
            }
            let (head, tail) = number.split_at(9);
            put(&mut lines, l.document_number, "document_number", head)?;
            put(&mut lines, l.document_number_check, "document_number", b"<")?;
            let mut ext = tail.to_vec();
            ext.push(digit(&number));
            ext.push(b'<');
            ext.extend_from_slice(&optional);
            optional = ext;
        } else {
            let mut padded = number.clone();
            padded.resize(9, b'<');
            put(&mut lines, l.document_number, "document_number", &padded)?;
            put(&mut lines, l.document_number_check, "document_number", &[digit(&padded)])?;
        }
        put(&mut lines, l.optional_1, "optional_data", &optional)?;
        if let Some(s) = l.optional_2 {
            put(&mut lines, s, "optional_data_2", &clean("optional_data_2", &self.optional_data_2, false)?)?;
        }
        put(&mut lines, l.nationality, "nationality", &clean("nationality", &self.nationality, false)?)?;
        let birth = clean("birth_date", &self.birth_date, false)?;
        let expiry = clean("expiry_date", &self.expiry_date, false)?;
        if birth.len() != 6 {
            return Err(BuildError::TooLong("birth_date"));
        }
        if expiry.len() != 6 {
            return Err(BuildError::TooLong("expiry_date"));
        }
        put(&mut lines, l.birth_date, "birth_date", &birth)?;
        put(&mut lines, l.birth_date_check, "birth_date", &[digit(&birth)])?;
        put(&mut lines, l.expiry_date, "expiry_date", &expiry)?;
        put(&mut lines, l.expiry_date_check, "expiry_date", &[digit(&expiry)])?;
        let sex = u8::try_from(self.sex).map_err(|_| BuildError::BadCharacter("sex"))?;
        put(&mut lines, l.sex, "sex", &clean("sex", &char::from(sex).to_string(), false)?)?;
        if let Some(cs) = l.optional_1_check {
            let data = super::parse::get(&lines, l.optional_1).to_vec();
            let c = if data.iter().all(|&c| c == b'<') { b'<' } else { digit(&data) };
            put(&mut lines, cs, "optional_data", &[c])?;
        }
        if let Some((cs, covered)) = l.composite {
            let parts: Vec<Vec<u8>> = covered.iter().map(|&s| super::parse::get(&lines, s).to_vec()).collect();
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let c = check_digit::compute_parts(&refs).unwrap_or(b'0');
            put(&mut lines, cs, "composite", &[c])?;
        }
        Ok(lines.into_iter().map(|b| b.into_iter().map(char::from).collect()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_icao_td3_specimen() {
        let f = MrzFields {
            format: MrzFormat::Td3,
            document_code: "P".into(),
            issuing_state: "UTO".into(),
            surname: "ERIKSSON".into(),
            given_names: "ANNA MARIA".into(),
            document_number: "L898902C3".into(),
            nationality: "UTO".into(),
            birth_date: "740812".into(),
            sex: 'F',
            expiry_date: "120415".into(),
            optional_data: "ZE184226B".into(),
            optional_data_2: String::new(),
        };
        assert_eq!(
            f.to_lines(),
            Ok(vec![
                "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<".to_string(),
                "L898902C36UTO7408122F1204159ZE184226B<<<<<10".to_string()
            ])
        );
        let bad = MrzFields { document_number: "L898902C3XX".into(), ..f.clone() };
        assert_eq!(bad.to_lines(), Err(BuildError::TooLong("document_number")));
        let bad = MrzFields { surname: "ÉRIK".into(), ..f };
        assert_eq!(bad.to_lines(), Err(BuildError::BadCharacter("surname")));
    }
}
