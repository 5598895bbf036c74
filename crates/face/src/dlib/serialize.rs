//! dlib's `serialize` encodings, read from an untrusted byte slice.
//!
//! - Integer: a control byte `C`, then `C & 0x0F` little-endian magnitude bytes; bit `0x80` of
//!   `C` is the sign (signed types only).
//! - bool: one ASCII byte `'1'` or `'0'`. String: unsigned length, then the raw bytes.
//! - float/double: mantissa (i64) then exponent (i16) as integers; value = m × 2^e; exponents
//!   32000/32001/32002 stand for +inf, -inf and NaN.
//! - Tensor: version 2, four i64 dims (n, k, nr, nc), then the f32 values little-endian;
//!   shape-only tensor (dlib `alias_tensor`): version 1 and four dims.
//!
//! Every read checks the remaining length first, so a truncated or hostile file gives an
//! error, never a panic or an allocation larger than the file.

/// A read failure with the byte offset where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The data ended early.
    #[error("unexpected end of data at byte {offset} (reading {what})")]
    Eof {
        /// Byte offset.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// An integer control byte announced more bytes than the type holds, or a value overflowed.
    #[error("invalid integer at byte {offset}")]
    BadInteger {
        /// Byte offset.
        offset: usize,
    },
    /// A value had an unexpected form (bad bool byte, non-UTF-8 string, tensor version...).
    #[error("invalid {what} at byte {offset}")]
    Invalid {
        /// Byte offset.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
}

/// A cursor over dlib-serialized bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

/// A dense tensor (NCHW order) as dlib stores weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions (n, k, nr, nc).
    pub dims: [usize; 4],
    /// `n × k × nr × nc` values.
    pub data: Vec<f32>,
}

impl<'a> Reader<'a> {
    /// Starts reading at the first byte.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Current byte offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let Some(end) = end else { return Err(DecodeError::Eof { offset: self.pos, what }) };
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// Reads an integer of at most 8 magnitude bytes: `(negative, magnitude)`.
    fn raw_int(&mut self) -> Result<(bool, u64), DecodeError> {
        let offset = self.pos;
        let control = self.take(1, "integer control byte")?[0];
        let n = usize::from(control & 0x0F);
        if n > 8 || control & 0x70 != 0 {
            return Err(DecodeError::BadInteger { offset });
        }
        let bytes = self.take(n, "integer bytes")?;
        let magnitude = bytes.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        Ok((control & 0x80 != 0, magnitude))
    }

    /// Reads a signed integer.
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        let offset = self.pos;
        let (negative, magnitude) = self.raw_int()?;
        if negative {
            0i64.checked_sub_unsigned(magnitude).ok_or(DecodeError::BadInteger { offset })
        } else {
            i64::try_from(magnitude).map_err(|_| DecodeError::BadInteger { offset })
        }
    }

    /// Reads an unsigned integer (a set sign bit is an error).
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let offset = self.pos;
        match self.raw_int()? {
            (false, magnitude) => Ok(magnitude),
            (true, _) => Err(DecodeError::BadInteger { offset }),
        }
    }

    /// Reads a non-negative integer that must fit `usize` and be at most `max`.
    pub fn count(&mut self, max: usize, what: &'static str) -> Result<usize, DecodeError> {
        let offset = self.pos;
        let v = self.i64()?;
        usize::try_from(v).ok().filter(|&v| v <= max).ok_or(DecodeError::Invalid { offset, what })
    }

    /// Reads a bool (`'1'` or `'0'`).
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        let offset = self.pos;
        match self.take(1, "bool")?[0] {
            b'1' => Ok(true),
            b'0' => Ok(false),
            _ => Err(DecodeError::Invalid { offset, what: "bool" }),
        }
    }

    /// Reads a string (unsigned length, bytes), which must be UTF-8.
    pub fn string(&mut self) -> Result<&'a str, DecodeError> {
        let offset = self.pos;
        let len = self.u64()?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Eof { offset, what: "string" })?;
        let bytes = self.take(len, "string")?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::Invalid { offset, what: "string" })
    }

    /// Reads a float or double (mantissa × 2^exponent).
    pub fn float(&mut self) -> Result<f64, DecodeError> {
        let offset = self.pos;
        let mantissa = self.i64()?;
        let exponent = self.i64()?;
        let exponent = i16::try_from(exponent).map_err(|_| DecodeError::Invalid { offset, what: "float exponent" })?;
        Ok(match exponent {
            32000 => f64::INFINITY,
            32001 => f64::NEG_INFINITY,
            32002 => f64::NAN,
            e => mantissa as f64 * 2f64.powi(i32::from(e)),
        })
    }

    fn dims(&mut self) -> Result<[usize; 4], DecodeError> {
        let mut dims = [0usize; 4];
        for d in &mut dims {
            *d = self.count(usize::MAX >> 1, "tensor dimension")?;
        }
        Ok(dims)
    }

    /// Reads a dense tensor (version 2, dims, f32 data). The value count is checked against
    /// the bytes left before anything is allocated.
    pub fn tensor(&mut self) -> Result<Tensor, DecodeError> {
        let offset = self.pos;
        if self.i64()? != 2 {
            return Err(DecodeError::Invalid { offset, what: "tensor version" });
        }
        let dims = self.dims()?;
        let count = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        let bytes = count.and_then(|c| c.checked_mul(4)).filter(|&b| b <= self.remaining());
        let Some(bytes) = bytes else { return Err(DecodeError::Eof { offset, what: "tensor data" }) };
        let raw = self.take(bytes, "tensor data")?;
        let data = raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Ok(Tensor { dims, data })
    }

    /// Reads a shape-only tensor (dlib `alias_tensor`: version 1, dims).
    pub fn shape(&mut self) -> Result<[usize; 4], DecodeError> {
        let offset = self.pos;
        if self.i64()? != 1 {
            return Err(DecodeError::Invalid { offset, what: "shape version" });
        }
        self.dims()
    }
}

