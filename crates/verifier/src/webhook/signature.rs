//! Webhook signatures: `TrustCap-Signature: t=<unix>,v1=<hex hmac-sha256(secret, t + "." + body)>`.
//!
//! During a secret rotation the header carries one `v1=` per valid secret (new first),
//! so a receiver that still knows only the old secret keeps verifying. [`verify`] is the
//! receiver's helper: it accepts the header if any `v1` matches and `t` is within the
//! tolerance of its clock (replay protection).

use hmac::Mac as _;
use subtle::ConstantTimeEq as _;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "trustcap-signature";
/// The header that carries the event id, which is also the idempotency key.
pub const EVENT_ID_HEADER: &str = "trustcap-event-id";
/// Default tolerance of [`verify`] between `t` and the receiver's clock, in seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;
/// Longest header [`verify`] reads.
const MAX_HEADER_LEN: usize = 1024;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as hmac::KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The hex signature of `body` at `timestamp` with `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body))
}

/// The whole header value for `body` at `timestamp`, one `v1=` per secret.
pub fn signature_header(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut out = format!("t={timestamp}");
    for secret in secrets {
        out.push_str(",v1=");
        out.push_str(&sign(secret, timestamp, body));
    }
    out
}

/// Why a webhook signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is missing parts, too long, or not `t=...,v1=...`.
    #[error("the signature header is malformed")]
    Malformed,
    /// `t` is too far from the receiver's clock.
    #[error("the signature timestamp is outside the tolerance")]
    Stale,
    /// No `v1` matches.
    #[error("no signature matches")]
    Mismatch,
}

/// Verifies `header` over `body` with `secret` at `now`, allowing `tolerance_secs` of
/// clock difference. Returns the signed timestamp.
pub fn verify(header: &str, body: &[u8], secret: &str, now: i64, tolerance_secs: i64) -> Result<i64, SignatureError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(SignatureError::Malformed);
    }
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match key {
            "t" => {
                let t: i64 = value.parse().map_err(|_| SignatureError::Malformed)?;
                if timestamp.replace(t).is_some() {
                    return Err(SignatureError::Malformed);
                }
            }
            "v1" => {
                let bytes = hex::decode(value).map_err(|_| SignatureError::Malformed)?;
                candidates.push(bytes);
            }
            _ => {} // Unknown schemes are ignored, so new ones can be added.
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(timestamp) > tolerance_secs.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, timestamp, body);
    let mut matched = subtle::Choice::from(0);
    for candidate in &candidates {
        matched |= expected.as_slice().ct_eq(candidate.as_slice());
    }
    if bool::from(matched) { Ok(timestamp) } else { Err(SignatureError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vector() {
        // hmac-sha256("whsec_test", "1700000000.{}"), computed independently with openssl.
        assert_eq!(sign("whsec_test", 1_700_000_000, b"{}"), KNOWN);
    }
    const KNOWN: &str = "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91";

    #[test]
    fn rotation_header_verifies_with_either_secret() {
        let header = signature_header(&["new", "old"], 100, b"body");
        assert_eq!(verify(&header, b"body", "new", 100, 300), Ok(100));
        assert_eq!(verify(&header, b"body", "old", 150, 300), Ok(100));
        assert_eq!(verify(&header, b"body", "other", 100, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(&header, b"bodY", "new", 100, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(&header, b"body", "new", 1000, 300), Err(SignatureError::Stale));
        assert_eq!(verify("t=1", b"body", "new", 1, 300), Err(SignatureError::Malformed));
        assert_eq!(verify("v1=00", b"body", "new", 1, 300), Err(SignatureError::Malformed));
        assert_eq!(verify("t=x,v1=00", b"body", "new", 1, 300), Err(SignatureError::Malformed));
        assert_eq!(verify("t=1,t=1,v1=00", b"body", "new", 1, 300), Err(SignatureError::Malformed));
    }

    proptest! {
        #[test]
        fn verify_never_panics(header in ".{0,300}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = verify(&header, &body, "s", 0, 300);
        }

        #[test]
        fn sign_then_verify(secret in "[a-z0-9]{1,40}", t in 0i64..4_000_000_000, body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let header = signature_header(&[&secret], t, &body);
            prop_assert_eq!(verify(&header, &body, &secret, t, 0), Ok(t));
        }
    }
}
