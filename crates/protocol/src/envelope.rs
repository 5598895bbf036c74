//! The binary container of a capture upload.
//!
//! ```text
//! offset  size  field
//! 0       4     magic "TCAP"
//! 4       1     envelope version (1)
//! 5       1     signature algorithm (1 = Ed25519)
//! 6       2     number of image parts, big-endian (1..=MAX_PARTS)
//! 8       4     manifest length in bytes, big-endian (1..=MAX_MANIFEST_LEN)
//! 12      64    signature over SIGNING_CONTEXT || manifest
//! 76      m     manifest (canonical JSON, see `manifest`)
//! ...     4+n   for each part: length (big-endian u32, <= MAX_PART_LEN) then n bytes
//! ```
//!
//! The parser borrows from the input, allocates only the small vector of part slices
//! (bounded by [`MAX_PARTS`]), and requires the input to be consumed exactly.

use crate::error::{ErrorCode, ProtocolError};

/// The four magic bytes that open every envelope.
pub const MAGIC: [u8; 4] = *b"TCAP";
/// The envelope layout version this crate writes.
pub const ENVELOPE_VERSION: u8 = 1;
/// Signature algorithm identifier for Ed25519.
pub const ALG_ED25519: u8 = 1;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Size of the fixed header before the manifest.
pub const HEADER_LEN: usize = 12 + SIGNATURE_LEN;
/// Upper bound on the manifest size.
pub const MAX_MANIFEST_LEN: usize = 64 * 1024;
/// Upper bound on the number of image parts in one upload (a selfie with its liveness burst of up to
/// [`crate::burst::MAX_BURST_FRAMES`] frames needs nine).
pub const MAX_PARTS: usize = 12;
/// Upper bound on one image part.
pub const MAX_PART_LEN: usize = 16 * 1024 * 1024;

/// A parsed envelope, borrowing from the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The raw manifest bytes exactly as signed.
    pub manifest: &'a [u8],
    /// The Ed25519 signature over [`crate::signing::SIGNING_CONTEXT`] followed by the manifest.
    pub signature: [u8; SIGNATURE_LEN],
    /// The binary parts, in manifest order.
    pub parts: Vec<&'a [u8]>,
}

fn malformed(detail: &str) -> ProtocolError {
    ProtocolError::new(ErrorCode::EnvelopeMalformed, detail)
}

/// A cursor over untrusted bytes that never reads past the end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ProtocolError> {
        if self.bytes.len() < n {
            return Err(malformed(&format!("truncated {what}")));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u32(&mut self, what: &str) -> Result<usize, ProtocolError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
}

impl<'a> Envelope<'a> {
    /// Parses an envelope from untrusted bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader { bytes };
        if r.take(4, "magic")? != MAGIC {
            return Err(malformed("bad magic"));
        }
        let header = r.take(4, "header")?;
        if header[0] != ENVELOPE_VERSION {
            return Err(ProtocolError::new(
                ErrorCode::UnsupportedVersion,
                format!("envelope version {} is not supported", header[0]),
            ));
        }
        if header[1] != ALG_ED25519 {
            return Err(malformed("unknown signature algorithm"));
        }
        let part_count = u16::from_be_bytes([header[2], header[3]]) as usize;
        if part_count == 0 || part_count > MAX_PARTS {
            return Err(malformed("part count out of range"));
        }
        let manifest_len = r.u32("manifest length")?;
        if manifest_len == 0 || manifest_len > MAX_MANIFEST_LEN {
            return Err(malformed("manifest length out of range"));
        }
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(r.take(SIGNATURE_LEN, "signature")?);
        let manifest = r.take(manifest_len, "manifest")?;
        let mut parts = Vec::with_capacity(part_count);
        for _ in 0..part_count {
            let len = r.u32("part length")?;
            if len == 0 || len > MAX_PART_LEN {
                return Err(malformed("part length out of range"));
            }
            parts.push(r.take(len, "part")?);
        }
        if !r.bytes.is_empty() {
            return Err(malformed("trailing bytes after the last part"));
        }
        Ok(Self { manifest, signature, parts })
    }

    /// Writes the envelope. Fails if a limit is exceeded, so a client can never produce
    /// an envelope the server would refuse for its framing.
    pub fn encode(&self) -> Result<Vec<u8>, ProtocolError> {
        if self.parts.is_empty() || self.parts.len() > MAX_PARTS {
            return Err(malformed("part count out of range"));
        }
        if self.manifest.is_empty() || self.manifest.len() > MAX_MANIFEST_LEN {
            return Err(malformed("manifest length out of range"));
        }
        if self.parts.iter().any(|p| p.is_empty() || p.len() > MAX_PART_LEN) {
            return Err(malformed("part length out of range"));
        }
        let total = HEADER_LEN + self.manifest.len() + self.parts.iter().map(|p| 4 + p.len()).sum::<usize>();
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&MAGIC);
        out.push(ENVELOPE_VERSION);
        out.push(ALG_ED25519);
        out.extend_from_slice(&(self.parts.len() as u16).to_be_bytes());
        out.extend_from_slice(&(self.manifest.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(self.manifest);
        for part in &self.parts {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        Envelope { manifest: b"{}", signature: [7; 64], parts: vec![b"abc", b"de"] }.encode().unwrap()
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        let env = Envelope::parse(&bytes).unwrap();
        assert_eq!(env.manifest, b"{}");
        assert_eq!(env.signature, [7; 64]);
        assert_eq!(env.parts, vec![&b"abc"[..], &b"de"[..]]);
    }

    #[test]
    fn every_truncation_is_malformed() {
        let bytes = sample();
        for n in 0..bytes.len() {
            let err = Envelope::parse(&bytes[..n]).unwrap_err();
            assert_eq!(err.code, ErrorCode::EnvelopeMalformed, "prefix {n}");
        }
    }

    #[test]
    fn trailing_bytes_and_bad_header_fields() {
        let mut bytes = sample();
        bytes.push(0);
        assert_eq!(Envelope::parse(&bytes).unwrap_err().code, ErrorCode::EnvelopeMalformed);

        let mut v2 = sample();
        v2[4] = 2;
        assert_eq!(Envelope::parse(&v2).unwrap_err().code, ErrorCode::UnsupportedVersion);

        let mut alg = sample();
        alg[5] = 9;
        assert_eq!(Envelope::parse(&alg).unwrap_err().code, ErrorCode::EnvelopeMalformed);

        let mut huge = sample();
        huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(Envelope::parse(&huge).unwrap_err().code, ErrorCode::EnvelopeMalformed);

        let mut zero_parts = sample();
        zero_parts[6..8].copy_from_slice(&0u16.to_be_bytes());
        assert_eq!(Envelope::parse(&zero_parts).unwrap_err().code, ErrorCode::EnvelopeMalformed);
    }

    #[test]
    fn encode_refuses_what_parse_would_refuse() {
        let too_many = vec![&b"x"[..]; MAX_PARTS + 1];
        let env = Envelope { manifest: b"{}", signature: [0; 64], parts: too_many };
        assert!(env.encode().is_err());
        let env = Envelope { manifest: b"", signature: [0; 64], parts: vec![b"x"] };
        assert!(env.encode().is_err());
    }
}