/// Writers for the same encodings, used to build small dlib-format files in tests and fuzz seeds.
pub mod write {
    /// Appends a signed integer.
    pub fn int(out: &mut Vec<u8>, v: i64) {
        let magnitude = v.unsigned_abs();
        let bytes = magnitude.to_le_bytes();
        let n = 8 - (magnitude.leading_zeros() / 8) as usize;
        let n = n.max(1);
        out.push(n as u8 | if v < 0 { 0x80 } else { 0 });
        out.extend_from_slice(&bytes[..n]);
    }

    /// Appends a bool.
    pub fn bool(out: &mut Vec<u8>, v: bool) {
        out.push(if v { b'1' } else { b'0' });
    }

    /// Appends a string.
    pub fn string(out: &mut Vec<u8>, s: &str) {
        int(out, s.len() as i64);
        out.extend_from_slice(s.as_bytes());
    }

    /// Appends a float as mantissa × 2^exponent (exact for values with at most 53 significant bits).
    pub fn float(out: &mut Vec<u8>, v: f64) {
        if v == 0.0 {
            int(out, 0);
            int(out, 0);
            return;
        }
        let mut exponent = 0i64;
        let mut m = v;
        while m.fract() != 0.0 && exponent > -1000 {
            m *= 2.0;
            exponent -= 1;
        }
        int(out, m as i64);
        int(out, exponent);
    }

    /// Appends a dense tensor.
    pub fn tensor(out: &mut Vec<u8>, dims: [usize; 4], data: &[f32]) {
        int(out, 2);
        for d in dims {
            int(out, d as i64);
        }
        for v in data {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// Appends a shape-only tensor.
    pub fn shape(out: &mut Vec<u8>, dims: [usize; 4]) {
        int(out, 1);
        for d in dims {
            int(out, d as i64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integers_from_the_format_notes() {
        assert_eq!(Reader::new(&[0x01, 0x00]).i64(), Ok(0));
        assert_eq!(Reader::new(&[0x02, 0x80, 0x12]).i64(), Ok(4736));
        assert_eq!(Reader::new(&[0x81, 0x04]).i64(), Ok(-4));
        assert!(Reader::new(&[0x81, 0x04]).u64().is_err());
        assert!(matches!(Reader::new(&[0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0]).i64(), Err(DecodeError::BadInteger { .. })));
        assert!(matches!(Reader::new(&[0x02, 0x80]).i64(), Err(DecodeError::Eof { .. })));
        assert!(matches!(Reader::new(&[]).i64(), Err(DecodeError::Eof { .. })));
    }

    #[test]
    fn floats_from_the_real_file_header() {
        // Margin and distance threshold of the dlib model's loss layer.
        let mut r = Reader::new(&[0x03, 0x0a, 0xd7, 0xa3, 0x81, 0x1c, 0x03, 0x9a, 0x99, 0x99, 0x81, 0x18]);
        assert!((r.float().unwrap() - 0.04).abs() < 1e-8);
        assert!((r.float().unwrap() - 0.6).abs() < 1e-7);
        assert_eq!(r.remaining(), 0);
        let mut special = Vec::new();
        write::int(&mut special, 1);
        write::int(&mut special, 32002);
        assert!(Reader::new(&special).float().unwrap().is_nan());
    }

    #[test]
    fn strings_bools_and_tensors() {
        let mut buf = Vec::new();
        write::string(&mut buf, "con_4");
        write::bool(&mut buf, true);
        write::bool(&mut buf, false);
        write::tensor(&mut buf, [1, 2, 1, 2], &[1.0, -2.5, 3.0, 0.125]);
        write::shape(&mut buf, [4, 3, 2, 1]);
        let mut r = Reader::new(&buf);
        assert_eq!(r.string(), Ok("con_4"));
        assert_eq!(r.bool(), Ok(true));
        assert_eq!(r.bool(), Ok(false));
        assert_eq!(r.tensor(), Ok(Tensor { dims: [1, 2, 1, 2], data: vec![1.0, -2.5, 3.0, 0.125] }));
        assert_eq!(r.shape(), Ok([4, 3, 2, 1]));
        assert_eq!(r.remaining(), 0);
        assert!(Reader::new(b"x").bool().is_err());
    }

    #[test]
    fn huge_tensor_dims_are_rejected_without_allocating() {
        let mut buf = Vec::new();
        write::int(&mut buf, 2);
        for d in [1 << 20, 1 << 20, 1 << 20, 1 << 20] {
            write::int(&mut buf, d);
        }
        assert!(matches!(Reader::new(&buf).tensor(), Err(DecodeError::Eof { .. })));
        let mut neg = Vec::new();
        write::int(&mut neg, 2);
        write::int(&mut neg, -1);
        assert!(Reader::new(&neg).tensor().is_err());
    }

    proptest! {
        #[test]
        fn int_round_trip(v in any::<i64>()) {
            let mut buf = Vec::new();
            write::int(&mut buf, v);
            let mut r = Reader::new(&buf);
            prop_assert_eq!(r.i64(), Ok(v));
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn float_round_trip(v in -1.0e6f64..1.0e6) {
            let v = v as f32 as f64;
            let mut buf = Vec::new();
            write::float(&mut buf, v);
            prop_assert_eq!(Reader::new(&buf).float(), Ok(v));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            let _ = r.tensor();
            let mut r = Reader::new(&bytes);
            let _ = r.string();
            let _ = r.float();
            let _ = r.shape();
        }
    }
}
