//! Domain types that are valid by construction: identifiers, API keys, session statuses.
//!
//! Every type here is built either by generating a fresh random value or by parsing
//! untrusted text; a value that exists has passed its format rules.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;
use trustcap_protocol::digest::sha256;

/// Lowercase RFC 4648 base32 alphabet: 32 symbols, so a random byte masked to 5 bits
/// picks one without bias.
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Random characters after the prefix of an identifier (26 × 5 = 130 bits).
const ID_RANDOM_LEN: usize = 26;

/// Fills `buf` from the operating system's CSPRNG.
///
/// # Panics
/// If the operating system cannot provide randomness: the service cannot run safely
/// without it, and no request should ever be answered with predictable identifiers.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}

fn random_base32(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let bytes: [u8; ID_RANDOM_LEN] = random_bytes();
    for &b in bytes.iter().take(len) {
        out.push(BASE32[usize::from(b & 31)] as char);
    }
    out
}

fn parse_prefixed(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == ID_RANDOM_LEN && rest.bytes().all(|b| BASE32.contains(&b)))
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The textual prefix of every identifier of this kind.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh random identifier.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, random_base32(ID_RANDOM_LEN)))
            }

            /// Parses untrusted text; `None` unless it is the prefix and 26 base32 characters.
            pub fn parse(text: &str) -> Option<Self> {
                parse_prefixed(text, $prefix).then(|| Self(text.to_owned()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

prefixed_id!(
    /// A verification session: `ses_` and 26 random base32 characters.
    SessionId,
    "ses_"
);
prefixed_id!(
    /// A tenant (a customer of the service): `ten_` and 26 random base32 characters.
    TenantId,
    "ten_"
);
prefixed_id!(
    /// An accepted capture: `cap_` and 26 random base32 characters.
    CaptureId,
    "cap_"
);
prefixed_id!(
    /// A pipeline job: `job_` and 26 random base32 characters.
    JobId,
    "job_"
);
prefixed_id!(
    /// A webhook event (also its idempotency key): `evt_` and 26 random base32 characters.
    EventId,
    "evt_"
);
prefixed_id!(
    /// One delivery of an event to a webhook endpoint: `dlv_` and 26 random base32 characters.
    DeliveryId,
    "dlv_"
);
prefixed_id!(
    /// The unique id of a client token (`jti`): `tok_` and 26 random base32 characters.
    TokenId,
    "tok_"
);

/// A single-use upload nonce: 24 random bytes, base64url without padding (32 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nonce(String);

impl Nonce {
    /// A fresh random nonce.
    pub fn generate() -> Self {
        Self(URL_SAFE_NO_PAD.encode(random_bytes::<24>()))
    }

    /// The nonce as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const API_KEY_PREFIX: &str = "tck_";
const API_KEY_ID_LEN: usize = 8;
const API_KEY_SECRET_LEN: usize = 43;
const API_KEY_LEN: usize = API_KEY_PREFIX.len() + API_KEY_ID_LEN + 1 + API_KEY_SECRET_LEN;

/// A tenant's secret API key: `tck_<8-char prefix>_<43-char base64url secret>`.
///
/// Only the prefix (for lookup) and the SHA-256 of the whole key are stored; the key
/// itself is shown once when created. `Debug` never prints the secret.
#[derive(Clone)]
pub struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}_..)", &self.0[..API_KEY_PREFIX.len() + API_KEY_ID_LEN])
    }
}

impl ApiKey {
    /// A fresh key: a random base32 lookup prefix and 32 random secret bytes.
    pub fn generate() -> Self {
        let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        Self(format!("{API_KEY_PREFIX}{}_{secret}", random_base32(API_KEY_ID_LEN)))
    }

    /// Parses untrusted text (e.g. from an `Authorization` header).
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != API_KEY_LEN {
            return None;
        }
        let rest = text.strip_prefix(API_KEY_PREFIX)?;
        let (id, secret) = rest.split_at(API_KEY_ID_LEN);
        let secret = secret.strip_prefix('_')?;
        let id_ok = id.bytes().all(|b| BASE32.contains(&b));
        let secret_ok = secret.len() == API_KEY_SECRET_LEN && URL_SAFE_NO_PAD.decode(secret).is_ok();
        (id_ok && secret_ok).then(|| Self(text.to_owned()))
    }

    /// The lookup prefix (the 8 characters after `tck_`); not secret.
    pub fn prefix(&self) -> &str {
        &self.0[API_KEY_PREFIX.len()..API_KEY_PREFIX.len() + API_KEY_ID_LEN]
    }

    /// SHA-256 of the whole key, lowercase hex: the stored form.
    pub fn hash_hex(&self) -> String {
        hex::encode(sha256(self.0.as_bytes()))
    }

    /// Compares this key against a stored hash in constant time.
    pub fn matches_hash(&self, stored_hex: &str) -> bool {
        let Ok(stored) = hex::decode(stored_hex) else { return false };
        bool::from(sha256(self.0.as_bytes()).as_slice().ct_eq(stored.as_slice()))
    }

    /// The full key text. Show it once, to the operator who created it; never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

/// Where a session is in its life: the pipeline's explicit state machine.
///
/// ```text
/// created ─► capturing ─► submitted ─► processing ─► approved | declined | review
///    │           │            ▲            │             │                    ▲
///    │           │            │            │             └── monitoring hit ──┘
///    │           │            │            │
///    │           │            │            └─► resubmission_requested ─► capturing | submitted
///    └───────────┴────────────┴─► expired (open sessions past their expiry)
///
/// every state except erased ─► erased (erasure request or retention; final)
/// ```
///
/// A reviewer moves a session out of `review` to approved, declined or
/// resubmission_requested (the review console).
///
/// [`SessionStatus::can_move_to`] is the only authority on which moves are legal; every
/// stored change goes through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    /// Created; nothing captured yet.
    Created,
    /// At least one capture accepted, some steps still missing.
    Capturing,
    /// Every step has a capture; a verification job is queued.
    Submitted,
    /// The pipeline is running the checks.
    Processing,
    /// Every check passed the tenant's rules.
    Approved,
    /// A check failed the tenant's rules.
    Declined,
    /// A person must look: a check could not run, or the evidence is inconclusive.
    Review,
    /// The applicant is asked to capture some steps again (a step-up rule fired).
    ResubmissionRequested,
    /// The session (and its client token) expired before it was submitted.
    Expired,
    /// The session was erased (on request or by retention): its data key is destroyed,
    /// so its images and applicant data can no longer be read.
    Erased,
}

impl SessionStatus {
    /// Every state.
    pub const ALL: [Self; 10] = [
        Self::Created,
        Self::Capturing,
        Self::Submitted,
        Self::Processing,
        Self::Approved,
        Self::Declined,
        Self::Review,
        Self::ResubmissionRequested,
        Self::Expired,
        Self::Erased,
    ];

    /// The stable string form stored and returned by the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Capturing => "capturing",
            Self::Submitted => "submitted",
            Self::Processing => "processing",
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Review => "review",
            Self::ResubmissionRequested => "resubmission_requested",
            Self::Expired => "expired",
            Self::Erased => "erased",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The status as seen at `now`: a session still open for captures past its expiry is
    /// `expired`.
    pub fn at(self, expires_at: i64, now: i64) -> Self {
        if self.is_capturable() && now >= expires_at { Self::Expired } else { self }
    }

    /// True when the SDK may still register a key, fetch nonces and upload.
    pub const fn is_capturable(self) -> bool {
        matches!(self, Self::Created | Self::Capturing | Self::ResubmissionRequested)
    }

    /// True for the states the pipeline never leaves on its own.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Approved | Self::Declined | Self::Review | Self::Expired | Self::Erased)
    }

    /// True if the state machine allows `self → next`.
    pub const fn can_move_to(self, next: Self) -> bool {
        use SessionStatus::*;
        matches!(
            (self, next),
            (Created | Capturing | ResubmissionRequested, Capturing | Submitted | Expired)
                | (Submitted, Processing)
                | (Processing, Approved | Declined | Review | ResubmissionRequested)
                // A reviewer's decision (the review console).
                | (Review, Approved | Declined | ResubmissionRequested)
                // Ongoing monitoring: a new or changed sanctions hit reopens an approval.
                | (Approved, Review)
        ) || (!matches!(self, Erased) && matches!(next, Erased))
    }

    /// The capture-phase status of the walking skeleton's `status` field, kept for
    /// compatibility: `created`, `capturing`, `submitted` (for every state after it) or
    /// `expired`. The full state is the API's `state` field.
    pub const fn capture_status(self) -> Self {
        match self {
            Self::Created => Self::Created,
            Self::Capturing | Self::ResubmissionRequested => Self::Capturing,
            Self::Expired => Self::Expired,
            Self::Erased => Self::Erased,
            _ => Self::Submitted,
        }
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_generate_and_parse() {
        let id = SessionId::generate();
        assert_eq!(id.as_str().len(), 4 + 26);
        assert_eq!(SessionId::parse(id.as_str()), Some(id.clone()));
        assert_ne!(SessionId::generate(), id);
        assert!(SessionId::parse("ten_aaaaaaaaaaaaaaaaaaaaaaaaaa").is_none());
        assert!(SessionId::parse("ses_AAAAAAAAAAAAAAAAAAAAAAAAAA").is_none());
        assert!(SessionId::parse("ses_short").is_none());
        assert!(TenantId::parse(TenantId::generate().as_str()).is_some());
        assert!(trustcap_protocol::manifest::is_identifier(SessionId::generate().as_str(), 64));
        assert!(trustcap_protocol::manifest::is_identifier(Nonce::generate().as_str(), 128));
    }

    #[test]
    fn api_keys() {
        let key = ApiKey::generate();
        let text = key.expose_secret().to_owned();
        assert_eq!(text.len(), API_KEY_LEN);
        let parsed = ApiKey::parse(&text).unwrap();
        assert_eq!(parsed.prefix(), key.prefix());
        assert!(parsed.matches_hash(&key.hash_hex()));
        assert!(!ApiKey::generate().matches_hash(&key.hash_hex()));
        assert!(!key.matches_hash("zz"));
        assert!(!format!("{key:?}").contains(&text[13..]));
        assert!(ApiKey::parse("tck_short").is_none());
        let mut bad = text.clone();
        bad.replace_range(12..13, "-");
        assert!(ApiKey::parse(&bad).is_none());
        assert!(ApiKey::parse(&text.replace("tck_", "xxx_")).is_none());
    }

    #[test]
    fn statuses() {
        for s in SessionStatus::ALL {
            assert_eq!(SessionStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(SessionStatus::parse("approved?"), None);
        assert_eq!(SessionStatus::Created.at(10, 10), SessionStatus::Expired);
        assert_eq!(SessionStatus::Capturing.at(10, 9), SessionStatus::Capturing);
        assert_eq!(SessionStatus::Submitted.at(10, 11), SessionStatus::Submitted);
        assert_eq!(SessionStatus::ResubmissionRequested.at(10, 11), SessionStatus::Expired);
    }

    #[test]
    fn state_machine() {
        use SessionStatus::*;
        let legal = [
            (Created, Capturing),
            (Created, Submitted),
            (Capturing, Submitted),
            (Submitted, Processing),
            (Processing, Approved),
            (Processing, Declined),
            (Processing, Review),
            (Processing, ResubmissionRequested),
            (ResubmissionRequested, Submitted),
            (Capturing, Expired),
            (Review, Approved),
        ];
        for (a, b) in legal {
            assert!(a.can_move_to(b), "{a} -> {b}");
        }
        // Nothing is ever approved without processing, and final states stay final.
        for s in SessionStatus::ALL {
            if s != Processing && s != Review {
                assert!(!s.can_move_to(Approved), "{s} -> approved");
            }
            for t in SessionStatus::ALL {
                // Final states stay final, except the explicit monitoring move approved → review
                // and erasure, which every state but `erased` may take.
                if matches!(s, Approved | Declined | Expired | Erased) && (s, t) != (Approved, Review) && t != Erased
                    || s == Erased
                {
                    assert!(!s.can_move_to(t), "{s} -> {t}");
                }
            }
        }
        assert!(Approved.can_move_to(Review), "a monitoring hit reopens an approval for review");
        assert!(!Review.can_move_to(Review) && !Declined.can_move_to(Review) && !Expired.can_move_to(Review));
        for s in SessionStatus::ALL {
            if s != Processing && s != Approved {
                assert!(!s.can_move_to(Review), "{s} -> review");
            }
        }
        assert_eq!(Processing.capture_status(), Submitted);
        assert_eq!(Approved.capture_status(), Submitted);
        assert_eq!(ResubmissionRequested.capture_status(), Capturing);
        assert!(ResubmissionRequested.is_capturable());
        for s in SessionStatus::ALL {
            assert_eq!(s.can_move_to(Erased), s != Erased, "{s} -> erased");
        }
        assert!(Erased.is_final() && !Erased.is_capturable());
        assert_eq!(Erased.capture_status(), Erased);
    }
}
